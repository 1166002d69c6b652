// `deadline`: a history satisfies it when every call honours its deadline. Every channel owes
// it, whatever else it claims: deadlines are the contract's. Only calls that record their
// deadline (the event's "deadline", ns on the clock of "call") are judged; a try_ call records
// its call time, since it must not wait at all. With S the slack (meta "slack_ns", else 100 ms:
// the scheduler's share of the lateness on a busy machine), a call fails it when
//  - it returned later than max(call, deadline) + S: it ignored its deadline, computed it on
//    the wrong clock, or slept a whole slice past it (a try_ call: it blocked);
//  - it was still pending at the end of the history (meta "end_ns", else the latest time) more
//    than S past its deadline, unless its process was killed on purpose (meta "crashed");
//  - it returned `timeout` before its deadline: it gave up early;
//  - it is a send that returned `timeout` or `full` and its message was received anyway: a
//    failed send must have no effect.
// That a timed-out receive consumed nothing is what no-loss judges (the message it took is
// lost), for the channels that claim it: a lossy channel's loss explains a missing message.
#include "deadline.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ipcv::spec {
namespace {

std::int64_t slack_of(const History &h, const Params &p) {
  if (p.slack_ns > 0)
    return p.slack_ns;
  if (auto it = h.meta_numbers.find("slack_ns"); it != h.meta_numbers.end() && it->second > 0)
    return static_cast<std::int64_t>(it->second);
  return kDefaultSlackNs;
}

/// The lateness of the call at `i` beyond its deadline and the slack, as a failure, if any.
void check_lateness(const History &h, std::size_t i, std::int64_t slack, std::int64_t end,
                    Failures &bad) {
  const Event &e = h.events[i];
  const std::int64_t due = std::max(e.call, e.deadline);
  const bool try_call = e.deadline <= e.call;
  if (e.pending()) {
    const bool killed = std::find(h.crashed.begin(), h.crashed.end(), e.pid) != h.crashed.end();
    if (!killed && end - due > slack)
      bad.add(fmt::format("{} was still pending {} after its deadline", describe(e),
                          ms_text(end - due)),
              {i});
  } else if (e.ret - due > slack) {
    bad.add(try_call ? fmt::format("{} is a try_ call and blocked for {}", describe(e),
                                   ms_text(e.ret - e.call))
                     : fmt::format("{} returned {} after its deadline (slack {})", describe(e),
                                   ms_text(e.ret - due), ms_text(slack)),
            {i});
  } else if (e.res == Res::timeout && e.ret < e.deadline) {
    bad.add(fmt::format("{} returned timeout {} before its deadline", describe(e),
                        ms_text(e.deadline - e.ret)),
            {i});
  }
}

} // namespace

Verdict check_deadline(const History &h, const Params &p) {
  const std::int64_t slack = slack_of(h, p);
  const std::int64_t end = end_of(h);
  const MsgIndex index(h);
  Failures bad(h);
  std::size_t judged = 0;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.deadline == kNever)
      continue;
    ++judged;
    check_lateness(h, i, slack, end, bad);
    if (e.op == Op::send && e.has_msg && (e.res == Res::timeout || e.res == Res::full))
      if (const MsgRecord *r = index.find(e.msg); r && r->sends == 1 && r->recv != kNone)
        bad.add(fmt::format("{} failed, yet its message was received", describe(e)), {i, r->recv});
  }
  if (judged == 0)
    return Verdict::undecided("no call recorded its deadline");
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(fmt::format("{} of {} calls did not honour their deadline; first: {}",
                                     bad.count, judged, bad.first),
                         std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredDeadline{
    {"deadline",
     "every call honours its deadline: it returns no later than the "
     "deadline plus the slack, never times out before it, and a "
     "failed send has no effect",
     &check_deadline, Domain::any, true}};
} // namespace

} // namespace ipcv::spec
