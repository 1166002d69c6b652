// What nng 1.5.2 itself does, through its own API only (no ipcverify): the by-hand
// reproductions of the findings recorded in adapters/nng/expected.json. Each test asserts the
// behaviour the finding states, so it fails if nng ever stops doing it.
//
// A test that may leave nng stuck (nng_close that never returns) runs nng in a child process
// of its own: this binary again (posix_spawn of /proc/self/exe, so the child's nng starts fresh
// rather than as a fork of a process whose nng threads it would not have), told what to do by
// kChildEnv. The child is killed and reaped by the test, and its socket file removed.
#include <gtest/gtest.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

constexpr const char *kChildEnv = "IPCV_NNG_BYHAND_CHILD";

std::string fresh_path() {
  static int n = 0;
  char buf[128];
  std::snprintf(buf, sizeof buf, "/tmp/ipcv-nngtest-%d-%d", static_cast<int>(::getpid()), ++n);
  return buf;
}
std::string url_of(const std::string &path) { return "ipc://" + path; }
std::string fresh_url() { return url_of(fresh_path()); }

int send_bytes(nng_socket s, const char *text, int flags) {
  nng_msg *m = nullptr;
  if (int rv = nng_msg_alloc(&m, 0); rv != 0)
    return rv;
  nng_msg_append(m, text, std::strlen(text));
  const int rv = nng_sendmsg(s, m, flags);
  if (rv != 0)
    nng_msg_free(m);
  return rv;
}

int recv_one(nng_socket s) {
  nng_msg *m = nullptr;
  const int rv = nng_recvmsg(s, &m, 0);
  if (rv == 0)
    nng_msg_free(m);
  return rv;
}

// nng_dial(3): with NNG_FLAG_NONBLOCK "the connection attempt is made asynchronously"; until a
// pipe is up a push has no peer, and nng_push(7): "If no peer is available to receive a
// message, then the send operation will wait". So a non-blocking send just after the dial says
// NNG_EAGAIN although nothing was ever sent: the channel's try_send answers full on an empty
// channel (verify:TryRecvReportsEofAfterSendersClose, "try_send: full"). The dial's attempts
// run on nng's own thread: in the adapter the receiver listens first, and whether the pipe is
// up by the first try_send is a race (seen sometimes). Here the send comes before anyone
// listens, so no pipe can be up: the answer is NNG_EAGAIN every time. (With the listen before
// the send, a loaded machine let the dial through first in one fresh-clone run.)
template <int (*OpenTx)(nng_socket *), int (*OpenRx)(nng_socket *)>
void nonblocking_send_right_after_async_dial_would_block() {
  const std::string url = fresh_url();
  nng_socket tx, rx;
  ASSERT_EQ(OpenTx(&tx), 0);
  ASSERT_EQ(OpenRx(&rx), 0);
  // The sender connects first, as the contract allows; the receiver listens after its send.
  ASSERT_EQ(nng_dial(tx, url.c_str(), nullptr, NNG_FLAG_NONBLOCK), 0);
  EXPECT_EQ(send_bytes(tx, "first", NNG_FLAG_NONBLOCK), NNG_EAGAIN)
      << "a non-blocking send before the asynchronous dial could connect went through";
  ASSERT_EQ(nng_listen(rx, url.c_str(), nullptr, 0), 0);
  // Once the dialer has connected (it retries on its own), the same send goes through.
  int rv = NNG_EAGAIN;
  for (int i = 0; i < 300 && rv == NNG_EAGAIN; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    rv = send_bytes(tx, "later", NNG_FLAG_NONBLOCK);
  }
  EXPECT_EQ(rv, 0);
  // Taken, so that closing the receiver finds nothing unreceived (see ReceiverClose... below).
  EXPECT_EQ(recv_one(rx), 0);
  nng_close(tx);
  nng_close(rx);
}

TEST(NngPushPull, NonblockingSendRightAfterAsyncDialWouldBlock) {
  nonblocking_send_right_after_async_dial_would_block<nng_push0_open, nng_pull0_open>();
}
TEST(NngPair, NonblockingSendRightAfterAsyncDialWouldBlock) {
  nonblocking_send_right_after_async_dial_would_block<nng_pair1_open, nng_pair1_open>();
}

// nng_push(7): "If no peer is available to receive a message, then the send operation will
// wait until one is available, or the operation times out." Nothing tells the sender that its
// only receiver closed for good: the send times out (NNG_ETIMEDOUT), never a "peer gone"
// (verify:ReportsPeerGoneWhenReceiversClose). The receiver takes the message before it closes:
// closing it with a message unreceived may never return (ReceiverCloseSometimesNeverReturns...).
template <int (*OpenTx)(nng_socket *), int (*OpenRx)(nng_socket *)>
void send_after_receiver_closed_times_out() {
  const std::string url = fresh_url();
  nng_socket tx, rx;
  ASSERT_EQ(OpenRx(&rx), 0);
  ASSERT_EQ(nng_listen(rx, url.c_str(), nullptr, 0), 0);
  ASSERT_EQ(OpenTx(&tx), 0);
  ASSERT_EQ(nng_dial(tx, url.c_str(), nullptr, 0), 0);
  ASSERT_EQ(nng_socket_set_ms(tx, NNG_OPT_SENDTIMEO, 2000), 0);
  ASSERT_EQ(nng_socket_set_ms(rx, NNG_OPT_RECVTIMEO, 2000), 0);
  ASSERT_EQ(send_bytes(tx, "one", 0), 0);
  ASSERT_EQ(recv_one(rx), 0);
  nng_close(rx); // the only receiver is gone for good
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // The pipe is gone; later sends wait for a peer that never comes.
  ASSERT_EQ(nng_socket_set_ms(tx, NNG_OPT_SENDTIMEO, 300), 0);
  int rv = 0;
  for (int i = 0; i < 5 && rv == 0; ++i)
    rv = send_bytes(tx, "two", 0);
  EXPECT_EQ(rv, NNG_ETIMEDOUT) << nng_strerror(rv);
  nng_close(tx);
}

TEST(NngPushPull, SendAfterReceiverClosedTimesOut) {
  send_after_receiver_closed_times_out<nng_push0_open, nng_pull0_open>();
}
TEST(NngPair, SendAfterReceiverClosedTimesOut) {
  send_after_receiver_closed_times_out<nng_pair1_open, nng_pair1_open>();
}

// ---- nng_close of a receiver with a message it never received -------------------------------

/// The child's part (a fresh process): a receiver listens at `path`, a sender in the same
/// process dials it and sends one message, and the receiver is closed with that message
/// unreceived (`take` false) or after taking it (`take` true). Exit 0 once both closes returned;
/// another status when a step failed.
/// The start both children share: a receiver (pair1 or pull0) listening at `path` and a sender
/// (pair1 or push0) dialled to it, the sender's NNG_OPT_SENDBUF set first when `sendbuf` > 0.
/// 0, or the child's exit status for the step that failed.
int open_and_connect(bool pair, const char *path, int sendbuf, nng_socket &tx, nng_socket &rx) {
  const std::string url = url_of(path);
  if ((pair ? nng_pair1_open(&rx) : nng_pull0_open(&rx)) != 0)
    return 10;
  if (nng_listen(rx, url.c_str(), nullptr, 0) != 0)
    return 11;
  if ((pair ? nng_pair1_open(&tx) : nng_push0_open(&tx)) != 0)
    return 12;
  if (sendbuf > 0 && nng_socket_set_int(tx, NNG_OPT_SENDBUF, sendbuf) != 0)
    return 16;
  if (nng_dial(tx, url.c_str(), nullptr, 0) != 0)
    return 13;
  return 0;
}

int close_receiver_child(bool pair, bool take, const char *path) {
  nng_socket tx, rx;
  if (const int failed = open_and_connect(pair, path, 0, tx, rx); failed != 0)
    return failed;
  nng_socket_set_ms(tx, NNG_OPT_SENDTIMEO, 2000);
  nng_socket_set_ms(rx, NNG_OPT_RECVTIMEO, 2000);
  if (send_bytes(tx, "one", 0) != 0)
    return 14;
  if (take && recv_one(rx) != 0)
    return 15;
  nng_close(rx);
  nng_close(tx);
  return 0;
}

/// The other child: the sender has NNG_OPT_SENDBUF 4 (a queue of four messages in the socket),
/// sends 300 messages, every 50th of them 1 MiB, and one last byte while a thread receives,
/// then closes at once (`wait_ms` 0) or after `wait_ms`, as nng_close(3) recommends. Exit 0
/// once both closes returned.
int close_sender_child(bool pair, int wait_ms, const char *path) {
  nng_socket tx, rx;
  if (const int failed = open_and_connect(pair, path, 4, tx, rx); failed != 0)
    return failed;
  nng_socket_set_ms(tx, NNG_OPT_SENDTIMEO, 5000);
  nng_socket_set_ms(rx, NNG_OPT_RECVTIMEO, 200); // the taker ends 200 ms after the last message
  std::thread taker([rx] {
    while (recv_one(rx) == 0) {
    }
  });
  std::vector<char> big(1024 * 1024, 'x');
  for (int i = 0; i < 300; ++i)
    if (nng_send(tx, big.data(), i % 50 == 49 ? big.size() : 100, 0) != 0)
      return 14;
  if (nng_send(tx, big.data(), 1, 0) != 0)
    return 14;
  if (wait_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  nng_close(tx);
  taker.join();
  nng_close(rx);
  return 0;
}

/// When this binary runs as a child (kChildEnv = "pair|push take|keep|wait0|wait100 PATH"), it
/// does the child's part and exits before gtest's main.
[[maybe_unused]] const int kRanAsChild = [] {
  const char *spec = std::getenv(kChildEnv);
  if (spec == nullptr)
    return 0;
  char proto[8] = {}, what[8] = {}, path[200] = {};
  if (std::sscanf(spec, "%7s %7s %199s", proto, what, path) != 3)
    ::_exit(20);
  const bool pair = std::strcmp(proto, "pair") == 0;
  if (std::strncmp(what, "wait", 4) == 0)
    ::_exit(close_sender_child(pair, std::atoi(what + 4), path));
  ::_exit(close_receiver_child(pair, std::strcmp(what, "take") == 0, path));
}();

struct ChildEnd {
  bool hung = false;  ///< still running after the limit (then killed)
  int status = 0;     ///< its exit status when it ended
  double cpu_s = 0.0; ///< CPU it used in the 0.5 s after it was found hung
};

/// Ticks of CPU (user + system) of process `pid`, from /proc.
long cpu_ticks(pid_t pid) {
  char name[64];
  std::snprintf(name, sizeof name, "/proc/%d/stat", static_cast<int>(pid));
  FILE *f = std::fopen(name, "r");
  if (f == nullptr)
    return 0;
  char buf[1024] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char *p = std::strrchr(buf, ')'); // after the command name
  long utime = 0, stime = 0;
  if (p != nullptr)
    std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime);
  return utime + stime;
}

/// Runs one child (`pair`, `what`: take, keep, wait0, wait100) and waits for it at most
/// `limit_ms`; a child still running then is measured for 0.5 s, killed and reaped. Its socket
/// file is removed either way.
ChildEnd run_child(bool pair, const char *what, int limit_ms) {
  const std::string path = fresh_path();
  const std::string env =
      std::string(kChildEnv) + "=" + (pair ? "pair " : "push ") + what + " " + path;
  std::vector<char *> envp;
  for (char **e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, kChildEnv, std::strlen(kChildEnv)) != 0)
      envp.push_back(*e);
  envp.push_back(const_cast<char *>(env.c_str()));
  envp.push_back(nullptr);
  char arg0[] = "nng_behaviour_test";
  char *argv[] = {arg0, nullptr};
  pid_t pid = -1;
  ChildEnd end;
  if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) {
    end.status = -1;
    return end;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  int st = 0;
  for (;;) {
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      end.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() >= until) {
      end.hung = true;
      const long before = cpu_ticks(pid);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      end.cpu_s = static_cast<double>(cpu_ticks(pid) - before) /
                  static_cast<double>(::sysconf(_SC_CLK_TCK));
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::unlink(path.c_str());
  return end;
}

constexpr int kHangLimitMs = 1000; // a close that returns takes milliseconds
constexpr int kMaxTries = 400;     // the hang comes in one run of 5 to 90 here

// nng_close(3): "The nng_close() function closes the supplied socket"; it warns that data in
// transmission may be lost, never that the call may not return. Yet closing a pull0 (pair1)
// receiver while a message it has not received is pending sometimes never returns (one run in
// 5 to 90 here; reported against 1.5.2 as nng issue #1543, "Deadlock in nng_close(socket)"):
// the closing thread waits for the pipe to be reaped, and in some runs nng's poller thread
// spins at full CPU meanwhile. A campaign or check reaches it only when a receiver closes with
// a message it has not taken, at the wrong instant: on record as seen sometimes.
void receiver_close_sometimes_never_returns(bool pair) {
  int tries = 0;
  ChildEnd end;
  for (; tries < kMaxTries && !end.hung; ++tries) {
    end = run_child(pair, "keep", kHangLimitMs);
    ASSERT_TRUE(end.hung || end.status == 0) << "the child failed at step " << end.status;
  }
  EXPECT_TRUE(end.hung) << "in " << kMaxTries
                        << " runs nng_close of the receiver always returned: nng fixed it?";
  ::testing::Test::RecordProperty("runs_until_the_hang", tries);
  ::testing::Test::RecordProperty("cpu_seconds_in_half_a_second_of_hang",
                                  std::to_string(end.cpu_s));
}

// The control: the same, but the receiver takes the message before it closes. Every close
// returns, so the hang above is the unreceived message's.
void receiver_close_returns_once_the_message_was_taken(bool pair) {
  for (int i = 0; i < 15; ++i) {
    const ChildEnd end = run_child(pair, "take", kHangLimitMs);
    ASSERT_FALSE(end.hung) << "run " << i << ": nng_close never returned although nothing was "
                           << "left unreceived";
    ASSERT_EQ(end.status, 0) << "the child failed at step " << end.status;
  }
}

TEST(NngPushPull, ReceiverCloseWithAMessageUnreceivedSometimesNeverReturns) {
  receiver_close_sometimes_never_returns(false);
}
TEST(NngPair, ReceiverCloseWithAMessageUnreceivedSometimesNeverReturns) {
  receiver_close_sometimes_never_returns(true);
}
TEST(NngPushPull, ReceiverCloseReturnsOnceTheMessageWasTaken) {
  receiver_close_returns_once_the_message_was_taken(false);
}
TEST(NngPair, ReceiverCloseReturnsOnceTheMessageWasTaken) {
  receiver_close_returns_once_the_message_was_taken(true);
}

// nng_close(3): "Closing the socket while data is in transmission will likely lead to loss of
// that data [...] It is recommended to wait a brief period after calling nng_send() [...]
// before calling this function." Loss is what it warns of; but a sender with messages queued
// (NNG_OPT_SENDBUF 4) and a 1 MiB message in transmission that closes at once sometimes never
// returns from nng_close at all (one run in three here), while its peer, alive and receiving,
// never gets what was queued. A campaign reaches it when a sender closes right after its last
// send of a large message (the no-cross-talk probe does): on record as seen sometimes.
void sender_close_right_after_sending_sometimes_never_returns(bool pair) {
  int tries = 0;
  ChildEnd end;
  for (; tries < kMaxTries && !end.hung; ++tries) {
    end = run_child(pair, "wait0", 2000);
    ASSERT_TRUE(end.hung || end.status == 0) << "the child failed at step " << end.status;
  }
  EXPECT_TRUE(end.hung) << "in " << kMaxTries
                        << " runs nng_close of the sender always returned: nng fixed it?";
  ::testing::Test::RecordProperty("runs_until_the_hang", tries);
}

TEST(NngPushPull, SenderCloseRightAfterALargeSendSometimesNeverReturns) {
  sender_close_right_after_sending_sometimes_never_returns(false);
}
TEST(NngPair, SenderCloseRightAfterALargeSendSometimesNeverReturns) {
  sender_close_right_after_sending_sometimes_never_returns(true);
}

// ---- the ipc:// socket file ------------------------------------------------------------------

// nng_ipc(7) names the socket file by the URL's path; nng creates it at nng_listen, not before,
// and a listener whose bind finds the path taken removes what is there and binds anyway (the
// check for a live listener is a connect, refused by any file nobody listens on). So a file
// another user created first at the name is replaced, not refused, and the new socket gets the
// process's umask unless NNG_OPT_IPC_PERMISSIONS is set (isolation: owner-only, no-squat).
TEST(NngIpc, ListenReplacesAFileAlreadyAtThePathInsteadOfRefusingIt) {
  const std::string path = fresh_path();
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "squatter", 8), 8);
  ::close(fd);
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  nng_socket rx;
  ASSERT_EQ(nng_pull0_open(&rx), 0);
  EXPECT_EQ(nng_listen(rx, url_of(path).c_str(), nullptr, 0), 0)
      << "nng_listen refused a path taken by someone else's file";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << "the squatter's regular file is still there";
  nng_close(rx);
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the listener's close left the socket file";
  ::unlink(path.c_str());
}

} // namespace
