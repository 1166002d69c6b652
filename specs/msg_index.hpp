// The shared groundwork of the queue specs: an index from message identity to the events that
// sent and received it, built in one linear pass, and the wording specs use to name events.
#pragma once

#include "history.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

namespace ipcv::spec {

/// The index value for "no such event".
inline constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

/// A MsgRecord is what a history says about one message identity.
struct MsgRecord {
  MsgId id;
  std::size_t send = kNone;  ///< the first send of it (any result)
  std::size_t sends = 0;     ///< how many sends name it (more than one is a workload bug)
  std::size_t recv = kNone;  ///< the first receive that returned it
  std::size_t recv2 = kNone; ///< the second receive that returned it
  std::size_t recvs = 0;     ///< how many receives returned it
};

/// A MsgIndex maps each identity named by a send or an ok receive to its MsgRecord, and counts
/// the identity-less (empty) messages, which can only be counted.
class MsgIndex {
public:
  explicit MsgIndex(const History &h);

  /// The record of `id`, or nullptr when no send or receive names it.
  const MsgRecord *find(MsgId id) const noexcept;
  const std::vector<MsgRecord> &records() const noexcept { return records_; }

  std::size_t anon_sent_ok = 0;           ///< identity-less sends that returned ok
  std::size_t anon_sent_pending = 0;      ///< identity-less sends still pending
  std::vector<std::size_t> anon_sends;    ///< indices of identity-less sends that returned ok
  std::size_t anon_received = 0;          ///< identity-less ok receives
  std::vector<std::size_t> anon_receives; ///< their indices, in history order
  std::size_t pending_recvs = 0;          ///< receives that never returned

private:
  std::size_t slot_of(MsgId id) const noexcept;
  std::vector<MsgRecord> records_;
  std::vector<std::uint32_t> table_; ///< open addressing: 1 + index into records_, 0 = empty
  std::size_t mask_ = 0;
};

/// True for the events of the queue domain (send, recv, close).
constexpr bool is_queue_op(Op op) noexcept {
  return op == Op::send || op == Op::recv || op == Op::close;
}
/// True for a receive that returned a message with an identity.
constexpr bool is_identified_receive(const Event &e) noexcept {
  return e.op == Op::recv && e.res == Res::ok && e.has_msg;
}

/// "(1,7)": how explanations write a message identity.
std::string to_string(MsgId id);
/// "pid 2 recv (1,7) [line 12]": how explanations name an event.
std::string describe(const Event &e);

/// At most this many failures are listed as witnesses, so a timeline stays short.
inline constexpr std::size_t kMaxWitnessedFailures = 3;

/// A Failures is what a spec collects while it checks a history: how many failures it found, why
/// the first one failed, and the events that show the first kMaxWitnessedFailures of them. Built
/// with the history, "first" is first in time: a failure happened when the earliest of its
/// witness events was called (a failure without witnesses comes after every other), ties going
/// to the one added first. Built without it, "first" is the first added.
struct Failures {
  std::size_t count = 0;
  std::string first;                  ///< the explanation of the first failure
  std::vector<std::size_t> witnesses; ///< indices into History::events, first failure first

  /// Failures that are first in the order they are added.
  Failures() = default;
  /// Failures of `h` (which must outlive it) that are first in time.
  explicit Failures(const History &h) : history_(&h) {}

  /// Counts one failure explained by `why`; when it is among the first kMaxWitnessedFailures so
  /// far, keeps its events `w` as witnesses (kNone entries left out) and `why` if it is the
  /// first.
  void add(std::string why, std::initializer_list<std::size_t> w);

private:
  /// One of the first failures so far: when it happened, why, and the events that show it.
  struct Kept {
    std::int64_t at;
    std::string why;
    std::vector<std::size_t> events;
  };
  std::int64_t time_of(std::initializer_list<std::size_t> w) const noexcept;

  const History *history_ = nullptr;
  std::vector<Kept> kept_; ///< by time, then by addition; at most kMaxWitnessedFailures
};

} // namespace ipcv::spec
