// Self-describing messages: every size round-trips, and torn, truncated, corrupted and
// misdelivered messages are each caught by the receiver alone.
#include "specs/message.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace ipcv::spec {
namespace {

std::vector<std::byte> make(std::uint32_t producer, std::uint64_t seq, std::size_t len) {
  std::vector<std::byte> m(len);
  EXPECT_EQ(encode(producer, seq, len, m), len);
  return m;
}

MsgStatus status(const std::vector<std::byte> &m, std::optional<Expectation> e = std::nullopt) {
  return verify(m, e).status;
}

TEST(Message, RoundTripsEveryChannelSize) {
  for (std::size_t len : {std::size_t{16}, std::size_t{17}, std::size_t{23}, std::size_t{24},
                          std::size_t{25}, std::size_t{31}, std::size_t{32}, std::size_t{64},
                          std::size_t{4092}, std::size_t{8192}, std::size_t{65536}}) {
    const auto m = make(7, 0x1234567890ULL + len, len);
    const MsgCheck c = verify(m, Expectation{7, 0x1234567890ULL + len});
    EXPECT_EQ(c.status, MsgStatus::ok) << len;
    ASSERT_TRUE(c.id) << len;
    EXPECT_EQ(*c.id, (MsgId{7, 0x1234567890ULL + len})) << len;
  }
}

TEST(Message, EmptyMessageIsIdentityLess) {
  std::vector<std::byte> none;
  EXPECT_EQ(encode(1, 2, 0, none), 0U);
  const MsgCheck c = verify(none, Expectation{1, 2});
  EXPECT_EQ(c.status, MsgStatus::ok);
  EXPECT_FALSE(c.id);
}

TEST(Message, PayloadDependsOnEveryPartOfTheIdentity) {
  EXPECT_NE(make(1, 2, 64), make(2, 2, 64));
  EXPECT_NE(make(1, 2, 64), make(1, 3, 64));
  const auto a = make(1, 2, 64), b = make(1, 2, 65);
  EXPECT_FALSE(std::equal(a.begin() + 24, a.end(), b.begin() + 24));
}

TEST(Message, DetectsTornMessage) {
  const auto a = make(1, 5, 256), b = make(1, 6, 256);
  for (std::size_t cut : {24, 100, 128, 200, 248}) { // the first `cut` bytes from a, rest from b
    auto t = a;
    std::copy(b.begin() + static_cast<long>(cut), b.end(), t.begin() + static_cast<long>(cut));
    EXPECT_EQ(status(t), MsgStatus::torn) << "cut at " << cut;
  }
  auto header_of_b = a; // b's header over a's payload
  std::copy(b.begin(), b.begin() + 24, header_of_b.begin());
  EXPECT_EQ(status(header_of_b), MsgStatus::torn);
}

TEST(Message, DetectsTruncatedMessage) {
  const auto a = make(3, 9, 300);
  for (std::size_t n : {299, 200, 24, 20, 16}) {
    const std::vector<std::byte> cut(a.begin(), a.begin() + static_cast<long>(n));
    const MsgCheck c = verify(cut);
    EXPECT_EQ(c.status, MsgStatus::truncated) << n;
    EXPECT_EQ(c.id, (MsgId{3, 9})) << n;
  }
  const std::vector<std::byte> fragment(a.begin(), a.begin() + 10);
  EXPECT_EQ(verify(fragment), (MsgCheck{MsgStatus::truncated, std::nullopt}));
  const auto small = make(3, 10, 22);
  EXPECT_EQ(status({small.begin(), small.begin() + 19}), MsgStatus::truncated);
}

TEST(Message, DetectsCorruptedMessage) {
  auto a = make(4, 1, 128);
  a[77] ^= std::byte{0x10};
  EXPECT_EQ(status(a), MsgStatus::corrupted);
  auto small = make(4, 2, 20);
  small[18] ^= std::byte{0x01};
  EXPECT_EQ(status(small), MsgStatus::corrupted);
  auto digest = make(4, 3, 64);
  digest[17] ^= std::byte{0x80};
  EXPECT_EQ(status(digest), MsgStatus::corrupted);
  auto longer = make(4, 4, 64);
  longer.resize(80); // two writes merged into one message
  EXPECT_EQ(status(longer), MsgStatus::corrupted);
  auto zeroed = make(4, 5, 4092);
  std::fill(zeroed.begin() + 1000, zeroed.begin() + 2000, std::byte{0});
  EXPECT_EQ(status(zeroed), MsgStatus::corrupted);
}

TEST(Message, DetectsMisdeliveredMessage) {
  const auto a = make(1, 5, 64);
  EXPECT_EQ(status(a, Expectation{2, std::nullopt}), MsgStatus::misdelivered);
  EXPECT_EQ(status(a, Expectation{1, 4}), MsgStatus::misdelivered);
  EXPECT_EQ(status(a, Expectation{1, std::nullopt}), MsgStatus::ok);
  EXPECT_EQ(status(a, Expectation{1, 5}), MsgStatus::ok);
  const auto small = make(1, 5, 16);
  EXPECT_EQ(status(small, Expectation{9, std::nullopt}), MsgStatus::misdelivered);
}

RC_GTEST_PROP(Message, RoundTripsArbitraryIdentities, (std::uint32_t producer, std::uint64_t seq)) {
  const auto len = *rc::gen::inRange<std::size_t>(kMinMessageSize, 5000);
  const auto m = make(producer, seq, len);
  const MsgCheck c = verify(m, Expectation{producer, seq});
  RC_ASSERT(c.status == MsgStatus::ok);
  RC_ASSERT(c.id == (MsgId{producer, seq}));
}

RC_GTEST_PROP(Message, NeverAcceptsAFlippedBit, (std::uint32_t producer, std::uint64_t seq)) {
  const auto len = *rc::gen::inRange<std::size_t>(kMinMessageSize, 600);
  auto m = make(producer, seq, len);
  const auto at = *rc::gen::inRange<std::size_t>(0, len);
  const auto bit = *rc::gen::inRange(0, 8);
  m[at] ^= std::byte{static_cast<unsigned char>(1U << bit)};
  RC_ASSERT(verify(m).status != MsgStatus::ok);
}

} // namespace
} // namespace ipcv::spec
