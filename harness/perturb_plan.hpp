// The perturbation plan: what an actor does at each IPCV_PERTURB_POINT of a reference channel.
// In the spirit of PCT (Burckhardt et al., ASPLOS 2010), each actor gets a random priority
// from the plan's seed; at a point, low-priority actors are more likely to yield, spin or
// sleep a few microseconds, so rare interleavings become likely and reproducible in kind.
// The plan can also kill the actor at a point or on a timer (a crash inside a send or recv).
#pragma once

#include <cstdint>

namespace ipcv::harness {

/// Installs the plan for the calling thread (actor `actor` of the run). level 0 installs none.
void install_perturbation(std::uint8_t level, std::uint64_t seed, std::uint32_t actor);

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
