// Tests of the isolation probes: every reference channel (and the named shm variants) passes
// every probe that applies to it; each isolation fixture is a working channel that fails
// `isolation` on exactly the probe it was built to break, with an explanation naming that
// probe; the verdict is skipped when no probe applied; nothing is left behind.
#include "harness/conformance.hpp"
#include "harness/hygiene.hpp"
#include "harness/isolation.hpp"
#include "harness/process.hpp"
#include "harness/registry.hpp"
#include "impl/shm/mpmc.hpp"
#include "impl/shm/register.hpp"
#include "impl/shm/spsc.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <iostream>
#include <sstream>
#include <tuple>
#include <unistd.h>

namespace ipcv::harness {
namespace {

/// Every reference channel of the registry, plus the named-shm variants it does not list.
std::vector<ChannelEntry> reference_entries() {
  std::vector<ChannelEntry> out;
  for (const auto &e : channels())
    if (!e.faulty)
      out.push_back(e);
  out.push_back(entry_of<ShmSpscNamedChannel>());
  out.push_back(entry_of<ShmMpmcNamedChannel>());
  out.push_back(entry_of<ShmRegisterNamedChannel>());
  return out;
}

std::vector<std::string> reference_names() {
  std::vector<std::string> out;
  for (const auto &e : reference_entries())
    out.push_back(e.name);
  return out;
}

ChannelEntry entry_named(const std::string &name) {
  for (auto &e : reference_entries())
    if (e.name == name)
      return e;
  const ChannelEntry *e = find_channel(name);
  if (e == nullptr)
    throw std::runtime_error("no channel " + name);
  return *e;
}

std::string test_name(const std::string &s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

/// True when an object name carries this process's pid ("...-<pid>-..." or "...-<pid>"): the
/// shared /dev/shm also holds objects of other test processes running at the same time.
bool ours(const std::string &path) {
  const std::string pid = "-" + std::to_string(::getpid());
  return path.find(pid + "-") != std::string::npos ||
         (path.size() >= pid.size() &&
          path.compare(path.size() - pid.size(), pid.size(), pid) == 0);
}

/// The lines of `leftovers` (one path each) that are ours.
std::string our_lines(const std::string &leftovers) {
  std::string out, line;
  std::istringstream in(leftovers);
  while (std::getline(in, line))
    if (ours(line))
      out += line + "\n";
  return out;
}

/// Checks after each test that no named object and no child process is left over.
class Isolation : public ::testing::Test {
protected:
  void SetUp() override { before_ = Snapshot::take(); }
  void TearDown() override {
    EXPECT_EQ(our_lines(before_.leftovers(Snapshot::take())), "") << "left behind in /dev/shm";
    EXPECT_TRUE(live_children().empty()) << "child processes left unreaped";
  }
  Snapshot before_;
};

class IsolationReference : public Isolation, public ::testing::WithParamInterface<std::string> {};

TEST_P(IsolationReference, PassesEveryApplicableProbe) {
  const ChannelEntry e = entry_named(GetParam());
  const IsolationReport r = probe_isolation(e);
  const IsolationVerdict v = summarize(r);
  std::string all;
  for (const auto &l : v.probes)
    all += "\n  " + l;
  EXPECT_EQ(v.kind, Outcome::pass) << v.explanation << all;
  ASSERT_EQ(r.probes.size(), kProbes.size());
  for (const auto &p : r.probes) {
    EXPECT_NE(p.kind, Outcome::fail) << p.line();
    EXPECT_FALSE(p.observed.empty()) << to_string(p.probe) << " says nothing";
  }
  // Root is where CI runs: a channel with named objects has them tried, never skipped.
  auto inst = e.prepare(Config{});
  ASSERT_TRUE(inst) << inst.status().describe();
  const bool named = !(*inst)->named_objects().empty();
  (*inst)->destroy();
  const auto kind = [&](Probe p) { return r.probes[static_cast<std::size_t>(p)].kind; };
  const auto na = [&](Probe p) { return r.probes[static_cast<std::size_t>(p)].not_applicable(); };
  if (::geteuid() == 0 && named) {
    EXPECT_EQ(kind(Probe::owner_only), Outcome::pass) << all;
    EXPECT_EQ(kind(Probe::no_squat), Outcome::pass) << all;
  } else if (!named) {
    EXPECT_TRUE(na(Probe::owner_only)) << all;
    EXPECT_TRUE(na(Probe::no_squat)) << all;
  }
  EXPECT_EQ(kind(Probe::no_crosstalk), Outcome::pass) << all;
  EXPECT_EQ(kind(Probe::copy_semantics), Outcome::pass) << all;
  EXPECT_EQ(kind(Probe::nothing_else_shared), Outcome::pass) << all;
  std::cout << e.name << ": " << to_string(v.kind) << all << "\n";
}

INSTANTIATE_TEST_SUITE_P(Channels, IsolationReference, ::testing::ValuesIn(reference_names()),
                         [](const auto &info) { return test_name(info.param); });

/// A fixture and the one probe it breaks.
struct Breaks {
  std::string channel;
  Probe probe;
  std::string says; ///< a phrase the failing probe's line must contain
};

// Without it GoogleTest prints the struct's bytes, padding included: uninitialised memory to
// Memcheck, which then fails every process forked after it.
void PrintTo(const Breaks &b, std::ostream *os) {
  *os << b.channel << " breaks " << to_string(b.probe);
}

class IsolationFixture : public Isolation, public ::testing::WithParamInterface<Breaks> {};

TEST_P(IsolationFixture, FailsIsolationOnTheProbeItBreaks) {
  const ChannelEntry e = entry_named(GetParam().channel);
  ASSERT_TRUE(e.faulty);
  const IsolationReport r = probe_isolation(e);
  const IsolationVerdict v = summarize(r);
  std::string all;
  for (const auto &l : v.probes)
    all += "\n  " + l;
  EXPECT_EQ(v.kind, Outcome::fail) << all;
  const std::string named = std::string(to_string(GetParam().probe)) + ": fail: ";
  EXPECT_EQ(v.explanation.rfind(named, 0), 0u) << "explanation does not name " << named << "\n"
                                               << v.explanation;
  EXPECT_NE(v.explanation.find(GetParam().says), std::string::npos) << v.explanation;
  for (const auto &p : r.probes) {
    if (p.probe != GetParam().probe) {
      EXPECT_NE(p.kind, Outcome::fail) << "not attributable to one probe: " << p.line();
    }
  }
  std::cout << e.name << ": " << v.explanation << "\n";
}

TEST_P(IsolationFixture, IsAWorkingChannelOtherwise) {
  const ChannelEntry e = entry_named(GetParam().channel);
  const std::string kLeft = "left behind after destroy: ";
  for (const auto &c : conformance_checks()) {
    const CheckOutcome o = c.run(e);
    // That check sees all of /dev/shm: an object of another process is not this channel's.
    if (o.kind == Outcome::fail && o.detail.rfind(kLeft, 0) == 0 &&
        our_lines(o.detail.substr(kLeft.size())).empty())
      continue;
    EXPECT_NE(o.kind, Outcome::fail) << c.name << ": " << o.detail;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, IsolationFixture,
    ::testing::Values(Breaks{"faulty-world-readable", Probe::owner_only, "mode 0666"},
                      Breaks{"faulty-squat", Probe::no_squat, "joined the squatter"},
                      Breaks{"faulty-crosstalk", Probe::no_crosstalk, "of instance"},
                      Breaks{"faulty-nocopy", Probe::copy_semantics, "after send returned"},
                      Breaks{"faulty-overshare", Probe::nothing_else_shared,
                             "/dev/shm/ipcv-faulty-stats-"}),
    [](const auto &info) { return test_name(info.param.channel); });

class IsolationBrokenElsewhere : public Isolation,
                                 public ::testing::WithParamInterface<std::string> {};

// A channel that damages, loses, repeats, reorders or delays its own messages breaks other
// specs, not isolation: no probe may fail it, though one may find its case inconclusive.
TEST_P(IsolationBrokenElsewhere, FailsNoIsolationProbe) {
  const ChannelEntry e = entry_named(GetParam());
  ASSERT_TRUE(e.faulty);
  // Deadlines of a campaign with a 2 s case budget: a lost wake-up waits each of them out.
  const IsolationReport r =
      probe_isolation(e, ProbeOptions{.call_deadline = std::chrono::seconds(2)});
  const IsolationVerdict v = summarize(r);
  std::string all;
  for (const auto &l : v.probes)
    all += "\n  " + l;
  EXPECT_NE(v.kind, Outcome::fail) << v.explanation << all;
  for (const auto &p : r.probes) {
    EXPECT_NE(p.kind, Outcome::fail) << p.line();
    if (p.kind == Outcome::skip && !p.not_applicable() && p.probe != Probe::owner_only) {
      EXPECT_TRUE(p.inconclusive()) << p.line();
    }
  }
  std::cout << e.name << ": " << to_string(v.kind) << all << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, IsolationBrokenElsewhere,
                         ::testing::Values("faulty-lost-wakeup", "faulty-corrupt", "faulty-drop",
                                           "faulty-dup", "faulty-reorder", "faulty-torn-register"),
                         [](const auto &info) { return test_name(info.param); });

TEST_F(Isolation, AnonymousObjectsHaveNoNameToTry) {
  const ProbeResult pipe = run_probe(Probe::owner_only, *find_channel("pipe"));
  EXPECT_TRUE(pipe.not_applicable()) << pipe.line();
  EXPECT_EQ(pipe.observed, "not applicable: anonymous objects only (pipe): no name to try");
  const ProbeResult sp = run_probe(Probe::no_squat, *find_channel("seqpacket"));
  EXPECT_TRUE(sp.not_applicable()) << sp.line();
  EXPECT_EQ(sp.observed,
            "not applicable: anonymous objects only (socketpair): no name to guess or squat");
}

TEST_F(Isolation, OwnerOnlyIsSkippedWithAReasonWhenNotRoot) {
  if (::geteuid() != 0) {
    const ProbeResult p = run_probe(Probe::owner_only, *find_channel("mqueue"));
    EXPECT_EQ(p.kind, Outcome::skip) << p.line();
    EXPECT_FALSE(p.not_applicable()) << p.line();
    return;
  }
  // As root: run the probe in a child that first became `nobody`.
  pid_t child = spawn([]() -> int {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
      return 2;
    const ProbeResult p = run_probe(Probe::owner_only, *find_channel("mqueue"));
    if (p.kind != Outcome::skip)
      return 3;
    return p.observed.find("not running as root") == std::string::npos ? 4 : 0;
  });
  const auto exits = reap({child}, after_ms(20000));
  EXPECT_TRUE(exits[0].clean()) << exits[0].describe();
}

/// A report of the probes `results`, each {probe, outcome, observed[, hang]}, for channel "x".
IsolationReport
report_of(std::initializer_list<std::tuple<Probe, Outcome, const char *, const char *>> results) {
  IsolationReport r;
  r.channel = "x";
  for (const auto &[p, k, text, hang] : results)
    r.probes.push_back(ProbeResult{p, k, text, hang});
  return r;
}

TEST(IsolationVerdictOf, FailsOnAnyFailedProbeAndNamesIt) {
  const IsolationVerdict v =
      summarize(report_of({{Probe::owner_only, Outcome::skip, "not applicable: anonymous", ""},
                           {Probe::no_crosstalk, Outcome::pass, "fine", ""},
                           {Probe::copy_semantics, Outcome::fail, "message 1 arrived torn", ""}}));
  EXPECT_EQ(v.kind, Outcome::fail);
  EXPECT_EQ(v.explanation, "copy-semantics: fail: message 1 arrived torn");
  EXPECT_EQ(v.probes.size(), 3u);
}

TEST(IsolationVerdictOf, PassesWhenEveryApplicableProbePassed) {
  const IsolationVerdict v =
      summarize(report_of({{Probe::owner_only, Outcome::skip, "not applicable: anonymous", ""},
                           {Probe::no_crosstalk, Outcome::pass, "fine", ""}}));
  EXPECT_EQ(v.kind, Outcome::pass);
  EXPECT_EQ(v.explanation, "passed: no-cross-talk; owner-only: skip: not applicable: anonymous");
}

TEST(IsolationVerdictOf, IsSkippedWhenNoProbeApplied) {
  EXPECT_EQ(
      summarize(report_of({{Probe::owner_only, Outcome::skip, "not root", ""},
                           {Probe::no_squat, Outcome::skip, "not applicable: anonymous", ""}}))
          .kind,
      Outcome::skip);
}

// The probes that passed before one hung are not the verdict: the rest never ran.
TEST(IsolationVerdictOf, IsNotJudgedWhenAProbeHungAndNoneFailed) {
  const IsolationVerdict v =
      summarize(report_of({{Probe::owner_only, Outcome::pass, "fine", ""},
                           {Probe::no_crosstalk, Outcome::skip, "inconclusive: the channel hung",
                            "in the isolation probe no-cross-talk, sender A was still there"}}));
  EXPECT_EQ(v.kind, Outcome::skip);
  EXPECT_EQ(v.explanation, "not judged: the channel hung (see run): in the isolation probe "
                           "no-cross-talk, sender A was still there");
}

} // namespace
} // namespace ipcv::harness
