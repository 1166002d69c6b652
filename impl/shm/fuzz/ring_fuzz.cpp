// libFuzzer target: a real sender and receiver of each shm channel, in one process, with the
// fuzzer rewriting the shared control words (indices, record and slot headers, sequences,
// wait words, peer table) between their operations. Asserts that every call returns a result
// from the contract, that try_ calls return at once and blocking calls by their deadline
// (plus a second), that received sizes fit the buffer, and, until the first rewrite, that the
// channel behaves like a FIFO (or a register).
// Out-of-bounds accesses are caught by ASan (heap buffers) and the guard page after every
// mapping; hangs by libFuzzer's -timeout.
#include "impl/shm/mpmc.hpp"
#include "impl/shm/register.hpp"
#include "impl/shm/spsc.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <vector>

namespace {

using namespace ipcv;
using namespace ipcv::shm;

// A try_ call never waits; anything near this long is a loop the hostile state kept going.
constexpr auto kTryBound = std::chrono::milliseconds(100);

[[noreturn]] void fail(const char *why, const Status &s) {
  std::fprintf(stderr, "ring_fuzz: %s (%s)\n", why, s.describe().c_str());
  std::abort();
}

bool allowed(Result r) {
  switch (r) {
  case Result::ok:
  case Result::full:
  case Result::empty:
  case Result::timeout:
  case Result::eof:
  case Result::peer_gone:
  case Result::too_large:
  case Result::error:
    return true;
  }
  return false;
}

template <class C> struct Sizes;
template <> struct Sizes<ShmSpscChannel> {
  static constexpr Config cfg{96, 3, 1, 1};
  static constexpr std::uint64_t control = kRingOffset;
  static std::uint64_t data(const ShmSpscChannel::Address &a) { return a.ring_bytes; }
  static constexpr bool queue = true;
};
template <> struct Sizes<ShmMpmcChannel> {
  static constexpr Config cfg{48, 4, 1, 1};
  static constexpr std::uint64_t control = kSlotsOffset;
  static std::uint64_t data(const ShmMpmcChannel::Address &a) {
    return a.capacity * slot_stride(a.max_message);
  }
  static constexpr bool queue = true;
};
template <> struct Sizes<ShmRegisterChannel> {
  static constexpr Config cfg{48, 0, 1, 1};
  static constexpr std::uint64_t control = kCopiesOffset;
  static std::uint64_t data(const ShmRegisterChannel::Address &a) {
    return 2 * copy_stride(a.max_message);
  }
  static constexpr bool queue = false;
};

template <class C> void run(FuzzedDataProvider &in) {
  using S = Sizes<C>;
  auto a = C::prepare(S::cfg);
  if (!a)
    fail("prepare", a.status());
  {
    auto tx = C::connect_sender(*a);
    auto rx = C::connect_receiver(*a);
    if (!tx || !rx)
      fail("connect", tx ? rx.status() : tx.status());
    auto *base = static_cast<std::byte *>(a->region.base);
    const std::uint64_t data = S::data(*a);
    const std::size_t max = S::cfg.max_message;
    bool clean = true; // no rewrite yet: the model must hold
    std::deque<std::vector<std::byte>> model;
    std::optional<std::vector<std::byte>> latest;
    std::uint64_t seq = 0;
    while (in.remaining_bytes() > 0) {
      switch (in.ConsumeIntegralInRange<int>(0, 6)) {
      case 0:
      case 1: { // rewrite a control or data word
        const bool ctl = in.ConsumeBool();
        const std::uint64_t lo = ctl ? sizeof(RegionHeader) : S::control;
        const std::uint64_t n = ctl ? S::control - lo : data;
        const std::uint64_t at = lo + in.ConsumeIntegralInRange<std::uint64_t>(0, n / 4 - 1) * 4;
        const std::uint32_t v = in.ConsumeIntegral<std::uint32_t>();
        std::memcpy(base + at, &v, 4);
        clean = false;
        break;
      }
      case 2:
      case 3: { // try_send of a message whose bytes derive from its sequence number
        std::vector<std::byte> m(in.ConsumeIntegralInRange<std::size_t>(0, max + 1));
        for (std::size_t i = 0; i < m.size(); ++i)
          m[i] = std::byte(seq * 31 + i);
        ++seq;
        const auto t0 = Clock::now();
        const Status s = tx->try_send(m);
        if (!allowed(s.result))
          fail("try_send result", s);
        if (Clock::now() - t0 > kTryBound)
          fail("try_send took too long", s);
        if (clean) {
          if ((m.size() > max) != (s.result == Result::too_large))
            fail("too_large", s);
          if (s.result == Result::error)
            fail("error on clean state", s);
          if (s.ok()) {
            if (S::queue)
              model.push_back(m);
            else
              latest = m;
          }
        }
        break;
      }
      case 4:
      case 5: { // try_recv into an exactly sized heap buffer (ASan sees any overflow)
        std::vector<std::byte> buf(in.ConsumeIntegralInRange<std::size_t>(0, max));
        const auto t0 = Clock::now();
        const RecvStatus r = rx->try_recv(buf);
        if (!allowed(r.result))
          fail("try_recv result", r);
        if (Clock::now() - t0 > kTryBound)
          fail("try_recv took too long", r);
        if (r.ok() && r.size > buf.size())
          fail("size beyond buffer", r);
        if (!clean)
          break;
        const std::vector<std::byte> *want =
            S::queue ? (model.empty() ? nullptr : &model.front()) : (latest ? &*latest : nullptr);
        if (want == nullptr) {
          if (r.result != Result::empty)
            fail("expected empty", r);
          break;
        }
        if (want->size() > buf.size()) {
          if (r.result != Result::too_large)
            fail("expected too_large", r);
        } else if (!r.ok() || r.size != want->size() ||
                   (r.size != 0 && std::memcmp(buf.data(), want->data(), r.size) != 0)) {
          fail("expected the oldest message", r);
        }
        if (S::queue)
          model.pop_front();
        break;
      }
      case 6: { // a blocking call with a deadline 20 us away must come back
        const Deadline d = Clock::now() + std::chrono::microseconds(20);
        std::vector<std::byte> buf(max);
        Result r;
        if (in.ConsumeBool()) {
          r = rx->recv(buf, d).result;
          if (clean && S::queue && r == Result::ok)
            model.pop_front();
        } else {
          const Status s = tx->send(std::span(buf).first(8), d);
          r = s.result;
          if (clean && s.ok()) {
            if (S::queue)
              model.emplace_back(buf.begin(), buf.begin() + 8);
            else
              latest.emplace(buf.begin(), buf.begin() + 8);
          }
        }
        if (!allowed(r))
          fail("blocking call result", Status{r});
        if (Clock::now() - d > std::chrono::seconds(1))
          fail("blocking call overran", Status{r});
        break;
      }
      }
    }
  }
  C::detach(*a);
  C::destroy(*a);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
  case 0:
    run<ShmSpscChannel>(in);
    break;
  case 1:
    run<ShmMpmcChannel>(in);
    break;
  default:
    run<ShmRegisterChannel>(in);
    break;
  }
  return 0;
}
