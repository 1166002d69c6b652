// The `no-loss` spec: a history satisfies it when every message whose send returned ok is received
// (pending sends may or may not be).
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `no-loss` spec: a history satisfies it when every message whose send returned ok is
/// received (pending sends may or may not be).
Verdict check_no_loss(const History &h, const Params &p);

} // namespace ipcv::spec
