// linearizable: a history satisfies it when it is linearizable with respect to a FIFO queue, in
// real-time order across all processes, `empty` results included. Decided in O(n log n) by the
// absence of the queue's bad patterns (VFresh, VRepet, VOrd, VWit); see linearizable.cpp.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// check_linearizable is the polynomial decision of the `linearizable` spec: `fail` names the bad
/// pattern and its witness events, `unknown` when the history is outside what the reduction
/// covers (a message sent twice, a malformed event, or a verdict that hinges on which message a
/// pending receive took).
Verdict check_linearizable(const History &h, const Params &p);

/// kLinearizable is the `linearizable` spec, as registered in the catalog.
inline constexpr Spec kLinearizable{
    .name = "linearizable",
    .definition = "the history is linearizable with respect to a FIFO queue (real-time order "
                  "across all processes, empty results included)",
    .check = &check_linearizable};

} // namespace ipcv::spec
