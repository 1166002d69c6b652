// Implementation of the `seqpacket` channel (see seqpacket.hpp).
#include "seqpacket.hpp"
#include "ipcverify/perturb.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ipcv {
namespace {
constexpr unsigned char kTag = 0x5a;
}

Claims SeqpacketChannel::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = 10; // net.unix.max_dgram_qlen bounds the receive queue of a socketpair
  c.max_senders = Claims::kMany;
  c.max_receivers = Claims::kMany;
  c.specs = spec_names(kQueueSpecs, {"crash-safety"});
  c.peer_notice = std::chrono::milliseconds(0); // the kernel closes a dead process's ends at once
  c.notes = "the kernel queues each packet whole: many senders, many receivers";
  return c;
}

Expected<SeqpacketChannel::Address> SeqpacketChannel::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 64 KiB"};
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return Status::from_errno("socketpair");
  Address a;
  a.send_fd = sv[0];
  a.recv_fd = sv[1];
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  return a;
}

Expected<SeqpacketChannel::Sender> SeqpacketChannel::connect_sender(const Address &a) {
  return connect_dup<Sender>(a.send_fd, a.max_message, "dup sending end");
}

Expected<SeqpacketChannel::Receiver> SeqpacketChannel::connect_receiver(const Address &a) {
  return connect_dup<Receiver>(a.recv_fd, a.max_message, "dup receiving end");
}

void SeqpacketChannel::detach(const Address &a) noexcept {
  os::close_fd(a.send_fd);
  os::close_fd(a.recv_fd);
}

template <>
Status FdSender<SeqpacketChannel>::put(std::span<const std::byte> msg, Deadline d,
                                       Result when_late) noexcept {
  unsigned char tag = kTag;
  iovec iov[2] = {{&tag, 1}, {const_cast<std::byte *>(msg.data()), msg.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = msg.empty() ? 1 : 2;
  IPCV_PERTURB_POINT("seqpacket.send.before_sendmsg");
  for (;;) {
    ssize_t r = ::sendmsg(fd_.get(), &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r == static_cast<ssize_t>(msg.size() + 1))
      return Result::ok;
    if (r >= 0)
      return {Result::error, EIO, "short sendmsg on a packet socket"};
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
      return Result::peer_gone;
    if (errno == EMSGSIZE)
      return {Result::too_large, EMSGSIZE, "sendmsg"};
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return Status::from_errno("sendmsg");
    int ev = os::wait_fd(fd_.get(), POLLOUT, d);
    if (ev == 0)
      return when_late;
    if (ev < 0)
      return Status::from_errno("poll");
  }
}

template <>
RecvStatus FdReceiver<SeqpacketChannel>::take(std::span<std::byte> buf, Deadline d,
                                              Result when_late) noexcept {
  unsigned char tag = 0;
  iovec iov[2] = {{&tag, 1}, {buf.data(), buf.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = buf.empty() ? 1 : 2;
  IPCV_PERTURB_POINT("seqpacket.recv.before_recvmsg");
  for (;;) {
    mh.msg_flags = 0;
    ssize_t r = ::recvmsg(fd_.get(), &mh, MSG_DONTWAIT | MSG_TRUNC);
    if (r == 0)
      return Status{Result::eof};
    if (r > 0) {
      const auto len = static_cast<std::size_t>(r) - 1;
      if (tag != kTag)
        return Status{Result::error, EPROTO, "packet without the message tag"};
      if (len > max_ || (mh.msg_flags & MSG_TRUNC))
        return Status{Result::too_large};
      return {Status{Result::ok}, len};
    }
    if (errno == ECONNRESET)
      return Status{Result::peer_gone};
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return Status::from_errno("recvmsg");
    int ev = os::wait_fd(fd_.get(), POLLIN, d);
    if (ev == 0)
      return Status{when_late};
    if (ev < 0)
      return Status::from_errno("poll");
  }
}

} // namespace ipcv
