// Tests of the runner's early stop: a blocking receiver still waiting more than the bound after
// every sender closed is stuck; anything short of that certainty is not. And a crash armed
// inside a call lands there even when the channel has no perturbation point. A case longer than
// its deadline is cut short by the harness, never blamed on a correct channel.
#include "harness/arena.hpp"
#include "harness/judge.hpp"
#include "harness/perturb_plan.hpp"
#include "harness/process.hpp"
#include "harness/registry.hpp"
#include "harness/runner.hpp"

#include <csignal>
#include <ctime>
#include <gtest/gtest.h>
#include <thread>

namespace ipcv::harness {
namespace {

using namespace std::chrono_literals;

Workload one_to_one() {
  Workload w;
  w.senders = 1;
  w.receivers = 1;
  w.messages = 1;
  w.sizes = {16};
  return w;
}

/// Sender 1 sent and closed; receiver 1 called recv and is still in it.
void record_closed_sender_and_blocked_receiver(Arena &a) {
  const spec::MsgId m{1, 0};
  a.end(0, a.begin(0, spec::Op::send, &m, 16), spec::Res::ok);
  a.end(0, a.begin(0, spec::Op::close), spec::Res::ok);
  a.begin(1, spec::Op::recv);
}

TEST(StuckReceiver, IsStuckOnceItWaitedPastTheBoundAfterTheLastClose) {
  Arena a(2, 8);
  record_closed_sender_and_blocked_receiver(a);
  const Workload w = one_to_one();
  EXPECT_FALSE(stuck_receiver(w, a, false, 5000ms)) << "far from the bound";
  std::this_thread::sleep_for(30ms);
  auto why = stuck_receiver(w, a, false, 0ms);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("receiver 1 was still blocked in recv"), std::string::npos) << *why;
}

TEST(StuckReceiver, IsNotStuckWhileASenderMayStillSend) {
  Arena a(2, 8);
  const spec::MsgId m{1, 0};
  a.end(0, a.begin(0, spec::Op::send, &m, 16), spec::Res::ok); // no close yet
  a.begin(1, spec::Op::recv);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(stuck_receiver(one_to_one(), a, false, 0ms));
}

TEST(StuckReceiver, IgnoresPollingRegistersAndThePlannedCrash) {
  Arena a(2, 8);
  record_closed_sender_and_blocked_receiver(a);
  std::this_thread::sleep_for(30ms);
  Workload w = one_to_one();
  EXPECT_FALSE(stuck_receiver(w, a, true, 0ms)) << "a register has no close";
  w.try_ops = true;
  EXPECT_FALSE(stuck_receiver(w, a, false, 0ms)) << "a try_ receiver never blocks";
  w.try_ops = false;
  w.crash_actor = 1;
  EXPECT_FALSE(stuck_receiver(w, a, false, 0ms)) << "the killed receiver's call stays pending";
}

TEST(StuckReceiver, IsNotStuckOnceTheCallReturned) {
  Arena a(2, 8);
  const spec::MsgId m{1, 0};
  a.end(0, a.begin(0, spec::Op::send, &m, 16), spec::Res::ok);
  a.end(0, a.begin(0, spec::Op::close), spec::Res::ok);
  a.end(1, a.begin(1, spec::Op::recv), spec::Res::eof);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(stuck_receiver(one_to_one(), a, false, 0ms));
}

/// Sender 1 sent one message, which nobody received; receiver 1 is in recv.
SendsOverTime record_a_send_beside_a_blocked_receiver(Arena &a) {
  SendsOverTime sends;
  sends.sample(Arena::now_ns(), a.sends_ok());
  const spec::MsgId m{1, 0};
  a.begin(1, spec::Op::recv);
  a.end(0, a.begin(0, spec::Op::send, &m, 16), spec::Res::ok);
  sends.sample(Arena::now_ns(), a.sends_ok());
  return sends;
}

TEST(ReceiverBesideAMessage, IsStoppedOnceItWaitedPastTheBoundWithAMessageInTheChannel) {
  Arena a(2, 8);
  const SendsOverTime sends = record_a_send_beside_a_blocked_receiver(a);
  const Workload w = one_to_one();
  EXPECT_FALSE(receiver_beside_a_message(w, a, true, 5000ms, sends)) << "far from the bound";
  std::this_thread::sleep_for(30ms);
  auto why = receiver_beside_a_message(w, a, true, 0ms, sends);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("receiver 1 was still blocked in recv"), std::string::npos) << *why;
  EXPECT_NE(why->find("1 had been sent ok by then, 0 have been received"), std::string::npos)
      << *why;
}

TEST(ReceiverBesideAMessage, IsNotStoppedWhenTheMessageMayBeLostGoneOrTooRecent) {
  Arena a(2, 8);
  SendsOverTime sends = record_a_send_beside_a_blocked_receiver(a);
  Workload w = one_to_one();
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(receiver_beside_a_message(w, a, false, 0ms, sends))
      << "a channel that may lose messages";
  w.crash_actor = 0;
  EXPECT_FALSE(receiver_beside_a_message(w, a, true, 0ms, sends)) << "a case with a crash plan";
  w.crash_actor.reset();
  EXPECT_FALSE(receiver_beside_a_message(w, a, true, 0ms, SendsOverTime{}))
      << "no look saw the send return";
  const spec::MsgId m{1, 0};
  a.end(1, a.begin(1, spec::Op::recv), spec::Res::ok, &m, 16); // someone took it
  a.begin(1, spec::Op::recv);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(receiver_beside_a_message(w, a, true, 0ms, sends)) << "every message received";
}

/// The outcomes of a run of `w` against `channel` with a case deadline of 200 ms.
struct CutCase {
  RunResult run;
  std::vector<SpecOutcome> outcomes;
};
CutCase run_with_a_short_case_deadline(const char *channel, const Workload &w) {
  const ChannelEntry *entry = find_channel(channel);
  EXPECT_NE(entry, nullptr) << channel;
  RunOptions o;
  o.budget = 200ms;
  o.per_message = 0us;
  CutCase c{run_case(*entry, w, o), {}};
  c.outcomes = judge(*entry, c.run, {"run", "no-loss", "deadline", "bounded-wait"});
  return c;
}

// A register's writer and readers never wait, so nothing but the deadline stops them: without
// the stop, 4 s of paced writes met the watchdog 3 s after the deadline and failed `run`.
TEST(OutOfTime, ActorsStillBusyAtTheCaseDeadlineStopThereInsteadOfMeetingTheWatchdog) {
  Workload w = one_to_one();
  w.messages = 400;
  w.pace_us = 10'000;
  const CutCase c = run_with_a_short_case_deadline("shm-register", w);
  EXPECT_TRUE(c.run.out_of_time);
  EXPECT_FALSE(c.run.hung);
  EXPECT_EQ(c.run.run_error, "");
  EXPECT_TRUE(c.run.history.meta_numbers.contains("cut_ns"));
  for (const auto &o : c.outcomes)
    EXPECT_NE(o.kind, Outcome::fail) << o.spec << ": " << o.explanation;
}

// Every call gets a short deadline: the receiver's polls of the empty ring time out, and it
// stopped at the case deadline while the paced sender went on filling the ring behind it.
// Before the sender stopped there too, no-loss failed on the 128 messages it left.
TEST(OutOfTime, SendersStopAtTheCaseDeadlineAsTheReceiversDo) {
  Workload w = one_to_one();
  w.messages = 400;
  w.pace_us = 1000;
  w.short_deadlines = 100;
  w.deadline_seed = 1;
  const CutCase c = run_with_a_short_case_deadline("shm-mpmc", w);
  EXPECT_TRUE(c.run.out_of_time);
  EXPECT_EQ(c.run.run_error, "");
  for (const auto &o : c.outcomes)
    EXPECT_NE(o.kind, Outcome::fail) << o.spec << ": " << o.explanation;
}

// The receiver sleeps through the deadline, takes one message and stops: the rest were still in
// the channel when the harness cut the case, and no-loss does not call them lost.
TEST(OutOfTime, MessagesLeftInTheChannelAtTheCutAreNotCalledLost) {
  Workload w = one_to_one();
  w.messages = 400;
  w.pace_us = 1000;
  w.short_deadlines = 100;
  w.deadline_seed = 1;
  w.stall_actor = 1;
  w.stall_at = 5;
  w.stall_ms = 300;
  const CutCase c = run_with_a_short_case_deadline("shm-mpmc", w);
  EXPECT_TRUE(c.run.out_of_time);
  EXPECT_EQ(c.run.run_error, "");
  for (const auto &o : c.outcomes) {
    EXPECT_NE(o.kind, Outcome::fail) << o.spec << ": " << o.explanation;
    if (o.spec == "no-loss") {
      EXPECT_NE(o.explanation.find("ran out of time"), std::string::npos) << o.explanation;
    }
  }
}

TEST(CrashInside, LandsInACallWithoutPerturbationPointsOnTheTimer) {
  const pid_t p = spawn([]() -> int {
    arm_crash_at_next_point(100);
    timespec blocked{2, 0}; // a blocking call that reaches no perturbation point
    ::nanosleep(&blocked, nullptr);
    return 0;
  });
  const auto exits = reap({p}, after_ms(10000));
  // Without the timer the child would sleep on and exit 0.
  EXPECT_EQ(exits[0].signal, SIGKILL) << exits[0].describe();
}

} // namespace
} // namespace ipcv::harness
