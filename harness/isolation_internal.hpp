// What the isolation probes share (private to harness/isolation*.cpp): the shared pages a
// probe's children write into, a prepared instance that is always destroyed, the inventory of
// what this process holds (descriptors and shared mappings), the unprivileged identity a probe
// child drops to, and the probes themselves, which isolation.cpp runs.
#pragma once

#include "hygiene.hpp"
#include "isolation.hpp"
#include "process.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/types.h>
#include <vector>

namespace ipcv::harness::isolation_detail {

/// The result of probe `p`: kind `k`, and what was tried and observed.
inline ProbeResult result(Probe p, Outcome k, std::string observed) {
  return ProbeResult{p, k, std::move(observed), {}};
}

/// The result of probe `p` on a channel that has nothing it could try, and why.
inline ProbeResult not_applicable(Probe p, std::string why) {
  return ProbeResult{p, Outcome::skip, std::string(ProbeResult::kNotApplicable) + why, {}};
}

/// The result of probe `p` that ran but saw evidence neither way, and what it saw instead
/// ("receiver of A stopped on timeout after 12 of 300; ...").
inline ProbeResult inconclusive(Probe p, std::string seen) {
  return ProbeResult{p, Outcome::skip, std::string(ProbeResult::kInconclusive) + seen, {}};
}

/// The symbolic name of errno value `e` ("EACCES"), or its number.
std::string errname(int e);

/// Text written by a child into a page mapped before fork; read by the parent after reaping.
struct Note {
  char text[1024] = {};
  void set(const std::string &s) noexcept {
    const std::size_t n = std::min(s.size(), sizeof text - 1);
    std::memcpy(text, s.data(), n);
    text[n] = '\0';
  }
  std::string get() const { return std::string(text, ::strnlen(text, sizeof text)); }
};

/// One prepared instance that is always destroyed; destroy() says what it left behind.
class Instance {
public:
  Instance(const ChannelEntry &e, const Config &c) : inst_(e.prepare(c)) {
    if (inst_)
      named_ = (*inst_)->named_objects();
  }
  ~Instance() { destroy(); }
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;
  explicit operator bool() const noexcept { return static_cast<bool>(inst_) && !destroyed_; }
  AnyInstance &operator*() { return **inst_; }
  AnyInstance *operator->() { return &**inst_; }
  const Status &status() const noexcept { return inst_.status(); }
  const std::vector<NamedObject> &named() const noexcept { return named_; }

  /// Destroys the instance (once); returns "" or what still exists afterwards.
  std::string destroy() {
    release();
    return leftovers();
  }
  /// Destroys the instance (once) without looking at what is left.
  void release() noexcept {
    if (!inst_ || destroyed_)
      return;
    destroyed_ = true;
    (*inst_)->destroy();
  }
  /// "" or which named objects of the instance still exist.
  std::string leftovers() const {
    std::string left;
    for (const auto &o : named_)
      if (object_exists(o))
        left += fmt::format("{}{} {}", left.empty() ? "" : ", ", o.kind, o.path);
    return left.empty() ? "" : left + " still exist(s) after destroy";
  }

private:
  Expected<std::unique_ptr<AnyInstance>> inst_;
  std::vector<NamedObject> named_;
  bool destroyed_ = false;
};

/// The config every probe prepares with: one sender, one receiver, a small capacity (message
/// queues count against a per-user byte limit shared by every test on the machine).
Config probe_config();

/// The deadline of the probe's calls into the channel (ProbeOptions::call_deadline), set by
/// run_probe for the probe it runs (the parent's probes run one at a time; a child inherits it).
class CallDeadline {
public:
  explicit CallDeadline(std::chrono::milliseconds d);
  ~CallDeadline();
  CallDeadline(const CallDeadline &) = delete;
  CallDeadline &operator=(const CallDeadline &) = delete;

private:
  std::chrono::milliseconds before_;
};

/// The deadline of a probe's call into the channel (or its barrier with a peer), from now; of
/// `calls` such calls in a row.
Deadline call_deadline(int calls = 1);

/// Reaps the children of a probe that run the channel's code (`roles[i]` names pids[i]),
/// waiting at most `calls` call deadlines (each child makes at most that many calls in a
/// row). A child still running then is killed like any other, and the hang is noted for
/// run_probe (take_hang): a child still there is a channel that ignored its deadline, and that
/// is no evidence about isolation either way.
std::vector<ChildExit> reap_channel_children(const std::vector<pid_t> &pids,
                                             const char *const *roles, int calls);

/// The hang reap_channel_children noted since the last call, if any ("sender still running
/// 30 s after it started").
std::optional<std::string> take_hang();

/// "" when every child exited cleanly, else "role how; ..." for those that did not.
std::string exits_text(const std::vector<ChildExit> &exits, const char *const *roles);

/// The result of probe `p` that observed `text` (a failure when `bad`) and ended with children
/// that did not exit cleanly (`exits`, from exits_text) or objects left after destroy (`left`):
/// either of those, when not empty, is appended to the text and fails the probe.
ProbeResult conclude(Probe p, bool bad, std::string text, const std::string &exits,
                     const std::string &left);

using harness::open_fds; // hygiene.hpp

/// One shared mapping of /proc/self/maps.
struct SharedMap {
  std::string key;  ///< "dev inode": the object mapped (every anonymous shared mapping has its own)
  std::string path; ///< as /proc shows it: /memfd:x (deleted), /dev/shm/x, /dev/zero (deleted)
  bool writable = false;
};

/// Every shared mapping of this process (the 's' in the permissions), once per object.
std::vector<SharedMap> shared_maps();

/// The keys of `v`.
std::set<std::string> keys_of(const std::vector<SharedMap> &v);

/// What `prepare` made without a name, from the descriptors and shared mappings it added:
/// "pipe", "socketpair", "memfd", "anonymous shared mapping".
std::string anonymous_kinds(const std::map<int, std::string> &fds_before,
                            const std::map<int, std::string> &fds_after,
                            const std::set<std::string> &maps_before);

/// What this process had open and mapped before a `prepare`, to tell what it made unnamed.
struct Before {
  std::map<int, std::string> fds = open_fds();
  std::set<std::string> maps = keys_of(shared_maps());
};

/// When `inst` made no named object: destroys it and answers not applicable, naming the
/// anonymous kinds it made and `why` a name was wanted ("no name to try"). Otherwise nothing.
std::optional<ProbeResult> unnamed(Probe p, Instance &inst, const Before &before,
                                   std::string_view why);

/// Not applicable when messages of at most `max` bytes cannot carry their identity.
std::optional<ProbeResult> too_small_for_identity(Probe p, std::size_t max);

/// The unprivileged identity a probe child becomes: `nobody`, or 65534 where it is unknown.
struct Identity {
  uid_t uid = 65534;
  gid_t gid = 65534;
};

/// The identity of `nobody`.
Identity nobody();

/// In a child: drops every privilege to `id` (supplementary groups, then gid, then uid) and
/// proves it: real, effective and saved ids are `id`, no group and no capability is left, and
/// uid 0 cannot be regained. Returns "" or why not.
std::string drop_to(const Identity &id);

/// The probes, one a Probe (see isolation.hpp for what each one tries).
ProbeResult owner_only(const ChannelEntry &e);
ProbeResult no_squat(const ChannelEntry &e);
ProbeResult no_crosstalk(const ChannelEntry &e);
ProbeResult copy_semantics(const ChannelEntry &e);
ProbeResult nothing_else_shared(const ChannelEntry &e);

} // namespace ipcv::harness::isolation_detail
