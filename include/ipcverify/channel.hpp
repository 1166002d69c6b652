// The Channel contract: how every channel in ipcverify (reference implementation or adapter)
// is set up across fork, how it moves whole messages, and what it claims about itself.
#pragma once

#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ipcv {

/// A Result is the outcome of one channel operation, returned as a value (never thrown).
enum class Result : std::uint8_t {
  ok,        ///< the operation took effect
  full,      ///< try_send found no room
  empty,     ///< try_recv found no message
  timeout,   ///< the deadline passed before the operation could take effect
  eof,       ///< every sender closed and the channel is drained
  peer_gone, ///< a peer died (or every peer on the other side closed) so this can never complete
  too_large, ///< the message exceeds the channel's maximum or the receive buffer
  error,     ///< anything else; Status::err and Status::what say what
};

/// The canonical lower-case name of a Result, as used in history files ("peer_gone", ...).
constexpr std::string_view to_string(Result r) noexcept {
  switch (r) {
  case Result::ok:
    return "ok";
  case Result::full:
    return "full";
  case Result::empty:
    return "empty";
  case Result::timeout:
    return "timeout";
  case Result::eof:
    return "eof";
  case Result::peer_gone:
    return "peer_gone";
  case Result::too_large:
    return "too_large";
  case Result::error:
    return "error";
  }
  return "error";
}

/// A Status is a Result plus, for `error`, the errno and a static text saying which call failed.
struct Status {
  Result result = Result::ok;
  int err = 0;                ///< errno of the failing call, 0 when none
  const char *what = nullptr; ///< static string naming the failing step, or nullptr

  constexpr Status() = default;
  constexpr Status(Result r, int e = 0, const char *w = nullptr) : result(r), err(e), what(w) {}
  static Status from_errno(const char *w) { return {Result::error, errno, w}; }
  constexpr bool ok() const noexcept { return result == Result::ok; }
  /// One line for humans: "ok", "error: mq_open: Permission denied", ...
  std::string describe() const {
    std::string s(to_string(result));
    if (what != nullptr)
      s.append(": ").append(what);
    if (err != 0)
      s.append(": ").append(std::strerror(err));
    return s;
  }
};

/// A RecvStatus is the Status of a receive plus the size of the message received.
struct RecvStatus : Status {
  std::size_t size = 0;
  constexpr RecvStatus() = default;
  constexpr RecvStatus(Status s, std::size_t n = 0) : Status(s), size(n) {}
};

/// An Expected holds either a value or the Status that explains why there is none.
template <class T> class Expected {
public:
  Expected(T v) : value_(std::move(v)) {}
  Expected(Status s) : status_(s) {}
  explicit operator bool() const noexcept { return value_.has_value(); }
  T &operator*() {
    assert(value_ && "Expected: dereferenced without a value; check it first");
    return *value_;
  }
  const T &operator*() const {
    assert(value_ && "Expected: dereferenced without a value; check it first");
    return *value_;
  }
  T *operator->() {
    assert(value_ && "Expected: dereferenced without a value; check it first");
    return &*value_;
  }
  const T *operator->() const {
    assert(value_ && "Expected: dereferenced without a value; check it first");
    return &*value_;
  }
  const Status &status() const noexcept { return status_; }

private:
  std::optional<T> value_;
  Status status_{Result::error, 0, "no value"};
};

/// A Deadline is an absolute point on CLOCK_MONOTONIC (steady_clock on Linux).
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

/// Deadline `ms` milliseconds from now.
inline Deadline after_ms(long ms) { return Clock::now() + std::chrono::milliseconds(ms); }

/// A LossPolicy is what a channel that does not promise `no-loss` does when it is full.
enum class LossPolicy : std::uint8_t { none, drop_oldest, drop_newest };

/// Claims are what a channel promises about itself; the suite holds it to them.
struct Claims {
  std::size_t max_message = 0;    ///< largest message, in bytes, send accepts
  std::size_t capacity = 0;       ///< messages that fit before send blocks / try_send is full
  unsigned max_senders = 1;       ///< senders at once, any number from 1; kMany: no limit
  unsigned max_receivers = 1;     ///< receivers at once, any number from 1; kMany: no limit
  std::vector<std::string> specs; ///< canonical spec names it promises ("fifo", "no-loss", ...)
  LossPolicy loss = LossPolicy::none;
  /// With crash-safety: how soon after a peer dies a survivor that waits on it (or calls in
  /// later) learns it, by peer_gone or eof. Negative: not declared (crash-safety then cannot
  /// be claimed).
  std::chrono::milliseconds peer_notice{-1};
  std::string notes; ///< one line on what holds and why (shown by `ipcverify list`)

  static constexpr unsigned kMany = 0xffff;
  bool promises(std::string_view spec) const {
    for (const auto &s : specs)
      if (s == spec)
        return true;
    return false;
  }
};

/// kQueueSpecs are the specs a channel that behaves as one FIFO queue promises: every message
/// sent arrives once, intact and in order, no call waits while it could complete, and the end
/// of the stream is told truthfully.
inline constexpr std::array<std::string_view, 8> kQueueSpecs = {
    "integrity", "no-phantom",   "no-duplication", "no-loss",
    "fifo",      "linearizable", "bounded-wait",   "end-of-stream"};

/// The spec names of `base` followed by those of `more`, as Claims::specs holds them, e.g.
/// `spec_names(kQueueSpecs, {"crash-safety"})`.
inline std::vector<std::string> spec_names(std::span<const std::string_view> base,
                                           std::initializer_list<std::string_view> more = {}) {
  std::vector<std::string> out(base.begin(), base.end());
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

/// A Config is what the parent asks of a channel instance at prepare time.
struct Config {
  std::size_t max_message = 0; ///< 0: the channel's own maximum
  std::size_t capacity = 0;    ///< 0: the channel's default
  unsigned senders = 1;        ///< senders that will connect (eof comes once all of them close)
  unsigned receivers = 1;      ///< receivers that will connect
  /// The name of the channel's named object (its first, if several), e.g. "/ipcv-x"; empty: a
  /// random one. Only channels with named objects use it; the text must outlive prepare, which
  /// copies it. Lets a check pre-create ("squat") a name and see prepare refuse it.
  std::string_view name = {};
};

/// A NamedObject is an OS object with a name in some file system, created by `prepare`.
struct NamedObject {
  std::string kind; ///< "mqueue", "shm", "socket"
  std::string path; ///< as passed to the OS call, e.g. "/ipcv-mq-1234-9f3c..."
};

/// ConnectsEndpoints: `connect_sender(a, index)` / `connect_receiver(a, index)`, where `index`
/// says which of the Config::senders (receivers) is connecting, 0 first, each index once per
/// instance; or, for a channel that does not care, `connect_sender(a)` / `connect_receiver(a)`.
/// The index lets a channel keep per-endpoint structures (a slot, a lane, a join record)
/// without a shared join counter of its own.
template <class C>
concept ConnectsEndpoints = (
                                requires(const typename C::Address &a, unsigned i) {
                                  {
                                    C::connect_sender(a, i)
                                    } -> std::same_as<Expected<typename C::Sender>>;
                                } ||
                                requires(const typename C::Address &a) {
                                  {
                                    C::connect_sender(a)
                                    } -> std::same_as<Expected<typename C::Sender>>;
                                }) &&
                            (
                                requires(const typename C::Address &a, unsigned i) {
                                  {
                                    C::connect_receiver(a, i)
                                    } -> std::same_as<Expected<typename C::Receiver>>;
                                } ||
                                requires(const typename C::Address &a) {
                                  {
                                    C::connect_receiver(a)
                                    } -> std::same_as<Expected<typename C::Receiver>>;
                                });

/// Sender number `index` of the channel at `a`, by whichever form of connect_sender C has.
template <class C>
Expected<typename C::Sender> connect_sender_of(const typename C::Address &a, unsigned index) {
  if constexpr (requires { C::connect_sender(a, index); })
    return C::connect_sender(a, index);
  else
    return C::connect_sender(a);
}

/// Receiver number `index` of the channel at `a`, by whichever form of connect_receiver C has.
template <class C>
Expected<typename C::Receiver> connect_receiver_of(const typename C::Address &a, unsigned index) {
  if constexpr (requires { C::connect_receiver(a, index); })
    return C::connect_receiver(a, index);
  else
    return C::connect_receiver(a);
}

/// Channel is the contract every channel type satisfies.
///
/// Setup has two phases because processes are forked and many libraries must not cross fork:
/// `prepare` runs in the parent and returns a trivially copyable Address; each child (or
/// thread) then calls `connect_sender` / `connect_receiver`; once a process has connected the
/// endpoints it needs it calls `detach` to drop its copies of anything the Address holds (the
/// parent does so after forking; in thread mode once, after every thread connected); `destroy`
/// in the parent removes every OS object, also after a failed run.
///
/// Conventions the concept cannot check, which the conformance checks and the specs hold every
/// channel to:
/// - `try_send` / `try_recv` answer `full` / `empty` only when that is linearizable: the
///   channel really was full (empty) at some instant of the call. While a peer is mid-operation
///   (a message half written, a slot claimed but not yet published) the answer is `timeout`,
///   since `linearizable` judges every `empty` against the messages certainly in the queue.
/// - `eof` comes once every one of Config::senders closed and the queue is drained, never
///   before (a sender that has not connected yet may still send): `end-of-stream` checks that
///   it is neither early nor missing.
/// - `peer_gone` says a peer died or the whole other side closed, so the call can never
///   complete; a channel claiming `crash-safety` says it within Claims::peer_notice.
/// - No call throws, and every wait ends by its Deadline (`deadline`, with slack).
/// - A latest-value register says so by claiming `register` instead of the queue specs: send
///   overwrites and never waits, recv reads without consuming, `eof` after this reader returned
///   the final value (impl/shm/register.hpp).
template <class C>
concept Channel = std::is_trivially_copyable_v<typename C::Address> && ConnectsEndpoints<C> &&
    requires(const typename C::Address &a, const Config &cfg, typename C::Sender &s,
             typename C::Receiver &r, std::span<const std::byte> out, std::span<std::byte> in,
             Deadline d) {
  { C::kName } -> std::convertible_to<std::string_view>;
  { C::claims() } -> std::same_as<Claims>;
  { C::prepare(cfg) } -> std::same_as<Expected<typename C::Address>>;
  { C::detach(a) }
  noexcept;
  { C::destroy(a) }
  noexcept;
  { C::named_objects(a) } -> std::same_as<std::vector<NamedObject>>;
  { s.send(out, d) }
  noexcept->std::same_as<Status>;
  { s.try_send(out) }
  noexcept->std::same_as<Status>;
  { s.close() }
  noexcept;
  { r.recv(in, d) }
  noexcept->std::same_as<RecvStatus>;
  { r.try_recv(in) }
  noexcept->std::same_as<RecvStatus>;
  { r.close() }
  noexcept;
};

} // namespace ipcv
