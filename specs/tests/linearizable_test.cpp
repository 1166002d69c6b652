// Tests of the `linearizable` spec: golden histories, one line each, and the agreement property —
// on random small concurrent queue histories, linearizable and not, the polynomial check and the
// exhaustive Wing & Gong search give the same verdict.
#include "specs/history_io.hpp"
#include "specs/linearizable.hpp"
#include "specs/wing_gong.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ipcv::spec {
namespace {

// --- golden histories --------------------------------------------------------------------------

/// Checks one golden file: `*-ok` must pass and `*-bad` must fail naming `pattern`; the
/// exhaustive search must agree.
void expect_golden(const std::string &file, std::string_view pattern = {}) {
  const auto read =
      read_history(std::string(IPCV_SOURCE_DIR) + "/specs/testdata/linearizable/" + file);
  ASSERT_TRUE(read) << read.error->message;
  const Verdict v = check_linearizable(read.history, {});
  const Verdict wg = check_wing_gong(read.history);
  const bool bad = file.ends_with("-bad.jsonl");
  EXPECT_EQ(v.kind, bad ? Verdict::fail : Verdict::pass) << v.explanation;
  EXPECT_EQ(wg.kind, v.kind) << wg.explanation;
  if (bad) {
    EXPECT_TRUE(v.explanation.starts_with(pattern)) << v.explanation;
    EXPECT_FALSE(v.witnesses.empty());
  }
}

TEST(LinearizableSpec, ReverseOrderOneReceiverBad) {
  expect_golden("reverse-order-one-receiver-bad.jsonl", "VOrd");
}
TEST(LinearizableSpec, ReverseOrderTwoReceiversBad) {
  expect_golden("reverse-order-two-receivers-bad.jsonl", "VOrd");
}
TEST(LinearizableSpec, UnreceivedEarlierSendBad) {
  expect_golden("unreceived-earlier-send-bad.jsonl", "VOrd");
}
TEST(LinearizableSpec, EmptyWhileQueuedBad) {
  expect_golden("empty-while-queued-bad.jsonl", "VWit");
}
TEST(LinearizableSpec, EmptyCoveredByTwoBad) {
  expect_golden("empty-covered-by-two-bad.jsonl", "VWit");
}
TEST(LinearizableSpec, RecvBeforeSendBad) { expect_golden("recv-before-send-bad.jsonl", "VFresh"); }
TEST(LinearizableSpec, FullSendReceivedBad) {
  expect_golden("full-send-received-bad.jsonl", "VFresh");
}
TEST(LinearizableSpec, ReceivedTwiceBad) { expect_golden("received-twice-bad.jsonl", "VRepet"); }
TEST(LinearizableSpec, OverlappingSendsEitherOrderOk) {
  expect_golden("overlapping-sends-either-order-ok.jsonl");
}
TEST(LinearizableSpec, EmptyInAGapOk) { expect_golden("empty-in-a-gap-ok.jsonl"); }
TEST(LinearizableSpec, PendingAndFailedCallsOk) {
  expect_golden("pending-and-failed-calls-ok.jsonl");
}

// --- verdict details ---------------------------------------------------------------------------

History hist(std::vector<Event> events) {
  History h;
  h.events = std::move(events);
  return h;
}

Event send(std::uint32_t pid, std::uint64_t seq, std::int64_t call, std::int64_t ret,
           Res res = Res::ok) {
  Event e{.pid = pid, .op = Op::send, .res = res, .has_msg = true, .msg = {pid, seq}};
  e.call = call;
  e.ret = res == Res::pending ? kNever : ret;
  return e;
}

Event recv(std::uint32_t pid, MsgId msg, std::int64_t call, std::int64_t ret) {
  Event e{.pid = pid, .op = Op::recv, .res = Res::ok, .has_msg = true, .msg = msg};
  e.call = call;
  e.ret = ret;
  return e;
}

Event recv_res(std::uint32_t pid, Res res, std::int64_t call, std::int64_t ret = kNever) {
  Event e;
  e.pid = pid;
  e.op = Op::recv;
  e.res = res;
  e.call = call;
  e.ret = res == Res::pending ? kNever : ret;
  return e;
}

TEST(LinearizableSpec, VOrdNamesBothSendsAndBothReceives) {
  const History h = hist(
      {send(1, 0, 10, 20), send(2, 0, 30, 40), recv(3, {2, 0}, 50, 60), recv(4, {1, 0}, 70, 80)});
  const Verdict v = check_linearizable(h, {});
  ASSERT_EQ(v.kind, Verdict::fail);
  EXPECT_EQ(v.witnesses, (std::vector<std::size_t>{0, 1, 2, 3}));
}

TEST(LinearizableSpec, VWitNamesTheChainThatCoversTheEmptyReceive) {
  // (1,0) is certainly queued during (20, 50), (2,0) during (45, 90): together they cover the
  // empty receive's [40, 80], neither alone does.
  const History h = hist({send(1, 0, 10, 20), send(2, 0, 25, 45), recv_res(5, Res::empty, 40, 80),
                          recv(3, {1, 0}, 50, 70), recv(4, {2, 0}, 90, 95)});
  const Verdict v = check_linearizable(h, {});
  ASSERT_EQ(v.kind, Verdict::fail) << v.explanation;
  EXPECT_EQ(v.witnesses, (std::vector<std::size_t>{2, 0, 3, 1, 4}));
}

TEST(LinearizableSpec, TouchingSpansLeaveAnInstantForEmpty) {
  const History h = hist({send(1, 0, 10, 20), send(1, 1, 25, 30), recv(2, {1, 0}, 30, 35),
                          recv_res(3, Res::empty, 30, 30), recv(2, {1, 1}, 40, 45)});
  EXPECT_EQ(check_linearizable(h, {}).kind, Verdict::pass);
  EXPECT_EQ(check_wing_gong(h).kind, Verdict::pass);
}

TEST(LinearizableSpec, PendingReceiveMakesAMissingMessageUnknown) {
  // (1,0) was sent before (1,1) and never seen; a receive still pending may have taken it.
  const History h = hist({send(1, 0, 10, 20), send(1, 1, 30, 40), recv_res(2, Res::pending, 35),
                          recv(3, {1, 1}, 50, 60)});
  EXPECT_EQ(check_linearizable(h, {}).kind, Verdict::unknown);
  EXPECT_EQ(check_wing_gong(h).kind, Verdict::pass);
}

TEST(LinearizableSpec, PendingReceiveCalledTooLateCannotExcuse) {
  const History h = hist({send(1, 0, 10, 20), send(1, 1, 30, 40), recv(3, {1, 1}, 50, 60),
                          recv_res(2, Res::pending, 70)});
  EXPECT_EQ(check_linearizable(h, {}).kind, Verdict::fail);
  EXPECT_EQ(check_wing_gong(h).kind, Verdict::fail);
}

TEST(LinearizableSpec, DuplicateSendIsUnknown) {
  const History h = hist({send(1, 0, 10, 20), send(1, 0, 30, 40), recv(2, {1, 0}, 50, 60)});
  EXPECT_EQ(check_linearizable(h, {}).kind, Verdict::unknown);
}

TEST(LinearizableSpec, ZeroLengthMessagesAreUnknownButDoNotHideViolations) {
  Event anon_send = send(1, 5, 1, 2);
  anon_send.has_msg = false;
  const History clean = hist({anon_send, send(1, 0, 10, 20), recv(2, {1, 0}, 30, 40)});
  EXPECT_EQ(check_linearizable(clean, {}).kind, Verdict::unknown);
  const History bad = hist({anon_send, send(1, 0, 10, 20), recv(2, {1, 0}, 1, 5)});
  EXPECT_EQ(check_linearizable(bad, {}).kind, Verdict::fail);
}

TEST(WingGong, DeclinesHistoriesAboveItsLimit) {
  History h;
  for (std::uint64_t i = 0; i < 13; ++i)
    h.events.push_back(send(1, i, 10 * i, 10 * i + 5));
  EXPECT_EQ(check_wing_gong(h).kind, Verdict::unknown);
  EXPECT_EQ(check_wing_gong(h, 13).kind, Verdict::pass);
}

// --- agreement with the exhaustive search ------------------------------------------------------

/// A random small concurrent queue history: 2-4 processes make up to 10 calls with overlapping
/// intervals on a coarse clock (so that ties are common); each call takes effect at a random
/// instant of its interval against a real FIFO queue, a process's last call may stay pending,
/// and then, often, the recorded history is damaged by one or two mutations.
rc::Gen<History> gen_history() {
  // Fixed at the nominal size: rapidcheck narrows inRange at small sizes, which would make the
  // rare branches (full sends, timeouts, mutations) the common ones.
  return rc::gen::resize(
      100, rc::gen::exec([] {
        const int procs = *rc::gen::inRange(2, 5);
        const int calls = *rc::gen::inRange(2, 11);
        struct Call {
          Event ev;
          bool effect = true;  ///< takes effect (pending calls may not)
          std::int64_t at = 0; ///< its linearization instant, in quarter ticks
          int tie = 0;
        };
        std::vector<Call> cs;
        std::vector<std::int64_t> clock(static_cast<std::size_t>(procs), 0);
        std::vector<std::uint64_t> seq(static_cast<std::size_t>(procs), 0);
        for (int k = 0; k < calls; ++k) {
          const auto p = static_cast<std::uint32_t>(*rc::gen::inRange(0, procs));
          Call c;
          c.ev.pid = p + 1;
          c.ev.call = clock[p] + *rc::gen::inRange(0, 6);
          c.ev.ret = c.ev.call + *rc::gen::inRange(0, 5);
          clock[p] = c.ev.ret + 1;
          c.ev.op = *rc::gen::element(Op::send, Op::recv);
          if (c.ev.op == Op::send) {
            c.ev.has_msg = true;
            c.ev.msg = {p + 1, seq[p]++};
            // Now and then the queue is full: the send returns without effect.
            if (*rc::gen::inRange(0, 10) == 0) {
              c.ev.res = Res::full;
              c.effect = false;
            }
          } else if (*rc::gen::inRange(0, 12) == 0) {
            c.ev.res = Res::timeout;
            c.effect = false;
          }
          c.at = 4 * c.ev.call + *rc::gen::inRange<std::int64_t>(0, 4 * (c.ev.ret - c.ev.call) + 1);
          c.tie = *rc::gen::inRange(0, 1000);
          cs.push_back(c);
        }
        // A process's last call may stay pending; it may or may not take effect.
        for (std::uint32_t p = 1; p <= static_cast<std::uint32_t>(procs); ++p) {
          auto last =
              std::find_if(cs.rbegin(), cs.rend(), [&](const Call &c) { return c.ev.pid == p; });
          if (last != cs.rend() && last->effect && *rc::gen::inRange(0, 4) == 0) {
            last->ev.res = Res::pending;
            last->ev.ret = kNever;
            last->effect = *rc::gen::arbitrary<bool>();
            last->at = 4 * last->ev.call + *rc::gen::inRange(0, 40);
          }
        }
        std::vector<std::size_t> order(cs.size());
        for (std::size_t i = 0; i < order.size(); ++i)
          order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
          return std::pair(cs[a].at, cs[a].tie) < std::pair(cs[b].at, cs[b].tie);
        });
        std::vector<MsgId> queue;
        std::size_t head = 0;
        for (std::size_t i : order) {
          Call &c = cs[i];
          if (!c.effect)
            continue;
          if (c.ev.op == Op::send) {
            queue.push_back(c.ev.msg);
          } else if (head < queue.size()) {
            if (c.ev.res != Res::pending) {
              c.ev.res = Res::ok;
              c.ev.has_msg = true;
              c.ev.msg = queue[head];
            }
            ++head;
          } else if (c.ev.res != Res::pending) {
            c.ev.res = Res::empty;
          }
        }
        History h;
        for (const Call &c : cs)
          h.events.push_back(c.ev);

        // Damage: each mutation picks a target of the right kind, so most of them change something.
        auto pick = [&](auto pred) -> Event * {
          std::vector<Event *> fit;
          for (Event &e : h.events)
            if (pred(e))
              fit.push_back(&e);
          return fit.empty() ? nullptr : fit[*rc::gen::inRange<std::size_t>(0, fit.size())];
        };
        auto ok_recv = [](const Event &e) { return e.op == Op::recv && e.res == Res::ok; };
        auto done_recv = [](const Event &e) { return e.op == Op::recv && e.res != Res::pending; };
        auto sent = [](const Event &e) { return e.op == Op::send; };
        const int mutations = *rc::gen::element(0, 1, 2, 2);
        for (int m = 0; m < mutations; ++m) {
          // Weighted toward the damage that breaks order and emptiness rather than freshness.
          switch (*rc::gen::element(0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7)) {
          case 0: // two receives swap what they got
            if (Event *a = pick(done_recv), *b = pick(done_recv); a && b) {
              std::swap(a->res, b->res);
              std::swap(a->has_msg, b->has_msg);
              std::swap(a->msg, b->msg);
            }
            break;
          case 1: // a receive reports empty instead of its message
            if (Event *a = pick(ok_recv)) {
              a->res = Res::empty;
              a->has_msg = false;
            }
            break;
          case 2: // a receive returns a message, maybe one it could not have got
            if (Event *a = pick(done_recv), *b = pick(sent); a && b) {
              a->res = Res::ok;
              a->has_msg = true;
              a->msg = b->msg;
            }
            break;
          case 3: // a call is recorded at another time
            if (Event *a = pick([](const Event &) { return true; })) {
              const std::int64_t d = *rc::gen::inRange(-8, 9);
              a->call = std::max<std::int64_t>(0, a->call + d);
              if (a->res != Res::pending)
                a->ret = std::max(a->call, a->ret + d);
            }
            break;
          case 4: // two calls swap their intervals
            if (Event *a = pick([](const Event &e) { return e.res != Res::pending; }),
                *b = pick([](const Event &e) { return e.res != Res::pending; });
                a && b) {
              std::swap(a->call, b->call);
              std::swap(a->ret, b->ret);
            }
            break;
          case 5: // a send that took effect reports full
            if (Event *a =
                    pick([](const Event &e) { return e.op == Op::send && e.res == Res::ok; }))
              a->res = Res::full;
            break;
          case 6: // a receive never returns
            if (Event *a = pick(done_recv)) {
              a->res = Res::pending;
              a->ret = kNever;
              a->has_msg = false;
            }
            break;
          default: // a receive gets a message nobody sent
            if (Event *a = pick(done_recv)) {
              a->res = Res::ok;
              a->has_msg = true;
              a->msg = {9, 9};
            }
            break;
          }
        }
        return h;
      }));
}

bool has_pending_recv(const History &h) {
  return std::any_of(h.events.begin(), h.events.end(),
                     [](const Event &e) { return e.op == Op::recv && e.res == Res::pending; });
}

std::string_view kind_name(Verdict::Kind k) {
  return k == Verdict::pass ? "pass" : k == Verdict::fail ? "fail" : "unknown";
}

/// The agreement property on one history; returns the polynomial verdict.
Verdict expect_agreement(const History &h) {
  const Verdict wg = check_wing_gong(h);
  const Verdict lin = check_linearizable(h, {});
  RC_LOG() << to_jsonl(h) << "\nlinearizable: " << kind_name(lin.kind) << " " << lin.explanation
           << "\nwing-gong: " << kind_name(wg.kind) << " " << wg.explanation << "\n";
  RC_ASSERT(wg.kind != Verdict::unknown);
  if (lin.kind == Verdict::unknown) {
    // Only a pending receive that may have taken a message unseen leaves the check undecided.
    RC_ASSERT(has_pending_recv(h));
  } else {
    RC_ASSERT(lin.kind == wg.kind);
  }
  if (lin.kind == Verdict::fail)
    RC_ASSERT(!lin.witnesses.empty());
  return lin;
}

RC_GTEST_PROP(LinearizableSpec, AgreesWithWingGong, ()) {
  const History h = *gen_history();
  const Verdict lin = expect_agreement(h);
  const Verdict wg = check_wing_gong(h);
  RC_TAG(std::string(kind_name(wg.kind)) + (lin.kind == Verdict::unknown ? " (lin unknown)" : ""));
  RC_CLASSIFY(lin.kind == Verdict::fail, lin.explanation.substr(0, lin.explanation.find(':')));
}

TEST(LinearizableSpec, AgreesWithWingGongOnManySeededHistories) {
  // The same property over a fixed stream of 20,000 histories, so every run covers a wide mix
  // whatever RC_PARAMS says.
  const auto gen = gen_history();
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 20000; ++i) {
    const History h = gen(rc::Random(static_cast<std::uint64_t>(i)), i % 100).value();
    const Verdict wg = check_wing_gong(h);
    const Verdict lin = check_linearizable(h, {});
    ++counts[lin.kind];
    ASSERT_NE(wg.kind, Verdict::unknown) << to_jsonl(h);
    if (lin.kind == Verdict::unknown)
      ASSERT_TRUE(has_pending_recv(h)) << to_jsonl(h);
    else
      ASSERT_EQ(lin.kind, wg.kind) << to_jsonl(h) << lin.explanation << "\n" << wg.explanation;
  }
  std::printf("linearizable over 20000 seeded histories: %d pass, %d fail, %d unknown\n", counts[0],
              counts[1], counts[2]);
  EXPECT_GT(counts[Verdict::pass], 2000);
  EXPECT_GT(counts[Verdict::fail], 2000);
}

} // namespace
} // namespace ipcv::spec
