// `fixture-good-pipe`: the channel of the good test plugin, written only against the public
// headers as a user's adapter is. One anonymous pipe, one sender and one receiver, each message
// framed as a 4-byte length and the payload and written in a single write(2) of at most
// PIPE_BUF bytes (atomic), so a reader never sees part of a frame. Its send has a perturbation
// point, which the tests use to show that a plugin's points reach the engine's hook.
#pragma once

#include <ipcverify/perturb.hpp>
#include <ipcverify/plugin.hpp>

#include <climits>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace fixture {

using namespace ipcv;

/// Milliseconds until `d` for poll(2), rounded up; 0 when it passed.
inline int ms_until(Deadline d) {
  const auto left = d - Clock::now();
  if (left <= Clock::duration::zero())
    return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

/// Waits until `fd` has `events` or `d` passes: > 0 ready, 0 late, -1 error.
inline int wait_for(int fd, short events, Deadline d) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms_until(d));
    if (n > 0)
      return 1;
    if (n == 0 && Clock::now() >= d)
      return 0;
    if (n < 0 && errno != EINTR)
      return -1;
  }
}

/// write(2) that returns EPIPE instead of raising SIGPIPE.
inline ssize_t write_quietly(int fd, const void *buf, std::size_t n) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  const ssize_t r = ::write(fd, buf, n);
  const int saved = errno;
  if (r < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE)) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return r;
}

/// An owned descriptor.
class Endpoint {
public:
  Endpoint(int fd, std::uint32_t max) : fd_(fd), max_(max) {}
  Endpoint(Endpoint &&o) noexcept : fd_(std::exchange(o.fd_, -1)), max_(o.max_) {}
  Endpoint &operator=(Endpoint &&) = delete;
  ~Endpoint() { close(); }
  void close() noexcept {
    if (fd_ >= 0)
      ::close(std::exchange(fd_, -1));
  }

protected:
  int fd_;
  std::uint32_t max_;
};

struct GoodPipe {
  static constexpr std::string_view kName = "fixture-good-pipe";
  static constexpr std::size_t kHeader = 4;
  static constexpr std::size_t kMax = PIPE_BUF - kHeader;

  struct Address {
    int read_fd = -1;
    int write_fd = -1;
    std::uint32_t max = kMax;
  };

  class Sender : public Endpoint {
  public:
    using Endpoint::Endpoint;
    Status send(std::span<const std::byte> m, Deadline d) noexcept {
      return put(m, d, Result::timeout);
    }
    Status try_send(std::span<const std::byte> m) noexcept { return put(m, {}, Result::full); }

  private:
    Status put(std::span<const std::byte> m, Deadline d, Result when_late) noexcept {
      if (fd_ < 0)
        return {Result::error, EBADF, "sender is closed"};
      if (m.size() > max_)
        return Result::too_large;
      std::byte frame[PIPE_BUF];
      const auto len = static_cast<std::uint32_t>(m.size());
      std::memcpy(frame, &len, kHeader);
      if (!m.empty())
        std::memcpy(frame + kHeader, m.data(), m.size());
      IPCV_PERTURB_POINT("fixture-good-pipe.send");
      for (;;) {
        const ssize_t r = write_quietly(fd_, frame, kHeader + m.size());
        if (r == static_cast<ssize_t>(kHeader + m.size()))
          return Result::ok;
        if (r >= 0)
          return {Result::error, EIO, "short write of an atomic frame"};
        if (errno == EPIPE)
          return Result::peer_gone;
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN)
          return Status::from_errno("write");
        const int w = wait_for(fd_, POLLOUT, d);
        if (w == 0)
          return when_late;
        if (w < 0)
          return Status::from_errno("poll");
      }
    }
  };

  class Receiver : public Endpoint {
  public:
    using Endpoint::Endpoint;
    RecvStatus recv(std::span<std::byte> b, Deadline d) noexcept {
      return take(b, d, Result::timeout);
    }
    RecvStatus try_recv(std::span<std::byte> b) noexcept { return take(b, {}, Result::empty); }

  private:
    RecvStatus take(std::span<std::byte> b, Deadline d, Result when_late) noexcept {
      if (fd_ < 0)
        return Status{Result::error, EBADF, "receiver is closed"};
      std::uint32_t len = 0;
      for (;;) {
        // Frames are written whole, so a frame is in the pipe entirely or not at all.
        const ssize_t r = ::read(fd_, &len, kHeader);
        if (r == static_cast<ssize_t>(kHeader))
          break;
        if (r == 0)
          return Status{Result::eof};
        if (r > 0)
          return Status{Result::error, EIO, "torn frame header"};
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN)
          return Status::from_errno("read");
        const int w = wait_for(fd_, POLLIN, d);
        if (w == 0)
          return Status{when_late};
        if (w < 0)
          return Status::from_errno("poll");
      }
      if (len > max_)
        return Status{Result::error, EPROTO, "frame length over the maximum"};
      std::byte scratch[PIPE_BUF];
      std::byte *into = len > b.size() ? scratch : b.data();
      std::size_t got = 0;
      while (got < len) {
        const ssize_t r = ::read(fd_, into + got, len - got);
        if (r > 0)
          got += static_cast<std::size_t>(r);
        else if (r < 0 && errno == EINTR)
          continue;
        else
          return Status{Result::error, EIO, "torn frame payload"};
      }
      if (len > b.size())
        return Status{Result::too_large};
      return {Status{Result::ok}, len};
    }
  };

  static Claims claims() {
    Claims c;
    c.max_message = kMax;
    c.capacity = 16; // a 64 KiB pipe holds 16 frames of the maximum size
    c.max_senders = 1;
    c.max_receivers = 1;
    c.specs = spec_names(kQueueSpecs, {"crash-safety"});
    c.peer_notice = std::chrono::milliseconds(0); // the kernel closes a dead process's ends
    c.notes = "test plugin: one sender, one receiver, frames written atomically";
    return c;
  }

  static Expected<Address> prepare(const Config &cfg) {
    if (cfg.max_message > kMax)
      return Status{Result::too_large, 0, "max_message > PIPE_BUF - 4"};
    if (cfg.senders > 1 || cfg.receivers > 1)
      return Status{Result::error, EINVAL, "one sender and one receiver"};
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
      return Status::from_errno("pipe2");
    return Address{fds[0], fds[1],
                   static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMax)};
  }

  static Expected<Sender> connect_sender(const Address &a) {
    const int fd = ::fcntl(a.write_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("dup write end");
    return Sender(fd, a.max);
  }

  static Expected<Receiver> connect_receiver(const Address &a) {
    const int fd = ::fcntl(a.read_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("dup read end");
    return Receiver(fd, a.max);
  }

  static void detach(const Address &a) noexcept {
    ::close(a.read_fd);
    ::close(a.write_fd);
  }
  static void destroy(const Address &) noexcept {}
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

static_assert(Channel<GoodPipe>, "GoodPipe must satisfy the Channel contract");

} // namespace fixture
