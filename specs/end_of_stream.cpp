// `end-of-stream`: a history satisfies it when every receiver is told the end of the stream
// truthfully: `eof` only once every sender has closed and nothing is left to receive, and
// `peer_gone` only when a sender may have died without closing. A receive fails it when
//  - it returned eof and a sender called send or close after that return (that sender was
//    still open, so the stream had not ended);
//  - it returned eof and a message was in the channel during its whole call: sent ok before
//    the eof was called, and taken by a receive called after the eof returned;
//  - it returned ok after its own receiver had been told eof (the end is final);
//  - it returned peer_gone although no sender can have died: every sender (declared in meta
//    "senders" or shown by a send or close) has a close that returned ok, at any time (a peer
//    that closes later was alive), and no pid in meta "crashed" is of unknown role (it may be
//    a sender killed before its first call). A sender killed after its close returned closed
//    cleanly: eof is due, not peer_gone.
// Pending calls prove nothing and are never used as evidence. Sends that return peer_gone are
// not judged: receivers record no close, so a history cannot show they were all alive.
// Cost: O(n log n), one sort of the messages by the return of their send.
#include "end_of_stream.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace ipcv::spec {
namespace {

/// What the history shows of each sender: its last call, and its ok close if any.
struct SenderTrace {
  std::size_t last_call = kNone; ///< the sender's event called last
  std::size_t closed_ok = kNone; ///< a close that returned ok
};

std::map<std::uint32_t, SenderTrace> trace_senders(const History &h, const Roles &roles) {
  std::map<std::uint32_t, SenderTrace> out;
  for (std::uint32_t pid : roles.senders)
    out[pid];
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op != Op::send && e.op != Op::close)
      continue;
    SenderTrace &t = out[e.pid];
    if (t.last_call == kNone || h.events[t.last_call].call < e.call)
      t.last_call = i;
    if (e.op == Op::close && e.res == Res::ok)
      t.closed_ok = i;
  }
  return out;
}

/// True when some sender may have died without closing, which excuses a peer_gone.
bool a_sender_may_have_died(const History &h, const Roles &roles,
                            const std::map<std::uint32_t, SenderTrace> &senders) {
  for (const auto &[pid, t] : senders)
    if (t.closed_ok == kNone)
      return true;
  // A killed pid whose role nothing shows may be a sender that died before its first call.
  return std::any_of(h.crashed.begin(), h.crashed.end(), [&](std::uint32_t pid) {
    return !roles.is_sender(pid) && !roles.is_receiver(pid);
  });
}

/// The sender event called last of all, or kNone: an eof answered before its call was early.
std::size_t latest_sender_call(const History &h,
                               const std::map<std::uint32_t, SenderTrace> &senders) {
  std::size_t latest = kNone;
  for (const auto &[pid, t] : senders)
    if (t.last_call != kNone &&
        (latest == kNone || h.events[t.last_call].call > h.events[latest].call))
      latest = t.last_call;
  return latest;
}

/// Answers "which message was sent ok before time c and taken by a receive called after time
/// r?" in O(log n): messages by the return of their send, with the latest receive call so far.
class LeftBehind {
public:
  LeftBehind(const History &h, const MsgIndex &index) {
    for (const MsgRecord &r : index.records())
      if (r.send != kNone && r.recv != kNone && h.events[r.send].res == Res::ok)
        by_send_.push_back({h.events[r.send].ret, h.events[r.recv].call, &r});
    std::sort(by_send_.begin(), by_send_.end(),
              [](const Entry &a, const Entry &b) { return a.sent < b.sent; });
    for (std::size_t i = 1; i < by_send_.size(); ++i)
      if (by_send_[i].taken < by_send_[i - 1].taken) {
        by_send_[i].taken = by_send_[i - 1].taken;
        by_send_[i].record = by_send_[i - 1].record;
      }
  }
  const MsgRecord *find(std::int64_t c, std::int64_t r) const {
    auto it = std::lower_bound(by_send_.begin(), by_send_.end(), c,
                               [](const Entry &e, std::int64_t t) { return e.sent < t; });
    if (it == by_send_.begin())
      return nullptr;
    --it; // the latest-taken of the messages sent before c
    return it->taken > r ? it->record : nullptr;
  }

private:
  struct Entry {
    std::int64_t sent, taken; ///< send's return; latest receive call among these so far
    const MsgRecord *record;
  };
  std::vector<Entry> by_send_;
};

} // namespace

Verdict check_end_of_stream(const History &h, const Params &) {
  const Roles roles = roles_of(h);
  const auto senders = trace_senders(h, roles);
  const bool death_possible = a_sender_may_have_died(h, roles, senders);
  const MsgIndex index(h);
  const LeftBehind left(h, index);
  const std::size_t latest = latest_sender_call(h, senders);
  std::map<std::uint32_t, std::size_t> told_eof; // receiver -> its earliest eof
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op == Op::recv && e.res == Res::eof)
      if (auto [it, fresh] = told_eof.try_emplace(e.pid, i);
          !fresh && h.events[it->second].ret > e.ret)
        it->second = i;
  }
  Failures bad(h);
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op != Op::recv || e.pending())
      continue;
    if (e.res == Res::eof) {
      if (latest != kNone && h.events[latest].call > e.ret)
        bad.add(fmt::format("{} though pid {} was still open: it called {} afterwards", describe(e),
                            h.events[latest].pid, to_string(h.events[latest].op)),
                {i, latest});
      else if (const MsgRecord *r = left.find(e.call, e.ret))
        bad.add(fmt::format("{} while {} was still in the channel: sent before and received "
                            "after it",
                            describe(e), to_string(r->id)),
                {r->send, i, r->recv});
    } else if (e.res == Res::ok) {
      if (auto it = told_eof.find(e.pid); it != told_eof.end() && h.events[it->second].ret < e.call)
        bad.add(fmt::format("{} after the same receiver was told eof", describe(e)),
                {it->second, i});
    } else if (e.res == Res::peer_gone && !death_possible) {
      const std::size_t close = senders.empty() ? kNone : senders.begin()->second.closed_ok;
      bad.add(fmt::format("{} though every sender closed cleanly (eof was due)", describe(e)),
              {close, i});
    }
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(fmt::format("{} receives told the end of the stream wrongly; first: {}",
                                     bad.count, bad.first),
                         std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredEndOfStream{
    {"end-of-stream",
     "every receiver is told the end of the stream truthfully: eof only once every sender "
     "closed and nothing is left, peer_gone only when a sender may have died without closing",
     &check_end_of_stream}};
} // namespace

} // namespace ipcv::spec
