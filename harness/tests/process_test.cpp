// Tests of the child-process helpers: exit statuses are reported as they happened, a hung
// child is killed at the deadline and reaped, the barrier releases everyone together.
#include "harness/process.hpp"

#include <csignal>
#include <gtest/gtest.h>
#include <unistd.h>

namespace ipcv::harness {
namespace {

TEST(Reap, ReportsEachExitStatus) {
  std::vector<pid_t> pids = {spawn([] { return 0; }), spawn([] { return 3; }), spawn([]() -> int {
                               ::raise(SIGKILL);
                               return 0;
                             })};
  auto exits = reap(pids, after_ms(10000));
  ASSERT_EQ(exits.size(), 3u);
  EXPECT_TRUE(exits[0].clean());
  EXPECT_TRUE(exits[1].exited);
  EXPECT_EQ(exits[1].code, 3);
  EXPECT_EQ(exits[2].signal, SIGKILL);
  EXPECT_EQ(exits[2].describe(), "killed by SIGKILL");
  EXPECT_TRUE(live_children().empty());
}

TEST(Reap, KillsAChildStillRunningAtTheDeadline) {
  pid_t p = spawn([] {
    for (;;)
      ::pause();
    return 0;
  });
  auto exits = reap({p}, after_ms(200));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_TRUE(exits[0].timed_out);
  EXPECT_FALSE(exits[0].clean());
  EXPECT_TRUE(live_children().empty());
}

TEST(LiveChildren, SeesAnUnreapedChild) {
  pid_t p = spawn([] { return 0; });
  EXPECT_EQ(live_children().size(), 1u);
  reap({p}, after_ms(5000));
  EXPECT_TRUE(live_children().empty());
}

TEST(Barrier, ReleasesEveryProcessTogether) {
  Barrier b(3);
  std::vector<pid_t> pids;
  for (int i = 0; i < 2; ++i)
    pids.push_back(spawn([&] { return b.arrive_and_wait(after_ms(10000)) ? 0 : 1; }));
  EXPECT_TRUE(b.arrive_and_wait(after_ms(10000)));
  for (const auto &e : reap(pids, after_ms(10000)))
    EXPECT_TRUE(e.clean()) << e.describe();
}

TEST(Barrier, GivesUpWhenAParticipantNeverArrives) {
  Barrier b(2);
  EXPECT_FALSE(b.arrive_and_wait(after_ms(50)));
}

} // namespace
} // namespace ipcv::harness
