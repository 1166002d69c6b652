// Golden histories of the `integrity` spec (specs/testdata/integrity/), one test each.
#include "golden.hpp"

TEST(IntegritySpec, EmptyAndMaxOk) { EXPECT_GOLDEN("integrity", "empty-and-max-ok"); }
TEST(IntegritySpec, NamelessFragmentBad) { EXPECT_GOLDEN("integrity", "nameless-fragment-bad"); }
TEST(IntegritySpec, OneOfManyBad) { EXPECT_GOLDEN("integrity", "one-of-many-bad"); }
TEST(IntegritySpec, ShortReadBad) { EXPECT_GOLDEN("integrity", "short-read-bad"); }
TEST(IntegritySpec, TornBad) { EXPECT_GOLDEN("integrity", "torn-bad"); }
TEST(IntegritySpec, TwoMessagesOk) { EXPECT_GOLDEN("integrity", "two-messages-ok"); }
