// ZeroMQ (libzmq 4.3, the C API of zmq.h) over the ipc:// transport, as ipcverify channels:
//   zmq-pushpull         PUSH -> PULL, many senders, one receiver, every default kept
//   zmq-pushpull-linger  the same with ZMQ_LINGER = 1000 ms, the hardening users are told about:
//                        zmq_close(3): "The default setting of ZMQ_LINGER does not discard unsent
//                        messages; this behaviour may cause the application to block when calling
//                        zmq_ctx_term()". With the default, a sender whose receiver is gone
//                        (closed, or died) blocks forever in close (its end marker is pending);
//                        with a finite linger close ends, and what is pending is discarded.
//   zmq-pair             PAIR <-> PAIR, one sender and one receiver
//   zmq-pair-linger      the same with ZMQ_LINGER set to a finite value
//
// What the documentation promises, and so all these channels claim:
//   zmq_send(3) / zmq_msg_recv(3): "0MQ ensures atomic delivery of messages: peers shall receive
//     either all message parts of a message or none at all" (integrity, no-phantom).
//   zmq_socket(3), ZMQ_PUSH: "When a ZMQ_PUSH socket enters the mute state due to having reached
//     the high water mark for all downstream nodes [...] any zmq_send(3) operations on the socket
//     shall block until the mute state ends [...]; messages are not discarded." ZMQ_PAIR says the
//     same ("messages are not discarded") (no-loss while both sides live).
//   zmq_socket(3): "0MQ sockets present an abstraction of an asynchronous message queue"; the
//     pipeline pattern is "formally defined by http://rfc.zeromq.org/spec:30", which gives each
//     peer a queue ("SHALL maintain a double queue for each connected peer") (fifo per sender,
//     no-duplication: one queue per connection, nothing is sent twice).
//   zmq_setsockopt(3), ZMQ_LINGER: "A value of -1 specifies an infinite linger period. Pending
//     messages shall not be discarded after a call to zmq_disconnect() or zmq_close();
//     attempting to terminate the socket's context with zmq_ctx_term() shall block until all
//     pending messages have been sent to a peer." Default value: -1 (infinite). So a sender's
//     close (zmq_close + zmq_ctx_term) delivers what it queued: no-loss holds up to the end.
//   zmq_poll(3): "zmq_poll() shall wait timeout milliseconds for an event to occur on any of the
//     requested items" (deadline: every wait is a zmq_poll bounded by the call's Deadline).
// What it does not promise, so is not claimed (still measured, shown n/c):
//   - linearizable: try_send / try_recv use ZMQ_DONTWAIT, whose EAGAIN says only that this
//     socket's own pipe is full / empty; the context's I/O thread moves messages between the
//     pipes and the kernel socket asynchronously, so a message may be in flight at that instant.
//   - bounded-wait / capacity: ZMQ_SNDHWM and ZMQ_RCVHWM (default 1000 each, per peer) bound
//     the queues, but "0MQ does not guarantee that the socket will accept as many as ZMQ_SNDHWM
//     messages, and the actual limit may be as much as 90% lower depending on the flow of
//     messages on the socket" (zmq_setsockopt(3)). Claims::capacity is the default HWM, 1000;
//     Config::capacity sets ZMQ_SNDHWM on the sender and ZMQ_RCVHWM on the receiver.
//   - crash-safety: nothing tells the other side that a peer died. ZMQ_HEARTBEAT_IVL exists but
//     only drops the connection (PUSH then reconnects; queued messages of a dead pipe are
//     discarded, RFC 30: "If this peer disconnects, the PUSH socket SHALL destroy its double
//     queue and SHALL discard any messages it contains"). No peer_gone is ever returned.
//   - isolation: zmq_ipc(7): "any existing binding to the same endpoint shall be overridden.
//     That is, if a second process binds to an endpoint already bound by a process, this will
//     succeed and the first process will lose its binding." zmq_bind creates the socket file
//     with the process's umask; it neither refuses an existing name nor sets a mode.
// Maximum message: ZMQ_MAXMSGSIZE is -1 by default, "no limit". The channel's maximum is a
//   choice of the adapter, 64 KiB of payload (Config::max_message may raise it to 1 MiB), checked
//   at send; the library adds nothing to it.
// End of stream: zmq has no "every sender closed". Every message is one zmq message whose first
//   byte is a tag (kData); each sender's close sends one kEnd message alone, then zmq_close and
//   zmq_ctx_term (which, with the default linger, waits until everything queued was sent). The
//   receiver counts Config::senders markers and then says eof. The cost: one byte and one copy
//   per message; a close that waits for room like a send, and (default linger) until every
//   queued message reached the receiver, forever if the receiver is gone; one receiver only: PUSH
//   round-robins ("Messages are round-robined to all connected downstream nodes"), so a marker
//   reaches one puller and the others would never learn the end, hence max_receivers 1; and a
//   sender that dies sends no marker, so eof never comes.
// Across fork: contexts and sockets are created in connect_*, one context per endpoint (a forked
//   child would get a context without its I/O threads). prepare only chooses the ipc:// path; the
//   receiver's zmq_bind creates it (zmq_connect(3): "for most transports and socket types the
//   order in which a server socket is bound and a client socket is connected to it does not
//   matter"; PUSH reconnects every ZMQ_RECONNECT_IVL, 100 ms). The PULL (PAIR) side binds, since
//   it is the one stable end. destroy unlinks the path (zmq_close of the bound socket removes it,
//   but a receiver that was killed leaves it).
// What the library was found to do against these claims is on record in expected.json, each
//   finding reproduced through libzmq alone in tests/zmq_findings_test.cpp: messages queued before
//   a close with the default linger lost when the receiver lags (libzmq issue #4660, no-loss);
//   close never returning when the receiver is gone (default linger); no peer_gone; isolation.
#include <ipcverify/names.hpp>
#include <ipcverify/perturb.hpp>
#include <ipcverify/plugin.hpp>

#include <zmq.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <utility>

namespace ipcv_zmq {
using namespace ipcv;

constexpr unsigned char kData = 0x5a; // in front of every message
constexpr unsigned char kEnd = 0xe0;  // alone: a sender's close

constexpr std::size_t kDefaultMaxMessage = 64 * 1024;
constexpr std::size_t kMaxMaxMessage = 1024 * 1024;
constexpr int kDefaultHwm = 1000;     // ZMQ_SNDHWM / ZMQ_RCVHWM default (zmq_setsockopt(3))
constexpr int kHardenedLinger = 1000; // ms, zmq-pushpull-linger's ZMQ_LINGER

/// Milliseconds zmq_poll waits until `d`: -1 forever, 0 already past.
long poll_ms(Deadline d) noexcept {
  if (d == Deadline::max())
    return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(d - Clock::now()).count();
  return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : left;
}

/// Waits for `events` on `sock` until `d`: > 0 ready, 0 timed out, -1 failed (errno set).
/// zmq_poll counts its timeout in whole milliseconds on zmq's own clock and may come back a
/// millisecond before `d` by steady_clock; what is left of the Deadline is then waited for too.
int wait_sock(void *sock, short events, Deadline d, const char *point) noexcept {
  for (;;) {
    zmq_pollitem_t item{sock, 0, events, 0};
    IPCV_PERTURB_POINT(point);
    const int n = zmq_poll(&item, 1, poll_ms(d));
    if (n > 0 || (n == 0 && Clock::now() >= d))
      return n;
    if (n < 0 && errno != EINTR)
      return -1;
  }
}

/// A status of errno after a zmq call: the text names the call.
Status zmq_error(const char *call) noexcept { return {Result::error, errno, call}; }

/// Closes a socket and terminates its context. With the default ZMQ_LINGER (-1) zmq_ctx_term
/// waits until every message queued on the socket was sent to a peer.
void close_endpoint(void *&sock, void *&ctx, const char *point) noexcept {
  if (sock != nullptr) {
    IPCV_PERTURB_POINT(point);
    zmq_close(std::exchange(sock, nullptr));
  }
  if (ctx != nullptr)
    while (zmq_ctx_term(ctx) != 0 && errno == EINTR) {
    }
  ctx = nullptr;
}

enum class Kind { pushpull, pushpull_linger, pair, pair_linger };

template <Kind K> struct Traits;
template <> struct Traits<Kind::pushpull> {
  static constexpr std::string_view name = "zmq-pushpull";
  static constexpr int sender_type = ZMQ_PUSH, receiver_type = ZMQ_PULL;
  static constexpr int linger = -1; // the default: not set
  static constexpr unsigned max_senders = Claims::kMany;
};
template <> struct Traits<Kind::pushpull_linger> {
  static constexpr std::string_view name = "zmq-pushpull-linger";
  static constexpr int sender_type = ZMQ_PUSH, receiver_type = ZMQ_PULL;
  static constexpr int linger = kHardenedLinger;
  static constexpr unsigned max_senders = Claims::kMany;
};
template <> struct Traits<Kind::pair> {
  static constexpr std::string_view name = "zmq-pair";
  static constexpr int sender_type = ZMQ_PAIR, receiver_type = ZMQ_PAIR;
  static constexpr int linger = -1;
  static constexpr unsigned max_senders = 1; // "can only be connected to a single peer"
};
template <> struct Traits<Kind::pair_linger> {
  static constexpr std::string_view name = "zmq-pair-linger";
  static constexpr int sender_type = ZMQ_PAIR, receiver_type = ZMQ_PAIR;
  static constexpr int linger = kHardenedLinger;
  static constexpr unsigned max_senders = 1;
};

template <Kind K> struct ZmqChannel {
  using T = Traits<K>;
  static constexpr std::string_view kName = T::name;

  /// Crosses fork by copy: plain values only. No context, no socket: those are made in
  /// connect_*. `endpoint` is "ipc://" followed by the socket file's path.
  struct Address {
    ObjectName path;
    char endpoint[ObjectName::kCapacity + 8] = {};
    unsigned senders = 1;
    std::uint32_t max_message = kDefaultMaxMessage;
    int hwm = 0; // 0: keep the library's default (1000)
  };

  class Sender {
  public:
    Sender(void *ctx, void *sock, std::uint32_t max) : ctx_(ctx), sock_(sock), max_(max) {}
    Sender(Sender &&o) noexcept
        : ctx_(std::exchange(o.ctx_, nullptr)), sock_(std::exchange(o.sock_, nullptr)),
          max_(o.max_) {}
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }

    Status send(std::span<const std::byte> m, Deadline d) noexcept {
      return m.size() > max_ ? Status{Result::too_large} : put(kData, m, d, Result::timeout);
    }
    Status try_send(std::span<const std::byte> m) noexcept {
      return m.size() > max_ ? Status{Result::too_large} : put(kData, m, Deadline{}, Result::full);
    }
    /// Sends the end marker (waiting for room as a send does), then zmq_close and zmq_ctx_term,
    /// which with the default linger wait until everything queued was sent.
    /// With a finite ZMQ_LINGER (the hardened variants) the wait for room for the marker is
    /// bounded by the same period: the user asked for a close that ends.
    void close() noexcept {
      if (sock_ == nullptr)
        return;
      put(kEnd, {}, T::linger < 0 ? Deadline::max() : after_ms(T::linger), Result::timeout);
      close_endpoint(sock_, ctx_, "zmq.sender.close.before_zmq_close");
    }

  private:
    Status put(unsigned char tag, std::span<const std::byte> m, Deadline d, Result late) noexcept {
      if (sock_ == nullptr)
        return {Result::error, EBADF, "sender is closed"};
      zmq_msg_t msg;
      if (zmq_msg_init_size(&msg, m.size() + 1) != 0)
        return zmq_error("zmq_msg_init_size");
      auto *p = static_cast<unsigned char *>(zmq_msg_data(&msg));
      p[0] = tag;
      if (!m.empty())
        std::memcpy(p + 1, m.data(), m.size());
      Status out;
      for (;;) {
        IPCV_PERTURB_POINT("zmq.send.before_zmq_msg_send");
        if (zmq_msg_send(&msg, sock_, ZMQ_DONTWAIT) >= 0) {
          out = Result::ok; // the message now belongs to zmq
          return out;
        }
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN) {
          out = zmq_error("zmq_msg_send");
          break;
        }
        if (d == Deadline{}) {
          out = late;
          break;
        }
        const int ev = wait_sock(sock_, ZMQ_POLLOUT, d, "zmq.send.before_zmq_poll");
        if (ev == 0) {
          out = late;
          break;
        }
        if (ev < 0) {
          out = zmq_error("zmq_poll");
          break;
        }
      }
      zmq_msg_close(&msg);
      return out;
    }

    void *ctx_;
    void *sock_;
    std::uint32_t max_;
  };

  class Receiver {
  public:
    Receiver(void *ctx, void *sock, unsigned senders, std::uint32_t max)
        : ctx_(ctx), sock_(sock), senders_(senders), max_(max) {}
    Receiver(Receiver &&o) noexcept
        : ctx_(std::exchange(o.ctx_, nullptr)), sock_(std::exchange(o.sock_, nullptr)),
          senders_(o.senders_), ended_(o.ended_), max_(o.max_) {}
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }

    RecvStatus recv(std::span<std::byte> b, Deadline d) noexcept {
      return take(b, d, Result::timeout);
    }
    RecvStatus try_recv(std::span<std::byte> b) noexcept {
      return take(b, Deadline{}, Result::empty);
    }
    /// zmq_close(3): "Any outstanding messages physically received from the network but not yet
    /// received by the application with zmq_recv() shall be discarded." The bound socket's
    /// close removes the socket file.
    void close() noexcept { close_endpoint(sock_, ctx_, "zmq.receiver.close.before_zmq_close"); }

  private:
    RecvStatus take(std::span<std::byte> buf, Deadline d, Result late) noexcept {
      if (sock_ == nullptr)
        return Status{Result::error, EBADF, "receiver is closed"};
      for (;;) {
        // Each sender's marker is the last message it sends and its pipe keeps its order: with
        // every marker in, nothing can follow.
        if (ended_ >= senders_)
          return Status{Result::eof};
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        IPCV_PERTURB_POINT("zmq.recv.before_zmq_msg_recv");
        const int n = zmq_msg_recv(&msg, sock_, ZMQ_DONTWAIT);
        if (n >= 0) {
          const auto size = zmq_msg_size(&msg);
          const auto *p = static_cast<const unsigned char *>(zmq_msg_data(&msg));
          RecvStatus out;
          if (size == 1 && p[0] == kEnd) {
            zmq_msg_close(&msg);
            ++ended_;
            continue;
          }
          if (size == 0 || p[0] != kData)
            out = Status{Result::error, EPROTO, "zmq message without the message tag"};
          else if (size - 1 > max_ || size - 1 > buf.size())
            out = Status{Result::too_large};
          else {
            if (size > 1)
              std::memcpy(buf.data(), p + 1, size - 1);
            out = {Status{Result::ok}, size - 1};
          }
          zmq_msg_close(&msg);
          return out;
        }
        const int e = errno;
        zmq_msg_close(&msg);
        if (e == EINTR)
          continue;
        if (e != EAGAIN)
          return Status{Result::error, e, "zmq_msg_recv"};
        if (d == Deadline{})
          return Status{late};
        const int ev = wait_sock(sock_, ZMQ_POLLIN, d, "zmq.recv.before_zmq_poll");
        if (ev == 0)
          return Status{late};
        if (ev < 0)
          return zmq_error("zmq_poll");
      }
    }

    void *ctx_;
    void *sock_;
    unsigned senders_;
    unsigned ended_ = 0;
    std::uint32_t max_;
  };

  static Claims claims() {
    Claims c;
    c.max_message = kDefaultMaxMessage;
    c.capacity = kDefaultHwm;
    c.max_senders = T::max_senders;
    c.max_receivers = 1;
    if constexpr (T::linger >= 0) {
      // With a finite linger "any pending messages shall be discarded" once it expires: neither
      // every message nor the end marker is promised any more.
      c.specs = {"integrity", "no-phantom", "no-duplication", "fifo", "deadline"};
      c.notes = std::string(K == Kind::pair_linger ? "zmq PAIR<->PAIR" : "zmq PUSH->PULL") +
                " over ipc://, ZMQ_LINGER=1000 ms: a close waits at most 1 s, then "
                "zmq_ctx_term discards what is pending (zmq_setsockopt(3)), so no-loss and eof are "
                "not claimed; atomic delivery (zmq_send(3)), per-peer queues (RFC 30)";
    } else {
      c.specs = {"integrity", "no-phantom",    "no-duplication", "no-loss",
                 "fifo",      "end-of-stream", "deadline"};
      c.notes = std::string(K == Kind::pair ? "zmq PAIR<->PAIR" : "zmq PUSH->PULL") +
                " over ipc://, defaults: atomic delivery (zmq_send(3)), \"messages are not "
                "discarded\" (zmq_socket(3)), ZMQ_LINGER -1 (close waits until sent); HWM 1000 "
                "(\"may be as much as 90% lower\"); eof by an in-band marker per sender (1 byte "
                "per message, one receiver); a dead peer is never reported";
    }
    return c;
  }

  /// Chooses the ipc:// path, nothing more: a zmq socket (and its context) cannot cross fork,
  /// so the receiver's zmq_bind creates the file in connect_receiver.
  static Expected<Address> prepare(const Config &cfg) {
    if (cfg.max_message > kMaxMaxMessage)
      return Status{Result::too_large, 0, "max_message > 1 MiB"};
    if (cfg.receivers > 1)
      return Status{Result::error, EINVAL, "one receiver only"};
    if (cfg.senders > T::max_senders)
      return Status{Result::error, EINVAL, "one sender only"};
    if (cfg.capacity > INT_MAX)
      return Status{Result::error, EINVAL, "capacity over INT_MAX"};
    Address a;
    a.senders = cfg.senders;
    a.max_message =
        static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kDefaultMaxMessage);
    a.hwm = static_cast<int>(cfg.capacity);
    const char *tmp = std::getenv("TMPDIR");
    const std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/";
    auto path = object_name(dir, "zmq", cfg.name);
    if (!path)
      return path.status();
    a.path = *path;
    // zmq_ipc(7): "On Linux, the maximum is 113 characters including the "ipc://" prefix".
    const int len = std::snprintf(a.endpoint, sizeof a.endpoint, "ipc://%s", a.path.c_str());
    if (len < 0 || len > 113)
      return Status{Result::error, ENAMETOOLONG, "ipc:// endpoint over 113 characters"};
    return a;
  }

  static Expected<Sender> connect_sender(const Address &a) {
    void *ctx = zmq_ctx_new();
    if (ctx == nullptr)
      return zmq_error("zmq_ctx_new");
    void *sock = zmq_socket(ctx, T::sender_type);
    if (sock == nullptr) {
      const Status s = zmq_error("zmq_socket");
      zmq_ctx_term(ctx);
      return s;
    }
    Status s;
    if (a.hwm > 0 && zmq_setsockopt(sock, ZMQ_SNDHWM, &a.hwm, sizeof a.hwm) != 0)
      s = zmq_error("zmq_setsockopt(ZMQ_SNDHWM)");
    if (s.ok() && T::linger != -1 &&
        zmq_setsockopt(sock, ZMQ_LINGER, &T::linger, sizeof T::linger) != 0)
      s = zmq_error("zmq_setsockopt(ZMQ_LINGER)");
    IPCV_PERTURB_POINT("zmq.connect.before_zmq_connect");
    if (s.ok() && zmq_connect(sock, a.endpoint) != 0)
      s = zmq_error("zmq_connect");
    if (!s.ok()) {
      void *sk = sock, *cx = ctx;
      close_endpoint(sk, cx, "zmq.connect.failed");
      return s;
    }
    return Sender(ctx, sock, a.max_message);
  }

  static Expected<Receiver> connect_receiver(const Address &a) {
    void *ctx = zmq_ctx_new();
    if (ctx == nullptr)
      return zmq_error("zmq_ctx_new");
    void *sock = zmq_socket(ctx, T::receiver_type);
    if (sock == nullptr) {
      const Status s = zmq_error("zmq_socket");
      zmq_ctx_term(ctx);
      return s;
    }
    Status s;
    if (a.hwm > 0 && zmq_setsockopt(sock, ZMQ_RCVHWM, &a.hwm, sizeof a.hwm) != 0)
      s = zmq_error("zmq_setsockopt(ZMQ_RCVHWM)");
    IPCV_PERTURB_POINT("zmq.bind.before_zmq_bind");
    if (s.ok() && zmq_bind(sock, a.endpoint) != 0)
      s = zmq_error("zmq_bind");
    if (!s.ok()) {
      void *sk = sock, *cx = ctx;
      close_endpoint(sk, cx, "zmq.bind.failed");
      return s;
    }
    return Receiver(ctx, sock, a.senders, a.max_message);
  }

  /// The Address holds no descriptor and no mapping: nothing to drop.
  static void detach(const Address &) noexcept {}
  /// The bound socket's zmq_close removes the file; a receiver that was killed leaves it.
  static void destroy(const Address &a) noexcept { ::unlink(a.path.c_str()); }
  static std::vector<NamedObject> named_objects(const Address &a) {
    return {NamedObject{"socket", a.path.c_str()}};
  }
};

static_assert(Channel<ZmqChannel<Kind::pushpull>>);
static_assert(Channel<ZmqChannel<Kind::pushpull_linger>>);
static_assert(Channel<ZmqChannel<Kind::pair>>);
static_assert(Channel<ZmqChannel<Kind::pair_linger>>);

} // namespace ipcv_zmq

IPCV_PLUGIN("zmq", registrar) {
  registrar.add<ipcv_zmq::ZmqChannel<ipcv_zmq::Kind::pushpull>>();
  registrar.add<ipcv_zmq::ZmqChannel<ipcv_zmq::Kind::pushpull_linger>>();
  registrar.add<ipcv_zmq::ZmqChannel<ipcv_zmq::Kind::pair>>();
  registrar.add<ipcv_zmq::ZmqChannel<ipcv_zmq::Kind::pair_linger>>();
}
