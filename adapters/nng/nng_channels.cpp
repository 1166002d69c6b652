// Channels of nng (nanomsg-next-gen, https://nng.nanomsg.org), 1.5.2 as Debian ships it
// (libnng-dev), over its ipc:// transport (a UNIX domain stream socket per connection):
//   nng-pushpull         push0 -> pull0; the receiver's pull socket listens, senders dial
//   nng-pair             pair1 (non-polyamorous), one sender, one receiver
//   nng-pushpull-linger  push0 -> pull0 as above, but the sender waits a brief period before
//                        nng_close, as nng_close(3) recommends (see below)
//   nng-pair-linger      pair1 as above, with the same brief wait before nng_close
//
// What the documentation (docs/man in the v1.5.2 tag) promises, and so all that is claimed:
//   nng(7): "NNG sockets are message oriented, so that messages are either delivered wholly, or
//     not at all. Partial delivery is not possible. Furthermore, NNG does not provide any other
//     delivery or ordering guarantees; messages may be dropped or reordered"
//   -> integrity is claimed; no-loss, fifo, no-duplication, no-phantom are not.
//   nng_push(7): "Although the pipeline protocol honors flow control, and attempts to avoid
//     dropping messages, no guarantee of delivery is made."
//   nng_pair(7): "Even though this mode may appear to be reliable, because back-pressure
//     prevents discarding messages most of the time, there are topologies [...] where messages
//     may be discarded. Applications that require reliable delivery semantics should consider
//     using req sockets"
//   nng_options(5), NNG_OPT_RECVTIMEO / NNG_OPT_SENDTIMEO: "When no message is available for
//     receiving at the socket for this period of time, receive operations will fail with a
//     return value of NNG_ETIMEDOUT" (send: "When a message cannot be queued for delivery [...]")
//   -> deadline is claimed. A Deadline is mapped by setting the option (milliseconds, rounded
//     up) on this endpoint's own socket before each call; a deadline already passed is a call
//     with NNG_FLAG_NONBLOCK (NNG_EAGAIN -> timeout).
//   nng_close(3): "Closing the socket while data is in transmission will likely lead to loss of
//     that data. There is no automatic linger or flush [...] It is recommended to wait a brief
//     period after calling nng_send() or similar functions, before calling this function."
//   -> the -linger variants wait 100 ms (the docs name no duration) after their last send
//     before nng_close; nng-pushpull and nng-pair close at once, as a program that never read
//     that note does.
//
// What it does not give, and what the adapter does instead:
//   - end of stream: nng has none. Every message carries a tag byte (kData) and each sender's
//     close sends one end marker (kEnd); the receiver answers eof once it holds the markers of
//     all Config::senders. The cost: one byte per message (the maximum is NNG_OPT_RECVMAXSZ's
//     1 MiB minus one), a close that waits for the marker to be taken by the protocol like a
//     send, bounded here by kCloseWaitMs since nng never says that the receiver is gone, one
//     receiver only, and a marker lost as nng_close(3) warns means eof never comes.
//   - peer death: nng tells nothing. A push with no pull connected waits ("If no peer is
//     available to receive a message, then the send operation will wait until one is
//     available, or the operation times out", nng_push(7)); a dialer reconnects on its own
//     (nng_dial(3)). So peer_gone is never returned and crash-safety is not claimed.
//     (nng_pipe_notify(3) reports pipe events; using it to invent peer_gone is a policy of the
//     adapter's, not the library's, and is not done.)
//   - capacity: NNG_OPT_SENDBUF "Normally this is set to zero, indicating that send operations
//     are unbuffered" (nng_push(7); pair1 the same), "Transport layer buffering may occur in
//     addition". A send returns once a pipe took the message, so one message fits; the kernel's
//     socket buffers hold an unstated number more. Config::capacity sets NNG_OPT_SENDBUF.
//   - maximum message: NNG_OPT_RECVMAXSZ (default 1 MiB) on the receiver: "If a peer attempts
//     to send a message larger than this, then the message will be discarded". The sender is
//     never told, so the adapter answers too_large itself for a message over the maximum it
//     configured on the receiver (Config::max_message).
//   - connecting: the receiver listens in connect_receiver (nng creates the socket file then,
//     not in prepare: nng 1.5 has no way to listen on a descriptor made earlier); a sender may
//     connect first, and nng_dial(3) says a synchronous dial that is refused fails "and no
//     further action will be taken", so senders dial with NNG_FLAG_NONBLOCK ("the connection
//     attempt is made asynchronously", retried by the dialer).
//   - the socket file: ipc://$TMPDIR/ipcv-nng-<pid>-<hex> (or Config::name). The listener
//     creates it with the process's umask unless NNG_OPT_IPC_PERMISSIONS is set (default
//     "system-specific, most often 0644", nng_ipc_options(5)), and a listener that finds a
//     stale socket at the path removes it and binds anyway (any file nobody listens on: the
//     check is a connect). isolation is judged of every channel: it fails here (expected.json).
//
// What nng was found to do against these claims is on record in expected.json, each finding
// reproduced through nng alone in tests/nng_behaviour_test.cpp: the socket file absent after
// prepare and a squatted name taken over (isolation); no peer_gone; a non-blocking send before
// the asynchronous dial connected would block (try_send full on an empty channel); and
// nng_close sometimes never returning (nng issue #1543): a receiver's, when a message it has
// not taken is pending, and a sender's, right after it queued a large message. The adapter
// calls nng_close once and waits for it, as the documentation shows; a close that never
// returns is the library's, and the harness kills the process that hangs in it.
#include <ipcverify/names.hpp>
#include <ipcverify/perturb.hpp>
#include <ipcverify/plugin.hpp>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>

namespace ipcv_nng {
using namespace ipcv;

constexpr unsigned char kData = 0x5a; // in front of every message
constexpr unsigned char kEnd = 0xe0;  // alone: a sender's close
/// NNG_OPT_RECVMAXSZ's default (nng_options(5)), less the tag byte.
constexpr std::size_t kDefaultRecvMax = 1024 * 1024;
constexpr std::size_t kMaxMessage = kDefaultRecvMax - 1;
/// How long close waits for the end marker to be taken (nng never tells a dead receiver). A
/// live receiver's pipe takes it within milliseconds; a gone one never does, and every close
/// after the receiver's waits this long, so it is short.
constexpr int kCloseWaitMs = 500;
/// The "brief period" of nng_close(3) the linger variant waits before closing.
constexpr int kLingerMs = 100;

/// The contract's words for an nng error of `call` (static text: Status::what must be).
Status from_nng(int rv, const char *call) {
  switch (rv) {
  case NNG_ETIMEDOUT:
  case NNG_EAGAIN:
    return Result::timeout;
  case NNG_EMSGSIZE:
    return Result::too_large;
  case NNG_ECLOSED:
    return {Result::error, EBADF, call};
  case NNG_ENOMEM:
    return {Result::error, ENOMEM, call};
  case NNG_EINVAL:
    return {Result::error, EINVAL, call};
  case NNG_ENOTSUP:
    return {Result::error, ENOTSUP, call};
  case NNG_EADDRINUSE:
    return {Result::error, EADDRINUSE, call};
  case NNG_EPERM:
    return {Result::error, EPERM, call};
  case NNG_EPROTO:
    return {Result::error, EPROTO, call};
  case NNG_ECONNREFUSED:
    return {Result::error, ECONNREFUSED, call};
  default:
    if ((rv & NNG_ESYSERR) != 0)
      return {Result::error, rv & ~NNG_ESYSERR, call};
    return {Result::error, EIO, call};
  }
}

/// How a Deadline reaches nng: a timeout in ms for the socket option, or "no wait" (the call is
/// made with NNG_FLAG_NONBLOCK).
struct Wait {
  bool nonblock = false;
  nng_duration ms = NNG_DURATION_INFINITE;
};
Wait wait_of(Deadline d) {
  if (d == Deadline::max())
    return {};
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(d - Clock::now()).count();
  if (left <= 0)
    return {true, 0};
  return {false, left > INT32_MAX ? INT32_MAX : static_cast<nng_duration>(left)};
}

/// The protocols: which nng socket each side opens.
struct PushPull {
  static int open_sender(nng_socket *s) { return nng_push0_open(s); }
  static int open_receiver(nng_socket *s) { return nng_pull0_open(s); }
  static constexpr unsigned kMaxSenders = Claims::kMany;
};
struct Pair1 {
  static int open_sender(nng_socket *s) { return nng_pair1_open(s); }
  static int open_receiver(nng_socket *s) { return nng_pair1_open(s); }
  static constexpr unsigned kMaxSenders = 1; // "relationships between peers are one-to-one"
};

struct PushPullDefault : PushPull {
  static constexpr std::string_view kName = "nng-pushpull";
  static constexpr int kLinger = 0;
  static constexpr const char *kNotes =
      "nng(7): messages are \"delivered wholly, or not at all\"; no delivery or ordering "
      "guarantee (\"messages may be dropped or reordered\"); push waits for a peer and never "
      "reports one gone; SENDBUF 0 by default (unbuffered) plus transport buffering; max "
      "NNG_OPT_RECVMAXSZ 1 MiB less a tag byte; eof by in-band markers (one receiver), which "
      "nng_close may drop (\"no automatic linger or flush\")";
};
struct PushPullLinger : PushPull {
  static constexpr std::string_view kName = "nng-pushpull-linger";
  static constexpr int kLinger = kLingerMs;
  static constexpr const char *kNotes =
      "nng-pushpull, but close waits 100 ms after the last send before nng_close, as "
      "nng_close(3) recommends (\"wait a brief period after calling nng_send()\"); still no "
      "delivery guarantee, so no-loss and end-of-stream stay unclaimed";
};
struct PairLinger : Pair1 {
  static constexpr std::string_view kName = "nng-pair-linger";
  static constexpr int kLinger = kLingerMs;
  static constexpr const char *kNotes =
      "nng-pair, but close waits 100 ms after the last send before nng_close, as nng_close(3) "
      "recommends (\"wait a brief period after calling nng_send()\"); still no delivery "
      "guarantee, so no-loss and end-of-stream stay unclaimed";
};
struct PairDefault : Pair1 {
  static constexpr std::string_view kName = "nng-pair";
  static constexpr int kLinger = 0;
  static constexpr const char *kNotes =
      "pair1, 1 x 1: nng(7) messages \"delivered wholly, or not at all\", no delivery or "
      "ordering guarantee; nng_pair(7): \"may appear to be reliable [...] messages may be "
      "discarded\"; a send waits for the peer and is never told it is gone; SENDBUF/RECVBUF 0 "
      "by default; max 1 MiB less a tag byte; eof by in-band marker, which nng_close may drop";
};

template <class P> struct NngChannel {
  static constexpr std::string_view kName = P::kName;

  /// Crosses fork by copy: plain values and the URL in a fixed array. No nng object: sockets
  /// are opened in connect_*.
  struct Address {
    unsigned senders = 1;
    std::uint32_t max_message = kMaxMessage;
    std::uint32_t sendbuf = 0; ///< NNG_OPT_SENDBUF; 0: nng's default
    ObjectName path;           ///< the socket file
    ObjectName url;            ///< "ipc://" + path
  };

  class Sender {
  public:
    Sender(nng_socket s, std::uint32_t max) : s_(s), max_(max) {}
    Sender(Sender &&o) noexcept
        : s_(std::exchange(o.s_, NNG_SOCKET_INITIALIZER)), max_(o.max_),
          open_(std::exchange(o.open_, false)) {}
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }

    Status send(std::span<const std::byte> m, Deadline d) noexcept {
      if (m.size() > max_)
        return Result::too_large;
      return put(kData, m, wait_of(d), Result::timeout);
    }
    Status try_send(std::span<const std::byte> m) noexcept {
      if (m.size() > max_)
        return Result::too_large;
      return put(kData, m, Wait{true, 0}, Result::full);
    }
    /// Sends the end marker (waiting at most kCloseWaitMs for the protocol to take it), waits
    /// the variant's linger, then nng_close.
    void close() noexcept {
      if (!open_)
        return;
      put(kEnd, {}, Wait{false, kCloseWaitMs}, Result::timeout);
      if (P::kLinger > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(P::kLinger));
      IPCV_PERTURB_POINT("nng.sender.before_close");
      nng_close(s_);
      open_ = false;
    }

  private:
    Status put(unsigned char tag, std::span<const std::byte> m, Wait w, Result late) noexcept {
      if (!open_)
        return {Result::error, EBADF, "sender is closed"};
      nng_msg *msg = nullptr;
      if (int rv = nng_msg_alloc(&msg, m.size() + 1); rv != 0)
        return from_nng(rv, "nng_msg_alloc");
      auto *body = static_cast<unsigned char *>(nng_msg_body(msg));
      body[0] = tag;
      if (!m.empty())
        std::memcpy(body + 1, m.data(), m.size());
      if (!w.nonblock) {
        if (int rv = nng_socket_set_ms(s_, NNG_OPT_SENDTIMEO, w.ms); rv != 0) {
          nng_msg_free(msg);
          return from_nng(rv, "nng_socket_set_ms(NNG_OPT_SENDTIMEO)");
        }
      }
      IPCV_PERTURB_POINT("nng.send.before_sendmsg");
      const int rv = nng_sendmsg(s_, msg, w.nonblock ? NNG_FLAG_NONBLOCK : 0);
      if (rv == 0)
        return Result::ok; // nng owns the message now
      nng_msg_free(msg);
      if (rv == NNG_EAGAIN || rv == NNG_ETIMEDOUT)
        return late;
      return from_nng(rv, "nng_sendmsg");
    }

    nng_socket s_;
    std::uint32_t max_;
    bool open_ = true;
  };

  class Receiver {
  public:
    Receiver(nng_socket s, unsigned senders) : s_(s), senders_(senders) {}
    Receiver(Receiver &&o) noexcept
        : s_(std::exchange(o.s_, NNG_SOCKET_INITIALIZER)), senders_(o.senders_), ended_(o.ended_),
          open_(std::exchange(o.open_, false)) {}
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }

    RecvStatus recv(std::span<std::byte> b, Deadline d) noexcept {
      return take(b, d, false, Result::timeout);
    }
    RecvStatus try_recv(std::span<std::byte> b) noexcept {
      return take(b, Deadline{}, true, Result::empty);
    }
    void close() noexcept {
      if (!open_)
        return;
      IPCV_PERTURB_POINT("nng.receiver.before_close");
      nng_close(s_);
      open_ = false;
    }

  private:
    RecvStatus take(std::span<std::byte> buf, Deadline d, bool poll, Result late) noexcept {
      if (!open_)
        return Status{Result::error, EBADF, "receiver is closed"};
      for (;;) {
        if (ended_ >= senders_)
          return Status{Result::eof};
        const Wait w = poll ? Wait{true, 0} : wait_of(d);
        if (!w.nonblock) {
          if (int rv = nng_socket_set_ms(s_, NNG_OPT_RECVTIMEO, w.ms); rv != 0)
            return from_nng(rv, "nng_socket_set_ms(NNG_OPT_RECVTIMEO)");
        }
        nng_msg *msg = nullptr;
        IPCV_PERTURB_POINT("nng.recv.before_recvmsg");
        const int rv = nng_recvmsg(s_, &msg, w.nonblock ? NNG_FLAG_NONBLOCK : 0);
        if (rv == NNG_EAGAIN || rv == NNG_ETIMEDOUT)
          return Status{late};
        if (rv != 0)
          return from_nng(rv, "nng_recvmsg");
        const auto *body = static_cast<const unsigned char *>(nng_msg_body(msg));
        const std::size_t n = nng_msg_len(msg);
        if (n == 1 && body[0] == kEnd) {
          nng_msg_free(msg);
          ++ended_;
          continue;
        }
        if (n == 0 || body[0] != kData) {
          nng_msg_free(msg);
          return Status{Result::error, EPROTO, "nng message without the adapter's tag"};
        }
        const std::size_t len = n - 1;
        if (len > buf.size()) {
          nng_msg_free(msg);
          return Status{Result::too_large};
        }
        if (len > 0)
          std::memcpy(buf.data(), body + 1, len);
        nng_msg_free(msg);
        return {Status{Result::ok}, len};
      }
    }

    nng_socket s_;
    unsigned senders_;
    unsigned ended_ = 0;
    bool open_ = true;
  };

  static Claims claims() {
    Claims c;
    c.max_message = kMaxMessage;
    c.capacity = 1; // SENDBUF 0: the message a pipe took; transport buffering is not stated
    c.max_senders = P::kMaxSenders;
    c.max_receivers = 1; // one listener per path; eof markers reach one receiver
    c.specs = {"integrity", "deadline"};
    c.notes = P::kNotes;
    return c;
  }

  /// Chooses the socket file's name; nothing of nng is touched here (nng creates the file when
  /// the receiver listens, in connect_receiver).
  static Expected<Address> prepare(const Config &cfg) {
    if (cfg.max_message > kMaxMessage)
      return Status{Result::too_large, 0, "max_message > NNG_OPT_RECVMAXSZ's 1 MiB less a tag"};
    if (cfg.receivers > 1)
      return Status{Result::error, EINVAL, "one receiver only (eof markers reach one)"};
    if (cfg.senders > P::kMaxSenders)
      return Status{Result::error, EINVAL, "pair1 is one-to-one"};
    if (cfg.capacity > 8192)
      return Status{Result::error, EINVAL, "NNG_OPT_SENDBUF is at most 8192"};
    Address a;
    a.senders = cfg.senders;
    a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
    a.sendbuf = static_cast<std::uint32_t>(cfg.capacity);
    const char *tmp = std::getenv("TMPDIR");
    const std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/";
    auto path = object_name(dir, "nng", cfg.name);
    if (!path)
      return path.status();
    a.path = *path;
    if (!a.url.assign(std::string("ipc://") + a.path.c_str()))
      return Status{Result::error, ENAMETOOLONG, "ipc:// URL too long"};
    return a;
  }

  static Expected<Sender> connect_sender(const Address &a) {
    nng_socket s = NNG_SOCKET_INITIALIZER;
    if (int rv = P::open_sender(&s); rv != 0)
      return from_nng(rv, "nng socket open (sender)");
    if (a.sendbuf > 0) {
      if (int rv = nng_socket_set_int(s, NNG_OPT_SENDBUF, static_cast<int>(a.sendbuf)); rv != 0) {
        nng_close(s);
        return from_nng(rv, "nng_socket_set_int(NNG_OPT_SENDBUF)");
      }
    }
    IPCV_PERTURB_POINT("nng.connect.before_dial");
    if (int rv = nng_dial(s, a.url.c_str(), nullptr, NNG_FLAG_NONBLOCK); rv != 0) {
      nng_close(s);
      return from_nng(rv, "nng_dial");
    }
    return Sender(s, a.max_message);
  }

  static Expected<Receiver> connect_receiver(const Address &a) {
    nng_socket s = NNG_SOCKET_INITIALIZER;
    if (int rv = P::open_receiver(&s); rv != 0)
      return from_nng(rv, "nng socket open (receiver)");
    if (a.max_message != kMaxMessage) {
      if (int rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, std::size_t{a.max_message} + 1);
          rv != 0) {
        nng_close(s);
        return from_nng(rv, "nng_socket_set_size(NNG_OPT_RECVMAXSZ)");
      }
    }
    IPCV_PERTURB_POINT("nng.connect.before_listen");
    if (int rv = nng_listen(s, a.url.c_str(), nullptr, 0); rv != 0) {
      nng_close(s);
      return from_nng(rv, "nng_listen");
    }
    return Receiver(s, a.senders);
  }

  /// Nothing to drop: the Address holds no descriptor or mapping.
  static void detach(const Address &) noexcept {}
  /// nng's listener unlinks the file when it closes; a receiver that died did not.
  static void destroy(const Address &a) noexcept { ::unlink(a.path.c_str()); }
  static std::vector<NamedObject> named_objects(const Address &a) {
    return {NamedObject{"socket", a.path.c_str()}};
  }
};

static_assert(Channel<NngChannel<PushPullDefault>>);
static_assert(Channel<NngChannel<PushPullLinger>>);
static_assert(Channel<NngChannel<PairDefault>>);
static_assert(Channel<NngChannel<PairLinger>>);

} // namespace ipcv_nng

IPCV_PLUGIN("nng", r) {
  r.add<ipcv_nng::NngChannel<ipcv_nng::PushPullDefault>>();
  r.add<ipcv_nng::NngChannel<ipcv_nng::PairDefault>>();
  r.add<ipcv_nng::NngChannel<ipcv_nng::PushPullLinger>>();
  r.add<ipcv_nng::NngChannel<ipcv_nng::PairLinger>>();
}
