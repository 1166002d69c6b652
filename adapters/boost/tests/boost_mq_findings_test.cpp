// The findings of the boost-mq channels, reproduced by hand through Boost.Interprocess's own
// API (no ipcverify): each test asserts what the library does, so it fails the day the library
// stops doing it. adapters/boost/expected.json names them.
#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/permissions.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <string>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {
namespace bip = boost::interprocess;
using namespace std::chrono_literals;

/// A fresh queue name ("/ipcv-boost-mq-<pid>-<hex>", the form `ipcverify clean` knows),
/// removed again at the end of the test.
class QueueName {
public:
  QueueName() {
    unsigned long long r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
      r = static_cast<unsigned long long>(::time(nullptr));
    char buf[96];
    std::snprintf(buf, sizeof buf, "/ipcv-boost-mq-%d-%016llx", static_cast<int>(::getpid()), r);
    name_ = buf;
  }
  ~QueueName() { bip::message_queue::remove(name_.c_str()); }
  const char *c_str() const { return name_.c_str(); }
  std::string path() const { return "/dev/shm" + name_; }

private:
  std::string name_;
};

boost::posix_time::ptime in(std::chrono::milliseconds ms) {
  return boost::posix_time::microsec_clock::universal_time() +
         boost::posix_time::milliseconds(ms.count());
}

/// Waits up to `limit` for child `pid`; true when it exited (status in *status).
bool exited_within(pid_t pid, std::chrono::milliseconds limit, int *status) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid)
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

/// Drops to uid/gid 65534 (nobody) in a forked child; false when it cannot.
bool become_nobody() {
  return ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0 &&
         ::geteuid() == 65534;
}

/// Runs `body` in a child as uid/gid 65534 and returns its exit status (2: the privileges could
/// not be dropped), or -1 when the child did not end normally within 10 s.
template <class Body> int exit_as_nobody(Body body) {
  const pid_t pid = ::fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    ::_exit(become_nobody() ? body() : 2);
  int status = 0;
  if (!exited_within(pid, std::chrono::seconds(10), &status) || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

// boost-mq, isolation: "Constructs a default permissions object: A null security attributes
// pointer for windows or 0644 for UNIX" (permissions.hpp). A queue created with the default is
// a 0644 object in /dev/shm, and another user maps it and reads the queued messages.
TEST(BoostMqFindings, DefaultPermissionsLetAnotherUserReadTheQueue) {
  QueueName name;
  bip::message_queue q(bip::create_only, name.c_str(), 4, 64);
  const char secret[] = "ipcv-secret-4f1c9e";
  q.send(secret, sizeof secret, 0);

  struct stat st {};
  ASSERT_EQ(::stat(name.path().c_str(), &st), 0) << name.path();
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "the default permissions are no longer 0644";

  if (::geteuid() != 0)
    GTEST_SKIP() << "not root: cannot try the queue as another user";
  // 0: read the secret; 2: could not drop privileges; 3: open refused; 4: no secret seen.
  const int code = exit_as_nobody([&] {
    const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
    struct stat s {};
    if (fd < 0 || ::fstat(fd, &s) != 0)
      return 3;
    void *p = ::mmap(nullptr, static_cast<size_t>(s.st_size), PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
      return 3;
    return ::memmem(p, static_cast<size_t>(s.st_size), secret, sizeof secret) != nullptr ? 0 : 4;
  });
  EXPECT_EQ(code, 0)
      << "uid 65534 could not read the queued message (2: setuid failed, 3: open/mmap refused, "
         "4: message not found)";
}

// The fix, for contrast: with permissions(0600) the same attempt is refused.
TEST(BoostMqFindings, Permissions0600RefuseAnotherUser) {
  QueueName name;
  bip::message_queue q(bip::create_only, name.c_str(), 4, 64, bip::permissions(0600));
  struct stat st {};
  ASSERT_EQ(::stat(name.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  if (::geteuid() != 0)
    GTEST_SKIP() << "not root: cannot try the queue as another user";
  EXPECT_EQ(exit_as_nobody([&] {
              const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
              return fd < 0 && errno == EACCES ? 0 : 3;
            }),
            0)
      << "uid 65534 was not refused with EACCES (2: setuid failed, 3: not refused)";
}

// verify:ReportsPeerGoneWhenReceiversClose: a message_queue has no notion of its peers.
// "Timed: If the message queue is full when sending ..., the thread retries the operation until
// succeeds ... or a timeout is reached (returning a failure)": a sender on a full queue whose
// only receiver (another process) opened it and exited learns nothing; timed_send just times
// out at its deadline (and send would block forever).
TEST(BoostMqFindings, SenderOnFullQueueIsNotToldTheReceiverIsGone) {
  QueueName name;
  bip::message_queue q(bip::create_only, name.c_str(), 2, 16);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) { // the receiver: opens the queue, then closes it and exits
    try {
      bip::message_queue r(bip::open_only, name.c_str());
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_TRUE(exited_within(pid, 10s, &status));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  const char m[8] = "message";
  ASSERT_TRUE(q.try_send(m, sizeof m, 0));
  ASSERT_TRUE(q.try_send(m, sizeof m, 0));
  ASSERT_FALSE(q.try_send(m, sizeof m, 0)) << "the queue should be full";
  const auto t0 = std::chrono::steady_clock::now();
  bool sent = true;
  EXPECT_NO_THROW(sent = q.timed_send(m, sizeof m, 0, in(300ms)));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(sent);
  EXPECT_GE(took, 290ms) << "the send returned before its deadline: it learned something";
}

// Peer death inside a call (no column of the matrix: the engine's crashes land at perturbation
// points, outside the library's calls, and crash-safety is not claimed). In 1.74 the queue's
// interprocess_mutex is a process-shared pthread mutex without PTHREAD_MUTEX_ROBUST (robust
// mutexes came in 1.78: https://github.com/boostorg/interprocess/issues/65). A sender that dies
// while it holds the mutex (here: a fault in the copy of its message, which send makes under
// the lock) leaves the queue locked: a survivor's try_receive, which should return at once,
// never returns.
TEST(BoostMqFindings, SurvivorsHangWhenAPeerDiesHoldingTheQueueMutex) {
  QueueName name;
  constexpr std::size_t kMsg = 2 * 4096;
  { bip::message_queue q(bip::create_only, name.c_str(), 4, kMsg); }

  const pid_t sender = ::fork();
  ASSERT_GE(sender, 0);
  if (sender == 0) {
    // A message whose second page cannot be read: memcpy faults inside send, under the lock.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    const long page = ::sysconf(_SC_PAGESIZE);
    auto *buf =
        static_cast<char *>(::mmap(nullptr, static_cast<size_t>(2 * page), PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (buf == MAP_FAILED)
      ::_exit(2);
    std::memset(buf, 'x', static_cast<size_t>(page));
    ::mprotect(buf + page, static_cast<size_t>(page), PROT_NONE);
    try {
      bip::message_queue q(bip::open_only, name.c_str());
      q.send(buf, static_cast<std::size_t>(2 * page), 0);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(4); // the send went through: no fault
  }
  int status = 0;
  ASSERT_TRUE(exited_within(sender, 10s, &status));
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
      << "the sender did not die inside send (status " << status << ")";

  const pid_t survivor = ::fork();
  ASSERT_GE(survivor, 0);
  if (survivor == 0) {
    try {
      bip::message_queue q(bip::open_only, name.c_str());
      std::vector<char> buf(kMsg);
      bip::message_queue::size_type got = 0;
      unsigned prio = 0;
      (void)q.try_receive(buf.data(), buf.size(), got, prio);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  const bool returned = exited_within(survivor, 2s, &status);
  if (!returned) {
    ::kill(survivor, SIGKILL);
    ::waitpid(survivor, &status, 0);
  }
  EXPECT_FALSE(returned) << "try_receive returned (status " << status
                         << "): the queue's mutex recovered from its dead owner";
}

} // namespace
