// UniqueFd: sole ownership of one file descriptor, closed on destruction; endpoints hold these.
#pragma once

#include "../os.hpp"

#include <utility>

namespace ipcv {

/// A UniqueFd owns one file descriptor and closes it when destroyed or reset.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd &operator=(UniqueFd &&o) noexcept {
    if (this != &o)
      reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept { os::close_fd(std::exchange(fd_, fd)); }

private:
  int fd_ = -1;
};

} // namespace ipcv
