// Implementation of child processes, reaping and the shared barrier (process.hpp).
#include "process.hpp"

#include "interrupt.hpp"

#include "impl/futex.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <poll.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ipcv::harness {

std::string signal_name(int sig) {
  const char *a = ::sigabbrev_np(sig);
  return a != nullptr ? std::string("SIG") + a : "signal " + std::to_string(sig);
}

std::string ChildExit::describe() const {
  if (interrupted)
    return "killed: the run was interrupted";
  if (timed_out)
    return "hung: killed at the deadline";
  if (exited)
    return "exit " + std::to_string(code);
  if (signal != 0)
    return "killed by " + signal_name(signal);
  return "unknown";
}

namespace {

/// True when a child killed by `signal` was interrupted along with this process: a terminal's
/// Ctrl-C reaches the whole process group at once, and this process's own handler may run a
/// moment after the child died, so its flag gets up to 200 ms to show.
bool by_interrupt(int signal) {
  if (signal != SIGINT && signal != SIGTERM && signal != SIGHUP)
    return false;
  const Deadline until = Clock::now() + std::chrono::milliseconds(200);
  while (interrupted() == 0 && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return interrupted() != 0;
}

} // namespace

pid_t spawn(const std::function<int()> &body) {
  const pid_t parent = ::getpid();
  std::fflush(nullptr); // or the child would write out what the parent had buffered, again
  pid_t pid = ::fork();
  if (pid > 0)
    track_child(pid);
  if (pid != 0)
    return pid;
  reset_interrupt_handlers_in_child();
  // Die with the parent, whatever kills it (SIGKILL included); the parent may already have
  // died between fork and prctl, which getppid then shows.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
    ::_exit(kExitOrphan);
  int code = 125;
  try {
    code = body();
  } catch (...) {
    code = 125;
  }
  std::fflush(nullptr);
  ::_exit(code);
}

std::vector<ChildExit> reap(const std::vector<pid_t> &pids, Deadline d,
                            const std::function<bool()> &give_up) {
  std::vector<ChildExit> out(pids.size());
  std::size_t left = 0;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    out[i].pid = pids[i];
    if (pids[i] > 0)
      ++left;
  }
  auto record = [](ChildExit &e, int st) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    e.ended_ns = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    if (WIFEXITED(st)) {
      e.exited = true;
      e.code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
      e.signal = WTERMSIG(st);
      e.interrupted = by_interrupt(e.signal);
    }
  };
  std::vector<bool> done(pids.size(), false);
  // One pidfd per child: poll wakes the moment any of them ends (a fixed polling step would
  // add up to its length to every case), and at least every 5 ms to ask give_up and see an
  // interrupt. Where pidfd_open is missing the poll is a plain 1 ms sleep.
  std::vector<int> fds(pids.size(), -1);
  for (std::size_t i = 0; i < pids.size(); ++i)
    if (pids[i] > 0)
      fds[i] = static_cast<int>(::syscall(SYS_pidfd_open, pids[i], 0));
  while (left > 0) {
    for (std::size_t i = 0; i < pids.size(); ++i) {
      if (done[i] || pids[i] <= 0)
        continue;
      int st = 0;
      pid_t r = ::waitpid(pids[i], &st, WNOHANG);
      if (r == pids[i] || (r < 0 && errno == ECHILD)) {
        if (r == pids[i])
          record(out[i], st);
        untrack_child(pids[i]);
        done[i] = true;
        --left;
      }
    }
    if (left == 0)
      break;
    const bool stop = interrupted() != 0;
    if (stop || Clock::now() >= d || (give_up && give_up())) {
      for (std::size_t i = 0; i < pids.size(); ++i) {
        if (done[i] || pids[i] <= 0)
          continue;
        ::kill(pids[i], SIGKILL);
        int st = 0;
        while (::waitpid(pids[i], &st, 0) < 0 && errno == EINTR) {
        }
        untrack_child(pids[i]);
        (stop ? out[i].interrupted : out[i].timed_out) = true;
        done[i] = true;
      }
      break;
    }
    std::vector<pollfd> watch;
    for (std::size_t i = 0; i < pids.size(); ++i)
      if (!done[i] && fds[i] >= 0)
        watch.push_back({fds[i], POLLIN, 0});
    const auto step = std::min<Clock::duration>(d - Clock::now(), std::chrono::milliseconds(5));
    const int ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(step).count());
    if (watch.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    else
      ::poll(watch.data(), watch.size(), std::max(ms, 0)); // EINTR: the loop looks again
  }
  for (int fd : fds)
    if (fd >= 0)
      ::close(fd);
  return out;
}

struct Barrier::State {
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint32_t> generation{0};
  std::atomic<std::uint32_t> abandoned{0};
  std::uint32_t n = 0;
};

Barrier::Barrier(unsigned n) {
  void *p =
      ::mmap(nullptr, sizeof(State), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("barrier: mmap failed");
  s_ = new (p) State{};
  s_->n = n;
}

Barrier::~Barrier() { ::munmap(s_, sizeof(State)); }

bool Barrier::arrive_and_wait(Deadline d) noexcept {
  const std::uint32_t gen = s_->generation.load(std::memory_order_acquire);
  if (s_->abandoned.load(std::memory_order_acquire) != 0)
    return false;
  if (s_->arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == s_->n) {
    s_->arrived.store(0, std::memory_order_relaxed);
    s_->generation.fetch_add(1, std::memory_order_acq_rel);
    futex::wake_all(s_->generation);
    return true;
  }
  return futex::wait_while(s_->generation, gen, d) &&
         s_->abandoned.load(std::memory_order_acquire) == 0;
}

void Barrier::abandon() noexcept {
  s_->abandoned.store(1, std::memory_order_release);
  s_->generation.fetch_add(1, std::memory_order_acq_rel);
  futex::wake_all(s_->generation);
}

std::vector<pid_t> live_children() {
  std::vector<pid_t> out;
  DIR *tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr)
    return out;
  while (dirent *t = ::readdir(tasks)) {
    if (t->d_name[0] == '.')
      continue;
    std::string path = std::string("/proc/self/task/") + t->d_name + "/children";
    FILE *f = std::fopen(path.c_str(), "r");
    if (f == nullptr)
      continue;
    int pid = 0;
    while (std::fscanf(f, "%d", &pid) == 1)
      out.push_back(pid);
    std::fclose(f);
  }
  ::closedir(tasks);
  return out;
}

} // namespace ipcv::harness
