// Small operating-system helpers shared by the reference channels: deadlines for poll(2),
// process liveness, writes that cannot raise SIGPIPE. (Names of objects: ipcverify/names.hpp.)
#pragma once

#include "ipcverify/channel.hpp"

#include <sys/types.h>

namespace ipcv::os {

/// Milliseconds left until `d` for poll(2), rounded up, 0 when it has passed.
int poll_timeout_ms(Deadline d) noexcept;

/// Waits until `fd` reports one of `events` or `d` passes, retrying on EINTR.
/// Returns the revents (non-zero) when ready, 0 on timeout, -1 with errno on error.
int wait_fd(int fd, short events, Deadline d) noexcept;

/// True while process `pid` exists and is not a zombie (a dead child not yet reaped).
bool process_alive(pid_t pid) noexcept;

/// The scheduler's state letter of thread `tid` of process `pid` (/proc/PID/task/TID/stat:
/// 'R' running or runnable, 'S' or 'D' asleep in the kernel, 'Z' a zombie, ...), or '\0'
/// when it is gone.
char thread_state(pid_t pid, pid_t tid) noexcept;

/// write(2) with SIGPIPE blocked for this thread only; a broken pipe shows as -1 / EPIPE and
/// no signal stays pending. The process's signal dispositions are left alone.
ssize_t write_nosigpipe(int fd, const void *buf, std::size_t n) noexcept;

/// dup(2) with FD_CLOEXEC set.
int dup_cloexec(int fd) noexcept;

/// close(2) that ignores a negative fd and keeps errno.
void close_fd(int fd) noexcept;

} // namespace ipcv::os
