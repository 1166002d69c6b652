// The `deadline` spec: a history satisfies it when every call honours its deadline: it returns
// no later than its deadline plus the slack (a try_ call, whose deadline is its call, never
// waits), it never answers `timeout` before its deadline, and a send that timed out (or found
// the channel full) took no effect.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `deadline` spec: a history satisfies it when every call honours its deadline (no
/// later than the deadline plus the slack, no `timeout` before it, no effect of a failed send).
Verdict check_deadline(const History &h, const Params &p);

} // namespace ipcv::spec
