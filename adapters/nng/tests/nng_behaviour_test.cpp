// What nng 1.5.2 itself does, through its own API only (no ipcverify): the by-hand
// reproductions of the findings recorded in adapters/nng/expected.json. Each test asserts the
// behaviour the finding states, so it fails if nng ever stops doing it.
#include <gtest/gtest.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

std::string fresh_url() {
  static int n = 0;
  char buf[128];
  std::snprintf(buf, sizeof buf, "ipc:///tmp/ipcv-nngtest-%d-%d", static_cast<int>(::getpid()),
                ++n);
  return buf;
}

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

// nng_dial(3): with NNG_FLAG_NONBLOCK "the connection attempt is made asynchronously"; until a
// pipe is up a push has no peer, and nng_push(7): "If no peer is available to receive a
// message, then the send operation will wait". So a non-blocking send just after the dial says
// NNG_EAGAIN although nothing was ever sent: the channel's try_send answers full on an empty
// channel (verify:TryRecvReportsEofAfterSendersClose, "try_send: full").
template <int (*OpenTx)(nng_socket *), int (*OpenRx)(nng_socket *)>
void nonblocking_send_right_after_async_dial_would_block() {
  const std::string url = fresh_url();
  nng_socket tx, rx;
  ASSERT_EQ(OpenTx(&tx), 0);
  ASSERT_EQ(OpenRx(&rx), 0);
  // The sender connects first, as the contract allows; the receiver listens right after.
  ASSERT_EQ(nng_dial(tx, url.c_str(), nullptr, NNG_FLAG_NONBLOCK), 0);
  ASSERT_EQ(nng_listen(rx, url.c_str(), nullptr, 0), 0);
  EXPECT_EQ(send_bytes(tx, "first", NNG_FLAG_NONBLOCK), NNG_EAGAIN)
      << "a non-blocking send right after an asynchronous dial went through";
  // Once the dialer has connected (it retries on its own), the same send goes through.
  int rv = NNG_EAGAIN;
  for (int i = 0; i < 300 && rv == NNG_EAGAIN; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    rv = send_bytes(tx, "later", NNG_FLAG_NONBLOCK);
  }
  EXPECT_EQ(rv, 0);
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
// (verify:ReportsPeerGoneWhenReceiversClose).
template <int (*OpenTx)(nng_socket *), int (*OpenRx)(nng_socket *)>
void send_after_receiver_closed_times_out() {
  const std::string url = fresh_url();
  nng_socket tx, rx;
  ASSERT_EQ(OpenRx(&rx), 0);
  ASSERT_EQ(nng_listen(rx, url.c_str(), nullptr, 0), 0);
  ASSERT_EQ(OpenTx(&tx), 0);
  ASSERT_EQ(nng_dial(tx, url.c_str(), nullptr, 0), 0);
  ASSERT_EQ(nng_socket_set_ms(tx, NNG_OPT_SENDTIMEO, 2000), 0);
  ASSERT_EQ(send_bytes(tx, "one", 0), 0);
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

// Disabled: with push0/pull0 this test does not finish in nng 1.5.2 (the process spins at
// 99% CPU after nng_close of the pull socket; not yet understood), so it cannot stand as the
// reproduction of the push-pull peer-gone finding. The pair1 version below finishes.
TEST(NngPushPull, DISABLED_SendAfterReceiverClosedTimesOut) {
  send_after_receiver_closed_times_out<nng_push0_open, nng_pull0_open>();
}
TEST(NngPair, SendAfterReceiverClosedTimesOut) {
  send_after_receiver_closed_times_out<nng_pair1_open, nng_pair1_open>();
}

} // namespace
