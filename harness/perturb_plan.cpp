// Implementation of the perturbation plan (perturb_plan.hpp).
#include "perturb_plan.hpp"

#include "ipcverify/perturb.hpp"

#include <csignal>
#include <ctime>
#include <sched.h>

namespace ipcv::harness {
namespace {

struct Plan {
  std::uint64_t rng = 0;
  std::uint8_t level = 0;
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

void at_point(const char *name) {
  Plan &p = tls_plan;
  ++p.reached;
  if (p.crash_armed)
    ::raise(SIGKILL);
  // Level 2: about one point in four is hot for this plan, and a slow actor stops long at it
  // one time in two. A window of a few instructions between two steps of one actor (a flag,
  // then a pid) then holds a whole step of a peer (close, then exit) often enough to be found,
  // and the same plan aims at the same window when its counterexample is replayed.
  if (p.level == 2 && p.delay_per_mille == kSlow && (name_hash(name) ^ p.hot_salt) % 4 == 0) {
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

void install_perturbation(std::uint8_t level, std::uint64_t seed, std::uint32_t actor) {
  Plan &p = tls_plan;
  p = Plan{};
  p.level = level;
  p.hot_salt = seed * 0xbf58476d1ce4e5b9ULL; // the same for every actor of the plan
  p.rng = (seed ^ (0x9e3779b97f4a7c15ULL * (actor + 1))) | 1;
  for (int i = 0; i < 4; ++i)
    next(p.rng);
  // PCT-like priorities: one in three actors is slow (delayed at 1 point in 3), the others
  // are delayed rarely, so the slow ones fall behind at exactly the points that matter.
  p.delay_per_mille = next(p.rng) % 3 == 0 ? kSlow : 20;
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

void remove_perturbation() {
  tls_plan = Plan{};
  perturb::install(nullptr);
}

std::uint64_t points_reached() { return tls_plan.reached; }

} // namespace ipcv::harness
