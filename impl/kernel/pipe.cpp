// Implementation of the `pipe` channel (see pipe.hpp for the framing and its limits).
#include "pipe.hpp"
#include "ipcverify/perturb.hpp"

#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace ipcv {
namespace {

/// Reads exactly n bytes unless EOF or an error comes first; waits for data until `d`.
/// Returns bytes read (< n at EOF or timeout) or -1 with errno.
ssize_t read_exact(int fd, std::byte *p, std::size_t n, Deadline d) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0) {
      break;
    } else if (errno == EAGAIN) {
      int ev = os::wait_fd(fd, POLLIN, d);
      if (ev == 0)
        break;
      if (ev < 0)
        return -1;
    } else if (errno != EINTR) {
      return -1;
    }
  }
  return static_cast<ssize_t>(got);
}

} // namespace

Claims PipeChannel::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = 16; // a 64 KiB pipe holds 16 frames of the maximum size
  c.max_senders = Claims::kMany;
  c.max_receivers = 1;
  c.specs = spec_names(kQueueSpecs, {"crash-safety"});
  c.peer_notice = std::chrono::milliseconds(0); // the kernel closes a dead process's ends at once
  c.notes = "frames of <= PIPE_BUF bytes are written atomically: many senders, one receiver";
  return c;
}

Expected<PipeChannel::Address> PipeChannel::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 4092"};
  if (cfg.receivers > 1)
    return Status{Result::error, EINVAL, "pipe has one receiver"};
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
    return Status::from_errno("pipe2");
  Address a;
  a.read_fd = fds[0];
  a.write_fd = fds[1];
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  return a;
}

Expected<PipeChannel::Sender> PipeChannel::connect_sender(const Address &a) {
  return connect_dup<Sender>(a.write_fd, a.max_message, "dup write end");
}

Expected<PipeChannel::Receiver> PipeChannel::connect_receiver(const Address &a) {
  return connect_dup<Receiver>(a.read_fd, a.max_message, "dup read end");
}

void PipeChannel::detach(const Address &a) noexcept {
  os::close_fd(a.read_fd);
  os::close_fd(a.write_fd);
}

template <>
Status FdSender<PipeChannel>::put(std::span<const std::byte> msg, Deadline d,
                                  Result when_late) noexcept {
  constexpr std::size_t kHeader = PipeChannel::kHeader;
  std::byte frame[PIPE_BUF];
  const auto len = static_cast<std::uint32_t>(msg.size());
  std::memcpy(frame, &len, kHeader);
  if (!msg.empty())
    std::memcpy(frame + kHeader, msg.data(), msg.size());
  const std::size_t n = kHeader + msg.size();
  IPCV_PERTURB_POINT("pipe.send.framed");
  for (;;) {
    ssize_t r = os::write_nosigpipe(fd_.get(), frame, n);
    if (r == static_cast<ssize_t>(n))
      return Result::ok;
    if (r >= 0)
      return {Result::error, EIO, "short write of an atomic frame"};
    if (errno == EPIPE)
      return Result::peer_gone;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return Status::from_errno("write");
    int ev = os::wait_fd(fd_.get(), POLLOUT, d);
    if (ev == 0)
      return when_late;
    if (ev < 0)
      return Status::from_errno("poll");
  }
}

template <>
RecvStatus FdReceiver<PipeChannel>::take(std::span<std::byte> buf, Deadline d,
                                         Result when_late) noexcept {
  constexpr std::size_t kHeader = PipeChannel::kHeader;
  std::uint32_t len = 0;
  ssize_t h = read_exact(fd_.get(), reinterpret_cast<std::byte *>(&len), kHeader, d);
  if (h < 0)
    return Status::from_errno("read");
  if (h == 0) {
    // Nothing arrived: either every writer is gone (EOF) or the deadline passed.
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && !(p.revents & POLLIN))
      return Status{Result::eof};
    return Status{when_late};
  }
  if (h < static_cast<ssize_t>(kHeader))
    return Status{Result::error, EIO, "torn frame header"};
  if (len > max_)
    return Status{Result::error, EPROTO, "frame length over the maximum"};
  IPCV_PERTURB_POINT("pipe.recv.between_header_and_payload");
  // The frame was written atomically, so its payload is already in the pipe.
  const Deadline grace = Clock::now() + std::chrono::seconds(1);
  if (len > buf.size()) {
    std::byte scratch[PIPE_BUF];
    if (read_exact(fd_.get(), scratch, len, grace) != static_cast<ssize_t>(len))
      return Status{Result::error, EIO, "torn frame payload"};
    return Status{Result::too_large};
  }
  ssize_t b = read_exact(fd_.get(), buf.data(), len, grace);
  if (b < 0)
    return Status::from_errno("read");
  if (b != static_cast<ssize_t>(len))
    return Status{Result::error, EIO, "torn frame payload"};
  return {Status{Result::ok}, len};
}

} // namespace ipcv
