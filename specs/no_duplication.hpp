// The `no-duplication` spec: a history satisfies it when no message is received twice.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `no-duplication` spec: a history satisfies it when no message is received twice.
Verdict check_no_duplication(const History &h, const Params &p);

} // namespace ipcv::spec
