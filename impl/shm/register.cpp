// Implementation of the `shm-register` channel (see register.hpp and seqlock_register.hpp).
#include "register.hpp"

#include <new>
#include <string>

namespace ipcv::shm {

template <RegionKind K> Claims ShmRegister<K>::claims() {
  Claims c;
  c.max_message = kMaxMessage;
  c.capacity = 1;
  c.max_senders = 1;
  c.max_receivers = Claims::kMany;
  c.specs = {"register", "integrity", "crash-safety"};
  c.peer_notice = std::chrono::duration_cast<std::chrono::milliseconds>(kSlice);
  c.loss = LossPolicy::drop_oldest;
  c.notes = "latch seqlock (two copies): reads never torn nor blocked by the writer; a read "
            "does not consume; empty before the first write";
  return c;
}

template <RegionKind K>
Expected<typename ShmRegister<K>::Address> ShmRegister<K>::prepare(const Config &cfg) {
  if (cfg.max_message > kMaxMessage)
    return Status{Result::too_large, 0, "max_message > 4 KiB"};
  if (cfg.senders > 1)
    return Status{Result::error, EINVAL, "shm-register has one writer"};
  if (cfg.receivers > kMaxEndpoints)
    return Status{Result::error, EINVAL, "more than 64 readers"};
  Address a;
  a.max_message = static_cast<std::uint32_t>(cfg.max_message ? cfg.max_message : kMaxMessage);
  a.receivers = cfg.receivers;
  const std::string name(cfg.name); // named kind: used instead of a random name, still O_EXCL
  if (name.size() >= sizeof a.region.name)
    return Status{Result::error, ENAMETOOLONG, "long name"};
  auto r = create_region(K, kCopiesOffset + 2 * copy_stride(a.max_message),
                         name.empty() ? nullptr : name.c_str());
  if (!r)
    return r.status();
  a.region = *r;
  auto *base = static_cast<std::byte *>(a.region.base);
  new (base) RegisterLayout{};
  for (int i = 0; i < 2; ++i)
    new (base + kCopiesOffset + i * copy_stride(a.max_message)) RegisterCopy{};
  publish_header(base, kRegisterLayout, a.region.size);
  return a;
}

template <RegionKind K>
Expected<typename ShmRegister<K>::Sender> ShmRegister<K>::connect_sender(const Address &a) {
  auto m = map_region(a.region, kRegisterLayout);
  if (!m)
    return m.status();
  auto *l = layout_of<RegisterLayout>(*m);
  auto slot = join_side(l->peers.senders, 1);
  if (!slot)
    return slot.status();
  RegisterWriter w(&l->reg, m->base() + kCopiesOffset, a.max_message);
  return Sender(Endpoint(std::move(*m), &l->peers.senders, *slot, &l->written, nullptr), w);
}

template <RegionKind K>
Expected<typename ShmRegister<K>::Receiver> ShmRegister<K>::connect_receiver(const Address &a) {
  auto m = map_region(a.region, kRegisterLayout);
  if (!m)
    return m.status();
  auto *l = layout_of<RegisterLayout>(*m);
  auto slot = join_side(l->peers.receivers, a.receivers);
  if (!slot)
    return slot.status();
  RegisterReader r(&l->reg, m->base() + kCopiesOffset, a.max_message);
  return Receiver(Endpoint(std::move(*m), &l->peers.receivers, *slot, nullptr, nullptr), r);
}

template <RegionKind K>
Status ShmRegister<K>::Sender::try_send(std::span<const std::byte> msg) noexcept {
  if (!is_open())
    return {Result::error, EBADF, "writer is closed"};
  Status s = w_.write(msg);
  if (s.ok())
    notify(layout_of<RegisterLayout>(map_)->written);
  return s;
}

template <RegionKind K>
RecvStatus ShmRegister<K>::Receiver::attempt(std::span<std::byte> buf) noexcept {
  RegisterRead r = r_.read(buf);
  const bool stale =
      r.status.result == Result::empty || (r.status.result == Result::ok && r.version == returned_);
  if (stale) {
    // Look at the writer's closed flag first, then read again: a writer closes only after
    // its last write, so "closed" seen first means the read below sees the final value.
    auto *l = layout_of<RegisterLayout>(map_);
    if (look_at(l->peers.senders, 1, false).verdict() == Result::eof) {
      r = r_.read(buf);
      if (r.status.result == Result::empty ||
          (r.status.result == Result::ok && r.version == returned_))
        return Status{Result::eof};
    }
  }
  if (r.status.ok())
    returned_ = r.version;
  return {r.status, r.size};
}

template <RegionKind K>
RecvStatus ShmRegister<K>::Receiver::try_recv(std::span<std::byte> buf) noexcept {
  if (!is_open())
    return Status{Result::error, EBADF, "reader is closed"};
  return attempt(buf);
}

template <RegionKind K>
RecvStatus ShmRegister<K>::Receiver::recv(std::span<std::byte> buf, Deadline d) noexcept {
  if (!is_open())
    return Status{Result::error, EBADF, "reader is closed"};
  auto *l = layout_of<RegisterLayout>(map_);
  return block_on<RecvStatus>(
      l->written, d, Result::empty, [&] { return attempt(buf); },
      [&](bool alive, const RecvStatus &) {
        return look_at(l->peers.senders, 1, alive).verdict();
      });
}

template struct ShmRegister<RegionKind::memfd>;
template struct ShmRegister<RegionKind::named>;

} // namespace ipcv::shm
