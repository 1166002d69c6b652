// `faulty-relaxed-publish`: a single-producer single-consumer ring of fixed slots whose producer
// publishes a slot with a relaxed store of the tail after plain writes of the payload, and
// whose consumer reads the tail relaxed too. On x86 the hardware keeps those stores in order
// and every run of the default build passes every spec; in the C++ memory model the payload
// is a data race, which only ThreadSanitizer sees (a TSan build, thread mode: race-free).
// Registered with `faulty = true`: listed and run only with --include-faulty.
#pragma once

#include "ipcverify/channel.hpp"

#include <atomic>

namespace ipcv::faulty {

/// The shared block of a RelaxedRing.
struct RelaxedShared;

/// RelaxedRing is a working ring with a publication that is not a release.
struct RelaxedRing {
  static constexpr std::string_view kName = "faulty-relaxed-publish";
  static constexpr std::size_t kSlotBytes = 256;
  static constexpr std::uint32_t kSlots = 8;

  struct Address {
    RelaxedShared *shared = nullptr;
  };

  class Sender {
  public:
    explicit Sender(RelaxedShared *s) : s_(s) {}
    Sender(Sender &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept;
    void close() noexcept;

  private:
    RelaxedShared *s_;
  };

  class Receiver {
  public:
    explicit Receiver(RelaxedShared *s) : s_(s) {}
    Receiver(Receiver &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;
    void close() noexcept;

  private:
    RelaxedShared *s_;
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a) { return Sender(a.shared); }
  static Expected<Receiver> connect_receiver(const Address &a) { return Receiver(a.shared); }
  static void detach(const Address &) noexcept {}
  static void destroy(const Address &a) noexcept;
  static std::vector<NamedObject> named_objects(const Address &) { return {}; }
};

static_assert(Channel<RelaxedRing>, "faulty-relaxed-publish satisfies the Channel contract");

} // namespace ipcv::faulty
