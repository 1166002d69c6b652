// `seqpacket`: an AF_UNIX SOCK_SEQPACKET socketpair; the kernel keeps message boundaries and
// queues each message whole, so any number of senders and receivers may share the two ends.
//
// Every message carries a 1-byte tag in front so that a zero-length message (1 byte on the
// wire) is never confused with end of stream (recv returning 0). A message longer than the
// receive buffer is detected with MSG_TRUNC and reported as `too_large`, never cut silently.
#pragma once

#include "fd_endpoint.hpp"

namespace ipcv {

/// SeqpacketChannel is the Unix-domain sequenced-packet socket pair.
struct SeqpacketChannel {
  static constexpr std::string_view kName = "seqpacket";
  static constexpr std::size_t kMaxMessage = 64 * 1024;

  /// The two ends of the pair: senders write `send_fd`, receivers read `recv_fd`.
  struct Address {
    int send_fd = -1;
    int recv_fd = -1;
    std::uint32_t max_message = kMaxMessage;
  };

  /// A Sender owns its own duplicate of the sending end.
  using Sender = FdSender<SeqpacketChannel>;
  /// A Receiver owns its own duplicate of the receiving end.
  using Receiver = FdReceiver<SeqpacketChannel>;

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
  static void detach(const Address &a) noexcept;
  static void destroy(const Address &) noexcept {}
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

/// Sends the tag and the message in one sendmsg(2).
template <>
Status FdSender<SeqpacketChannel>::put(std::span<const std::byte> msg, Deadline d,
                                       Result when_late) noexcept;
/// Receives one packet; MSG_TRUNC tells a message longer than the buffer.
template <>
RecvStatus FdReceiver<SeqpacketChannel>::take(std::span<std::byte> buf, Deadline d,
                                              Result when_late) noexcept;

static_assert(Channel<SeqpacketChannel>, "SeqpacketChannel must satisfy the Channel contract");

} // namespace ipcv
