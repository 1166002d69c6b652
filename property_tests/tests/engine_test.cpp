// Properties of the engine over channels: every reference channel keeps every claim on
// generated workloads, in process and thread mode; every faulty fixture is caught by the
// spec its bug breaks, with a shrunk counterexample whose replay fails again.
#include "property_tests/engine.hpp"
#include "property_tests/generators.hpp"

#include "harness/process.hpp"
#include "harness/registry.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace ipcv::engine {
namespace {

using harness::channels;
using harness::find_channel;

std::vector<std::string> reference_channels() {
  std::vector<std::string> out;
  for (const auto &e : channels())
    if (!e.faulty)
      out.push_back(e.name);
  return out;
}

void check_claims_hold(harness::Mode mode) {
  const auto names = reference_channels();
  const std::string name = *rc::gen::elementOf(names);
  const ChannelEntry &e = *find_channel(name);
  gen::WorkloadSpace space;
  space.claims = e.claims;
  space.mode = mode;
  space.max_messages = 40;
  const harness::Workload w = *gen::workload(space);
  RC_TAG(name);
  harness::RunOptions ro;
  ro.mode = mode;
  const auto r = harness::run_case(e, w, ro);
  Options o;
  o.mode = mode;
  for (const auto &out : harness::judge(e, r, harness::judgeable_specs())) {
    if (out.claimed && out.kind == harness::Outcome::fail)
      RC_FAIL(fmt::format("{} broke {}: {}\n{}replay: {}", name, out.spec, out.explanation,
                          out.timeline, replay_command(e, out.spec, o, w)));
  }
  RC_ASSERT(harness::live_children().empty());
}

RC_GTEST_PROP(ReferenceChannels, KeepEveryClaimInProcessMode, ()) {
  check_claims_hold(harness::Mode::process);
}

RC_GTEST_PROP(ReferenceChannels, KeepEveryClaimInThreadMode, ()) {
  check_claims_hold(harness::Mode::thread);
}

struct Fixture {
  const char *channel;
  const char *spec;
  harness::Mode mode;
  bool crashes = false; ///< the class of bug shows only when a participant is killed
  int cases = 300;      ///< 0: until the budget (a narrow race needs many cases)
  int case_budget_ms = 3000;
  int bound_ms = 1000;
};

class FaultyFixture : public ::testing::TestWithParam<Fixture> {};

TEST_P(FaultyFixture, IsCaughtByItsSpecAndReplays) {
  const Fixture f = GetParam();
  const ChannelEntry *e = find_channel(f.channel);
  ASSERT_NE(e, nullptr);
  Options o;
  o.mode = f.mode;
  o.cases = f.cases;
  o.seed = 42;
  o.budget_s = 120;
  o.specs = {f.spec};
  o.crashes = f.crashes;
  o.max_messages = 0; // long cases cost seconds each: faulty-wrap is timed by bench/catch_time.sh
  o.case_budget = std::chrono::milliseconds(f.case_budget_ms);
  o.bound = std::chrono::milliseconds(f.bound_ms);
  const auto results = run_campaign(*e, o);
  ASSERT_EQ(results.cells.size(), 1u);
  const SpecResult &r = results.cells.front();
  ASSERT_EQ(r.kind, SpecResult::fail) << f.channel << " was not caught by " << f.spec << " in "
                                      << r.cases << " cases: " << r.observed;
  ASSERT_TRUE(r.counterexample.has_value());
  EXPECT_FALSE(r.counterexample->timeline.empty()) << "a failure must show its witnesses";
  EXPECT_NE(r.replay.find("--workload"), std::string::npos);
  EXPECT_NE(r.replay.find("--include-faulty"), std::string::npos);
  // As many attempts as the printed replay command makes: what a user who runs it would see.
  const SpecResult again = replay(*e, r.counterexample->workload, f.spec, o, kReplayAttempts);
  EXPECT_EQ(again.kind, SpecResult::fail)
      << "the replay of " << harness::to_string(r.counterexample->workload)
      << " did not fail: " << again.observed;
  EXPECT_TRUE(harness::live_children().empty());
}

void PrintTo(const Fixture &f, std::ostream *os) {
  *os << f.channel << " x " << f.spec << " (" << harness::to_string(f.mode) << ")";
}

std::string fixture_name(const ::testing::TestParamInfo<Fixture> &info) {
  std::string n = std::string(info.param.channel) + "_" + harness::to_string(info.param.mode);
  for (auto &c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(
    Engine, FaultyFixture,
    ::testing::Values(
        Fixture{"faulty-drop", "no-loss", harness::Mode::process},
        Fixture{"faulty-drop", "no-loss", harness::Mode::thread},
        Fixture{"faulty-reorder", "fifo", harness::Mode::process},
        Fixture{"faulty-reorder", "fifo", harness::Mode::thread},
        Fixture{"faulty-dup", "no-duplication", harness::Mode::process},
        Fixture{"faulty-dup", "no-duplication", harness::Mode::thread},
        Fixture{"faulty-corrupt", "integrity", harness::Mode::process},
        Fixture{"faulty-corrupt", "integrity", harness::Mode::thread},
        // A lost wake-up waits out its call's deadline, on every run of the shrink and the
        // replay: cases are kept short, as for faulty-deaf.
        Fixture{"faulty-lost-wakeup", "bounded-wait", harness::Mode::process, false, 300, 600, 300},
        Fixture{"faulty-lost-wakeup", "bounded-wait", harness::Mode::thread, false, 300, 600, 300},
        Fixture{"faulty-late-timeout", "deadline", harness::Mode::process},
        Fixture{"faulty-late-timeout", "deadline", harness::Mode::thread},
        Fixture{"faulty-torn-register", "register", harness::Mode::process, false, 0},
        Fixture{"faulty-torn-register", "register", harness::Mode::thread, false, 0},
        // A dead peer it never notices: each failing case waits out its deadline,
        // so cases are kept short.
        Fixture{"faulty-deaf", "crash-safety", harness::Mode::process, true, 300, 600, 300},
        // A window of two loads: found in a few hundred cases, so run to the budget.
        Fixture{"faulty-close-race", "end-of-stream", harness::Mode::process, false, 0}),
    fixture_name);

TEST(WorkloadText, RoundTrips) {
  harness::Workload w;
  w.senders = 2;
  w.receivers = 3;
  w.messages = 17;
  w.sizes = {16, 4092, 100};
  w.try_ops = true;
  w.pace_us = 5;
  w.perturb = 2;
  w.perturb_seed = 991;
  w.placement = harness::Placement::spread;
  w.crash_actor = 4;
  w.crash_at = 3;
  w.short_deadlines = 30;
  w.deadline_seed = 12;
  for (auto when : {harness::CrashAt::before, harness::CrashAt::inside, harness::CrashAt::after}) {
    w.crash_when = when;
    std::string err;
    auto back = harness::parse_workload(harness::to_string(w), err);
    ASSERT_TRUE(back) << err;
    EXPECT_EQ(harness::to_string(*back), harness::to_string(w));
    EXPECT_EQ(back->crash_when, when);
    EXPECT_EQ(back->short_deadlines, 30);
  }
}

TEST(WorkloadText, RejectsGarbageWithAReason) {
  std::string err;
  EXPECT_FALSE(harness::parse_workload("s=2,r=1,bogus=3", err));
  EXPECT_NE(err.find("bogus"), std::string::npos);
  EXPECT_FALSE(harness::parse_workload("s=0,r=1", err));
  EXPECT_FALSE(harness::parse_workload("s=1,r=1,crash=9@1", err));
}

} // namespace
} // namespace ipcv::engine
