// `shm-spsc`: one sender, one receiver, variable-size messages through the byte ring of
// spsc_ring.hpp in a shared region (memfd by default; `shm-spsc-named` uses a named POSIX shm
// object, for processes that are not forked from the preparer).
//
// Capacity: the ring is sized so that Config::capacity messages of Config::max_message bytes
// always fit (defaults: 1 MiB messages, an 8 MiB ring holding 6 of them, many more small
// ones; the region is a sparse memfd, so pages the ring never reaches cost nothing). Blocking
// send/recv spin 4 µs, then sleep on a futex in the region (wait.hpp): the consumer sleeps on
// `data`, which the producer notifies after publishing; the producer on `space`, which the consumer
// notifies after releasing. eof: the sender closed and the ring is drained; peer_gone: the other
// side closed or its process died (noticed within a 5 ms slice).
#pragma once

#include "endpoint.hpp"
#include "spsc_ring.hpp"

namespace ipcv::shm {

/// The whole shared layout of an spsc region; the ring bytes follow at kRingOffset.
struct SpscLayout {
  RegionHeader header;
  alignas(kCacheLine) PeerTable peers;
  SpscControl ring;
  WaitWord data;  ///< the receiver sleeps here while the ring is empty
  WaitWord space; ///< the sender sleeps here while the ring is full
};
inline constexpr std::uint32_t kSpscLayout = 0x53505331; // "SPS1"
inline constexpr std::uint64_t kRingOffset = align_up(sizeof(SpscLayout), kCacheLine);

/// ShmSpsc is the shared-memory single-producer single-consumer byte ring channel.
template <RegionKind K> struct ShmSpsc : RegionLifecycle {
  static constexpr std::string_view kName = K == RegionKind::memfd ? "shm-spsc" : "shm-spsc-named";
  static constexpr std::size_t kMaxMessage = 1024 * 1024;
  static constexpr std::size_t kDefaultCapacity = 6; // max-size messages in the 8 MiB ring
  static constexpr std::size_t kMaxRing = std::size_t{1} << 30;

  /// The region plus the sizes it was made with (trusted: it never lives in the region).
  struct Address {
    RegionAddress region;
    std::uint64_t ring_bytes = 0;
    std::uint32_t max_message = kMaxMessage;
    std::uint32_t senders = 1;
    std::uint32_t receivers = 1;
  };

  /// A Sender is the producer half plus its mapping and peer slot.
  class Sender : public Endpoint {
  public:
    Sender(Endpoint e, SpscProducer p, Address a) noexcept : Endpoint(std::move(e)), p_(p), a_(a) {}
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept;

  private:
    SpscProducer p_;
    Address a_;
    Deadline next_look_{}; // when a full try_send next looks at the receivers' liveness
  };

  /// A Receiver is the consumer half plus its mapping and peer slot.
  class Receiver : public Endpoint {
  public:
    Receiver(Endpoint e, SpscConsumer c, Address a) noexcept
        : Endpoint(std::move(e)), c_(c), a_(a) {}
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;

  private:
    SpscConsumer c_;
    Address a_;
    Deadline next_look_{}; // when an empty try_recv next looks at the senders' liveness
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
};

using ShmSpscChannel = ShmSpsc<RegionKind::memfd>;
using ShmSpscNamedChannel = ShmSpsc<RegionKind::named>;
static_assert(Channel<ShmSpscChannel>, "ShmSpscChannel must satisfy the Channel contract");
static_assert(Channel<ShmSpscNamedChannel>,
              "ShmSpscNamedChannel must satisfy the Channel contract");

} // namespace ipcv::shm

namespace ipcv {
using shm::ShmSpscChannel;
using shm::ShmSpscNamedChannel;
} // namespace ipcv
