// Properties over the whole catalog: randomly generated correct concurrent queue histories pass
// every spec, and one random mutation of such a history (drop a receive, duplicate one, swap
// two, corrupt one, reorder two non-overlapping sends) is caught by the spec responsible for
// it and by no spec that should not care about it.
#include "specs/catalog.hpp"
#include "specs/timeline.hpp"

#include <algorithm>
#include <deque>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace ipcv::spec {
namespace {

/// A correct history: producers send, consumers receive from one FIFO queue; every operation
/// takes effect at a distinct instant inside its own interval, intervals of one actor never
/// overlap, intervals of different actors often do. Consumers drain the queue at the end.
History correct_history(std::uint32_t min_producers = 1, std::uint64_t min_messages = 1) {
  const auto producers = *rc::gen::inRange<std::uint32_t>(min_producers, 4);
  const auto consumers = *rc::gen::inRange<std::uint32_t>(1, 4);
  const auto per_producer = *rc::gen::inRange<std::uint64_t>(min_messages, 12);
  const std::uint32_t actors = producers + consumers;
  std::vector<std::uint64_t> next(producers, 0);
  std::vector<std::int64_t> free_at(actors, 0); // an actor's next call may start after this
  std::deque<MsgId> queue;
  History h;
  std::int64_t lp = 100;
  auto record = [&](std::uint32_t actor, Op op, Res res, std::optional<MsgId> id) {
    Event e;
    e.pid = actor + 1;
    e.op = op;
    e.res = res;
    e.has_msg = id.has_value();
    if (id)
      e.msg = *id;
    e.len = id ? 64 : 0;
    const std::int64_t before = *rc::gen::inRange<std::int64_t>(0, 40);
    const std::int64_t after = *rc::gen::inRange<std::int64_t>(0, 40);
    e.call = std::max(free_at[actor] + 1, lp - before);
    e.ret = lp + after;
    free_at[actor] = e.ret;
    h.events.push_back(e);
    lp += 50 + after; // the next instant is after this call returned: one actor, no overlap
  };
  // Pick among the actors that can act, so every step makes progress (rapidcheck's small
  // sizes pick the first choice every time).
  std::uint64_t left = producers * per_producer;
  while (left > 0 || !queue.empty()) {
    std::vector<std::uint32_t> can;
    for (std::uint32_t p = 0; p < producers; ++p)
      if (next[p] < per_producer)
        can.push_back(p);
    if (!queue.empty())
      for (std::uint32_t c = 0; c < consumers; ++c)
        can.push_back(producers + c);
    const std::uint32_t actor = can[*rc::gen::inRange<std::size_t>(0, can.size())];
    if (actor < producers) {
      const MsgId id{actor + 1, next[actor]++};
      queue.push_back(id);
      --left;
      record(actor, Op::send, Res::ok, id);
    } else {
      const MsgId id = queue.front();
      queue.pop_front();
      record(actor, Op::recv, Res::ok, id);
    }
    if (queue.empty() && *rc::gen::inRange(0, 4) == 3)
      record(producers + *rc::gen::inRange<std::uint32_t>(0, consumers), Op::recv, Res::empty,
             std::nullopt);
  }
  return h;
}

const char *const kQueueSpecs[] = {"integrity", "no-phantom", "no-duplication",
                                   "no-loss",   "fifo",       "linearizable"};

Verdict run_spec(const char *name, const History &h) {
  const Spec *s = find_spec(name);
  RC_ASSERT(s != nullptr);
  return s->check(h, Params{});
}

std::vector<std::size_t> receives(const History &h) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].op == Op::recv && h.events[i].res == Res::ok)
      out.push_back(i);
  return out;
}

/// Asserts `must_fail` fails and every spec of `must_pass` passes on `h`.
void expect(const History &h, const char *mutation, std::initializer_list<const char *> must_fail,
            std::initializer_list<const char *> must_pass) {
  RC_TAG(mutation);
  for (const char *name : must_fail) {
    const Verdict v = run_spec(name, h);
    RC_ASSERT(v.kind == Verdict::fail);
    RC_ASSERT(!render_timeline(h, v.witnesses).empty());
  }
  for (const char *name : must_pass) {
    const Verdict v = run_spec(name, h);
    if (v.kind == Verdict::fail)
      RC_FAIL(std::string(name) + " should not care: " + v.explanation);
  }
}

RC_GTEST_PROP(SpecCatalog, PassesCorrectConcurrentHistories, ()) {
  const History h = correct_history();
  for (const char *name : kQueueSpecs) {
    const Verdict v = run_spec(name, h);
    if (v.kind != Verdict::pass)
      RC_FAIL(std::string(name) + ": " + v.explanation);
  }
}

RC_GTEST_PROP(SpecCatalog, CatchesADroppedReceive, ()) {
  History h = correct_history();
  const auto r = receives(h);
  RC_PRE(!r.empty());
  h.events.erase(h.events.begin() + static_cast<long>(*rc::gen::elementOf(r)));
  expect(h, "drop", {"no-loss"}, {"integrity", "no-phantom", "no-duplication"});
}

RC_GTEST_PROP(SpecCatalog, CatchesADuplicatedReceive, ()) {
  History h = correct_history();
  const auto r = receives(h);
  RC_PRE(!r.empty());
  Event copy = h.events[*rc::gen::elementOf(r)];
  // The same receiver gets it again, after everything else it did.
  std::int64_t last = 0;
  for (const auto &e : h.events)
    if (e.pid == copy.pid)
      last = std::max(last, e.ret);
  copy.call = last + 10;
  copy.ret = last + 20;
  h.events.push_back(copy);
  expect(h, "duplicate", {"no-duplication"}, {"integrity", "no-phantom", "no-loss"});
}

RC_GTEST_PROP(SpecCatalog, CatchesTwoSwappedReceives, ()) {
  History h = correct_history(1, 3);
  // Two receives by one receiver of one producer's messages, swapped; both messages were sent
  // before either receive began, so only the order is wrong, never the causality.
  auto send_ret = [&](MsgId id) {
    for (const auto &e : h.events)
      if (e.op == Op::send && e.msg == id)
        return e.ret;
    return kNever;
  };
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  const auto r = receives(h);
  for (std::size_t a : r)
    for (std::size_t b : r)
      if (a != b && h.events[a].pid == h.events[b].pid &&
          h.events[a].msg.producer == h.events[b].msg.producer &&
          h.events[a].ret < h.events[b].call && send_ret(h.events[b].msg) < h.events[a].call)
        pairs.emplace_back(a, b);
  RC_PRE(!pairs.empty());
  const auto [a, b] = *rc::gen::elementOf(pairs);
  std::swap(h.events[a].msg, h.events[b].msg);
  expect(h, "swap", {"fifo", "linearizable"},
         {"integrity", "no-phantom", "no-duplication", "no-loss"});
}

RC_GTEST_PROP(SpecCatalog, CatchesACorruptedReceive, ()) {
  History h = correct_history();
  const auto r = receives(h);
  RC_PRE(!r.empty());
  h.events[*rc::gen::elementOf(r)].intact = false;
  expect(h, "corrupt", {"integrity"}, {"no-phantom", "no-duplication", "no-loss", "fifo"});
}

RC_GTEST_PROP(SpecCatalog, CatchesTwoReorderedSends, ()) {
  History h = correct_history(2, 4);
  // Sends A ≺ B of different producers whose receives are also in real-time order; give each
  // the other's interval, so B now certainly came first but A still came out first.
  std::vector<std::size_t> recv_of_send(h.events.size(), SIZE_MAX);
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].op == Op::recv && h.events[i].res == Res::ok)
      for (std::size_t j = 0; j < h.events.size(); ++j)
        if (h.events[j].op == Op::send && h.events[j].msg == h.events[i].msg)
          recv_of_send[j] = i;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t a = 0; a < h.events.size(); ++a)
    for (std::size_t b = 0; b < h.events.size(); ++b) {
      const Event &sa = h.events[a], &sb = h.events[b];
      if (sa.op != Op::send || sb.op != Op::send || sa.msg.producer == sb.msg.producer)
        continue;
      if (!sa.precedes(sb) || recv_of_send[a] == SIZE_MAX || recv_of_send[b] == SIZE_MAX)
        continue;
      const Event &ra = h.events[recv_of_send[a]], &rb = h.events[recv_of_send[b]];
      // After the swap each message is still sent before it is received (B's send ended
      // before A's receive began), so only the order can be wrong.
      if (ra.precedes(rb) && sb.precedes(ra))
        pairs.emplace_back(a, b);
    }
  RC_PRE(!pairs.empty());
  const auto [a, b] = *rc::gen::elementOf(pairs);
  std::swap(h.events[a].call, h.events[b].call);
  std::swap(h.events[a].ret, h.events[b].ret);
  expect(h, "reorder", {"linearizable"}, {"integrity", "no-phantom", "no-duplication", "no-loss"});
}

} // namespace
} // namespace ipcv::spec
