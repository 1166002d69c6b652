// The `no-squat` probe: names of fresh instances must be unpredictable, and prepare must refuse
// a name that a squatter (another user where possible) created first, leaving the squatter's
// object untouched.
#include "isolation_internal.hpp"

#include <cstdio>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace ipcv::harness::isolation_detail {
namespace {

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

} // namespace

ProbeResult no_squat(const ChannelEntry &e) {
  constexpr Probe kP = Probe::no_squat;
  // Unpredictability: the first named object of several instances, prepared one after another.
  std::vector<std::string> names;
  NamedObject sample;
  {
    const Before before;
    for (int i = 0; i < kNameSamples; ++i) {
      Instance inst(e, probe_config());
      if (!inst)
        return result(kP, Outcome::fail, "prepare failed: " + inst.status().describe());
      if (auto na = unnamed(kP, inst, before, "no name to guess or squat"))
        return *na;
      sample = inst.named()[0];
      names.push_back(sample.path);
      if (std::string left = inst.destroy(); !left.empty())
        return result(kP, Outcome::fail, left);
    }
  }
  std::string naming;
  {
    std::set<std::string> distinct(names.begin(), names.end());
    const int bits = varying_bits(names);
    if (distinct.size() != names.size())
      return result(kP, Outcome::fail,
                    fmt::format("{} prepares gave only {} distinct names (e.g. {} twice): a name "
                                "can be known before it is created",
                                names.size(), distinct.size(), names[0]));
    if (bits >= 0 && bits < kMinNameBits)
      return result(kP, Outcome::fail,
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
      return result(kP, Outcome::skip,
                    fmt::format("{}; could not squat as uid {}: {}", naming, id.uid,
                                why->get().empty() ? exits[0].describe() : why->get()));
    }
  } else if (std::string w = create_squatter(squat); !w.empty()) {
    remove_object(squat);
    return result(kP, Outcome::skip, naming + "; could not create a squatter: " + w);
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
        out = result(kP, Outcome::fail,
                     fmt::format("prepare refused the squatted name {} ({}) but changed the "
                                 "squatter's {}: before {}, after {}",
                                 squat.path, inst.status().describe(), squat.kind,
                                 before.describe(), after.describe()));
      else
        out =
            result(kP, Outcome::pass,
                   fmt::format("{}; prepare refused {} {} created first by {} with mode 0666: "
                               "{}; the squatter's object is untouched",
                               naming, squat.kind, squat.path, squatter, inst.status().describe()));
    } else {
      bool used = false;
      for (const auto &o : inst.named())
        used = used || o.path == squat.path;
      const Fingerprint after = fingerprint(squat);
      if (used)
        out = result(kP, Outcome::fail,
                     fmt::format("prepare accepted the squatted name {} (created first by {} with "
                                 "mode 0666) and joined the squatter's {} instead of refusing it "
                                 "(before: {}; after: {})",
                                 squat.path, squatter, squat.kind, before.describe(),
                                 after.describe()));
      else
        out = result(kP, Outcome::pass,
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

} // namespace ipcv::harness::isolation_detail
