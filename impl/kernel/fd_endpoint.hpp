// FdSender and FdReceiver: the endpoints of a kernel channel in which every endpoint owns one
// descriptor of its own (a duplicate of an end the Address holds). What is the same for every
// such channel lives here: ownership, close, the checks of a closed endpoint and an oversized
// message, and the blocking and non-blocking form of each call. A channel C defines only how
// one message goes out (FdSender<C>::put) and comes in (FdReceiver<C>::take), and declares
// those explicit specializations after its own definition.
#pragma once

#include "unique_fd.hpp"

namespace ipcv {

/// A FdSender is a sending endpoint of channel C that owns its own descriptor.
template <class C> class FdSender {
public:
  FdSender(UniqueFd fd, std::uint32_t max) : fd_(std::move(fd)), max_(max) {}
  Status send(std::span<const std::byte> msg, Deadline d) noexcept {
    return checked_put(msg, d, Result::timeout);
  }
  Status try_send(std::span<const std::byte> msg) noexcept {
    return checked_put(msg, Deadline{}, Result::full);
  }
  void close() noexcept { fd_.reset(); }

private:
  Status checked_put(std::span<const std::byte> msg, Deadline d, Result when_late) noexcept {
    if (!fd_)
      return {Result::error, EBADF, "sender is closed"};
    if (msg.size() > max_)
      return Result::too_large;
    return put(msg, d, when_late);
  }
  /// Sends `msg` (at most max_ bytes) on the open fd_, waiting until `d`; returns `when_late`
  /// when the deadline passes first. Each channel defines it.
  Status put(std::span<const std::byte> msg, Deadline d, Result when_late) noexcept;

  UniqueFd fd_;
  std::uint32_t max_;
};

/// A FdReceiver is a receiving endpoint of channel C that owns its own descriptor.
template <class C> class FdReceiver {
public:
  FdReceiver(UniqueFd fd, std::uint32_t max) : fd_(std::move(fd)), max_(max) {}
  RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept {
    return checked_take(buf, d, Result::timeout);
  }
  RecvStatus try_recv(std::span<std::byte> buf) noexcept {
    return checked_take(buf, Deadline{}, Result::empty);
  }
  void close() noexcept { fd_.reset(); }

private:
  RecvStatus checked_take(std::span<std::byte> buf, Deadline d, Result when_late) noexcept {
    if (!fd_)
      return Status{Result::error, EBADF, "receiver is closed"};
    return take(buf, d, when_late);
  }
  /// Receives one message into `buf` from the open fd_, waiting until `d`; returns `when_late`
  /// when the deadline passes first. Each channel defines it.
  RecvStatus take(std::span<std::byte> buf, Deadline d, Result when_late) noexcept;

  UniqueFd fd_;
  std::uint32_t max_;
};

/// Connects an endpoint E (a FdSender or FdReceiver) to its own duplicate of `fd`; `what` names
/// the step in the error when dup fails.
template <class E> Expected<E> connect_dup(int fd, std::uint32_t max, const char *what) {
  const int mine = os::dup_cloexec(fd);
  if (mine < 0)
    return Status::from_errno(what);
  return E(UniqueFd(mine), max);
}

} // namespace ipcv
