// Implementation of the faulty fixtures (locked_queue.hpp). The correct protocol is the plain
// one: every state change under a robust process-shared mutex, and a sequence word per
// direction that is bumped under the lock and waited on with FUTEX_WAIT after sampling it
// under the lock. Each Fault departs from it in exactly one place, marked BUG.
#include "locked_queue.hpp"
#include "../futex.hpp"
#include "../shm/annotate.hpp"
#include "ipcverify/perturb.hpp"

#include <cerrno>
#include <cstring>
#include <new>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

namespace ipcv::faulty {

constexpr std::size_t kSlotBytes = 512;
constexpr std::uint32_t kCapacity = 8;

struct QueueShared {
  pthread_mutex_t mu;
  std::atomic<std::uint32_t> items_seq; // bumped when a message is added (receivers wait)
  std::atomic<std::uint32_t> space_seq; // bumped when a message is removed (senders wait)
  std::uint32_t head, count, sent;
  std::uint16_t seq16; // faulty-wrap's sequence number
  std::uint32_t senders, senders_closed, receivers, receivers_closed;
  struct Slot {
    std::uint32_t len;
    std::byte bytes[kSlotBytes];
  } slots[kCapacity];
};

namespace {

void lock(QueueShared *s) {
  if (pthread_mutex_lock(&s->mu) == EOWNERDEAD)
    pthread_mutex_consistent(&s->mu);
}
void unlock(QueueShared *s) { pthread_mutex_unlock(&s->mu); }

/// Sleeps while `w` == seen, until `d`; false when `d` had passed (no sleep). Any other return
/// sends the caller back to re-check under the lock, a timed-out sleep included.
template <Fault F> bool wait(std::atomic<std::uint32_t> &w, std::uint32_t seen, Deadline d) {
  if constexpr (F == Fault::late_timeout) {
    // BUG: sleeps a whole slice and looks at the deadline only between slices.
    if (Clock::now() >= d)
      return false;
    futex::wait_for(w, seen, std::chrono::milliseconds(250));
    return true;
  }
  return futex::wait_until(w, seen, d) != futex::Wake::expired;
}

void put(QueueShared *s, std::span<const std::byte> msg, bool at_head) {
  std::uint32_t idx;
  if (at_head) {
    s->head = (s->head + kCapacity - 1) % kCapacity;
    idx = s->head;
  } else {
    idx = (s->head + s->count) % kCapacity;
  }
  s->slots[idx].len = static_cast<std::uint32_t>(msg.size());
  if (!msg.empty())
    std::memcpy(s->slots[idx].bytes, msg.data(), msg.size());
  ++s->count;
}

} // namespace

template <Fault F> Claims LockedQueue<F>::claims() {
  Claims c;
  c.max_message = kSlotBytes;
  c.capacity = kCapacity;
  c.max_senders = Claims::kMany;
  c.max_receivers = Claims::kMany;
  c.specs = spec_names(kQueueSpecs);
  if constexpr (F == Fault::deaf) {
    // BUG: claims what it does not do; nothing here ever looks at a peer's process.
    c.specs.emplace_back("crash-safety");
    c.peer_notice = std::chrono::milliseconds(10);
  }
  c.notes = "deliberately broken fixture (see impl/faulty/locked_queue.hpp)";
  return c;
}

template <Fault F>
Expected<typename LockedQueue<F>::Address> LockedQueue<F>::prepare(const Config &cfg) {
  void *p = ::mmap(nullptr, sizeof(QueueShared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED)
    return Status::from_errno("mmap");
  auto *s = new (p) QueueShared{};
  // Atomic words only, also read by the kernel's futex calls outside the lock (Helgrind and
  // DRD; the rest of the block stays checked, ordered by the mutex).
  IPCV_UNCHECKED(&s->items_seq, sizeof s->items_seq);
  IPCV_UNCHECKED(&s->space_seq, sizeof s->space_seq);
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->mu, &at);
  pthread_mutexattr_destroy(&at);
  s->senders = cfg.senders;
  s->receivers = cfg.receivers;
  return Address{s};
}

template <Fault F> void LockedQueue<F>::destroy(const Address &a) noexcept {
  if (a.shared == nullptr)
    return;
  pthread_mutex_destroy(&a.shared->mu);
  ::munmap(a.shared, sizeof(QueueShared));
}

template <Fault F>
Status LockedQueue<F>::Sender::send(std::span<const std::byte> msg, Deadline d) noexcept {
  if (s_ == nullptr)
    return {Result::error, EBADF, "sender is closed"};
  if (msg.size() > kSlotBytes)
    return Result::too_large;
  for (;;) {
    lock(s_);
    if (s_->receivers_closed >= s_->receivers) {
      unlock(s_);
      return Result::peer_gone;
    }
    if (s_->count < kCapacity) {
      const std::uint32_t n = s_->sent++;
      if constexpr (F == Fault::corrupt) {
        // BUG: the slot is published (count, wake-up) before its payload is copied, outside
        // the lock: a receiver can take it half-written.
        const std::uint32_t idx = (s_->head + s_->count) % kCapacity;
        auto &slot = s_->slots[idx];
        slot.len = static_cast<std::uint32_t>(msg.size());
        ++s_->count;
        s_->items_seq.fetch_add(1);
        unlock(s_);
        futex::wake_all(s_->items_seq);
        const std::size_t half = msg.size() / 2;
        std::memcpy(slot.bytes, msg.data(), half);
        IPCV_PERTURB_POINT("faulty.corrupt.half_copied");
        ::sched_yield();
        std::memcpy(slot.bytes + half, msg.data() + half, msg.size() - half);
        return Result::ok;
      }
      // BUG (reorder): every fourth message is put at the head.
      put(s_, msg, F == Fault::reorder && n % 4 == 3 && s_->count > 0);
      // BUG (dup): an acknowledgement "lost" at half capacity makes the send go out again.
      if (F == Fault::dup && s_->count == kCapacity / 2)
        put(s_, msg, false);
      // BUG (wrap): the message on which the 16-bit sequence wraps is dropped, reported sent.
      if (F == Fault::wrap && ++s_->seq16 == 0) {
        --s_->count; // the slot put() just filled is free again: the next message overwrites it
        unlock(s_);
        return Result::ok;
      }
      s_->items_seq.fetch_add(1);
      unlock(s_);
      futex::wake_all(s_->items_seq);
      return Result::ok;
    }
    if constexpr (F == Fault::drop) {
      // BUG: a full queue drops the message and reports success.
      ++s_->sent;
      unlock(s_);
      return Result::ok;
    }
    const std::uint32_t seen = s_->space_seq.load();
    unlock(s_);
    if (!wait<F>(s_->space_seq, seen, d))
      return d == Deadline{} ? Result::full : Result::timeout;
  }
}

template <Fault F> void LockedQueue<F>::Sender::close() noexcept {
  if (s_ == nullptr)
    return;
  lock(s_);
  ++s_->senders_closed;
  s_->items_seq.fetch_add(1);
  unlock(s_);
  futex::wake_all(s_->items_seq);
  s_ = nullptr;
}

template <Fault F>
RecvStatus LockedQueue<F>::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  if (s_ == nullptr)
    return Status{Result::error, EBADF, "receiver is closed"};
  for (;;) {
    lock(s_);
    if (s_->count > 0) {
      auto &slot = s_->slots[s_->head];
      const std::uint32_t len = slot.len > kSlotBytes ? kSlotBytes : slot.len;
      s_->head = (s_->head + 1) % kCapacity;
      --s_->count;
      s_->space_seq.fetch_add(1);
      if (len > buf.size()) {
        unlock(s_);
        futex::wake_all(s_->space_seq);
        return Status{Result::too_large};
      }
      if (len > 0)
        std::memcpy(buf.data(), slot.bytes, len);
      unlock(s_);
      futex::wake_all(s_->space_seq);
      return {Status{Result::ok}, len};
    }
    if (s_->senders_closed >= s_->senders) {
      unlock(s_);
      return Status{Result::eof};
    }
    std::uint32_t seen = s_->items_seq.load();
    unlock(s_);
    if constexpr (F == Fault::lost_wakeup) {
      // BUG: the wake-up word is sampled again after the lock is gone; a send (or the last
      // sender's close) landing in between bumps it unseen, and the receiver sleeps past it.
      IPCV_PERTURB_POINT("faulty.lost_wakeup.window");
      const timespec backoff{0, 100'000};
      ::nanosleep(&backoff, nullptr);
      seen = s_->items_seq.load();
    }
    if (!wait<F>(s_->items_seq, seen, d))
      return Status{d == Deadline{} ? Result::empty : Result::timeout};
  }
}

template <Fault F> void LockedQueue<F>::Receiver::close() noexcept {
  if (s_ == nullptr)
    return;
  lock(s_);
  ++s_->receivers_closed;
  s_->space_seq.fetch_add(1);
  unlock(s_);
  futex::wake_all(s_->space_seq);
  s_ = nullptr;
}

template struct LockedQueue<Fault::drop>;
template struct LockedQueue<Fault::reorder>;
template struct LockedQueue<Fault::dup>;
template struct LockedQueue<Fault::corrupt>;
template struct LockedQueue<Fault::lost_wakeup>;
template struct LockedQueue<Fault::late_timeout>;
template struct LockedQueue<Fault::deaf>;
template struct LockedQueue<Fault::wrap>;

} // namespace ipcv::faulty
