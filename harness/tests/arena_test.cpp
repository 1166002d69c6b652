// Tests of the recording arena: events survive SIGKILL, the interrupted call is pending,
// overflow is explicit.
#include "harness/arena.hpp"
#include "harness/process.hpp"

#include <csignal>
#include <gtest/gtest.h>

namespace ipcv::harness {
namespace {

TEST(Arena, KeepsEventsOfAProcessKilledMidCall) {
  Arena arena(2, 16);
  pid_t p = spawn([&]() -> int {
    spec::MsgId m{1, 0};
    auto s = arena.begin(0, spec::Op::send, &m, 64);
    arena.end(0, s, spec::Res::ok);
    m.seq = 1;
    arena.begin(0, spec::Op::send, &m, 64); // killed before it returns
    ::raise(SIGKILL);
    return 0;
  });
  auto exits = reap({p}, after_ms(10000));
  ASSERT_EQ(exits[0].signal, SIGKILL);
  spec::History h = arena.history();
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].res, spec::Res::ok);
  EXPECT_LE(h.events[0].call, h.events[0].ret);
  EXPECT_EQ(h.events[1].res, spec::Res::pending);
  EXPECT_EQ(h.events[1].ret, spec::kNever);
  EXPECT_EQ(h.events[1].msg, (spec::MsgId{1, 1}));
  EXPECT_EQ(h.events[1].pid, 1u);
}

TEST(Arena, ReportsOverflowInsteadOfDroppingSilently) {
  Arena arena(1, 2);
  for (int i = 0; i < 2; ++i)
    EXPECT_GE(arena.begin(0, spec::Op::recv), 0);
  EXPECT_FALSE(arena.overflowed());
  EXPECT_EQ(arena.begin(0, spec::Op::recv), -1);
  EXPECT_TRUE(arena.overflowed());
  EXPECT_NE(arena.overflow_text().find("actor 1"), std::string::npos);
}

TEST(Arena, RecordsWhatAReceiveReturned) {
  Arena arena(1, 4);
  auto s = arena.begin(0, spec::Op::recv);
  spec::MsgId got{3, 9};
  arena.end(0, s, spec::Res::ok, &got, 100, false);
  auto h = arena.history();
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_TRUE(h.events[0].has_msg);
  EXPECT_EQ(h.events[0].msg, got);
  EXPECT_EQ(h.events[0].len, 100u);
  EXPECT_FALSE(h.events[0].intact);
}

} // namespace
} // namespace ipcv::harness
