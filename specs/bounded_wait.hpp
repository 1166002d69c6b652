// The `bounded-wait` spec: a history satisfies it when no call stays blocked longer than the
// bound while it could have completed (no lost wake-ups, no deadlock).
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `bounded-wait` spec with the bound Params::bound_ns, or the meta key "bound_ns"
/// when that is 0; unknown without a bound. The rules are in bounded_wait.cpp.
Verdict check_bounded_wait(const History &h, const Params &p);

} // namespace ipcv::spec
