// An exhaustive linearizability checker for FIFO-queue histories in the style of Wing and Gong:
// a depth-first search over linearization orders of the queue operations, memoised on (set of
// operations already linearized, queue contents) as porcupine does. Exponential, so it is kept
// for small histories, where it is the reference the polynomial `linearizable` check is tested
// against.
#pragma once

#include <cstddef>

#include "history.hpp"

namespace ipcv::spec {

/// kWingGongMaxOps is the default number of queue operations above which the exhaustive search
/// declines (returns unknown).
inline constexpr std::size_t kWingGongMaxOps = 12;

/// check_wing_gong decides linearizability with respect to a FIFO queue by exhaustive search.
/// Events are read as check_linearizable reads them (a pending send or receive may or may not
/// have taken effect; a pending receive removes the head or finds the queue empty; sends that
/// returned anything but ok or pending, and receives that returned anything but ok, empty or
/// pending, had no effect). Message ids need not be distinct: zero-length messages, which carry
/// none, are all one value. Returns unknown when the history has more than `max_ops` (at most
/// 64) queue operations or a call that returned before it was called.
Verdict check_wing_gong(const History &h, std::size_t max_ops = kWingGongMaxOps);

} // namespace ipcv::spec
