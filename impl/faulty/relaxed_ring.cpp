// Implementation of faulty-relaxed-publish (relaxed_ring.hpp). Everything is the plain ring
// of one producer and one consumer; the two marked BUG are the whole fixture. Blocking calls
// poll with a yield until their deadline: the fixture is about publication, not wake-ups.
#include "relaxed_ring.hpp"

#include <cstring>
#include <new>
#include <sched.h>
#include <sys/mman.h>

namespace ipcv::faulty {

struct RelaxedShared {
  std::atomic<std::uint64_t> head{0}; ///< slots the consumer released
  std::atomic<std::uint64_t> tail{0}; ///< slots the producer published
  std::atomic<std::uint32_t> sender_closed{0};
  std::atomic<std::uint32_t> receiver_closed{0};
  struct Slot {
    std::uint32_t len;
    std::byte bytes[RelaxedRing::kSlotBytes];
  } slots[RelaxedRing::kSlots];
};

Claims RelaxedRing::claims() {
  Claims c;
  c.max_message = kSlotBytes;
  c.capacity = kSlots;
  // Not linearizable even on x86: a relaxed tail can wait in the store buffer after send
  // returned (a try_recv then answers empty). Everything else holds there.
  c.specs = spec_names(kQueueSpecs);
  std::erase(c.specs, "linearizable");
  c.notes = "deliberately broken fixture (see impl/faulty/relaxed_ring.hpp): relaxed "
            "publication, a data race only a TSan build in thread mode sees";
  return c;
}

Expected<RelaxedRing::Address> RelaxedRing::prepare(const Config &cfg) {
  if (cfg.senders > 1 || cfg.receivers > 1)
    return Status{Result::error, EINVAL, "one sender and one receiver"};
  void *p = ::mmap(nullptr, sizeof(RelaxedShared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return Status::from_errno("mmap");
  return Address{new (p) RelaxedShared{}};
}

void RelaxedRing::destroy(const Address &a) noexcept {
  if (a.shared != nullptr)
    ::munmap(a.shared, sizeof(RelaxedShared));
}

Status RelaxedRing::Sender::try_send(std::span<const std::byte> msg) noexcept {
  if (s_ == nullptr)
    return {Result::error, EBADF, "sender is closed"};
  if (msg.size() > kSlotBytes)
    return Result::too_large;
  if (s_->receiver_closed.load(std::memory_order_acquire) != 0)
    return Result::peer_gone;
  // Relaxed is enough here: only this producer writes the tail.
  const std::uint64_t tail = s_->tail.load(std::memory_order_relaxed);
  if (tail - s_->head.load(std::memory_order_acquire) == kSlots)
    return Result::full;
  auto &slot = s_->slots[tail % kSlots];
  slot.len = static_cast<std::uint32_t>(msg.size());
  if (!msg.empty())
    std::memcpy(slot.bytes, msg.data(), msg.size());
  // BUG: the publication is relaxed; a compiler fence keeps the stores in order on x86, which
  // is why every run passes there, but nothing orders them for the consumer's thread.
  std::atomic_signal_fence(std::memory_order_release);
  s_->tail.store(tail + 1, std::memory_order_relaxed);
  return Result::ok;
}

Status RelaxedRing::Sender::send(std::span<const std::byte> msg, Deadline d) noexcept {
  for (;;) {
    const Status s = try_send(msg);
    if (s.result != Result::full)
      return s;
    if (Clock::now() >= d)
      return Result::timeout;
    ::sched_yield();
  }
}

void RelaxedRing::Sender::close() noexcept {
  if (s_ != nullptr)
    std::exchange(s_, nullptr)->sender_closed.store(1, std::memory_order_release);
}

RecvStatus RelaxedRing::Receiver::try_recv(std::span<std::byte> buf) noexcept {
  if (s_ == nullptr)
    return Status{Result::error, EBADF, "receiver is closed"};
  const bool closed = s_->sender_closed.load(std::memory_order_acquire) != 0;
  // Relaxed is enough here: only this consumer writes the head.
  const std::uint64_t head = s_->head.load(std::memory_order_relaxed);
  // BUG: the matching load is relaxed as well: nothing makes the payload visible.
  if (s_->tail.load(std::memory_order_relaxed) == head)
    return Status{closed ? Result::eof : Result::empty};
  auto &slot = s_->slots[head % kSlots];
  const std::uint32_t len = slot.len > kSlotBytes ? kSlotBytes : slot.len;
  const bool fits = len <= buf.size();
  if (fits && len != 0)
    std::memcpy(buf.data(), slot.bytes, len);
  s_->head.store(head + 1, std::memory_order_release);
  return fits ? RecvStatus{Status{Result::ok}, len} : RecvStatus{Status{Result::too_large}};
}

RecvStatus RelaxedRing::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  for (;;) {
    const RecvStatus s = try_recv(buf);
    if (s.result != Result::empty)
      return s;
    if (Clock::now() >= d)
      return Status{Result::timeout};
    ::sched_yield();
  }
}

void RelaxedRing::Receiver::close() noexcept {
  if (s_ != nullptr)
    std::exchange(s_, nullptr)->receiver_closed.store(1, std::memory_order_release);
}

} // namespace ipcv::faulty
