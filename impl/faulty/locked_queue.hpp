// Faulty fixtures: deliberately broken channels that prove the engine can fail. Each is a small
// bounded queue in shared memory guarded by a process-shared mutex, with futex wake-ups, and
// one real bug pattern switched on by its Fault:
//   faulty-drop         a full queue drops the message and reports ok (instead of blocking)
//   faulty-reorder      every fourth message jumps to the head of the queue
//   faulty-dup          a send "retries" after a lost acknowledgement and enqueues twice
//   faulty-corrupt      the payload is copied after the slot is published (torn under contention)
//   faulty-lost-wakeup  the receiver samples the wake-up word after dropping the lock, so a
//                       send in between is never seen and the receiver sleeps to its deadline
//   faulty-late-timeout a blocked call sleeps whole 250 ms slices and looks at its deadline
//                       only between them, so a short deadline is overrun by up to a slice
//   faulty-deaf         claims crash-safety but never notices a dead peer: a survivor blocked
//                       on it waits out its deadline and answers timeout
//   faulty-wrap         a 16-bit sequence number: the message on which it wraps (every 65536th
//                       of the queue) is dropped and reported sent; only long cases reach it
// They are registered with `faulty = true`: listed and run only with --include-faulty.
#pragma once

#include "ipcverify/channel.hpp"

#include <atomic>
#include <pthread.h>

namespace ipcv::faulty {

/// Which bug a LockedQueue carries.
enum class Fault : std::uint8_t {
  drop,
  reorder,
  dup,
  corrupt,
  lost_wakeup,
  late_timeout,
  deaf,
  wrap
};

/// The shared block of a LockedQueue.
struct QueueShared;

/// LockedQueue is a mutex-guarded bounded queue with the bug `F` built in.
template <Fault F> struct LockedQueue {
  static constexpr std::string_view kName = F == Fault::drop           ? "faulty-drop"
                                            : F == Fault::reorder      ? "faulty-reorder"
                                            : F == Fault::dup          ? "faulty-dup"
                                            : F == Fault::corrupt      ? "faulty-corrupt"
                                            : F == Fault::lost_wakeup  ? "faulty-lost-wakeup"
                                            : F == Fault::late_timeout ? "faulty-late-timeout"
                                            : F == Fault::deaf         ? "faulty-deaf"
                                                                       : "faulty-wrap";
  struct Address {
    QueueShared *shared = nullptr;
  };

  class Sender {
  public:
    explicit Sender(QueueShared *s) : s_(s) {}
    Sender(Sender &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept { return send(msg, Deadline{}); }
    void close() noexcept;

  private:
    QueueShared *s_;
  };

  class Receiver {
  public:
    explicit Receiver(QueueShared *s) : s_(s) {}
    Receiver(Receiver &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept { return recv(buf, Deadline{}); }
    void close() noexcept;

  private:
    QueueShared *s_;
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a) { return Sender(a.shared); }
  static Expected<Receiver> connect_receiver(const Address &a) { return Receiver(a.shared); }
  static void detach(const Address &) noexcept {}
  static void destroy(const Address &a) noexcept;
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

static_assert(Channel<LockedQueue<Fault::drop>>, "faulty fixtures satisfy the Channel contract");

} // namespace ipcv::faulty
