// The `no-phantom` spec: a history satisfies it when every received message was sent.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `no-phantom` spec: a history satisfies it when every received message was sent.
Verdict check_no_phantom(const History &h, const Params &p);

} // namespace ipcv::spec
