// Faulty fixtures for the `isolation` spec: working POSIX message queues (the `mqueue` channel's
// endpoints, so they pass every conformance round trip) that each break isolation in one way:
//   faulty-world-readable  the queue is created with mode 0666: any user can open, read, write it
//   faulty-squat           prepare opens its name O_CREAT without O_EXCL, so a queue that a
//                          squatter created first under that name is joined, not refused
//   faulty-crosstalk       a queue cached per process is handed to every instance prepared while
//                          it is alive, so two instances side by side deliver into each other
//   faulty-nocopy          a message whose bytes lie in a shared mapping made before prepare is
//                          passed by address ("zero copy"): the receiver copies it at recv time,
//                          after send returned and the sender reused its buffer
//   faulty-overshare       every endpoint also maps a statistics page, a shm object named after
//                          the preparing process: one page shared by every instance and every
//                          process that opens it, and declared nowhere
// Registered with `faulty = true`: listed and run only with --include-faulty.
#pragma once

#include "../kernel/mqueue.hpp"

namespace ipcv::faulty {

/// Which isolation bug the prepare step of a QueueWith carries.
enum class PrepareFault : std::uint8_t { world_readable, squat, crosstalk };

/// QueueWith is the mqueue channel with the prepare-time bug `F`; its endpoints are mqueue's.
template <PrepareFault F> struct QueueWith {
  static constexpr std::string_view kName = F == PrepareFault::world_readable
                                                ? "faulty-world-readable"
                                            : F == PrepareFault::squat ? "faulty-squat"
                                                                       : "faulty-crosstalk";
  using Address = MqueueChannel::Address;
  using Sender = MqueueChannel::Sender;
  using Receiver = MqueueChannel::Receiver;

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a) {
    return MqueueChannel::connect_sender(a);
  }
  static Expected<Receiver> connect_receiver(const Address &a) {
    return MqueueChannel::connect_receiver(a);
  }
  static void detach(const Address &a) noexcept { MqueueChannel::detach(a); }
  static void destroy(const Address &a) noexcept;
  static std::vector<NamedObject> named_objects(const Address &a) {
    return MqueueChannel::named_objects(a);
  }
};

/// NoCopy is the mqueue channel with a "zero-copy" path for buffers in shared memory.
struct NoCopy {
  static constexpr std::string_view kName = "faulty-nocopy";
  static constexpr std::size_t kMaxMessage = MqueueChannel::kMaxMessage - 1; // 1 tag byte
  static constexpr unsigned kMaxRanges = 32;

  /// An address range of a shared mapping the preparing process held at prepare time.
  struct Range {
    std::uintptr_t begin = 0, end = 0;
  };
  struct Address {
    MqueueChannel::Address q; ///< carries frames: messages plus a tag byte
    std::uint32_t max_message = kMaxMessage;
    Range shared[kMaxRanges];
    unsigned ranges = 0;
  };

  /// A Sender frames each message: a copy, or (the bug) the address of the caller's bytes.
  class Sender {
  public:
    Sender(MqueueChannel::Sender s, const Address &a)
        : s_(std::move(s)), a_(a), frame_(a.q.max_message) {}
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept { return send(msg, Deadline{}); }
    void close() noexcept { s_.close(); }

  private:
    MqueueChannel::Sender s_;
    Address a_;
    std::vector<std::byte> frame_;
  };

  /// A Receiver unframes: copies the bytes, or reads them from the sender's address now.
  class Receiver {
  public:
    Receiver(MqueueChannel::Receiver r, const Address &a)
        : r_(std::move(r)), a_(a), frame_(a.q.max_message) {}
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept { return recv(buf, Deadline{}); }
    void close() noexcept { r_.close(); }

  private:
    MqueueChannel::Receiver r_;
    Address a_;
    std::vector<std::byte> frame_;
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
  static void detach(const Address &a) noexcept { MqueueChannel::detach(a.q); }
  static void destroy(const Address &a) noexcept { MqueueChannel::destroy(a.q); }
  static std::vector<NamedObject> named_objects(const Address &a) {
    return MqueueChannel::named_objects(a.q);
  }
};

/// Overshare is the mqueue channel whose endpoints also map an undeclared statistics page.
struct Overshare {
  static constexpr std::string_view kName = "faulty-overshare";

  struct Address {
    MqueueChannel::Address q;
    char stats[48] = {}; ///< "/ipcv-faulty-stats-<preparer pid>"
  };

  /// An Endpoint is an mqueue endpoint plus its mapping of the statistics page.
  template <class E> class Endpoint : public E {
  public:
    Endpoint(E e, std::atomic<std::uint64_t> *stats) noexcept : E(std::move(e)), stats_(stats) {}
    Endpoint(Endpoint &&o) noexcept : E(std::move(o)), stats_(std::exchange(o.stats_, nullptr)) {}
    ~Endpoint() { close(); }
    void close() noexcept;

  private:
    std::atomic<std::uint64_t> *stats_;
  };
  using Sender = Endpoint<MqueueChannel::Sender>;
  using Receiver = Endpoint<MqueueChannel::Receiver>;

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
  static void detach(const Address &a) noexcept { MqueueChannel::detach(a.q); }
  static void destroy(const Address &a) noexcept;
  static std::vector<NamedObject> named_objects(const Address &a) {
    return MqueueChannel::named_objects(a.q); // BUG: the statistics page is not declared
  }
};

static_assert(Channel<QueueWith<PrepareFault::squat>>, "isolation fixtures satisfy the contract");
static_assert(Channel<NoCopy>, "isolation fixtures satisfy the contract");
static_assert(Channel<Overshare>, "isolation fixtures satisfy the contract");

} // namespace ipcv::faulty
