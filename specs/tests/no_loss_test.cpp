// Golden histories of the `no-loss` spec (specs/testdata/no-loss/), one test each.
#include "golden.hpp"

TEST(NoLossSpec, DropOldestBad) { EXPECT_GOLDEN("no-loss", "drop-oldest-bad"); }
TEST(NoLossSpec, LostEmptyBad) { EXPECT_GOLDEN("no-loss", "lost-empty-bad"); }
TEST(NoLossSpec, MoreLostThanPendingBad) { EXPECT_GOLDEN("no-loss", "more-lost-than-pending-bad"); }
TEST(NoLossSpec, PendingAndFailedSendsOk) {
  EXPECT_GOLDEN("no-loss", "pending-and-failed-sends-ok");
}
TEST(NoLossSpec, PendingReceiveUnknown) { EXPECT_GOLDEN("no-loss", "pending-receive-unknown"); }
TEST(NoLossSpec, TwoSendersBad) { EXPECT_GOLDEN("no-loss", "two-senders-bad"); }
TEST(NoLossSpec, TwoSendersOk) { EXPECT_GOLDEN("no-loss", "two-senders-ok"); }
