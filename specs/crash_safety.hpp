// The `crash-safety` spec: a history in which a participant was killed on purpose satisfies it
// when the survivors neither hang nor receive damaged messages, completed sends still arrive
// where no-loss is claimed, and every survivor waiting on the dead peer learns of the death in
// time.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `crash-safety` spec (see the file's opening comment).
Verdict check_crash_safety(const History &h, const Params &p);

} // namespace ipcv::spec
