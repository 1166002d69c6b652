// Golden histories of the `register` spec (specs/testdata/register/), one test each.
#include "golden.hpp"

TEST(RegisterSpec, ConcurrentReadsOk) { EXPECT_GOLDEN("register", "concurrent-reads-ok"); }
TEST(RegisterSpec, FutureReadBad) { EXPECT_GOLDEN("register", "future-read-bad"); }
TEST(RegisterSpec, NeverWrittenBad) { EXPECT_GOLDEN("register", "never-written-bad"); }
TEST(RegisterSpec, NewOldInversionBad) { EXPECT_GOLDEN("register", "new-old-inversion-bad"); }
TEST(RegisterSpec, ReaderGoesBackBad) { EXPECT_GOLDEN("register", "reader-goes-back-bad"); }
TEST(RegisterSpec, SequentialOk) { EXPECT_GOLDEN("register", "sequential-ok"); }
TEST(RegisterSpec, StaleReadBad) { EXPECT_GOLDEN("register", "stale-read-bad"); }
TEST(RegisterSpec, TornReadBad) { EXPECT_GOLDEN("register", "torn-read-bad"); }
