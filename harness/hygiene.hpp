// Hygiene: what OS objects exist, so a run can prove it left nothing behind (no /dev/shm
// entry, no message queue, no socket file, no child process).
#pragma once

#include "ipcverify/channel.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace ipcv::harness {

/// True while the named object exists (mq_open / stat of the path).
bool object_exists(const NamedObject &o);

/// Removes the named object by its kind (mq_unlink, shm_unlink, unlink); true when it is gone.
bool remove_object(const NamedObject &o);

/// The names of the POSIX message queues of this IPC namespace (without the leading '/'):
/// from /dev/mqueue, or where it is not mounted from a private mount of the mqueue file system
/// (root only). Nothing when neither can be read.
std::optional<std::vector<std::string>> mqueue_names();

/// The f_type statfs(2) reports for the mqueue file system.
inline constexpr long kMqueueMagic = 0x19800202;

/// A Snapshot is the set of entries of /dev/shm ("/dev/shm/<name>") and of the message queues
/// ("mqueue /<name>", see mqueue_names()).
struct Snapshot {
  std::set<std::string> entries;
  static Snapshot take();
  /// Entries present in `after` but not in this snapshot, one per line; empty when none. An
  /// entry whose name carries another process's pid ("ipcv-mq-<pid>-...") is that process's.
  std::string leftovers(const Snapshot &after) const;
};

/// An Orphan is a named object of ipcverify ("ipcv-*") whose creator process is gone: left by a
/// run that was killed outright (SIGKILL: no handler runs, so nothing could remove it).
struct Orphan {
  NamedObject object;
  pid_t creator = 0;
  bool removed = false;
  std::string error; ///< why removing it failed, when it did
};

/// The "ipcv-*" objects in /dev/shm, /dev/mqueue (when mounted) and socket files under `dirs`
/// whose name carries a creator pid that no longer runs; with `remove`, each is removed.
/// Objects whose creator still runs, or whose name carries no pid, are never touched.
std::vector<Orphan> find_orphans(const std::vector<std::string> &dirs, bool remove);

/// The creator pid an ipcverify object name carries ("ipcv-mq-1234-9f3c..." -> 1234), or 0.
pid_t creator_of(std::string_view name);

/// The target of every open descriptor of this process, by fd, from /proc/self/fd.
std::map<int, std::string> open_fds();

} // namespace ipcv::harness
