// `shm-register`: a latest-value register (one writer, any number of readers) in a shared
// region, using the latch seqlock of seqlock_register.hpp (memfd by default;
// `shm-register-named` uses a named POSIX shm object).
//
// Mapping onto the Channel contract: send (and try_send) = write the latest value, never
// waits, always ok (or too_large); older values are overwritten (loss policy drop-oldest).
// recv = read the latest value; a read does not consume, so the same version can be returned
// any number of times. Before the first write has finished a read returns `empty` (try_recv)
// or waits for it (recv: then eof if the writer closed without writing, peer_gone if it
// died). Once the writer has closed and this reader already returned the final value, reads
// return eof: that is "drained" for a register. A writer that died leaves its last complete
// value readable (a seqlock latch never exposes the half-written copy).
#pragma once

#include "endpoint.hpp"
#include "seqlock_register.hpp"

namespace ipcv::shm {

/// The whole shared layout of a register region; the two copies follow at kCopiesOffset.
struct RegisterLayout {
  RegionHeader header;
  alignas(kCacheLine) PeerTable peers;
  RegisterControl reg;
  WaitWord written; ///< readers sleep here until the first write
};
inline constexpr std::uint32_t kRegisterLayout = 0x52454731; // "REG1"
inline constexpr std::uint64_t kCopiesOffset = align_up(sizeof(RegisterLayout), kCacheLine);

/// ShmRegister is the shared-memory latest-value register channel.
template <RegionKind K> struct ShmRegister : RegionLifecycle {
  static constexpr std::string_view kName =
      K == RegionKind::memfd ? "shm-register" : "shm-register-named";
  static constexpr std::size_t kMaxMessage = 4096;

  /// The region plus the sizes it was made with (trusted: it never lives in the region).
  struct Address {
    RegionAddress region;
    std::uint32_t max_message = kMaxMessage;
    std::uint32_t receivers = 1;
  };

  /// A Sender is the register's writer.
  class Sender : public Endpoint {
  public:
    Sender(Endpoint e, RegisterWriter w) noexcept : Endpoint(std::move(e)), w_(w) {}
    Status send(std::span<const std::byte> msg, Deadline) noexcept { return try_send(msg); }
    Status try_send(std::span<const std::byte> msg) noexcept;

  private:
    RegisterWriter w_;
  };

  /// A Receiver is one reader.
  class Receiver : public Endpoint {
  public:
    Receiver(Endpoint e, RegisterReader r) noexcept : Endpoint(std::move(e)), r_(r) {}
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;

  private:
    RecvStatus attempt(std::span<std::byte> buf) noexcept;
    RegisterReader r_;
    std::uint64_t returned_ = 0; // newest version returned with ok
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
};

using ShmRegisterChannel = ShmRegister<RegionKind::memfd>;
using ShmRegisterNamedChannel = ShmRegister<RegionKind::named>;
static_assert(Channel<ShmRegisterChannel>, "ShmRegisterChannel must satisfy the Channel contract");
static_assert(Channel<ShmRegisterNamedChannel>,
              "ShmRegisterNamedChannel must satisfy the Channel contract");

} // namespace ipcv::shm

namespace ipcv {
using shm::ShmRegisterChannel;
using shm::ShmRegisterNamedChannel;
} // namespace ipcv
