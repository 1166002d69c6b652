// `mqueue`: a POSIX message queue with one priority, so FIFO. The name is random
// ("/ipcv-mq-<pid>-<16 hex>") unless Config::name forces one, created O_CREAT|O_EXCL with mode
// 0600 (an existing queue of that name is refused, never joined), unlinked on destroy.
//
// The kernel tells a queue's users nothing about each other, so the peer table of peers.hpp,
// in an anonymous shared mapping (inherited across fork), records which senders and receivers
// connected, closed, or died. Blocked calls wait in slices of kSliceMs and look at it between
// slices: that is how `eof` (all declared senders closed, queue drained) and `peer_gone` (the
// other side closed or died) are noticed, within one slice.
#pragma once

#include "../peers.hpp"
#include "ipcverify/channel.hpp"
#include "ipcverify/names.hpp"

#include <atomic>
#include <mqueue.h>
#include <sys/types.h>

namespace ipcv {

/// MqueueChannel is the POSIX message queue.
struct MqueueChannel {
  static constexpr std::string_view kName = "mqueue";
  static constexpr std::size_t kMaxMessage = 8192;               // fs.mqueue.msgsize_max default
  static constexpr std::size_t kCapacity = 10;                   // fs.mqueue.msg_max default
  static constexpr unsigned kMaxEndpoints = ipcv::kMaxEndpoints; // per side
  static constexpr long kSliceMs = 10;

  /// The peer table, in shared memory mapped before fork.
  using Control = PeerTable;

  /// The queue's name plus the control block mapped before fork.
  struct Address {
    ObjectName name;
    Control *control = nullptr;
    std::uint32_t max_message = kMaxMessage;
    std::uint32_t senders = 1;
    std::uint32_t receivers = 1;
    CloseCheck close_check = CloseCheck::twice; ///< `once` only in faulty-close-race
  };

  /// An Endpoint is one opened descriptor plus its slot in the control block.
  class Endpoint {
  public:
    Endpoint(mqd_t q, Address a, PeerSide *mine, unsigned slot) noexcept
        : q_(q), a_(a), mine_(mine), slot_(slot) {}
    Endpoint(Endpoint &&o) noexcept;
    Endpoint &operator=(Endpoint &&) = delete;
    ~Endpoint() { close(); }
    void close() noexcept;

  protected:
    mqd_t q_;
    Address a_;
    PeerSide *mine_;
    unsigned slot_;
  };

  /// A Sender sends on its own descriptor.
  class Sender : public Endpoint {
  public:
    using Endpoint::Endpoint;
    Status send(std::span<const std::byte> msg, Deadline d) noexcept;
    Status try_send(std::span<const std::byte> msg) noexcept;

  private:
    Status put(std::span<const std::byte> msg, Deadline d, Result when_late) noexcept;
  };

  /// A Receiver receives on its own descriptor.
  class Receiver : public Endpoint {
  public:
    Receiver(mqd_t q, Address a, PeerSide *mine, unsigned slot)
        : Endpoint(q, a, mine, slot), scratch_(a.max_message) {}
    RecvStatus recv(std::span<std::byte> buf, Deadline d) noexcept;
    RecvStatus try_recv(std::span<std::byte> buf) noexcept;

  private:
    RecvStatus take(std::span<std::byte> buf, Deadline d, Result when_late) noexcept;
    std::vector<std::byte> scratch_; // used when the caller's buffer is smaller than msgsize
  };

  static Claims claims();
  static Expected<Address> prepare(const Config &cfg);
  static Expected<Sender> connect_sender(const Address &a);
  static Expected<Receiver> connect_receiver(const Address &a);
  static void detach(const Address &) noexcept {}
  static void destroy(const Address &a) noexcept;
  static std::vector<NamedObject> named_objects(const Address &a);
};

static_assert(Channel<MqueueChannel>, "MqueueChannel must satisfy the Channel contract");

} // namespace ipcv
