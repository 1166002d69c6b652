// `linearizable`: a history satisfies it when it is linearizable with respect to a FIFO queue
// (real-time order across all processes, `empty` results included).
//
// The history's effective sends and receives, `empty` receives included, must fit one sequence
// that respects real-time order and that a sequential FIFO queue would produce.
//
// Method. Every message is sent once, so the queue's bad-pattern characterisation applies
// (T. A. Henzinger, A. Sezgin, V. Vafeiadis, "Aspect-Oriented Linearizability Proofs",
// CONCUR 2013, LNCS 8052, pp. 242-256; extended with S. Chakraborty in LMCS 11(1), 2015).
// Write e ≺ f when e returned before f was called. A complete history of distinct messages is
// linearizable iff none of these patterns occurs:
//   VFresh  a receive returns x, and no send of x took effect or recv(x) ≺ send(x);
//   VRepet  two receives return the same x;
//   VOrd    send(a) ≺ send(b), b is received, and a is never received or recv(b) ≺ recv(a);
//   VWit    an `empty` receive e whose whole interval [call, ret] lies in the union of the open
//           spans (send(x).ret, recv(x).call) of the messages — (send(x).ret, ∞) for a message
//           never received: at every instant at which e could take effect, some message was
//           certainly in the queue.
// VFresh, VRepet and VOrd follow the paper. The simplest VWit is one message sent before e and
// received after it (or never); the union is what the `empty` case needs in general (two
// messages whose spans overlap can cover e although neither covers it alone). Why the union is
// enough: without the first three patterns, pick for each `empty` receive a point of its
// interval outside every span; each message then fits between two consecutive points, the
// messages between two points form a history free of the patterns (restricting the intervals to
// the gap adds no real-time order among them), and concatenating their linearizations with the
// `empty` receives at the points linearizes the whole. specs/tests/linearizable_test.cpp checks
// this characterisation against the exhaustive search of wing_gong.cpp on random histories.
//
// Events. A send with result ok took effect; a pending send may or may not have (when its
// message is received it did, returning at some unknown time; when not, it is left out); a send
// with any other result (full, timeout, too_large, eof, peer_gone, error) did not. A receive with
// result ok removed its message; `empty` observed an empty queue; a pending receive may have
// removed the head of the queue or nothing; any other result (timeout, eof, peer_gone,
// too_large, error) had no effect and constrains nothing. close, write and read are not queue
// operations and are ignored. The `intact` flag belongs to the integrity spec: a damaged message
// counts as the message its header names.
//
// Pending receives. Each one may have removed a message that was never seen received, which can
// excuse a VOrd (the earlier message left the queue unseen) or shorten a VWit span. The check runs
// twice: strictly (no pending receive took effect) and relaxed (every message never received may
// have left at the earliest pending receive's call, without counting how many receives that
// takes). Strict pass is a pass, relaxed fail is a fail, and in between the verdict is unknown.
//
// A message id sent twice (two sends that may have taken effect) breaks the distinct-values
// premise, and so do zero-length messages, which carry no id; such messages are left out, and a
// history that is otherwise clean is unknown (a defect of the workload, not of the channel).
// Leaving messages out is sound for failures: removing all operations on one message from a
// linearizable queue history leaves it linearizable.
//
// A receiver killed on purpose (meta "crashed") may have taken messages with it that no event
// shows (a library may read ahead into the receiving process), so such a history is unknown.
//
// Cost: O(n log n) time and O(n) memory — one sort by message id, one sweep for VOrd, one merge
// of spans and a binary search per `empty` receive for VWit.
#include "linearizable.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace ipcv::spec {
namespace {

/// A Msg is one message identity with the send that put it in the queue and the receive that
/// took it out.
struct Msg {
  MsgId id;
  std::size_t send = kNone;
  std::size_t recv = kNone;
  std::int64_t ce = 0;      ///< send call
  std::int64_t re = kNever; ///< send return; kNever for a pending send
  std::int64_t cd = kNever; ///< receive call; kNever when never received
  std::int64_t rd = kNever; ///< receive return
  bool received() const noexcept { return recv != kNone; }
};

std::string at(const History &h, std::size_t i) {
  const Event &e = h.events[i];
  return e.line != 0 ? fmt::format("line {}", e.line) : fmt::format("event {}", i);
}

std::string name(MsgId id) { return fmt::format("({},{})", id.producer, id.seq); }

bool effective_send(const Event &e) { return e.res == Res::ok || e.res == Res::pending; }

/// The queue operations of a history, grouped by message.
struct Model {
  std::vector<Msg> msgs;            ///< messages sent once, each at most received once
  std::vector<std::size_t> empties; ///< receives that returned `empty`
  std::int64_t first_pending_recv = kNever;
  std::size_t pending_recvs = 0;
  std::optional<std::size_t> duplicate; ///< a send of an id sent twice
  std::optional<std::size_t> anonymous; ///< a zero-length message: it carries no id
  std::optional<std::size_t> malformed; ///< returned before it was called
  std::optional<Verdict> failure;       ///< VFresh or VRepet, found while grouping
};

Model build(const History &h) {
  Model m;
  // (id, kind, call, event): kind 0 = effective send, 1 = send without effect, 2 = receive ok.
  std::vector<std::tuple<MsgId, int, std::int64_t, std::size_t>> keyed;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    const bool returned = e.res != Res::pending;
    if ((e.op != Op::send && e.op != Op::recv) || (returned && e.ret < e.call)) {
      if (e.op == Op::send || e.op == Op::recv)
        m.malformed = m.malformed.value_or(i);
      continue;
    }
    if (e.op == Op::send) {
      if (e.has_msg)
        keyed.emplace_back(e.msg, effective_send(e) ? 0 : 1, e.call, i);
      else if (effective_send(e))
        m.anonymous = m.anonymous.value_or(i);
    } else if (e.res == Res::ok) {
      if (e.has_msg)
        keyed.emplace_back(e.msg, 2, e.call, i);
      else
        m.anonymous = m.anonymous.value_or(i);
    } else if (e.res == Res::empty) {
      m.empties.push_back(i);
    } else if (e.res == Res::pending) {
      ++m.pending_recvs;
      m.first_pending_recv = std::min(m.first_pending_recv, e.call);
    }
  }
  std::sort(keyed.begin(), keyed.end());
  for (std::size_t lo = 0; lo < keyed.size();) {
    std::size_t hi = lo;
    std::size_t n[3] = {0, 0, 0};
    std::size_t first[3] = {kNone, kNone, kNone};
    std::size_t second_recv = kNone;
    const MsgId id = std::get<0>(keyed[lo]);
    for (; hi < keyed.size() && std::get<0>(keyed[hi]) == id; ++hi) {
      const auto [_, kind, call, i] = keyed[hi];
      if (kind == 2 && n[2] == 1)
        second_recv = i;
      if (n[kind]++ == 0)
        first[kind] = i;
    }
    const std::size_t send = first[0], recv = first[2];
    if (n[0] > 1) {
      m.duplicate = m.duplicate.value_or(send);
    } else if (n[2] > 0 && n[0] == 0) {
      if (!m.failure) {
        std::vector<std::size_t> w{recv};
        std::string why = fmt::format("VFresh: the receive at {} returned {}, which no send put "
                                      "in the queue",
                                      at(h, recv), name(id));
        if (first[1] != kNone) {
          w.insert(w.begin(), first[1]);
          why += fmt::format(" (its send at {} returned {})", at(h, first[1]),
                             to_string(h.events[first[1]].res));
        }
        m.failure = Verdict::failed(why + ".", std::move(w));
      }
    } else if (n[2] > 0 && h.events[recv].ret < h.events[send].call) {
      if (!m.failure)
        m.failure = Verdict::failed(
            fmt::format("VFresh: the receive at {} returned {} before its send at {} was called.",
                        at(h, recv), name(id), at(h, send)),
            {send, recv});
    } else if (n[2] > 1) {
      if (!m.failure)
        m.failure = Verdict::failed(fmt::format("VRepet: {} was received twice, at {} and at {}.",
                                                name(id), at(h, recv), at(h, second_recv)),
                                    {send, recv, second_recv});
    } else if (n[0] == 1) {
      const Event &s = h.events[send];
      // A pending send whose message never arrived is left out: it may not have taken effect.
      if (s.res == Res::ok || n[2] == 1) {
        Msg msg{id, send, recv, s.call, s.res == Res::ok ? s.ret : kNever, kNever, kNever};
        if (recv != kNone) {
          msg.cd = h.events[recv].call;
          msg.rd = h.events[recv].ret;
        }
        m.msgs.push_back(msg);
      }
    }
    lo = hi;
  }
  return m;
}

/// VOrd: send(a) ≺ send(b), b received, and recv(b) ≺ recv(a), where a message never received
/// counts as received at `unreceived_cd`. Returns (a, b) as indices into `msgs`.
std::optional<std::pair<std::size_t, std::size_t>> find_vord(const std::vector<Msg> &msgs,
                                                             std::int64_t unreceived_cd) {
  std::vector<std::size_t> by_ce, by_re;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].received())
      by_ce.push_back(i);
    if (msgs[i].re != kNever)
      by_re.push_back(i);
  }
  std::sort(by_ce.begin(), by_ce.end(), [&](auto x, auto y) { return msgs[x].ce < msgs[y].ce; });
  std::sort(by_re.begin(), by_re.end(), [&](auto x, auto y) { return msgs[x].re < msgs[y].re; });
  std::size_t p = 0, best = kNone;
  std::int64_t best_cd = 0;
  for (std::size_t b : by_ce) {
    for (; p < by_re.size() && msgs[by_re[p]].re < msgs[b].ce; ++p) {
      const Msg &a = msgs[by_re[p]];
      const std::int64_t cd = a.received() ? a.cd : unreceived_cd;
      if (best == kNone || cd > best_cd) {
        best = by_re[p];
        best_cd = cd;
      }
    }
    if (best != kNone && best_cd > msgs[b].rd)
      return std::pair(best, b);
  }
  return std::nullopt;
}

/// VWit: an `empty` receive whose interval lies inside the union of the open spans
/// (send.ret, recv.call), a message never received counting as received at `unreceived_cd`.
/// Returns the receive's event index and the messages of a chain of spans that covers it.
std::optional<std::pair<std::size_t, std::vector<std::size_t>>>
find_vwit(const History &h, const Model &m, std::int64_t unreceived_cd) {
  if (m.empties.empty())
    return std::nullopt;
  struct Span {
    std::int64_t lo, hi;
    std::size_t msg;
  };
  std::vector<Span> spans;
  for (std::size_t i = 0; i < m.msgs.size(); ++i) {
    const Msg &x = m.msgs[i];
    const std::int64_t hi = x.received() ? x.cd : unreceived_cd;
    if (x.re != kNever && x.re < hi)
      spans.push_back({x.re, hi, i});
  }
  std::sort(spans.begin(), spans.end(), [](const Span &x, const Span &y) { return x.lo < y.lo; });
  struct Component {
    std::int64_t lo, hi;
    std::size_t first, last; ///< spans[first, last)
  };
  std::vector<Component> comps;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    // Open intervals that only touch leave the touching instant uncovered.
    if (!comps.empty() && spans[i].lo < comps.back().hi) {
      comps.back().hi = std::max(comps.back().hi, spans[i].hi);
      comps.back().last = i + 1;
    } else {
      comps.push_back({spans[i].lo, spans[i].hi, i, i + 1});
    }
  }
  for (std::size_t e : m.empties) {
    const Event &ev = h.events[e];
    auto it = std::lower_bound(comps.begin(), comps.end(), ev.call,
                               [](const Component &c, std::int64_t t) { return c.lo < t; });
    if (it == comps.begin())
      continue;
    const Component &c = *std::prev(it);
    if (c.hi <= ev.ret)
      continue;
    // Greedy cover of [call, ret] by the component's spans: the shortest chain of witnesses.
    std::vector<std::size_t> chain;
    std::int64_t cur = ev.call;
    std::size_t p = c.first;
    std::size_t best = kNone;
    while (cur <= ev.ret) {
      for (; p < c.last && spans[p].lo < cur; ++p)
        if (best == kNone || spans[p].hi > spans[best].hi)
          best = p;
      chain.push_back(spans[best].msg);
      cur = spans[best].hi;
    }
    return std::pair(e, std::move(chain));
  }
  return std::nullopt;
}

Verdict vord_verdict(const History &h, const Model &m, std::pair<std::size_t, std::size_t> ab,
                     bool pending_excuse) {
  const Msg &a = m.msgs[ab.first];
  const Msg &b = m.msgs[ab.second];
  std::vector<std::size_t> w{a.send, b.send, b.recv};
  std::string why;
  if (a.received()) {
    w.push_back(a.recv);
    why = fmt::format("VOrd: {} was sent (at {}) before {} was sent (at {}), but {} was received "
                      "(at {}) before {} was received (at {}).",
                      name(a.id), at(h, a.send), name(b.id), at(h, b.send), name(b.id),
                      at(h, b.recv), name(a.id), at(h, a.recv));
  } else {
    why = fmt::format("VOrd: {} was sent (at {}) before {} was sent (at {}), and {} was received "
                      "(at {}) but {} never was.",
                      name(a.id), at(h, a.send), name(b.id), at(h, b.send), name(b.id),
                      at(h, b.recv), name(a.id));
  }
  if (pending_excuse)
    return Verdict::undecided(why + " A pending receive may have taken it unseen.");
  return Verdict::failed(std::move(why), std::move(w));
}

Verdict vwit_verdict(const History &h, const Model &m,
                     const std::pair<std::size_t, std::vector<std::size_t>> &hit,
                     bool pending_excuse) {
  std::vector<std::size_t> w{hit.first};
  std::string names;
  for (std::size_t i : hit.second) {
    const Msg &x = m.msgs[i];
    w.push_back(x.send);
    if (x.received())
      w.push_back(x.recv);
    names += (names.empty() ? "" : ", ") + name(x.id);
  }
  std::string why = fmt::format(
      "VWit: the receive at {} returned empty, but the queue certainly held {} throughout "
      "its call (each sent before that instant and received after it).",
      at(h, hit.first), names);
  if (pending_excuse)
    return Verdict::undecided(why + " A pending receive may have emptied it.");
  return Verdict::failed(std::move(why), std::move(w));
}

} // namespace

Verdict check_linearizable(const History &h, const Params &) {
  if (receiver_crashed(h, roles_of(h)))
    return Verdict::undecided(kReceiverKilled);
  const Model m = build(h);
  if (m.malformed)
    return Verdict::undecided(fmt::format("the {} at {} returned before it was called.",
                                          to_string(h.events[*m.malformed].op),
                                          at(h, *m.malformed)));
  if (m.failure)
    return *m.failure;
  // Relaxed: every message never received may have left at the first pending receive's call.
  const std::int64_t relaxed = m.pending_recvs > 0 ? m.first_pending_recv : kNever;
  if (auto ab = find_vord(m.msgs, relaxed))
    return vord_verdict(h, m, *ab, false);
  if (auto hit = find_vwit(h, m, relaxed))
    return vwit_verdict(h, m, *hit, false);
  if (m.anonymous)
    return Verdict::undecided(fmt::format(
        "the {} at {} carries a message with no id (zero-length); such messages cannot be told "
        "apart, so only the others were checked.",
        to_string(h.events[*m.anonymous].op), at(h, *m.anonymous)));
  if (m.duplicate)
    return Verdict::undecided(fmt::format(
        "{} was sent more than once (first at {}); this spec needs every message id sent once.",
        name(h.events[*m.duplicate].msg), at(h, *m.duplicate)));
  if (m.pending_recvs > 0) {
    if (auto ab = find_vord(m.msgs, kNever))
      return vord_verdict(h, m, *ab, true);
    if (auto hit = find_vwit(h, m, kNever))
      return vwit_verdict(h, m, *hit, true);
  }
  return Verdict::ok();
}

namespace {
const SpecRegistrar kRegisteredLinearizable{kLinearizable};
} // namespace

} // namespace ipcv::spec
