// `no-phantom`: a history satisfies it when every received message was sent. A received
// identity needs a send that returned ok or is pending (a pending send may have taken effect)
// and that was called before the receive returned; a send that returned anything else (full,
// timeout, error, ...) did not send. Identity-less (empty) messages are counted: no more may be
// received than were sent (ok or pending).
#include "no_phantom.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ipcv::spec {

Verdict check_no_phantom(const History &h, const Params &) {
  const MsgIndex index(h);
  Failures bad(h);
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
  // Empty messages can only be counted: the receives past the number sent, in call order, are
  // the ones that cannot have been sent.
  const std::size_t anon_sent = index.anon_sent_ok + index.anon_sent_pending;
  if (index.anon_received > anon_sent) {
    std::vector<std::size_t> by_call = index.anon_receives;
    std::stable_sort(by_call.begin(), by_call.end(), [&](std::size_t a, std::size_t b) {
      return h.events[a].call < h.events[b].call;
    });
    const std::string why =
        fmt::format("{} empty messages received but only {} sent", index.anon_received, anon_sent);
    for (std::size_t k = anon_sent; k < by_call.size(); ++k)
      bad.add(why, {by_call[k]});
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("{} received messages were never sent; first: {}", bad.count, bad.first),
      std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredNoPhantom{
    {"no-phantom", "every received message was sent", &check_no_phantom}};
} // namespace

} // namespace ipcv::spec
