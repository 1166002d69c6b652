// `shm-mpmc`: any number of senders and receivers through the Vyukov-style slot queue of
// mpmc_queue.hpp in a shared region (memfd by default; `shm-mpmc-named` uses a named POSIX shm
// object). Fixed-size slots: Config::max_message (default and maximum 4 KiB) plus a 16-byte
// header, rounded to a cache line; Config::capacity slots (default 128) rounded up to a power
// of two.
//
// Blocking: receivers sleep on `data`, which a sender notifies after publishing; senders on
// `space`, which a receiver notifies after releasing (wake-all: a woken receiver that loses
// the race simply sleeps again, and no message is ever left with a sleeper unwoken). eof: all
// declared senders closed and the queue drained. peer_gone: for a sender, every receiver
// closed or died; for a receiver, every sender closed or died with one dead, or a dead sender
// may be holding the oldest slot (claimed, never published): a Vyukov queue cannot step over
// such a slot, so a survivor reports it instead of waiting for ever.
#pragma once

#include "endpoint.hpp"
#include "mpmc_queue.hpp"

namespace ipcv::shm {

/// The whole shared layout of an mpmc region; the slots follow at kSlotsOffset.
struct MpmcLayout {
  RegionHeader header;
  alignas(kCacheLine) PeerTable peers;
  MpmcControl queue;
  WaitWord data;  ///< receivers sleep here while the queue is empty
  WaitWord space; ///< senders sleep here while the queue is full
};
inline constexpr std::uint32_t kMpmcLayout = 0x4d504d31; // "MPM1"
inline constexpr std::uint64_t kSlotsOffset = align_up(sizeof(MpmcLayout), kCacheLine);

/// ShmMpmc is the shared-memory many-to-many bounded queue channel.
template <RegionKind K> struct ShmMpmc : RegionLifecycle {
  static constexpr std::string_view kName = K == RegionKind::memfd ? "shm-mpmc" : "shm-mpmc-named";
  static constexpr std::size_t kMaxMessage = 4096;
  static constexpr std::size_t kDefaultCapacity = 128;
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 20;

  /// The region plus the sizes it was made with (trusted: it never lives in the region).
  struct Address {
    RegionAddress region;
    std::uint64_t capacity = kDefaultCapacity;
    std::uint32_t max_message = kMaxMessage;
    std::uint32_t senders = 1;
    std::uint32_t receivers = 1;
  };

  /// A Sender is a view of the queue plus its mapping and peer slot.
  class Sender : public Endpoint {
  public:
    Sender(Endpoint e, MpmcQueue q, Address a) noexcept : Endpoint(std::move(e)), q_(q), a_(a) {}
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept;

  private:
    MpmcQueue q_;
    Address a_;
    Deadline next_look_{}; // when a full try_send next looks at the receivers' liveness
  };

  /// A Receiver is a view of the queue plus its mapping and peer slot.
  class Receiver : public Endpoint {
  public:
    Receiver(Endpoint e, MpmcQueue q, Address a) noexcept : Endpoint(std::move(e)), q_(q), a_(a) {}
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;

  private:
    MpmcQueue q_;
    Address a_;
    Deadline next_look_{}; // when an empty try_recv next looks at the senders' liveness
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
};

using ShmMpmcChannel = ShmMpmc<RegionKind::memfd>;
using ShmMpmcNamedChannel = ShmMpmc<RegionKind::named>;
static_assert(Channel<ShmMpmcChannel>, "ShmMpmcChannel must satisfy the Channel contract");
static_assert(Channel<ShmMpmcNamedChannel>,
              "ShmMpmcNamedChannel must satisfy the Channel contract");

} // namespace ipcv::shm

namespace ipcv {
using shm::ShmMpmcChannel;
using shm::ShmMpmcNamedChannel;
} // namespace ipcv
