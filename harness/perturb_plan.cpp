// Implementation of the perturbation plan (perturb_plan.hpp).
#include "perturb_plan.hpp"

#include "impl/os.hpp"
#include "ipcverify/perturb.hpp"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <new>
#include <sched.h>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace ipcv::harness {
namespace {

struct Plan {
  std::uint64_t rng = 0;
  std::uint8_t level = 0;
  std::uint32_t actor = 0;
  Board *board = nullptr; ///< level 3 holds on it; every point is a step on it
  bool processes = false;
  /// Holds end by then (holds_within; before a call: one hold's length from the point).
  std::chrono::steady_clock::time_point hold_until{};
  std::uint32_t delay_per_mille = 0; ///< this actor's chance to be delayed at a point
  std::uint64_t hot_salt = 0;        ///< picks this plan's hot points (level 2)
  bool crash_armed = false;
  std::uint64_t reached = 0;
};

/// FNV-1a of a point's name: which points a plan makes hot depends on the name, not on where
/// the string lies, so a replay (a new process) picks the same ones.
std::uint64_t name_hash(const char *name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (; *name != '\0'; ++name)
    h = (h ^ static_cast<unsigned char>(*name)) * 0x100000001b3ULL;
  return h;
}

void sleep_ns(long ns) {
  timespec ts{0, ns};
  ::nanosleep(&ts, nullptr);
}

thread_local Plan tls_plan;

/// The chance per mille that a slow actor is delayed at a point (the others: 20).
constexpr std::uint32_t kSlow = 333;

std::uint64_t next(std::uint64_t &s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

/// Level 3 at a hot point: wait until every peer settled, within the call's budget of holds.
void hold_here(Plan &p) {
  if (p.board == nullptr)
    return;
  const auto left = p.hold_until - std::chrono::steady_clock::now();
  if (left <= std::chrono::nanoseconds{0})
    return;
  p.board->hold(p.actor, std::min<std::chrono::nanoseconds>(kHoldMost, left), p.processes);
}

void at_point(const char *name) {
  Plan &p = tls_plan;
  ++p.reached;
  if (p.board != nullptr)
    p.board->step(p.actor);
  if (p.crash_armed)
    ::raise(SIGKILL);
  // Level 2: about one point in four is hot for this plan, and a slow actor stops long at it
  // one time in two. A window of a few instructions between two steps of one actor (a flag,
  // then a pid) then holds a whole step of a peer (close, then exit) often enough to be found,
  // and the same plan aims at the same window when its counterexample is replayed.
  // Level 3 holds there instead, every time: until each peer is blocked, polling in vain or
  // gone, which is the whole step of a peer the window needs, on every run.
  // Level 3 makes one point name in two hot (a case has few names: the harness's five and the
  // channel's), so a search over a few seeds finds the actor and the point a window needs.
  const unsigned hot_one_in = p.level == 3 ? 2 : 4;
  if (p.level >= 2 && p.delay_per_mille == kSlow &&
      (name_hash(name) ^ p.hot_salt) % hot_one_in == 0) {
    if (p.level == 3) {
      hold_here(p);
      return;
    }
    const std::uint64_t r = next(p.rng);
    if (r % 2 == 0)
      sleep_ns(200'000 + static_cast<long>((r >> 8) % 1'800'000));
    return;
  }
  if (p.level == 0 || next(p.rng) % 1000 >= p.delay_per_mille)
    return;
  const std::uint64_t r = next(p.rng);
  const unsigned kind = p.level == 1 ? 0 : static_cast<unsigned>(r % 3);
  if (kind == 0) {
    ::sched_yield();
  } else if (kind == 1) {
    const std::uint64_t spins = 50 + (r >> 8) % 2000;
    for (std::uint64_t i = 0; i < spins; ++i)
      asm volatile("" ::: "memory");
  } else {
    // Mostly a few µs; one sleep in eight lasts 0.2-2 ms, long enough for a peer to finish a
    // whole step meanwhile (close and exit, or publish and notify), which a window of a few
    // instructions otherwise almost never holds.
    sleep_ns((r >> 8) % 8 == 0 ? 200'000 + static_cast<long>((r >> 11) % 1'800'000)
                               : 1000 + static_cast<long>((r >> 11) % 50'000));
  }
}

} // namespace

struct alignas(64) Board::Slot {
  std::atomic<std::uint64_t> steps{0};
  std::atomic<std::uint32_t> state{running};
  std::atomic<std::int32_t> pid{0};
  std::atomic<std::int32_t> tid{0};
  std::atomic<std::uint32_t> holds{0};
};

Board::Board(std::uint32_t actors) : actors_(actors), bytes_(sizeof(Slot) * std::max(1u, actors)) {
  void *p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("board: mmap failed");
  base_ = static_cast<std::byte *>(p);
  // Every slot begins its life here, before any actor is forked or started (as the arena's).
  for (std::uint32_t a = 0; a < actors_; ++a)
    new (base_ + sizeof(Slot) * a) Slot{};
}

Board::~Board() { ::munmap(base_, bytes_); }

Board::Slot &Board::slot(std::uint32_t a) const noexcept {
  return *std::launder(reinterpret_cast<Slot *>(base_ + sizeof(Slot) * a));
}

// Relaxed everywhere: the board orders nothing. A peer that reads a stale state or count holds
// a little longer or shorter, which changes a schedule, never a verdict.
void Board::start(std::uint32_t a) noexcept {
  slot(a).pid.store(static_cast<std::int32_t>(::getpid()), std::memory_order_relaxed);
  slot(a).tid.store(static_cast<std::int32_t>(::gettid()), std::memory_order_relaxed);
  slot(a).state.store(running, std::memory_order_relaxed);
}
void Board::enter_call(std::uint32_t a) noexcept {
  slot(a).steps.fetch_add(1, std::memory_order_relaxed);
  slot(a).state.store(in_call, std::memory_order_relaxed);
}
void Board::leave_call(std::uint32_t a, bool idle_now) noexcept {
  slot(a).steps.fetch_add(1, std::memory_order_relaxed);
  slot(a).state.store(idle_now ? idle : running, std::memory_order_relaxed);
}
void Board::finish(std::uint32_t a) noexcept {
  slot(a).state.store(finished, std::memory_order_relaxed);
}
std::uint32_t Board::holds() const noexcept {
  std::uint32_t n = 0;
  for (std::uint32_t a = 0; a < actors_; ++a)
    n += slot(a).holds.load(std::memory_order_relaxed);
  return n;
}

void Board::step(std::uint32_t a) noexcept {
  slot(a).steps.fetch_add(1, std::memory_order_relaxed);
}

std::chrono::nanoseconds Board::hold(std::uint32_t a, std::chrono::nanoseconds most,
                                     bool processes) noexcept {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  slot(a).holds.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t was = slot(a).state.exchange(holding, std::memory_order_relaxed);
  std::vector<std::uint64_t> before(actors_);
  for (;;) {
    for (std::uint32_t j = 0; j < actors_; ++j)
      before[j] = slot(j).steps.load(std::memory_order_relaxed);
    sleep_ns(100'000); // a peer inside a call that took no step meanwhile may be blocked in it
    bool settled = true;
    for (std::uint32_t j = 0; j < actors_ && settled; ++j) {
      if (j == a)
        continue;
      const std::uint32_t st = slot(j).state.load(std::memory_order_relaxed);
      if (st == finished)
        settled = !processes || !os::process_alive(slot(j).pid.load(std::memory_order_relaxed));
      else if (st == in_call) // and asleep in the kernel: blocked, not merely descheduled
        settled = slot(j).steps.load(std::memory_order_relaxed) == before[j] &&
                  os::thread_state(slot(j).pid.load(std::memory_order_relaxed),
                                   slot(j).tid.load(std::memory_order_relaxed)) != 'R';
      else
        settled = st == holding || st == idle;
    }
    if (settled || Clock::now() - start >= most)
      break;
  }
  slot(a).state.store(was, std::memory_order_relaxed);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
}

void install_perturbation(std::uint8_t level, std::uint64_t seed, std::uint32_t actor, Board *board,
                          bool processes) {
  Plan &p = tls_plan;
  p = Plan{};
  p.level = level;
  p.actor = actor;
  p.board = board;
  p.processes = processes;
  p.hot_salt = seed * 0xbf58476d1ce4e5b9ULL; // the same for every actor of the plan
  p.rng = (seed ^ (0x9e3779b97f4a7c15ULL * (actor + 1))) | 1;
  for (int i = 0; i < 4; ++i)
    next(p.rng);
  // PCT-like priorities: one in three actors is slow (delayed at 1 point in 3), the others
  // are delayed rarely, so the slow ones fall behind at exactly the points that matter.
  // At level 3 one in two.
  p.delay_per_mille = next(p.rng) % (level == 3 ? 2 : 3) == 0 ? kSlow : 20;
  perturb::install(&at_point);
}

void arm_crash_at_next_point(std::uint32_t within_us) {
  tls_plan.crash_armed = true;
  if (perturb::tls_hook == nullptr)
    perturb::install(&at_point);
  // A one-shot timer that delivers SIGKILL to the process; never disarmed, since the process
  // dies at the point, on the timer, or right after the call (Actor::after_call).
  sigevent ev{};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGKILL;
  timer_t t{};
  if (::timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
    return; // the point or after_call remain
  itimerspec when{};
  when.it_value.tv_sec = within_us / 1'000'000;
  when.it_value.tv_nsec = static_cast<long>(within_us % 1'000'000) * 1000 + 1; // never 0: 0 disarms
  ::timer_settime(t, 0, &when, nullptr);
}

bool crash_still_armed() { return tls_plan.crash_armed; }

void before_harness_call(const char *op) {
  tls_plan.hold_until = std::chrono::steady_clock::now() + kHoldMost;
  perturb::point(op); // not the macro: the harness's points are there in every build
}

void holds_within(std::chrono::steady_clock::time_point d) { tls_plan.hold_until = d + kHoldSlack; }

void remove_perturbation() {
  tls_plan = Plan{};
  perturb::install(nullptr);
}

std::uint64_t points_reached() { return tls_plan.reached; }

} // namespace ipcv::harness
