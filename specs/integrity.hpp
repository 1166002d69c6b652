// The `integrity` spec: a history satisfies it when every received message is exactly what its
// producer sent (no torn, truncated or corrupted message).
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `integrity` spec: a history satisfies it when every received message is exactly what
/// its producer sent (no torn, truncated or corrupted message).
Verdict check_integrity(const History &h, const Params &p);

} // namespace ipcv::spec
