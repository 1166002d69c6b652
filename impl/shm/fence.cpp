// Registration and the heavy side of the asymmetric fence (see fence.hpp).
#include "fence.hpp"

#include <linux/membarrier.h>
#include <mutex>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ipcv::shm {
namespace {

int membarrier(int cmd) noexcept { return static_cast<int>(::syscall(SYS_membarrier, cmd, 0U, 0)); }

/// Whether this kernel offers the global expedited command; the same for parent and children.
bool kernel_has_global_expedited() noexcept {
  static const bool has = [] {
    const int cmds = membarrier(MEMBARRIER_CMD_QUERY);
    constexpr int want = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
    return cmds > 0 && (cmds & want) == want;
  }();
  return has;
}

} // namespace

bool enable_light_notify() noexcept {
  if (detail::light_notify.load(std::memory_order_relaxed))
    return true;
  static std::once_flag atfork;
  std::call_once(atfork, [] {
    // A forked child is a new address space the kernel has not registered.
    ::pthread_atfork(nullptr, nullptr,
                     [] { detail::light_notify.store(false, std::memory_order_relaxed); });
  });
  if (!kernel_has_global_expedited() ||
      membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
    return false;
  detail::light_notify.store(true, std::memory_order_relaxed);
  return true;
}

void wait_fence() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (kernel_has_global_expedited())
    (void)membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

} // namespace ipcv::shm
