// `bounded-wait`: a history satisfies it when no call stays blocked longer than the bound B while
// it could have completed (no lost wake-ups, no deadlock). The history decides "could have
// completed" only from what is certain, so a failure is always real:
//  - a call still pending more than B before the end of the history (meta "end_ns", else the
//    latest time recorded) failed: it hung; the last call of a process killed on purpose (meta
//    "crashed") is pending by design and is not judged;
//  - a close, write or read that took longer than B failed: they never need to wait;
//  - a receive failed when, for longer than B inside its call, a message was certainly in the
//    channel: its own message, from the return of its send on, or another receiver's message
//    between the return of its send and the call of the receive that took it (lost messages
//    and phantoms prove nothing and are not used); or every sender had closed (eof was due);
//  - a send failed when the meta line gives "capacity" and, for longer than B inside its call,
//    the channel certainly had room: fewer than capacity messages, counting every other send
//    from its call on (a failed one only while it ran) and every receive from its return on.
#include "bounded_wait.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace ipcv::spec {
namespace {

/// A Stretch is a time span [begin, end) during which a call could have completed, with the
/// events that show it (kNone when none do).
struct Stretch {
  std::int64_t begin, end;
  std::size_t why_a = kNone, why_b = kNone;
};

/// Answers "does [c, d] overlap a union of stretches by more than B, and which stretch shows
/// it?" in O(log n), after an O(n log n) merge.
class LongStretches {
public:
  LongStretches(std::vector<Stretch> s, std::int64_t bound) : bound_(bound), parts_(std::move(s)) {
    std::sort(parts_.begin(), parts_.end(),
              [](const Stretch &a, const Stretch &b) { return a.begin < b.begin; });
    reach_.resize(parts_.size());
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      reach_[i] = i == 0 || parts_[i].end > parts_[reach_[i - 1]].end ? i : reach_[i - 1];
      const Stretch &x = parts_[i];
      if (!merged_.empty() && x.begin <= merged_.back().end)
        merged_.back().end = std::max(merged_.back().end, x.end);
      else
        merged_.push_back(x);
    }
    std::erase_if(merged_, [&](const Stretch &x) { return x.end - x.begin <= bound_; });
  }
  /// A stretch that covers the start of an overlap longer than B with [c, d], or nullptr.
  const Stretch *overlap(std::int64_t c, std::int64_t d) const {
    auto it = std::upper_bound(merged_.begin(), merged_.end(), c,
                               [](std::int64_t t, const Stretch &x) { return t < x.end; });
    for (; it != merged_.end() && it->begin < d; ++it) {
      const std::int64_t from = std::max(it->begin, c);
      if (std::min(it->end, d) - from <= bound_)
        continue;
      auto last = std::upper_bound(parts_.begin(), parts_.end(), from,
                                   [](std::int64_t t, const Stretch &x) { return t < x.begin; });
      return &parts_[reach_[static_cast<std::size_t>(last - parts_.begin()) - 1]];
    }
    return nullptr;
  }

private:
  std::int64_t bound_;
  std::vector<Stretch> parts_;     ///< the stretches as given, by begin
  std::vector<std::size_t> reach_; ///< reach_[i]: among parts_[0..i], the one ending last
  std::vector<Stretch> merged_;    ///< their union, longer-than-B pieces only
};

std::string span(std::int64_t ns) { return fmt::format("{} ns", ns); }

/// The bound of the check: Params::bound_ns, else the meta key "bound_ns"; 0 or less when
/// neither gives one.
std::int64_t bound_of(const History &h, const Params &p) {
  std::int64_t bound = p.bound_ns;
  if (bound <= 0)
    if (auto it = h.meta_numbers.find("bound_ns"); it != h.meta_numbers.end())
      bound = static_cast<std::int64_t>(it->second);
  return bound;
}

/// The successful close that returned last, when every sender (a pid that sent) closed with
/// ok; from its return on eof was due. Nothing when some sender never closed.
std::optional<std::size_t> last_close(const History &h) {
  std::unordered_map<std::uint32_t, std::optional<std::size_t>> closed; // sender -> its close
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].op == Op::send)
      closed.try_emplace(h.events[i].pid);
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op != Op::close || e.res != Res::ok)
      continue;
    if (auto it = closed.find(e.pid); it != closed.end())
      if (!it->second || h.events[*it->second].ret < e.ret)
        it->second = i;
  }
  if (closed.empty() || !std::all_of(closed.begin(), closed.end(),
                                     [](const auto &kv) { return kv.second.has_value(); }))
    return std::nullopt;
  std::size_t last = *closed.begin()->second;
  for (const auto &kv : closed)
    if (h.events[*kv.second].ret > h.events[last].ret)
      last = *kv.second;
  return last;
}

/// The spans during which a receive could certainly have completed: a message from the return
/// of its send to the call of the receive that took it, and everything after the last close.
std::vector<Stretch> receivable(const History &h, const MsgIndex &index) {
  std::vector<Stretch> available;
  for (const MsgRecord &r : index.records()) {
    if (r.send == kNone || r.recvs != 1 || r.sends != 1)
      continue;
    const Event &s = h.events[r.send], &v = h.events[r.recv];
    if (s.res == Res::ok && s.ret < v.call)
      available.push_back({s.ret, v.call, r.send, r.recv});
  }
  if (const std::optional<std::size_t> last = last_close(h))
    available.push_back({h.events[*last].ret, kNever, *last, kNone});
  return available;
}

/// The spans during which a send certainly had room in a channel of `capacity` messages.
std::vector<Stretch> with_room(const History &h, std::int64_t capacity) {
  std::vector<std::pair<std::int64_t, int>> steps;
  for (const Event &e : h.events) {
    // A send counts from its call on; one that failed only while it ran (so that every send
    // counts itself during its own call, and other failed sends are counted conservatively).
    if (e.op == Op::send)
      steps.push_back({e.call, +1});
    if (e.op == Op::send && e.res != Res::ok && !e.pending())
      steps.push_back({e.ret, -1});
    if (e.op == Op::recv && e.res == Res::ok)
      steps.push_back({e.ret, -1});
  }
  std::sort(steps.begin(), steps.end());
  std::vector<Stretch> room;
  std::int64_t level = 0, since = std::numeric_limits<std::int64_t>::min();
  for (std::size_t k = 0; k < steps.size();) {
    const std::int64_t t = steps[k].first;
    for (; k < steps.size() && steps[k].first == t; ++k)
      level += steps[k].second;
    // `level` counts the send under test too, so room means level <= capacity.
    if (level <= capacity && since == std::numeric_limits<std::int64_t>::min())
      since = t;
    if (level > capacity && since != std::numeric_limits<std::int64_t>::min()) {
      room.push_back({since, t});
      since = std::numeric_limits<std::int64_t>::min();
    }
  }
  if (since != std::numeric_limits<std::int64_t>::min())
    room.push_back({since, kNever});
  return room;
}

/// True when receive `i` returned more than `bound` after its own message was in the channel
/// (the return of its successful send, or the call if later); such a failure is added to `bad`.
bool waited_for_own_message(const History &h, std::size_t i, const MsgIndex &index,
                            std::int64_t bound, Failures &bad) {
  const Event &e = h.events[i];
  if (!is_identified_receive(e))
    return false;
  const MsgRecord *r = index.find(e.msg);
  if (r->send == kNone || h.events[r->send].res != Res::ok)
    return false;
  const std::int64_t from = std::max(e.call, h.events[r->send].ret);
  if (e.ret - from <= bound)
    return false;
  bad.add(fmt::format("{} returned {} after its message was in the channel", describe(e),
                      span(e.ret - from)),
          {r->send, i});
  return true;
}

/// Adds to `bad` receive `i`, which took `took`, when it overlapped by more than the bound a
/// span during which it could have completed (`recv_can`).
void waited_while_receivable(const History &h, std::size_t i, std::int64_t took,
                             const LongStretches &recv_can, Failures &bad) {
  const Event &e = h.events[i];
  const Stretch *s = recv_can.overlap(e.call, e.ret);
  if (s == nullptr)
    return;
  if (s->why_b == kNone)
    bad.add(fmt::format("{} waited {} though every sender had closed", describe(e), span(took)),
            {s->why_a, i});
  else
    bad.add(fmt::format("{} waited {} while {} was in the channel", describe(e), span(took),
                        to_string(h.events[s->why_a].msg)),
            {s->why_a, i, s->why_b});
}

} // namespace

Verdict check_bounded_wait(const History &h, const Params &p) {
  const std::int64_t bound = bound_of(h, p);
  if (bound <= 0)
    return Verdict::undecided("no bound: give --bound-ns or the meta key \"bound_ns\"");
  const std::int64_t end = end_of(h);
  const auto killed = [&](std::uint32_t pid) {
    return std::find(h.crashed.begin(), h.crashed.end(), pid) != h.crashed.end();
  };
  const MsgIndex index(h);
  const LongStretches recv_can(receivable(h, index), bound);
  std::optional<LongStretches> send_can; // only with a known capacity
  if (auto it = h.meta_numbers.find("capacity"); it != h.meta_numbers.end())
    send_can.emplace(with_room(h, static_cast<std::int64_t>(it->second)), bound);

  Failures bad(h);
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.pending()) {
      if (end - e.call > bound && !killed(e.pid))
        bad.add(
            fmt::format("{} was still pending {} after its call", describe(e), span(end - e.call)),
            {i});
      continue;
    }
    const std::int64_t took = e.ret - e.call;
    if (took <= bound)
      continue;
    if (e.op == Op::close || e.op == Op::write || e.op == Op::read) {
      bad.add(fmt::format("{} took {}, and it never needs to wait", describe(e), span(took)), {i});
    } else if (e.op == Op::recv) {
      if (!waited_for_own_message(h, i, index, bound, bad))
        waited_while_receivable(h, i, took, recv_can, bad);
    } else if (e.op == Op::send && send_can) {
      if (send_can->overlap(e.call, e.ret))
        bad.add(fmt::format("{} waited {} while the channel certainly had room", describe(e),
                            span(took)),
                {i});
    }
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("{} calls waited longer than the bound ({}) when they could have completed; "
                  "first: {}",
                  bad.count, span(bound), bad.first),
      std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredBoundedWait{
    {"bounded-wait",
     "no call stays blocked longer than the bound while it could have completed (no lost "
     "wake-ups, no deadlock)",
     &check_bounded_wait}};
} // namespace

} // namespace ipcv::spec
