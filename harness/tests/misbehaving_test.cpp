// A misbehaving channel is that channel's failure, never the harness's: each fixture of
// testplugins/misbehaving/ (a crash, a hang, an exception, a leak, a garbage size, in the
// parent or in an actor) comes out of run_case as a `run` failure naming the call and what it
// did, this process survives it, and nothing is left behind. The same channels registered at
// run time, as a plugin's are.
#include "harness/guard.hpp"
#include "harness/hygiene.hpp"
#include "harness/isolation.hpp"
#include "harness/judge.hpp"
#include "harness/process.hpp"
#include "harness/registry.hpp"
#include "harness/runner.hpp"

#include "impl/kernel/pipe.hpp"
#include "testplugins/misbehaving/misbehaving.hpp"

#include <csignal>
#include <fmt/format.h>
#include <gtest/gtest.h>

namespace ipcv::harness {
namespace {

using namespace std::chrono_literals;
using misbehave::Fault;

/// The registered entry of fixture F (registered once, as a plugin would).
template <Fault F> const ChannelEntry &entry() {
  static const ChannelEntry *e = [] {
    const std::string name(misbehave::name_of(F));
    if (find_channel(name) == nullptr) {
      const std::string why = register_channel(entry_of<misbehave::Misbehaving<F>>(true));
      EXPECT_EQ(why, "");
    }
    return find_channel(name);
  }();
  return *e;
}

Workload five_messages(bool try_ops = false) {
  Workload w;
  w.messages = 5;
  w.sizes = {16};
  w.try_ops = try_ops;
  return w;
}

RunOptions quick(Mode mode = Mode::process) {
  RunOptions o;
  o.mode = mode;
  o.budget = 300ms;
  o.parent_call_limit = 500ms;
  return o;
}

/// Runs the fixture once; expects `run` to fail with a reason containing `why`, and nothing left.
template <Fault F>
RunResult expect_run_failure(const std::string &why, Mode mode = Mode::process,
                             bool try_ops = false) {
  const ChannelEntry &e = entry<F>();
  const RunResult r = run_case(e, five_messages(try_ops), quick(mode));
  EXPECT_NE(r.run_error.find(why), std::string::npos) << r.run_error;
  const auto out = judge(e, r, {kRun});
  EXPECT_EQ(out.front().kind, Outcome::fail) << e.name;
  EXPECT_EQ(out.front().explanation, r.run_error);
  EXPECT_TRUE(live_children().empty()) << "a child of the case is still there";
  return r;
}

TEST(Guard, TurnsAFatalSignalIntoItsName) {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    const auto why = guarded("guard-test-signal", "prepare", [sig] { ::raise(sig); });
    ASSERT_TRUE(why);
    EXPECT_EQ(*why, fmt::format("prepare crashed with SIG{}", sigabbrev_np(sig)));
  }
  EXPECT_TRUE(unusable("guard-test-signal"));
}

TEST(Guard, EndsACallThatDoesNotReturn) {
  const auto why = guarded("guard-test-hang", "destroy", misbehave::hang, 200ms);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "destroy did not return within 0.2 s");
}

TEST(Guard, CatchesAnExceptionWithItsWhat) {
  const auto why = guarded("guard-test-throw", "named_objects", [] { misbehave::fail("boom"); });
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "named_objects threw std::runtime_error: boom");
}

TEST(Guard, LeavesAWellBehavedCallAndItsChannelAlone) {
  int n = 0;
  EXPECT_FALSE(guarded(
      "guard-test-fine", "prepare", [&] { ++n; }, 100ms));
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(unusable("guard-test-fine"));
}

TEST(Misbehaving, ACrashInPrepareIsTheChannelsRunFailureAndItIsNotCalledAgain) {
  const RunResult r = expect_run_failure<Fault::crash_prepare>("prepare crashed with SIGSEGV");
  EXPECT_TRUE(r.abandoned);
  const RunResult again = run_case(entry<Fault::crash_prepare>(), five_messages(), quick());
  EXPECT_TRUE(again.abandoned);
  EXPECT_EQ(again.run_error, "prepare crashed with SIGSEGV");
}

TEST(Misbehaving, AHangInPrepareIsEndedAtTheLimit) {
  const RunResult r = expect_run_failure<Fault::hang_prepare>("prepare did not return within");
  EXPECT_TRUE(r.abandoned);
}

TEST(Misbehaving, AnExceptionFromPrepareCarriesItsWhat) {
  expect_run_failure<Fault::throw_prepare>(
      "prepare threw std::runtime_error: misbehave: no broker to connect to");
}

TEST(Misbehaving, ACrashInDestroyIsTheChannelsRunFailure) {
  const RunResult r = expect_run_failure<Fault::crash_destroy>("destroy crashed with SIGSEGV");
  EXPECT_TRUE(r.abandoned);
}

TEST(Misbehaving, AnActorThatCrashesIsNamedWithItsCall) {
  expect_run_failure<Fault::crash_send>("sender 1: killed by SIGSEGV in send");
}

TEST(Misbehaving, AThreadHostThatCrashesNamesTheActorsCall) {
  expect_run_failure<Fault::crash_send>("thread host: killed by SIGSEGV (still sender 1 in send",
                                        Mode::thread);
}

TEST(Misbehaving, AHungActorIsKilledByTheWatchdogAndNamed) {
  const RunResult r =
      expect_run_failure<Fault::hang_send>("the watchdog killed sender 1 at the case deadline: "
                                           "still sender 1 in send");
  EXPECT_TRUE(r.hung);
}

// A probe's child that outlives three deadlines is killed and the hang told: the probes stop
// there and judge nothing, and the channel stays usable (the hang was in a child), so the
// engine's cases, each with its watchdog, still run.
TEST(Misbehaving, AHangInTheIsolationProbesEndsThemAndIsTold) {
  const ChannelEntry &e = entry<Fault::hang_send>();
  const IsolationReport r = probe_isolation(e, ProbeOptions{.call_deadline = 500ms});
  EXPECT_NE(r.hang().find("in the isolation probe no-cross-talk, sender A was still in the channel "
                          "1.5 s after it started, though each of its calls has a deadline of "
                          "0.5 s: killed"),
            std::string::npos)
      << r.hang();
  ASSERT_EQ(r.probes.size(), kProbes.size());
  bool after = false;
  for (const ProbeResult &p : r.probes) {
    if (after) {
      EXPECT_NE(p.observed.find("not run: the channel hung in an earlier probe"), std::string::npos)
          << p.line();
    }
    after = after || !p.hang.empty();
  }
  const IsolationVerdict v = summarize(r);
  EXPECT_EQ(v.kind, Outcome::skip) << v.explanation;
  EXPECT_NE(v.explanation.find("not judged: the channel hung (see run)"), std::string::npos);
  EXPECT_FALSE(unusable(e.name).has_value());
  EXPECT_TRUE(live_children().empty());
}

TEST(Misbehaving, AnExceptionFromConnectCarriesItsWhat) {
  expect_run_failure<Fault::throw_connect>(
      "receiver 1: exit 20: connect_receiver threw std::runtime_error: misbehave: the receiver "
      "could not connect");
  expect_run_failure<Fault::throw_connect>(
      "thread host: exit 20: connect_receiver threw std::runtime_error", Mode::thread);
}

TEST(Misbehaving, AnExceptionOutOfANoexceptCallCarriesItsWhat) {
  expect_run_failure<Fault::throw_send>(
      "sender 1: killed by SIGABRT in send: threw std::runtime_error: misbehave: the send threw "
      "out of a noexcept call");
}

TEST(Misbehaving, AReceivedSizeBeyondTheBufferIsNeverRead) {
  for (bool try_ops : {false, true}) {
    const RunResult r = expect_run_failure<Fault::garbage_size>(
        fmt::format("receiver 1: exit 22: {} returned ok with 5121 bytes into a buffer of 1025 "
                    "bytes",
                    try_ops ? "try_recv" : "recv"),
        Mode::process, try_ops);
    EXPECT_TRUE(std::any_of(r.history.events.begin(), r.history.events.end(),
                            [](const spec::Event &e) { return e.res == spec::Res::error; }));
  }
  expect_run_failure<Fault::garbage_size>("receiver 1: recv returned ok with 5121 bytes",
                                          Mode::thread);
}

TEST(Misbehaving, ANamedObjectDestroyLeftIsReportedAndRemoved) {
  const RunResult r =
      expect_run_failure<Fault::leak_shm>("destroy left shm /dev/shm/ipcv-misbehave-");
  EXPECT_NE(r.run_error.find("(removed by the harness)"), std::string::npos);
  const auto at = r.run_error.find("/dev/shm/");
  const std::string path = r.run_error.substr(at, r.run_error.find(' ', at) - at);
  EXPECT_FALSE(object_exists(NamedObject{"shm", path.substr(8)})) << path;
}

TEST(Misbehaving, ADescriptorDestroyLeftInThisProcessIsReported) {
  expect_run_failure<Fault::leak_descriptor>("destroy left 1 descriptor(s) open in ipcverify: ");
}

TEST(Misbehaving, AWellBehavedChannelLeavesNoRunFailure) {
  // The checks above must not cry wolf: the same runner on a correct channel, both modes.
  for (Mode m : {Mode::process, Mode::thread}) {
    const RunResult r = run_case(entry_of<PipeChannel>(), five_messages(), quick(m));
    EXPECT_EQ(r.run_error, "");
    EXPECT_FALSE(r.abandoned);
  }
}

} // namespace
} // namespace ipcv::harness
