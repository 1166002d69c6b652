// The findings of adapters/zmq/expected.json, reproduced by hand through libzmq's own API (no
// ipcverify code): each test asserts what the library does, so it fails the day libzmq stops
// doing it and the recorded finding must be revisited.
#include <gtest/gtest.h>
#include <zmq.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

// zmq_socket(3), ZMQ_PUSH: a PUSH socket at its high-water mark blocks; nothing in the API tells
// it that its only PULL peer closed. A send with ZMQ_DONTWAIT keeps answering EAGAIN (or queues
// again), never an error that says the peer is gone; zmq_poll for ZMQ_POLLOUT times out.
TEST(ZmqPushPull, SenderIsNeverToldThatItsReceiverClosed) {
  PathGuard p;
  Endpoint pull(ZMQ_PULL);
  ASSERT_EQ(zmq_bind(pull.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  Endpoint push(ZMQ_PUSH, 0); // linger 0 so the test's own close cannot hang
  ASSERT_EQ(zmq_connect(push.sock, p.endpoint.c_str()), 0) << zmq_strerror(errno);
  char msg[1024] = {};
  long sent = 0;
  // Fill: try_send until the queues are full for 200 ms in a row.
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - quiet_since < std::chrono::milliseconds(200)) {
    if (zmq_send(push.sock, msg, sizeof msg, ZMQ_DONTWAIT) >= 0) {
      ++sent;
      quiet_since = std::chrono::steady_clock::now();
    } else {
      ASSERT_EQ(errno, EAGAIN) << zmq_strerror(errno);
    }
  }
  ASSERT_GT(sent, 0);
  pull.close();
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  int errors_other_than_eagain = 0;
  while (std::chrono::steady_clock::now() < until) {
    zmq_pollitem_t item{push.sock, 0, ZMQ_POLLOUT, 0};
    const int n = zmq_poll(&item, 1, 100);
    ASSERT_GE(n, 0) << zmq_strerror(errno);
    if (zmq_send(push.sock, msg, sizeof msg, ZMQ_DONTWAIT) < 0 && errno != EAGAIN)
      ++errors_other_than_eagain;
  }
  EXPECT_EQ(errors_other_than_eagain, 0)
      << "zmq_send now reports something other than EAGAIN after the peer closed";
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
