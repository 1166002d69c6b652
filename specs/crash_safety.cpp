// `crash-safety`: a history in which a participant was killed on purpose (meta "crashed", with
// "crashed_ns": when its death was seen at the latest) satisfies it when
//  - no survivor hung: none of its calls is pending more than the bound (meta "bound_ns")
//    before the end of the history (meta "end_ns", else the latest time);
//  - no survivor received a damaged message (intact false);
//  - where the channel claims no-loss (meta "claims") and no receiver was killed, every
//    message sent ok arrived (the no-loss spec, after the kill);
//  - every survivor that waits on the dead peer learns of the death within N (meta
//    "notice_ns", the bound the channel declares) plus the slack S (meta "slack_ns", else
//    100 ms): once a killed sender was dead and every other sender had closed with ok (from T,
//    the later of the two), a receive returns (eof, peer_gone or a message) no later than
//    max(call, T) + N + S and never answers "not now" (timeout, or a try_recv's empty) when
//    called after T + N + S; once every receiver was killed (from T, its death), a send returns
//    no later than max(call, T) + N + S and never answers timeout or a try_send's full when
//    called after T + N + S.
// A history with no kill is unknown: there is nothing to judge. Without "notice_ns" the last
// rule is not judged; without "crashed_ns" the last call of the killed pid stands in for T.
#include "crash_safety.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"
#include "no_loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace ipcv::spec {
namespace {

std::int64_t meta_or(const History &h, std::string_view key, std::int64_t fallback) {
  if (auto it = h.meta_numbers.find(key); it != h.meta_numbers.end())
    return static_cast<std::int64_t>(it->second);
  return fallback;
}

bool killed(const History &h, std::uint32_t pid) {
  return std::find(h.crashed.begin(), h.crashed.end(), pid) != h.crashed.end();
}

/// When pid `k` (the i-th of meta "crashed") was dead at the latest.
std::int64_t death_of(const History &h, std::size_t i) {
  if (i < h.crashed_ns.size())
    return h.crashed_ns[i];
  std::int64_t last = 0;
  for (const Event &e : h.events)
    if (e.pid == h.crashed[i])
      last = std::max(last, e.pending() ? e.call : e.ret);
  return last;
}

/// Hangs and damaged messages of the survivors.
void survivors_whole(const History &h, Failures &bad) {
  const std::int64_t bound = meta_or(h, "bound_ns", 0);
  std::int64_t end = 0;
  for (const Event &e : h.events)
    end = std::max({end, e.call, e.pending() ? e.call : e.ret});
  end = meta_or(h, "end_ns", end);
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (killed(h, e.pid))
      continue;
    if (e.pending() && bound > 0 && end - e.call > bound)
      bad.add(fmt::format("{} hung: still pending {} after its call", describe(e),
                          ms_text(end - e.call)),
              {i});
    else if (e.has_msg && e.res == Res::ok && !e.intact && (e.op == Op::recv || e.op == Op::read))
      bad.add(fmt::format("{} received a damaged message", describe(e)), {i});
  }
}

/// From when every sender is gone (killed, or closed with ok) for the receivers, or every
/// receiver killed for the senders; nothing while someone on that side may still act.
std::optional<std::int64_t> side_gone(const History &h, const Roles &roles, bool senders) {
  const auto &side = senders ? roles.senders : roles.receivers;
  std::int64_t from = 0;
  bool any_killed = false;
  for (std::uint32_t pid : side) {
    const auto it = std::find(h.crashed.begin(), h.crashed.end(), pid);
    if (it != h.crashed.end()) {
      any_killed = true;
      from = std::max(from, death_of(h, static_cast<std::size_t>(it - h.crashed.begin())));
      continue;
    }
    if (!senders)
      return std::nullopt; // a live receiver may still make room
    std::optional<std::int64_t> closed;
    for (const Event &e : h.events)
      if (e.pid == pid && e.op == Op::close && e.res == Res::ok)
        closed = e.ret;
    if (!closed)
      return std::nullopt; // a sender that may still send
    from = std::max(from, *closed);
  }
  if (!any_killed)
    return std::nullopt;
  return from;
}

/// True for a result that says "not now" where the dead side means "never": timeout, and a
/// try_ call's full or empty.
bool not_now(const Event &e) {
  return e.res == Res::timeout || e.res == Res::full || e.res == Res::empty;
}

/// Calls of `op` by survivors that waited on the dead side past T + N + S, or answered "not
/// now" though called after it.
void noticed_in_time(const History &h, Op op, std::int64_t gone, std::int64_t notice,
                     std::int64_t slack, std::int64_t end, Failures &bad) {
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op != op || killed(h, e.pid))
      continue;
    const std::int64_t due = std::max(e.call, gone) + notice + slack;
    const std::int64_t back = e.pending() ? end : e.ret;
    // A message is not a death to learn of; any other answer after `due` came late.
    if (e.pending() ? end > due : (e.res != Res::ok && back > due))
      bad.add(
          fmt::format("{} {} {} after its peer's death was certain", describe(e),
                      e.pending() ? "still waited" : fmt::format("answered {}", to_string(e.res)),
                      ms_text(back - std::max(e.call, gone))),
          {i});
    else if (!e.pending() && not_now(e) && e.call > gone + notice + slack)
      bad.add(fmt::format("{} was called {} after its peer's death and answered {} instead of "
                          "learning it",
                          describe(e), ms_text(e.call - gone), to_string(e.res)),
              {i});
  }
}

} // namespace

Verdict check_crash_safety(const History &h, const Params &p) {
  if (h.crashed.empty())
    return Verdict::undecided("no participant was killed in this history");
  Failures bad(h);
  survivors_whole(h, bad);
  const Roles roles = roles_of(h);
  const bool lossless = std::find(h.claims.begin(), h.claims.end(), "no-loss") != h.claims.end();
  if (lossless && !receiver_crashed(h, roles))
    if (const Verdict v = check_no_loss(h, p); v.kind == Verdict::fail)
      bad.add("after the kill: " + v.explanation,
              {v.witnesses.empty() ? kNone : v.witnesses.front(),
               v.witnesses.size() < 2 ? kNone : v.witnesses[1]});
  if (const std::int64_t notice = meta_or(h, "notice_ns", -1); notice >= 0) {
    std::int64_t slack = p.slack_ns > 0 ? p.slack_ns : meta_or(h, "slack_ns", 0);
    if (slack <= 0)
      slack = kDefaultSlackNs;
    std::int64_t end = 0;
    for (const Event &e : h.events)
      end = std::max({end, e.call, e.pending() ? e.call : e.ret});
    end = meta_or(h, "end_ns", end);
    if (const auto gone = side_gone(h, roles, true))
      noticed_in_time(h, Op::recv, *gone, notice, slack, end, bad);
    if (const auto gone = side_gone(h, roles, false))
      noticed_in_time(h, Op::send, *gone, notice, slack, end, bad);
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("after pid {} was killed, {} survivor calls went wrong; first: {}",
                  h.crashed.front(), bad.count, bad.first),
      std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredCrashSafety{
    {"crash-safety",
     "after a participant is killed, survivors neither hang nor see damaged messages, completed "
     "sends arrive where no-loss is claimed, and a survivor waiting on the dead peer learns of "
     "the death within the channel's notice bound",
     &check_crash_safety, Domain::any}};
} // namespace

} // namespace ipcv::spec
