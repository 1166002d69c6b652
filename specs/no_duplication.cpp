// `no-duplication`: a history satisfies it when no message is received twice. Identities are the
// workload's promise: when one identity is sent twice the history cannot tell a duplicate from
// two messages, and the verdict is unknown. Empty messages have no identity; an excess of them
// is reported by no-phantom.
#include "no_duplication.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

namespace ipcv::spec {

Verdict check_no_duplication(const History &h, const Params &) {
  const MsgIndex index(h);
  Failures bad(h);
  for (const MsgRecord &r : index.records()) {
    if (r.sends > 1)
      return Verdict::undecided(
          fmt::format("{} is sent {} times, so its receives cannot be told apart ({})",
                      to_string(r.id), r.sends, describe(h.events[r.send])));
    if (r.recvs < 2)
      continue;
    bad.add(fmt::format("{} received {} times: {}, then {}", to_string(r.id), r.recvs,
                        describe(h.events[r.recv]), describe(h.events[r.recv2])),
            {r.send, r.recv, r.recv2});
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("{} messages received more than once; first: {}", bad.count, bad.first),
      std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredNoDuplication{
    {"no-duplication", "no message is received twice", &check_no_duplication}};
} // namespace

} // namespace ipcv::spec
