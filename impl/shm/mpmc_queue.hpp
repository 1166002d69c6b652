// A bounded multi-producer multi-consumer queue of fixed-size slots in shared memory, after
// Dmitry Vyukov's bounded MPMC queue: each slot carries a sequence number that says whose turn
// it is. For slot i of position p (i = p mod capacity): seq == p means free for the producer
// of p; seq == p + 1 means holding the message of p; seq == p + capacity means released by the
// consumer of p (free for the producer of p + capacity). Producers and consumers claim
// positions by CAS on two indices, each on its own cache line.
//
// Linearizability of `empty` and `full`. The textbook queue answers try_pop with "empty" as
// soon as the slot at the dequeue index is not yet published, even when its producer has
// claimed it and a later producer has already published and returned: no moment of that call
// saw an empty queue. Here try_pop returns `empty` only when the enqueue index equals the
// dequeue index it read (nothing claimed: empty at that instant), or when the slot is claimed
// but no later slot was published by the time it looked (then every unpublished send can be
// linearized after this call). Otherwise, after a short bounded spin, it returns `timeout`:
// the call took no effect. try_push answers `full` by the mirror rule on released slots.
//
// The indices and slots are untrusted: every sequence is checked against the only values the
// protocol allows, the indices against each other (enqueue - dequeue <= capacity), lengths
// against the maximum; loops are bounded. A violation returns `error` with a reason. Each check
// rests on happens-before edges of the C++ memory model, not on the hardware: the indices move
// by acq_rel CAS and are read by acquire, so whoever reads an index sees at least what every
// earlier claimant saw of the slots (the CASes on one index form one release sequence).
#pragma once

#include "annotate.hpp"
#include "ipcverify/channel.hpp"
#include "ipcverify/perturb.hpp"
#include "region.hpp"
#include "wait.hpp"

#include <atomic>
#include <cstring>

namespace ipcv::shm {

/// The queue's shared indices, each on its own cache line.
struct MpmcControl {
  alignas(kCacheLine) std::atomic<std::uint64_t> enqueue{0};
  alignas(kCacheLine) std::atomic<std::uint64_t> dequeue{0};
};

/// A SlotHeader starts every slot; the payload follows it.
struct SlotHeader {
  std::atomic<std::uint64_t> seq{0};
  std::atomic<std::uint32_t> length{0};
  std::uint32_t reserved = 0;
};

/// Bytes between consecutive slots for messages of at most `max` bytes.
constexpr std::uint64_t slot_stride(std::uint64_t max) {
  return align_up(sizeof(SlotHeader) + max, kCacheLine);
}

/// MpmcQueue is a view of the queue in a mapping; it holds no state of its own, so any number
/// of producers and consumers use copies of it.
class MpmcQueue {
public:
  static constexpr int kMaxRetries = 1 << 16; // CAS losses in a row before declaring livelock
  static constexpr int kSettleSpins = 256;    // re-reads of a slot that is changing hands

  MpmcQueue() = default;
  MpmcQueue(MpmcControl *c, std::byte *slots, std::uint64_t capacity, std::uint32_t max)
      : c_(c), slots_(slots), cap_(capacity), stride_(slot_stride(max)), max_(max) {
    // Only the atomic words go unchecked: the indices and each slot's sequence. The length and
    // payload, handed over by the sequence, stay checked.
    IPCV_UNCHECKED(c, sizeof *c);
    for (std::uint64_t i = 0; i < cap_; ++i)
      IPCV_UNCHECKED(&slot(i)->seq, sizeof slot(i)->seq);
  }

  /// Sets every slot free for the first lap; the parent calls it once in prepare.
  void init() noexcept {
    for (std::uint64_t i = 0; i < cap_; ++i)
      new (slot(i)) SlotHeader{};
    // Relaxed is enough since publish_header's release store of the region follows init.
    for (std::uint64_t i = 0; i < cap_; ++i)
      slot(i)->seq.store(i, std::memory_order_relaxed);
  }

  /// Appends `msg`: ok, full, timeout (a consumer was mid-release: no effect), too_large, error.
  Status try_push(std::span<const std::byte> msg) noexcept {
    if (msg.size() > max_)
      return Result::too_large;
    // Case analysis of the slot of pos, its sequence seq read by acquire, d = seq - pos:
    // (1) d == 0: the slot is free for pos: claim pos by CAS; a lost CAS reloads pos and retries.
    // (2) d > 0: pos was claimed. Whoever wrote seq did so after a CAS moved enqueue past pos,
    //     and our acquire of seq makes that CAS happen before the reload of enqueue, which by
    //     write-read coherence reads more than pos. A reload that still reads pos: forged.
    // (3) d < 0: the previous lap's message is still there (full_or_busy). pos was read by
    //     acquire from the release sequence of every earlier CAS on enqueue, so the claim of
    //     pos - capacity, and the acquire of this slot freed that came before it, happen before
    //     our read of seq: it is pos - capacity or later. Only pos - capacity and pos - capacity
    //     + 1 are then honest; anything else was forged.
    // SYNC POINT READ: enqueue index (also at every reload below, and the CAS's acquire)
    // Without acquire the sequence read next could predate the release that freed the slot for
    // the claim of pos - capacity, and an honest queue would fail the range check of case (3).
    std::uint64_t pos = c_->enqueue.load(std::memory_order_acquire);
    for (int i = 0; i < kMaxRetries; ++i) {
      SlotHeader *s = slot(pos);
      // SYNC POINT READ: slot released
      // Without acquire the producer could write the payload while the previous lap's
      // consumer is still copying it out.
      const std::uint64_t seq = s->seq.load(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&s->seq);
      const auto dif = static_cast<std::int64_t>(seq - pos);
      if (dif == 0) { // case (1)
        // SYNC POINT WRITE: enqueue index
        // Without release the producer that later reads pos + capacity could see this slot's
        // sequence from before the release acquired above (out of range), and a consumer that
        // reads pos + 1 could reload dequeue from before it (indices more than a lap apart).
        // (No Valgrind annotation: the pair orders atomic words only; the payload goes by seq.)
        if (c_->enqueue.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
          IPCV_PERTURB_POINT("shm.mpmc.push.claimed");
          // Relaxed is enough since the release of seq below publishes it with the payload.
          s->length.store(static_cast<std::uint32_t>(msg.size()), std::memory_order_relaxed);
          if (!msg.empty())
            std::memcpy(payload(s), msg.data(), msg.size());
          // SYNC POINT WRITE: slot payload
          // Without release a consumer could see seq == pos + 1 and read the length and
          // payload from before this write (a torn or phantom message).
          IPCV_HAPPENS_BEFORE(&s->seq);
          s->seq.store(pos + 1, std::memory_order_release);
          return Result::ok;
        }
        continue; // pos now holds the current index, read by acquire
      }
      if (dif > 0) { // case (2)
        const std::uint64_t now = c_->enqueue.load(std::memory_order_acquire);
        if (now == pos)
          return {Result::error, EPROTO, "shm queue: slot sequence ahead of index"};
        pos = now;
        continue;
      }
      Status st = full_or_busy(pos, seq); // case (3)
      if (st.result != Result::ok)
        return st;
      pos = c_->enqueue.load(std::memory_order_acquire); // the slot turned free: try again
    }
    return {Result::error, EPROTO, "shm queue: enqueue index never settles"};
  }

  /// Takes the oldest message into `buf`: ok, empty, timeout (a producer was mid-publish: no
  /// effect), too_large (the message is consumed and dropped), error.
  RecvStatus try_pop(std::span<std::byte> buf) noexcept {
    // Case analysis of the slot of pos, its sequence seq read by acquire, d = seq - (pos + 1):
    // (1) d == 0: the message of pos is published: claim it by CAS; a lost CAS reloads pos.
    // (2) d > 0: pos was taken. Whoever wrote seq did so after a CAS moved dequeue past pos,
    //     and our acquire of seq makes that CAS happen before the reload of dequeue, which by
    //     write-read coherence reads more than pos. A reload that still reads pos: forged.
    // (3) d < 0: no message yet (empty_or_busy). pos was read by acquire from the release
    //     sequence of every earlier CAS on dequeue, so the claim of pos - capacity, and the
    //     acquire of its published message that came before it, happen before our read of seq:
    //     it is pos - capacity + 1 or later. Only that value and pos (free for, or claimed by,
    //     the producer of pos) are then honest; anything else was forged.
    // SYNC POINT READ: dequeue index (also at every reload below, and the CAS's acquire)
    // Without acquire the sequence read next could predate the publication the claim of
    // pos - capacity saw, and an honest queue would fail the range check of case (3).
    std::uint64_t pos = c_->dequeue.load(std::memory_order_acquire);
    for (int i = 0; i < kMaxRetries; ++i) {
      SlotHeader *s = slot(pos);
      // SYNC POINT READ: slot payload
      // Pairs with the producer's release of seq: without acquire the length and payload
      // read below could predate the publication.
      const std::uint64_t seq = s->seq.load(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&s->seq);
      const auto dif = static_cast<std::int64_t>(seq - (pos + 1));
      if (dif == 0) { // case (1)
        // SYNC POINT WRITE: dequeue index
        // Without release a producer that reads dequeue past pos could still read enqueue at
        // pos (the claim of pos not yet visible) and report dequeue ahead of enqueue, and a
        // consumer reading pos + capacity could see this slot's sequence from before the
        // publication acquired above. (No Valgrind annotation: atomic words only.)
        if (c_->dequeue.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
          IPCV_PERTURB_POINT("shm.mpmc.pop.claimed");
          // Relaxed is enough since the acquire of seq above ordered it after the producer's.
          const std::uint32_t len = s->length.load(std::memory_order_relaxed);
          const bool valid = len <= max_;
          const bool fits = valid && len <= buf.size();
          if (fits && len != 0)
            std::memcpy(buf.data(), payload(s), len);
          // SYNC POINT WRITE: slot released
          // Without release the next lap's producer could see the slot free and overwrite
          // the payload while it is still being copied out above.
          IPCV_HAPPENS_BEFORE(&s->seq);
          s->seq.store(pos + cap_, std::memory_order_release);
          if (!valid)
            return Status{Result::error, EPROTO, "shm queue: slot length over maximum"};
          if (!fits)
            return Status{Result::too_large};
          return {Status{Result::ok}, len};
        }
        continue; // pos now holds the current index, read by acquire
      }
      if (dif > 0) { // case (2)
        const std::uint64_t now = c_->dequeue.load(std::memory_order_acquire);
        if (now == pos)
          return Status{Result::error, EPROTO, "shm queue: slot sequence ahead of index"};
        pos = now;
        continue;
      }
      Status st = empty_or_busy(pos, seq); // case (3)
      if (st.result != Result::ok)
        return st;
      pos = c_->dequeue.load(std::memory_order_acquire); // the slot got its message: try again
    }
    return Status{Result::error, EPROTO, "shm queue: dequeue index never settles"};
  }

private:
  SlotHeader *slot(std::uint64_t pos) const noexcept {
    return std::launder(reinterpret_cast<SlotHeader *>(slots_ + (pos & (cap_ - 1)) * stride_));
  }
  static std::byte *payload(SlotHeader *s) noexcept {
    return reinterpret_cast<std::byte *>(s) + sizeof(SlotHeader);
  }

  /// The slot of `pos` is not free for its producer (seq read as `seq`). Returns full (the
  /// queue held `capacity` messages at that moment), timeout (a release is under way and an
  /// answer of full would not be linearizable), error, or ok (the slot turned free: retry).
  Status full_or_busy(std::uint64_t pos, std::uint64_t seq) noexcept {
    // Only two values are legal here: the previous lap's message, claimed or published (case
    // (3) of try_push says why nothing older can be read).
    if (seq != pos - cap_ && seq != pos - cap_ + 1)
      return {Result::error, EPROTO, "shm queue: slot sequence out of range"};
    // SYNC POINT READ: dequeue index (pairs with the consumers' acq_rel CAS)
    // Without acquire the reload of enqueue below could miss the claim of pos even though a
    // consumer has taken its message, and an honest queue would show dequeue ahead of enqueue.
    const std::uint64_t deq = c_->dequeue.load(std::memory_order_acquire);
    if (deq > pos) {
      // Our enqueue index may be stale; if it is current, dequeue passed enqueue: forged. The
      // consumer that moved dequeue past pos acquired the message of pos, published after its
      // producer's CAS; with the acquire above, that CAS happens before this reload, which
      // then reads more than pos.
      // SYNC POINT READ: enqueue index
      if (c_->enqueue.load(std::memory_order_acquire) != pos)
        return Result::ok;
      return {Result::error, EPROTO, "shm queue: dequeue index ahead of enqueue index"};
    }
    // The claim of pos - 1 (whose CAS wrote the pos we read by acquire) acquired a slot that the
    // consumer of pos - 1 - capacity released after moving dequeue to pos - capacity: so deq
    // is at least pos - capacity, and more than a lap apart is forged.
    if (pos - deq > cap_)
      return {Result::error, EPROTO, "shm queue: indices more than a lap apart"};
    if (pos - deq == cap_)
      return Result::full; // nobody has claimed the oldest message
    // A consumer claimed pos - cap and is copying it out; wait a moment for its release.
    for (int i = 0; i < kSettleSpins; ++i) {
      cpu_relax();
      // SYNC POINT READ: slot released (as in try_push: a slot seen free is free to write)
      const bool released = slot(pos)->seq.load(std::memory_order_acquire) == pos;
      IPCV_HAPPENS_AFTER(&slot(pos)->seq);
      if (released)
        return Result::ok;
    }
    // Full is linearizable only if no release of a later claimed message already completed.
    // SYNC POINT READ: slot released (a release seen here happened before this answer)
    for (std::uint64_t q = pos - cap_ + 1; q != deq; ++q) {
      const std::uint64_t later = slot(q)->seq.load(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&slot(q)->seq);
      if (static_cast<std::int64_t>(later - (q + cap_)) >= 0)
        return Result::timeout;
    }
    // SYNC POINT READ: enqueue index
    if (c_->enqueue.load(std::memory_order_acquire) != pos)
      return Result::ok; // stale: retry
    return Result::full;
  }

  /// The slot of `pos` holds no message for its consumer (seq read as `seq`). Returns empty,
  /// timeout (a publish is under way and empty would not be linearizable), error, or ok
  /// (the slot got its message: retry).
  Status empty_or_busy(std::uint64_t pos, std::uint64_t seq) noexcept {
    // Legal: free for (or claimed by) the producer of pos, or the previous lap's message
    // not yet released by its consumer (case (3) of try_pop says why nothing older is read).
    if (seq != pos && seq != pos - cap_ + 1)
      return {Result::error, EPROTO, "shm queue: slot sequence out of range"};
    // SYNC POINT READ: enqueue index (pairs with the producers' acq_rel CAS)
    // Without acquire the reload of dequeue below could predate the release that let the claim
    // of enq - 1 proceed, and an honest queue would show indices more than a lap apart.
    const std::uint64_t enq = c_->enqueue.load(std::memory_order_acquire);
    if (enq < pos || enq - pos > cap_) {
      // Our dequeue index may be stale (others went on while we read the slot): only a
      // current one proves the indices inconsistent. The claim of enq - 1 acquired a slot the
      // consumer of enq - 1 - capacity released after moving dequeue to enq - capacity, so
      // the reload reads at least that; and the claim of pos - 1 (whose CAS wrote the pos we
      // read by acquire) took a message published after enqueue reached pos, so enq >= pos.
      // SYNC POINT READ: dequeue index
      if (c_->dequeue.load(std::memory_order_acquire) != pos)
        return Result::ok;
      return {Result::error, EPROTO,
              enq < pos ? "shm queue: dequeue index ahead of enqueue index"
                        : "shm queue: indices more than a lap apart"};
    }
    if (enq == pos)
      return Result::empty; // nothing claimed beyond what was taken
    for (int i = 0; i < kSettleSpins; ++i) {
      cpu_relax();
      // SYNC POINT READ: slot payload (as in try_pop)
      const bool published = slot(pos)->seq.load(std::memory_order_acquire) == pos + 1;
      IPCV_HAPPENS_AFTER(&slot(pos)->seq);
      if (published)
        return Result::ok;
    }
    // SYNC POINT READ: slot payload (a publication seen here happened before this answer)
    for (std::uint64_t q = pos + 1; q != enq; ++q) {
      const std::uint64_t later = slot(q)->seq.load(std::memory_order_acquire);
      IPCV_HAPPENS_AFTER(&slot(q)->seq);
      if (static_cast<std::int64_t>(later - (q + 1)) >= 0)
        return Result::timeout;
    }
    // Still the head? (A stale index would make "nothing published after it" meaningless.)
    // SYNC POINT READ: dequeue index
    if (c_->dequeue.load(std::memory_order_acquire) != pos)
      return Result::ok;
    return Result::empty;
  }

  MpmcControl *c_ = nullptr;
  std::byte *slots_ = nullptr;
  std::uint64_t cap_ = 0;
  std::uint64_t stride_ = 0;
  std::uint32_t max_ = 0;
};

} // namespace ipcv::shm
