// Interrupted and killed runs leave nothing behind, tried with real processes and real signals:
// `ipcverify run` (each reference channel), `ipcverify verify` and `ipcbench` are interrupted at
// varied instants and must exit 128 + the signal with no process of theirs alive and no named
// object of theirs left; a run whose parent is SIGKILLed must lose every actor within 100 ms
// (PR_SET_PDEATHSIG), and `ipcverify clean` must then remove the objects it could not.
//
// This test process is a child subreaper, so any descendant of a run that outlived it would be
// handed to this process and show up among its children.
#include "harness/hygiene.hpp"
#include "harness/process.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ipcv::harness {
namespace {

using namespace std::chrono_literals;

/// Starts `argv` in a process group of its own, output to /dev/null; returns its pid.
pid_t start(std::vector<std::string> argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char *> args;
    for (auto &a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid); // also here, so the group exists whichever runs first
  return pid;
}

/// Waits up to `limit` for `pid`; its exit status (128 + signal when killed), or -1 on timeout.
int wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (std::chrono::steady_clock::now() >= until)
      return -1;
    std::this_thread::sleep_for(2ms);
  }
}

/// The direct children of `pid`, from /proc.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *t = ::readdir(d)) {
      if (t->d_name[0] == '.')
        continue;
      if (FILE *f = std::fopen((dir + "/" + t->d_name + "/children").c_str(), "r")) {
        int c = 0;
        while (std::fscanf(f, "%d", &c) == 1)
          out.push_back(c);
        std::fclose(f);
      }
    }
    ::closedir(d);
  }
  return out;
}

/// Named objects (shm and message queues) whose name says `creator` made them.
std::vector<std::string> objects_of(pid_t creator) {
  std::vector<std::string> out;
  std::vector<std::string> names = mqueue_names().value_or(std::vector<std::string>{});
  if (DIR *d = ::opendir("/dev/shm")) {
    while (dirent *e = ::readdir(d))
      names.emplace_back(e->d_name);
    ::closedir(d);
  }
  for (const auto &n : names)
    if (creator_of(n) == creator)
      out.push_back(n);
  return out;
}

/// The orphans handed to this subreaper that were still alive 200 ms after their parent ended
/// (the dead ones, killed by a parent that had no time to reap them, are only reaped here).
/// All of them are killed and reaped; the live ones are returned so the test can fail on them.
std::vector<pid_t> reap_orphans() {
  std::vector<pid_t> alive;
  const auto until = std::chrono::steady_clock::now() + 200ms;
  do {
    alive.clear();
    for (pid_t p : live_children())
      if (::waitpid(p, nullptr, WNOHANG) != p)
        alive.push_back(p);
    if (!alive.empty())
      std::this_thread::sleep_for(2ms);
  } while (!alive.empty() && std::chrono::steady_clock::now() < until);
  for (pid_t p : alive) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  return alive;
}

class Interrupt : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
  void TearDown() override { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }

  /// Starts `argv`, sends `sig` after `after` (to its process group, as a terminal does, or to
  /// it alone), and checks the exit status and that nothing of it remains.
  void interrupt(const std::vector<std::string> &argv, std::chrono::milliseconds after, int sig,
                 bool group) {
    const pid_t pid = start(argv);
    std::this_thread::sleep_for(after);
    ::kill(group ? -pid : pid, sig);
    const int status = wait_exit(pid, 20s);
    if (status == -1) {
      ::kill(-pid, SIGKILL);
      wait_exit(pid, 5s);
    }
    EXPECT_EQ(status, 128 + sig) << argv[1] << " " << argv.back() << " after " << after.count()
                                 << " ms, signal to the " << (group ? "group" : "process");
    EXPECT_EQ(objects_of(pid), std::vector<std::string>{}) << "named objects left by " << pid;
    EXPECT_EQ(reap_orphans(), std::vector<pid_t>{}) << "processes that outlived " << pid;
  }
};

TEST_F(Interrupt, RunOfEveryChannelLeavesNothingBehind) {
  const std::array<const char *, 6> channels = {"pipe",     "seqpacket", "mqueue",
                                                "shm-spsc", "shm-mpmc",  "shm-register"};
  // 24 runs: every channel four times, at instants spread over the first 0.9 s (startup,
  // campaign, shrinking), alternately to the process group (Ctrl-C) and to the parent alone.
  for (int i = 0; i < 24; ++i) {
    const std::chrono::milliseconds after(50 + (i * 373) % 850);
    interrupt({IPCVERIFY_BIN, "run", "--cases", "100000", "--time-budget", "60", "--channel",
               channels[static_cast<std::size_t>(i) % channels.size()]},
              after, SIGINT, i % 2 == 0);
  }
}

TEST_F(Interrupt, SigtermAndThreadModeExit143) {
  interrupt({IPCVERIFY_BIN, "run", "--cases", "100000", "--channel", "mqueue"}, 400ms, SIGTERM,
            false);
  interrupt(
      {IPCVERIFY_BIN, "run", "--cases", "100000", "--mode", "thread", "--channel", "shm-mpmc"},
      300ms, SIGTERM, true);
}

TEST_F(Interrupt, VerifyAndIpcbenchLeaveNothingBehind) {
  // `verify` of every channel takes about 2 s here; interrupted at three points of it.
  for (int i = 0; i < 3; ++i)
    interrupt({IPCVERIFY_BIN, "verify"}, std::chrono::milliseconds(100 + 400 * i), SIGINT,
              i % 2 == 0);
  interrupt({IPCBENCH_BIN, "--channel", "mqueue", "--channel", "shm-spsc"}, 700ms, SIGINT, true);
}

TEST_F(Interrupt, SecondSignalExitsAtOnceAndStillRemovesObjects) {
  // Two signals back to back, while cases run: the second one does not wait for the first to
  // be handled, and the handler itself kills the actors and removes the live queue.
  const pid_t pid = start(
      {IPCVERIFY_BIN, "run", "--cases", "100000", "--channel", "mqueue", "--channel", "shm-mpmc"});
  std::this_thread::sleep_for(500ms);
  ::kill(pid, SIGINT);
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid, 5s), 130);
  EXPECT_EQ(objects_of(pid), std::vector<std::string>{});
  EXPECT_EQ(reap_orphans(), std::vector<pid_t>{});
}

/// SIGKILLs a run of `channel` in `mode` once its actors run; every actor must be gone within
/// 100 ms, and `ipcverify clean` must remove the named objects the dead parent left.
void kill_parent(const char *channel, const char *mode) {
  const pid_t pid = start({IPCVERIFY_BIN, "run", "--cases", "100000", "--mode", mode, "--no-crash",
                           "--channel", channel});
  std::vector<pid_t> actors;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (actors.empty() && std::chrono::steady_clock::now() < until) {
    actors = children_of(pid);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_FALSE(actors.empty()) << "the run of " << channel << " never forked an actor";
  ::kill(pid, SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_exit(pid, 5s), 128 + SIGKILL);
  // The actors are handed to this subreaper when their parent dies: all reaped means all gone.
  std::size_t left = actors.size();
  while (left > 0 && std::chrono::steady_clock::now() - killed < 2s) {
    for (pid_t &a : actors) {
      if (a == 0)
        continue; // counted already
      // ECHILD: the parent had reaped that actor itself before it was killed (a case ended
      // between the listing and the kill), so it is gone too.
      const pid_t r = ::waitpid(a, nullptr, WNOHANG);
      if (r == a || (r < 0 && errno == ECHILD)) {
        a = 0;
        --left;
      }
    }
    std::this_thread::sleep_for(100us);
  }
  const auto gone = std::chrono::steady_clock::now() - killed;
  EXPECT_EQ(left, 0u) << channel << ": actors outlived their parent by 2 s";
  EXPECT_LT(gone, 100ms) << channel << " " << mode << ": the last actor died "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(gone).count()
                         << " ms after its parent";
  reap_orphans();
  const std::string clean = std::string(IPCVERIFY_BIN) + " clean >/dev/null";
  EXPECT_EQ(std::system(clean.c_str()), 0);
  EXPECT_EQ(objects_of(pid), std::vector<std::string>{}) << "clean left objects of " << pid;
}

TEST_F(Interrupt, ActorsDieWithTheirKilledParentAndCleanRemovesWhatItLeft) {
  kill_parent("mqueue", "process");
  kill_parent("shm-spsc", "process");
  kill_parent("pipe", "thread");
}

} // namespace
} // namespace ipcv::harness
