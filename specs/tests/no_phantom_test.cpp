// Golden histories of the `no-phantom` spec (specs/testdata/no-phantom/), one test each.
#include "golden.hpp"

TEST(NoPhantomSpec, ExtraEmptyBad) { EXPECT_GOLDEN("no-phantom", "extra-empty-bad"); }
TEST(NoPhantomSpec, FailedSendBad) { EXPECT_GOLDEN("no-phantom", "failed-send-bad"); }
TEST(NoPhantomSpec, FanInOk) { EXPECT_GOLDEN("no-phantom", "fan-in-ok"); }
TEST(NoPhantomSpec, NeverSentBad) { EXPECT_GOLDEN("no-phantom", "never-sent-bad"); }
TEST(NoPhantomSpec, PendingSendReceivedOk) {
  EXPECT_GOLDEN("no-phantom", "pending-send-received-ok");
}
TEST(NoPhantomSpec, ReceivedBeforeSentBad) {
  EXPECT_GOLDEN("no-phantom", "received-before-sent-bad");
}
