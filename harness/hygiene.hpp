// Hygiene: what OS objects exist, so a run can prove it left nothing behind (no /dev/shm
// entry, no message queue, no socket file, no child process).
#pragma once

#include "impl/channel.hpp"

#include <set>
#include <string>

namespace ipcv::harness {

/// True while the named object exists (mq_open / stat of the path).
bool object_exists(const NamedObject &o);

/// A Snapshot is the set of entries of /dev/shm and, where it is mounted, /dev/mqueue.
struct Snapshot {
  std::set<std::string> entries;
  static Snapshot take();
  /// Entries present in `after` but not in this snapshot, one per line; empty when none.
  std::string leftovers(const Snapshot &after) const;
};

} // namespace ipcv::harness
