// The `fifo` spec: a history satisfies it when each receiver gets each producer's messages in the
// order they were sent.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `fifo` spec: a history satisfies it when each receiver gets each producer's messages
/// in the order they were sent.
Verdict check_fifo(const History &h, const Params &p);

} // namespace ipcv::spec
