// Tests of how a ThreadSanitizer report is told (races.hpp, judge.hpp): a report that runs
// through a library not built with TSan is attributed to that library and race-free is not
// judged by it; a report in instrumented code alone is the channel's failure. The reports are
// real ones, cut as collect_race_reports() cuts them, so these run in every build.
#include "harness/judge.hpp"
#include "harness/races.hpp"
#include "harness/registry.hpp"

#include <gtest/gtest.h>
#include <string>

namespace ipcv::harness {
namespace {

// From a thread-mode run of zmq-pushpull-linger in the TSan build: libzmq's I/O thread copies
// a message that the sending thread's zmq_send allocated; libzmq's queue between them is not
// instrumented.
const std::string kThroughLibzmq = R"(WARNING: ThreadSanitizer: data race (pid=24892)
  Read of size 8 at 0x7b1c000006b8 by thread T2:
    #0 memcpy <null>
    #1 <null> <null> (libzmq.so.5+0x7c0a0)
  Previous write of size 8 at 0x7b1c000006b8 by main thread:
    #0 malloc <null>
    #1 <null> <null> (libzmq.so.5+0x3c658)
    #2 send /work/main/adapters/zmq/zmq_channels.cpp:187:60 (libipcv_zmq.so+0xebca)
    #3 send_all /work/main/harness/isolation_no_crosstalk.cpp:56:27
SUMMARY: ThreadSanitizer: data race (/lib/x86_64-linux-gnu/libzmq.so.5+0x7c0a0)
)";

// From the relaxed-publication fixture: every frame is instrumented code of this build.
const std::string kInOwnCode = R"(WARNING: ThreadSanitizer: data race (pid=4242)
  Read of size 8 at 0x7f0000001000 by thread T3:
    #0 recv /work/main/impl/faulty/relaxed_ring.cpp:88:12
    #1 ipcv::harness::Actor::step() /work/main/harness/runner.cpp:301:9
  Previous write of size 8 at 0x7f0000001000 by thread T2:
    #0 send /work/main/impl/faulty/relaxed_ring.cpp:61:5
SUMMARY: ThreadSanitizer: data race /work/main/impl/faulty/relaxed_ring.cpp:88:12 in recv
)";

TEST(RaceReports, AReportThroughAnUninstrumentedLibraryNamesIt) {
  EXPECT_EQ(uninstrumented_module(kThroughLibzmq), "libzmq.so.5");
}

TEST(RaceReports, AReportInInstrumentedCodeNamesNoLibrary) {
  EXPECT_EQ(uninstrumented_module(kInOwnCode), "");
  EXPECT_EQ(uninstrumented_module(""), "");
}

TEST(RaceReports, RaceFreeAttributesALibrarysReportAndFailsOnItsOwn) {
  RunResult through, own;
  through.race_report = kThroughLibzmq;
  own.race_report = kInOwnCode;
  const ChannelEntry *e = find_channel("pipe");
  ASSERT_NE(e, nullptr);
  const SpecOutcome a = judge(*e, through, {"race-free"}).front();
  EXPECT_EQ(a.kind, Outcome::skip);
  EXPECT_TRUE(a.told) << "an attributed report must be said where other cases held";
  EXPECT_NE(a.explanation.find("attributed to libzmq.so.5, not to the channel: ThreadSanitizer: "
                               "data race (/lib/x86_64-linux-gnu/libzmq.so.5+0x7c0a0)"),
            std::string::npos)
      << a.explanation;
  const SpecOutcome b = judge(*e, own, {"race-free"}).front();
  EXPECT_EQ(b.kind, Outcome::fail) << b.explanation;
  EXPECT_FALSE(b.told);
  EXPECT_NE(b.timeline.find("relaxed_ring.cpp:88"), std::string::npos) << b.timeline;
}

} // namespace
} // namespace ipcv::harness
