// Tests of the record of known findings (tools/expected.hpp) through the real `ipcverify`: the
// lossy fixture plugin (testplugins/load_failures/, a channel that claims no-loss and drops
// messages) stands for a third-party library with a documented shortcoming. A FAIL on record
// is FAIL* and exits 0; the same FAIL without the record, with --strict, or a record whose
// cell now holds (stale) exits 1; a malformed record is refused with one line and exit 2.
#include "shell.hpp"

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace {

using ipcv::testing_shell::Outcome;
using ipcv::testing_shell::shell;

/// A record file in a fresh temporary directory, removed with the object.
class RecordFile {
public:
  explicit RecordFile(const std::string &findings) {
    char dir[] = "/tmp/ipcv-record-test.XXXXXX";
    dir_ = ::mkdtemp(dir) ? dir : "/tmp";
    path_ = dir_ + "/expected.json";
    std::ofstream(path_) << R"({"library": "test", "findings": [)" << findings << "]}\n";
  }
  ~RecordFile() {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string &path() const { return path_; }

private:
  std::string dir_, path_;
};

std::string finding(const std::string &spec, const std::string &channel = "fixture-lossy") {
  return R"({"channel": ")" + channel + R"(", "spec": ")" + spec +
         R"(", "verdict": "FAIL", "reason": "drops messages", "link": "https://example.org/lossy"})";
}

/// A short campaign of the lossy channel over no-loss (which it breaks at once) and fifo
/// (which it keeps), with these extra arguments. No long case: one of 70 000 messages took the
/// whole budget of a ThreadSanitizer build beside other tests, and ran out of time unjudged.
Outcome run_lossy(const std::string &args) {
  return shell(std::string(IPCVERIFY_BIN) + " run --plugin " + FIXTURE_PLUGIN_LOSSY +
               " --channel fixture-lossy --spec no-loss --spec fifo --time-budget 4 --seed 7 "
               "--max-messages 0 " +
               args);
}

TEST(Record, AKnownFailureIsShownAndDoesNotFailTheRun) {
  const RecordFile rec(finding("no-loss"));
  const Outcome o = run_lossy("--expected " + rec.path());
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_NE(o.out.find("fixture-lossy  FAIL*"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("known finding, on record: drops messages (https://example.org/lossy)"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("workload: "), std::string::npos) << "the counterexample is still shown";
}

TEST(Record, TheSameFailureFailsTheRunWithoutTheRecordOrWithStrict) {
  const Outcome bare = run_lossy("");
  EXPECT_EQ(bare.status, 1) << bare.out;
  EXPECT_EQ(bare.out.find("FAIL*"), std::string::npos) << bare.out;
  const RecordFile rec(finding("no-loss"));
  const Outcome strict = run_lossy("--strict --expected " + rec.path());
  EXPECT_EQ(strict.status, 1) << strict.out;
}

TEST(Record, ARecordedFailureThatHoldsIsStale) {
  const RecordFile rec(finding("no-loss") + "," + finding("fifo"));
  const Outcome o = run_lossy("--expected " + rec.path());
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_NE(o.out.find("ipcverify run: stale record " + rec.path() +
                       ": fixture-lossy × fifo held, but the record expects FAIL"),
            std::string::npos)
      << o.out;
}

TEST(Record, ASometimesFindingThatHeldIsANoteNotAStaleRecord) {
  std::string fifo = finding("fifo");
  fifo.insert(fifo.size() - 1, R"(, "seen": "sometimes")");
  const RecordFile rec(finding("no-loss") + "," + fifo);
  const Outcome o = run_lossy("--expected " + rec.path());
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_EQ(o.out.find("stale record"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("ipcverify run: note: fixture-lossy × fifo held in this run; on record " +
                       rec.path() + " as seen sometimes (drops messages)"),
            std::string::npos)
      << o.out;
}

TEST(Record, ComesFromTheEnvironmentToo) {
  const RecordFile rec(finding("no-loss"));
  const Outcome o = shell("IPCV_EXPECTED=" + rec.path() + " " + IPCVERIFY_BIN + " run --plugin " +
                          FIXTURE_PLUGIN_LOSSY +
                          " --channel fixture-lossy --spec no-loss --time-budget 4 --seed 7");
  EXPECT_EQ(o.status, 0) << o.out;
}

TEST(Record, AConformanceCheckOnRecordIsKnownInVerify) {
  // The lossy channel fails these checks of the contract (see its verify output).
  const char *checks[] = {"RejectsOversizedMessage", "ReportsEofAfterSendersClose",
                          "ReportsFullAndDrainsInOrder", "ReportsPeerGoneWhenReceiversClose",
                          "RoundTripsAcrossFork"};
  std::string all, all_but_last;
  for (const char *c : checks) {
    all_but_last = all;
    all += (all.empty() ? "" : ",") + finding(std::string("verify:") + c);
  }
  const std::string verify = std::string(IPCVERIFY_BIN) + " verify --plugin " +
                             FIXTURE_PLUGIN_LOSSY + " --channel fixture-lossy --expected ";
  const RecordFile every(all), some(all_but_last);
  const Outcome known = shell(verify + every.path());
  EXPECT_EQ(known.status, 0) << known.out;
  EXPECT_NE(known.out.find("FAIL* (5 of 11 checks)"), std::string::npos) << known.out;
  EXPECT_NE(known.out.find("FAIL* RoundTripsAcrossFork: "), std::string::npos) << known.out;
  const Outcome one_new = shell(verify + some.path());
  EXPECT_EQ(one_new.status, 1) << one_new.out;
  EXPECT_NE(one_new.out.find("- RoundTripsAcrossFork: "), std::string::npos) << one_new.out;
}

/// A malformed record and the one line it is refused with.
struct Bad {
  const char *name;
  std::string findings;
  std::string why;
};

void PrintTo(const Bad &b, std::ostream *os) { *os << b.name; }

class RecordRefused : public ::testing::TestWithParam<Bad> {};

TEST_P(RecordRefused, OneLineStatusTwo) {
  const RecordFile rec(GetParam().findings);
  const Outcome o = run_lossy("--expected " + rec.path());
  EXPECT_EQ(o.status, 2) << o.out;
  EXPECT_EQ(o.out, "ipcverify run: record " + rec.path() + ": " + GetParam().why + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    Record, RecordRefused,
    ::testing::Values(
        Bad{"ReferenceChannel", finding("no-loss", "pipe"),
            "channel 'pipe' is a reference channel: it has no record, it must hold"},
        Bad{"UnknownChannel", finding("no-loss", "nosuch"),
            "channel 'nosuch' is not registered (is its plugin loaded?)"},
        Bad{"UnknownSpec", finding("no-such-spec"), "'no-such-spec' is not a spec"},
        Bad{"UnclaimedSpec", finding("register"),
            "fixture-lossy does not claim register, so it cannot FAIL it"},
        Bad{"UnknownCheck", finding("verify:NoSuchCheck"),
            "'NoSuchCheck' is not a conformance check"},
        Bad{"Twice", finding("no-loss") + "," + finding("no-loss"),
            "fixture-lossy × no-loss is on record twice"},
        Bad{"NotFail",
            R"({"channel": "fixture-lossy", "spec": "no-loss", "verdict": "pass", "reason": "x"})",
            "verdict must be \"FAIL\" (the only verdict a record expects)"},
        Bad{"UnknownSeen",
            R"({"channel": "fixture-lossy", "spec": "no-loss", "verdict": "FAIL", "reason": "x",)"
            R"( "seen": "often"})",
            "seen must be \"always\" or \"sometimes\""},
        Bad{"NoReason", R"({"channel": "fixture-lossy", "spec": "no-loss", "verdict": "FAIL"})",
            "an entry needs channel, spec and reason"},
        Bad{"NotJson", "][", "not a record (a JSON object with a \"findings\" array)"}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Record, AnUnreadableRecordIsRefused) {
  const Outcome o = run_lossy("--expected /nonexistent/expected.json");
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(o.out, "ipcverify run: record /nonexistent/expected.json: cannot be read\n");
}

} // namespace
