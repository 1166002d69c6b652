// The History model: what every actor did, one event per call, with call and return times on
// CLOCK_MONOTONIC. Specs are pure functions of a History; nothing here knows about processes,
// channels or the OS. The JSON Lines form of a History is in docs/design.md ("History files").
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ipcv::spec {

/// An Op is the operation an event records: queue operations, or register operations.
enum class Op : std::uint8_t { send, recv, close, write, read };

/// A Res is the recorded outcome of a call; `pending` means the call never returned.
enum class Res : std::uint8_t {
  ok,
  full,
  empty,
  timeout,
  eof,
  peer_gone,
  too_large,
  error,
  pending
};

/// A MsgId names one test message: (producer, seq) for queues, (writer, version) for registers.
struct MsgId {
  std::uint32_t producer = 0;
  std::uint64_t seq = 0;
  friend constexpr bool operator==(MsgId, MsgId) = default;
  friend constexpr auto operator<=>(MsgId, MsgId) = default;
};

/// The time of a call that never returned.
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

/// An Event is one call by one actor: what it did, to which message, when, and what came back.
struct Event {
  std::uint32_t pid = 0; ///< the actor (process or thread) that made the call
  Op op = Op::send;
  Res res = Res::ok;
  bool has_msg = false;      ///< a send, or a receive/read that returned a message
  MsgId msg{};               ///< `msg` for queues, `val` for registers
  std::uint32_t len = 0;     ///< payload length in bytes
  std::int64_t call = 0;     ///< ns, CLOCK_MONOTONIC
  std::int64_t ret = kNever; ///< ns; kNever when res == pending
  /// ns: the call's deadline, when the recorder knows it (kNever: none recorded). A try_ call
  /// records its call time: it must not wait at all.
  std::int64_t deadline = kNever;
  bool intact = true;     ///< receives/reads: the payload verified against its header
  std::uint32_t line = 0; ///< 1-based line in the file it was read from (0: not from a file)

  constexpr bool pending() const noexcept { return res == Res::pending; }
  /// True when this call certainly returned before `o` was called (real-time order).
  constexpr bool precedes(const Event &o) const noexcept { return ret < o.call; }
};

/// A History is the events of one run, in any order, plus the meta line's key/value pairs.
struct History {
  std::vector<Event> events;
  /// From the optional first line {"meta":{...}}: numbers by key ("bound_ns", "end_ns",
  /// "capacity", ...), and the claimed specs under "claims" (as names).
  std::map<std::string, double, std::less<>> meta_numbers;
  std::vector<std::string> claims;
  /// Meta "crashed": the pids killed on purpose (a crash plan). Their last call may stay
  /// pending for good, and what a killed receiver took with it cannot be observed.
  std::vector<std::uint32_t> crashed;
  /// Meta "crashed_ns": for each pid of `crashed`, when it was last seen alive at the latest
  /// (an upper bound on its death; the parent saw it dead then). Empty when not recorded.
  std::vector<std::int64_t> crashed_ns;
  /// Meta "senders" / "receivers": the pids of each role, when the recorder knows them (an
  /// actor killed before its first call has no events to show its role). Roles not listed are
  /// inferred from the events: send or close makes a sender, recv a receiver.
  std::vector<std::uint32_t> senders;
  std::vector<std::uint32_t> receivers;
};

/// The Roles of a history's pids: declared in the meta line or shown by their events.
struct Roles {
  std::vector<std::uint32_t> senders;   ///< sorted, distinct
  std::vector<std::uint32_t> receivers; ///< sorted, distinct
  bool is_sender(std::uint32_t pid) const noexcept;
  bool is_receiver(std::uint32_t pid) const noexcept;
};

/// The roles of every pid of `h`.
Roles roles_of(const History &h);

/// The reason specs give when receiver_crashed() keeps them from deciding.
inline constexpr const char *kReceiverKilled =
    "a receiver was killed: what it took with it cannot be observed";

/// True when a receiver was killed (or a killed pid's role is unknown): what it took with it
/// cannot be observed, so a spec about where messages went cannot decide.
bool receiver_crashed(const History &h, const Roles &r);

/// The canonical spelling of an Op / Res in history files.
std::string_view to_string(Op op) noexcept;
std::string_view to_string(Res res) noexcept;
/// Parses the canonical spelling; false when `s` is not one.
bool parse(std::string_view s, Op &out) noexcept;
bool parse(std::string_view s, Res &out) noexcept;

/// A Verdict is what a spec says of a history.
struct Verdict {
  enum Kind : std::uint8_t { pass, fail, unknown };
  Kind kind = pass;
  std::string explanation;            ///< one or two sentences; empty on a plain pass
  std::vector<std::size_t> witnesses; ///< indices into History::events that show the failure

  static Verdict ok() { return {}; }
  static Verdict failed(std::string why, std::vector<std::size_t> w) {
    return {fail, std::move(why), std::move(w)};
  }
  static Verdict undecided(std::string why) { return {unknown, std::move(why), {}}; }
};

/// Parameters a spec may take from the command line or the meta line.
struct Params {
  std::int64_t bound_ns = 0; ///< bounded-wait: 0 = take it from the meta line ("bound_ns")
  std::int64_t slack_ns = 0; ///< deadline: 0 = the meta line's "slack_ns", else kDefaultSlackNs
};

/// How late after its deadline a call may return when the history does not say (meta
/// "slack_ns"): scheduling on a busy machine delays a return by milliseconds, not by this.
inline constexpr std::int64_t kDefaultSlackNs = 100'000'000;

/// The end of the history: the meta key "end_ns", else the latest time recorded.
std::int64_t end_of(const History &h);

/// A duration in nanoseconds as milliseconds for an explanation: "12.5 ms".
std::string ms_text(std::int64_t ns);

/// A Domain is the kind of object a spec speaks of: a queue (send/recv/close events) or a
/// register (write/read events). A spec applies to a history that has events of its domain.
enum class Domain : std::uint8_t { queue, registers, any };

/// A Spec is a named, pure checker: History -> Verdict.
struct Spec {
  std::string_view name;       ///< canonical name, e.g. "no-loss"
  std::string_view definition; ///< one sentence: "a history satisfies it when ..."
  Verdict (*check)(const History &, const Params &);
  Domain domain = Domain::queue; ///< which histories it applies to
  /// Every channel owes it, whatever it claims (the contract itself, like `run`).
  bool owed = false;
};

} // namespace ipcv::spec
