// Implementation of the `mqueue` channel (see mqueue.hpp for the control block and slices).
#include "mqueue.hpp"
#include "../os.hpp"
#include "ipcverify/perturb.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

namespace ipcv {
namespace {

/// Absolute CLOCK_REALTIME time for mq_timed*: the earlier of `d` and one slice from now.
timespec slice_end(Deadline d) {
  auto left = d - Clock::now();
  const auto slice = std::chrono::milliseconds(MqueueChannel::kSliceMs);
  if (left > slice)
    left = slice;
  if (left < Clock::duration::zero())
    left = Clock::duration::zero();
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count() + now.tv_nsec;
  now.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
  now.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return now;
}

/// Why the other side can never answer: all `expected` endpoints either closed or died.
/// Returns ok while someone may still act, eof when all closed, peer_gone when any died.
Result other_side(const PeerSide &s, std::uint32_t expected, CloseCheck how) {
  return look_at(s, expected, true, how).verdict();
}

long queued(mqd_t q) {
  mq_attr at{};
  return ::mq_getattr(q, &at) == 0 ? at.mq_curmsgs : -1;
}

template <class E>
Expected<E> connect(const MqueueChannel::Address &a, PeerSide &side, unsigned limit, int flags,
                    const char *what) {
  mqd_t q = ::mq_open(a.name.c_str(), flags | O_CLOEXEC);
  if (q == static_cast<mqd_t>(-1))
    return Status::from_errno(what);
  auto slot = join_side(side, limit);
  if (!slot) {
    ::mq_close(q);
    return slot.status();
  }
  return E(q, a, &side, *slot);
}

} // namespace

Claims MqueueChannel::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = kCapacity;
  c.max_senders = Claims::kMany;
  c.max_receivers = Claims::kMany;
  c.specs = spec_names(kQueueSpecs, {"crash-safety"});
  c.peer_notice = std::chrono::milliseconds(kSliceMs); // the peer table is read between slices
  c.notes = "one priority, so FIFO; eof/peer_gone noticed within a 10 ms slice";
  return c;
}

Expected<MqueueChannel::Address> MqueueChannel::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 8192"};
  if (cfg.senders > kMaxEndpoints || cfg.receivers > kMaxEndpoints)
    return Status{Result::error, EINVAL, "more than 64 endpoints on one side"};
  Address a;
  auto name = object_name("/", "mq", cfg.name);
  if (!name)
    return name.status();
  a.name = *name;
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  a.senders = cfg.senders;
  a.receivers = cfg.receivers;
  mq_attr at{};
  at.mq_maxmsg = static_cast<long>(cfg.capacity ? cfg.capacity : kCapacity);
  at.mq_msgsize = static_cast<long>(a.max_message == 0 ? 1 : a.max_message);
  mqd_t q = ::mq_open(a.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &at);
  if (q == static_cast<mqd_t>(-1))
    return Status::from_errno("mq_open(O_CREAT|O_EXCL)");
  ::mq_close(q);
  void *p =
      ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    Status s = Status::from_errno("mmap control block");
    ::mq_unlink(a.name.c_str());
    return s;
  }
  a.control = new (p) Control{};
  return a;
}

Expected<MqueueChannel::Sender> MqueueChannel::connect_sender(const Address &a) {
  return connect<Sender>(a, a.control->senders, a.senders, O_WRONLY, "mq_open sender");
}

Expected<MqueueChannel::Receiver> MqueueChannel::connect_receiver(const Address &a) {
  return connect<Receiver>(a, a.control->receivers, a.receivers, O_RDONLY, "mq_open receiver");
}

void MqueueChannel::destroy(const Address &a) noexcept {
  ::mq_unlink(a.name.c_str());
  if (a.control != nullptr)
    ::munmap(a.control, sizeof(Control));
}

std::vector<NamedObject> MqueueChannel::named_objects(const Address &a) {
  return {NamedObject{"mqueue", a.name.c_str()}};
}

MqueueChannel::Endpoint::Endpoint(Endpoint &&o) noexcept
    : q_(std::exchange(o.q_, static_cast<mqd_t>(-1))), a_(o.a_), mine_(o.mine_), slot_(o.slot_) {}

void MqueueChannel::Endpoint::close() noexcept {
  if (q_ == static_cast<mqd_t>(-1))
    return;
  ::mq_close(std::exchange(q_, static_cast<mqd_t>(-1)));
  leave_side(*mine_, slot_);
}

Status MqueueChannel::Sender::put(std::span<const std::byte> msg, Deadline d,
                                  Result when_late) noexcept {
  if (q_ == static_cast<mqd_t>(-1))
    return {Result::error, EBADF, "sender is closed"};
  if (msg.size() > a_.max_message)
    return Result::too_large;
  const char *p = msg.empty() ? "" : reinterpret_cast<const char *>(msg.data());
  for (;;) {
    const timespec until = slice_end(d);
    if (::mq_timedsend(q_, p, msg.size(), 0, &until) == 0)
      return Result::ok;
    if (errno == EINTR)
      continue;
    if (errno == EMSGSIZE)
      return {Result::too_large, EMSGSIZE, "mq_timedsend"};
    if (errno != ETIMEDOUT)
      return Status::from_errno("mq_timedsend");
    IPCV_PERTURB_POINT("mqueue.send.between_slices");
    if (other_side(a_.control->receivers, a_.receivers, a_.close_check) != Result::ok)
      return Result::peer_gone;
    if (Clock::now() >= d)
      return when_late;
  }
}

Status MqueueChannel::Sender::send(std::span<const std::byte> msg, Deadline d) noexcept {
  return put(msg, d, Result::timeout);
}

Status MqueueChannel::Sender::try_send(std::span<const std::byte> msg) noexcept {
  return put(msg, Deadline{}, Result::full);
}

RecvStatus MqueueChannel::Receiver::take(std::span<std::byte> buf, Deadline d,
                                         Result when_late) noexcept {
  if (q_ == static_cast<mqd_t>(-1))
    return Status{Result::error, EBADF, "receiver is closed"};
  // mq_receive wants room for mq_msgsize bytes; a smaller caller buffer goes through scratch_.
  const bool direct = buf.size() >= a_.max_message;
  char *dst = reinterpret_cast<char *>(direct ? buf.data() : scratch_.data());
  const std::size_t room = direct ? buf.size() : scratch_.size();
  for (;;) {
    const timespec until = slice_end(d);
    ssize_t n = ::mq_timedreceive(q_, dst, room, nullptr, &until);
    if (n >= 0) {
      const auto len = static_cast<std::size_t>(n);
      if (len > buf.size())
        return Status{Result::too_large};
      if (!direct && len > 0)
        std::memcpy(buf.data(), dst, len);
      return {Status{Result::ok}, len};
    }
    if (errno == EINTR)
      continue;
    if (errno != ETIMEDOUT)
      return Status::from_errno("mq_timedreceive");
    // Read the senders' state before the queue length: a sender closes only after its last
    // send completed, so "all closed" seen first means the length below counts every message.
    const Result senders = other_side(a_.control->senders, a_.senders, a_.close_check);
    IPCV_PERTURB_POINT("mqueue.recv.between_state_and_length");
    if (senders != Result::ok && queued(q_) == 0)
      return Status{senders};
    if (Clock::now() >= d)
      return Status{when_late};
  }
}

RecvStatus MqueueChannel::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  return take(buf, d, Result::timeout);
}

RecvStatus MqueueChannel::Receiver::try_recv(std::span<std::byte> buf) noexcept {
  return take(buf, Deadline{}, Result::empty);
}

} // namespace ipcv
