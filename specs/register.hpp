// The `register` spec: a history satisfies it when it is one of a single-writer latest-value
// register: no torn read, reads never go back in time per reader, linearizable read/write.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `register` spec: a history satisfies it when it is one of a single-writer
/// latest-value register (no torn read, per-reader monotonic, linearizable reads and writes).
Verdict check_register(const History &h, const Params &p);

} // namespace ipcv::spec
