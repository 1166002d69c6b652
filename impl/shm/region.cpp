// Implementation of the shared-memory region (see region.hpp for the two kinds and the guard).
#include "region.hpp"

#include "../os.hpp"
#include "annotate.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace ipcv::shm {
namespace {

constexpr std::uint64_t kGuard = 4096;

/// The mappings this process holds, with how many holders each (the Address's copy and each
/// endpoint). Inherited across fork like the mappings themselves, so a forked child or a
/// thread connects through the very mapping prepare() made, at the same address: then
/// ThreadSanitizer sees every endpoint's accesses at one address and can pair them.
struct Held {
  std::byte *base;
  std::uint64_t size;
  unsigned holders;
};
std::mutex held_mu;
std::vector<Held> held;

void hold_new(std::byte *base, std::uint64_t size) {
  std::lock_guard lock(held_mu);
  held.push_back({base, size, 1});
}

/// One more holder of the mapping at `base`, if this process has it; false otherwise.
bool hold_again(const void *base, std::uint64_t size) {
  std::lock_guard lock(held_mu);
  for (Held &h : held)
    if (h.base == base && h.size == size) {
      ++h.holders;
      return true;
    }
  return false;
}

/// One holder less; unmaps (with the guard page) when it was the last. Unknown bases (a second
/// detach, an address from another process) are ignored.
void release(const void *base) noexcept {
  std::lock_guard lock(held_mu);
  for (auto it = held.begin(); it != held.end(); ++it)
    if (it->base == base) {
      if (--it->holders == 0) {
        ::munmap(it->base, it->size + kGuard);
        held.erase(it);
      }
      return;
    }
}

/// Maps `size` bytes of `fd` MAP_SHARED followed by one PROT_NONE guard page.
std::byte *map_with_guard(int fd, std::uint64_t size) {
  void *all = ::mmap(nullptr, size + kGuard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (all == MAP_FAILED)
    return nullptr;
  void *p = ::mmap(all, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    int saved = errno;
    ::munmap(all, size + kGuard);
    errno = saved;
    return nullptr;
  }
  return static_cast<std::byte *>(p);
}

Status check_size(int fd, std::uint64_t size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Status::from_errno("fstat region");
  if (static_cast<std::uint64_t>(st.st_size) != size)
    return {Result::error, EPROTO, "region size differs from the address"};
  return {};
}

} // namespace

Expected<RegionAddress> create_region(RegionKind kind, std::uint64_t size, const char *name) {
  RegionAddress a;
  a.kind = kind;
  a.size = size;
  int fd = -1;
  if (kind == RegionKind::memfd) {
    fd = ::memfd_create("ipcv-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
      return Status::from_errno("memfd_create");
  } else {
    auto n = object_name("/", "shm", name != nullptr ? name : "");
    if (!n)
      return n.status();
    a.name = *n;
    fd = ::shm_open(a.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return Status::from_errno("shm_open(O_CREAT|O_EXCL)");
  }
  auto fail = [&](const char *what) -> Status {
    Status s = Status::from_errno(what);
    os::close_fd(fd);
    if (kind == RegionKind::named)
      ::shm_unlink(a.name.c_str());
    return s;
  };
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
    return fail("ftruncate region");
  if (kind == RegionKind::memfd &&
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
    return fail("F_ADD_SEALS");
  std::byte *base = map_with_guard(fd, size);
  if (base == nullptr)
    return fail("mmap region");
  a.base = base;
  hold_new(base, size);
  if (kind == RegionKind::memfd) {
    a.fd = fd;
  } else {
    os::close_fd(fd); // endpoints reopen by name
  }
  return a;
}

Mapping::Mapping(Mapping &&o) noexcept
    : base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)) {}

Mapping &Mapping::operator=(Mapping &&o) noexcept {
  if (this != &o) {
    reset();
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void Mapping::reset() noexcept {
  if (base_ != nullptr)
    release(base_);
  base_ = nullptr;
  size_ = 0;
}

namespace {

Status check_header(const std::byte *base, const RegionAddress &a, std::uint32_t layout) {
  auto *h = std::launder(reinterpret_cast<const RegionHeader *>(base));
  // SYNC POINT READ: region layout
  // Without acquire an endpoint could see the magic yet read counters from before prepare.
  const std::uint32_t magic = h->magic.load(std::memory_order_acquire);
  IPCV_HAPPENS_AFTER(&h->magic);
  if (magic != kMagic)
    return {Result::error, EPROTO, "region header: bad magic"};
  if (h->layout != layout)
    return {Result::error, EPROTO, "region header: wrong layout"};
  if (h->size != a.size)
    return {Result::error, EPROTO, "region header: wrong size"};
  return {};
}

} // namespace

Expected<Mapping> map_region(const RegionAddress &a, std::uint32_t layout) {
  if (a.base != nullptr && hold_again(a.base, a.size)) {
    // The mapping prepare() made, still held here (same process, or a forked child).
    Mapping m(static_cast<std::byte *>(a.base), a.size);
    Status s = check_header(m.base(), a, layout);
    if (!s.ok())
      return s;
    return m;
  }
  int fd = -1;
  bool owned = false;
  if (a.kind == RegionKind::memfd) {
    if (a.fd < 0)
      return Status{Result::error, EBADF, "memfd region already detached"};
    fd = a.fd;
    int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals < 0)
      return Status::from_errno("F_GET_SEALS");
    if ((seals & (F_SEAL_GROW | F_SEAL_SHRINK)) != (F_SEAL_GROW | F_SEAL_SHRINK))
      return Status{Result::error, EPERM, "region size is not sealed"};
  } else {
    fd = ::shm_open(a.name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
      return Status::from_errno("shm_open region");
    owned = true;
  }
  Status s = check_size(fd, a.size);
  std::byte *base = s.ok() ? map_with_guard(fd, a.size) : nullptr;
  if (s.ok() && base == nullptr)
    s = Status::from_errno("mmap region");
  if (owned)
    os::close_fd(fd);
  if (!s.ok())
    return s;
  hold_new(base, a.size);
  Mapping m(base, a.size);
  s = check_header(base, a, layout);
  if (!s.ok())
    return s;
  return m;
}

void detach_region(const RegionAddress &a) noexcept {
  if (a.base != nullptr)
    release(a.base);
  os::close_fd(a.fd);
}

void destroy_region(const RegionAddress &a) noexcept {
  if (a.kind == RegionKind::named && !a.name.empty())
    ::shm_unlink(a.name.c_str());
}

std::vector<NamedObject> region_objects(const RegionAddress &a) {
  if (a.kind != RegionKind::named)
    return {};
  return {NamedObject{"shm", a.name.c_str()}};
}

void publish_header(std::byte *base, std::uint32_t layout, std::uint64_t size) noexcept {
  auto *h = std::launder(reinterpret_cast<RegionHeader *>(base));
  h->layout = layout;
  h->size = size;
  // SYNC POINT WRITE: region layout
  // Without release a child could connect, see the magic, and read uninitialised counters.
  IPCV_HAPPENS_BEFORE(&h->magic);
  h->magic.store(kMagic, std::memory_order_release);
}

} // namespace ipcv::shm
