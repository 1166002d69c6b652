// Implementation of hygiene checks (hygiene.hpp).
#include "hygiene.hpp"

#include "impl/os.hpp"
#include "process.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace ipcv::harness {
namespace {

/// The names in `dir` (without "." and ".."); false when it cannot be read.
bool names_in(const char *dir, std::vector<std::string> &out) {
  DIR *d = ::opendir(dir);
  if (d == nullptr)
    return false;
  while (dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      out.push_back(std::move(n));
  }
  ::closedir(d);
  return true;
}

/// The queues of this IPC namespace through a mount of the mqueue file system that only a child
/// sees: the child takes a mount namespace of its own (with private propagation, so nothing
/// reaches the host's), mounts the file system over /tmp there and writes the names to a pipe.
/// The mount dies with the child, so a kill of either process at any moment leaves no mount and
/// no directory behind. Needs root.
std::optional<std::vector<std::string>> mqueue_names_from_a_private_mount() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return std::nullopt;
  const pid_t child = spawn([&] {
    // System calls only: the parent may have threads, so no allocation after the fork.
    ::close(fds[0]);
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("none", "/tmp", "mqueue", 0, nullptr) != 0)
      return 1;
    const int dir = ::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
      return 1;
    alignas(dirent64) char buf[4096];
    for (ssize_t n; (n = ::getdents64(dir, buf, sizeof buf)) != 0;) {
      if (n < 0)
        return 1;
      for (ssize_t at = 0; at < n;) {
        const auto *e = reinterpret_cast<const dirent64 *>(buf + at);
        at += e->d_reclen;
        const std::size_t len = std::strlen(e->d_name);
        if (::write(fds[1], e->d_name, len + 1) != static_cast<ssize_t>(len + 1)) // NUL-ended
          return 1;
      }
    }
    return 0;
  });
  ::close(fds[1]);
  if (child < 0) {
    ::close(fds[0]);
    return std::nullopt;
  }
  std::string names;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno != EINTR)
      break;
    if (n > 0)
      names.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (!reap({child}, Clock::now() + std::chrono::seconds(10)).front().clean())
    return std::nullopt;
  std::vector<std::string> out;
  for (std::size_t at = 0; at < names.size();) {
    const std::size_t end = names.find('\0', at);
    std::string n = names.substr(at, end - at);
    if (n != "." && n != "..")
      out.push_back(std::move(n));
    at = end == std::string::npos ? names.size() : end + 1;
  }
  return out;
}

} // namespace

std::optional<std::vector<std::string>> mqueue_names() {
  std::vector<std::string> out;
  struct statfs fs {};
  if (::statfs("/dev/mqueue", &fs) == 0 && fs.f_type == kMqueueMagic)
    return names_in("/dev/mqueue", out) ? std::optional(out) : std::nullopt;
  // Not mounted where it usually is: a private mount of the mqueue file system shows the same
  // queues (those of this IPC namespace).
  return mqueue_names_from_a_private_mount();
}

bool object_exists(const NamedObject &o) {
  if (o.kind == "mqueue") {
    mqd_t q = ::mq_open(o.path.c_str(), O_RDONLY);
    if (q == static_cast<mqd_t>(-1))
      return errno != ENOENT;
    ::mq_close(q);
    return true;
  }
  struct stat st {};
  const std::string path = o.kind == "shm" ? "/dev/shm" + o.path : o.path;
  return ::stat(path.c_str(), &st) == 0;
}

bool remove_object(const NamedObject &o) {
  const int rc = o.kind == "mqueue" ? ::mq_unlink(o.path.c_str())
                 : o.kind == "shm"  ? ::shm_unlink(o.path.c_str())
                                    : ::unlink(o.path.c_str());
  return rc == 0 || errno == ENOENT;
}

Snapshot Snapshot::take() {
  Snapshot s;
  std::vector<std::string> names;
  names_in("/dev/shm", names);
  for (const auto &n : names)
    s.entries.insert("/dev/shm/" + n);
  for (const auto &n : mqueue_names().value_or(std::vector<std::string>{}))
    s.entries.insert("mqueue /" + n);
  return s;
}

std::string Snapshot::leftovers(const Snapshot &after) const {
  std::string out;
  const pid_t self = ::getpid();
  for (const auto &e : after.entries) {
    if (entries.count(e))
      continue;
    // Another process's object, by its name: tests beside this one make their own.
    const pid_t creator = creator_of(e.substr(e.rfind('/') + 1));
    if (creator == 0 || creator == self)
      out += e + "\n";
  }
  return out;
}

pid_t creator_of(std::string_view name) {
  if (!name.starts_with("ipcv-"))
    return 0;
  name.remove_prefix(5);
  while (!name.empty()) {
    const std::size_t dash = name.find('-');
    const std::string_view part = name.substr(0, dash);
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), pid);
    if (ec == std::errc() && end == part.data() + part.size() && pid > 0)
      return pid;
    if (dash == std::string_view::npos)
      break;
    name.remove_prefix(dash + 1);
  }
  return 0;
}

namespace {

/// Adds the orphans among `names` as objects of `kind` ("/<name>").
void orphans_among(const std::vector<std::string> &names, const char *kind,
                   std::vector<Orphan> &out) {
  for (const std::string &n : names) {
    const pid_t pid = creator_of(n);
    if (pid != 0 && !os::process_alive(pid))
      out.push_back({NamedObject{kind, "/" + n}, pid, false, ""});
  }
}

/// Adds the orphaned socket files under `dir`, at most `depth` levels down.
void socket_orphans(const std::string &dir, int depth, std::vector<Orphan> &out) {
  DIR *d = ::opendir(dir.c_str());
  if (d == nullptr)
    return;
  while (dirent *e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode) && depth > 0) {
      socket_orphans(path, depth - 1, out);
    } else if (S_ISSOCK(st.st_mode)) {
      const pid_t pid = creator_of(name);
      if (pid != 0 && !os::process_alive(pid))
        out.push_back({NamedObject{"socket", path}, pid, false, ""});
    }
  }
  ::closedir(d);
}

} // namespace

std::vector<Orphan> find_orphans(const std::vector<std::string> &dirs, bool remove) {
  std::vector<Orphan> out;
  std::vector<std::string> shm;
  names_in("/dev/shm", shm);
  orphans_among(shm, "shm", out);
  orphans_among(mqueue_names().value_or(std::vector<std::string>{}), "mqueue", out);
  for (const std::string &dir : dirs)
    socket_orphans(dir, 3, out);
  if (!remove)
    return out;
  for (Orphan &o : out) {
    const std::string &p = o.object.path;
    const int rc = o.object.kind == "mqueue" ? ::mq_unlink(p.c_str())
                   : o.object.kind == "shm"  ? ::shm_unlink(p.c_str())
                                             : ::unlink(p.c_str());
    o.removed = rc == 0 || errno == ENOENT;
    if (!o.removed)
      o.error = std::strerror(errno);
  }
  return out;
}

std::map<int, std::string> open_fds() {
  std::map<int, std::string> out;
  DIR *d = ::opendir("/proc/self/fd");
  if (d == nullptr)
    return out;
  const int self = ::dirfd(d);
  while (dirent *e = ::readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    const int fd = std::atoi(e->d_name);
    if (fd == self)
      continue;
    char target[256] = {};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n > 0)
      out[fd] = std::string(target, static_cast<std::size_t>(n));
  }
  ::closedir(d);
  return out;
}

} // namespace ipcv::harness
