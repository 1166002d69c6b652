// `faulty-torn-register`: a latest-value register (one writer, any number of readers) in an
// anonymous shared mapping whose readers re-check too early. The writer keeps two copies and
// publishes each write by storing its version, so readers are steered to the copy it just
// finished (the latch of impl/shm/seqlock_register.hpp without the odd half-steps). A reader
// loads the version, copies the value out of that copy, loads the version again and retries
// when it changed, but it copies the value's last word only after that re-check. A reader held
// up there for two writes (preempted, or slowed at its perturbation point) returns a value that
// ends with a word of a later one: a torn read. The window is one word wide, so a free-running
// reader rarely falls into it. Otherwise it behaves as `shm-register`: send never waits, recv
// returns a value newer than the one this reader returned last or waits for one, and eof once
// the writer closed and the final value was returned. There is no peer table: a reader never
// learns that the writer died. Registered with `faulty = true`: listed and run only with
// --include-faulty.
#pragma once

#include "ipcverify/channel.hpp"

#include <utility>

namespace ipcv::faulty {

/// The shared block of a TornRegister.
struct TornShared;

/// TornRegister is a two-copy register whose readers copy the last word after their re-check.
struct TornRegister {
  static constexpr std::string_view kName = "faulty-torn-register";
  static constexpr std::size_t kMaxMessage = 4096;

  /// The shared block and the largest value it takes.
  struct Address {
    TornShared *shared = nullptr;
    std::uint32_t max_message = kMaxMessage;
  };

  /// A Sender is the register's only writer.
  class Sender {
  public:
    Sender(TornShared *s, std::uint32_t max) noexcept : s_(s), max_(max) {}
    Sender(Sender &&o) noexcept : s_(std::exchange(o.s_, nullptr)), max_(o.max_) {}
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }
    Status send(std::span<const std::byte> msg, Deadline) noexcept { return try_send(msg); }
    Status try_send(std::span<const std::byte> msg) noexcept;
    void close() noexcept;

  private:
    TornShared *s_;
    std::uint32_t max_;
  };

  /// A Receiver is one reader; it remembers the newest version it returned.
  class Receiver {
  public:
    static constexpr int kTries = 64; ///< reads the writer may spoil before recv says timeout

    explicit Receiver(TornShared *s) noexcept : s_(s) {}
    Receiver(Receiver &&o) noexcept : s_(std::exchange(o.s_, nullptr)), returned_(o.returned_) {}
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;
    void close() noexcept { s_ = nullptr; }

  private:
    RecvStatus attempt(std::span<std::byte> buf) noexcept;
    TornShared *s_;
    std::uint32_t returned_ = 0; // newest version returned with ok
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a) {
    return Sender(a.shared, a.max_message);
  }
  static Expected<Receiver> connect_receiver(const Address &a) { return Receiver(a.shared); }
  static void detach(const Address &) noexcept {}
  static void destroy(const Address &a) noexcept;
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

static_assert(Channel<TornRegister>, "faulty-torn-register satisfies the Channel contract");

} // namespace ipcv::faulty
