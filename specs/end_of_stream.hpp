// The `end-of-stream` spec: a history satisfies it when every receiver is told the end of the
// stream truthfully: `eof` only once every sender has closed and nothing is left to receive,
// and `peer_gone` only when a sender may have died without closing.
#pragma once

#include "history.hpp"

namespace ipcv::spec {

/// Checks the `end-of-stream` spec: a history satisfies it when every receiver is told the end
/// of the stream truthfully (`eof` only once every sender closed and the channel is drained,
/// `peer_gone` only when a sender may have died without closing).
Verdict check_end_of_stream(const History &h, const Params &p);

} // namespace ipcv::spec
