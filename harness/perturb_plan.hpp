// The perturbation plan: what an actor does at each IPCV_PERTURB_POINT of a reference channel.
// In the spirit of PCT (Burckhardt et al., ASPLOS 2010), each actor gets a random priority
// from the plan's seed; at a point, low-priority actors are more likely to yield, spin or
// sleep a few microseconds, so rare interleavings become likely and reproducible in kind.
// At level 3 a low-priority actor at a hot point *holds*: it waits until every other actor has
// settled (is blocked in a call, polls in vain, holds too, or is gone), as PCT's lowest
// priority runs only when the others cannot, so a window of a few instructions holds a whole
// step of every peer on every run, not just on lucky ones.
// The plan can also kill the actor at a point or on a timer (a crash inside a send or recv).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <sys/types.h>

namespace ipcv::harness {

/// A Board is what each actor of a case shows the others about its progress, in a shared
/// anonymous mapping made before fork: a count of steps (perturbation points reached, calls
/// begun and returned), whether it is inside a call, polling in vain, holding or finished,
/// and its pid. Level 3 reads it to tell when every peer has settled.
class Board {
public:
  enum State : std::uint32_t { running, in_call, idle, holding, finished };

  explicit Board(std::uint32_t actors);
  ~Board();
  Board(const Board &) = delete;
  Board &operator=(const Board &) = delete;

  /// The calling actor `a` (this process's pid is recorded for the liveness look).
  void start(std::uint32_t a) noexcept;
  /// `a` enters a call into the channel / returned from it (`idle`: it answered empty, full or
  /// timeout, so the actor polls in vain) / is done with the channel.
  void enter_call(std::uint32_t a) noexcept;
  void leave_call(std::uint32_t a, bool idle) noexcept;
  void finish(std::uint32_t a) noexcept;
  /// A perturbation point reached by `a`.
  void step(std::uint32_t a) noexcept;

  /// Waits until every actor but `a` has settled or `most` has passed, with `a` shown as
  /// holding meanwhile; `processes`: a finished actor counts once its process is gone too.
  /// Returns how long it waited.
  std::chrono::nanoseconds hold(std::uint32_t a, std::chrono::nanoseconds most,
                                bool processes) noexcept;

  std::uint32_t actors() const noexcept { return actors_; }
  /// Holds made by every actor so far (read once they have exited or been joined).
  std::uint32_t holds() const noexcept;

private:
  struct Slot; // one cache line per actor (perturb_plan.cpp)
  Slot &slot(std::uint32_t a) const noexcept;
  std::uint32_t actors_;
  std::size_t bytes_;
  std::byte *base_;
};

/// Installs the plan for the calling thread (actor `actor` of the run). level 0 installs none.
/// `board` (may be null: no holds) is the case's, and `processes` says whether actors are
/// processes (a finished peer has settled once its process is gone).
void install_perturbation(std::uint8_t level, std::uint64_t seed, std::uint32_t actor,
                          Board *board = nullptr, bool processes = false);

/// The harness is about to make a call into the channel: a perturbation point of the harness's
/// own, "harness.<op>", where a plan may hold or delay the actor before it calls (every
/// channel has it, whether or not it has points of its own).
void before_harness_call(const char *op);

/// The call about to be made has deadline `d` (its call time for a try_ call): the holds
/// inside it end by `d` plus kHoldSlack, so they never make a call return later than its
/// deadline's slack allows (100 ms by default), and a call with a far deadline can hold at
/// each of its many looks.
void holds_within(std::chrono::steady_clock::time_point d);

/// At most this much holding past a call's deadline, and this much per hold.
inline constexpr std::chrono::milliseconds kHoldSlack{40};
inline constexpr std::chrono::milliseconds kHoldMost{20};

/// From now on, SIGKILL the calling process at the next perturbation point it reaches, or
/// after `within_us` microseconds, whichever comes first: the timer is what lands a crash
/// inside a call of a channel without perturbation points (a blocked call, typically).
void arm_crash_at_next_point(std::uint32_t within_us);
/// True if a crash was armed and no point was reached (the caller should then crash itself).
bool crash_still_armed();

/// Removes the calling thread's plan.
void remove_perturbation();

/// Perturbation points the calling thread reached since its plan was installed.
std::uint64_t points_reached();

} // namespace ipcv::harness
