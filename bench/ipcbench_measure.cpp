// Measuring for ipcbench: the two physical baselines, and one point (channel × pattern × wait ×
// size) between two forked processes A and B pinned to different CPUs. The parent prepares the
// instances, forks A and B, and only reaps and cleans up; A and B connect, meet at a barrier,
// warm up, and run the timed loop with no allocation, no sleep and no clock read beyond one per
// round trip (pingpong) or one per 64 messages (stream). Results come back through a shared
// anonymous mapping made before fork.
//
// Messages carry their sequence number in the first 8 bytes (so the smallest size is 8); a
// receiver checks it, which is how a lost or reordered message, and for a register a stale
// value, is told apart from the one awaited. A sequence number with every bit set ends a run.
#include "ipcbench.hpp"

#include "harness/hygiene.hpp"
#include "harness/process.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <memory>
#include <new>
#include <sched.h>
#include <sys/mman.h>

namespace ipcv::bench {
namespace {

constexpr std::uint64_t kMarker = ~std::uint64_t{0};          ///< "the run is over"
constexpr std::uint64_t kMeasured = std::uint64_t{1} << 62;   ///< stream: sent after warm-up
constexpr std::uint64_t kMaxWarmRounds = 1000;                ///< pingpong warm-up cap
constexpr std::uint64_t kMaxWarmMessages = 10000;             ///< stream warm-up cap
constexpr std::size_t kMaxRecvBuffer = std::size_t{16} << 20; ///< cap on a receive buffer
constexpr std::uint64_t kLocalLineRounds = 5000; ///< cache-line round trips before each pingpong

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

/// A Line is one cache line holding a sequence number; two of them sit 128 bytes apart, so the
/// adjacent-line prefetcher does not pair them either.
struct alignas(128) Line {
  std::atomic<std::uint64_t> v{0};
};

/// A Report is what A and B hand back to the parent, plus the two lines of the bare cache-line
/// round trip they run first. Each side writes only its own fields.
struct Report {
  Line ping; ///< A -> B
  Line pong; ///< B -> A
  double line_p50 = 0;
  double line_p99 = 0;
  alignas(64) std::atomic<int> failed{0}; ///< a side gave up: the other stops waiting for it
  char error[2][256] = {};                ///< first failure of A (0) and B (1)
  std::uint64_t count = 0;
  double p50 = 0;
  double p99 = 0;
  double msgs_per_s = 0;
  double gbps = 0;

  /// Records the first failure of `side` and tells the other side to stop; returns false.
  bool fail(int side, const std::string &what) noexcept {
    if (error[side][0] == '\0') {
      const std::size_t n = std::min(what.size(), sizeof(error[side]) - 1);
      std::memcpy(error[side], what.data(), n);
      error[side][n] = '\0';
    }
    failed.store(1, std::memory_order_release);
    return false;
  }
};

/// Pins a freshly forked side to `cpu` (not when cpu < 0). harness::spawn already gave it the
/// default action for the interrupt signals: a side just dies and is reaped.
void enter_child(int cpu) noexcept {
  if (cpu < 0)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof(set), &set);
}

/// A SpinGuard ends a busy-wait that can no longer succeed: the deadline passed or the other
/// side gave up. It looks only every 1024 spins, so a spin costs one increment and a branch.
class SpinGuard {
public:
  SpinGuard(Deadline d, const std::atomic<int> &failed) noexcept : d_(d), failed_(failed) {}
  bool keep_going() noexcept {
    if ((++spins_ & 0x3ff) != 0)
      return true;
    return failed_.load(std::memory_order_relaxed) == 0 && Clock::now() < d_;
  }

private:
  Deadline d_;
  const std::atomic<int> &failed_;
  std::uint64_t spins_ = 0;
};

template <Wait W>
Status put(AnySender &tx, std::span<const std::byte> m, Deadline d, SpinGuard &g) noexcept {
  if constexpr (W == Wait::block) {
    return tx.send(m, d);
  } else {
    for (;;) {
      Status s = tx.try_send(m);
      if (s.result != Result::full)
        return s;
      if (!g.keep_going())
        return Result::timeout;
    }
  }
}

template <Wait W>
RecvStatus get(AnyReceiver &rx, std::span<std::byte> b, Deadline d, SpinGuard &g) noexcept {
  if constexpr (W == Wait::block) {
    return rx.recv(b, d);
  } else {
    for (;;) {
      RecvStatus r = rx.try_recv(b);
      if (r.result != Result::empty)
        return r;
      if (!g.keep_going())
        return Status{Result::timeout};
    }
  }
}

std::uint64_t seq_of(std::span<const std::byte> b) noexcept {
  std::uint64_t s;
  std::memcpy(&s, b.data(), sizeof s);
  return s;
}
void set_seq(std::span<std::byte> b, std::uint64_t s) noexcept {
  std::memcpy(b.data(), &s, sizeof s);
}

/// Turns timestamps t[0..n] into the n intervals between them, sorts them, and returns the
/// median and 99th percentile (nearest rank).
void percentiles(std::vector<std::int64_t> &t, std::uint64_t n, double &p50, double &p99) {
  for (std::uint64_t i = 0; i < n; ++i)
    t[i] = t[i + 1] - t[i];
  std::sort(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n));
  auto rank = [&](double q) {
    auto k = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
    return static_cast<double>(t[std::clamp<std::uint64_t>(k, 1, n) - 1]);
  };
  p50 = rank(0.50);
  p99 = rank(0.99);
}

/// Warm-up length for a measured length `n`: a tenth, between 1 and `cap`.
std::uint64_t warm_count(std::uint64_t n, std::uint64_t cap) {
  return std::clamp<std::uint64_t>(n / 10, 1, cap);
}

/// A's half of the bare cache-line round trip: stores a sequence number on `ping`, spins until
/// B echoes it on `pong`; warms up, times `n` rounds into `t`, then tells B to stop.
bool line_a(Report &rep, std::uint64_t n, std::vector<std::int64_t> &t, SpinGuard &g) {
  std::uint64_t seq = 0;
  auto round = [&]() -> bool {
    // SYNC POINT WRITE: ping sequence. B spins on it.
    rep.ping.v.store(++seq, std::memory_order_release);
    // SYNC POINT READ: pong sequence. Without acquire A could time a stale echo.
    while (rep.pong.v.load(std::memory_order_acquire) != seq)
      if (!g.keep_going())
        return rep.fail(0, "cache line: no echo");
    return true;
  };
  for (std::uint64_t w = warm_count(n, 100000); w > 0; --w)
    if (!round())
      return false;
  t[0] = now_ns();
  for (std::uint64_t i = 1; i <= n; ++i) {
    if (!round())
      return false;
    t[i] = now_ns();
  }
  rep.ping.v.store(kMarker, std::memory_order_release);
  percentiles(t, n, rep.line_p50, rep.line_p99);
  return true;
}

/// B's half: echoes every new sequence number on `ping` back on `pong` until the end marker.
bool line_b(Report &rep, SpinGuard &g) {
  std::uint64_t last = 0;
  for (;;) {
    std::uint64_t v;
    // SYNC POINT READ: ping sequence (B side). Only the value matters, no payload follows.
    while ((v = rep.ping.v.load(std::memory_order_acquire)) == last)
      if (!g.keep_going())
        return rep.fail(1, "cache line: no ping");
    if (v == kMarker)
      return true;
    // SYNC POINT WRITE: pong sequence. The echo A waits for.
    rep.pong.v.store(v, std::memory_order_release);
    last = v;
  }
}

std::int64_t limit_ns(const Budget &b) {
  return b.seconds > 0 ? static_cast<std::int64_t>(b.seconds * 1e9) : 0;
}

/// What one side of a point needs: its endpoints' buffers, the budget, the report, the end.
struct Side {
  const Point &p;
  const Budget &b;
  Report &rep;
  Deadline d;
  int index; ///< 0: A, 1: B
  std::span<std::byte> out;
  std::span<std::byte> in;
  bool fail(const std::string &what) const { return rep.fail(index, what); }
};

// ---- pingpong: A sends seq on `fwd`, B echoes it on `back`, A waits for the echo ----

template <Wait W>
bool pingpong_a(const Side &s, AnySender &tx, AnyReceiver &rx, std::vector<std::int64_t> &t) {
  SpinGuard g(s.d, s.rep.failed);
  const bool reg = is_register(*s.p.channel);
  std::uint64_t seq = 0;
  auto round = [&]() -> bool {
    set_seq(s.out, ++seq);
    Status st = put<W>(tx, s.out, s.d, g);
    if (!st.ok())
      return s.fail(fmt::format("send #{}: {}", seq, st.describe()));
    for (;;) {
      RecvStatus r = get<W>(rx, s.in, s.d, g);
      if (!r.ok())
        return s.fail(fmt::format("recv of echo #{}: {}", seq, r.describe()));
      const std::uint64_t got = seq_of(s.in);
      if (got == seq && r.size == s.out.size())
        return true;
      // A register shows its latest value until the echo lands: poll again. A queue must not.
      if (!reg)
        return s.fail(
            fmt::format("echo #{}: got #{} of {} B, want {} B", seq, got, r.size, s.out.size()));
    }
  };
  const std::uint64_t n = s.b.iterations;
  const std::int64_t limit = limit_ns(s.b);
  const std::int64_t warm_start = now_ns();
  for (std::uint64_t w = warm_count(n, kMaxWarmRounds); w > 0; --w) {
    if (!round())
      return false;
    if (limit > 0 && now_ns() - warm_start >= limit / 10)
      break;
  }
  std::uint64_t i = 0;
  t[0] = now_ns();
  while (i < n) {
    if (!round())
      return false;
    t[++i] = now_ns();
    if (limit > 0 && t[i] - t[0] >= limit)
      break;
  }
  set_seq(s.out, kMarker);
  if (Status st = put<W>(tx, s.out, s.d, g); !st.ok())
    return s.fail("send of the end marker: " + st.describe());
  percentiles(t, i, s.rep.p50, s.rep.p99);
  s.rep.count = i;
  return true;
}

template <Wait W> bool pingpong_b(const Side &s, AnySender &tx, AnyReceiver &rx) {
  SpinGuard g(s.d, s.rep.failed);
  const bool reg = is_register(*s.p.channel);
  std::uint64_t last = 0;
  for (;;) {
    RecvStatus r = get<W>(rx, s.in, s.d, g);
    if (!r.ok())
      return s.fail(fmt::format("recv after #{}: {}", last, r.describe()));
    const std::uint64_t got = seq_of(s.in);
    if (got == kMarker)
      return true;
    if (reg && got == last)
      continue; // the register still shows the previous value
    if (got != last + 1 || r.size != s.out.size())
      return s.fail(fmt::format("after #{} got #{} of {} B, want #{} of {} B", last, got, r.size,
                                last + 1, s.out.size()));
    last = got;
    set_seq(s.out, got);
    if (Status st = put<W>(tx, s.out, s.d, g); !st.ok())
      return s.fail(fmt::format("send of echo #{}: {}", got, st.describe()));
  }
}

// ---- stream: A sends as fast as it can, B receives and times ----

template <Wait W> bool stream_a(const Side &s, AnySender &tx) {
  SpinGuard g(s.d, s.rep.failed);
  const std::uint64_t n = s.b.iterations;
  const std::int64_t limit = limit_ns(s.b);
  std::uint64_t seq = 0;
  auto send = [&](std::uint64_t flag) -> bool {
    set_seq(s.out, ++seq | flag);
    Status st = put<W>(tx, s.out, s.d, g);
    return st.ok() || s.fail(fmt::format("send #{}: {}", seq, st.describe()));
  };
  const std::int64_t warm_start = now_ns();
  for (std::uint64_t w = 1; w <= warm_count(n, kMaxWarmMessages); ++w) {
    if (!send(0))
      return false;
    if (limit > 0 && (w & 63) == 0 && now_ns() - warm_start >= limit / 10)
      break;
  }
  const std::int64_t start = now_ns();
  for (std::uint64_t i = 1; i <= n; ++i) {
    if (!send(kMeasured))
      return false;
    if (limit > 0 && (i & 63) == 0 && now_ns() - start >= limit)
      break;
  }
  set_seq(s.out, kMarker);
  if (Status st = put<W>(tx, s.out, s.d, g); !st.ok())
    return s.fail("send of the end marker: " + st.describe());
  return true;
}

template <Wait W> bool stream_b(const Side &s, AnyReceiver &rx) {
  SpinGuard g(s.d, s.rep.failed);
  const bool fifo = s.p.channel->claims.promises("fifo");
  std::uint64_t expected = 1;
  std::uint64_t measured = 0;
  std::int64_t first = 0;
  std::int64_t end = 0;
  for (;;) {
    RecvStatus r = get<W>(rx, s.in, s.d, g);
    if (!r.ok())
      return s.fail(fmt::format("recv after #{}: {}", expected - 1, r.describe()));
    const std::uint64_t got = seq_of(s.in);
    if (got == kMarker) {
      end = now_ns();
      break;
    }
    if ((fifo && (got & ~kMeasured) != expected) || r.size != s.out.size())
      return s.fail(fmt::format("got #{} of {} B, want #{} of {} B", got & ~kMeasured, r.size,
                                expected, s.out.size()));
    ++expected;
    if ((got & kMeasured) != 0 && measured++ == 0)
      first = now_ns();
  }
  // From the first measured message to the marker, `measured` messages arrived (the other
  // measured ones and the marker).
  if (measured < 2 || end <= first)
    return s.fail("too few measured messages to time");
  const double secs = static_cast<double>(end - first) / 1e9;
  s.rep.count = measured;
  s.rep.msgs_per_s = static_cast<double>(measured) / secs;
  s.rep.gbps = s.rep.msgs_per_s * static_cast<double>(s.p.size) / 1e9;
  return true;
}

/// An Instance owns one prepared channel instance in the parent and destroys it on every path.
class Instance {
public:
  explicit Instance(std::unique_ptr<AnyInstance> i)
      : i_(std::move(i)), named_(i_->named_objects()) {}
  ~Instance() {
    if (i_)
      i_->destroy();
  }
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;
  AnyInstance &operator*() const noexcept { return *i_; }
  /// Destroys the instance; returns what is still there afterwards ("" when nothing).
  std::string destroy() {
    i_->destroy();
    i_.reset();
    std::string left;
    for (const auto &o : named_)
      if (harness::object_exists(o))
        left += fmt::format("{}{} {}", left.empty() ? "" : ", ", o.kind, o.path);
    return left;
  }

private:
  std::unique_ptr<AnyInstance> i_;
  std::vector<NamedObject> named_;
};

/// The buffers of one side, faulted in before the barrier so the timed loop touches no new page.
struct Buffers {
  std::vector<std::byte> out;
  std::vector<std::byte> in;
  Buffers(const Point &p)
      : out(p.size, std::byte{0x5a}),
        in(std::max(p.size, std::min(p.channel->claims.max_message, kMaxRecvBuffer)),
           std::byte{0}) {}
};

/// The body of side `index` in its own process: connect, detach, meet, run, report.
int run_side(int index, int cpu, const Point &p, const Budget &b, AnyInstance *fwd,
             AnyInstance *back, harness::Barrier &bar, Report &rep, Deadline d) {
  enter_child(cpu);
  std::unique_ptr<AnySender> tx;
  std::unique_ptr<AnyReceiver> rx;
  auto connect = [&](AnyInstance *inst, bool sender) -> bool {
    if (inst == nullptr)
      return true;
    if (sender) {
      auto c = inst->connect_sender(0);
      if (!c)
        return rep.fail(index, "connect_sender: " + c.status().describe());
      tx = std::move(*c);
    } else {
      auto c = inst->connect_receiver(0);
      if (!c)
        return rep.fail(index, "connect_receiver: " + c.status().describe());
      rx = std::move(*c);
    }
    return true;
  };
  // A sends on fwd and receives on back; B the other way round.
  const bool connected = connect(fwd, index == 0) && connect(back, index != 0);
  if (fwd != nullptr)
    fwd->detach();
  if (back != nullptr)
    back->detach();
  Buffers buf(p);
  std::vector<std::int64_t> t;
  if (index == 0 && p.pattern == Pattern::pingpong)
    t.assign(std::max(b.iterations, kLocalLineRounds) + 1, 0);
  // Both always reach the barrier, so a side that failed to connect stops the other at once.
  if (!bar.arrive_and_wait(d))
    return rep.fail(index, "the other side never reached the barrier"), 1;
  if (!connected || rep.failed.load(std::memory_order_acquire) != 0)
    return 1;
  const Side s{p, b, rep, d, index, buf.out, buf.in};
  bool ok = false;
  const bool spin = p.wait == Wait::spin;
  if (p.pattern == Pattern::pingpong) {
    // The bare cache-line round trip, by the same processes on the same CPUs a moment before:
    // on a virtual machine the host moves the virtual CPUs, and this round trip with them.
    SpinGuard g(d, rep.failed);
    if (!(index == 0 ? line_a(rep, kLocalLineRounds, t, g) : line_b(rep, g)))
      return 1;
    if (index == 0)
      ok = spin ? pingpong_a<Wait::spin>(s, *tx, *rx, t) : pingpong_a<Wait::block>(s, *tx, *rx, t);
    else
      ok = spin ? pingpong_b<Wait::spin>(s, *tx, *rx) : pingpong_b<Wait::block>(s, *tx, *rx);
  } else {
    if (index == 0)
      ok = spin ? stream_a<Wait::spin>(s, *tx) : stream_a<Wait::block>(s, *tx);
    else
      ok = spin ? stream_b<Wait::spin>(s, *rx) : stream_b<Wait::block>(s, *rx);
  }
  if (tx)
    tx->close();
  if (rx)
    rx->close();
  return ok ? 0 : 1;
}

/// How long a point may take before its children are killed: generous, it only stops a hang.
Clock::duration watchdog(const Budget &b) {
  if (b.seconds <= 0)
    return std::chrono::minutes(10);
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(4 * b.seconds + 10));
}

/// Forks A and B running `side(index)`, reaps both by `d` (+2 s), and says what went wrong
/// with either ("" when both exited 0). `after_fork` runs in the parent between fork and reap.
template <class Body, class AfterFork>
std::string fork_pair(Body &&side, AfterFork &&after_fork, Report &rep, Deadline d) {
  std::vector<pid_t> pids;
  for (int index = 0; index < 2; ++index) {
    pid_t pid = harness::spawn([&] { return side(index); });
    if (pid < 0) {
      rep.fail(index, fmt::format("fork: {}", std::strerror(errno)));
      // The side already running waits at the barrier for one that will never come.
      for (pid_t other : pids)
        ::kill(other, SIGKILL);
      break;
    }
    pids.push_back(pid);
  }
  after_fork();
  const auto exits = harness::reap(pids, d + std::chrono::seconds(2));
  std::string why;
  for (std::size_t i = 0; i < exits.size(); ++i) {
    if (exits[i].clean())
      continue;
    const char *name = i == 0 ? "A" : "B";
    const char *text = rep.error[i];
    why += fmt::format("{}{}: {}{}{}", why.empty() ? "" : "; ", name, exits[i].describe(),
                       text[0] ? ": " : "", text);
  }
  if (pids.size() < 2 && why.empty())
    why = rep.error[pids.size()];
  return why;
}

} // namespace

CpuPair pick_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CpuPair out;
  if (::sched_getaffinity(0, sizeof(set), &set) != 0)
    return out;
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
    if (CPU_ISSET(c, &set))
      cpus.push_back(c);
  if (cpus.size() == 2) {
    out.a = cpus[0];
    out.b = cpus[1];
  }
  return out;
}

double measure_memcpy_gbps(std::size_t bytes, int repeats) {
  std::unique_ptr<std::byte[]> src(new std::byte[bytes]);
  std::unique_ptr<std::byte[]> dst(new std::byte[bytes]);
  std::memset(src.get(), 0x5a, bytes);
  std::memset(dst.get(), 0, bytes);
  std::int64_t best = std::numeric_limits<std::int64_t>::max();
  for (int r = 0; r < repeats; ++r) {
    const std::int64_t t0 = now_ns();
    std::memcpy(dst.get(), src.get(), bytes);
    // Keeps the copy: the compiler must assume the asm reads the destination.
    asm volatile("" : : "r"(dst.get()) : "memory");
    best = std::min(best, now_ns() - t0);
  }
  return static_cast<double>(bytes) / static_cast<double>(std::max<std::int64_t>(best, 1));
}

bool measure_cacheline_rtt(std::uint64_t iterations, const CpuPair &cpus, Baselines &out,
                           std::string &error) {
  harness::SharedBlock<Report> rep;
  harness::Barrier bar(2);
  const Deadline d = Clock::now() + std::chrono::seconds(30);
  auto side = [&](int index) -> int {
    enter_child(index == 0 ? cpus.a : cpus.b);
    SpinGuard g(d, rep->failed);
    std::vector<std::int64_t> t(index == 0 ? iterations + 1 : 0);
    if (!bar.arrive_and_wait(d))
      return rep->fail(index, "the other side never arrived"), 1;
    return (index == 0 ? line_a(*rep, iterations, t, g) : line_b(*rep, g)) ? 0 : 1;
  };
  error = fork_pair(
      side, [] {}, *rep, d);
  if (!error.empty())
    return false;
  out.cacheline_rtt_ns = rep->line_p50;
  out.cacheline_rtt_p99_ns = rep->line_p99;
  return true;
}

double clock_read_ns() {
  std::vector<double> per_read;
  for (int batch = 0; batch < 31; ++batch) {
    const std::int64_t t0 = now_ns();
    std::int64_t sink = 0;
    for (int i = 0; i < 256; ++i)
      sink += now_ns();
    asm volatile("" : : "r"(sink));
    per_read.push_back(static_cast<double>(now_ns() - t0) / 257.0);
  }
  std::sort(per_read.begin(), per_read.end());
  return per_read[per_read.size() / 2];
}

Measurement run_point(const Point &p, const Budget &b, const CpuPair &cpus) {
  Measurement m;
  m.point = p;
  const ChannelEntry &e = *p.channel;
  // The channel's own defaults (maximum message, capacity): the benchmark measures the channel
  // as it ships, and every size sent is within the maximum.
  const Config cfg{};
  auto prepare = [&](std::unique_ptr<Instance> &slot) {
    auto i = e.prepare(cfg);
    if (!i) {
      m.error = "prepare: " + i.status().describe();
      return false;
    }
    slot = std::make_unique<Instance>(std::move(*i));
    return true;
  };
  std::unique_ptr<Instance> fwd;
  std::unique_ptr<Instance> back;
  if (!prepare(fwd))
    return m;
  if (p.pattern == Pattern::pingpong && !prepare(back))
    return m;

  harness::SharedBlock<Report> rep;
  harness::Barrier bar(2);
  const Deadline d = Clock::now() + watchdog(b);
  AnyInstance *f = &**fwd;
  AnyInstance *k = back ? &**back : nullptr;
  auto side = [&](int index) {
    return run_side(index, index == 0 ? cpus.a : cpus.b, p, b, f, k, bar, *rep, d);
  };
  auto detach = [&] {
    // The contract: the parent drops its copies of the addresses once the children have forked.
    f->detach();
    if (k != nullptr)
      k->detach();
  };
  m.error = fork_pair(side, detach, *rep, d);
  for (auto *inst : {&fwd, &back}) {
    if (!*inst)
      continue;
    if (std::string left = (*inst)->destroy(); !left.empty() && m.error.empty())
      m.error = "still there after destroy: " + left;
  }
  if (!m.error.empty())
    return m;
  m.ok = true;
  m.count = rep->count;
  m.rtt_ns_p50 = rep->p50;
  m.rtt_ns_p99 = rep->p99;
  m.line_ns_p50 = rep->line_p50;
  m.msgs_per_s = rep->msgs_per_s;
  m.gbps = rep->gbps;
  return m;
}

} // namespace ipcv::bench
