// Implementation of the `shm-spsc` channel (see spsc.hpp for the protocol and its limits).
#include "spsc.hpp"

#include <new>
#include <string>

namespace ipcv::shm {

template <RegionKind K> Claims ShmSpsc<K>::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = kDefaultCapacity;
  c.max_senders = 1;
  c.max_receivers = 1;
  c.specs = spec_names(kQueueSpecs, {"crash-safety"});
  c.peer_notice = std::chrono::duration_cast<std::chrono::milliseconds>(kSlice); // wait.hpp
  c.notes = "byte ring in shared memory, futex wake-ups; capacity counts max-size messages "
            "(small ones fit in far larger numbers); peer death noticed within 5 ms";
  return c;
}

template <RegionKind K>
Expected<typename ShmSpsc<K>::Address> ShmSpsc<K>::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 1 MiB"};
  if (cfg.senders > 1 || cfg.receivers > 1)
    return Status{Result::error, EINVAL, "shm-spsc has one sender and one receiver"};
  Address a;
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  const std::uint64_t n = cfg.capacity ? cfg.capacity : kDefaultCapacity;
  if (n > kMaxRing / record_bytes(a.max_message))
    return Status{Result::error, EINVAL, "shm-spsc ring over 1 GiB"};
  a.ring_bytes = ring_bytes_for(n, a.max_message);
  a.senders = cfg.senders;
  a.receivers = cfg.receivers;
  const std::string name(cfg.name); // named kind: used instead of a random name, still O_EXCL
  if (name.size() >= sizeof a.region.name)
    return Status{Result::error, ENAMETOOLONG, "long name"};
  auto r = create_region(K, kRingOffset + a.ring_bytes, name.empty() ? nullptr : name.c_str());
  if (!r)
    return r.status();
  a.region = *r;
  auto *base = static_cast<std::byte *>(a.region.base);
  new (base) SpscLayout{};
  publish_header(base, kSpscLayout, a.region.size);
  return a;
}

template <RegionKind K>
Expected<typename ShmSpsc<K>::Sender> ShmSpsc<K>::connect_sender(const Address &a) {
  auto m = map_region(a.region, kSpscLayout);
  if (!m)
    return m.status();
  auto *l = layout_of<SpscLayout>(*m);
  auto slot = join_side(l->peers.senders, a.senders);
  if (!slot)
    return slot.status();
  SpscProducer p(&l->ring, m->base() + kRingOffset, a.ring_bytes, a.max_message);
  return Sender(Endpoint(std::move(*m), &l->peers.senders, *slot, &l->data, &l->space), p, a);
}

template <RegionKind K>
Expected<typename ShmSpsc<K>::Receiver> ShmSpsc<K>::connect_receiver(const Address &a) {
  auto m = map_region(a.region, kSpscLayout);
  if (!m)
    return m.status();
  auto *l = layout_of<SpscLayout>(*m);
  auto slot = join_side(l->peers.receivers, a.receivers);
  if (!slot)
    return slot.status();
  SpscConsumer c(&l->ring, m->base() + kRingOffset, a.ring_bytes, a.max_message);
  return Receiver(Endpoint(std::move(*m), &l->peers.receivers, *slot, &l->data, &l->space), c, a);
}

template <RegionKind K>
Status ShmSpsc<K>::Sender::try_send(std::span<const std::byte> msg) noexcept {
  if (!is_open())
    return {Result::error, EBADF, "sender is closed"};
  auto *l = layout_of<SpscLayout>(map_);
  Status s = p_.try_push(msg);
  if (s.ok())
    notify(l->data);
  // Full: a receiver that closed or died never makes room, so a poller must learn it (the
  // receivers' liveness is looked at no more than once per kSlice).
  else if (s.result == Result::full &&
           senders_done(l->peers.receivers, a_.receivers, next_look_, kSlice) != Result::ok)
    return Result::peer_gone;
  return s;
}

template <RegionKind K>
Status ShmSpsc<K>::Sender::send(std::span<const std::byte> msg, Deadline d) noexcept {
  if (!is_open())
    return {Result::error, EBADF, "sender is closed"};
  auto *l = layout_of<SpscLayout>(map_);
  Status s = block_on<Status>(
      l->space, d, Result::full, [&] { return p_.try_push(msg); },
      [&](bool alive, const Status &) {
        // A receiver that closed can never make room either: both are peer_gone for a sender.
        const Result r = look_at(l->peers.receivers, a_.receivers, alive).verdict();
        return r == Result::ok ? r : Result::peer_gone;
      });
  if (s.ok())
    notify(l->data);
  return s;
}

template <RegionKind K>
RecvStatus ShmSpsc<K>::Receiver::try_recv(std::span<std::byte> buf) noexcept {
  if (!is_open())
    return Status{Result::error, EBADF, "receiver is closed"};
  auto *l = layout_of<SpscLayout>(map_);
  RecvStatus s =
      poll_pop([&] { return c_.try_pop(buf); }, l->peers.senders, a_.senders, next_look_);
  if (s.ok() || s.result == Result::too_large)
    notify(l->space);
  return s;
}

template <RegionKind K>
RecvStatus ShmSpsc<K>::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  if (!is_open())
    return Status{Result::error, EBADF, "receiver is closed"};
  auto *l = layout_of<SpscLayout>(map_);
  RecvStatus s = block_on<RecvStatus>(
      l->data, d, Result::empty, [&] { return c_.try_pop(buf); },
      [&](bool alive, const RecvStatus &) {
        return look_at(l->peers.senders, a_.senders, alive).verdict();
      });
  if (s.ok() || s.result == Result::too_large)
    notify(l->space);
  return s;
}

template struct ShmSpsc<RegionKind::memfd>;
template struct ShmSpsc<RegionKind::named>;

} // namespace ipcv::shm
