// Tests of the runner's early stop: a blocking receiver still waiting more than the bound after
// every sender closed is stuck; anything short of that certainty is not. And a crash armed
// inside a call lands there even when the channel has no perturbation point.
#include "harness/arena.hpp"
#include "harness/perturb_plan.hpp"
#include "harness/process.hpp"
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
