// Golden histories of the `fifo` spec (specs/testdata/fifo/), one test each.
#include "golden.hpp"

TEST(FifoSpec, GapThenOlderBad) { EXPECT_GOLDEN("fifo", "gap-then-older-bad"); }
TEST(FifoSpec, InterleavedProducersOk) { EXPECT_GOLDEN("fifo", "interleaved-producers-ok"); }
TEST(FifoSpec, LinesOutOfOrderBad) { EXPECT_GOLDEN("fifo", "lines-out-of-order-bad"); }
TEST(FifoSpec, OneOfTwoReceiversBad) { EXPECT_GOLDEN("fifo", "one-of-two-receivers-bad"); }
TEST(FifoSpec, OneProducerOk) { EXPECT_GOLDEN("fifo", "one-producer-ok"); }
TEST(FifoSpec, OverlappingSendsOk) { EXPECT_GOLDEN("fifo", "overlapping-sends-ok"); }
TEST(FifoSpec, SwappedBad) { EXPECT_GOLDEN("fifo", "swapped-bad"); }
