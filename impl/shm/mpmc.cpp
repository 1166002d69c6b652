// Implementation of the `shm-mpmc` channel (see mpmc.hpp and mpmc_queue.hpp).
#include "mpmc.hpp"

#include <new>
#include <string>

namespace ipcv::shm {
namespace {

MpmcQueue queue_in(const Mapping &m, std::uint64_t capacity, std::uint32_t max) {
  return MpmcQueue(&layout_of<MpmcLayout>(m)->queue, m.base() + kSlotsOffset, capacity, max);
}

} // namespace

template <RegionKind K> Claims ShmMpmc<K>::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = kDefaultCapacity;
  c.max_senders = Claims::kMany;
  c.max_receivers = Claims::kMany;
  c.specs = spec_names(kQueueSpecs);
  c.notes = "Vyukov slot queue in shared memory; try_recv/try_send answer empty/full only when "
            "linearizable, else timeout (no effect) while a peer is mid-publish/release";
  return c;
}

template <RegionKind K>
Expected<typename ShmMpmc<K>::Address> ShmMpmc<K>::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 4 KiB"};
  if (cfg.capacity > kMaxCapacity)
    return Status{Result::error, EINVAL, "capacity > 2^20 slots"};
  if (cfg.senders > kMaxEndpoints || cfg.receivers > kMaxEndpoints)
    return Status{Result::error, EINVAL, "more than 64 endpoints on one side"};
  Address a;
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  const std::uint64_t want = cfg.capacity ? cfg.capacity : kDefaultCapacity;
  a.capacity = 2;
  while (a.capacity < want)
    a.capacity <<= 1;
  a.senders = cfg.senders;
  a.receivers = cfg.receivers;
  const std::string name(cfg.name); // named kind: used instead of a random name, still O_EXCL
  if (name.size() >= sizeof a.region.name)
    return Status{Result::error, ENAMETOOLONG, "long name"};
  auto r = create_region(K, kSlotsOffset + a.capacity * slot_stride(a.max_message),
                         name.empty() ? nullptr : name.c_str());
  if (!r)
    return r.status();
  a.region = *r;
  auto *base = static_cast<std::byte *>(a.region.base);
  auto *l = new (base) MpmcLayout{};
  MpmcQueue(&l->queue, base + kSlotsOffset, a.capacity, a.max_message).init();
  publish_header(base, kMpmcLayout, a.region.size);
  return a;
}

template <RegionKind K>
Expected<typename ShmMpmc<K>::Sender> ShmMpmc<K>::connect_sender(const Address &a) {
  auto m = map_region(a.region, kMpmcLayout);
  if (!m)
    return m.status();
  auto *l = layout_of<MpmcLayout>(*m);
  auto slot = join_side(l->peers.senders, a.senders);
  if (!slot)
    return slot.status();
  MpmcQueue q = queue_in(*m, a.capacity, a.max_message);
  return Sender(Endpoint(std::move(*m), &l->peers.senders, *slot, &l->data, &l->space), q, a);
}

template <RegionKind K>
Expected<typename ShmMpmc<K>::Receiver> ShmMpmc<K>::connect_receiver(const Address &a) {
  auto m = map_region(a.region, kMpmcLayout);
  if (!m)
    return m.status();
  auto *l = layout_of<MpmcLayout>(*m);
  auto slot = join_side(l->peers.receivers, a.receivers);
  if (!slot)
    return slot.status();
  MpmcQueue q = queue_in(*m, a.capacity, a.max_message);
  return Receiver(Endpoint(std::move(*m), &l->peers.receivers, *slot, &l->data, &l->space), q, a);
}

template <RegionKind K>
Status ShmMpmc<K>::Sender::try_send(std::span<const std::byte> msg) noexcept {
  if (!is_open())
    return {Result::error, EBADF, "sender is closed"};
  auto *l = layout_of<MpmcLayout>(map_);
  Status s = q_.try_push(msg);
  if (s.ok())
    notify(l->data);
  // Full: receivers that all closed or died never make room (as shm-spsc's try_send).
  else if (s.result == Result::full &&
           senders_done(l->peers.receivers, a_.receivers, next_look_, kSlice) != Result::ok)
    return Result::peer_gone;
  return s;
}

template <RegionKind K>
Status ShmMpmc<K>::Sender::send(std::span<const std::byte> msg, Deadline d) noexcept {
  if (!is_open())
    return {Result::error, EBADF, "sender is closed"};
  auto *l = layout_of<MpmcLayout>(map_);
  Status s = block_on<Status>(
      l->space, d, Result::full, [&] { return q_.try_push(msg); },
      [&](bool alive, const Status &last) {
        const SideState st = look_at(l->peers.receivers, a_.receivers, alive);
        if (st.verdict() != Result::ok)
          return Result::peer_gone;
        // A dead receiver may have claimed the oldest slot and never release it.
        if (last.result == Result::timeout && st.dead > 0)
          return Result::peer_gone;
        return Result::ok;
      });
  if (s.ok())
    notify(l->data);
  return s;
}

template <RegionKind K>
RecvStatus ShmMpmc<K>::Receiver::try_recv(std::span<std::byte> buf) noexcept {
  if (!is_open())
    return Status{Result::error, EBADF, "receiver is closed"};
  auto *l = layout_of<MpmcLayout>(map_);
  RecvStatus s =
      poll_pop([&] { return q_.try_pop(buf); }, l->peers.senders, a_.senders, next_look_);
  if (s.ok() || s.result == Result::too_large)
    notify(l->space);
  return s;
}

template <RegionKind K>
RecvStatus ShmMpmc<K>::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  if (!is_open())
    return Status{Result::error, EBADF, "receiver is closed"};
  auto *l = layout_of<MpmcLayout>(map_);
  RecvStatus s = block_on<RecvStatus>(
      l->data, d, Result::empty, [&] { return q_.try_pop(buf); },
      [&](bool alive, const RecvStatus &last) {
        const SideState st = look_at(l->peers.senders, a_.senders, alive);
        if (st.verdict() != Result::ok)
          return st.verdict();
        // A dead sender may have claimed the oldest slot and never publish it.
        if (last.result == Result::timeout && st.dead > 0)
          return Result::peer_gone;
        return Result::ok;
      });
  if (s.ok() || s.result == Result::too_large)
    notify(l->space);
  return s;
}

template struct ShmMpmc<RegionKind::memfd>;
template struct ShmMpmc<RegionKind::named>;

} // namespace ipcv::shm
