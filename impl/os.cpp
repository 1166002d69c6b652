// Implementation of the operating-system helpers of os.hpp.
#include "os.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

namespace ipcv::os {

int poll_timeout_ms(Deadline d) noexcept {
  auto left = d - Clock::now();
  if (left <= Clock::duration::zero())
    return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

int wait_fd(int fd, short events, Deadline d) noexcept {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, poll_timeout_ms(d));
    if (n > 0)
      return p.revents != 0 ? p.revents : events;
    if (n == 0) {
      if (Clock::now() >= d)
        return 0;
      continue; // poll rounds to milliseconds; finish the remainder
    }
    if (errno != EINTR)
      return -1;
  }
}

namespace {
/// The state letter of the stat file at `path`, or '\0' when it cannot be read.
char stat_state(const char *path) noexcept {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return '\0';
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0)
    return '\0';
  buf[n] = '\0';
  const char *paren = std::strrchr(buf, ')'); // comm may contain spaces and parentheses
  if (paren == nullptr || paren[1] == '\0' || paren[2] == '\0')
    return '\0';
  return paren[2];
}
} // namespace

bool process_alive(pid_t pid) noexcept {
  if (pid <= 0)
    return false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const char state = stat_state(path);
  return state != '\0' && state != 'Z' && state != 'X' && state != 'x';
}

char thread_state(pid_t pid, pid_t tid) noexcept {
  if (pid <= 0 || tid <= 0)
    return '\0';
  char path[80];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/stat", static_cast<int>(pid),
                static_cast<int>(tid));
  return stat_state(path);
}

ssize_t write_nosigpipe(int fd, const void *buf, std::size_t n) noexcept {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t r = ::write(fd, buf, n);
  int saved = errno;
  if (r < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE)) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return r;
}

int dup_cloexec(int fd) noexcept { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

void close_fd(int fd) noexcept {
  if (fd < 0)
    return;
  int saved = errno;
  ::close(fd);
  errno = saved;
}

} // namespace ipcv::os
