// Verifies the shm channels against sequential models in one process: the spsc byte ring and
// the mpmc slot queue against a std::deque (with the ring's documented space accounting, so
// `full` is predicted exactly, wrap-around and padding included), and the register against
// a single optional value; plus blocking calls with a deadline that has passed.
#include "shm_testing.hpp"

#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <deque>
#include <optional>

namespace ipcv::shm {
namespace {

using namespace ipcv::shm::testing;
using Bytes = std::vector<std::uint8_t>;

/// A payload of 0, max, max + 1 (too large) or any size in between.
rc::Gen<Bytes> payload(std::size_t max) {
  return rc::gen::mapcat(
      rc::gen::weightedOneOf<std::size_t>({{2, rc::gen::just<std::size_t>(0)},
                                           {2, rc::gen::just(max)},
                                           {1, rc::gen::just(max + 1)},
                                           {6, rc::gen::inRange<std::size_t>(0, max + 1)}}),
      [](std::size_t n) {
        return rc::gen::container<Bytes>(n, rc::gen::arbitrary<std::uint8_t>());
      });
}

/// The receive buffer: usually room for the maximum, sometimes less (then too_large).
rc::Gen<std::size_t> buffer_size(std::size_t max) {
  return rc::gen::weightedOneOf<std::size_t>(
      {{5, rc::gen::just(max)}, {1, rc::gen::inRange<std::size_t>(0, max + 1)}});
}

// ---- shm-spsc against a deque plus the ring's byte accounting ----

constexpr std::size_t kSpscMax = 200;
constexpr std::size_t kSpscCap = 3; // ring_bytes_for(3, 200) = 1024: wraps often

struct SpscModel {
  std::deque<Bytes> q;
  std::deque<std::uint64_t> ends; // ring index just past each queued record
  std::uint64_t tail = 0, head = 0, ring = 0;

  /// The ring's documented rule: a record that does not fit before the end is preceded by
  /// padding up to the end; it fits when tail + need - head <= ring.
  std::uint64_t need(std::size_t len) const {
    const std::uint64_t rec = record_bytes(len), contig = ring - tail % ring;
    return rec <= contig ? rec : contig + rec;
  }
  bool fits(std::size_t len) const { return tail + need(len) - head <= ring; }
};

struct SpscSut {
  ShmSpscChannel::Address a;
  std::optional<ShmSpscChannel::Sender> tx;
  std::optional<ShmSpscChannel::Receiver> rx;
  SpscSut() {
    auto p = ShmSpscChannel::prepare(Config{kSpscMax, kSpscCap, 1, 1});
    RC_ASSERT(bool(p));
    a = *p;
    auto s = ShmSpscChannel::connect_sender(a);
    auto r = ShmSpscChannel::connect_receiver(a);
    RC_ASSERT(bool(s) && bool(r));
    tx.emplace(std::move(*s));
    rx.emplace(std::move(*r));
    ShmSpscChannel::detach(a);
  }
  ~SpscSut() { ShmSpscChannel::destroy(a); }
};

using SpscCmd = rc::state::Command<SpscModel, SpscSut>;

struct SpscTrySend : SpscCmd {
  Bytes msg = *payload(kSpscMax);
  bool blocking =
      *rc::gen::weightedOneOf<bool>({{4, rc::gen::just(false)}, {1, rc::gen::just(true)}});
  void apply(SpscModel &m) const override {
    if (msg.size() > kSpscMax || !m.fits(msg.size()))
      return;
    m.tail += m.need(msg.size());
    m.q.push_back(msg);
    m.ends.push_back(m.tail);
  }
  void run(const SpscModel &m, SpscSut &s) const override {
    const Status st = blocking ? s.tx->send(bytes(msg), Clock::now()) : s.tx->try_send(bytes(msg));
    if (msg.size() > kSpscMax)
      RC_ASSERT(st.result == Result::too_large);
    else if (m.fits(msg.size()))
      RC_ASSERT(st.result == Result::ok);
    else
      RC_ASSERT(st.result == (blocking ? Result::timeout : Result::full));
  }
  void show(std::ostream &os) const override {
    os << (blocking ? "send(" : "try_send(") << msg.size() << " bytes)";
  }
};

struct SpscTryRecv : SpscCmd {
  std::size_t room = *buffer_size(kSpscMax);
  bool blocking =
      *rc::gen::weightedOneOf<bool>({{4, rc::gen::just(false)}, {1, rc::gen::just(true)}});
  void apply(SpscModel &m) const override {
    if (m.q.empty())
      return;
    m.q.pop_front();
    m.head = m.ends.front();
    m.ends.pop_front();
  }
  void run(const SpscModel &m, SpscSut &s) const override {
    std::vector<std::byte> buf(room);
    const RecvStatus st = blocking ? s.rx->recv(buf, Clock::now()) : s.rx->try_recv(buf);
    if (m.q.empty()) {
      RC_ASSERT(st.result == (blocking ? Result::timeout : Result::empty));
    } else if (m.q.front().size() > room) {
      RC_ASSERT(st.result == Result::too_large);
    } else {
      RC_ASSERT(st.result == Result::ok);
      RC_ASSERT(st.size == m.q.front().size());
      RC_ASSERT(std::equal(buf.begin(), buf.begin() + st.size, bytes(m.q.front()).begin()));
    }
  }
  void show(std::ostream &os) const override {
    os << (blocking ? "recv(" : "try_recv(") << room << " byte buffer)";
  }
};

RC_GTEST_PROP(ShmSpsc, MatchesDequeModelWithExactFullAndWrapAround, ()) {
  SpscModel m;
  m.ring = ring_bytes_for(kSpscCap, kSpscMax);
  SpscSut s;
  rc::state::check(m, s, rc::state::gen::execOneOfWithArgs<SpscTrySend, SpscTryRecv>());
}

RC_GTEST_PROP(ShmRing, RoundTripsArbitraryPayloads, (std::vector<std::uint8_t> msg)) {
  RC_PRE(msg.size() <= ShmSpscChannel::kMaxMessage);
  auto a = ShmSpscChannel::prepare(Config{});
  RC_ASSERT(bool(a));
  {
    auto tx = ShmSpscChannel::connect_sender(*a);
    auto rx = ShmSpscChannel::connect_receiver(*a);
    RC_ASSERT(bool(tx) && bool(rx));
    ShmSpscChannel::detach(*a);
    RC_ASSERT(tx->try_send(bytes(msg)).ok());
    std::vector<std::byte> buf(ShmSpscChannel::kMaxMessage);
    const RecvStatus r = rx->try_recv(buf);
    RC_ASSERT(r.ok());
    RC_ASSERT(r.size == msg.size());
    RC_ASSERT(std::equal(buf.begin(), buf.begin() + r.size, bytes(msg).begin()));
  }
  ShmSpscChannel::destroy(*a);
}

// ---- shm-mpmc against a bounded deque, through two senders and two receivers ----

constexpr std::size_t kMpmcMax = 100;
constexpr std::size_t kMpmcCap = 4;

struct MpmcModel {
  std::deque<Bytes> q;
};

struct MpmcSut {
  ShmMpmcChannel::Address a;
  std::vector<ShmMpmcChannel::Sender> tx;
  std::vector<ShmMpmcChannel::Receiver> rx;
  MpmcSut() {
    auto p = ShmMpmcChannel::prepare(Config{kMpmcMax, kMpmcCap, 2, 2});
    RC_ASSERT(bool(p));
    a = *p;
    for (int i = 0; i < 2; ++i) {
      auto s = ShmMpmcChannel::connect_sender(a);
      auto r = ShmMpmcChannel::connect_receiver(a);
      RC_ASSERT(bool(s) && bool(r));
      tx.push_back(std::move(*s));
      rx.push_back(std::move(*r));
    }
    ShmMpmcChannel::detach(a);
  }
  ~MpmcSut() { ShmMpmcChannel::destroy(a); }
};

using MpmcCmd = rc::state::Command<MpmcModel, MpmcSut>;

struct MpmcTrySend : MpmcCmd {
  Bytes msg = *payload(kMpmcMax);
  int who = *rc::gen::inRange(0, 2);
  bool blocking =
      *rc::gen::weightedOneOf<bool>({{4, rc::gen::just(false)}, {1, rc::gen::just(true)}});
  void apply(MpmcModel &m) const override {
    if (msg.size() <= kMpmcMax && m.q.size() < kMpmcCap)
      m.q.push_back(msg);
  }
  void run(const MpmcModel &m, MpmcSut &s) const override {
    auto &tx = s.tx[static_cast<std::size_t>(who)];
    const Status st = blocking ? tx.send(bytes(msg), Clock::now()) : tx.try_send(bytes(msg));
    if (msg.size() > kMpmcMax)
      RC_ASSERT(st.result == Result::too_large);
    else if (m.q.size() < kMpmcCap)
      RC_ASSERT(st.result == Result::ok);
    else
      RC_ASSERT(st.result == (blocking ? Result::timeout : Result::full));
  }
  void show(std::ostream &os) const override {
    os << "sender " << who << (blocking ? " send(" : " try_send(") << msg.size() << " bytes)";
  }
};

struct MpmcTryRecv : MpmcCmd {
  std::size_t room = *buffer_size(kMpmcMax);
  int who = *rc::gen::inRange(0, 2);
  bool blocking =
      *rc::gen::weightedOneOf<bool>({{4, rc::gen::just(false)}, {1, rc::gen::just(true)}});
  void apply(MpmcModel &m) const override {
    if (!m.q.empty())
      m.q.pop_front();
  }
  void run(const MpmcModel &m, MpmcSut &s) const override {
    std::vector<std::byte> buf(room);
    auto &rx = s.rx[static_cast<std::size_t>(who)];
    const RecvStatus st = blocking ? rx.recv(buf, Clock::now()) : rx.try_recv(buf);
    if (m.q.empty()) {
      RC_ASSERT(st.result == (blocking ? Result::timeout : Result::empty));
    } else if (m.q.front().size() > room) {
      RC_ASSERT(st.result == Result::too_large);
    } else {
      RC_ASSERT(st.result == Result::ok);
      RC_ASSERT(st.size == m.q.front().size());
      RC_ASSERT(std::equal(buf.begin(), buf.begin() + st.size, bytes(m.q.front()).begin()));
    }
  }
  void show(std::ostream &os) const override {
    os << "receiver " << who << (blocking ? " recv(" : " try_recv(") << room << " bytes)";
  }
};

RC_GTEST_PROP(ShmMpmc, MatchesBoundedDequeModel, ()) {
  MpmcSut s;
  rc::state::check(MpmcModel{}, s, rc::state::gen::execOneOfWithArgs<MpmcTrySend, MpmcTryRecv>());
}

// ---- shm-register against one optional value ----

constexpr std::size_t kRegMax = 64;

struct RegisterModel {
  std::optional<Bytes> value;
  std::uint64_t version = 0;
  std::uint64_t returned[2] = {0, 0}; // per reader: newest version returned
  bool closed = false;
};

struct RegisterSut {
  ShmRegisterChannel::Address a;
  std::optional<ShmRegisterChannel::Sender> tx;
  std::vector<ShmRegisterChannel::Receiver> rx;
  RegisterSut() {
    auto p = ShmRegisterChannel::prepare(Config{kRegMax, 0, 1, 2});
    RC_ASSERT(bool(p));
    a = *p;
    auto s = ShmRegisterChannel::connect_sender(a);
    RC_ASSERT(bool(s));
    tx.emplace(std::move(*s));
    for (int i = 0; i < 2; ++i) {
      auto r = ShmRegisterChannel::connect_receiver(a);
      RC_ASSERT(bool(r));
      rx.push_back(std::move(*r));
    }
    ShmRegisterChannel::detach(a);
  }
  ~RegisterSut() { ShmRegisterChannel::destroy(a); }
};

using RegisterCmd = rc::state::Command<RegisterModel, RegisterSut>;

struct RegisterWrite : RegisterCmd {
  Bytes msg = *payload(kRegMax);
  void checkPreconditions(const RegisterModel &m) const override { RC_PRE(!m.closed); }
  void apply(RegisterModel &m) const override {
    if (msg.size() > kRegMax)
      return;
    m.value = msg;
    ++m.version;
  }
  void run(const RegisterModel &, RegisterSut &s) const override {
    const Status st = s.tx->try_send(bytes(msg));
    RC_ASSERT(st.result == (msg.size() > kRegMax ? Result::too_large : Result::ok));
  }
  void show(std::ostream &os) const override { os << "write(" << msg.size() << " bytes)"; }
};

struct RegisterRead : RegisterCmd {
  int who = *rc::gen::inRange(0, 2);
  void apply(RegisterModel &m) const override {
    if (m.value)
      m.returned[who] = m.version;
  }
  void run(const RegisterModel &m, RegisterSut &s) const override {
    std::vector<std::byte> buf(kRegMax);
    const RecvStatus st = s.rx[static_cast<std::size_t>(who)].try_recv(buf);
    const bool drained = m.closed && m.returned[who] == m.version;
    if (!m.value) {
      RC_ASSERT(st.result == (m.closed ? Result::eof : Result::empty));
    } else if (drained) {
      RC_ASSERT(st.result == Result::eof);
    } else {
      RC_ASSERT(st.result == Result::ok); // the same version again is fine: reads do not consume
      RC_ASSERT(st.size == m.value->size());
      RC_ASSERT(std::equal(buf.begin(), buf.begin() + st.size, bytes(*m.value).begin()));
    }
  }
  void show(std::ostream &os) const override { os << "reader " << who << " read"; }
};

struct RegisterClose : RegisterCmd {
  void checkPreconditions(const RegisterModel &m) const override { RC_PRE(!m.closed); }
  void apply(RegisterModel &m) const override { m.closed = true; }
  void run(const RegisterModel &, RegisterSut &s) const override { s.tx->close(); }
  void show(std::ostream &os) const override { os << "writer close"; }
};

RC_GTEST_PROP(ShmRegister, MatchesLatestValueModel, ()) {
  RegisterSut s;
  rc::state::check(RegisterModel{}, s,
                   rc::state::gen::execOneOfWithArgs<RegisterWrite, RegisterRead, RegisterRead,
                                                     RegisterRead, RegisterClose>());
}

// ---- blocking calls in one process ----

TEST(ShmSpsc, RecvReturnsEofOnceSenderClosedAndDrained) {
  auto a = ShmSpscChannel::prepare(Config{});
  ASSERT_TRUE(a);
  {
    auto tx = ShmSpscChannel::connect_sender(*a);
    auto rx = ShmSpscChannel::connect_receiver(*a);
    ASSERT_TRUE(tx && rx);
    ShmSpscChannel::detach(*a);
    const Bytes one{1, 2, 3};
    ASSERT_TRUE(tx->send(bytes(one), after_ms(1000)).ok());
    tx->close();
    std::vector<std::byte> buf(16);
    EXPECT_EQ(rx->recv(buf, after_ms(1000)).result, Result::ok);
    EXPECT_EQ(rx->recv(buf, after_ms(1000)).result, Result::eof);
    EXPECT_EQ(rx->try_recv(buf).result, Result::eof); // a poller learns the end too
  }
  ShmSpscChannel::destroy(*a);
}

TEST(ShmSpsc, RecvTimesOutWithinBoundWhenSenderStaysSilent) {
  auto a = ShmSpscChannel::prepare(Config{});
  ASSERT_TRUE(a);
  {
    auto tx = ShmSpscChannel::connect_sender(*a);
    auto rx = ShmSpscChannel::connect_receiver(*a);
    ASSERT_TRUE(tx && rx);
    ShmSpscChannel::detach(*a);
    std::vector<std::byte> buf(16);
    const auto t0 = Clock::now();
    EXPECT_EQ(rx->recv(buf, t0 + std::chrono::milliseconds(30)).result, Result::timeout);
    const auto took = Clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(30));
    EXPECT_LT(took, std::chrono::milliseconds(500));
  }
  ShmSpscChannel::destroy(*a);
}

TEST(ShmSpsc, SecondSenderIsRefused) {
  auto a = ShmSpscChannel::prepare(Config{});
  ASSERT_TRUE(a);
  {
    auto tx = ShmSpscChannel::connect_sender(*a);
    ASSERT_TRUE(tx);
    auto again = ShmSpscChannel::connect_sender(*a);
    EXPECT_FALSE(again);
    EXPECT_EQ(again.status().result, Result::error);
  }
  ShmSpscChannel::detach(*a);
  ShmSpscChannel::destroy(*a);
}

TEST(ShmMpmc, RecvReturnsEofOnlyAfterEverySenderClosed) {
  auto a = ShmMpmcChannel::prepare(Config{0, 0, 2, 1});
  ASSERT_TRUE(a);
  {
    auto t1 = ShmMpmcChannel::connect_sender(*a);
    auto t2 = ShmMpmcChannel::connect_sender(*a);
    auto rx = ShmMpmcChannel::connect_receiver(*a);
    ASSERT_TRUE(t1 && t2 && rx);
    ShmMpmcChannel::detach(*a);
    std::vector<std::byte> buf(ShmMpmcChannel::kMaxMessage);
    t1->close();
    EXPECT_EQ(rx->recv(buf, after_ms(20)).result, Result::timeout);
    ASSERT_TRUE(t2->send(bytes(Bytes{7}), after_ms(1000)).ok());
    t2->close();
    EXPECT_EQ(rx->recv(buf, after_ms(1000)).result, Result::ok);
    EXPECT_EQ(rx->recv(buf, after_ms(1000)).result, Result::eof);
  }
  ShmMpmcChannel::destroy(*a);
}

TEST(ShmRegister, RecvWaitsForFirstWriteThenReturnsLatest) {
  auto a = ShmRegisterChannel::prepare(Config{});
  ASSERT_TRUE(a);
  {
    auto tx = ShmRegisterChannel::connect_sender(*a);
    auto rx = ShmRegisterChannel::connect_receiver(*a);
    ASSERT_TRUE(tx && rx);
    ShmRegisterChannel::detach(*a);
    std::vector<std::byte> buf(ShmRegisterChannel::kMaxMessage);
    EXPECT_EQ(rx->recv(buf, after_ms(20)).result, Result::timeout);
    ASSERT_TRUE(tx->send(bytes(Bytes{1}), after_ms(0)).ok());
    ASSERT_TRUE(tx->send(bytes(Bytes{2, 2}), after_ms(0)).ok());
    const RecvStatus r = rx->recv(buf, after_ms(1000));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.size, 2u);
    EXPECT_EQ(rx->recv(buf, after_ms(1000)).size, 2u); // not consumed
  }
  ShmRegisterChannel::destroy(*a);
}

} // namespace
} // namespace ipcv::shm
