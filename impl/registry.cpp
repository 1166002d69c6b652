// The registry of channels by name: the reference channels are listed here, adapters and
// plugins add themselves at run time with register_channel().
#include "registry.hpp"
#include "faulty/close_race.hpp"
#include "faulty/isolation_faults.hpp"
#include "faulty/locked_queue.hpp"
#include "kernel/mqueue.hpp"
#include "kernel/pipe.hpp"
#include "kernel/seqpacket.hpp"
#include "shm/mpmc.hpp"
#include "shm/register.hpp"
#include "shm/spsc.hpp"

namespace ipcv {
namespace {

std::vector<ChannelEntry> &table() {
  static std::vector<ChannelEntry> t = [] {
    std::vector<ChannelEntry> v;
    v.push_back(entry_of<PipeChannel>());
    v.push_back(entry_of<SeqpacketChannel>());
    v.push_back(entry_of<MqueueChannel>());
    v.push_back(entry_of<ShmSpscChannel>());
    v.push_back(entry_of<ShmMpmcChannel>());
    v.push_back(entry_of<ShmRegisterChannel>());
    // Deliberately broken fixtures, shown only with --include-faulty.
    using faulty::Fault;
    using faulty::LockedQueue;
    v.push_back(entry_of<LockedQueue<Fault::drop>>(true));
    v.push_back(entry_of<LockedQueue<Fault::reorder>>(true));
    v.push_back(entry_of<LockedQueue<Fault::dup>>(true));
    v.push_back(entry_of<LockedQueue<Fault::corrupt>>(true));
    v.push_back(entry_of<LockedQueue<Fault::lost_wakeup>>(true));
    v.push_back(entry_of<faulty::CloseRace>(true));
    // Isolation fixtures: working channels that each break one `isolation` probe.
    v.push_back(entry_of<faulty::QueueWith<faulty::PrepareFault::world_readable>>(true));
    v.push_back(entry_of<faulty::QueueWith<faulty::PrepareFault::squat>>(true));
    v.push_back(entry_of<faulty::QueueWith<faulty::PrepareFault::crosstalk>>(true));
    v.push_back(entry_of<faulty::NoCopy>(true));
    v.push_back(entry_of<faulty::Overshare>(true));
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

bool register_channel(ChannelEntry entry) {
  if (find_channel(entry.name) != nullptr)
    return false;
  table().push_back(std::move(entry));
  return true;
}

} // namespace ipcv
