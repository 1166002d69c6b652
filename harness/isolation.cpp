// Implementation of the isolation probes (isolation.hpp). Every probe prepares its own
// instances, forks its own children (which record into a page mapped before fork), reaps them,
// destroys the instances and checks that their named objects are gone.
#include "isolation.hpp"
#include "conformance.hpp"
#include "hygiene.hpp"
#include "process.hpp"

#include "specs/message.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <map>
#include <mqueue.h>
#include <new>
#include <pwd.h>
#include <set>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace ipcv::harness {
namespace {

// Small tools

ProbeResult result(Probe p, ProbeResult::Kind k, std::string observed) {
  return ProbeResult{p, k, std::move(observed)};
}

std::string errname(int e) {
  const char *n = ::strerrorname_np(e);
  return n != nullptr ? n : std::to_string(e);
}

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

/// A T in an anonymous shared mapping, made before fork so that parent and children see it.
template <class T> class SharedBlock {
public:
  SharedBlock() {
    void *p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::runtime_error("isolation probe: mmap of a shared page failed");
    t_ = new (p) T{};
  }
  ~SharedBlock() {
    t_->~T();
    ::munmap(t_, sizeof(T));
  }
  SharedBlock(const SharedBlock &) = delete;
  SharedBlock &operator=(const SharedBlock &) = delete;
  T *operator->() const noexcept { return t_; }
  T &operator*() const noexcept { return *t_; }

private:
  T *t_;
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
Config probe_config() {
  Config c;
  c.capacity = 4;
  c.senders = 1;
  c.receivers = 1;
  return c;
}

std::string exits_text(const std::vector<ChildExit> &exits, const char *const *roles) {
  std::string out;
  for (std::size_t i = 0; i < exits.size(); ++i)
    if (!exits[i].clean())
      out += fmt::format("{}{} {}", out.empty() ? "" : "; ", roles[i], exits[i].describe());
  return out;
}

// What a process holds: its descriptors and its shared mappings

/// The target of every open descriptor of this process, by fd.
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

/// One shared mapping of /proc/self/maps.
struct SharedMap {
  std::string key;  ///< "dev inode": the object mapped (every anonymous shared mapping has its own)
  std::string path; ///< as /proc shows it: /memfd:x (deleted), /dev/shm/x, /dev/zero (deleted)
  bool writable = false;
};

/// Every shared mapping of this process (the 's' in the permissions), once per object.
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

/// What `prepare` made without a name, from the descriptors and shared mappings it added:
/// "pipe", "socketpair", "memfd", "anonymous shared mapping".
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

// Probe 1: reachable only by its owner

/// The unprivileged identity a probe child becomes: `nobody`, or 65534 where it is unknown.
struct Identity {
  uid_t uid = 65534;
  gid_t gid = 65534;
};

Identity nobody() {
  Identity id;
  if (const passwd *pw = ::getpwnam("nobody")) {
    id.uid = pw->pw_uid;
    id.gid = pw->pw_gid;
  }
  return id;
}

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

/// In a child: drops every privilege to `id` (supplementary groups, then gid, then uid) and
/// proves it: real, effective and saved ids are `id`, no group and no capability is left, and
/// uid 0 cannot be regained. Returns "" or why not.
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

/// What one attempt on one object gave.
struct Attempt {
  std::string how;   ///< "mq_open O_RDWR", "shm_open O_RDONLY", "connect SOCK_STREAM"
  int err = 0;       ///< errno when refused, 0 when it worked
  std::string extra; ///< what worked past the open: "sent a message", "mapped and read"
};

bool denied(int err) { return err == EACCES || err == EPERM; }

std::vector<Attempt> try_mqueue(const std::string &name) {
  std::vector<Attempt> out;
  for (auto [flag, text] : {std::pair{O_RDWR, "O_RDWR"}, std::pair{O_RDONLY, "O_RDONLY"},
                            std::pair{O_WRONLY, "O_WRONLY"}}) {
    Attempt a{std::string("mq_open ") + text, 0, ""};
    mqd_t q = ::mq_open(name.c_str(), flag | O_NONBLOCK);
    if (q == static_cast<mqd_t>(-1)) {
      a.err = errno;
    } else {
      mq_attr at{};
      if (flag != O_WRONLY && ::mq_getattr(q, &at) == 0)
        a.extra = fmt::format("read its attributes ({} queued)", at.mq_curmsgs);
      if (flag != O_RDONLY && ::mq_send(q, "x", 1, 0) == 0)
        a.extra += std::string(a.extra.empty() ? "" : ", ") + "sent a message into it";
      ::mq_close(q);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Attempt> try_shm(const std::string &name) {
  std::vector<Attempt> out;
  for (auto [flag, text] : {std::pair{O_RDWR, "O_RDWR"}, std::pair{O_RDONLY, "O_RDONLY"}}) {
    Attempt a{std::string("shm_open ") + text, 0, ""};
    int fd = ::shm_open(name.c_str(), flag, 0);
    if (fd < 0) {
      a.err = errno;
    } else {
      struct stat st {};
      const std::size_t len =
          ::fstat(fd, &st) == 0 ? std::min<std::size_t>(static_cast<std::size_t>(st.st_size), 4096)
                                : 0;
      const int prot = PROT_READ | (flag == O_RDWR ? PROT_WRITE : 0);
      void *p = len > 0 ? ::mmap(nullptr, len, prot, MAP_SHARED, fd, 0) : MAP_FAILED;
      if (p != MAP_FAILED) {
        auto *b = static_cast<volatile unsigned char *>(p);
        const unsigned char v = b[len - 1];
        a.extra = "mapped it and read a byte";
        if (flag == O_RDWR) {
          b[len - 1] = v; // a write that changes nothing, yet proves it could
          a.extra += " and wrote one";
        }
        ::munmap(p, len);
      } else {
        a.extra = fmt::format("opened it ({} bytes)", static_cast<long>(st.st_size));
      }
      ::close(fd);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Attempt> try_socket(const std::string &path) {
  std::vector<Attempt> out;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  const bool abstract = !path.empty() && path[0] == '@';
  std::memcpy(sa.sun_path, path.data(), std::min(path.size(), sizeof sa.sun_path - 1));
  if (abstract)
    sa.sun_path[0] = '\0';
  const auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                             std::min(path.size(), sizeof sa.sun_path - 1) + (abstract ? 0 : 1));
  for (auto [type, text] :
       {std::pair{SOCK_STREAM, "SOCK_STREAM"}, std::pair{SOCK_SEQPACKET, "SOCK_SEQPACKET"},
        std::pair{SOCK_DGRAM, "SOCK_DGRAM"}}) {
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
      continue;
    Attempt a{std::string("connect ") + text, 0, ""};
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&sa), len) != 0)
      a.err = errno;
    ::close(fd);
    if (a.err == EPROTOTYPE)
      continue; // the socket is of another type: try the next
    // Refused for want of a listener means the permission check passed.
    if (a.err == ECONNREFUSED || a.err == EAGAIN) {
      a.extra = "was let through to the socket (" + errname(a.err) + ")";
      a.err = 0;
    } else if (a.err == 0) {
      a.extra = "connected";
    }
    out.push_back(std::move(a));
    break;
  }
  return out;
}

std::vector<Attempt> try_path(const std::string &path) {
  std::vector<Attempt> out;
  for (auto [flag, text] : {std::pair{O_RDWR, "O_RDWR"}, std::pair{O_RDONLY, "O_RDONLY"}}) {
    Attempt a{std::string("open ") + text, 0, ""};
    int fd = ::open(path.c_str(), flag | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      a.err = errno;
    else {
      a.extra = "opened it";
      ::close(fd);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Attempt> try_object(const NamedObject &o) {
  if (o.kind == "mqueue")
    return try_mqueue(o.path);
  if (o.kind == "shm")
    return try_shm(o.path);
  if (o.kind == "socket")
    return try_socket(o.path);
  return try_path(o.path);
}

/// The mode and owner of a named object, as the owner sees it: "mode 0600, uid 0".
std::string mode_of(const NamedObject &o) {
  struct stat st {};
  bool ok = false;
  if (o.kind == "mqueue") {
    mqd_t q = ::mq_open(o.path.c_str(), O_RDONLY | O_NONBLOCK);
    if (q != static_cast<mqd_t>(-1)) {
      ok = ::fstat(q, &st) == 0;
      ::mq_close(q);
    }
  } else {
    const std::string p = o.kind == "shm" ? "/dev/shm" + o.path : o.path;
    ok =
        !(o.kind == "socket" && !o.path.empty() && o.path[0] == '@') && ::stat(p.c_str(), &st) == 0;
  }
  if (!ok)
    return "mode unknown";
  return fmt::format("mode {:04o}, uid {}", st.st_mode & 07777, st.st_uid);
}

struct OwnerNotes {
  Note drop;
  std::atomic<int> objects{0};
  Note per_object[8];
  std::atomic<int> breached{0};
  std::atomic<int> inconclusive{0};
};

ProbeResult owner_only(const ChannelEntry &e) {
  constexpr Probe kP = Probe::owner_only;
  const auto fds_before = open_fds();
  const auto maps_before = keys_of(shared_maps());
  Instance inst(e, probe_config());
  if (!inst)
    return result(kP, ProbeResult::fail, "prepare failed: " + inst.status().describe());
  if (inst.named().empty()) {
    const std::string kinds = anonymous_kinds(fds_before, open_fds(), maps_before);
    inst.destroy();
    return result(kP, ProbeResult::not_applicable,
                  "anonymous objects only (" + kinds + "): no name to try");
  }
  if (::geteuid() != 0)
    return result(kP, ProbeResult::skipped,
                  fmt::format("not running as root (euid {}): cannot become another user to try "
                              "{} named object(s)",
                              ::geteuid(), inst.named().size()));
  std::vector<NamedObject> objects = inst.named();
  if (objects.size() > 8)
    objects.resize(8);
  std::vector<std::string> modes;
  for (const auto &o : objects) {
    if (!object_exists(o))
      return result(
          kP, ProbeResult::fail,
          fmt::format("{} {} is declared by the instance but does not exist", o.kind, o.path));
    modes.push_back(mode_of(o));
  }
  const Identity id = nobody();
  SharedBlock<OwnerNotes> notes;
  pid_t child = spawn([&]() -> int {
    if (std::string why = drop_to(id); !why.empty()) {
      notes->drop.set(why);
      return 2;
    }
    for (std::size_t i = 0; i < objects.size(); ++i) {
      const auto attempts = try_object(objects[i]);
      std::string refused, errs, worked;
      bool odd = false;
      for (const auto &a : attempts) {
        if (a.err == 0) {
          worked += fmt::format("{}{}{}", worked.empty() ? "" : "; ", a.how,
                                a.extra.empty() ? "" : " and " + a.extra);
        } else {
          refused += (refused.empty() ? "" : ", ") + a.how.substr(a.how.find(' ') + 1);
          const std::string n = errname(a.err);
          if (errs.find(n) == std::string::npos)
            errs += (errs.empty() ? "" : "/") + n;
          odd = odd || !denied(a.err);
        }
      }
      const auto &o = objects[i];
      const std::string verb =
          attempts.empty() ? "try" : attempts[0].how.substr(0, attempts[0].how.find(' '));
      std::string text;
      if (!worked.empty()) {
        notes->breached.fetch_add(1);
        text =
            fmt::format("uid {} reached {} {} ({}): {}", id.uid, o.kind, o.path, modes[i], worked);
      } else if (odd || attempts.empty()) {
        notes->inconclusive.fetch_add(1);
        text = fmt::format("uid {} could not {} {} {}: {} ({}), not a permission error: access "
                           "was not tested",
                           id.uid, verb, o.kind, o.path, errs, refused);
      } else {
        text = fmt::format("uid {} could not {} {} ({}): {} ({})", id.uid, verb, o.path, modes[i],
                           errs, refused);
      }
      notes->per_object[i].set(text);
      notes->objects.fetch_add(1);
    }
    return 0;
  });
  const auto exits = reap({child}, after_ms(10000));
  const std::string left = inst.destroy();
  const char *roles[] = {"probe child"};
  if (exits[0].exited && exits[0].code == 2)
    return result(kP, ProbeResult::skipped,
                  "could not drop to uid " + std::to_string(id.uid) + ": " + notes->drop.get());
  if (!exits[0].clean())
    return result(kP, ProbeResult::fail,
                  "the probe child ended badly: " + exits_text(exits, roles));
  std::string text;
  for (int i = 0; i < notes->objects.load(); ++i)
    text += (text.empty() ? "" : "; ") + notes->per_object[i].get();
  if (objects.size() < inst.named().size())
    text += fmt::format("; only the first {} of {} named objects were tried", objects.size(),
                        inst.named().size());
  if (!left.empty())
    return result(kP, ProbeResult::fail, text + "; " + left);
  const bool bad = notes->breached.load() > 0 || notes->inconclusive.load() > 0;
  return result(kP, bad ? ProbeResult::fail : ProbeResult::pass, text);
}

// Probe 2: no squatting, no hijack

/// Bits of unpredictability shown by `names`: 4 per character position that differs between
/// some two of them (hexadecimal at least), counted when all have the same length.
int varying_bits(const std::vector<std::string> &names) {
  if (names.size() < 2)
    return 0;
  const std::size_t n = names[0].size();
  for (const auto &s : names)
    if (s.size() != n)
      return -1;
  int varying = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (const auto &s : names)
      if (s[i] != names[0][i]) {
        ++varying;
        break;
      }
  return 4 * varying;
}

constexpr int kNameSamples = 6;
constexpr int kMinNameBits = 48;

/// What a squatter's object looks like, to prove afterwards that nobody changed or replaced it.
struct Fingerprint {
  bool exists = false;
  ino_t ino = 0;
  uid_t uid = 0;
  mode_t mode = 0;
  long size = 0;     ///< shm: bytes; mqueue: messages queued
  long shape = 0;    ///< mqueue: msgsize
  char head[8] = {}; ///< shm: its first bytes
  bool operator==(const Fingerprint &o) const {
    return exists == o.exists && ino == o.ino && uid == o.uid && mode == o.mode && size == o.size &&
           shape == o.shape && std::memcmp(head, o.head, sizeof head) == 0;
  }
  std::string describe() const {
    if (!exists)
      return "gone";
    return fmt::format("inode {}, uid {}, mode {:04o}, {} {}", ino, uid, mode & 07777, size,
                       shape != 0 ? "message(s) queued" : "bytes");
  }
};

constexpr char kSquatMark[8] = {'s', 'q', 'u', 'a', 't', 't', 'e', 'r'};

Fingerprint fingerprint(const NamedObject &o) {
  Fingerprint f;
  struct stat st {};
  if (o.kind == "mqueue") {
    mqd_t q = ::mq_open(o.path.c_str(), O_RDONLY | O_NONBLOCK);
    if (q == static_cast<mqd_t>(-1))
      return f;
    mq_attr at{};
    f.exists = ::fstat(q, &st) == 0 && ::mq_getattr(q, &at) == 0;
    f.size = at.mq_curmsgs;
    f.shape = at.mq_msgsize;
    ::mq_close(q);
  } else {
    const std::string p = o.kind == "shm" ? "/dev/shm" + o.path : o.path;
    if (::stat(p.c_str(), &st) != 0)
      return f;
    f.exists = true;
    f.size = static_cast<long>(st.st_size);
    if (o.kind == "shm") {
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        if (::pread(fd, f.head, sizeof f.head, 0) < 0)
          f.head[0] = '?';
        ::close(fd);
      }
    }
  }
  f.ino = st.st_ino;
  f.uid = st.st_uid;
  f.mode = st.st_mode;
  return f;
}

/// Creates the squatter's object `o` with mode 0666 (past the umask) holding a marker: one
/// queued message, or "squatter" at the start of the shm object, or a bound socket file.
/// Returns "" or why not.
std::string create_squatter(const NamedObject &o) {
  if (o.kind == "mqueue") {
    mq_attr at{};
    at.mq_maxmsg = 4;
    at.mq_msgsize = 64;
    mqd_t q = ::mq_open(o.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666, &at);
    if (q == static_cast<mqd_t>(-1))
      return "mq_open: " + errname(errno);
    std::string why;
    if (::fchmod(q, 0666) != 0)
      why = "fchmod: " + errname(errno);
    if (why.empty() && ::mq_send(q, kSquatMark, sizeof kSquatMark, 0) != 0)
      why = "mq_send: " + errname(errno);
    ::mq_close(q);
    return why;
  }
  if (o.kind == "shm") {
    int fd = ::shm_open(o.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
      return "shm_open: " + errname(errno);
    std::string why;
    if (::fchmod(fd, 0666) != 0 || ::ftruncate(fd, 4096) != 0 ||
        ::pwrite(fd, kSquatMark, sizeof kSquatMark, 0) != static_cast<ssize_t>(sizeof kSquatMark))
      why = "preparing the object: " + errname(errno);
    ::close(fd);
    return why;
  }
  if (o.kind == "socket") {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (o.path.size() >= sizeof sa.sun_path)
      return "socket path too long";
    std::memcpy(sa.sun_path, o.path.data(), o.path.size());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return "socket: " + errname(errno);
    std::string why;
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&sa), sizeof sa) != 0 ||
        ::chmod(o.path.c_str(), 0666) != 0)
      why = "bind: " + errname(errno);
    ::close(fd);
    return why;
  }
  int fd = ::open(o.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return "open: " + errname(errno);
  ::close(fd);
  return ::chmod(o.path.c_str(), 0666) == 0 ? "" : "chmod: " + errname(errno);
}

void remove_object(const NamedObject &o) {
  if (o.kind == "mqueue")
    ::mq_unlink(o.path.c_str());
  else if (o.kind == "shm")
    ::shm_unlink(o.path.c_str());
  else
    ::unlink(o.path.c_str());
}

/// A fresh name for a squatter, shaped like `sample` (same kind, same directory for paths).
std::string squat_name(const NamedObject &sample) {
  char tail[64];
  unsigned char r[8];
  if (::getentropy(r, sizeof r) != 0)
    std::memset(r, 0x5a, sizeof r);
  std::snprintf(tail, sizeof tail, "ipcv-squat-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
                static_cast<int>(::getpid()), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  if (sample.kind == "mqueue" || sample.kind == "shm")
    return std::string("/") + tail;
  const std::size_t slash = sample.path.rfind('/');
  return (slash == std::string::npos ? std::string() : sample.path.substr(0, slash + 1)) + tail;
}

ProbeResult no_squat(const ChannelEntry &e) {
  constexpr Probe kP = Probe::no_squat;
  // Unpredictability: the first named object of several instances, prepared one after another.
  std::vector<std::string> names;
  NamedObject sample;
  {
    const auto fds_before = open_fds();
    const auto maps_before = keys_of(shared_maps());
    for (int i = 0; i < kNameSamples; ++i) {
      Instance inst(e, probe_config());
      if (!inst)
        return result(kP, ProbeResult::fail, "prepare failed: " + inst.status().describe());
      if (inst.named().empty()) {
        const std::string kinds = anonymous_kinds(fds_before, open_fds(), maps_before);
        inst.destroy();
        return result(kP, ProbeResult::not_applicable,
                      "anonymous objects only (" + kinds + "): no name to guess or squat");
      }
      sample = inst.named()[0];
      names.push_back(sample.path);
      if (std::string left = inst.destroy(); !left.empty())
        return result(kP, ProbeResult::fail, left);
    }
  }
  std::string naming;
  {
    std::set<std::string> distinct(names.begin(), names.end());
    const int bits = varying_bits(names);
    if (distinct.size() != names.size())
      return result(kP, ProbeResult::fail,
                    fmt::format("{} prepares gave only {} distinct names (e.g. {} twice): a name "
                                "can be known before it is created",
                                names.size(), distinct.size(), names[0]));
    if (bits >= 0 && bits < kMinNameBits)
      return result(kP, ProbeResult::fail,
                    fmt::format("names are predictable: {} prepares ({} ... {}) differ in only {} "
                                "character(s), about {} bits (want >= {})",
                                names.size(), names.front(), names.back(), bits / 4, bits,
                                kMinNameBits));
    naming = bits < 0 ? fmt::format("{} prepares gave {} distinct names of varying length",
                                    names.size(), names.size())
                      : fmt::format("{} prepares gave distinct names ({}, ...) differing in {} "
                                    "hex digits (~{} bits)",
                                    names.size(), names[0], bits / 4, bits);
  }
  // Squatting: someone creates the name first, with mode 0666; prepare is told to use it.
  const NamedObject squat{sample.kind, squat_name(sample)};
  const bool as_other = ::geteuid() == 0;
  const Identity id = nobody();
  const std::string squatter = as_other ? fmt::format("uid {}", id.uid) : "this same user";
  if (as_other) {
    SharedBlock<Note> why;
    pid_t child = spawn([&]() -> int {
      std::string w = drop_to(id);
      if (w.empty())
        w = create_squatter(squat);
      why->set(w);
      return w.empty() ? 0 : 1;
    });
    const auto exits = reap({child}, after_ms(10000));
    if (!exits[0].clean()) {
      remove_object(squat);
      return result(kP, ProbeResult::skipped,
                    fmt::format("{}; could not squat as uid {}: {}", naming, id.uid,
                                why->get().empty() ? exits[0].describe() : why->get()));
    }
  } else if (std::string w = create_squatter(squat); !w.empty()) {
    remove_object(squat);
    return result(kP, ProbeResult::skipped, naming + "; could not create a squatter: " + w);
  }
  const Fingerprint before = fingerprint(squat);
  Config cfg = probe_config();
  cfg.name = squat.path;
  ProbeResult out;
  {
    Instance inst(e, cfg);
    if (!inst) {
      const Fingerprint after = fingerprint(squat);
      if (!(after == before))
        out = result(kP, ProbeResult::fail,
                     fmt::format("prepare refused the squatted name {} ({}) but changed the "
                                 "squatter's {}: before {}, after {}",
                                 squat.path, inst.status().describe(), squat.kind,
                                 before.describe(), after.describe()));
      else
        out =
            result(kP, ProbeResult::pass,
                   fmt::format("{}; prepare refused {} {} created first by {} with mode 0666: "
                               "{}; the squatter's object is untouched",
                               naming, squat.kind, squat.path, squatter, inst.status().describe()));
    } else {
      bool used = false;
      for (const auto &o : inst.named())
        used = used || o.path == squat.path;
      const Fingerprint after = fingerprint(squat);
      if (used)
        out = result(kP, ProbeResult::fail,
                     fmt::format("prepare accepted the squatted name {} (created first by {} with "
                                 "mode 0666) and joined the squatter's {} instead of refusing it "
                                 "(before: {}; after: {})",
                                 squat.path, squatter, squat.kind, before.describe(),
                                 after.describe()));
      else
        out = result(kP, ProbeResult::pass,
                     fmt::format("{}; Config::name is not honoured (prepare made {}), so a "
                                 "squatter can only guess",
                                 naming, inst.named().empty() ? "no name" : inst.named()[0].path));
      if (std::string left = inst.destroy(); !left.empty() && !used)
        out.observed += "; " + left;
    }
  }
  remove_object(squat);
  return out;
}

// Probe 3: no cross-talk

constexpr std::uint64_t kCrosstalkMessages = 300;
constexpr std::uint32_t kProducer[2] = {1001, 2002};

struct CrossSide {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> foreign{0};
  std::atomic<std::uint64_t> damaged{0};
  Note first_bad;
  Note stopped; ///< a result other than ok/eof that ended the receiver
};
struct CrossNotes {
  CrossSide side[2];
};

std::size_t crosstalk_len(std::uint64_t i, std::size_t max) {
  if (i % 50 == 49)
    return max;
  const std::size_t hi = std::min<std::size_t>(max, 1024);
  return spec::kMinMessageSize + (i * 53) % (hi - spec::kMinMessageSize + 1);
}

ProbeResult no_crosstalk(const ChannelEntry &e) {
  constexpr Probe kP = Probe::no_crosstalk;
  const std::size_t max = e.claims.max_message;
  if (max < spec::kMinMessageSize)
    return result(kP, ProbeResult::not_applicable,
                  fmt::format("messages of at most {} bytes cannot carry their identity", max));
  const bool reg = is_register(e);
  Instance a(e, probe_config());
  if (!a)
    return result(kP, ProbeResult::fail, "prepare of instance A failed: " + a.status().describe());
  Instance b(e, probe_config());
  if (!b)
    return result(kP, ProbeResult::fail, "prepare of instance B failed: " + b.status().describe());
  Instance *inst[2] = {&a, &b};
  SharedBlock<CrossNotes> notes;
  Barrier start(4);
  std::vector<pid_t> pids;
  for (int k = 0; k < 2; ++k) {
    pids.push_back(spawn([&, k]() -> int {
      auto s = (*inst[k])->connect_sender();
      if (!s)
        return 3;
      (*inst[k])->detach();
      (*inst[1 - k])->detach(); // nothing of the other instance: a pipe end would keep it open
      if (!start.arrive_and_wait(after_ms(10000)))
        return 4;
      std::vector<std::byte> buf(max);
      for (std::uint64_t i = 0; i < kCrosstalkMessages; ++i) {
        const std::size_t n = spec::encode(kProducer[k], i, crosstalk_len(i, max), buf);
        if (Status st = (*s)->send(std::span(buf).first(n), after_ms(10000)); !st.ok())
          return 5;
      }
      (*s)->close();
      return 0;
    }));
    pids.push_back(spawn([&, k]() -> int {
      auto r = (*inst[k])->connect_receiver();
      if (!r)
        return 3;
      (*inst[k])->detach();
      (*inst[1 - k])->detach(); // nothing of the other instance: a pipe end would keep it open
      if (!start.arrive_and_wait(after_ms(10000)))
        return 4;
      CrossSide &me = notes->side[k];
      std::vector<std::byte> buf(max + 1);
      for (;;) {
        RecvStatus st = (*r)->recv(buf, after_ms(10000));
        if (st.result == Result::eof)
          break;
        if (!st.ok()) {
          me.stopped.set(st.describe());
          break;
        }
        const auto got = std::span<const std::byte>(buf).first(st.size);
        const spec::MsgCheck c = spec::verify(got);
        const bool mine = c.status == spec::MsgStatus::ok && c.id && c.id->producer == kProducer[k];
        if (mine) {
          me.received.fetch_add(1);
          if (reg && c.id->seq + 1 == kCrosstalkMessages)
            break;
          continue;
        }
        const bool other = c.id && c.id->producer == kProducer[1 - k];
        (other ? me.foreign : me.damaged).fetch_add(1);
        if (me.first_bad.get().empty())
          me.first_bad.set(
              fmt::format("{}{}", other ? "" : std::string(spec::to_string(c.status)) + " ",
                          c.id ? fmt::format("({}, {})", c.id->producer, c.id->seq) : "message"));
      }
      return 0;
    }));
  }
  a->detach();
  b->detach();
  const auto exits = reap(pids, after_ms(30000));
  a.release(); // both first: instances sharing an object (a bug) remove it with the last
  b.release();
  const std::string left = a.leftovers() + b.leftovers();
  const char *roles[] = {"sender A", "receiver A", "sender B", "receiver B"};
  std::string sides;
  bool bad = false;
  for (int k = 0; k < 2; ++k) {
    const CrossSide &s = notes->side[k];
    const char name = k == 0 ? 'A' : 'B';
    sides += fmt::format("{}{} {} {} of its own", k == 0 ? "" : ", ", name,
                         reg ? "read" : "received", s.received.load());
    if (s.foreign.load() > 0)
      sides += fmt::format(" and {} of instance {}'s (first: {})", s.foreign.load(),
                           k == 0 ? 'B' : 'A', s.first_bad.get());
    if (s.damaged.load() > 0)
      sides += fmt::format(" and {} damaged (first: {})", s.damaged.load(), s.first_bad.get());
    if (!s.stopped.get().empty())
      sides += " then stopped on " + s.stopped.get();
    bad = bad || s.foreign.load() > 0 || s.damaged.load() > 0 || s.received.load() == 0;
  }
  std::string text = fmt::format("instances A (producer {}) and B (producer {}) side by side, {} "
                                 "messages each: {}",
                                 kProducer[0], kProducer[1], kCrosstalkMessages, sides);
  if (std::string ex = exits_text(exits, roles); !ex.empty()) {
    text += "; " + ex;
    bad = true;
  }
  if (!left.empty()) {
    text += "; " + left;
    bad = true;
  }
  return result(kP, bad ? ProbeResult::fail : ProbeResult::pass, text);
}

// Probe 4: copy semantics

/// The buffers a copy-semantics sender sends from, and what it does to each once send returned.
enum class Source : std::uint8_t { heap, shared, big_heap, shared_small };
constexpr Source kSources[] = {Source::heap, Source::shared, Source::big_heap,
                               Source::shared_small};
constexpr std::uint32_t kCopyProducer = 3003;

const char *describe(Source s) {
  switch (s) {
  case Source::heap:
    return "a heap buffer the sender then overwrote and freed";
  case Source::shared:
    return "a shared-memory buffer the sender then overwrote with another message";
  case Source::big_heap:
    return "a 256 KiB heap block the sender then overwrote and freed (unmapped)";
  case Source::shared_small:
    return "a shared-memory buffer the sender then scribbled over";
  }
  return "";
}

struct CopyNotes {
  Note bad;         ///< first message that did not arrive as sent
  Note sender_side; ///< what changed on the sender's side, if anything
  std::atomic<int> intact{0};
};

ProbeResult copy_semantics(const ChannelEntry &e) {
  constexpr Probe kP = Probe::copy_semantics;
  const std::size_t max = e.claims.max_message;
  if (max < spec::kMinMessageSize)
    return result(kP, ProbeResult::not_applicable,
                  fmt::format("messages of at most {} bytes cannot carry their identity", max));
  // The sender's shared buffer exists before the channel does, like a buffer pool: any
  // process forked afterwards (the receiver too) maps it at the same address.
  const std::size_t shared_bytes = 2 * max + 4096;
  void *pool =
      ::mmap(nullptr, shared_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pool == MAP_FAILED)
    return result(kP, ProbeResult::skipped, "mmap of the shared buffer failed");
  auto *shared_buf = static_cast<std::byte *>(pool);
  SharedBlock<CopyNotes> notes;
  Barrier sent(2), taken(2);
  ProbeResult out;
  {
    Instance inst(e, probe_config());
    if (!inst) {
      ::munmap(pool, shared_bytes);
      return result(kP, ProbeResult::fail, "prepare failed: " + inst.status().describe());
    }
    const pid_t tx = spawn([&]() -> int {
      auto s = inst->connect_sender();
      if (!s)
        return 3;
      inst->detach();
      std::vector<std::byte> expect_mine(max); // what the sender's shared buffer must still hold
      for (std::uint64_t i = 0; i < std::size(kSources); ++i) {
        const Source src = kSources[i];
        const std::size_t len = src == Source::heap           ? std::min<std::size_t>(max, 200)
                                : src == Source::shared_small ? spec::kMinMessageSize
                                                              : max;
        Status st;
        if (src == Source::heap || src == Source::big_heap) {
          // At least 256 KiB, so that malloc maps it and free unmaps it.
          const std::size_t bytes =
              src == Source::big_heap ? std::max(std::size_t{256} << 10, len) : len;
          auto *p = static_cast<std::byte *>(std::malloc(bytes));
          if (p == nullptr)
            return 6;
          spec::encode(kCopyProducer, i, len, std::span(p, bytes));
          st = (*s)->send(std::span<const std::byte>(p, len), after_ms(10000));
          std::memset(p, 0x5a, bytes);
          std::free(p);
        } else {
          std::byte *p = shared_buf + (src == Source::shared ? 0 : max + 64);
          spec::encode(kCopyProducer, i, len, std::span(p, len));
          st = (*s)->send(std::span<const std::byte>(p, len), after_ms(10000));
          if (src == Source::shared)
            spec::encode(kCopyProducer + 1, 1000 + i, len, std::span(p, len));
          else
            std::memset(p, 0xa5, len);
          std::memcpy(expect_mine.data(), p, len);
        }
        if (!st.ok()) {
          notes->bad.set(fmt::format("send of message {} returned {}", i, st.describe()));
          return 4;
        }
        if (!sent.arrive_and_wait(after_ms(10000)))
          return 5;
        if (!taken.arrive_and_wait(after_ms(10000)))
          return 5;
        if (src == Source::shared || src == Source::shared_small) {
          const std::byte *p = shared_buf + (src == Source::shared ? 0 : max + 64);
          if (std::memcmp(p, expect_mine.data(), len) != 0 && notes->sender_side.get().empty())
            notes->sender_side.set(fmt::format(
                "the sender's buffer of message {} changed after the receiver scribbled over its "
                "own",
                i));
        }
      }
      (*s)->close();
      return 0;
    });
    const pid_t rx = spawn([&]() -> int {
      auto r = inst->connect_receiver();
      if (!r)
        return 3;
      inst->detach();
      std::vector<std::byte> buf(max + 1);
      for (std::uint64_t i = 0; i < std::size(kSources); ++i) {
        if (!sent.arrive_and_wait(after_ms(10000)))
          return 5;
        RecvStatus st = (*r)->recv(buf, after_ms(10000));
        if (!st.ok()) {
          notes->bad.set(fmt::format("recv of message {} ({}) returned {}", i,
                                     describe(kSources[i]), st.describe()));
          return 4;
        }
        const spec::MsgCheck c = spec::verify(std::span<const std::byte>(buf).first(st.size),
                                              spec::Expectation{kCopyProducer, i});
        if (c.status == spec::MsgStatus::ok) {
          notes->intact.fetch_add(1);
        } else if (notes->bad.get().empty()) {
          notes->bad.set(fmt::format(
              "message {} sent from {} arrived {}{}: the receiver saw a write made after send "
              "returned",
              i, describe(kSources[i]), spec::to_string(c.status),
              c.id ? fmt::format(" as ({}, {})", c.id->producer, c.id->seq) : ""));
        }
        std::memset(buf.data(), 0xc3, buf.size()); // the receiver's own scribble
        if (!taken.arrive_and_wait(after_ms(10000)))
          return 5;
      }
      return 0;
    });
    inst->detach();
    const auto exits = reap({tx, rx}, after_ms(30000));
    const std::string left = inst.destroy();
    const char *roles[] = {"sender", "receiver"};
    std::string ex = exits_text(exits, roles);
    const int n = static_cast<int>(std::size(kSources));
    if (!notes->bad.get().empty() || !notes->sender_side.get().empty() || !ex.empty() ||
        !left.empty()) {
      std::string text = notes->bad.get();
      for (const std::string &more : {notes->sender_side.get(), ex, left})
        if (!more.empty())
          text += (text.empty() ? "" : "; ") + more;
      out = result(kP, ProbeResult::fail, text);
    } else {
      out = result(kP, notes->intact.load() == n ? ProbeResult::pass : ProbeResult::fail,
                   fmt::format("{} of {} messages arrived exactly as sent although the sender "
                               "overwrote (and freed) each buffer once send returned: heap, "
                               "shared memory, 256 KiB heap, shared memory; the receiver's "
                               "scribbles changed neither later messages nor the sender's buffers",
                               notes->intact.load(), n));
    }
  }
  ::munmap(pool, shared_bytes);
  return out;
}

// Probe 5: nothing else is shared

struct ShareNotes {
  Note role[2];
  std::atomic<int> extra{0};
  std::atomic<int> channel_maps[2] = {0, 0};
};

ProbeResult nothing_else_shared(const ChannelEntry &e) {
  constexpr Probe kP = Probe::nothing_else_shared;
  const std::size_t max = e.claims.max_message;
  // The harness's own shared mappings: everything this process maps before prepare, the result
  // page and the barrier included (a run's recording arena is mapped at the same point).
  SharedBlock<ShareNotes> notes;
  Barrier connected(2), done(2);
  const std::set<std::string> harness = keys_of(shared_maps());
  Instance inst(e, probe_config());
  if (!inst)
    return result(kP, ProbeResult::fail, "prepare failed: " + inst.status().describe());
  // The channel's own: what prepare mapped, and any mapping of its named shm objects.
  std::set<std::string> channel;
  for (const auto &m : shared_maps())
    if (!harness.count(m.key))
      channel.insert(m.key);
  std::set<std::string> channel_paths;
  for (const auto &o : inst.named())
    if (o.kind == "shm")
      channel_paths.insert("/dev/shm" + o.path);
  auto child = [&](int role) -> int {
    const std::set<std::string> baseline = keys_of(shared_maps());
    std::unique_ptr<AnySender> s;
    std::unique_ptr<AnyReceiver> r;
    if (role == 0) {
      auto x = inst->connect_sender();
      if (!x)
        return 3;
      s = std::move(*x);
    } else {
      auto x = inst->connect_receiver();
      if (!x)
        return 3;
      r = std::move(*x);
    }
    inst->detach();
    if (!connected.arrive_and_wait(after_ms(10000)))
      return 5;
    // One message each way of the endpoint's life, so lazily made mappings exist too.
    std::vector<std::byte> buf(std::max<std::size_t>(max, 1) + 1);
    if (s) {
      const std::size_t n = max >= spec::kMinMessageSize
                                ? spec::encode(kCopyProducer, 0, spec::kMinMessageSize, buf)
                                : 0;
      if (!s->send(std::span(buf).first(n), after_ms(10000)).ok())
        return 4;
    } else if (!r->recv(buf, after_ms(10000)).ok()) {
      return 4;
    }
    std::string extra;
    int mine = 0, harness_n = 0;
    for (const auto &m : shared_maps()) {
      if (harness.count(m.key)) {
        ++harness_n;
      } else if (channel.count(m.key) || channel_paths.count(m.path)) {
        ++mine;
      } else {
        extra += fmt::format(
            "{}{} ({}{})", extra.empty() ? "" : ", ", m.path.empty() ? "[anonymous]" : m.path,
            m.writable ? "read-write" : "read-only",
            baseline.count(m.key) ? ", held before connect" : ", mapped by connect");
      }
    }
    notes->channel_maps[role].store(mine);
    const char *who = role == 0 ? "sender" : "receiver";
    if (!extra.empty()) {
      notes->extra.fetch_add(1);
      notes->role[role].set(fmt::format("the {} shares {}, which is neither the channel's region "
                                        "nor the harness's",
                                        who, extra));
    } else {
      notes->role[role].set(
          fmt::format("{}: {} of the harness, {} of the channel", who, harness_n, mine));
    }
    if (!done.arrive_and_wait(after_ms(10000)))
      return 5;
    return 0;
  };
  const pid_t tx = spawn([&] { return child(0); });
  const pid_t rx = spawn([&] { return child(1); });
  inst->detach();
  const auto exits = reap({tx, rx}, after_ms(30000));
  const std::string left = inst.destroy();
  const char *roles[] = {"sender", "receiver"};
  bool bad = notes->extra.load() > 0;
  std::string text = bad ? "" : "shared mappings after connect and one message: ";
  for (int k = 0; k < 2; ++k)
    if (std::string t = notes->role[k].get(); !t.empty())
      text += (text.empty() || text.back() == ' ' ? "" : "; ") + t;
  if (!bad)
    text += "; nothing else";
  if (std::string ex = exits_text(exits, roles); !ex.empty()) {
    text += "; " + ex;
    bad = true;
  }
  if (!left.empty()) {
    text += "; " + left;
    bad = true;
  }
  return result(kP, bad ? ProbeResult::fail : ProbeResult::pass, text);
}

} // namespace

std::string_view to_string(Probe p) noexcept {
  switch (p) {
  case Probe::owner_only:
    return "owner-only";
  case Probe::no_squat:
    return "no-squat";
  case Probe::no_crosstalk:
    return "no-cross-talk";
  case Probe::copy_semantics:
    return "copy-semantics";
  case Probe::nothing_else_shared:
    return "nothing-else-shared";
  }
  return "?";
}

std::string_view to_string(ProbeResult::Kind k) noexcept {
  switch (k) {
  case ProbeResult::pass:
    return "pass";
  case ProbeResult::fail:
    return "fail";
  case ProbeResult::not_applicable:
    return "not applicable";
  case ProbeResult::skipped:
    return "skipped";
  }
  return "?";
}

std::string_view to_string(IsolationVerdict::Kind k) noexcept {
  switch (k) {
  case IsolationVerdict::pass:
    return "pass";
  case IsolationVerdict::fail:
    return "fail";
  case IsolationVerdict::skipped:
    return "skipped";
  }
  return "?";
}

std::string ProbeResult::line() const {
  return fmt::format("{}: {}: {}", to_string(probe), to_string(kind), observed);
}

ProbeResult run_probe(Probe p, const ChannelEntry &e) {
  try {
    switch (p) {
    case Probe::owner_only:
      return owner_only(e);
    case Probe::no_squat:
      return no_squat(e);
    case Probe::no_crosstalk:
      return no_crosstalk(e);
    case Probe::copy_semantics:
      return copy_semantics(e);
    case Probe::nothing_else_shared:
      return nothing_else_shared(e);
    }
  } catch (const std::exception &x) {
    return result(p, ProbeResult::skipped, std::string("the probe could not run: ") + x.what());
  }
  return result(p, ProbeResult::skipped, "unknown probe");
}

IsolationReport probe_isolation(const ChannelEntry &e) {
  IsolationReport r;
  r.channel = e.name;
  for (Probe p : kProbes)
    r.probes.push_back(run_probe(p, e));
  return r;
}

IsolationVerdict summarize(const IsolationReport &r) {
  IsolationVerdict v;
  v.channel = r.channel;
  std::string failed, passed, others;
  for (const auto &p : r.probes) {
    v.probes.push_back(p.line());
    switch (p.kind) {
    case ProbeResult::fail:
      failed += (failed.empty() ? "" : "; ") + p.line();
      break;
    case ProbeResult::pass:
      passed += (passed.empty() ? "" : ", ") + std::string(to_string(p.probe));
      break;
    default:
      others += (others.empty() ? "" : "; ") + p.line();
      break;
    }
  }
  if (!failed.empty()) {
    v.kind = IsolationVerdict::fail;
    v.explanation = failed;
  } else if (passed.empty()) {
    v.kind = IsolationVerdict::skipped;
    v.explanation = others.empty() ? "no probe ran" : others;
  } else {
    v.kind = IsolationVerdict::pass;
    v.explanation = "passed: " + passed + (others.empty() ? "" : "; " + others);
  }
  return v;
}

IsolationVerdict isolation_verdict(const ChannelEntry &e) { return summarize(probe_isolation(e)); }

} // namespace ipcv::harness
