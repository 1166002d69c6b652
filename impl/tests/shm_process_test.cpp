// Verifies the shm channels across real processes: forked senders and receivers exchange
// thousands of self-checking messages (payload derived from producer and sequence number)
// and the parent checks every exit status and that each message arrived exactly once; and a
// survivor blocked in send or recv returns peer_gone within a bound when its peer is killed.
#include "shm_testing.hpp"

#include <sys/stat.h>

namespace ipcv::shm {
namespace {

using namespace ipcv::shm::testing;

constexpr unsigned kMaxProducers = 4;
constexpr std::uint64_t kMaxSeq = 1u << 14;
const auto kReapWithin = std::chrono::seconds(120);
const auto kMeetWithin = std::chrono::seconds(30); // every child at the start barrier

/// What the children of one exchange share with the parent.
struct Exchange {
  std::atomic<std::uint8_t> seen[kMaxProducers][kMaxSeq];
};

/// Exit codes of a child, so that a failure names its cause.
enum Exit : int {
  kOk = 0,
  kConnect = 10,
  kSend = 11,
  kRecv = 12,
  kCorrupt = 13,
  kReordered = 14,
  kUnknownId = 15,
  kWrongLength = 16,
  kNotFinal = 17,
  kBarrier = 18,
};

/// Reaps `kids` (each within kReapWithin; stragglers are killed) and expects every one to
/// have exited 0.
void expect_clean_exits(const std::vector<pid_t> &kids) {
  for (const harness::ChildExit &e : harness::reap(kids, Clock::now() + kReapWithin))
    EXPECT_TRUE(e.clean()) << "child " << e.pid << ": " << e.describe();
}

/// `senders` children send `n` messages each (sizes swept over [lo, hi]); `receivers` children
/// receive until eof and verify each message alone and each producer's order.
template <class C>
void exchange(Config cfg, std::uint64_t n, std::size_t lo, std::size_t hi, bool use_try) {
  ASSERT_LE(cfg.senders, kMaxProducers);
  ASSERT_LE(n, kMaxSeq);
  ASSERT_TRUE(cfg.senders == 1 || lo >= kIdBytes) << "several producers need ids in messages";
  SharedBlock<Exchange> sh;
  auto a = C::prepare(cfg);
  ASSERT_TRUE(a) << a.status().describe();
  harness::Barrier start(cfg.senders + cfg.receivers);
  const Deadline start_by = Clock::now() + kMeetWithin;
  std::vector<pid_t> kids;
  for (std::uint32_t p = 0; p < cfg.senders; ++p)
    kids.push_back(harness::spawn([&, p] {
      auto tx = C::connect_sender(*a);
      C::detach(*a);
      if (!start.arrive_and_wait(start_by))
        return int{kBarrier};
      if (!tx)
        return int{kConnect};
      std::vector<std::byte> buf(hi);
      for (std::uint64_t seq = 0; seq < n; ++seq) {
        auto m = std::span(buf).first(size_for(seq, lo, hi));
        fill(m, p, seq);
        Status st;
        if (use_try && seq % 2 == 0) {
          while ((st = tx->try_send(m)).result == Result::full || st.result == Result::timeout) {
          }
        } else {
          st = tx->send(m, after_ms(60000));
        }
        if (!st.ok()) {
          std::fprintf(stderr, "sender %u seq %llu: %s\n", p, (unsigned long long)seq,
                       st.describe().c_str());
          return int{kSend};
        }
      }
      tx->close();
      return int{kOk};
    }));
  for (std::uint32_t r = 0; r < cfg.receivers; ++r)
    kids.push_back(harness::spawn([&] {
      auto rx = C::connect_receiver(*a);
      C::detach(*a);
      if (!start.arrive_and_wait(start_by))
        return int{kBarrier};
      if (!rx)
        return int{kConnect};
      std::vector<std::byte> buf(hi);
      std::int64_t last[kMaxProducers];
      std::fill(std::begin(last), std::end(last), -1);
      for (std::uint64_t i = 0;; ++i) {
        RecvStatus st = use_try && i % 2 == 0 ? rx->try_recv(buf) : rx->recv(buf, after_ms(60000));
        if (st.result == Result::empty || st.result == Result::timeout)
          continue;
        if (st.result == Result::eof)
          break;
        if (!st.ok()) {
          std::fprintf(stderr, "receiver: %s\n", st.describe().c_str());
          return int{kRecv};
        }
        auto m = std::span(buf).first(st.size);
        std::uint32_t p = 0;
        std::uint64_t seq = static_cast<std::uint64_t>(last[0] + 1);
        if (cfg.senders > 1) {
          if (m.size() < kIdBytes)
            return int{kUnknownId};
          std::tie(p, seq) = id_of(m);
          if (p >= cfg.senders || seq >= n)
            return int{kUnknownId};
        }
        if (m.size() != size_for(seq, lo, hi))
          return int{kWrongLength};
        if (!intact(m, p, seq))
          return int{kCorrupt};
        if (static_cast<std::int64_t>(seq) <= last[p])
          return int{kReordered};
        last[p] = static_cast<std::int64_t>(seq);
        sh->seen[p][seq].fetch_add(1);
      }
      return int{kOk};
    }));
  C::detach(*a);
  expect_clean_exits(kids);
  C::destroy(*a);
  std::uint64_t lost = 0, dup = 0;
  for (std::uint32_t p = 0; p < cfg.senders; ++p)
    for (std::uint64_t s = 0; s < n; ++s) {
      const unsigned c = sh->seen[p][s].load();
      lost += c == 0;
      dup += c > 1;
    }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(dup, 0u);
}

class ShmSpscProcesses : public ShmTest {};
class ShmMpmcProcesses : public ShmTest {};
class ShmRegisterProcesses : public ShmTest {};
class ShmPeerDeath : public ShmTest {};

TEST_F(ShmSpscProcesses, DeliversThousandsOfMessagesInOrderThroughSmallRing) {
  // 4 KiB messages in a ring that holds 3 of them: the sender blocks and wraps constantly.
  exchange<ShmSpscChannel>(Config{4096, 3, 1, 1}, 12000, 0, 4096, false);
}

TEST_F(ShmSpscProcesses, DeliversMaxSizeMessagesWithTryCallsMixedIn) {
  // Sizes up to 1 MiB, half a MiB on average: 800 of them wrap the default ring many times
  // (3000 took 47 s under ThreadSanitizer).
  exchange<ShmSpscChannel>(Config{0, 0, 1, 1}, 800, 0, ShmSpscChannel::kMaxMessage, true);
}

TEST_F(ShmSpscProcesses, NamedRegionDeliversAndIsRemovedOnDestroy) {
  exchange<ShmSpscNamedChannel>(Config{512, 4, 1, 1}, 8000, 0, 512, false);
  // The fixture checks that no /dev/shm entry of this process is left.
}

TEST_F(ShmMpmcProcesses, ManySendersManyReceiversDeliverEachMessageOnce) {
  exchange<ShmMpmcChannel>(Config{256, 8, 3, 3}, 6000, kIdBytes, 256, false);
}

TEST_F(ShmMpmcProcesses, TryCallsAndBlockingCallsMixedDeliverEachMessageOnce) {
  exchange<ShmMpmcChannel>(Config{0, 4, 4, 2}, 3000, kIdBytes, ShmMpmcChannel::kMaxMessage, true);
}

TEST_F(ShmMpmcProcesses, NamedRegionDelivers) {
  exchange<ShmMpmcNamedChannel>(Config{64, 4, 2, 2}, 4000, kIdBytes, 64, false);
}

/// What a register's children share with the parent.
struct RegisterRun {
  std::atomic<std::uint64_t> reads[8];
};

TEST_F(ShmRegisterProcesses, ReadersNeverSeeTornOrOlderValues) {
  constexpr std::uint64_t kWrites = 20000;
  constexpr unsigned kReaders = 3;
  constexpr std::size_t kMax = 1024;
  SharedBlock<RegisterRun> sh;
  auto a = ShmRegisterChannel::prepare(Config{kMax, 0, 1, kReaders});
  ASSERT_TRUE(a);
  harness::Barrier start(kReaders + 1);
  const Deadline start_by = Clock::now() + kMeetWithin;
  std::vector<pid_t> kids;
  kids.push_back(harness::spawn([&] {
    auto tx = ShmRegisterChannel::connect_sender(*a);
    ShmRegisterChannel::detach(*a);
    if (!start.arrive_and_wait(start_by))
      return int{kBarrier};
    if (!tx)
      return int{kConnect};
    std::vector<std::byte> buf(kMax);
    for (std::uint64_t v = 1; v <= kWrites; ++v) {
      auto m = std::span(buf).first(size_for(v, kIdBytes, kMax));
      fill(m, 0, v);
      if (!tx->send(m, after_ms(1000)).ok())
        return int{kSend};
    }
    tx->close();
    return int{kOk};
  }));
  for (unsigned r = 0; r < kReaders; ++r)
    kids.push_back(harness::spawn([&, r] {
      auto rx = ShmRegisterChannel::connect_receiver(*a);
      ShmRegisterChannel::detach(*a);
      if (!start.arrive_and_wait(start_by))
        return int{kBarrier};
      if (!rx)
        return int{kConnect};
      std::vector<std::byte> buf(kMax);
      std::uint64_t last = 0;
      for (;;) {
        RecvStatus st = rx->recv(buf, after_ms(60000));
        if (st.result == Result::eof)
          break;
        if (!st.ok())
          return int{kRecv};
        auto m = std::span(buf).first(st.size);
        if (m.size() < kIdBytes)
          return int{kUnknownId};
        const auto [p, v] = id_of(m);
        if (p != 0 || v == 0 || v > kWrites)
          return int{kUnknownId};
        if (m.size() != size_for(v, kIdBytes, kMax))
          return int{kWrongLength};
        if (!intact(m, 0, v))
          return int{kCorrupt};
        if (v < last)
          return int{kReordered};
        last = v;
        sh->reads[r].fetch_add(1);
      }
      return last == kWrites ? int{kOk} : int{kNotFinal}; // eof only after the final value
    }));
  ShmRegisterChannel::detach(*a);
  expect_clean_exits(kids);
  ShmRegisterChannel::destroy(*a);
  for (unsigned r = 0; r < kReaders; ++r)
    EXPECT_GT(sh->reads[r].load(), 0u);
}

// Peer death: the survivor is blocked (announced on the futex) when the peer is killed.

/// What a survivor reports to the parent.
struct Survivor {
  std::atomic<int> result{-1};
  std::atomic<std::int64_t> returned_ns{0};
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

const auto kNoticeWithin = std::chrono::milliseconds(1000); // 5 ms slices, on a loaded machine

/// Waits (without sleeping) until someone sleeps on `w`; false after 30 s.
bool until_waiting(const WaitWord &w) {
  const Deadline d = Clock::now() + std::chrono::seconds(30);
  while (w.waiters.load() == 0)
    if (Clock::now() > d)
      return false;
  return true;
}

/// A victim child: connects with `connect`, meets the barrier, then waits to be killed.
template <class F> pid_t victim(harness::Barrier &start, F connect) {
  const Deadline start_by = Clock::now() + kMeetWithin;
  return harness::spawn([&start, start_by, connect] {
    auto e = connect();
    if (!start.arrive_and_wait(start_by))
      return int{kBarrier};
    for (;;)
      ::pause();
  });
}

/// A victim's end: killed by the SIGKILL the test sent, not by the reaper or on its own.
void expect_killed(const harness::ChildExit &e) {
  EXPECT_TRUE(!e.timed_out && e.signal == SIGKILL) << "victim " << e.pid << ": " << e.describe();
}

/// Kills every victim once the survivor sleeps on `w`; reaps them all and checks that the
/// survivor exited 0 having seen peer_gone within kNoticeWithin. When the survivor never
/// blocks, everything is killed and reaped at once, so nothing outlives the test.
void kill_and_check(Survivor &sv, const WaitWord &w, const std::vector<pid_t> &victims,
                    pid_t survivor) {
  const bool blocked = until_waiting(w);
  const std::int64_t killed = now_ns();
  for (pid_t v : victims)
    ::kill(v, SIGKILL);
  std::vector<pid_t> kids{survivor};
  kids.insert(kids.end(), victims.begin(), victims.end());
  const auto exits = harness::reap(kids, blocked ? Clock::now() + kReapWithin : Clock::now());
  ASSERT_TRUE(blocked) << "the survivor never blocked (" << exits[0].describe() << ")";
  EXPECT_TRUE(exits[0].clean()) << "survivor: " << exits[0].describe();
  for (std::size_t i = 1; i < exits.size(); ++i)
    expect_killed(exits[i]);
  EXPECT_EQ(sv.result.load(), static_cast<int>(Result::peer_gone))
      << "got " << to_string(static_cast<Result>(sv.result.load()));
  const auto took = std::chrono::nanoseconds(sv.returned_ns.load() - killed);
  EXPECT_LT(took, kNoticeWithin) << "noticed after " << took.count() / 1000 << " us";
}

TEST_F(ShmPeerDeath, SpscReceiverBlockedOnEmptyRingSeesKilledSender) {
  SharedBlock<Survivor> sv;
  harness::Barrier start(2);
  auto a = ShmSpscChannel::prepare(Config{});
  ASSERT_TRUE(a);
  const pid_t v = victim(start, [&] { return ShmSpscChannel::connect_sender(*a); });
  const pid_t s = harness::spawn([&] {
    auto rx = ShmSpscChannel::connect_receiver(*a);
    if (!start.arrive_and_wait(Clock::now() + kMeetWithin))
      return int{kBarrier};
    if (!rx)
      return int{kConnect};
    std::vector<std::byte> buf(64);
    sv->result = static_cast<int>(rx->recv(buf, after_ms(60000)).result);
    sv->returned_ns = now_ns();
    return 0;
  });
  kill_and_check(*sv, layout<SpscLayout>(a->region)->data, {v}, s);
  ShmSpscChannel::detach(*a);
  ShmSpscChannel::destroy(*a);
}

TEST_F(ShmPeerDeath, SpscSenderBlockedOnFullRingSeesKilledReceiver) {
  SharedBlock<Survivor> sv;
  harness::Barrier start(2);
  auto a = ShmSpscChannel::prepare(Config{64, 2, 1, 1});
  ASSERT_TRUE(a);
  const pid_t v = victim(start, [&] { return ShmSpscChannel::connect_receiver(*a); });
  const pid_t s = harness::spawn([&] {
    auto tx = ShmSpscChannel::connect_sender(*a);
    if (!start.arrive_and_wait(Clock::now() + kMeetWithin))
      return int{kBarrier};
    if (!tx)
      return int{kConnect};
    std::vector<std::byte> msg(64);
    while (tx->try_send(msg).ok()) {
    }
    sv->result = static_cast<int>(tx->send(msg, after_ms(60000)).result);
    sv->returned_ns = now_ns();
    return 0;
  });
  kill_and_check(*sv, layout<SpscLayout>(a->region)->space, {v}, s);
  ShmSpscChannel::detach(*a);
  ShmSpscChannel::destroy(*a);
}

TEST_F(ShmPeerDeath, MpmcReceiverBlockedOnEmptyQueueSeesAllSendersKilled) {
  SharedBlock<Survivor> sv;
  harness::Barrier start(3);
  auto a = ShmMpmcChannel::prepare(Config{0, 0, 2, 1});
  ASSERT_TRUE(a);
  const pid_t v1 = victim(start, [&] { return ShmMpmcChannel::connect_sender(*a); });
  const pid_t v2 = victim(start, [&] { return ShmMpmcChannel::connect_sender(*a); });
  const pid_t s = harness::spawn([&] {
    auto rx = ShmMpmcChannel::connect_receiver(*a);
    if (!start.arrive_and_wait(Clock::now() + kMeetWithin))
      return int{kBarrier};
    if (!rx)
      return int{kConnect};
    std::vector<std::byte> buf(ShmMpmcChannel::kMaxMessage);
    sv->result = static_cast<int>(rx->recv(buf, after_ms(60000)).result);
    sv->returned_ns = now_ns();
    return 0;
  });
  kill_and_check(*sv, layout<MpmcLayout>(a->region)->data, {v1, v2}, s);
  ShmMpmcChannel::detach(*a);
  ShmMpmcChannel::destroy(*a);
}

TEST_F(ShmPeerDeath, MpmcSenderBlockedOnFullQueueSeesReceiverKilled) {
  SharedBlock<Survivor> sv;
  harness::Barrier start(2);
  auto a = ShmMpmcChannel::prepare(Config{16, 2, 1, 1});
  ASSERT_TRUE(a);
  const pid_t v = victim(start, [&] { return ShmMpmcChannel::connect_receiver(*a); });
  const pid_t s = harness::spawn([&] {
    auto tx = ShmMpmcChannel::connect_sender(*a);
    if (!start.arrive_and_wait(Clock::now() + kMeetWithin))
      return int{kBarrier};
    if (!tx)
      return int{kConnect};
    std::vector<std::byte> msg(16);
    while (tx->try_send(msg).ok()) {
    }
    sv->result = static_cast<int>(tx->send(msg, after_ms(60000)).result);
    sv->returned_ns = now_ns();
    return 0;
  });
  kill_and_check(*sv, layout<MpmcLayout>(a->region)->space, {v}, s);
  ShmMpmcChannel::detach(*a);
  ShmMpmcChannel::destroy(*a);
}

TEST_F(ShmPeerDeath, MpmcReceiverStuckBehindSlotOfKilledSenderReturnsPeerGone) {
  // A sender killed between claiming a slot and publishing it leaves the head slot claimed
  // for ever; a later sender's message sits behind it. The receiver must not wait for ever.
  harness::Barrier start(2);
  auto a = ShmMpmcChannel::prepare(Config{16, 4, 2, 1});
  ASSERT_TRUE(a);
  const pid_t v = victim(start, [&] { return ShmMpmcChannel::connect_sender(*a); });
  const bool met = start.arrive_and_wait(Clock::now() + kMeetWithin);
  ::kill(v, SIGKILL);
  expect_killed(harness::reap({v}, Clock::now() + kReapWithin).front());
  if (!met) {
    ShmMpmcChannel::detach(*a);
    ShmMpmcChannel::destroy(*a);
    FAIL() << "the victim never reached the start barrier";
  }
  layout<MpmcLayout>(a->region)->queue.enqueue.fetch_add(1); // the dead sender's claim
  {
    auto tx = ShmMpmcChannel::connect_sender(*a);
    auto rx = ShmMpmcChannel::connect_receiver(*a);
    ASSERT_TRUE(tx && rx);
    std::vector<std::byte> buf(16);
    EXPECT_EQ(rx->try_recv(buf).result, Result::empty); // nothing published: empty is honest
    ASSERT_TRUE(tx->try_send(std::span(buf).first(8)).ok());
    // A later message is published behind the claimed slot: empty would not be linearizable.
    EXPECT_EQ(rx->try_recv(buf).result, Result::timeout);
    const auto t0 = Clock::now();
    EXPECT_EQ(rx->recv(buf, after_ms(60000)).result, Result::peer_gone);
    EXPECT_LT(Clock::now() - t0, kNoticeWithin);
  }
  ShmMpmcChannel::detach(*a);
  ShmMpmcChannel::destroy(*a);
}

TEST_F(ShmPeerDeath, RegisterReaderWaitingForFirstWriteSeesKilledWriter) {
  SharedBlock<Survivor> sv;
  harness::Barrier start(2);
  auto a = ShmRegisterChannel::prepare(Config{});
  ASSERT_TRUE(a);
  const pid_t v = victim(start, [&] { return ShmRegisterChannel::connect_sender(*a); });
  const pid_t s = harness::spawn([&] {
    auto rx = ShmRegisterChannel::connect_receiver(*a);
    if (!start.arrive_and_wait(Clock::now() + kMeetWithin))
      return int{kBarrier};
    if (!rx)
      return int{kConnect};
    std::vector<std::byte> buf(ShmRegisterChannel::kMaxMessage);
    sv->result = static_cast<int>(rx->recv(buf, after_ms(60000)).result);
    sv->returned_ns = now_ns();
    return 0;
  });
  kill_and_check(*sv, layout<RegisterLayout>(a->region)->written, {v}, s);
  ShmRegisterChannel::detach(*a);
  ShmRegisterChannel::destroy(*a);
}

} // namespace
} // namespace ipcv::shm
