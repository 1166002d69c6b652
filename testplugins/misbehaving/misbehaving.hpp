// Misbehaving channels: each a correct small channel (an AF_UNIX SOCK_SEQPACKET pair made in
// prepare, one sender, one receiver, a 1-byte tag before every message so that a 0-byte message
// is not end of stream) with one way of misbehaving built in, the way untrusted code in a
// plugin might: it crashes, hangs, throws, leaks an OS object or a descriptor, or reports a
// received size larger than the buffer. The harness must report each as that channel's `run`
// failure with the reason, never crash or hang itself, and leave nothing behind
// (docs/design.md, "A misbehaving channel"). The plugin misbehaving.cpp registers them; the
// harness's tests use the types directly.
#pragma once

#include <ipcverify/channel.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ipcv::misbehave {

enum class Fault {
  crash_prepare,   ///< prepare dereferences a null pointer (SIGSEGV in ipcverify's process)
  crash_destroy,   ///< destroy dereferences a null pointer
  hang_prepare,    ///< prepare never returns
  throw_prepare,   ///< prepare throws std::runtime_error
  crash_send,      ///< the third send dereferences a null pointer (an actor dies)
  hang_send,       ///< the third send ignores its deadline and never returns (the watchdog)
  throw_connect,   ///< connect_receiver throws std::runtime_error
  throw_send,      ///< send (noexcept) throws: std::terminate, SIGABRT
  garbage_size,    ///< recv answers ok with a size 4096 bytes past the buffer
  leak_shm,        ///< prepare makes a /dev/shm object, lists it, and destroy never removes it
  leak_descriptor, ///< prepare opens a descriptor that destroy never closes
};

constexpr std::string_view name_of(Fault f) {
  constexpr std::array<std::string_view, 11> names = {
      "misbehave-crash-prepare", "misbehave-crash-destroy", "misbehave-hang-prepare",
      "misbehave-throw-prepare", "misbehave-crash-send",    "misbehave-hang-send",
      "misbehave-throw-connect", "misbehave-throw-send",    "misbehave-garbage-size",
      "misbehave-leak",          "misbehave-leak-fd"};
  return names[static_cast<std::size_t>(f)];
}

/// A null write the compiler cannot see through: a real SIGSEGV.
[[gnu::noinline]] inline void crash() {
  static volatile int *volatile nowhere = nullptr;
  *nowhere = 1;
}

/// Throws from a function the compiler does not inline into a noexcept caller.
[[gnu::noinline]] inline void fail(const char *what) { throw std::runtime_error(what); }

[[gnu::noinline]] inline void hang() {
  for (;;)
    ::pause();
}

template <Fault F> struct Misbehaving {
  static constexpr std::string_view kName = name_of(F);
  static constexpr std::size_t kMax = 1024;

  struct Address {
    int send_fd = -1;
    int recv_fd = -1;
    int extra_fd = -1; ///< leak_descriptor: never closed
    char shm[64] = {}; ///< leak_shm: the object's name
  };

  static int wait_ms(Deadline d) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(d - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000));
  }

  struct Sender {
    int fd = -1;
    unsigned sent = 0;
    Sender() = default;
    explicit Sender(int f) : fd(f) {}
    Sender(Sender &&o) noexcept : fd(std::exchange(o.fd, -1)), sent(o.sent) {}
    Sender &operator=(Sender &&o) noexcept {
      std::swap(fd, o.fd);
      sent = o.sent;
      return *this;
    }
    ~Sender() { close(); }
    Status put(std::span<const std::byte> m, Deadline d, bool once) noexcept {
      if (m.size() > kMax)
        return {Result::too_large};
      if (F == Fault::crash_send && ++sent == 3)
        crash();
      if (F == Fault::hang_send && ++sent == 3)
        hang();
      if (F == Fault::throw_send && ++sent == 3)
        fail("misbehave: the send threw");
      std::array<std::byte, kMax + 1> frame;
      frame[0] = std::byte{'m'};
      std::memcpy(frame.data() + 1, m.data(), m.size());
      for (;;) {
        const ssize_t n = ::send(fd, frame.data(), m.size() + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
          return {};
        if (errno == EPIPE || errno == ECONNRESET)
          return {Result::peer_gone};
        if (errno != EAGAIN && errno != EINTR)
          return Status::from_errno("send");
        if (once)
          return {Result::full};
        if (Clock::now() >= d)
          return {Result::timeout};
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, wait_ms(d));
      }
    }
    Status send(std::span<const std::byte> m, Deadline d) noexcept { return put(m, d, false); }
    Status try_send(std::span<const std::byte> m) noexcept { return put(m, Deadline{}, true); }
    void close() noexcept {
      if (fd >= 0)
        ::close(std::exchange(fd, -1));
    }
  };

  struct Receiver {
    int fd = -1;
    Receiver() = default;
    explicit Receiver(int f) : fd(f) {}
    Receiver(Receiver &&o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Receiver &operator=(Receiver &&o) noexcept {
      std::swap(fd, o.fd);
      return *this;
    }
    ~Receiver() { close(); }
    RecvStatus take(std::span<std::byte> buf, Deadline d, bool once) noexcept {
      std::array<std::byte, kMax + 2> frame;
      for (;;) {
        const ssize_t n = ::recv(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (n == 0)
          return {Status{Result::eof}};
        if (n > 0) {
          const auto len = static_cast<std::size_t>(n) - 1;
          if (len > buf.size())
            return {Status{Result::too_large}};
          std::memcpy(buf.data(), frame.data() + 1, len);
          if (F == Fault::garbage_size)
            return {Status{}, buf.size() + 4096};
          return {Status{}, len};
        }
        if (errno == ECONNRESET)
          return {Status{Result::peer_gone}};
        if (errno != EAGAIN && errno != EINTR)
          return {Status::from_errno("recv")};
        if (once)
          return {Status{Result::empty}};
        if (Clock::now() >= d)
          return {Status{Result::timeout}};
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, wait_ms(d));
      }
    }
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept { return take(buf, d, false); }
    RecvStatus try_recv(std::span<std::byte> buf) noexcept { return take(buf, Deadline{}, true); }
    void close() noexcept {
      if (fd >= 0)
        ::close(std::exchange(fd, -1));
    }
  };

  static Claims claims() {
    Claims c;
    c.max_message = kMax;
    c.capacity = 16;
    c.specs = {"integrity", "no-phantom", "no-duplication", "no-loss", "fifo", "end-of-stream"};
    c.notes = "a seqpacket pair that misbehaves on purpose (a test fixture)";
    return c;
  }

  static Expected<Address> prepare(const Config &) {
    if constexpr (F == Fault::crash_prepare)
      crash();
    if constexpr (F == Fault::hang_prepare)
      hang();
    if constexpr (F == Fault::throw_prepare)
      fail("misbehave: no broker to connect to");
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
      return Status::from_errno("socketpair");
    Address a;
    a.send_fd = sv[0];
    a.recv_fd = sv[1];
    if constexpr (F == Fault::leak_descriptor)
      a.extra_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if constexpr (F == Fault::leak_shm) {
      static std::atomic<unsigned> serial{0};
      std::snprintf(a.shm, sizeof a.shm, "/ipcv-misbehave-%d-%u", static_cast<int>(::getpid()),
                    serial++);
      const int fd = ::shm_open(a.shm, O_CREAT | O_EXCL | O_RDWR, 0600);
      if (fd < 0) {
        const Status s = Status::from_errno("shm_open");
        ::close(sv[0]);
        ::close(sv[1]);
        return s;
      }
      ::close(fd);
    }
    return a;
  }
  static Expected<Sender> connect_sender(const Address &a) {
    const int fd = ::fcntl(a.send_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("dup");
    ::shutdown(fd, SHUT_RD);
    return Sender(fd);
  }
  static Expected<Receiver> connect_receiver(const Address &a) {
    if constexpr (F == Fault::throw_connect)
      fail("misbehave: the receiver could not connect");
    const int fd = ::fcntl(a.recv_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("dup");
    return Receiver(fd);
  }
  static void detach(const Address &a) noexcept {
    ::close(a.send_fd);
    ::close(a.recv_fd);
  }
  static void destroy(const Address &a) noexcept {
    if constexpr (F == Fault::crash_destroy)
      crash();
    (void)a; // leak_shm: never shm_unlink(a.shm); leak_descriptor: never close(a.extra_fd)
  }
  static std::vector<NamedObject> named_objects(const Address &a) {
    if (a.shm[0] == '\0')
      return {};
    return {NamedObject{"shm", a.shm}};
  }
};

static_assert(ipcv::Channel<Misbehaving<Fault::leak_shm>>);

} // namespace ipcv::misbehave
