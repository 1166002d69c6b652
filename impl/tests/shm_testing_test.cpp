// The self-checking messages of the shm tests must show any change, or the channel tests that
// rely on them could not fail: every byte flipped, a message of another sequence number or
// producer, and a message cut short are each told apart from the original.
#include "shm_testing.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipcv::shm::testing {
namespace {

TEST(SelfCheckingMessages, AnyFlippedByteOrOtherIdShows) {
  for (std::size_t len : {0u, 1u, 7u, 12u, 13u, 20u, 64u, 1001u}) {
    std::vector<std::byte> m(len);
    fill(m, 3, 17);
    ASSERT_TRUE(intact(m, 3, 17)) << len;
    for (std::size_t i = 0; i < len; ++i) {
      m[i] ^= std::byte{0x10};
      EXPECT_FALSE(intact(m, 3, 17)) << "byte " << i << " of " << len;
      m[i] ^= std::byte{0x10};
    }
    if (len > 0) {
      EXPECT_FALSE(intact(m, 3, 18)) << len;
      EXPECT_FALSE(intact(m, 4, 17)) << len;
    }
  }
}

TEST(SelfCheckingMessages, APayloadDiffersFromItsNeighboursAtTheSameOffset) {
  // Below kIdBytes there is no id: the payload alone must tell messages apart.
  std::vector<std::byte> a(8), b(8);
  fill(a, 0, 1);
  fill(b, 0, 2);
  EXPECT_NE(a, b);
  EXPECT_FALSE(intact(a, 0, 2));
}

} // namespace
} // namespace ipcv::shm::testing
