// Verifies the shm channels in thread mode: the same exchanges as the process tests but on
// threads of one process, so that ThreadSanitizer (a build with IPCV_SANITIZER=thread) sees
// every release/acquire pair of the rings, the queue and the register.
#include "shm_testing.hpp"

#include <thread>

namespace ipcv::shm {
namespace {

using namespace ipcv::shm::testing;

/// Senders and receivers on threads; `poll` uses try_ calls only (plus a blocking call with a
/// past deadline to see eof), so all synchronisation must come from the channel's indices and
/// sequences rather than from the futex words.
template <class C>
void exchange_on_threads(Config cfg, std::uint64_t n, std::size_t hi, bool poll) {
  auto a = C::prepare(cfg);
  ASSERT_TRUE(a);
  std::vector<typename C::Sender> tx;
  std::vector<typename C::Receiver> rx;
  for (unsigned i = 0; i < cfg.senders; ++i)
    tx.push_back(std::move(*C::connect_sender(*a)));
  for (unsigned i = 0; i < cfg.receivers; ++i)
    rx.push_back(std::move(*C::connect_receiver(*a)));
  C::detach(*a);
  std::atomic<std::uint64_t> received{0}, bad{0};
  std::vector<std::thread> ts;
  for (std::uint32_t p = 0; p < cfg.senders; ++p)
    ts.emplace_back([&, p] {
      std::vector<std::byte> buf(hi);
      for (std::uint64_t s = 0; s < n; ++s) {
        auto m = std::span(buf).first(size_for(s, kIdBytes, hi));
        fill(m, p, s);
        Status st;
        if (poll) {
          while ((st = tx[p].try_send(m)).result == Result::full || st.result == Result::timeout)
            std::this_thread::yield();
        } else {
          st = tx[p].send(m, after_ms(60000));
        }
        if (!st.ok())
          bad.fetch_add(1);
      }
      tx[p].close();
    });
  for (auto &r : rx)
    ts.emplace_back([&] {
      std::vector<std::byte> buf(hi);
      for (;;) {
        RecvStatus st = poll ? r.try_recv(buf) : r.recv(buf, after_ms(60000));
        if (st.result == Result::empty || st.result == Result::timeout) {
          st = r.recv(buf, Clock::now()); // past deadline: looks at the peers once
          if (st.result == Result::timeout)
            continue;
        }
        if (st.result == Result::eof)
          break;
        if (!st.ok()) {
          bad.fetch_add(1);
          break;
        }
        auto m = std::span(buf).first(st.size);
        const auto [p, s] = id_of(m);
        if (!intact(m, p, s) || m.size() != size_for(s, kIdBytes, hi))
          bad.fetch_add(1);
        received.fetch_add(1);
      }
    });
  for (auto &t : ts)
    t.join();
  tx.clear();
  rx.clear();
  C::destroy(*a);
  EXPECT_EQ(bad.load(), 0u);
  if (C::claims().promises("no-loss")) {
    EXPECT_EQ(received.load(), n * cfg.senders);
  }
}

TEST(ShmThreads, SpscDeliversEveryMessageIntact) {
  exchange_on_threads<ShmSpscChannel>(Config{512, 3, 1, 1}, 5000, 512, false);
}

TEST(ShmThreads, SpscDeliversEveryMessageIntactWhenPolling) {
  exchange_on_threads<ShmSpscChannel>(Config{512, 3, 1, 1}, 5000, 512, true);
}

TEST(ShmThreads, MpmcDeliversEveryMessageIntact) {
  exchange_on_threads<ShmMpmcChannel>(Config{128, 4, 2, 2}, 3000, 128, false);
}

TEST(ShmThreads, MpmcDeliversEveryMessageIntactWhenPolling) {
  exchange_on_threads<ShmMpmcChannel>(Config{128, 4, 2, 2}, 3000, 128, true);
}

TEST(ShmThreads, RegisterReadsAreNeverTorn) {
  exchange_on_threads<ShmRegisterChannel>(Config{256, 0, 1, 2}, 5000, 256, false);
}

TEST(ShmThreads, RegisterReadsAreNeverTornWhenPolling) {
  exchange_on_threads<ShmRegisterChannel>(Config{256, 0, 1, 2}, 5000, 256, true);
}

} // namespace
} // namespace ipcv::shm
