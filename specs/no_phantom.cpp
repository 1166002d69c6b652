// `no-phantom`: a history satisfies it when every received message was sent. A received
// identity needs a send that returned ok or is pending (a pending send may have taken effect)
// and that was called before the receive returned; a send that returned anything else (full,
// timeout, error, ...) did not send. Identity-less (empty) messages are counted: no more may be
// received than were sent (ok or pending).
#include "no_phantom.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

namespace ipcv::spec {

Verdict check_no_phantom(const History &h, const Params &) {
  const MsgIndex index(h);
  Failures bad;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (!is_identified_receive(e))
      continue;
    const MsgRecord *r = index.find(e.msg);
    const Event *sent = r->send != kNone ? &h.events[r->send] : nullptr;
    std::string why;
    if (!sent)
      why = fmt::format("{} returned {}, which no one sent", describe(e), to_string(e.msg));
    else if (sent->res != Res::ok && !sent->pending())
      why = fmt::format("{} returned {}, whose send failed ({})", describe(e), to_string(e.msg),
                        to_string(sent->res));
    else if (e.ret < sent->call)
      why = fmt::format("{} returned {} before its send was called", describe(e), to_string(e.msg));
    if (!why.empty())
      bad.add(std::move(why), {sent ? r->send : kNone, i});
  }
  const std::size_t anon_sent = index.anon_sent_ok + index.anon_sent_pending;
  if (index.anon_received > anon_sent) {
    const std::size_t extra = index.anon_received - anon_sent;
    if (bad.first.empty())
      bad.first = fmt::format("{} empty messages received but only {} sent", index.anon_received,
                              anon_sent);
    bad.count += extra;
    for (std::size_t k = anon_sent; k < index.anon_receives.size() && bad.witnesses.size() < 6; ++k)
      bad.witnesses.push_back(index.anon_receives[k]);
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("{} received messages were never sent; first: {}", bad.count, bad.first),
      std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegistered{
    {"no-phantom", "every received message was sent", &check_no_phantom}};
} // namespace

} // namespace ipcv::spec
