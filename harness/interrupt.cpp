// Implementation of interrupts and the emergency exit (interrupt.hpp).
#include "interrupt.hpp"

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>

namespace ipcv::harness {
namespace {

constexpr int kMaxChildren = 1024;
constexpr int kMaxObjects = 256;
constexpr std::size_t kPathMax = 128;
constexpr int kFree = 0, kFilling = 1, kPublished = 2;

std::atomic<int> g_signal{0};
std::array<std::atomic<pid_t>, kMaxChildren> g_children{};

/// One named object as the handler removes it: a message queue by name, anything else by path.
struct ObjectSlot {
  std::atomic<int> state{0}; ///< kFree, kFilling (claimed, path being written), kPublished
  bool mqueue = false;
  char path[kPathMax] = {}; ///< "/dev/shm/ipcv-...", "/tmp/...", or the queue's name
};
std::array<ObjectSlot, kMaxObjects> g_objects{};

/// The emergency exit, async-signal-safe: raw syscalls only, no allocation, no locks.
void emergency_exit(int sig) {
  for (auto &c : g_children)
    if (const pid_t pid = c.load(std::memory_order_relaxed); pid > 0)
      ::kill(pid, SIGKILL);
  for (auto &o : g_objects) {
    // SYNC POINT READ: tracked object
    if (o.state.load(std::memory_order_acquire) != kPublished)
      continue;
    if (o.mqueue)
      ::syscall(SYS_mq_unlink, o.path + 1); // the kernel takes the name without its '/'
    else
      ::unlink(o.path);
  }
  static const char msg[] = "interrupted twice: children killed, OS objects removed\n";
  [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
  ::_exit(interrupted_status(sig));
}

extern "C" void on_interrupt(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig))
    emergency_exit(sig);
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

} // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : kSignals)
    ::sigaction(s, &sa, nullptr);
}

void reset_interrupt_handlers_in_child() noexcept {
  for (int s : kSignals)
    ::signal(s, SIG_DFL);
}

int interrupted() noexcept { return g_signal.load(std::memory_order_relaxed); }

void track_child(pid_t pid) noexcept {
  for (auto &c : g_children) {
    pid_t empty = 0;
    if (c.compare_exchange_strong(empty, pid))
      return;
  }
}

void untrack_child(pid_t pid) noexcept {
  for (auto &c : g_children) {
    pid_t mine = pid;
    if (c.compare_exchange_strong(mine, 0))
      return;
  }
}

Tracked::Tracked(const std::vector<NamedObject> &objects) {
  for (const NamedObject &o : objects) {
    const std::string path = o.kind == "shm" ? "/dev/shm" + o.path : o.path;
    if (path.size() >= kPathMax)
      continue;
    for (int i = 0; i < kMaxObjects; ++i) {
      ObjectSlot &s = g_objects[static_cast<std::size_t>(i)];
      int free = kFree;
      if (!s.state.compare_exchange_strong(free, kFilling))
        continue;
      s.mqueue = o.kind == "mqueue";
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      // SYNC POINT WRITE: tracked object — the handler that sees it published sees its path.
      s.state.store(kPublished, std::memory_order_release);
      slots_.push_back(i);
      break;
    }
  }
}

Tracked::Tracked(Tracked &&o) noexcept : slots_(std::move(o.slots_)) { o.slots_.clear(); }

Tracked &Tracked::operator=(Tracked &&o) noexcept {
  if (this != &o) {
    release();
    slots_ = std::move(o.slots_);
    o.slots_.clear();
  }
  return *this;
}

void Tracked::release() noexcept {
  for (int i : slots_)
    g_objects[static_cast<std::size_t>(i)].state.store(kFree, std::memory_order_release);
  slots_.clear();
}

} // namespace ipcv::harness
