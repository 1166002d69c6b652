// The tools the isolation probes share (isolation_internal.hpp): errno names, the probe config,
// the inventory of what this process holds, and dropping a child to an unprivileged identity.
#include "isolation_internal.hpp"

#include "specs/message.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace ipcv::harness::isolation_detail {
namespace {

/// The effective capabilities of this process, from /proc/self/status ("" if unreadable).
std::string cap_eff() {
  FILE *f = std::fopen("/proc/self/status", "r");
  if (f == nullptr)
    return "";
  char line[256];
  std::string out;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, "CapEff:", 7) == 0) {
      out = line + 7;
      out.erase(std::remove_if(out.begin(), out.end(), ::isspace), out.end());
    }
  std::fclose(f);
  return out;
}

} // namespace

std::string errname(int e) {
  const char *n = ::strerrorname_np(e);
  return n != nullptr ? n : std::to_string(e);
}

Config probe_config() {
  Config c;
  c.capacity = 4;
  c.senders = 1;
  c.receivers = 1;
  return c;
}

namespace {
// The parent's probes run one at a time.
std::optional<std::string> noted_hang;
std::chrono::milliseconds deadline_of_calls{ProbeOptions{}.call_deadline};
} // namespace

CallDeadline::CallDeadline(std::chrono::milliseconds d)
    : before_(std::exchange(deadline_of_calls, d)) {}
CallDeadline::~CallDeadline() { deadline_of_calls = before_; }

Deadline call_deadline(int calls) { return Clock::now() + calls * deadline_of_calls; }

std::vector<ChildExit> reap_channel_children(const std::vector<pid_t> &pids,
                                             const char *const *roles, int calls) {
  const auto limit = calls * deadline_of_calls;
  auto exits = reap(pids, Clock::now() + limit);
  for (std::size_t i = 0; i < exits.size() && !noted_hang; ++i)
    if (exits[i].timed_out)
      noted_hang = fmt::format("{} was still in the channel {:.3g} s after it started, though "
                               "each of its calls has a deadline of {:.3g} s: killed",
                               roles[i], std::chrono::duration<double>(limit).count(),
                               std::chrono::duration<double>(deadline_of_calls).count());
  return exits;
}

std::optional<std::string> take_hang() { return std::exchange(noted_hang, std::nullopt); }

std::string exits_text(const std::vector<ChildExit> &exits, const char *const *roles) {
  std::string out;
  for (std::size_t i = 0; i < exits.size(); ++i)
    if (!exits[i].clean())
      out += fmt::format("{}{} {}", out.empty() ? "" : "; ", roles[i], exits[i].describe());
  return out;
}

ProbeResult conclude(Probe p, bool bad, std::string text, const std::string &exits,
                     const std::string &left) {
  for (const std::string *more : {&exits, &left})
    if (!more->empty()) {
      text += "; " + *more;
      bad = true;
    }
  return result(p, bad ? Outcome::fail : Outcome::pass, std::move(text));
}

std::vector<SharedMap> shared_maps() {
  std::vector<SharedMap> out;
  std::set<std::string> seen;
  FILE *f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr)
    return out;
  char line[1024];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    char perms[8] = {}, dev[32] = {};
    unsigned long inode = 0;
    int path_at = 0;
    if (std::sscanf(line, "%*x-%*x %7s %*x %31s %lu %n", perms, dev, &inode, &path_at) < 3)
      continue;
    if (perms[3] != 's')
      continue;
    std::string path = path_at > 0 ? line + path_at : "";
    while (!path.empty() && (path.back() == '\n' || path.back() == ' '))
      path.pop_back();
    SharedMap m{fmt::format("{} {}", dev, inode), path, perms[1] == 'w'};
    if (seen.insert(m.key).second)
      out.push_back(std::move(m));
  }
  std::fclose(f);
  return out;
}

std::set<std::string> keys_of(const std::vector<SharedMap> &v) {
  std::set<std::string> s;
  for (const auto &m : v)
    s.insert(m.key);
  return s;
}

std::string anonymous_kinds(const std::map<int, std::string> &fds_before,
                            const std::map<int, std::string> &fds_after,
                            const std::set<std::string> &maps_before) {
  std::set<std::string> kinds;
  for (const auto &[fd, target] : fds_after) {
    if (fds_before.count(fd) && fds_before.at(fd) == target)
      continue;
    if (target.rfind("pipe:", 0) == 0) {
      kinds.insert("pipe");
    } else if (target.rfind("socket:", 0) == 0) {
      sockaddr_un sa{};
      socklen_t len = sizeof sa;
      const bool unnamed = ::getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len) == 0 &&
                           sa.sun_family == AF_UNIX && len <= sizeof(sa_family_t);
      kinds.insert(unnamed ? "socketpair" : "socket");
    } else if (target.rfind("/memfd:", 0) == 0) {
      kinds.insert("memfd");
    } else {
      kinds.insert(target);
    }
  }
  for (const auto &m : shared_maps())
    if (!maps_before.count(m.key) && m.path.rfind("/memfd:", 0) != 0)
      kinds.insert("anonymous shared mapping");
  if (kinds.empty())
    return "nothing the process holds";
  std::string out;
  for (const auto &k : kinds)
    out += (out.empty() ? "" : ", ") + k;
  return out;
}

Identity nobody() {
  Identity id;
  if (const passwd *pw = ::getpwnam("nobody")) {
    id.uid = pw->pw_uid;
    id.gid = pw->pw_gid;
  }
  return id;
}

std::string drop_to(const Identity &id) {
  if (::setgroups(0, nullptr) != 0)
    return "setgroups(0): " + errname(errno);
  if (::setgid(id.gid) != 0)
    return "setgid: " + errname(errno);
  if (::setuid(id.uid) != 0)
    return "setuid: " + errname(errno);
  uid_t r = 0, e = 0, s = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  if (::getresuid(&r, &e, &s) != 0 || r != id.uid || e != id.uid || s != id.uid)
    return "uids after setuid are not all the target";
  if (::getresgid(&rg, &eg, &sg) != 0 || rg != id.gid || eg != id.gid || sg != id.gid)
    return "gids after setgid are not all the target";
  if (::getgroups(0, nullptr) != 0)
    return "supplementary groups remain";
  if (cap_eff() != "0000000000000000")
    return "capabilities remain: CapEff " + cap_eff();
  if (::setuid(0) == 0)
    return "uid 0 could be regained";
  return "";
}

std::optional<ProbeResult> unnamed(Probe p, Instance &inst, const Before &before,
                                   std::string_view why) {
  if (!inst.named().empty())
    return std::nullopt;
  const std::string kinds = anonymous_kinds(before.fds, open_fds(), before.maps);
  inst.destroy();
  return not_applicable(p, fmt::format("anonymous objects only ({}): {}", kinds, why));
}

std::optional<ProbeResult> too_small_for_identity(Probe p, std::size_t max) {
  if (max >= spec::kMinMessageSize)
    return std::nullopt;
  return not_applicable(
      p, fmt::format("messages of at most {} bytes cannot carry their identity", max));
}

} // namespace ipcv::harness::isolation_detail
