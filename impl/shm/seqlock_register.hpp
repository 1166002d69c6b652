// A latest-value register in shared memory: one writer, any number of readers, a seqlock in
// its latch form (two copies, as the Linux kernel's seqcount_latch), so a reader is never
// torn and never waits for a writer that is mid-write or died there.
//
// The sequence counts half-writes. Write number v (v = 1, 2, ...) sets seq to 2v-1 (readers
// now use copy 1, which holds v-1), rewrites copy 0, sets seq to 2v (readers now use copy 0,
// which holds v), then rewrites copy 1. A reader reads seq, copies copy[seq & 1] out word by
// word, and re-reads seq: unchanged means the copy was not touched meanwhile (the writer only
// ever rewrites the copy that seq steers readers away from). The version read is seq / 2
// (rounded down); version 0 is "never written". Each read linearizes at its first load of seq,
// each write at its store of 2v, so the register is linearizable and reads never go back.
//
// The sequence and copies are untrusted: lengths are checked against the maximum, a sequence
// that goes back below what this reader already returned is an error, and retries are bounded.
#pragma once

#include "annotate.hpp"
#include "ipcverify/channel.hpp"
#include "ipcverify/perturb.hpp"
#include "region.hpp"

#include <atomic>
#include <cstring>

namespace ipcv::shm {

/// The register's shared sequence, on its own cache line.
struct RegisterControl {
  alignas(kCacheLine) std::atomic<std::uint64_t> seq{0};
};

/// A RegisterCopy heads each of the two copies; the value's bytes follow, 8-aligned.
struct RegisterCopy {
  std::atomic<std::uint32_t> length{0};
  std::uint32_t reserved = 0;
};

/// Bytes between the two copies for values of at most `max` bytes.
constexpr std::uint64_t copy_stride(std::uint64_t max) {
  return align_up(sizeof(RegisterCopy) + max, kCacheLine);
}

namespace detail {
inline std::uint64_t *words_of(RegisterCopy *c) noexcept {
  return std::launder(reinterpret_cast<std::uint64_t *>(c + 1));
}

/// Leaves the sequence and both copies out of race checking (a Valgrind build only). Readers
/// copy a value out while the writer may be rewriting it, by design: the re-read of seq after
/// the copy discards a torn value, so those races are the seqlock working, not bugs. Every such
/// access is atomic (std::atomic_ref, relaxed), and ThreadSanitizer still checks them as such.
inline void leave_unchecked([[maybe_unused]] RegisterControl *c, [[maybe_unused]] std::byte *copies,
                            [[maybe_unused]] std::uint32_t max) noexcept {
  IPCV_UNCHECKED(c, sizeof *c);
  IPCV_UNCHECKED(copies, 2 * copy_stride(max));
}
} // namespace detail

/// RegisterWriter is the register's only writer; it owns the sequence.
class RegisterWriter {
public:
  RegisterWriter() = default;
  RegisterWriter(RegisterControl *c, std::byte *copies, std::uint32_t max)
      : c_(c), copies_(copies), max_(max) {
    detail::leave_unchecked(c, copies, max);
    seq_ = c->seq.load(std::memory_order_relaxed) & ~std::uint64_t{1};
  }

  /// Replaces the value with `msg`: ok or too_large. Never waits.
  Status write(std::span<const std::byte> msg) noexcept {
    if (msg.size() > max_)
      return Result::too_large;
    for (unsigned half = 0; half < 2; ++half) {
      ++seq_;
      // SYNC POINT WRITE: register copy
      // Release: a reader steered to copy (seq & 1) by this store sees that copy complete.
      // The fence after it keeps the copy rewritten next from moving above the store, so a
      // reader still reading that copy sees seq change and retries instead of keeping a torn
      // value.
      IPCV_HAPPENS_BEFORE(&c_->seq);
      c_->seq.store(seq_, std::memory_order_release);
      std::atomic_thread_fence(std::memory_order_release);
      IPCV_PERTURB_POINT(half == 0 ? "shm.register.first_half" : "shm.register.second_half");
      put(copy(half), msg);
    }
    return Result::ok;
  }

private:
  RegisterCopy *copy(unsigned i) const noexcept {
    return std::launder(reinterpret_cast<RegisterCopy *>(copies_ + i * copy_stride(max_)));
  }
  static void put(RegisterCopy *c, std::span<const std::byte> msg) noexcept {
    std::uint64_t *w = detail::words_of(c);
    const std::size_t n = msg.size();
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t v = 0;
      std::memcpy(&v, msg.data() + i, n - i < 8 ? n - i : 8);
      std::atomic_ref<std::uint64_t>(w[i / 8]).store(v, std::memory_order_relaxed);
    }
    c->length.store(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
  }

  RegisterControl *c_ = nullptr;
  std::byte *copies_ = nullptr;
  std::uint32_t max_ = 0;
  std::uint64_t seq_ = 0; // the truth about the sequence; the region holds a copy
};

/// A RegisterRead is one read: its result, the value's size and its version (0: none yet).
struct RegisterRead {
  Status status;
  std::size_t size = 0;
  std::uint64_t version = 0;
};

/// RegisterReader reads the latest value; it remembers the newest version it returned.
class RegisterReader {
public:
  static constexpr int kTries = 64;

  RegisterReader() = default;
  RegisterReader(RegisterControl *c, std::byte *copies, std::uint32_t max)
      : c_(c), copies_(copies), max_(max) {
    detail::leave_unchecked(c, copies, max);
  }

  /// Copies the latest value into `buf`: ok, empty (never written), too_large (the value is
  /// larger than `buf`), timeout (the writer kept changing it: no effect), or error.
  RegisterRead read(std::span<std::byte> buf) noexcept {
    for (int t = 0; t < kTries; ++t) {
      // SYNC POINT READ: register copy
      // Pairs with the writer's release of seq: the copy it selects is complete.
      const std::uint64_t s1 = c_->seq.load(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&c_->seq);
      if ((s1 >> 1) < last_)
        return {Status{Result::error, EPROTO, "shm register: version went back"}};
      if (s1 <= 1)
        return {Status{Result::empty}}; // no write has finished
      IPCV_PERTURB_POINT("shm.register.read");
      RegisterCopy *c = copy(s1 & 1);
      const std::uint32_t len = c->length.load(std::memory_order_relaxed);
      bool copied = false;
      if (len <= max_ && len <= buf.size()) {
        get(c, buf.first(len));
        copied = true;
      }
      // SYNC POINT READ: register copy (re-check)
      // Without the acquire fence the re-read of seq could move above the copying: a copy
      // rewritten during it would pass the check torn.
      std::atomic_thread_fence(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&c_->seq);
      if (c_->seq.load(std::memory_order_relaxed) != s1)
        continue; // rewritten meanwhile
      if (len > max_)
        return {Status{Result::error, EPROTO, "shm register: length over the maximum"}};
      last_ = s1 >> 1;
      if (!copied)
        return {Status{Result::too_large}, 0, last_};
      return {Status{Result::ok}, len, last_};
    }
    return {Status{Result::timeout}};
  }

  /// The newest version this reader returned (0: none).
  std::uint64_t last_version() const noexcept { return last_; }

private:
  RegisterCopy *copy(std::uint64_t i) const noexcept {
    return std::launder(reinterpret_cast<RegisterCopy *>(copies_ + i * copy_stride(max_)));
  }
  static void get(RegisterCopy *c, std::span<std::byte> out) noexcept {
    std::uint64_t *w = detail::words_of(c);
    const std::size_t n = out.size();
    for (std::size_t i = 0; i < n; i += 8) {
      const std::uint64_t v =
          std::atomic_ref<std::uint64_t>(w[i / 8]).load(std::memory_order_relaxed);
      std::memcpy(out.data() + i, &v, n - i < 8 ? n - i : 8);
    }
  }

  RegisterControl *c_ = nullptr;
  std::byte *copies_ = nullptr;
  std::uint32_t max_ = 0;
  std::uint64_t last_ = 0;
};

} // namespace ipcv::shm
