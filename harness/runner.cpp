// Implementation of the runner (runner.hpp): actor bodies shared by process and thread mode.
#include "runner.hpp"
#include "arena.hpp"
#include "guard.hpp"
#include "hygiene.hpp"
#include "interrupt.hpp"
#include "perturb_plan.hpp"
#include "races.hpp"

#include "impl/os.hpp"
#include "specs/message.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <cxxabi.h>
#include <exception>
#include <fmt/format.h>
#include <map>
#include <sched.h>
#include <set>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <typeinfo>
#include <unistd.h>

namespace ipcv::harness {
namespace {

constexpr int kExitConnect = 20;
constexpr int kExitBarrier = 21;
constexpr int kExitGarbage = 22;      // a receive reported more bytes than it could have written
constexpr int kExitRaceReported = 66; // ThreadSanitizer's exit status after a report
constexpr auto kGrace = std::chrono::milliseconds(3000);

using spec::Op;
using spec::Res;

Res to_res(Result r) {
  switch (r) {
  case Result::ok:
    return Res::ok;
  case Result::full:
    return Res::full;
  case Result::empty:
    return Res::empty;
  case Result::timeout:
    return Res::timeout;
  case Result::eof:
    return Res::eof;
  case Result::peer_gone:
    return Res::peer_gone;
  case Result::too_large:
    return Res::too_large;
  case Result::error:
    return Res::error;
  }
  return Res::error;
}

void place(const Workload &w, std::uint32_t actor) {
  if (w.placement == Placement::any)
    return;
  const unsigned n = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(w.placement == Placement::one_core ? 0 : actor % n, &set);
  ::sched_setaffinity(0, sizeof set, &set); // best effort: a restricted cpuset may refuse
}

void pause_us(std::uint32_t us) {
  if (us == 0)
    return;
  timespec ts{static_cast<time_t>(us / 1'000'000), static_cast<long>(us % 1'000'000) * 1000};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void backoff(std::uint32_t &spins) {
  if (++spins < 64)
    ::sched_yield();
  else
    pause_us(20);
}

/// Notes are one line per actor (and one for the thread host) in a shared mapping made before
/// fork: what an actor has to say about its end that an exit status cannot carry (what a
/// connect returned or threw, a garbage size, an exception out of a noexcept call).
class Notes {
public:
  static constexpr std::size_t kLine = 320;
  explicit Notes(std::uint32_t slots) : size_(std::size_t{slots} * kLine) {
    void *p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    mem_ = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
  }
  ~Notes() {
    if (mem_ != nullptr)
      ::munmap(mem_, size_);
  }
  Notes(const Notes &) = delete;
  Notes &operator=(const Notes &) = delete;
  /// The line of slot `i`, or nullptr when the mapping failed.
  char *slot(std::uint32_t i) const noexcept {
    return mem_ == nullptr || (i + 1) * kLine > size_ ? nullptr : mem_ + i * kLine;
  }
  static void write(char *line, const std::string &text) noexcept {
    if (line == nullptr)
      return;
    const std::size_t n = std::min(text.size(), kLine - 1);
    std::memcpy(line, text.data(), n);
    line[n] = '\0';
  }
  std::string read(std::uint32_t i) const {
    const char *line = slot(i);
    return line == nullptr ? std::string() : std::string(line, ::strnlen(line, kLine));
  }

private:
  std::size_t size_;
  char *mem_;
};

/// The note line of the actor running on this thread, for the terminate handler.
thread_local char *tls_note = nullptr;

std::string exception_text(const std::exception_ptr &e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception &x) {
    int st = 0;
    char *name = abi::__cxa_demangle(typeid(x).name(), nullptr, nullptr, &st);
    std::string t = fmt::format("{}: {}", st == 0 && name ? name : typeid(x).name(), x.what());
    std::free(name);
    return t;
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

/// An exception out of a noexcept call of the channel ends in std::terminate: say which before
/// the abort, so the verdict carries what() and not only SIGABRT.
[[noreturn]] void on_terminate() {
  if (auto e = std::current_exception(); e && tls_note != nullptr && tls_note[0] == '\0')
    Notes::write(tls_note, "threw " + exception_text(e) + " out of a noexcept call");
  std::abort();
}

/// ns on the arena's clock (CLOCK_MONOTONIC, which steady_clock is on Linux) of `d`.
std::int64_t ns_of(Deadline d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
}

/// One actor's view of the case.
struct Actor {
  const Workload &w;
  std::uint32_t index;
  Arena &arena;
  Board &board;
  Deadline deadline;
  bool reg;
  bool may_crash; ///< process mode: the crash plan applies

  /// Whether the case deadline has passed: the actor then stops, and says so (the history is
  /// cut short by the harness, not ended by the channel: meta "cut_ns").
  bool out_of_time() const {
    if (Clock::now() < deadline)
      return false;
    arena.ran_out_of_time(index);
    return true;
  }

  bool crash_here(std::uint32_t op) const {
    return may_crash && w.crash_actor && *w.crash_actor == index && w.crash_at == op;
  }
  /// Before the call: the planned stall, the harness's perturbation point `point` (where a plan
  /// may hold the actor), then crash now (before) or arm a crash inside the call: at the
  /// channel's next perturbation point, or on a timer of up to 200 µs (from the workload, so a
  /// replay aims at the same moment).
  void before_call(std::uint32_t op, const char *point) const {
    if (w.stall_actor && *w.stall_actor == index && w.stall_at == op)
      pause_us(w.stall_ms * 1000);
    before_harness_call(point);
    if (!crash_here(op) || w.crash_when == CrashAt::after)
      return;
    if (w.crash_when == CrashAt::before)
      ::raise(SIGKILL);
    const std::uint64_t h = (w.perturb_seed + 1) * 0x9e3779b97f4a7c15ULL ^ (op + 1ULL) << 32;
    arm_crash_at_next_point(static_cast<std::uint32_t>((h >> 40) % 200));
  }
  /// After the call returned but before its return is recorded: an armed crash that found no
  /// perturbation point inside the channel happens here, so the call stays pending.
  void after_call(std::uint32_t op) const {
    if (crash_here(op) && w.crash_when == CrashAt::inside && crash_still_armed())
      ::raise(SIGKILL);
  }
  /// The board's view of a call into the channel: entered, and returned (`idle`: it answered
  /// empty, full or timeout, so the actor polls or waits in vain).
  void entering(Deadline d) const {
    holds_within(d);
    board.enter_call(index);
  }
  void left(Result r) const {
    board.leave_call(index, r == Result::empty || r == Result::full || r == Result::timeout);
  }
  /// Once the call's return is recorded: the crash planned right after it (after a close, the
  /// process dies having closed cleanly).
  void after_recorded(std::uint32_t op) const {
    if (crash_here(op) && w.crash_when == CrashAt::after)
      ::raise(SIGKILL);
  }

  /// The deadline of blocking call `op`: the case's, or a short one from the deadline plan
  /// (`short_one` says which). Short: already expired, now, 1, 5 or 20 ms from now.
  Deadline call_deadline(std::uint32_t op, bool &short_one) const {
    std::uint64_t h = (w.deadline_seed + 1) * 0x9e3779b97f4a7c15ULL ^
                      ((std::uint64_t{index} + 1) << 40) ^ (op + 1ULL) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    short_one = w.short_deadlines != 0 && h % 100 < w.short_deadlines;
    if (!short_one)
      return deadline;
    static constexpr std::chrono::microseconds kShort[] = {
        std::chrono::microseconds(-1000), std::chrono::microseconds(0),
        std::chrono::microseconds(1000), std::chrono::microseconds(5000),
        std::chrono::microseconds(20000)};
    return std::min(deadline, Clock::now() + kShort[(h >> 8) % 5]);
  }
};

/// try_send until it takes effect or the case deadline passes. Each attempt is its own event
/// with its call time as deadline (a try_ call must not wait); an attempt that found the
/// channel full (or busy: timeout) is kept without the message's identity, since the message
/// goes out again, and only within `budget`.
Status try_send_until_done(const Actor &a, AnySender &s, std::span<const std::byte> msg,
                           const spec::MsgId &id, std::uint32_t op, std::uint64_t &budget) {
  const Op kind = a.reg ? Op::write : Op::send;
  std::uint32_t spins = 0;
  for (;;) {
    auto slot =
        a.arena.begin(a.index, kind, &id, static_cast<std::uint32_t>(msg.size()), Arena::now_ns());
    a.entering(Clock::now());
    const Status st = s.try_send(msg);
    a.left(st.result);
    a.after_call(op);
    const bool again = st.result == Result::full || st.result == Result::timeout;
    if (!again || a.out_of_time()) {
      a.arena.end(a.index, slot, to_res(st.result));
      return st;
    }
    if (budget > 0) {
      --budget;
      a.arena.forget_id(a.index, slot);
      a.arena.end(a.index, slot, to_res(st.result));
    } else {
      a.arena.cancel(a.index, slot);
    }
    backoff(spins);
  }
}

int run_sender(const Actor &a, AnySender &s, std::size_t max) {
  std::vector<std::byte> buf(std::max<std::size_t>(max, spec::kMinMessageSize));
  const std::uint32_t producer = a.index + 1;
  std::uint64_t retry_budget = 2 * std::uint64_t{a.w.messages} + 64;
  std::uint32_t op = 0;
  for (std::uint64_t seq = 0; seq < a.w.messages; ++seq, ++op) {
    if (a.out_of_time())
      return 0; // a slow machine, or a peer the channel let hang: the specs judge which
    const std::size_t len = std::clamp<std::size_t>(
        a.w.size_of(seq), spec::kMinMessageSize, std::max<std::size_t>(max, spec::kMinMessageSize));
    spec::encode(producer, seq, len, buf);
    const spec::MsgId id{producer, seq};
    const std::span<const std::byte> msg(buf.data(), len);
    a.before_call(op, a.reg ? "harness.write" : "harness.send");
    Status st;
    bool short_one = false;
    if (a.w.try_ops) {
      st = try_send_until_done(a, s, msg, id, op, retry_budget);
    } else {
      const Deadline d = a.call_deadline(op, short_one);
      auto slot = a.arena.begin(a.index, a.reg ? Op::write : Op::send, &id,
                                static_cast<std::uint32_t>(len), ns_of(d));
      a.entering(d);
      st = s.send(msg, d);
      a.left(st.result);
      a.after_call(op);
      a.arena.end(a.index, slot, to_res(st.result));
    }
    a.after_recorded(op);
    if (st.ok())
      pause_us(a.w.pace_us);
    else if (st.result == Result::timeout && a.out_of_time())
      return 0; // the case deadline passed: given with the call, or during it
    else if (!(short_one && st.result == Result::timeout))
      return 0; // recorded; the specs judge what it means
    // A short deadline that passed: the message is given up, the next one goes out.
  }
  if (a.out_of_time())
    return 0;
  a.before_call(op, "harness.close");
  a.entering(Clock::now() + std::chrono::milliseconds(100)); // close is not to wait
  if (a.reg) { // a register history has writes and reads only
    s.close();
    a.left(Result::ok);
    a.after_call(op);
    a.after_recorded(op);
    return 0;
  }
  auto slot = a.arena.begin(a.index, Op::close);
  s.close();
  a.left(Result::ok);
  a.after_call(op);
  a.arena.end(a.index, slot, Res::ok);
  a.after_recorded(op);
  return 0;
}

int run_receiver(const Actor &a, AnyReceiver &r, std::size_t max) {
  std::vector<std::byte> buf(max + 1);
  const std::uint64_t total = static_cast<std::uint64_t>(a.w.senders) * a.w.messages;
  // Empty results and short timeouts are recorded (linearizability and the deadline spec judge
  // them) up to a budget, so a receiver polling an idle channel cannot overflow its log.
  std::uint64_t idle_budget = 2 * total + 64;
  const std::uint64_t max_reads = a.reg ? 8 * total + 256 : UINT64_MAX;
  std::uint32_t op = 0;
  std::uint32_t spins = 0;
  for (std::uint64_t reads = 0; reads < max_reads; ++reads, ++op) {
    a.before_call(op, a.reg ? "harness.read" : "harness.recv");
    bool short_one = false;
    const Deadline d = a.w.try_ops ? Deadline{} : a.call_deadline(op, short_one);
    auto slot = a.arena.begin(a.index, a.reg ? Op::read : Op::recv, nullptr, 0,
                              a.w.try_ops ? Arena::now_ns() : ns_of(d));
    a.entering(a.w.try_ops ? Clock::now() : d);
    RecvStatus st = a.w.try_ops ? r.try_recv(buf) : r.recv(buf, d);
    a.left(st.result);
    a.after_call(op);
    const bool idle =
        st.result == Result::empty || (st.result == Result::timeout && (a.w.try_ops || short_one));
    if (idle) {
      if (idle_budget > 0) {
        --idle_budget;
        a.arena.end(a.index, slot, to_res(st.result));
      } else {
        a.arena.cancel(a.index, slot);
      }
      a.after_recorded(op);
      if (a.out_of_time())
        return 0;
      if (a.w.try_ops)
        backoff(spins);
      continue;
    }
    spins = 0;
    if (!st.ok()) {
      a.arena.end(a.index, slot, to_res(st.result));
      a.after_recorded(op);
      if (st.result == Result::timeout)
        (void)a.out_of_time(); // the call had the case deadline: the case ran out of time
      return 0;
    }
    if (st.size > max) { // never read: past the claimed maximum, perhaps past the buffer
      a.arena.end(a.index, slot, Res::error);
      Notes::write(tls_note,
                   st.size > buf.size()
                       ? fmt::format("{} returned ok with {} bytes into a buffer of {} bytes",
                                     a.w.try_ops ? "try_recv" : "recv", st.size, buf.size())
                       : fmt::format("{} returned ok with {} bytes, more than the claimed "
                                     "maximum message of {} bytes",
                                     a.w.try_ops ? "try_recv" : "recv", st.size, max));
      return kExitGarbage;
    }
    const auto check = spec::verify(std::span<const std::byte>(buf.data(), st.size));
    const bool intact = check.status == spec::MsgStatus::ok && st.size >= spec::kMinMessageSize;
    a.arena.end(a.index, slot, Res::ok, check.id ? &*check.id : nullptr,
                static_cast<std::uint32_t>(st.size), intact);
    a.after_recorded(op);
    if (a.reg && check.id && check.id->seq + 1 == a.w.messages)
      return 0; // saw the last write
    if (a.out_of_time())
      return 0;
  }
  return 0;
}

std::uint32_t arena_capacity(const Workload &w, bool reg) {
  const std::uint64_t total = static_cast<std::uint64_t>(w.senders) * w.messages;
  const std::uint64_t cap = reg ? 12 * total + 512 : 4 * total + 256;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(cap, 1u << 22));
}

/// The meta line of a case's history: the bound, the roles of the pids (actor i is pid i + 1,
/// senders first) and the channel's claims.
void describe_case(const Workload &w, const ChannelEntry &entry, const RunOptions &o,
                   spec::History &h) {
  h.meta_numbers["bound_ns"] = static_cast<double>(std::chrono::nanoseconds(o.bound).count());
  h.meta_numbers["slack_ns"] = static_cast<double>(std::chrono::nanoseconds(o.slack).count());
  for (std::uint32_t i = 0; i < w.actors(); ++i)
    (i < w.senders ? h.senders : h.receivers).push_back(i + 1);
  for (const auto &s : entry.claims.specs)
    h.claims.push_back(s);
  if (entry.claims.peer_notice.count() >= 0)
    h.meta_numbers["notice_ns"] =
        static_cast<double>(std::chrono::nanoseconds(entry.claims.peer_notice).count());
}

/// What the watchdog found when it killed child `i`: which actors were still inside a call.
std::string watchdog_text(const Workload &w, const Arena &arena, bool processes, std::size_t i) {
  std::string inside;
  const std::int64_t now = Arena::now_ns();
  for (std::uint32_t a = 0; a < w.actors(); ++a) {
    if (processes && a != i)
      continue;
    if (const auto c = arena.last_call(a); c && c->pending)
      inside += fmt::format("{}{} in {} for {:.2f} s", inside.empty() ? "" : ", ", actor_name(w, a),
                            spec::to_string(c->op), static_cast<double>(now - c->call) / 1e9);
  }
  const std::string who =
      processes ? actor_name(w, static_cast<std::uint32_t>(i)) : "the thread host";
  return fmt::format("the watchdog killed {} at the case deadline{}", who,
                     inside.empty() ? " (not inside a channel call)" : ": still " + inside);
}

} // namespace

std::optional<std::string> stuck_receiver(const Workload &w, const Arena &arena, bool reg,
                                          std::chrono::milliseconds bound) {
  // Only blocking queue receivers can be stuck this way: a register has no close, and a try_
  // receiver never blocks.
  if (reg || w.try_ops)
    return std::nullopt;
  std::int64_t all_closed = 0;
  for (std::uint32_t s = 0; s < w.senders; ++s) {
    const auto c = arena.last_call(s);
    if (!c || c->op != Op::close || c->pending || c->res != Res::ok)
      return std::nullopt;
    all_closed = std::max(all_closed, c->ret);
  }
  const std::int64_t now = Arena::now_ns();
  // Just over the bound: the call then fails bounded-wait whatever happens next.
  const std::int64_t limit =
      std::chrono::nanoseconds(bound + std::chrono::milliseconds(10)).count();
  for (std::uint32_t i = w.senders; i < w.actors(); ++i) {
    if (w.crash_actor && *w.crash_actor == i)
      continue; // its last call may be pending for good
    const auto c = arena.last_call(i);
    if (!c || c->op != Op::recv || !c->pending)
      continue;
    const std::int64_t since = std::max(c->call, all_closed);
    if (now - since > limit)
      return fmt::format("{} was still blocked in recv {:.2f} s after every sender had closed, "
                         "when eof or a message was due; the case was stopped there",
                         actor_name(w, i), static_cast<double>(now - since) / 1e9);
  }
  return std::nullopt;
}

std::optional<std::string> survivor_unaware(const Workload &w, const Arena &arena,
                                            std::uint32_t victim, std::int64_t dead_ns,
                                            std::chrono::nanoseconds notice,
                                            std::chrono::milliseconds slack) {
  const bool sender_died = victim < w.senders;
  if (sender_died) { // the receivers wait on it once every other sender closed with ok
    for (std::uint32_t s = 0; s < w.senders; ++s) {
      if (s == victim)
        continue;
      const auto c = arena.last_call(s);
      if (!c || c->op != Op::close || c->pending || c->res != Res::ok)
        return std::nullopt;
      dead_ns = std::max(dead_ns, c->ret);
    }
  } else if (w.receivers != 1) {
    return std::nullopt; // the senders wait on the receivers only once all of them are gone
  }
  const std::int64_t now = Arena::now_ns();
  const std::int64_t late =
      std::chrono::nanoseconds(notice + slack + std::chrono::milliseconds(10)).count();
  const std::uint32_t from = sender_died ? w.senders : 0;
  const std::uint32_t to = sender_died ? w.actors() : w.senders;
  for (std::uint32_t i = from; i < to; ++i) {
    const auto c = arena.last_call(i);
    if (!c || !c->pending || (c->op != Op::recv && c->op != Op::send))
      continue;
    const std::int64_t since = std::max(c->call, dead_ns);
    if (now - since > late)
      return fmt::format("{} was still in {} {:.2f} s after {} was seen dead, when the channel "
                         "promises to tell within {:.1f} ms; the case was stopped there",
                         actor_name(w, i), spec::to_string(c->op),
                         static_cast<double>(now - dead_ns) / 1e9, actor_name(w, victim),
                         static_cast<double>(notice.count()) / 1e6);
  }
  return std::nullopt;
}

void SendsOverTime::sample(std::int64_t now_ns, std::uint64_t sends_ok) {
  // The first look at each count is kept: by then that many had returned.
  if (looks_.empty() || looks_.back().second != sends_ok)
    looks_.emplace_back(now_ns, sends_ok);
}

std::uint64_t SendsOverTime::by(std::int64_t t_ns) const {
  // The latest look at or before t: the count then had certainly returned by t.
  auto it = std::upper_bound(looks_.begin(), looks_.end(), t_ns,
                             [](std::int64_t t, const auto &look) { return t < look.first; });
  return it == looks_.begin() ? 0 : std::prev(it)->second;
}

std::optional<std::string> receiver_beside_a_message(const Workload &w, const Arena &arena,
                                                     bool lossless, std::chrono::milliseconds bound,
                                                     const SendsOverTime &sends) {
  if (!lossless || w.try_ops || w.crash_actor)
    return std::nullopt;
  const std::int64_t now = Arena::now_ns();
  const std::int64_t from =
      now - std::chrono::nanoseconds(bound + std::chrono::milliseconds(10)).count();
  const std::uint64_t sent = sends.by(from), received = arena.receives_ok();
  if (sent <= received)
    return std::nullopt;
  for (std::uint32_t i = w.senders; i < w.actors(); ++i) {
    const auto c = arena.last_call(i);
    if (!c || c->op != Op::recv || !c->pending || c->call > from)
      continue;
    return fmt::format("{} was still blocked in recv {:.2f} s after a message it could take was "
                       "sent ({} had been sent ok by then, {} have been received since the "
                       "start); the case was stopped there",
                       actor_name(w, i), static_cast<double>(now - from) / 1e9, sent, received);
  }
  return std::nullopt;
}

std::string actor_name(const Workload &w, std::uint32_t actor) {
  return actor < w.senders ? fmt::format("sender {}", actor + 1)
                           : fmt::format("receiver {}", actor - w.senders + 1);
}

namespace {

/// One endpoint of actor `i` of `w`: its sender (senders come first) or its receiver.
struct Endpoints {
  std::unique_ptr<AnySender> sender;
  std::unique_ptr<AnyReceiver> receiver;
};
/// Connects actor `i`; on failure its note says what connect returned or threw.
bool connect_actor(AnyInstance &inst, const Workload &w, std::uint32_t i, Endpoints &out,
                   char *note) {
  const bool sender = i < w.senders;
  const char *call = sender ? "connect_sender" : "connect_receiver";
  try {
    Status failed;
    if (sender) {
      auto c = inst.connect_sender(i);
      if (c)
        out.sender = std::move(*c);
      else
        failed = c.status();
    } else {
      auto c = inst.connect_receiver(i - w.senders);
      if (c)
        out.receiver = std::move(*c);
      else
        failed = c.status();
    }
    if (out.sender || out.receiver)
      return true;
    Notes::write(note, fmt::format("{} returned {}", call, failed.describe()));
  } catch (...) {
    Notes::write(note, fmt::format("{} threw {}", call, exception_text(std::current_exception())));
  }
  return false;
}

/// A CaseRun is one run_case: a prepared instance, the arena, the actors, what came of them.
class CaseRun {
public:
  CaseRun(const ChannelEntry &entry, const Workload &w, const RunOptions &o, AnyInstance &inst,
          RunResult &out)
      : entry_(entry), w_(w), o_(o), inst_(inst), out_(out),
        arena_(w.actors(), arena_capacity(w, out.is_register)), board_(w.actors()),
        notes_(w.actors() + 1), start_(w.actors()),
        deadline_(Clock::now() + o.budget +
                  o.per_message * (std::uint64_t{w.senders} * w.messages)),
        processes_(o.mode == Mode::process) {}

  void run() {
    const std::vector<pid_t> pids = processes_ ? spawn_processes() : spawn_thread_host();
    if (auto why = guarded(
            entry_.name, "detach", [&] { inst_.detach(); }, o_.parent_call_limit))
      add_error(*why);
    out_.exits = reap(pids, deadline_ + kGrace, [&] {
      const std::uint64_t sent = arena_.sends_ok(); // read first: returned before the stamp
      sends_.sample(Arena::now_ns(), sent);
      auto stuck = stuck_receiver(w_, arena_, out_.is_register, o_.bound);
      if (!stuck && victim_dead_ns_ == 0 && watch_victim_ &&
          !os::process_alive(pids[*w_.crash_actor]))
        victim_dead_ns_ = Arena::now_ns();
      if (!stuck && victim_dead_ns_ != 0)
        stuck = survivor_unaware(w_, arena_, *w_.crash_actor, victim_dead_ns_,
                                 entry_.claims.peer_notice, o_.slack);
      if (!stuck && !out_.is_register)
        stuck = receiver_beside_a_message(w_, arena_, entry_.claims.promises("no-loss"), o_.bound,
                                          sends_);
      if (stuck) {
        stopped_ns_ = Arena::now_ns();
        out_.hang_note = std::move(*stuck);
        return true;
      }
      return false;
    });
    reaped_ns_ = Arena::now_ns();
    if (!unusable(entry_.name))
      if (auto why = guarded(
              entry_.name, "destroy", [&] { inst_.destroy(); }, o_.parent_call_limit))
        add_error(*why);
    out_.race_report = collect_race_reports(races_);
    out_.history = arena_.history();
    describe_case(w_, entry_, o_, out_.history);
    if (stopped_ns_ != 0) // the pending calls count as blocked until the case was stopped
      out_.history.meta_numbers["end_ns"] = static_cast<double>(stopped_ns_);
    out_.holds = board_.holds();
    if (const auto cut = arena_.out_of_time()) {
      out_.out_of_time = true;
      out_.history.meta_numbers["cut_ns"] = static_cast<double>(*cut);
    }
    account_exits();
  }

private:
  /// Actor `i`'s life once connected: the start barrier, its plan, its calls.
  int body(std::uint32_t i, AnySender *s, AnyReceiver *r) {
    tls_note = notes_.slot(i);
    place(w_, i);
    Actor a{w_, i, arena_, board_, deadline_, out_.is_register, processes_};
    board_.start(i);
    if (!start_.arrive_and_wait(deadline_))
      return kExitBarrier;
    install_perturbation(w_.perturb, w_.perturb_seed, i, &board_, processes_);
    const std::size_t max = entry_.claims.max_message;
    const int rc = s ? run_sender(a, *s, max) : run_receiver(a, *r, max);
    board_.finish(i);
    remove_perturbation();
    return rc;
  }

  /// Process mode: every actor forked, connecting in its own process.
  std::vector<pid_t> spawn_processes() {
    std::vector<pid_t> pids;
    for (std::uint32_t i = 0; i < w_.actors(); ++i)
      pids.push_back(spawn([&, i]() -> int {
        report_races_to(races_);
        std::set_terminate(on_terminate);
        tls_note = notes_.slot(i);
        Endpoints e;
        if (!connect_actor(inst_, w_, i, e, tls_note)) {
          start_.abandon(); // the peers would wait out the case deadline for nothing
          return kExitConnect;
        }
        inst_.detach();
        return body(i, e.sender.get(), e.receiver.get());
      }));
    return pids;
  }

  /// Thread mode: one host process runs every actor on a thread, so a hung case can still be
  /// killed by the watchdog and the parent stays clean.
  std::vector<pid_t> spawn_thread_host() {
    return {spawn([&]() -> int {
      report_races_to(races_);
      std::set_terminate(on_terminate);
      tls_note = notes_.slot(w_.actors());
      std::vector<Endpoints> ends(w_.actors());
      for (std::uint32_t i = 0; i < w_.actors(); ++i)
        if (!connect_actor(inst_, w_, i, ends[i], tls_note))
          return kExitConnect;
      inst_.detach();
      std::vector<std::thread> threads;
      std::vector<int> codes(w_.actors(), 0);
      for (std::uint32_t i = 0; i < w_.actors(); ++i)
        threads.emplace_back(
            [&, i] { codes[i] = body(i, ends[i].sender.get(), ends[i].receiver.get()); });
      for (auto &t : threads)
        t.join();
      for (int c : codes)
        if (c != 0)
          return c;
      return 0;
    })};
  }

  /// What each child's end says: the planned crash, an interrupt, the watchdog, a race report,
  /// or a failure of the channel (`run`).
  void account_exits() {
    for (std::size_t i = 0; i < out_.exits.size(); ++i) {
      const ChildExit &e = out_.exits[i];
      if (e.interrupted) {
        out_.interrupted = true;
      } else if (e.timed_out && stopped_ns_ != 0) {
        continue; // stopped early on purpose: the spec that fails says why
      } else if (e.timed_out) {
        out_.hung = true;
        out_.history.meta_numbers["end_ns"] = static_cast<double>(reaped_ns_);
        add_error(watchdog_text(w_, arena_, processes_, i));
      } else if (processes_ && w_.crash_actor && *w_.crash_actor == i && e.signal == SIGKILL) {
        out_.crashed = static_cast<std::uint32_t>(i);
      } else if (e.exited && e.code == kExitRaceReported && !out_.race_report.empty()) {
        continue; // ThreadSanitizer's exit status: race-free says what it saw
      } else if (!e.clean()) {
        add_error(exit_text(i, e));
      }
    }
    if (arena_.overflowed())
      add_error(arena_.overflow_text());
    if (out_.crashed) {
      out_.history.crashed.push_back(*out_.crashed + 1);
      out_.history.crashed_ns.push_back(out_.exits[*out_.crashed].ended_ns);
    }
  }

  /// Why child `i` ended as it did: its exit, where it was (the call it was in, or the last one
  /// it made), and its note (or the notes of the thread host's actors).
  std::string exit_text(std::size_t i, const ChildExit &e) const {
    const auto actor = static_cast<std::uint32_t>(i);
    std::string note = notes_.read(processes_ ? actor : w_.actors());
    for (std::uint32_t a = 0; !processes_ && a < w_.actors(); ++a)
      if (std::string n = notes_.read(a); !n.empty())
        note += fmt::format("{}{}: {}", note.empty() ? "" : "; ", actor_name(w_, a), n);
    if (note.empty())
      note = e.exited && e.code == kExitConnect   ? "connect failed"
             : e.exited && e.code == kExitBarrier ? "a peer never reached the start"
                                                  : "";
    std::string where;
    if (e.signal != 0)
      for (std::uint32_t a = 0; a < w_.actors(); ++a) {
        if (processes_ && a != actor)
          continue;
        const auto c = arena_.last_call(a);
        if (processes_ && !c)
          where = " before its first call";
        else if (c && c->pending)
          where += fmt::format("{} {}in {}", where.empty() ? "" : ",",
                               processes_ ? "" : actor_name(w_, a) + " ", spec::to_string(c->op));
        else if (processes_)
          where = fmt::format(" after its last call ({} -> {})", spec::to_string(c->op),
                              spec::to_string(c->res));
      }
    if (!processes_ && !where.empty())
      where = " (still" + where + ")";
    return fmt::format("{}: {}{}{}", processes_ ? actor_name(w_, actor) : "thread host",
                       e.describe(), where, note.empty() ? "" : ": " + note);
  }

  void add_error(const std::string &text) {
    out_.run_error += (out_.run_error.empty() ? "" : "; ") + text;
  }

  const ChannelEntry &entry_;
  const Workload &w_;
  const RunOptions &o_;
  AnyInstance &inst_;
  RunResult &out_;
  Arena arena_;
  SendsOverTime sends_; // the reaper's looks at the count of sends returned ok
  Board board_;
  Notes notes_;
  Barrier start_;
  const Deadline deadline_;
  const bool processes_;
  const std::string races_ = race_report_base(); // a TSan build: where the reports go
  std::int64_t stopped_ns_ = 0, reaped_ns_ = 0;
  /// Process mode, a crash plan and a claim of crash-safety with a notice: the reaper watches
  /// the victim, and from its death (victim_dead_ns_) the survivors (survivor_unaware).
  const bool watch_victim_ = processes_ && w_.crash_actor && *w_.crash_actor < w_.actors() &&
                             entry_.claims.promises("crash-safety") &&
                             entry_.claims.peer_notice.count() >= 0;
  std::int64_t victim_dead_ns_ = 0;
};

/// This process's open descriptors, "fd -> target" (open_fds of hygiene.hpp).
std::set<std::string> open_descriptors() {
  std::set<std::string> out;
  for (const auto &[fd, target] : open_fds())
    out.insert(fmt::format("{} -> {}", fd, target));
  return out;
}

/// What the channel left once destroyed, in this process or in a file system, as one line (""
/// when nothing), after removing it. Only what cannot be another process's: the named objects
/// this instance listed, and descriptors and children of this process. An object the channel
/// never listed is not looked for: a test running beside this one (ctest -j) makes objects of
/// its own, and a name alone cannot say whose they are.
std::string leftovers(const std::vector<NamedObject> &named, const std::set<std::string> &fds) {
  std::vector<std::string> left;
  for (const NamedObject &n : named)
    if (object_exists(n)) {
      const bool removed = remove_object(n);
      left.push_back(fmt::format("destroy left {} {}{}", n.kind,
                                 n.kind == "shm" ? "/dev/shm" + n.path : n.path,
                                 removed ? " (removed by the harness)" : ""));
    }
  std::vector<std::string> fds_left;
  for (const std::string &fd : open_descriptors())
    if (!fds.contains(fd) && fd.find("-> /proc/") == std::string::npos)
      fds_left.push_back(fd);
  if (!fds_left.empty())
    left.push_back(fmt::format("destroy left {} descriptor(s) open in ipcverify: {}",
                               fds_left.size(), fmt::join(fds_left, ", ")));
  for (const pid_t pid : live_children()) {
    ::kill(pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    left.push_back(
        fmt::format("destroy left child process {} running (killed by the harness)", pid));
  }
  return fmt::format("{}", fmt::join(left, "; "));
}

} // namespace

RunResult run_case(const ChannelEntry &entry, const Workload &w, const RunOptions &o) {
  RunResult out;
  out.is_register = entry.claims.promises("register");
  out.mode = o.mode;
  if (interrupted() != 0) {
    out.interrupted = true;
    return out;
  }
  if (auto why = unusable(entry.name)) {
    out.run_error = *why;
    out.abandoned = true;
    return out;
  }
  Config cfg;
  cfg.senders = w.senders;
  cfg.receivers = w.receivers;
  const std::set<std::string> fds_before = open_descriptors();
  std::unique_ptr<AnyInstance> inst;
  std::string failed;
  std::vector<NamedObject> named;
  auto why = guarded(
      entry.name, "prepare",
      [&] {
        auto prepared = entry.prepare(cfg);
        if (prepared)
          inst = std::move(*prepared);
        else
          failed = "prepare: " + prepared.status().describe();
      },
      o.parent_call_limit);
  if (!why && inst)
    why = guarded(
        entry.name, "named_objects", [&] { named = inst->named_objects(); }, o.parent_call_limit);
  if (why) { // the instance, if any, is abandoned with the channel: no more calls into it
    (void)inst.release();
    out.run_error = *why;
    out.abandoned = true;
    return out;
  }
  if (!inst) {
    out.run_error = failed;
    return out;
  }
  CaseRun(entry, w, o, *inst, out).run();
  if (!out.abandoned && unusable(entry.name)) {
    (void)inst.release(); // destroy or detach failed in here: the instance is the channel's
    out.abandoned = true;
    return out;
  }
  inst.reset();
  if (std::string left = leftovers(named, fds_before); !left.empty())
    out.run_error += (out.run_error.empty() ? "" : "; ") + left;
  return out;
}

} // namespace ipcv::harness
