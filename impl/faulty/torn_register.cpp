// Implementation of `faulty-torn-register` (torn_register.hpp). Write v goes to copy v % 2 and
// is published by storing v; a reader of version v copies copy v % 2, which the writer rewrites
// at write v + 2. The correct protocol re-reads the version once the whole value is copied and
// retries when it changed; the one place this departs from it is marked BUG. Every word of a value
// is copied with a relaxed atomic access, so the torn values are the protocol's fault, not a data
// race the compiler or a sanitizer could be blamed for.
#include "torn_register.hpp"
#include "../futex.hpp"
#include "ipcverify/perturb.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace ipcv::faulty {

/// One copy of the value: its length, then its bytes as 8-byte words.
struct TornCopy {
  std::atomic<std::uint32_t> length{0};
  std::uint64_t words[TornRegister::kMaxMessage / 8] = {};
};

struct TornShared {
  std::atomic<std::uint32_t> version{0}; ///< the newest complete write; 0: none yet
  std::atomic<std::uint32_t> closed{0};  ///< 1 once the writer closed, after its last write
  std::atomic<std::uint32_t> changes{
      0};                    ///< bumped by every write and the close; readers sleep here
  std::uint32_t written = 0; ///< the writer's own count (only the writer touches it)
  TornCopy copy[2];
};

namespace {

/// Copies words [from, to) of `c` into `out` (bytes [8 from, 8 to), clipped to out's size).
void copy_out(TornCopy &c, std::span<std::byte> out, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    // Relaxed: the version's acquire (or its absence, which is the bug) orders these loads.
    const std::uint64_t v =
        std::atomic_ref<std::uint64_t>(c.words[i]).load(std::memory_order_relaxed);
    const std::size_t at = i * 8;
    std::memcpy(out.data() + at, &v, std::min<std::size_t>(8, out.size() - at));
  }
}

} // namespace

Claims TornRegister::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = 1;
  c.max_senders = 1;
  c.max_receivers = Claims::kMany;
  c.specs = {"register", "integrity"};
  c.loss = LossPolicy::drop_oldest;
  c.notes = "deliberately broken fixture (see impl/faulty/torn_register.hpp): a reader copies "
            "the value's last word after its re-check of the version, so a slow reader returns a "
            "torn value";
  return c;
}

Expected<TornRegister::Address> TornRegister::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 4 KiB"};
  if (cfg.senders > 1)
    return Status{Result::error, EINVAL, "faulty-torn-register has one writer"};
  void *p = ::mmap(nullptr, sizeof(TornShared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED)
    return Status::from_errno("mmap");
  Address a;
  a.shared = new (p) TornShared{};
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  return a;
}

void TornRegister::destroy(const Address &a) noexcept {
  if (a.shared != nullptr)
    ::munmap(a.shared, sizeof(TornShared));
}

Status TornRegister::Sender::try_send(std::span<const std::byte> msg) noexcept {
  if (s_ == nullptr)
    return {Result::error, EBADF, "writer is closed"};
  if (msg.size() > max_)
    return Result::too_large;
  const std::uint32_t v = ++s_->written;
  TornCopy &c = s_->copy[v % 2];
  for (std::size_t i = 0; i * 8 < msg.size(); ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, msg.data() + i * 8, std::min<std::size_t>(8, msg.size() - i * 8));
    // Relaxed: the release store of the version below publishes these words.
    std::atomic_ref<std::uint64_t>(c.words[i]).store(w, std::memory_order_relaxed);
  }
  c.length.store(static_cast<std::uint32_t>(msg.size()), std::memory_order_relaxed);
  // SYNC POINT WRITE: register copy
  // Release: a reader steered to this copy by the version sees it complete.
  s_->version.store(v, std::memory_order_release);
  s_->changes.fetch_add(1, std::memory_order_release);
  futex::wake_all(s_->changes);
  return Result::ok;
}

void TornRegister::Sender::close() noexcept {
  if (s_ == nullptr)
    return;
  s_->closed.store(1, std::memory_order_release);
  s_->changes.fetch_add(1, std::memory_order_release);
  futex::wake_all(s_->changes);
  s_ = nullptr;
}

RecvStatus TornRegister::Receiver::attempt(std::span<std::byte> buf) noexcept {
  for (int t = 0; t < kTries; ++t) {
    // SYNC POINT READ: register copy
    // Pairs with the writer's release of the version: the copy it selects was complete then.
    std::uint32_t v = s_->version.load(std::memory_order_acquire);
    if (v == 0 || v == returned_) {
      // The writer closes after its last write, so "closed" seen first means the version read
      // next is the final one.
      if (s_->closed.load(std::memory_order_acquire) == 0)
        return Status{Result::empty};
      v = s_->version.load(std::memory_order_acquire);
      if (v == 0 || v == returned_)
        return Status{Result::eof};
    }
    TornCopy &c = s_->copy[v % 2];
    const std::uint32_t len = c.length.load(std::memory_order_relaxed);
    if (len > kMaxMessage)
      return Status{Result::error, EPROTO, "torn register: length over the maximum"};
    if (len > buf.size())
      return Status{Result::too_large};
    const std::size_t words = (len + 7) / 8;
    const std::size_t body = words == 0 ? 0 : words - 1;
    copy_out(c, buf.first(len), 0, body);
    // SYNC POINT READ: register copy (re-check)
    // Without the acquire fence the re-read could move above the copying.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s_->version.load(std::memory_order_relaxed) != v)
      continue; // rewritten meanwhile
    IPCV_PERTURB_POINT("faulty.torn_register.last_word");
    // BUG: the value's last word is copied after the re-check, not before it. A writer that
    // wrote twice since the version was loaded has rewritten this very copy by now, and the
    // value returned ends with a word of a later one: a torn read.
    copy_out(c, buf.first(len), body, words);
    returned_ = v;
    return {Status{Result::ok}, len};
  }
  return Status{Result::timeout};
}

RecvStatus TornRegister::Receiver::try_recv(std::span<std::byte> buf) noexcept {
  if (s_ == nullptr)
    return Status{Result::error, EBADF, "reader is closed"};
  return attempt(buf);
}

RecvStatus TornRegister::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  if (s_ == nullptr)
    return Status{Result::error, EBADF, "reader is closed"};
  for (;;) {
    // Sampled before the attempt: a write or close after it changes the word, so the wait
    // below does not sleep through it.
    const std::uint32_t seen = s_->changes.load(std::memory_order_acquire);
    RecvStatus r = attempt(buf);
    if (r.result != Result::empty)
      return r;
    if (futex::wait_until(s_->changes, seen, d) == futex::Wake::expired)
      return Status{Result::timeout};
  }
}

} // namespace ipcv::faulty
