// Verifies that the shm channels treat their shared control state as untrusted: a corrupted
// index, record header, slot sequence or length yields `error` with a reason, never an
// out-of-bounds access, a hang or a crash; and that regions are created, sealed, named and
// removed as documented.
#include "shm_testing.hpp"

#include <rapidcheck/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

namespace ipcv::shm {
namespace {

using namespace ipcv::shm::testing;
using Bytes = std::vector<std::uint8_t>;

/// A prepared channel with one sender and one receiver connected in this process.
template <class C> struct Pair {
  typename C::Address a;
  std::optional<typename C::Sender> tx;
  std::optional<typename C::Receiver> rx;
  explicit Pair(Config cfg) {
    auto p = C::prepare(cfg);
    if (!p)
      std::abort();
    a = *p;
    auto s = C::connect_sender(a);
    auto r = C::connect_receiver(a);
    if (!s || !r)
      std::abort();
    tx.emplace(std::move(*s));
    rx.emplace(std::move(*r));
  }
  ~Pair() {
    tx.reset();
    rx.reset();
    C::detach(a);
    C::destroy(a);
  }
  std::byte *base() const { return static_cast<std::byte *>(a.region.base); }
};

std::string what(const Status &s) { return s.what != nullptr ? s.what : ""; }

class ShmHostile : public ShmTest {};
class ShmRegion : public ShmTest {};

const Bytes kMsg(40, 0x5a);

TEST_F(ShmHostile, SpscProducerIndexBeyondOneRingIsError) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  layout<SpscLayout>(p.a.region)->ring.tail.store(p.a.ring_bytes + 8);
  std::vector<std::byte> buf(256);
  const RecvStatus r = p.rx->try_recv(buf);
  EXPECT_EQ(r.result, Result::error);
  EXPECT_EQ(what(r), "shm ring: producer index out of range");
}

TEST_F(ShmHostile, SpscMisalignedProducerIndexIsError) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  layout<SpscLayout>(p.a.region)->ring.tail.store(3);
  std::vector<std::byte> buf(256);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm ring: producer index misaligned");
}

TEST_F(ShmHostile, SpscRecordHeaderWithUnknownTagIsError) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  ASSERT_TRUE(p.tx->try_send(bytes(kMsg)).ok());
  std::byte *ring = p.base() + kRingOffset;
  const std::uint32_t junk = 0xdeadbeef;
  std::memcpy(ring + 4, &junk, 4);
  std::vector<std::byte> buf(256);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm ring: bad record tag");
}

TEST_F(ShmHostile, SpscRecordLengthOverMaximumIsError) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  ASSERT_TRUE(p.tx->try_send(bytes(kMsg)).ok());
  const std::uint32_t huge = 0xfffffff0;
  std::memcpy(p.base() + kRingOffset, &huge, 4);
  std::vector<std::byte> buf(256);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm ring: record length over the maximum");
}

TEST_F(ShmHostile, SpscRecordReachingPastPublishedBytesIsError) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  ASSERT_TRUE(p.tx->try_send(bytes(kMsg)).ok());
  const std::uint32_t longer = 200; // within the maximum, beyond the 48 bytes published
  std::memcpy(p.base() + kRingOffset, &longer, 4);
  std::vector<std::byte> buf(256);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm ring: record beyond the published bytes");
}

TEST_F(ShmHostile, SpscPaddingNotReachingRingEndIsError) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  ASSERT_TRUE(p.tx->try_send(bytes(kMsg)).ok());
  const RecordHeader pad{0, kPaddingTag};
  std::memcpy(p.base() + kRingOffset, &pad, sizeof pad);
  std::vector<std::byte> buf(256);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm ring: bad padding record");
}

TEST_F(ShmHostile, SpscConsumerIndexAheadOfProducerIsErrorForSender) {
  Pair<ShmSpscChannel> p(Config{256, 2, 1, 1});
  while (p.tx->try_send(bytes(kMsg)).ok()) {
  }
  auto &ring = layout<SpscLayout>(p.a.region)->ring;
  ring.head.store(ring.tail.load() + 64);
  EXPECT_EQ(what(p.tx->try_send(bytes(kMsg))), "shm ring: consumer index out of range");
  EXPECT_EQ(p.tx->send(bytes(kMsg), after_ms(1000)).result, Result::error); // no hang either
}

TEST_F(ShmHostile, MpmcSlotSequenceOutOfRangeIsError) {
  Pair<ShmMpmcChannel> p(Config{64, 4, 1, 1});
  auto *slot0 = reinterpret_cast<SlotHeader *>(p.base() + kSlotsOffset);
  slot0->seq.store(12345);
  std::vector<std::byte> buf(64);
  EXPECT_EQ(p.rx->try_recv(buf).result, Result::error);
  EXPECT_EQ(p.tx->try_send(bytes(Bytes(8))).result, Result::error);
  EXPECT_EQ(p.rx->recv(buf, after_ms(1000)).result, Result::error); // no hang either
}

TEST_F(ShmHostile, MpmcIndicesMoreThanOneLapApartAreError) {
  Pair<ShmMpmcChannel> p(Config{64, 4, 1, 1});
  layout<MpmcLayout>(p.a.region)->queue.enqueue.store(40);
  std::vector<std::byte> buf(64);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm queue: indices more than a lap apart");
  EXPECT_EQ(p.tx->try_send(bytes(Bytes(8))).result, Result::error);
}

TEST_F(ShmHostile, MpmcSlotLengthOverMaximumIsErrorAndFreesTheSlot) {
  Pair<ShmMpmcChannel> p(Config{64, 2, 1, 1});
  ASSERT_TRUE(p.tx->try_send(bytes(Bytes(8))).ok());
  reinterpret_cast<SlotHeader *>(p.base() + kSlotsOffset)->length.store(1u << 30);
  std::vector<std::byte> buf(64);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm queue: slot length over maximum");
  ASSERT_TRUE(p.tx->try_send(bytes(Bytes(8, 1))).ok());
  EXPECT_EQ(p.rx->try_recv(buf).size, 8u); // the queue goes on
}

TEST_F(ShmHostile, RegisterLengthOverMaximumIsError) {
  Pair<ShmRegisterChannel> p(Config{64, 0, 1, 1});
  ASSERT_TRUE(p.tx->try_send(bytes(Bytes(8))).ok());
  for (int i = 0; i < 2; ++i)
    reinterpret_cast<RegisterCopy *>(p.base() + kCopiesOffset + i * copy_stride(64))
        ->length.store(1u << 30);
  std::vector<std::byte> buf(64);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm register: length over the maximum");
}

TEST_F(ShmHostile, RegisterVersionGoingBackIsError) {
  Pair<ShmRegisterChannel> p(Config{64, 0, 1, 1});
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(p.tx->try_send(bytes(Bytes(8))).ok());
  std::vector<std::byte> buf(64);
  ASSERT_TRUE(p.rx->try_recv(buf).ok());
  layout<RegisterLayout>(p.a.region)->reg.seq.store(2);
  EXPECT_EQ(what(p.rx->try_recv(buf)), "shm register: version went back");
}

TEST_F(ShmHostile, RegionWithBadMagicIsRefusedAtConnect) {
  auto a = ShmSpscChannel::prepare(Config{});
  ASSERT_TRUE(a);
  layout<RegionHeader>(a->region)->magic.store(0);
  auto tx = ShmSpscChannel::connect_sender(*a);
  EXPECT_FALSE(tx);
  EXPECT_EQ(what(tx.status()), "region header: bad magic");
  ShmSpscChannel::detach(*a);
  ShmSpscChannel::destroy(*a);
}

/// Writes `value` at byte `at` of the control area (everything before the data).
void scribble(std::byte *base, std::uint64_t span, std::uint64_t at, std::uint64_t value) {
  at = (at % (span / 8)) * 8;
  std::memcpy(base + at, &value, 8);
}

rc::Gen<std::uint64_t> hostile_word() {
  return rc::gen::oneOf(
      rc::gen::arbitrary<std::uint64_t>(), rc::gen::inRange<std::uint64_t>(0, 4096),
      rc::gen::element<std::uint64_t>(0, 1, 7, 8, ~0ull, 1ull << 63, 0xffffffffull));
}

template <class C>
void survive_garbage(Config cfg, std::uint64_t control_bytes, std::uint64_t data_bytes) {
  Pair<C> p(cfg);
  const Result allowed[] = {Result::ok,        Result::full,  Result::empty, Result::timeout,
                            Result::too_large, Result::error, Result::eof,   Result::peer_gone};
  auto is_allowed = [&](Result r) {
    return std::find(std::begin(allowed), std::end(allowed), r) != std::end(allowed);
  };
  std::vector<std::byte> buf(cfg.max_message);
  const auto steps = *rc::gen::inRange(1, 60);
  for (int i = 0; i < steps; ++i) {
    switch (*rc::gen::inRange(0, 5)) {
    case 0: { // rewrite a control word (headers, indices, sequences, wait words, peers)
      const auto at = *rc::gen::arbitrary<std::uint64_t>();
      scribble(p.base() + sizeof(RegionHeader), control_bytes - sizeof(RegionHeader), at,
               *hostile_word());
      break;
    }
    case 1: { // rewrite a word of the data area (record headers, slot headers, copies)
      const auto at = *rc::gen::arbitrary<std::uint64_t>();
      scribble(p.base() + control_bytes, data_bytes, at, *hostile_word());
      break;
    }
    case 2: {
      const auto n = *rc::gen::inRange<std::size_t>(0, cfg.max_message + 1);
      RC_ASSERT(is_allowed(p.tx->try_send(std::span(buf).first(n)).result));
      break;
    }
    case 3:
      RC_ASSERT(is_allowed(p.rx->try_recv(buf).result));
      break;
    case 4: { // blocking calls must return by their deadline (plus a slice), whatever the state
      const auto t0 = Clock::now();
      if (*rc::gen::arbitrary<bool>())
        RC_ASSERT(is_allowed(p.rx->recv(buf, t0 + std::chrono::milliseconds(2)).result));
      else
        RC_ASSERT(is_allowed(
            p.tx->send(std::span(buf).first(8), t0 + std::chrono::milliseconds(2)).result));
      RC_ASSERT(Clock::now() - t0 < std::chrono::milliseconds(500));
      break;
    }
    }
  }
}

RC_GTEST_PROP(ShmHostileState, SpscSurvivesGarbageInControlWords, ()) {
  const Config cfg{128, 3, 1, 1};
  survive_garbage<ShmSpscChannel>(cfg, kRingOffset, ring_bytes_for(3, 128));
}

RC_GTEST_PROP(ShmHostileState, MpmcSurvivesGarbageInControlWords, ()) {
  const Config cfg{64, 4, 1, 1};
  survive_garbage<ShmMpmcChannel>(cfg, kSlotsOffset, 4 * slot_stride(64));
}

RC_GTEST_PROP(ShmHostileState, RegisterSurvivesGarbageInControlWords, ()) {
  const Config cfg{64, 0, 1, 1};
  survive_garbage<ShmRegisterChannel>(cfg, kCopiesOffset, 2 * copy_stride(64));
}

// ---- regions ----

TEST_F(ShmRegion, MemfdSizeIsSealedAgainstShrinkAndGrow) {
  auto a = ShmSpscChannel::prepare(Config{});
  ASSERT_TRUE(a);
  EXPECT_NE(::ftruncate(a->region.fd, 4096), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::ftruncate(a->region.fd, static_cast<off_t>(a->region.size * 2)), 0);
  EXPECT_TRUE(ShmSpscChannel::named_objects(*a).empty());
  ShmSpscChannel::detach(*a);
  ShmSpscChannel::destroy(*a);
}

TEST_F(ShmRegion, NamedRegionIsPrivateExclusiveAndUnlinkedOnDestroy) {
  auto a = ShmSpscNamedChannel::prepare(Config{});
  ASSERT_TRUE(a);
  const auto objs = ShmSpscNamedChannel::named_objects(*a);
  ASSERT_EQ(objs.size(), 1u);
  EXPECT_EQ(objs[0].kind, "shm");
  const std::string path = "/dev/shm" + objs[0].path;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = create_region(RegionKind::named, 4096, a->region.name.c_str());
  EXPECT_FALSE(again);
  EXPECT_EQ(again.status().err, EEXIST);
  ShmSpscNamedChannel::detach(*a);
  ShmSpscNamedChannel::destroy(*a);
  EXPECT_NE(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(ShmRegion, EndpointOutlivesDetachOfTheAddress) {
  auto a = ShmMpmcChannel::prepare(Config{});
  ASSERT_TRUE(a);
  {
    auto tx = ShmMpmcChannel::connect_sender(*a);
    auto rx = ShmMpmcChannel::connect_receiver(*a);
    ASSERT_TRUE(tx && rx);
    ShmMpmcChannel::detach(*a); // endpoints hold their own mappings
    ASSERT_TRUE(tx->try_send(bytes(kMsg)).ok());
    std::vector<std::byte> buf(64);
    EXPECT_EQ(rx->try_recv(buf).size, kMsg.size());
  }
  ShmMpmcChannel::destroy(*a);
}

/// Connects with the prepared mapping hidden (base = nullptr), as a process that has only the
/// fd (memfd) or only the name (named) would, and exchanges one message with an endpoint on
/// the prepared mapping.
template <class C> void connects_without_prepared_mapping() {
  auto a = C::prepare(Config{});
  ASSERT_TRUE(a);
  {
    typename C::Address elsewhere = *a;
    elsewhere.region.base = nullptr;
    auto tx = C::connect_sender(elsewhere);
    auto rx = C::connect_receiver(*a);
    ASSERT_TRUE(tx && rx) << (tx ? rx.status() : tx.status()).describe();
    ASSERT_TRUE(tx->try_send(bytes(kMsg)).ok());
    std::vector<std::byte> buf(64);
    EXPECT_EQ(rx->try_recv(buf).size, kMsg.size());
  }
  C::detach(*a);
  C::destroy(*a);
}

TEST_F(ShmRegion, MemfdConnectsByFdAlone) { connects_without_prepared_mapping<ShmSpscChannel>(); }

TEST_F(ShmRegion, NamedConnectsByNameAlone) {
  connects_without_prepared_mapping<ShmSpscNamedChannel>();
}

} // namespace
} // namespace ipcv::shm
