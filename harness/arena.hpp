// The recording arena: one fixed-capacity event log per actor in a shared anonymous mapping
// made before fork. An actor writes an event when it calls (pending) and completes it when the
// call returns, so a process killed with SIGKILL leaves every event it recorded, its last call
// pending. A full log is an explicit overflow, never silent truncation.
#pragma once

#include "specs/history.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace ipcv::harness {

/// An Arena holds `actors` logs of `capacity` events each, shared across fork.
class Arena {
public:
  Arena(std::uint32_t actors, std::uint32_t capacity);
  ~Arena();
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;

  /// Where one call is recorded; -1 when the actor's log is full (overflow is then flagged).
  using Slot = std::int64_t;

  /// Records the start of a call by `actor` now; `msg` is known for sends; `deadline` (ns on
  /// the clock of now_ns(), spec::kNever for none) is the one the call was given.
  Slot begin(std::uint32_t actor, spec::Op op, const spec::MsgId *msg = nullptr,
             std::uint32_t len = 0, std::int64_t deadline = spec::kNever) noexcept;
  /// Records the return of the call in `slot`; `msg` is what a receive returned (if any).
  void end(std::uint32_t actor, Slot slot, spec::Res res, const spec::MsgId *msg = nullptr,
           std::uint32_t len = 0, bool intact = true) noexcept;

  /// Drops the message identity of the call in `slot` (a send attempt that did not take effect
  /// and whose message goes out again in a later call, which carries the identity).
  void forget_id(std::uint32_t actor, Slot slot) noexcept;

  /// Forgets the call in `slot`, which must be the actor's last one (a poll that found nothing
  /// and is not worth keeping). The log then is as if the call was never made.
  void cancel(std::uint32_t actor, Slot slot) noexcept;

  /// LastCall is the newest call an actor recorded, as seen while the actors still run.
  struct LastCall {
    spec::Op op;
    bool pending;      ///< not returned yet
    spec::Res res;     ///< when returned
    std::int64_t call; ///< ns, the clock of now_ns()
    std::int64_t ret;  ///< ns, when returned
  };
  /// The newest call of `actor`, or nothing when it recorded none. Safe to call from another
  /// process while the actor runs (a watchdog's view; the history is read after the run).
  std::optional<LastCall> last_call(std::uint32_t actor) const noexcept;

  /// Records that `actor` stopped because the case deadline had passed (the harness's limit on
  /// the case, not an answer of the channel), now; the first such time of each actor is kept.
  void ran_out_of_time(std::uint32_t actor) noexcept;
  /// The earliest time an actor stopped for the case deadline, or nothing when none did: the
  /// history after it is cut short by the harness (meta "cut_ns").
  std::optional<std::int64_t> out_of_time() const noexcept;

  /// Sends that returned ok, and receives that returned ok, of every actor so far: safe to
  /// read while the actors run (a watchdog's view). A send is counted once its return is
  /// recorded, so a count read at time t counts only sends that had returned by t.
  std::uint64_t sends_ok() const noexcept;
  std::uint64_t receives_ok() const noexcept;

  /// True when some actor's log overflowed; `overflow_text` says which.
  bool overflowed() const noexcept;
  std::string overflow_text() const;

  /// Every recorded event as a History (events never completed are `pending`). `pid` in each
  /// event is the actor index + 1.
  spec::History history() const;

  /// Bytes of shared memory the arena maps.
  std::size_t bytes() const noexcept { return bytes_; }

  /// CLOCK_MONOTONIC now, in ns (the clock of every event).
  static std::int64_t now_ns() noexcept;

private:
  struct Record;
  struct Log; // one actor's header, a cache line of its own; its records follow it (arena.cpp)
  Log *log(std::uint32_t actor) const noexcept;
  std::uint32_t actors_, capacity_;
  std::size_t log_bytes_, bytes_;
  std::byte *base_;
};

} // namespace ipcv::harness
