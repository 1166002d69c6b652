// `pipe`: messages over one anonymous pipe, each framed as a 4-byte length and the payload.
//
// Several writers stay safe because every frame goes out in a single write(2) of at most
// PIPE_BUF bytes, which POSIX makes atomic: frames of different senders never interleave. So
// the maximum message is PIPE_BUF - 4 = 4092 bytes and any number of senders may share it.
// Reading a frame takes two reads (length, then payload), which is not atomic, so the pipe
// claims exactly one receiver. Both ends are O_NONBLOCK; waiting is poll(2) up to the deadline.
#pragma once

#include "fd_endpoint.hpp"

#include <climits>

namespace ipcv {

/// PipeChannel is the length-prefixed anonymous pipe.
struct PipeChannel {
  static constexpr std::string_view kName = "pipe";
  static constexpr std::size_t kHeader = 4;
  static constexpr std::size_t kMaxMessage = PIPE_BUF - kHeader;

  /// The pipe's two ends, as inherited across fork.
  struct Address {
    int read_fd = -1;
    int write_fd = -1;
    std::uint32_t max_message = kMaxMessage;
  };

  /// A Sender owns its own duplicate of the write end.
  using Sender = FdSender<PipeChannel>;
  /// A Receiver owns its own duplicate of the read end.
  using Receiver = FdReceiver<PipeChannel>;

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
  static void detach(const Address &a) noexcept;
  static void destroy(const Address &) noexcept {}
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

/// Writes one frame in a single write(2).
template <>
Status FdSender<PipeChannel>::put(std::span<const std::byte> msg, Deadline d,
                                  Result when_late) noexcept;
/// Reads one frame: its length, then its payload.
template <>
RecvStatus FdReceiver<PipeChannel>::take(std::span<std::byte> buf, Deadline d,
                                         Result when_late) noexcept;

static_assert(Channel<PipeChannel>, "PipeChannel must satisfy the Channel contract");

} // namespace ipcv
