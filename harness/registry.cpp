// The registry of channels by name (registry.hpp): the reference channels and the fixtures are
// listed here; adapters and plugins add themselves at run time with register_channel().
#include "registry.hpp"

#include "interrupt.hpp"
#include "judge.hpp"

#include "impl/faulty/close_race.hpp"
#include "impl/faulty/isolation_faults.hpp"
#include "impl/faulty/locked_queue.hpp"
#include "impl/faulty/relaxed_ring.hpp"
#include "impl/faulty/torn_register.hpp"
#include "impl/kernel/mqueue.hpp"
#include "impl/kernel/pipe.hpp"
#include "impl/kernel/seqpacket.hpp"
#include "impl/shm/mpmc.hpp"
#include "impl/shm/register.hpp"
#include "impl/shm/spsc.hpp"

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

namespace ipcv::harness {
namespace {

/// An instance whose named objects stay registered for the emergency exit until destroyed.
class TrackedInstance final : public AnyInstance {
public:
  explicit TrackedInstance(std::unique_ptr<AnyInstance> inner)
      : inner_(std::move(inner)), tracked_(inner_->named_objects()) {}
  Expected<std::unique_ptr<AnySender>> connect_sender(unsigned index) override {
    return inner_->connect_sender(index);
  }
  Expected<std::unique_ptr<AnyReceiver>> connect_receiver(unsigned index) override {
    return inner_->connect_receiver(index);
  }
  void detach() noexcept override { inner_->detach(); }
  void destroy() noexcept override {
    inner_->destroy();
    tracked_.release();
  }
  std::vector<NamedObject> named_objects() const override { return inner_->named_objects(); }

private:
  std::unique_ptr<AnyInstance> inner_;
  Tracked tracked_;
};

/// `e` with a prepare that tracks every instance it makes.
ChannelEntry tracked(ChannelEntry e) {
  e.prepare =
      [inner = std::move(e.prepare)](const Config &cfg) -> Expected<std::unique_ptr<AnyInstance>> {
    auto i = inner(cfg);
    if (!i)
      return i.status();
    return std::unique_ptr<AnyInstance>(new TrackedInstance(std::move(*i)));
  };
  return e;
}

std::vector<ChannelEntry> reference_entries() {
  using faulty::Fault;
  using faulty::LockedQueue;
  return {
      entry_of<PipeChannel>(),
      entry_of<SeqpacketChannel>(),
      entry_of<MqueueChannel>(),
      entry_of<ShmSpscChannel>(),
      entry_of<ShmMpmcChannel>(),
      entry_of<ShmRegisterChannel>(),
      // Deliberately broken fixtures, shown only with --include-faulty.
      entry_of<LockedQueue<Fault::drop>>(true),
      entry_of<LockedQueue<Fault::reorder>>(true),
      entry_of<LockedQueue<Fault::dup>>(true),
      entry_of<LockedQueue<Fault::corrupt>>(true),
      entry_of<LockedQueue<Fault::lost_wakeup>>(true),
      entry_of<LockedQueue<Fault::late_timeout>>(true),
      entry_of<LockedQueue<Fault::deaf>>(true),
      entry_of<LockedQueue<Fault::wrap>>(true),
      entry_of<faulty::CloseRace>(true),
      entry_of<faulty::RelaxedRing>(true),
      entry_of<faulty::TornRegister>(true),
      // Isolation fixtures: working channels that each break one `isolation` probe.
      entry_of<faulty::QueueWith<faulty::PrepareFault::world_readable>>(true),
      entry_of<faulty::QueueWith<faulty::PrepareFault::squat>>(true),
      entry_of<faulty::QueueWith<faulty::PrepareFault::crosstalk>>(true),
      entry_of<faulty::NoCopy>(true),
      entry_of<faulty::Overshare>(true),
  };
}

/// Why `entry` cannot join `existing`, or "".
std::string refusal_among(const std::vector<ChannelEntry> &existing, const ChannelEntry &entry) {
  if (entry.name.empty())
    return "a channel without a name";
  for (const ChannelEntry &e : existing)
    if (e.name == entry.name)
      return fmt::format("channel '{}' is already registered", entry.name);
  for (const std::string &s : entry.claims.specs)
    if (!judgeable(s))
      return fmt::format("channel '{}' claims '{}', which is no spec (known: {})", entry.name, s,
                         fmt::join(judgeable_specs(), ", "));
  if (entry.claims.promises(kCrashSafety) && entry.claims.peer_notice.count() < 0)
    return fmt::format("channel '{}' claims crash-safety but declares no peer_notice (how soon "
                       "a survivor learns that a peer died)",
                       entry.name);
  return "";
}

std::vector<ChannelEntry> &table() {
  static std::vector<ChannelEntry> t = [] {
    std::vector<ChannelEntry> v;
    for (ChannelEntry &e : reference_entries()) {
      // A reference channel's claims are the project's own: a refusal is a bug in this tree.
      if (std::string why = refusal_among(v, e); !why.empty()) {
        std::fprintf(stderr, "ipcverify: %s\n", why.c_str());
        std::abort();
      }
      v.push_back(tracked(std::move(e)));
    }
    return v;
  }();
  return t;
}

} // namespace

const std::vector<ChannelEntry> &channels() { return table(); }

const ChannelEntry *find_channel(std::string_view name) {
  for (const auto &e : table())
    if (e.name == name)
      return &e;
  return nullptr;
}

std::string refusal(const ChannelEntry &entry) { return refusal_among(table(), entry); }

std::string register_channel(ChannelEntry entry) {
  if (std::string why = refusal(entry); !why.empty())
    return why;
  table().push_back(tracked(std::move(entry)));
  return "";
}

} // namespace ipcv::harness
