// The part every shm endpoint shares: its own mapping of the region, its slot in the peer
// table, and the wait words it must wake when it closes so that blocked peers look again.
#pragma once

#include "../peers.hpp"
#include "annotate.hpp"
#include "region.hpp"
#include "wait.hpp"

#include <utility>

namespace ipcv::shm {

/// An Endpoint owns one mapping of a region and one slot on one side of its peer table.
class Endpoint {
public:
  Endpoint() = default;
  Endpoint(Mapping m, PeerSide *mine, unsigned slot, WaitWord *a, WaitWord *b) noexcept
      : map_(std::move(m)), mine_(mine), slot_(slot), wake_{a, b} {
    for (WaitWord *w : wake_)
      if (w != nullptr)
        IPCV_UNCHECKED(w, sizeof *w); // atomic words only
  }
  Endpoint(Endpoint &&o) noexcept
      : map_(std::move(o.map_)), mine_(std::exchange(o.mine_, nullptr)),
        slot_(o.slot_), wake_{o.wake_[0], o.wake_[1]} {}
  Endpoint &operator=(Endpoint &&) = delete;
  Endpoint(const Endpoint &) = delete;
  Endpoint &operator=(const Endpoint &) = delete;
  ~Endpoint() { close(); }

  /// Marks the slot closed, wakes every sleeper so it sees that, and unmaps the region.
  void close() noexcept {
    if (mine_ == nullptr)
      return;
    leave_side(*std::exchange(mine_, nullptr), slot_);
    for (WaitWord *w : wake_)
      if (w != nullptr)
        wake_all(*w);
    map_.reset();
  }
  bool is_open() const noexcept { return mine_ != nullptr; }

protected:
  Mapping map_;
  PeerSide *mine_ = nullptr;
  unsigned slot_ = 0;
  WaitWord *wake_[2] = {nullptr, nullptr};
};

/// RegionLifecycle is the part of the Channel contract every shm channel answers the same way:
/// its Address holds the RegionAddress `region`, and the region is all there is to detach,
/// destroy and name. A channel inherits it (`struct ShmX : RegionLifecycle`).
struct RegionLifecycle {
  template <class A> static void detach(const A &a) noexcept { detach_region(a.region); }
  template <class A> static void destroy(const A &a) noexcept { destroy_region(a.region); }
  template <class A> static std::vector<NamedObject> named_objects(const A &a) {
    return region_objects(a.region);
  }
};

/// try_recv's answer for a poller: `pop` once; when that finds nothing, look at the senders
/// (their liveness at most once per kSlice, tracked in `next_look`) and, when none may still
/// send, pop once more, since a sender closes only after its last send, before answering eof
/// or peer_gone.
template <class Pop>
RecvStatus poll_pop(Pop &&pop, const PeerSide &senders, unsigned expected,
                    Deadline &next_look) noexcept {
  RecvStatus s = pop();
  if (s.result != Result::empty)
    return s;
  const Result done = senders_done(senders, expected, next_look, kSlice);
  if (done == Result::ok)
    return s;
  s = pop();
  return s.result == Result::empty ? RecvStatus{Status{done}} : s;
}

/// A Layout type T placed at the start of a mapping.
template <class T> T *layout_of(const Mapping &m) noexcept {
  return std::launder(reinterpret_cast<T *>(m.base()));
}

} // namespace ipcv::shm
