// `no-loss`: a history satisfies it when every message whose send returned ok is received
// (pending sends may or may not be). A receive that never returned may have taken a message
// before its process stopped, so k unreceived messages are a failure only when they outnumber
// the pending receives; otherwise the verdict is unknown. Empty messages are counted the same
// way. A history in which a receiver was killed on purpose (meta "crashed") is unknown: what
// the receiver took with it cannot be observed. So is one the harness cut short at the case
// deadline (meta "cut_ns"), with messages still owed: they may have been in the channel.
#include "no_loss.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

namespace ipcv::spec {

Verdict check_no_loss(const History &h, const Params &) {
  if (receiver_crashed(h, roles_of(h)))
    return Verdict::undecided(kReceiverKilled);
  const MsgIndex index(h);
  std::size_t lost = 0, sent = 0;
  std::vector<std::size_t> witnesses;
  for (const MsgRecord &r : index.records()) {
    if (r.send == kNone || h.events[r.send].res != Res::ok)
      continue;
    ++sent;
    if (r.recvs != 0)
      continue;
    if (++lost <= kMaxWitnessedFailures)
      witnesses.push_back(r.send);
  }
  // Receives of empty messages are credited to the ok sends first: only the excess is lost.
  const std::size_t anon_lost =
      index.anon_sent_ok > index.anon_received ? index.anon_sent_ok - index.anon_received : 0;
  for (std::size_t k = index.anon_sends.size() - anon_lost;
       k < index.anon_sends.size() && k < index.anon_sends.size() - anon_lost + 3; ++k)
    witnesses.push_back(index.anon_sends[k]);
  const std::size_t missing = lost + anon_lost;
  if (missing == 0)
    return Verdict::ok();
  std::string what;
  if (lost != 0)
    what = fmt::format("{} of {} messages sent ok were never received", lost, sent);
  if (anon_lost != 0)
    what += fmt::format("{}{} of {} empty messages sent ok were never received",
                        what.empty() ? "" : "; ", anon_lost, index.anon_sent_ok);
  // The harness stopped the case at its deadline (meta "cut_ns"): the receivers stopped before
  // the channel was drained, so what they did not take may still have been in it.
  if (const auto cut = h.meta_numbers.find("cut_ns"); cut != h.meta_numbers.end())
    return Verdict::undecided(fmt::format(
        "{}, but the case ran out of time before the channel was drained (meta \"cut_ns\"): "
        "they may still have been in it",
        what));
  if (missing <= index.pending_recvs)
    return Verdict::undecided(fmt::format(
        "{}, but {} receives never returned and may have taken them", what, index.pending_recvs));
  const std::string first =
      witnesses.empty() ? std::string() : "; first: " + describe(h.events[witnesses.front()]);
  return Verdict::failed(what + first, std::move(witnesses));
}

namespace {
const SpecRegistrar kRegisteredNoLoss{
    {"no-loss",
     "every message whose send returned ok is received (pending sends may or may not be)",
     &check_no_loss}};
} // namespace

} // namespace ipcv::spec
