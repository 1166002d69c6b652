// Verifies the shm channels in thread mode: senders and receivers on threads of one process, so
// that ThreadSanitizer, Helgrind and DRD see every release/acquire pair of the rings, the queue
// and the register. Senders send self-describing messages (specs/message.hpp), receivers verify
// each one alone, every call is recorded in a harness::Arena, and the history is judged by the
// catalog's specs that the channel claims: a duplicate or a loss fails by name, whatever the
// count of messages. The oracle is shown failing on the faulty fixtures that duplicate and drop.
#include "shm_testing.hpp"

#include "harness/arena.hpp"
#include "impl/faulty/locked_queue.hpp"
#include "specs/catalog.hpp"
#include "specs/message.hpp"
#include "specs/timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <pthread.h>
#include <thread>

namespace ipcv::shm {
namespace {

using namespace ipcv::shm::testing;
using harness::Arena;
using spec::Op;
using spec::Res;

/// kJudged are the specs a thread exchange is judged by, each only when the channel claims it.
constexpr std::array<std::string_view, 6> kJudged = {"integrity", "no-phantom", "no-duplication",
                                                     "no-loss",   "fifo",       "register"};

const auto kCallWithin = std::chrono::seconds(60); // a blocking call's deadline

/// An ThreadExchange is the shape of one run: `messages` per sender, of kMinMessageSize to
/// `max_len` bytes; with `poll`, try_ calls only (plus a receive with a past deadline to see eof),
/// so all synchronisation must come from the channel's indices and sequences, not its futex words.
struct ThreadExchange {
  Config cfg;
  std::uint64_t messages = 0;
  std::size_t max_len = 0;
  bool poll = false;
};

/// A Run is what one exchange left behind: the recorded history, and what went wrong outside
/// the specs' view (a call that failed outright, a full arena, a damaged unrecorded read).
struct Run {
  spec::History history;
  std::string run_error;
};

/// A StartLine lets the threads of an exchange begin together, so that their calls overlap
/// from the first one. A pthread barrier: ThreadSanitizer, Helgrind and DRD all understand it.
class StartLine {
public:
  explicit StartLine(unsigned n) { pthread_barrier_init(&b_, nullptr, n); }
  ~StartLine() { pthread_barrier_destroy(&b_); }
  StartLine(const StartLine &) = delete;
  StartLine &operator=(const StartLine &) = delete;
  void arrive_and_wait() { pthread_barrier_wait(&b_); }

private:
  pthread_barrier_t b_;
};

/// The Res recorded for a channel Result (the two share their canonical spellings).
Res to_res(Result r) {
  Res out = Res::error;
  spec::parse(to_string(r), out);
  return out;
}

/// The number of reads a register reader records; past it, it reads on until eof, verifying
/// each read alone. A read does not consume, so readers may outpace the writer without bound.
std::uint64_t read_budget(const ThreadExchange &x) { return 16 * x.messages + 1024; }

/// Sender `actor` sends its messages (producer actor + 1, as the arena's pid), then closes.
/// A poll's try_sends that found the channel full had no effect: they are one recorded send.
template <class C>
void send_all(typename C::Sender &tx, Arena &arena, std::uint32_t actor, const ThreadExchange &x,
              bool reg) {
  std::vector<std::byte> buf(x.max_len);
  const std::uint32_t producer = actor + 1;
  for (std::uint64_t seq = 0; seq < x.messages; ++seq) {
    const std::size_t len = size_for(seq, spec::kMinMessageSize, x.max_len);
    spec::encode(producer, seq, len, buf);
    const spec::MsgId id{producer, seq};
    const auto m = std::span<const std::byte>(buf).first(len);
    auto slot =
        arena.begin(actor, reg ? Op::write : Op::send, &id, static_cast<std::uint32_t>(len));
    Status st;
    if (x.poll) {
      while ((st = tx.try_send(m)).result == Result::full || st.result == Result::timeout)
        std::this_thread::yield();
    } else {
      st = tx.send(m, Clock::now() + kCallWithin);
    }
    arena.end(actor, slot, to_res(st.result));
  }
  if (reg) { // a register history has writes and reads only
    tx.close();
    return;
  }
  auto slot = arena.begin(actor, Op::close);
  tx.close();
  arena.end(actor, slot, Res::ok);
}

/// Receiver `actor` receives until eof or a failure, recording each call that returned
/// something; a poll that found nothing had no effect and is forgotten (Arena::cancel). A
/// register reader past its read budget stops recording and counts damaged reads in `damaged`.
template <class C>
void receive_all(typename C::Receiver &rx, Arena &arena, std::uint32_t actor,
                 const ThreadExchange &x, bool reg, std::uint64_t &damaged) {
  std::vector<std::byte> buf(x.max_len);
  const Op op = reg ? Op::read : Op::recv;
  auto nothing = [](const RecvStatus &st) {
    return st.result == Result::empty || st.result == Result::timeout;
  };
  std::uint64_t recorded = 0;
  for (;;) {
    const bool record = !reg || recorded < read_budget(x);
    Arena::Slot slot = record ? arena.begin(actor, op) : -1;
    RecvStatus st = x.poll ? rx.try_recv(buf) : rx.recv(buf, Clock::now() + kCallWithin);
    if (nothing(st)) {
      arena.cancel(actor, slot);
      slot = record ? arena.begin(actor, op) : -1;
      st = rx.recv(buf, Clock::now()); // past deadline: looks at the peers once
      if (nothing(st)) {
        arena.cancel(actor, slot);
        continue;
      }
    }
    if (!st.ok()) {
      arena.end(actor, slot, to_res(st.result));
      return;
    }
    const auto check = spec::verify(std::span<const std::byte>(buf.data(), st.size));
    const bool intact = check.status == spec::MsgStatus::ok && st.size >= spec::kMinMessageSize;
    arena.end(actor, slot, Res::ok, check.id ? &*check.id : nullptr,
              static_cast<std::uint32_t>(st.size), intact);
    recorded += record;
    if (!record && !intact)
      ++damaged;
  }
}

/// The calls of `h` that failed outright, which no spec judges: a send or close that did not
/// return ok, a receive that ended in neither a message nor eof, a call that never returned.
std::string failed_calls(const spec::History &h) {
  std::string out;
  std::size_t n = 0;
  for (const spec::Event &e : h.events) {
    const bool want_ok = e.op == Op::send || e.op == Op::write || e.op == Op::close;
    if (want_ok ? e.res == Res::ok : e.res == Res::ok || e.res == Res::eof)
      continue;
    if (++n == 1)
      out = fmt::format("pid {}: {} returned {}", e.pid, spec::to_string(e.op),
                        spec::to_string(e.res));
  }
  return n <= 1 ? out : fmt::format("{} (and {} more failed calls)", out, n - 1);
}

/// Runs `x` on threads against channel C: every endpoint connected up front, one thread per
/// endpoint, and the arena read once every thread has been joined.
template <class C> Run exchange_on_threads(const ThreadExchange &x) {
  Run out;
  const bool reg = C::claims().promises("register");
  const std::uint32_t actors = x.cfg.senders + x.cfg.receivers;
  const std::uint64_t per_receiver = reg ? read_budget(x) : 2 * x.messages * x.cfg.senders + 16;
  Arena arena(actors, static_cast<std::uint32_t>(std::max(per_receiver, x.messages + 1)));
  auto a = C::prepare(x.cfg);
  if (!a) {
    out.run_error = "prepare: " + a.status().describe();
    return out;
  }
  std::vector<typename C::Sender> tx;
  std::vector<typename C::Receiver> rx;
  for (unsigned i = 0; i < x.cfg.senders; ++i)
    if (auto s = C::connect_sender(*a))
      tx.push_back(std::move(*s));
  for (unsigned i = 0; i < x.cfg.receivers; ++i)
    if (auto r = C::connect_receiver(*a))
      rx.push_back(std::move(*r));
  C::detach(*a);
  if (tx.size() != x.cfg.senders || rx.size() != x.cfg.receivers) {
    tx.clear();
    rx.clear();
    C::destroy(*a);
    out.run_error = "connect failed";
    return out;
  }
  std::vector<std::uint64_t> damaged(actors, 0); // each element written by its own thread
  StartLine start(actors);
  std::vector<std::thread> ts;
  for (std::uint32_t i = 0; i < x.cfg.senders; ++i)
    ts.emplace_back([&, i] {
      start.arrive_and_wait();
      send_all<C>(tx[i], arena, i, x, reg);
    });
  for (std::uint32_t i = x.cfg.senders; i < actors; ++i)
    ts.emplace_back([&, i] {
      start.arrive_and_wait();
      receive_all<C>(rx[i - x.cfg.senders], arena, i, x, reg, damaged[i]);
    });
  for (auto &t : ts)
    t.join();
  tx.clear();
  rx.clear();
  C::destroy(*a);
  out.history = arena.history();
  out.run_error = failed_calls(out.history);
  if (arena.overflowed())
    out.run_error += (out.run_error.empty() ? "" : "; ") + arena.overflow_text();
  for (std::uint32_t i = 0; i < actors; ++i)
    if (damaged[i] != 0)
      out.run_error += fmt::format("{}pid {}: {} unrecorded reads did not verify",
                                   out.run_error.empty() ? "" : "; ", i + 1, damaged[i]);
  return out;
}

/// A Judgement is the verdict of each spec of kJudged that a channel claims on one run.
struct Judgement {
  std::vector<std::pair<std::string_view, spec::Verdict>> verdicts;
  std::string run_error;

  /// True when the run went as planned and every claimed spec passed.
  bool holds() const {
    return run_error.empty() && std::all_of(verdicts.begin(), verdicts.end(), [](const auto &v) {
             return v.second.kind == spec::Verdict::pass;
           });
  }
  /// The verdict on `name`, or nullptr when it was not judged.
  const spec::Verdict *verdict(std::string_view name) const {
    for (const auto &[n, v] : verdicts)
      if (n == name)
        return &v;
    return nullptr;
  }
  /// True when `name` was judged and failed.
  bool fails(std::string_view name) const {
    const spec::Verdict *v = verdict(name);
    return v != nullptr && v->kind == spec::Verdict::fail;
  }
};

/// Runs `x` against C and judges the history by every spec of kJudged that C claims and that
/// applies to it (a register's history has no queue operations for `integrity` to judge).
template <class C> Judgement judge_exchange(const ThreadExchange &x, std::string &report) {
  Run run = exchange_on_threads<C>(x);
  Judgement j;
  j.run_error = std::move(run.run_error);
  const Claims claims = C::claims();
  for (std::string_view name : kJudged) {
    if (!claims.promises(name))
      continue;
    const spec::Spec *s = spec::find_spec(name);
    if (s == nullptr) {
      j.verdicts.emplace_back(name, spec::Verdict::undecided("not in the catalog"));
    } else if (spec::applies(*s, run.history)) {
      j.verdicts.emplace_back(name, s->check(run.history, spec::Params{}));
    }
  }
  if (!j.run_error.empty())
    report += "run: " + j.run_error + "\n";
  for (const auto &[name, v] : j.verdicts)
    if (v.kind != spec::Verdict::pass)
      report += fmt::format("{}{}: {}\n{}", v.kind == spec::Verdict::fail ? "" : "undecided ", name,
                            v.explanation, spec::render_timeline(run.history, v.witnesses));
  return j;
}

/// Expects every spec C claims to hold on `x`; a failure prints each explanation and timeline.
template <class C> void expect_claims_hold(const ThreadExchange &x) {
  std::string report;
  const Judgement j = judge_exchange<C>(x, report);
  EXPECT_FALSE(j.verdicts.empty()) << C::kName << " claims none of the judged specs";
  EXPECT_TRUE(j.holds()) << C::kName << " broke its claims:\n" << report;
}

/// Expects the oracle to find `name` broken by the faulty channel C on `x`, and shows its words.
template <class C> void expect_oracle_fails(const ThreadExchange &x, std::string_view name) {
  std::string report;
  const Judgement j = judge_exchange<C>(x, report);
  EXPECT_TRUE(j.run_error.empty()) << j.run_error;
  ASSERT_NE(j.verdict(name), nullptr) << C::kName << " does not claim " << name;
  EXPECT_TRUE(j.fails(name)) << "the oracle missed " << C::kName << "'s bug:\n" << report;
  if (j.fails(name))
    std::printf("  %s: %s\n", std::string(name).c_str(), j.verdict(name)->explanation.c_str());
}

TEST(ShmThreads, SpscDeliversEveryMessageIntact) {
  expect_claims_hold<ShmSpscChannel>({Config{512, 3, 1, 1}, 5000, 512, false});
}

TEST(ShmThreads, SpscDeliversEveryMessageIntactWhenPolling) {
  expect_claims_hold<ShmSpscChannel>({Config{512, 3, 1, 1}, 5000, 512, true});
}

TEST(ShmThreads, MpmcDeliversEveryMessageIntact) {
  expect_claims_hold<ShmMpmcChannel>({Config{128, 4, 2, 2}, 3000, 128, false});
}

TEST(ShmThreads, MpmcDeliversEveryMessageIntactWhenPolling) {
  expect_claims_hold<ShmMpmcChannel>({Config{128, 4, 2, 2}, 3000, 128, true});
}

TEST(ShmThreads, RegisterReadsAreNeverTorn) {
  expect_claims_hold<ShmRegisterChannel>({Config{256, 0, 1, 2}, 5000, 256, false});
}

TEST(ShmThreads, RegisterReadsAreNeverTornWhenPolling) {
  expect_claims_hold<ShmRegisterChannel>({Config{256, 0, 1, 2}, 5000, 256, true});
}

TEST(ShmThreads, OracleCatchesADuplicate) {
  expect_oracle_fails<faulty::LockedQueue<faulty::Fault::dup>>(
      {Config{128, 0, 2, 2}, 3000, 128, false}, "no-duplication");
}

TEST(ShmThreads, OracleCatchesALoss) {
  expect_oracle_fails<faulty::LockedQueue<faulty::Fault::drop>>(
      {Config{128, 0, 2, 2}, 3000, 128, false}, "no-loss");
}

} // namespace
} // namespace ipcv::shm
