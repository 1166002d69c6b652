// Implementation of hygiene checks (hygiene.hpp).
#include "hygiene.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>

namespace ipcv::harness {
namespace {
void list_into(const char *dir, std::set<std::string> &out) {
  DIR *d = ::opendir(dir);
  if (d == nullptr)
    return;
  while (dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      out.insert(std::string(dir) + "/" + n);
  }
  ::closedir(d);
}
} // namespace

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

Snapshot Snapshot::take() {
  Snapshot s;
  list_into("/dev/shm", s.entries);
  list_into("/dev/mqueue", s.entries);
  return s;
}

std::string Snapshot::leftovers(const Snapshot &after) const {
  std::string out;
  for (const auto &e : after.entries)
    if (!entries.count(e))
      out += e + "\n";
  return out;
}

} // namespace ipcv::harness
