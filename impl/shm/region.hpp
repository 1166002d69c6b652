// The shared-memory region under every shm channel: created in the parent, mapped by each
// endpoint, holding only offsets and counters (never a pointer), and treated as untrusted.
//
// Two kinds. `memfd` (the default): an anonymous memfd_create(2) file with no name anywhere,
// its size sealed with F_SEAL_GROW | F_SEAL_SHRINK (so no peer can truncate it under a reader
// and raise SIGBUS), inherited by children across fork; endpoints map it by the inherited fd.
// `named`: a POSIX shm object "/ipcv-shm-<pid>-<16 hex>" created O_CREAT | O_EXCL with mode
// 0600 (a second creator of the same name gets EEXIST), for processes that are not related by
// fork; endpoints map it by name and destroy() unlinks it. A named object cannot be sealed: a
// peer with write access could shrink it, which is why its mode is 0600.
//
// An endpoint connects through the mapping prepare() made when this process still holds it
// (the preparing process and its forked children, at the same address; holders are counted,
// so detach() unmaps only once the last endpoint closed), and otherwise maps the region anew
// by fd or by name. Every mapping is followed by one PROT_NONE guard page, so an index that
// escaped validation faults at once instead of reading the neighbouring mapping.
#pragma once

#include "ipcverify/channel.hpp"
#include "ipcverify/names.hpp"

#include <atomic>
#include <cstdint>

namespace ipcv::shm {

/// A RegionKind says how a region is reached: by an inherited fd or by a name.
enum class RegionKind : std::uint8_t { memfd, named };

/// A RegionAddress is what the parent hands to children: trivially copyable, no ownership.
struct RegionAddress {
  RegionKind kind = RegionKind::memfd;
  int fd = -1;            ///< the memfd (memfd kind), inherited across fork; -1 for named
  void *base = nullptr;   ///< the parent's mapping, made before fork (same address in children)
  std::uint64_t size = 0; ///< bytes, fixed at creation (sealed for memfd)
  ObjectName name;        ///< "/ipcv-shm-<pid>-<16 hex>" for named, empty for memfd
};

/// The first bytes of every region; `magic` is written last in prepare, so a connecting
/// endpoint that sees it also sees the initialised layout.
struct RegionHeader {
  std::atomic<std::uint32_t> magic{0};
  std::uint32_t layout = 0; ///< which channel layout follows (kSpscLayout, ...)
  std::uint64_t size = 0;
};

inline constexpr std::uint32_t kMagic = 0x69707376; // "ipsv"
inline constexpr std::size_t kCacheLine = 64;

/// Rounds `n` up to a multiple of `a` (a power of two).
constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t a) {
  return (n + a - 1) & ~(a - 1);
}

/// Creates a zero-filled region of `size` bytes of the given kind and maps it (the parent's
/// mapping, `base`). For `named` with `name == nullptr` a random name is chosen.
Expected<RegionAddress> create_region(RegionKind kind, std::uint64_t size,
                                      const char *name = nullptr);

/// A Mapping is one endpoint's hold on a mapping of a region (plus its guard page); move-only.
class Mapping {
public:
  Mapping() = default;
  Mapping(std::byte *base, std::uint64_t size) noexcept : base_(base), size_(size) {}
  Mapping(Mapping &&o) noexcept;
  Mapping &operator=(Mapping &&o) noexcept;
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  ~Mapping() { reset(); }

  std::byte *base() const noexcept { return base_; }
  std::uint64_t size() const noexcept { return size_; }
  explicit operator bool() const noexcept { return base_ != nullptr; }
  void reset() noexcept;

private:
  std::byte *base_ = nullptr;
  std::uint64_t size_ = 0;
};

/// Gives one endpoint a hold on the region: the prepared mapping when this process holds it,
/// else a new mapping by fd or by name after checking its size (and for memfd its seals);
/// then checks that the header carries `layout`. Works in the parent, in threads, in forked
/// children, and (named kind) in unrelated processes.
Expected<Mapping> map_region(const RegionAddress &a, std::uint32_t layout);

/// Drops this process's copies: closes the fd and releases the prepared mapping (unmapped
/// once no endpoint of this process holds it). A second call does nothing harmful.
void detach_region(const RegionAddress &a) noexcept;

/// Removes the region's name (named kind); the memory goes when the last mapping does.
void destroy_region(const RegionAddress &a) noexcept;

/// The named objects of a region: one "shm" entry for named, none for memfd.
std::vector<NamedObject> region_objects(const RegionAddress &a);

/// Publishes an initialised region whose layout (starting with a RegionHeader) was constructed
/// at `base`: writes `layout`, `size`, then the magic (release).
void publish_header(std::byte *base, std::uint32_t layout, std::uint64_t size) noexcept;

} // namespace ipcv::shm
