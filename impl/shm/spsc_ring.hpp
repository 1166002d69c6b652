// A single-producer single-consumer ring of variable-size records in shared memory, after
// rigtorp/SPSCQueue: monotonically increasing byte indices (never wrapped; the position in the
// ring is index & (capacity - 1)), producer and consumer indices on separate cache lines, and
// each side keeping a private cached copy of the other side's index so that it touches the
// other's cache line only when the cached copy says "full" / "empty".
//
// A record is an 8-byte header {length, tag} and the payload, padded to 8 bytes. A record that
// would straddle the end of the ring is preceded by a padding record that fills the rest, and
// starts again at offset 0; since records are 8-aligned a padding header always fits.
//
// The peer is untrusted. Each side keeps its own index in private memory (the copy in the
// region is only for the other side), and validates everything it reads from the region: the
// other side's index (within one ring of its own), every header (known tag, length within the
// maximum, record inside the published bytes, padding only where it reaches the ring's end).
// A violation returns `error` with a reason; no read or write ever leaves the ring.
#pragma once

#include "annotate.hpp"
#include "ipcverify/channel.hpp"
#include "ipcverify/perturb.hpp"
#include "region.hpp"

#include <atomic>
#include <cstring>

namespace ipcv::shm {

/// The ring's shared control block: each index on its own cache line.
struct SpscControl {
  alignas(kCacheLine) std::atomic<std::uint64_t> tail{0}; ///< bytes published by the producer
  alignas(kCacheLine) std::atomic<std::uint64_t> head{0}; ///< bytes released by the consumer
};

/// A RecordHeader precedes every record in the ring.
struct RecordHeader {
  std::uint32_t length; ///< payload bytes (message) or bytes skipped after the header (padding)
  std::uint32_t tag;    ///< kRecordTag or kPaddingTag
};
inline constexpr std::uint32_t kRecordTag = 0x4d534731;  // "MSG1"
inline constexpr std::uint32_t kPaddingTag = 0x50414431; // "PAD1"
inline constexpr std::uint64_t kRecordAlign = 8;
static_assert(sizeof(RecordHeader) == kRecordAlign, "a header fills one alignment unit");

/// Bytes a record of `len` payload bytes occupies in the ring.
constexpr std::uint64_t record_bytes(std::uint64_t len) {
  return sizeof(RecordHeader) + align_up(len, kRecordAlign);
}

/// Ring bytes (a power of two) that hold at least `n` records of `max` bytes at any offset.
constexpr std::uint64_t ring_bytes_for(std::uint64_t n, std::uint64_t max) {
  // n records plus the most a wrap can waste on padding (one record less its header).
  const std::uint64_t want = (n + 1) * record_bytes(max) - kRecordAlign;
  std::uint64_t r = 64;
  while (r < want)
    r <<= 1;
  return r;
}

/// Records of `max` bytes that always fit in an empty ring of `ring` bytes, whatever the offset.
constexpr std::uint64_t records_that_fit(std::uint64_t ring, std::uint64_t max) {
  const std::uint64_t rec = record_bytes(max);
  return ring < 2 * rec ? 0 : (ring - (rec - kRecordAlign)) / rec;
}

/// SpscProducer is the sending half of the ring: it owns the tail.
class SpscProducer {
public:
  SpscProducer() = default;
  SpscProducer(SpscControl *c, std::byte *ring, std::uint64_t ring_bytes, std::uint32_t max)
      : c_(c), ring_(ring), size_(ring_bytes), max_(max) {
    IPCV_UNCHECKED(c, sizeof *c); // only atomic indices: the ring bytes are what is checked
    tail_ = c->tail.load(std::memory_order_relaxed) & ~(kRecordAlign - 1);
    head_cache_ = tail_ - size_; // "full" until the consumer index is read (modular arithmetic)
  }

  /// Appends `msg` if it fits: ok, full, too_large, or error (a corrupted consumer index).
  Status try_push(std::span<const std::byte> msg) noexcept {
    const std::uint64_t len = msg.size();
    if (len > max_)
      return Result::too_large;
    const std::uint64_t rec = record_bytes(len);
    const std::uint64_t pos = tail_ & (size_ - 1);
    const std::uint64_t contig = size_ - pos;
    const std::uint64_t need = rec <= contig ? rec : contig + rec;
    if (tail_ + need - head_cache_ > size_) {
      // SYNC POINT READ: slot released
      // Without acquire the producer could overwrite bytes the consumer is still copying out.
      const std::uint64_t head = c_->head.load(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&c_->head);
      if (head > tail_ || tail_ - head > size_)
        return {Result::error, EPROTO, "shm ring: consumer index out of range"};
      head_cache_ = head;
      if (tail_ + need - head_cache_ > size_)
        return Result::full;
    }
    IPCV_PERTURB_POINT("shm.spsc.push.room");
    if (rec > contig) {
      put_header(pos, {static_cast<std::uint32_t>(contig - sizeof(RecordHeader)), kPaddingTag});
      tail_ += contig;
    }
    const std::uint64_t at = tail_ & (size_ - 1);
    put_header(at, {static_cast<std::uint32_t>(len), kRecordTag});
    if (len != 0)
      std::memcpy(ring_ + at + sizeof(RecordHeader), msg.data(), len);
    tail_ += rec;
    IPCV_PERTURB_POINT("shm.spsc.push.written");
    // SYNC POINT WRITE: record bytes
    // Without release the consumer could see the new tail before the header and payload, and
    // copy out stale bytes (a torn or phantom message).
    IPCV_HAPPENS_BEFORE(&c_->tail);
    c_->tail.store(tail_, std::memory_order_release);
    return Result::ok;
  }

private:
  void put_header(std::uint64_t at, RecordHeader h) noexcept {
    std::memcpy(ring_ + at, &h, sizeof h);
  }

  SpscControl *c_ = nullptr;
  std::byte *ring_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint32_t max_ = 0;
  std::uint64_t tail_ = 0;       // the truth about the tail; the region holds a copy
  std::uint64_t head_cache_ = 0; // last consumer index read
};

/// SpscConsumer is the receiving half of the ring: it owns the head.
class SpscConsumer {
public:
  SpscConsumer() = default;
  SpscConsumer(SpscControl *c, std::byte *ring, std::uint64_t ring_bytes, std::uint32_t max)
      : c_(c), ring_(ring), size_(ring_bytes), max_(max) {
    IPCV_UNCHECKED(c, sizeof *c); // only atomic indices: the ring bytes are what is checked
    head_ = c->head.load(std::memory_order_relaxed) & ~(kRecordAlign - 1);
    tail_cache_ = head_;
  }

  /// Takes the oldest record into `buf`: ok (with its size), empty, too_large (the record is
  /// consumed and dropped, as the kernel channels do), or error (a corrupted producer state).
  RecvStatus try_pop(std::span<std::byte> buf) noexcept {
    for (int round = 0; round < 2; ++round) { // at most one padding record before a message
      if (head_ == tail_cache_) {
        // SYNC POINT READ: record bytes
        // Pairs with the producer's release of the tail: without acquire the header and
        // payload read below could be older than the index that says they are there.
        const std::uint64_t tail = c_->tail.load(std::memory_order_acquire);
        IPCV_HAPPENS_AFTER(&c_->tail);
        if (tail < head_ || tail - head_ > size_)
          return Status{Result::error, EPROTO, "shm ring: producer index out of range"};
        if ((tail & (kRecordAlign - 1)) != 0)
          return Status{Result::error, EPROTO, "shm ring: producer index misaligned"};
        tail_cache_ = tail;
        if (head_ == tail_cache_)
          return Status{Result::empty};
      }
      IPCV_PERTURB_POINT("shm.spsc.pop.seen");
      const std::uint64_t pos = head_ & (size_ - 1);
      const std::uint64_t contig = size_ - pos;
      const std::uint64_t avail = tail_cache_ - head_;
      RecordHeader h;
      std::memcpy(&h, ring_ + pos, sizeof h); // one copy: the peer may rewrite it meanwhile
      if (h.tag == kPaddingTag) {
        if (pos == 0 || h.length != contig - sizeof(RecordHeader) || contig > avail)
          return Status{Result::error, EPROTO, "shm ring: bad padding record"};
        head_ += contig;
        continue;
      }
      if (h.tag != kRecordTag)
        return Status{Result::error, EPROTO, "shm ring: bad record tag"};
      if (h.length > max_)
        return Status{Result::error, EPROTO, "shm ring: record length over the maximum"};
      const std::uint64_t rec = record_bytes(h.length);
      if (rec > contig || rec > avail)
        return Status{Result::error, EPROTO, "shm ring: record beyond the published bytes"};
      const bool fits = h.length <= buf.size();
      if (fits && h.length != 0)
        std::memcpy(buf.data(), ring_ + pos + sizeof(RecordHeader), h.length);
      head_ += rec;
      release();
      if (!fits)
        return Status{Result::too_large};
      return {Status{Result::ok}, h.length};
    }
    return Status{Result::error, EPROTO, "shm ring: padding follows padding"};
  }

private:
  void release() noexcept {
    IPCV_PERTURB_POINT("shm.spsc.pop.copied");
    // SYNC POINT WRITE: slot released
    // Without release the producer could see the new head and overwrite the record while
    // this consumer is still copying it out.
    IPCV_HAPPENS_BEFORE(&c_->head);
    c_->head.store(head_, std::memory_order_release);
  }

  SpscControl *c_ = nullptr;
  std::byte *ring_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint32_t max_ = 0;
  std::uint64_t head_ = 0;       // the truth about the head; the region holds a copy
  std::uint64_t tail_cache_ = 0; // last producer index read
};

} // namespace ipcv::shm
