// Golden histories of the `no-duplication` spec (specs/testdata/no-duplication/), one test each.
#include "golden.hpp"

TEST(NoDuplicationSpec, EmptyRetriesOk) { EXPECT_GOLDEN("no-duplication", "empty-retries-ok"); }
TEST(NoDuplicationSpec, PendingSendBad) { EXPECT_GOLDEN("no-duplication", "pending-send-bad"); }
TEST(NoDuplicationSpec, SameReceiverBad) { EXPECT_GOLDEN("no-duplication", "same-receiver-bad"); }
TEST(NoDuplicationSpec, TwoReceiversBad) { EXPECT_GOLDEN("no-duplication", "two-receivers-bad"); }
TEST(NoDuplicationSpec, TwoReceiversOk) { EXPECT_GOLDEN("no-duplication", "two-receivers-ok"); }
