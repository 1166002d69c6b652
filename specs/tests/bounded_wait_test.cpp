// Golden histories of the `bounded-wait` spec (specs/testdata/bounded-wait/), one test each.
#include "golden.hpp"

TEST(BoundedWaitSpec, BlockedSenderBad) { EXPECT_GOLDEN("bounded-wait", "blocked-sender-bad"); }
TEST(BoundedWaitSpec, HangAtEndBad) { EXPECT_GOLDEN("bounded-wait", "hang-at-end-bad"); }
TEST(BoundedWaitSpec, LateWakeupBad) { EXPECT_GOLDEN("bounded-wait", "late-wakeup-bad"); }
TEST(BoundedWaitSpec, NoBoundUnknown) { EXPECT_GOLDEN("bounded-wait", "no-bound-unknown"); }
TEST(BoundedWaitSpec, NoEofAfterCloseBad) {
  EXPECT_GOLDEN("bounded-wait", "no-eof-after-close-bad");
}
TEST(BoundedWaitSpec, OtherReceiverBad) { EXPECT_GOLDEN("bounded-wait", "other-receiver-bad"); }
TEST(BoundedWaitSpec, QuickCallsOk) { EXPECT_GOLDEN("bounded-wait", "quick-calls-ok"); }
TEST(BoundedWaitSpec, TimeoutsWhenEmptyOrFullOk) {
  EXPECT_GOLDEN("bounded-wait", "timeouts-when-empty-or-full-ok");
}
