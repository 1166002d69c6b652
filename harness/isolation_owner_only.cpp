// The `owner-only` probe: a child that dropped to `nobody` tries every named object of a fresh
// instance (open, map, read, write, connect); any success is a breach.
#include "isolation_internal.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace ipcv::harness::isolation_detail {
namespace {

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

} // namespace

ProbeResult owner_only(const ChannelEntry &e) {
  constexpr Probe kP = Probe::owner_only;
  const Before before;
  Instance inst(e, probe_config());
  if (!inst)
    return result(kP, Outcome::fail, "prepare failed: " + inst.status().describe());
  if (auto na = unnamed(kP, inst, before, "no name to try"))
    return *na;
  if (::geteuid() != 0)
    return result(kP, Outcome::skip,
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
          kP, Outcome::fail,
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
  const char *roles[] = {"probe child"};
  const auto exits = reap_channel_children({child}, roles, 1);
  const std::string left = inst.destroy();
  if (exits[0].exited && exits[0].code == 2)
    return result(kP, Outcome::skip,
                  "could not drop to uid " + std::to_string(id.uid) + ": " + notes->drop.get());
  if (!exits[0].clean())
    return result(kP, Outcome::fail, "the probe child ended badly: " + exits_text(exits, roles));
  std::string text;
  for (int i = 0; i < notes->objects.load(); ++i)
    text += (text.empty() ? "" : "; ") + notes->per_object[i].get();
  if (objects.size() < inst.named().size())
    text += fmt::format("; only the first {} of {} named objects were tried", objects.size(),
                        inst.named().size());
  if (!left.empty())
    return result(kP, Outcome::fail, text + "; " + left);
  const bool bad = notes->breached.load() > 0 || notes->inconclusive.load() > 0;
  return result(kP, bad ? Outcome::fail : Outcome::pass, text);
}

} // namespace ipcv::harness::isolation_detail
