// Names of OS objects, in the form every channel of ipcverify uses and `ipcverify clean`
// recognises, carried in a type that may sit in a channel's Address (which crosses fork by
// copy, so it must be trivially copyable: no std::string, whose text would stay in the
// parent's heap).
//
//   struct Address { ipcv::ObjectName queue; ... };
//   auto name = ipcv::object_name("/", "mylib", cfg.name);   // "/ipcv-mylib-1234-9f3c..."
//   if (!name) return name.status();
//   a.queue = *name;
//   ... mq_open(a.queue.c_str(), O_CREAT | O_EXCL, 0600, ...) ...
#pragma once

#include "channel.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <sys/random.h>
#include <type_traits>
#include <unistd.h>

namespace ipcv {

/// An ObjectName is a NUL-terminated name in a fixed array: a POSIX object name ("/x"), a
/// socket path or a library's endpoint text ("ipc:///tmp/x" holds the path after its scheme).
/// Its capacity is a Unix socket path's (sockaddr_un::sun_path), the shortest of the limits.
struct ObjectName {
  static constexpr std::size_t kCapacity = 108;
  char text[kCapacity] = {};

  const char *c_str() const noexcept { return text; }
  std::string_view view() const noexcept { return text; }
  bool empty() const noexcept { return text[0] == '\0'; }
  /// Copies `s`; false (and nothing copied) when it does not fit with its terminating NUL.
  bool assign(std::string_view s) noexcept {
    if (s.size() >= kCapacity)
      return false;
    std::memcpy(text, s.data(), s.size());
    text[s.size()] = '\0';
    return true;
  }
};
static_assert(std::is_trivially_copyable_v<ObjectName>);

/// The name of a new object of `kind` made by this process: `<dir>ipcv-<kind>-<pid>-<16 hex
/// digits>` (64 random bits from getrandom, so nobody can plant the name in advance), e.g.
/// object_name("/", "mq") is "/ipcv-mq-1234-9f3c0d5e6a7b8c9d" and object_name("/tmp/", "sock")
/// a socket path. `ipcverify clean` removes exactly such names once their creator pid is gone,
/// the only cleanup a run killed by SIGKILL gets. When `requested` (Config::name) is not
/// empty it is the name, as the no-squat isolation probe expects. Errors: ENAMETOOLONG, or
/// getrandom's errno.
inline Expected<ObjectName> object_name(std::string_view dir, std::string_view kind,
                                        std::string_view requested = {}) noexcept {
  ObjectName n;
  if (!requested.empty()) {
    if (!n.assign(requested))
      return Status{Result::error, ENAMETOOLONG, "object_name: the requested name is too long"};
    return n;
  }
  unsigned long long r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
    return Status::from_errno("getrandom");
  const int len = std::snprintf(
      n.text, sizeof n.text, "%.*sipcv-%.*s-%d-%016llx", static_cast<int>(dir.size()), dir.data(),
      static_cast<int>(kind.size()), kind.data(), static_cast<int>(::getpid()), r);
  if (len < 0 || static_cast<std::size_t>(len) >= sizeof n.text)
    return Status{Result::error, ENAMETOOLONG, "object_name: the name is too long"};
  return n;
}

} // namespace ipcv
