// `seqpacket`: an AF_UNIX SOCK_SEQPACKET socketpair; the kernel keeps message boundaries and
// queues each message whole, so any number of senders and receivers may share the two ends.
//
// Every message carries a 1-byte tag in front so that a zero-length message (1 byte on the
// wire) is never confused with end of stream (recv returning 0). A message longer than the
// receive buffer is detected with MSG_TRUNC and reported as `too_large`, never cut silently.
#pragma once

#include "unique_fd.hpp"

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
  class Sender {
  public:
    Sender(UniqueFd fd, std::uint32_t max) : fd_(std::move(fd)), max_(max) {}
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept;
    void close() noexcept { fd_.reset(); }

  private:
    Status put(std::span<const std::byte> msg, Deadline d, Result when_late) noexcept;
    UniqueFd fd_;
    std::uint32_t max_;
  };

  /// A Receiver owns its own duplicate of the receiving end.
  class Receiver {
  public:
    Receiver(UniqueFd fd, std::uint32_t max) : fd_(std::move(fd)), max_(max) {}
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;
    void close() noexcept { fd_.reset(); }

  private:
    RecvStatus take(std::span<std::byte> buf, Deadline d, Result when_late) noexcept;
    UniqueFd fd_;
    std::uint32_t max_;
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
  static void detach(const Address &a) noexcept;
  static void destroy(const Address &) noexcept {}
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

static_assert(Channel<SeqpacketChannel>, "SeqpacketChannel must satisfy the Channel contract");

} // namespace ipcv
