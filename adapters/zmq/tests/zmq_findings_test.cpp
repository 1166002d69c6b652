// The findings of adapters/zmq/expected.json, reproduced by hand through libzmq's own API (no
// ipcverify code): each test asserts what the library does, so it fails the day libzmq stops
// doing it and the recorded finding must be revisited.
#include <gtest/gtest.h>
#include <zmq.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

/// A fresh socket path in $TMPDIR or /tmp, in the form `ipcverify clean` knows.
std::string fresh_path() {
  const char *tmp = std::getenv("TMPDIR");
  unsigned long long r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
    r = static_cast<unsigned long long>(::time(nullptr));
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s/ipcv-zmqtest-%d-%016llx",
                tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", static_cast<int>(::getpid()), r);
  return buf;
}

/// One zmq socket with a context of its own, closed and terminated at the end of the scope.
struct Endpoint {
  void *ctx = zmq_ctx_new();
  void *sock = nullptr;
  explicit Endpoint(int type, int linger = -1) {
    sock = zmq_socket(ctx, type);
    if (linger != -1)
      zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  }
  void close() {
    if (sock != nullptr)
      zmq_close(sock);
    sock = nullptr;
    if (ctx != nullptr)
      zmq_ctx_term(ctx);
    ctx = nullptr;
  }
  ~Endpoint() { close(); }
};

struct PathGuard {
  std::string path = fresh_path();
  std::string endpoint = "ipc://" + path;
  ~PathGuard() { ::unlink(path.c_str()); }
};

} // namespace

/// Fills a sender's queues (ZMQ_DONTWAIT until EAGAIN for 200 ms in a row), closes the only
/// receiver, then for 1.5 s polls ZMQ_POLLOUT and tries to send: returns how many of those calls
/// failed with something other than EAGAIN (anything that could tell the sender the peer left).
int errors_after_the_receiver_closed(int sender_type, int receiver_type) {
  PathGuard p;
  Endpoint rx(receiver_type);
  EXPECT_EQ(zmq_bind(rx.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  Endpoint tx(sender_type, 0); // linger 0 so the test's own close cannot hang
  EXPECT_EQ(zmq_connect(tx.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  char msg[1024] = {};
  long sent = 0;
  int errors = 0;
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - quiet_since < std::chrono::milliseconds(200)) {
    if (zmq_send(tx.sock, msg, sizeof msg, ZMQ_DONTWAIT) >= 0) {
      ++sent;
      quiet_since = std::chrono::steady_clock::now();
    } else if (errno != EAGAIN) {
      ++errors;
    }
  }
  EXPECT_GT(sent, 0);
  rx.close();
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    zmq_pollitem_t item{tx.sock, 0, ZMQ_POLLOUT, 0};
    if (zmq_poll(&item, 1, 100) < 0)
      ++errors;
    if (zmq_send(tx.sock, msg, sizeof msg, ZMQ_DONTWAIT) < 0 && errno != EAGAIN)
      ++errors;
  }
  return errors;
}

// zmq_socket(3) gives PUSH and PAIR no way to learn that the peer left: a sender at its
// high-water mark keeps answering EAGAIN (or queues again) after its only receiver closed, and
// zmq_poll for ZMQ_POLLOUT just times out. So a send on the adapter ends in timeout, never
// peer_gone (verify:ReportsPeerGoneWhenReceiversClose).
TEST(ZmqPushPull, SenderIsNeverToldThatItsReceiverClosed) {
  EXPECT_EQ(errors_after_the_receiver_closed(ZMQ_PUSH, ZMQ_PULL), 0)
      << "zmq_send/zmq_poll now report something other than EAGAIN after the PULL closed";
}

TEST(ZmqPair, SenderIsNeverToldThatItsReceiverClosed) {
  EXPECT_EQ(errors_after_the_receiver_closed(ZMQ_PAIR, ZMQ_PAIR), 0)
      << "zmq_send/zmq_poll now report something other than EAGAIN after the peer PAIR closed";
}

/// In a child (so a hang can be killed): bind a receiver, connect a sender with ZMQ_LINGER
/// `linger` (-1: the default, not set), send one message and receive it, close the receiver
/// first, then send one more (an end marker) and close the sender: zmq_close + zmq_ctx_term.
/// Returns true when the child finished within `limit_ms`, false when it was still in
/// zmq_ctx_term and was killed.
bool sender_close_ends(int sender_type, int receiver_type, int linger, int limit_ms) {
  const std::string path = fresh_path();
  const std::string endpoint = "ipc://" + path;
  const pid_t pid = ::fork();
  if (pid == 0) {
    Endpoint rx(receiver_type);
    if (zmq_bind(rx.sock, endpoint.c_str()) != 0)
      ::_exit(3);
    Endpoint tx(sender_type, linger);
    if (zmq_connect(tx.sock, endpoint.c_str()) != 0)
      ::_exit(4);
    char b[8];
    if (zmq_send(tx.sock, "m", 1, 0) != 1 || zmq_recv(rx.sock, b, sizeof b, 0) != 1)
      ::_exit(5);
    rx.close(); // the receiver goes first, as a peer that finished or died would
    if (zmq_send(tx.sock, "e", 1, ZMQ_DONTWAIT) != 1)
      ::_exit(6); // queued: the pipe has room
    tx.close();   // zmq_close, then zmq_ctx_term
    ::_exit(0);
  }
  EXPECT_GT(pid, 0);
  int status = 0;
  bool ended = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  ::unlink(path.c_str());
  return ended;
}

// zmq_close(3): "The default setting of ZMQ_LINGER does not discard unsent messages; this
// behaviour may cause the application to block when calling zmq_ctx_term()"; zmq_setsockopt(3):
// with -1 (the default) zmq_ctx_term "shall block until all pending messages have been sent to a
// peer". A sender with one message pending (the adapter's end marker) whose receiver already
// closed never returns from zmq_ctx_term: the conformance checks close the receiver before the
// sender, so each of them hangs until its 60 s limit (verify:DeliversZeroLengthMessage, ...).
TEST(ZmqPushPull, CtxTermBlocksForeverWithTheDefaultLingerWhenTheReceiverClosedFirst) {
  EXPECT_FALSE(sender_close_ends(ZMQ_PUSH, ZMQ_PULL, -1, 3000))
      << "zmq_ctx_term returned although a message was pending for a closed PULL";
}

TEST(ZmqPair, CtxTermBlocksForeverWithTheDefaultLingerWhenTheReceiverClosedFirst) {
  EXPECT_FALSE(sender_close_ends(ZMQ_PAIR, ZMQ_PAIR, -1, 3000))
      << "zmq_ctx_term returned although a message was pending for a closed PAIR";
}

// The hardening of zmq-pushpull-linger / zmq-pair-linger: with ZMQ_LINGER = 1000 ms the same
// close ends ("the linger period expires, after which any pending messages shall be discarded").
TEST(ZmqPushPull, CtxTermEndsWithAFiniteLinger) {
  EXPECT_TRUE(sender_close_ends(ZMQ_PUSH, ZMQ_PULL, 1000, 5000));
}

TEST(ZmqPair, CtxTermEndsWithAFiniteLinger) {
  EXPECT_TRUE(sender_close_ends(ZMQ_PAIR, ZMQ_PAIR, 1000, 5000));
}

// zmq_setsockopt(3), ZMQ_SNDHWM: "0MQ does not guarantee that the socket will accept as many as
// ZMQ_SNDHWM messages, and the actual limit may be as much as 90% lower depending on the flow of
// messages on the socket. The socket may even be able to accept more messages than the
// ZMQ_SNDHWM threshold". A PUSH whose zmq_send(ZMQ_DONTWAIT) just answered EAGAIN accepts more
// messages within 100 ms although nobody called zmq_recv: the context's I/O thread keeps moving
// queued messages into the kernel socket and the receiver's pipe, so "full" does not last.
TEST(ZmqPushPull, FullDoesNotLastWithoutAnyReceive) {
  PathGuard p;
  Endpoint pull(ZMQ_PULL);
  ASSERT_EQ(zmq_bind(pull.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  Endpoint push(ZMQ_PUSH, 0);
  ASSERT_EQ(zmq_connect(push.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  std::string msg(64 * 1024 + 1, 'm'); // the adapter's maximum message and its tag byte
  // One round trip first, as in the check (whose receiver is bound and connected): the
  // connection is up before the fill.
  char b[8];
  ASSERT_EQ(zmq_send(push.sock, "x", 1, 0), 1) << zmq_strerror(errno);
  ASSERT_EQ(zmq_recv(pull.sock, b, sizeof b, 0), 1) << zmq_strerror(errno);
  long accepted = 0;
  while (zmq_send(push.sock, msg.data(), msg.size(), ZMQ_DONTWAIT) >= 0)
    ++accepted;
  ASSERT_EQ(errno, EAGAIN) << zmq_strerror(errno);
  ASSERT_GT(accepted, 0);
  // What the conformance check does next: a blocking send bounded by 100 ms.
  zmq_pollitem_t item{push.sock, 0, ZMQ_POLLOUT, 0};
  const int ready = zmq_poll(&item, 1, 100);
  ASSERT_GE(ready, 0) << zmq_strerror(errno);
  EXPECT_EQ(ready, 1) << "the PUSH stayed full for 100 ms after EAGAIN";
  EXPECT_GE(zmq_send(push.sock, msg.data(), msg.size(), ZMQ_DONTWAIT), 0)
      << "a send after the EAGAIN was refused: " << zmq_strerror(errno);
}

// zmq_ipc(7): "any existing binding to the same endpoint shall be overridden. That is, if a
// second process binds to an endpoint already bound by a process, this will succeed and the
// first process will lose its binding." A socket file planted at the path first (mode 0666, as
// the no-squat probe plants it) is not refused: zmq_bind succeeds and puts a socket of its own
// there. So the name cannot be created exclusively: the file exists only from the receiver's
// zmq_bind on (a context, hence a zmq_bind, cannot be made before fork), and a name that exists
// already is taken over, not refused (isolation: owner-only finds no file after prepare,
// no-squat sees the squatted name accepted).
TEST(ZmqIpc, BindTakesOverAnExistingSocketFileInsteadOfRefusingIt) {
  PathGuard p;
  const int squatter = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(squatter, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, p.path.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(::bind(squatter, reinterpret_cast<const sockaddr *>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(squatter, 4), 0);
  ASSERT_EQ(::chmod(p.path.c_str(), 0666), 0);
  struct stat before {};
  ASSERT_EQ(::stat(p.path.c_str(), &before), 0);

  Endpoint pull(ZMQ_PULL);
  EXPECT_EQ(zmq_bind(pull.sock, p.endpoint.c_str()), 0)
      << "zmq_bind now refuses an existing path: " << zmq_strerror(errno);
  struct stat after {};
  ASSERT_EQ(::stat(p.path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino) << "the squatter's socket file is still in place";
  ::close(squatter);
}

/// A receiver process that is killed (SIGKILL) after it received one message, and a sender
/// process that then queues one more message (the adapter's end marker) and closes (zmq_close +
/// zmq_ctx_term, default linger). Returns true when the sender finished within 3 s.
bool sender_close_ends_after_the_receiver_was_killed(int sender_type, int receiver_type) {
  const std::string path = fresh_path();
  const std::string endpoint = "ipc://" + path;
  int got[2], go[2];
  EXPECT_EQ(::pipe(got), 0);
  EXPECT_EQ(::pipe(go), 0);
  const pid_t rx = ::fork();
  if (rx == 0) {
    Endpoint r(receiver_type);
    char b[8];
    if (zmq_bind(r.sock, endpoint.c_str()) != 0 || zmq_recv(r.sock, b, sizeof b, 0) != 1)
      ::_exit(3);
    if (::write(got[1], "g", 1) != 1)
      ::_exit(4);
    for (;;)
      ::pause();
  }
  const pid_t tx = ::fork();
  if (tx == 0) {
    Endpoint s(sender_type);
    char b;
    if (zmq_connect(s.sock, endpoint.c_str()) != 0 || zmq_send(s.sock, "m", 1, 0) != 1 ||
        ::read(go[0], &b, 1) != 1)
      ::_exit(3);
    if (zmq_send(s.sock, "e", 1, ZMQ_DONTWAIT) != 1)
      ::_exit(4);
    s.close();
    ::_exit(0);
  }
  char b;
  EXPECT_EQ(::read(got[0], &b, 1), 1);
  ::kill(rx, SIGKILL);
  ::waitpid(rx, nullptr, 0);
  EXPECT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  bool ended = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3000);
  while (std::chrono::steady_clock::now() < until && !ended) {
    ended = ::waitpid(tx, &status, WNOHANG) == tx;
    if (!ended)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ended) {
    ::kill(tx, SIGKILL);
    ::waitpid(tx, &status, 0);
  } else {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "sender status " << status;
  }
  for (int fd : {got[0], got[1], go[0], go[1]})
    ::close(fd);
  ::unlink(path.c_str());
  return ended;
}

// The campaign's crash workloads kill the receiver: with the default ZMQ_LINGER (-1) the
// surviving sender's close never returns, since zmq_ctx_term "shall block until all pending
// messages have been sent to a peer" and nothing tells the sender the peer died (run: the
// watchdog kills the sender, still in close).
TEST(ZmqPushPull, SenderCloseNeverEndsWithTheDefaultLingerAfterTheReceiverWasKilled) {
  EXPECT_FALSE(sender_close_ends_after_the_receiver_was_killed(ZMQ_PUSH, ZMQ_PULL))
      << "zmq_ctx_term returned although a message was pending for a dead PULL";
}

TEST(ZmqPair, SenderCloseNeverEndsWithTheDefaultLingerAfterTheReceiverWasKilled) {
  EXPECT_FALSE(sender_close_ends_after_the_receiver_was_killed(ZMQ_PAIR, ZMQ_PAIR))
      << "zmq_ctx_term returned although a message was pending for a dead PAIR";
}

/// One sender (PUSH or PAIR; its own context, on a thread) sends `n` messages of 17 bytes as fast
/// as it can, then an end marker, then zmq_close + zmq_ctx_term with the default linger (-1: "shall
/// block until all pending messages have been sent to a peer"); the receiver (PULL or PAIR)
/// receives until the marker or until nothing came for 3 s. Returns how many data messages it
/// received.
long received_before_silence(long n, int sender_type, int receiver_type) {
  PathGuard p;
  Endpoint pull(receiver_type);
  EXPECT_EQ(zmq_bind(pull.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  std::thread tx([&] {
    Endpoint push(sender_type);
    EXPECT_EQ(zmq_connect(push.sock, p.endpoint.c_str()), 0);
    char m[17] = {};
    for (long i = 0; i < n; ++i) {
      std::memcpy(m, &i, sizeof i);
      EXPECT_EQ(zmq_send(push.sock, m, sizeof m, 0), 17);
    }
    EXPECT_EQ(zmq_send(push.sock, "E", 1, 0), 1);
    push.close(); // returns: zmq_ctx_term says everything was sent
  });
  const int timeout = 3000;
  zmq_setsockopt(pull.sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  long got = 0;
  char b[32];
  for (;;) {
    const int r = zmq_recv(pull.sock, b, sizeof b, 0);
    if (r < 0 || r == 1)
      break; // silence for 3 s, or the marker
    // The receiver lags: a pause now and then (as any receiver that does work per message has),
    // so the sender runs ahead to its high-water mark and has messages pending when it closes.
    if (++got % 2048 == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  tx.join();
  return got;
}

// libzmq issue #4660 ("IPC socket drops messages, ignores LINGER", open): a PUSH that sent
// ~63000 small messages faster than the PULL takes them and then closed with the default
// ZMQ_LINGER (zmq_ctx_term returned, so "all pending messages have been sent to a peer") leaves
// the PULL short of the last few hundred or thousand messages and of the end marker, forever
// (no-loss, and eof never comes). With the receiver's pauses it showed in the first try in 16 of
// 16 runs here (without them, on a quiet machine, it once stayed away for 5 tries in a row); a
// try without loss ends in milliseconds, so the test tries up to 20 times and asserts that at
// least one lost messages.
TEST(ZmqPushPull, MessagesSentBeforeCloseAreLostWhenTheReceiverLags) {
  constexpr long kMessages = 63496; // the campaign's shrunk workload
  long worst = kMessages;
  for (int attempt = 0; attempt < 20 && worst == kMessages; ++attempt)
    worst = std::min(worst, received_before_silence(kMessages, ZMQ_PUSH, ZMQ_PULL));
  EXPECT_LT(worst, kMessages)
      << "every message and the marker arrived in 20 tries: the loss is gone";
}

// The same with PAIR <-> PAIR (the socket type of the issue's own example).
TEST(ZmqPair, MessagesSentBeforeCloseAreLostWhenTheReceiverLags) {
  constexpr long kMessages = 63496;
  long worst = kMessages;
  for (int attempt = 0; attempt < 20 && worst == kMessages; ++attempt)
    worst = std::min(worst, received_before_silence(kMessages, ZMQ_PAIR, ZMQ_PAIR));
  EXPECT_LT(worst, kMessages)
      << "every message and the marker arrived in 20 tries: the loss is gone";
}

// zmq_send(3): "A successful invocation of zmq_send() does not indicate that the message has
// been transmitted to the network, only that it has been queued on the socket and ØMQ has
// assumed responsibility for the message." The receiver's queue is filled by an I/O thread, so
// a zmq_recv(ZMQ_DONTWAIT) can answer EAGAIN while messages that were sent, and that nobody has
// received, are still on their way. Whether it happens is a matter of timing, hence
// "seen": "sometimes" on record (verify:ReportsFullAndDrainsInOrder, "draining message N:
// empty"; verify:TryRecvReportsEofAfterSendersClose). Each round fills the sender up to
// EAGAIN, as the check does, then drains with non-blocking receives; returns in how many of
// `rounds` rounds one found nothing although messages were owed. The rest is then taken with
// blocking receives, so none was lost.
int rounds_where_an_owed_message_was_not_there(int sender_type, int receiver_type, int rounds) {
  int empty_rounds = 0;
  char msg[1024] = {};
  for (int r = 0; r < rounds; ++r) {
    PathGuard p;
    Endpoint rx(receiver_type);
    const int give_up_ms = 5000; // a blocking receive that waits longer has lost a message
    zmq_setsockopt(rx.sock, ZMQ_RCVTIMEO, &give_up_ms, sizeof give_up_ms);
    EXPECT_EQ(zmq_bind(rx.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
    Endpoint tx(sender_type, 0);
    EXPECT_EQ(zmq_connect(tx.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
    EXPECT_EQ(zmq_send(tx.sock, msg, 1, 0), 1); // the connection is up before the fill
    EXPECT_EQ(zmq_recv(rx.sock, msg, sizeof msg, 0), 1);
    long owed = 0;
    while (zmq_send(tx.sock, msg, sizeof msg, ZMQ_DONTWAIT) >= 0)
      ++owed;
    bool saw_empty = false;
    long received = 0;
    while (received < owed) {
      if (zmq_recv(rx.sock, msg, sizeof msg, saw_empty ? 0 : ZMQ_DONTWAIT) >= 0) {
        ++received;
      } else if (errno == EAGAIN && !saw_empty) {
        saw_empty = true; // owed messages not there; the next receives block
      } else {
        ADD_FAILURE() << "round " << r << ": message " << received << " of " << owed << ": "
                      << zmq_strerror(errno);
        break;
      }
    }
    empty_rounds += saw_empty ? 1 : 0;
  }
  return empty_rounds;
}

TEST(ZmqPushPull, AnOwedMessageIsSometimesNotThereForANonBlockingReceive) {
  EXPECT_GT(rounds_where_an_owed_message_was_not_there(ZMQ_PUSH, ZMQ_PULL, 10), 0);
}

TEST(ZmqPair, AnOwedMessageIsSometimesNotThereForANonBlockingReceive) {
  EXPECT_GT(rounds_where_an_owed_message_was_not_there(ZMQ_PAIR, ZMQ_PAIR, 10), 0);
}
