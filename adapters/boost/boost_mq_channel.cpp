// `boost-mq` and `boost-mq-0600`: boost::interprocess::message_queue (Boost.Interprocess, the
// Boost release found at configure time; written against 1.74, header-only) as ipcverify
// channels, used as its documentation teaches: `prepare` creates the queue (create_only) with
// max_num_msg and max_msg_size from Config, every sender and receiver opens it by name
// (open_only) in its own connect_*, `destroy` calls message_queue::remove. `boost-mq` keeps the
// library's default `permissions()`; `boost-mq-0600` passes permissions(0600), the hardening a
// user commonly adds, so the matrix shows the default and the fix side by side.
//
// What the documentation promises (Boost.Interprocess, "Message Queue", 1.74), and so what is
// claimed:
//   "A message queue is similar to a list of messages. Threads can put messages in the queue
//   and they can also remove messages from the queue. Each message can have also a priority
//   so that higher priority messages are read before lower priority messages."
//   "Blocking: If the message queue is full when sending or the message queue is empty when
//   receiving, the thread is blocked until there is room for a new message or there is a new
//   message." "Try: ... the thread returns immediately with an error." "Timed: ... the thread
//   retries the operation until succeeds (returning successful state) or a timeout is reached
//   (returning a failure)."
//   "A message queue just copies raw bytes between processes."
//   "When creating a message queue, the user must specify the maximum message size and the
//   maximum message number that the message queue can store."
// and the header's documentation of the queue's layout (ipc/message_queue.hpp, mq_hdr_t):
//   messages "are ordered by the priority of the pointed message and by insertion order if
//   two messages have the same priority".
// Every message here is sent with one priority (0), so the order judged is that insertion
// order: integrity, no-phantom, no-duplication, no-loss, fifo, linearizable (try_* answer
// full/empty only when the queue is, under the queue's mutex) and bounded-wait are claimed.
// Capacity and maximum message are the queue's own (max_num_msg, max_msg_size): Config's, or
// kCapacity and kMaxMessage when Config leaves them 0. Any number of senders and receivers
// may open a queue; see end of stream for why one receiver is claimed.
//
// What it does not give:
//   - end of stream: the queue has no notion of a closed sender. Every message carries a tag
//     byte in front (kData) and each sender's close sends one end marker (kEnd alone); the
//     receiver answers eof once it has taken the markers of all Config::senders. The costs:
//     one byte per message (max_msg_size is the maximum message + 1); a close that waits for
//     room like a send, bounded by kCloseWaitMs, after which the marker is dropped (a full
//     queue nobody drains would otherwise hold close forever); one receiver only (a marker
//     one receiver takes the other never sees); a sender that dies sends no marker.
//   - peers: nothing tells a sender that the receivers are gone or a receiver that a sender
//     died, so peer_gone is never returned and crash-safety is not claimed.
//   - a dead lock holder: the queue's internal interprocess_mutex is a PTHREAD_PROCESS_SHARED
//     pthread mutex that is not robust in 1.74 (robust mutexes came with 1.78, boostorg/
//     interprocess#65): a process killed inside a send or receive leaves it locked and every
//     later call on the queue, try_* and timed_* included, blocks forever
//     (tests/boost_mq_findings_test.cpp).
//   - deadlines: timed_send / timed_receive take an absolute boost::posix_time::ptime in
//     universal time, i.e. the wall clock (pthread_cond_timedwait on CLOCK_REALTIME). The
//     contract's Deadline is on CLOCK_MONOTONIC: it is translated as a user does, "now in UTC
//     + what is left", so a step of the wall clock during a wait moves the deadline.
//   - permissions: the default permissions() object is "0644 for UNIX" (permissions.hpp), and
//     create_only fchmod()s the /dev/shm object to it: every local user can map and read the
//     queue. boost-mq shows it; boost-mq-0600 is the fix.
#include <ipcverify/names.hpp>
#include <ipcverify/perturb.hpp>
#include <ipcverify/plugin.hpp>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/permissions.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace ipcv_boost {
using namespace ipcv;
namespace bip = boost::interprocess;

constexpr unsigned char kData = 0x5a; // in front of every message
constexpr unsigned char kEnd = 0xe0;  // alone: a sender's close
constexpr long kCloseWaitMs = 2000;   // how long close waits for room for its end marker

/// The library's time for a Deadline: the universal (wall-clock) time now plus what is left,
/// rounded up to the microsecond (and one more for the truncation of the wall clock's reading),
/// never more than a year ahead.
boost::posix_time::ptime wall_time_of(Deadline d) {
  auto left = std::chrono::ceil<std::chrono::microseconds>(d - Clock::now()).count() + 1;
  constexpr long long kYear = 365LL * 24 * 3600 * 1000000;
  if (left > kYear)
    left = kYear;
  return boost::posix_time::microsec_clock::universal_time() +
         boost::posix_time::microseconds(left);
}

/// The Status of a library exception: its native errno when it has one.
Status status_of(const bip::interprocess_exception &e, const char *what) {
  const int err = e.get_native_error();
  return {Result::error, err != 0 ? err : EIO, what};
}

enum class Mode { blocking, timed, try_ };

template <bool kOwnerOnly> struct BoostMq {
  static constexpr std::string_view kName = kOwnerOnly ? "boost-mq-0600" : "boost-mq";
  static constexpr std::size_t kMaxMessage = 4096; // payload; the queue's max_msg_size is + 1
  static constexpr std::size_t kCapacity = 16;     // the queue's max_num_msg

  /// Crosses fork by copy: the queue's name and the counts the endpoints need.
  struct Address {
    ObjectName name; // "/ipcv-boost-mq-<pid>-<hex>", the /dev/shm object of the queue
    std::uint32_t max_message = kMaxMessage;
    std::uint32_t senders = 1;
  };

  static Expected<std::unique_ptr<bip::message_queue>> open(const Address &a, const char *point) {
    try {
      IPCV_PERTURB_POINT(point);
      return std::make_unique<bip::message_queue>(bip::open_only, a.name.c_str());
    } catch (const bip::interprocess_exception &e) {
      return status_of(e, "message_queue(open_only)");
    } catch (const std::bad_alloc &) {
      return Status{Result::error, ENOMEM, "message_queue(open_only)"};
    }
  }

  class Sender {
  public:
    Sender(std::unique_ptr<bip::message_queue> q, std::uint32_t max)
        : q_(std::move(q)), max_(max), frame_(std::size_t{max} + 1) {}
    Sender(Sender &&) noexcept = default;
    Sender &operator=(Sender &&) = delete;
    ~Sender() { close(); }

    Status send(std::span<const std::byte> m, Deadline d) noexcept {
      return put(kData, m, d == Deadline::max() ? Mode::blocking : Mode::timed, d, Result::timeout);
    }
    Status try_send(std::span<const std::byte> m) noexcept {
      return put(kData, m, Mode::try_, Deadline{}, Result::full);
    }
    /// Sends the end marker, waiting for room up to kCloseWaitMs, then closes the queue.
    void close() noexcept {
      if (!q_)
        return;
      (void)put(kEnd, {}, Mode::timed, after_ms(kCloseWaitMs), Result::timeout);
      q_.reset();
    }

  private:
    Status put(unsigned char tag, std::span<const std::byte> m, Mode mode, Deadline d,
               Result late) noexcept {
      if (!q_)
        return {Result::error, EBADF, "sender is closed"};
      if (m.size() > max_)
        return Result::too_large;
      frame_[0] = std::byte{tag};
      if (!m.empty())
        std::memcpy(frame_.data() + 1, m.data(), m.size());
      const std::size_t n = m.size() + 1;
      try {
        bool sent = true;
        switch (mode) {
        case Mode::try_:
          IPCV_PERTURB_POINT("boost-mq.send.before_try_send");
          sent = q_->try_send(frame_.data(), n, 0);
          break;
        case Mode::blocking:
          IPCV_PERTURB_POINT("boost-mq.send.before_send");
          q_->send(frame_.data(), n, 0);
          break;
        case Mode::timed: {
          IPCV_PERTURB_POINT("boost-mq.send.before_timed_send");
          const auto at = wall_time_of(d);
          sent = q_->timed_send(frame_.data(), n, 0, at);
          break;
        }
        }
        return sent ? Status{Result::ok} : Status{late};
      } catch (const bip::interprocess_exception &e) {
        if (e.get_error_code() == bip::size_error)
          return {Result::too_large, 0, "message_queue::send: size_error"};
        return status_of(e, "message_queue::send");
      } catch (...) {
        return {Result::error, EIO, "message_queue::send threw"};
      }
    }

    std::unique_ptr<bip::message_queue> q_;
    std::uint32_t max_;
    std::vector<std::byte> frame_; // tag byte + message, as the queue carries it
  };

  class Receiver {
  public:
    Receiver(std::unique_ptr<bip::message_queue> q, unsigned senders, std::uint32_t max)
        : q_(std::move(q)), senders_(senders), max_(max), frame_(std::size_t{max} + 1) {}
    Receiver(Receiver &&) noexcept = default;
    Receiver &operator=(Receiver &&) = delete;
    ~Receiver() { close(); }

    RecvStatus recv(std::span<std::byte> b, Deadline d) noexcept {
      return take(b, d == Deadline::max() ? Mode::blocking : Mode::timed, d, Result::timeout);
    }
    RecvStatus try_recv(std::span<std::byte> b) noexcept {
      return take(b, Mode::try_, Deadline{}, Result::empty);
    }
    void close() noexcept { q_.reset(); }

  private:
    RecvStatus take(std::span<std::byte> buf, Mode mode, Deadline d, Result late) noexcept {
      if (!q_)
        return Status{Result::error, EBADF, "receiver is closed"};
      for (;;) {
        // Each sender's marker is the last message it sends and the queue keeps the order of
        // one priority: with every marker in, nothing can follow.
        if (ended_ >= senders_)
          return Status{Result::eof};
        bip::message_queue::size_type got = 0;
        unsigned priority = 0;
        try {
          bool ok = true;
          switch (mode) {
          case Mode::try_:
            IPCV_PERTURB_POINT("boost-mq.recv.before_try_receive");
            ok = q_->try_receive(frame_.data(), frame_.size(), got, priority);
            break;
          case Mode::blocking:
            IPCV_PERTURB_POINT("boost-mq.recv.before_receive");
            q_->receive(frame_.data(), frame_.size(), got, priority);
            break;
          case Mode::timed: {
            IPCV_PERTURB_POINT("boost-mq.recv.before_timed_receive");
            const auto at = wall_time_of(d);
            ok = q_->timed_receive(frame_.data(), frame_.size(), got, priority, at);
            break;
          }
          }
          if (!ok)
            return Status{late};
        } catch (const bip::interprocess_exception &e) {
          return status_of(e, "message_queue::receive");
        } catch (...) {
          return Status{Result::error, EIO, "message_queue::receive threw"};
        }
        if (got == 0)
          return Status{Result::error, EPROTO, "message without the tag byte"};
        const auto tag = static_cast<unsigned char>(frame_[0]);
        if (tag == kEnd && got == 1) {
          ++ended_;
          continue;
        }
        if (tag != kData)
          return Status{Result::error, EPROTO, "message without the message tag"};
        const std::size_t len = got - 1;
        if (len > max_ || len > buf.size())
          return Status{Result::too_large};
        if (len != 0)
          std::memcpy(buf.data(), frame_.data() + 1, len);
        return {Status{Result::ok}, len};
      }
    }

    std::unique_ptr<bip::message_queue> q_;
    unsigned senders_;
    unsigned ended_ = 0;
    std::uint32_t max_;
    std::vector<std::byte> frame_; // the library's receive buffer must hold max_msg_size
  };

  static Claims claims() {
    Claims c;
    c.max_message = kMaxMessage;
    c.capacity = kCapacity;
    c.max_senders = Claims::kMany;
    c.max_receivers = 1;
    c.specs = spec_names(kQueueSpecs);
    c.notes = kOwnerOnly
                  ? "boost::interprocess::message_queue created with permissions(0600) (the "
                    "default is 0644); one priority, insertion order within it (mq_hdr_t docs); "
                    "timed calls on the wall clock; eof by an in-band end marker per sender; no "
                    "peer notice; internal mutex not robust in 1.74"
                  : "boost::interprocess::message_queue, default permissions() (0644): "
                    "\"higher priority messages are read before lower priority\", one "
                    "priority used, insertion order within it (mq_hdr_t docs); blocking / try / "
                    "timed calls; timed calls on the wall clock; eof by an in-band end marker "
                    "per sender (1 byte per message, one receiver, close waits <= 2 s for room); "
                    "no peer notice; internal mutex not robust in 1.74";
    return c;
  }

  /// Creates the queue (create_only refuses an existing name): "/ipcv-boost-mq-<pid>-<64
  /// random bits>", or Config::name, which Boost opens as /dev/shm/ipcv-boost-mq-....
  static Expected<Address> prepare(const Config &cfg) {
    if (cfg.receivers > 1)
      return Status{Result::error, EINVAL, "one receiver only (in-band end markers)"};
    Address a;
    a.senders = cfg.senders;
    const std::size_t max = cfg.max_message != 0 ? cfg.max_message : kMaxMessage;
    if (max >= 0xffffffffu)
      return Status{Result::too_large, 0, "max_message over 4 GiB"};
    a.max_message = static_cast<std::uint32_t>(max);
    const std::size_t capacity = cfg.capacity != 0 ? cfg.capacity : kCapacity;
    auto name = object_name("/", "boost-mq", cfg.name);
    if (!name)
      return name.status();
    a.name = *name;
    try {
      IPCV_PERTURB_POINT("boost-mq.prepare.before_create");
      if constexpr (kOwnerOnly)
        bip::message_queue q(bip::create_only, a.name.c_str(), capacity, max + 1,
                             bip::permissions(0600));
      else
        bip::message_queue q(bip::create_only, a.name.c_str(), capacity, max + 1);
    } catch (const bip::interprocess_exception &e) {
      return status_of(e, "message_queue(create_only)");
    } catch (const std::bad_alloc &) {
      return Status{Result::error, ENOMEM, "message_queue(create_only)"};
    }
    return a;
  }

  static Expected<Sender> connect_sender(const Address &a) {
    auto q = open(a, "boost-mq.connect_sender.before_open");
    if (!q)
      return q.status();
    try {
      return Sender(std::move(*q), a.max_message);
    } catch (const std::bad_alloc &) {
      return Status{Result::error, ENOMEM, "sender buffer"};
    }
  }

  static Expected<Receiver> connect_receiver(const Address &a) {
    auto q = open(a, "boost-mq.connect_receiver.before_open");
    if (!q)
      return q.status();
    try {
      return Receiver(std::move(*q), a.senders, a.max_message);
    } catch (const std::bad_alloc &) {
      return Status{Result::error, ENOMEM, "receiver buffer"};
    }
  }

  /// The Address holds only a name: nothing to drop.
  static void detach(const Address &) noexcept {}
  static void destroy(const Address &a) noexcept { bip::message_queue::remove(a.name.c_str()); }
  static std::vector<NamedObject> named_objects(const Address &a) {
    return {NamedObject{"shm", a.name.c_str()}};
  }
};

using BoostMqDefault = BoostMq<false>;
using BoostMq0600 = BoostMq<true>;
static_assert(Channel<BoostMqDefault>, "boost-mq must satisfy the Channel contract");
static_assert(Channel<BoostMq0600>, "boost-mq-0600 must satisfy the Channel contract");

} // namespace ipcv_boost

IPCV_PLUGIN("boost-interprocess", r) {
  r.add<ipcv_boost::BoostMqDefault>();
  r.add<ipcv_boost::BoostMq0600>();
}
