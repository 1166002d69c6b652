// `integrity`: a history satisfies it when every received message is exactly what its producer
// sent (no torn, truncated or corrupted message). A receive fails it when the receiver found the
// payload damaged (intact=false), when its length differs from the length sent, or when it
// returned bytes without an identity (only the empty message has none).
#include "integrity.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

namespace ipcv::spec {

Verdict check_integrity(const History &h, const Params &) {
  const MsgIndex index(h);
  std::size_t received = 0;
  Failures bad(h);
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op != Op::recv || e.res != Res::ok)
      continue;
    ++received;
    const MsgRecord *r = e.has_msg ? index.find(e.msg) : nullptr;
    const Event *sent = r && r->send != kNone ? &h.events[r->send] : nullptr;
    std::string why;
    if (!e.intact)
      why = fmt::format("{} did not verify (torn, truncated or corrupted)", describe(e));
    else if (!e.has_msg && e.len != 0)
      why = fmt::format("{} returned {} bytes without an identity", describe(e), e.len);
    else if (sent && sent->len != e.len)
      why = fmt::format("{} returned {} bytes of a message sent with {}", describe(e), e.len,
                        sent->len);
    if (!why.empty())
      bad.add(std::move(why), {sent ? r->send : kNone, i});
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(fmt::format("{} of {} received messages are not what was sent; first: {}",
                                     bad.count, received, bad.first),
                         std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredIntegrity{
    {"integrity",
     "every received message is exactly what its producer sent (no "
     "torn, truncated or corrupted message)",
     &check_integrity}};
} // namespace

} // namespace ipcv::spec
