// The `dgram` channel: an AF_UNIX SOCK_DGRAM socket bound to a path, wrapped from outside
// ipcverify's tree as a plugin. This is the file to copy when wrapping an IPC library: one
// Channel type, its claims, and one IPCV_PLUGIN block. docs/adding-an-adapter.md says why each
// part is here.
//
// What unix(7) promises, and so all this channel claims:
//   "SOCK_DGRAM, for a datagram-oriented socket that preserves message boundaries (as on most
//   UNIX implementations, UNIX domain datagram sockets are always reliable and don't reorder
//   datagrams)"
// so each message arrives whole, once, and in the order its sender sent it; many senders may
// send to one bound socket, each datagram queued whole. What it does not give:
//   - end of stream: a datagram socket has no connection to close. Every message carries a tag
//     byte and each sender's close sends one end marker; the receiver tells eof once it has the
//     markers of all Config::senders. The cost: one byte per message, a close that waits for
//     room in the queue like a send, and one receiver only (a marker taken by one receiver is
//     not seen by another, so two receivers could not both learn the end).
//   - a sender's death: the receiver cannot see it (no marker ever comes), so no crash-safety.
//     A dead receiver is seen: a send to a socket nobody holds fails with ECONNREFUSED.
//   - capacity: net.unix.max_dgram_qlen (default 10) datagrams queue at the receiver, and each
//     sender's datagrams count against its send buffer (net.core.wmem_default, 212992 bytes)
//     until received: 10 messages of 16 KiB fit in both.
// A false claim, for the proof that a broken claim fails the user's CI: compiled with
// EXAMPLE_CLAIM_CRASH_SAFETY_WRONG it claims crash-safety, which a killed sender breaks.
#include <ipcverify/names.hpp>
#include <ipcverify/perturb.hpp>
#include <ipcverify/plugin.hpp>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace example {
using namespace ipcv;

constexpr unsigned char kData = 0x5a; // in front of every message
constexpr unsigned char kEnd = 0xe0;  // alone: a sender's close

/// Waits until `fd` reports one of `events` or `d` passes: > 0 ready, 0 timed out, -1 failed.
int wait_fd(int fd, short events, Deadline d) noexcept {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(d - Clock::now()).count();
    const int ms = d == Deadline::max() ? -1 : left <= 0 ? 0 : left > INT_MAX ? INT_MAX : int(left);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms);
    if (n >= 0)
      return n;
    if (errno != EINTR)
      return -1;
  }
}

struct DgramChannel {
  static constexpr std::string_view kName = "dgram";
  static constexpr std::size_t kMaxMessage = 16 * 1024;

  /// Crosses fork by copy, so only plain values: the receiving socket's descriptor (inherited by
  /// every child, dup'ed by the receiver), its path as a fixed array (a std::string would point
  /// into the parent's heap), and the counts the endpoints need.
  struct Address {
    int recv_fd = -1;
    unsigned senders = 1;
    std::uint32_t max_message = kMaxMessage;
    ObjectName path; // a fixed array: a std::string would point into the parent's heap
  };

  class Sender {
  public:
    Sender(int fd, std::uint32_t max) : fd_(fd), max_(max) {}
    Sender(Sender &&o) noexcept : fd_(std::exchange(o.fd_, -1)), max_(o.max_) {}
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }

    Status send(std::span<const std::byte> m, Deadline d) noexcept {
      return m.size() > max_ ? Status{Result::too_large} : put(kData, m, d, Result::timeout);
    }
    Status try_send(std::span<const std::byte> m) noexcept {
      return m.size() > max_ ? Status{Result::too_large} : put(kData, m, Deadline{}, Result::full);
    }
    /// Sends the end marker, waiting for room as long as the receiver lives, then closes.
    void close() noexcept {
      if (fd_ < 0)
        return;
      put(kEnd, {}, Deadline::max(), Result::timeout);
      ::close(std::exchange(fd_, -1));
    }

  private:
    Status put(unsigned char tag, std::span<const std::byte> m, Deadline d, Result late) noexcept {
      if (fd_ < 0)
        return {Result::error, EBADF, "sender is closed"};
      iovec iov[2] = {{&tag, 1}, {const_cast<std::byte *>(m.data()), m.size()}};
      msghdr mh{};
      mh.msg_iov = iov;
      mh.msg_iovlen = m.empty() ? 1 : 2;
      for (;;) {
        IPCV_PERTURB_POINT("dgram.send.before_sendmsg");
        const ssize_t r = ::sendmsg(fd_, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r == static_cast<ssize_t>(m.size() + 1))
          return Result::ok;
        if (r >= 0)
          return {Result::error, EIO, "short sendmsg on a datagram socket"};
        if (errno == EINTR)
          continue;
        // The receiving socket is gone: every descriptor of it was closed (ECONNREFUSED on the
        // first send after, ENOTCONN on later ones).
        if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ECONNRESET || errno == EPIPE)
          return Result::peer_gone;
        if (errno == EMSGSIZE)
          return {Result::too_large, EMSGSIZE, "sendmsg"};
        if (errno != EAGAIN)
          return Status::from_errno("sendmsg");
        IPCV_PERTURB_POINT("dgram.send.before_poll");
        const int ev = wait_fd(fd_, POLLOUT, d);
        if (ev == 0)
          return late;
        if (ev < 0)
          return Status::from_errno("poll");
      }
    }

    int fd_;
    std::uint32_t max_;
  };

  class Receiver {
  public:
    Receiver(int fd, unsigned senders, std::uint32_t max) : fd_(fd), senders_(senders), max_(max) {}
    Receiver(Receiver &&o) noexcept
        : fd_(std::exchange(o.fd_, -1)), senders_(o.senders_), ended_(o.ended_), max_(o.max_) {}
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }

    RecvStatus recv(std::span<std::byte> b, Deadline d) noexcept {
      return take(b, d, Result::timeout);
    }
    RecvStatus try_recv(std::span<std::byte> b) noexcept {
      return take(b, Deadline{}, Result::empty);
    }
    void close() noexcept {
      if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
    }

  private:
    RecvStatus take(std::span<std::byte> buf, Deadline d, Result late) noexcept {
      if (fd_ < 0)
        return Status{Result::error, EBADF, "receiver is closed"};
      for (;;) {
        // Each sender's marker is the last datagram it sends and the socket keeps each sender's
        // order: with every marker in, nothing can follow.
        if (ended_ >= senders_)
          return Status{Result::eof};
        unsigned char tag = 0;
        iovec iov[2] = {{&tag, 1}, {buf.data(), buf.size()}};
        msghdr mh{};
        mh.msg_iov = iov;
        mh.msg_iovlen = buf.empty() ? 1 : 2;
        IPCV_PERTURB_POINT("dgram.recv.before_recvmsg");
        const ssize_t r = ::recvmsg(fd_, &mh, MSG_DONTWAIT | MSG_TRUNC);
        if (r > 0) {
          if (tag == kEnd && r == 1) {
            ++ended_;
            continue;
          }
          if (tag != kData)
            return Status{Result::error, EPROTO, "datagram without the message tag"};
          const auto len = static_cast<std::size_t>(r) - 1;
          if (len > max_ || len > buf.size())
            return Status{Result::too_large};
          return {Status{Result::ok}, len};
        }
        if (r == 0)
          return Status{Result::error, EPROTO, "datagram without the message tag"};
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN)
          return Status::from_errno("recvmsg");
        IPCV_PERTURB_POINT("dgram.recv.before_poll");
        const int ev = wait_fd(fd_, POLLIN, d);
        if (ev == 0)
          return Status{late};
        if (ev < 0)
          return Status::from_errno("poll");
      }
    }

    int fd_;
    unsigned senders_;
    unsigned ended_ = 0;
    std::uint32_t max_;
  };

  static Claims claims() {
    Claims c;
    c.max_message = kMaxMessage;
    c.capacity = 10;
    c.max_senders = Claims::kMany;
    c.max_receivers = 1;
    c.specs = spec_names(kQueueSpecs);
#ifdef EXAMPLE_CLAIM_CRASH_SAFETY_WRONG
    c.specs.emplace_back("crash-safety");
    c.peer_notice = std::chrono::milliseconds(0);
#endif
    c.notes = "unix(7): datagrams are reliable, kept whole and in order; eof by in-band markers";
    return c;
  }

  /// Binds the receiving socket: it must exist before any sender connects, and a descriptor
  /// (unlike a library's context) may cross fork. The path is "ipcv-dgram-<pid>-<64 random
  /// bits>" in $TMPDIR or /tmp, the form `ipcverify clean` removes once its creator is gone.
  static Expected<Address> prepare(const Config &cfg) {
    if (cfg.max_message > kMaxMessage)
      return Status{Result::too_large, 0, "max_message > 16 KiB"};
    if (cfg.receivers > 1)
      return Status{Result::error, EINVAL, "one receiver only"};
    Address a;
    a.senders = cfg.senders;
    a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
    const char *tmp = std::getenv("TMPDIR");
    const std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/";
    auto path = object_name(dir, "dgram", cfg.name);
    if (!path)
      return path.status();
    a.path = *path;
    a.recv_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (a.recv_fd < 0)
      return Status::from_errno("socket");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, a.path.text, sizeof sa.sun_path);
    // bind refuses a path that exists (EADDRINUSE): nobody can plant a socket we then join.
    IPCV_PERTURB_POINT("dgram.prepare.before_bind");
    if (::bind(a.recv_fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
      const Status s = Status::from_errno("bind");
      ::close(a.recv_fd);
      return s;
    }
    // Sending needs write permission on the socket file: the owner's only.
    if (::chmod(a.path.c_str(), 0600) != 0) {
      const Status s = Status::from_errno("chmod");
      ::unlink(a.path.c_str());
      ::close(a.recv_fd);
      return s;
    }
    return a;
  }

  /// A socket of the sender's own, connected to the path: its datagrams queue in order, and
  /// poll(POLLOUT) then waits for room at the receiver.
  static Expected<Sender> connect_sender(const Address &a) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("socket");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, a.path.text, sizeof sa.sun_path);
    IPCV_PERTURB_POINT("dgram.connect.before_connect");
    if (::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
      const int e = errno;
      ::close(fd);
      if (e == ECONNREFUSED)
        return Status{Result::peer_gone};
      return Status{Result::error, e, "connect"};
    }
    return Sender(fd, a.max_message);
  }

  static Expected<Receiver> connect_receiver(const Address &a) {
    const int fd = ::fcntl(a.recv_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("dup receiving socket");
    return Receiver(fd, a.senders, a.max_message);
  }

  /// Drops this process's copy of the receiving socket: once every copy is closed the socket
  /// is gone and senders get peer_gone.
  static void detach(const Address &a) noexcept {
    if (a.recv_fd >= 0)
      ::close(a.recv_fd);
  }
  static void destroy(const Address &a) noexcept { ::unlink(a.path.c_str()); }
  static std::vector<NamedObject> named_objects(const Address &a) {
    return {NamedObject{"socket", a.path.c_str()}};
  }
};

static_assert(Channel<DgramChannel>, "DgramChannel must satisfy the Channel contract");

} // namespace example

IPCV_PLUGIN("out-of-tree-example", registrar) { registrar.add<example::DgramChannel>(); }
