// Helpers for the shm channel tests: self-checking messages, the fixture that checks after
// every test that no /dev/shm entry of this process and no child process remains, and a view of
// a region's shared layout. Forking, reaping and the start barrier are the harness's
// (harness/process.hpp).
#pragma once

#include "harness/process.hpp"
#include "impl/shm/mpmc.hpp"
#include "impl/shm/register.hpp"
#include "impl/shm/spsc.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace ipcv::shm::testing {

/// Bytes 8k to 8k+7 of the payload of message `seq` of `producer` (little-endian): any change
/// shows. A word at a time, not a byte: max-size messages are half a GiB per test, and a hash
/// per byte made the ASan build's test (at -O0) take 27 s.
inline std::uint64_t word_at(std::uint32_t producer, std::uint64_t seq, std::size_t k) {
  std::uint64_t x = (producer + 1) * 0x9E3779B97F4A7C15ull ^ (seq + 1) * 0xBF58476D1CE4E5B9ull;
  x += (k + 1) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  x *= 0xD6E8FEB86659FD93ull;
  return x ^ (x >> 32);
}

/// Calls `each(offset, bytes, n)` for the payload of message (producer, seq) from byte `from` to
/// `size`, in pieces of up to 8 bytes that follow the words of word_at.
template <typename F>
void for_payload(std::uint32_t producer, std::uint64_t seq, std::size_t from, std::size_t size,
                 F each) {
  for (std::size_t i = from; i < size;) {
    const std::uint64_t w = word_at(producer, seq, i / 8);
    const std::size_t off = i % 8, n = std::min<std::size_t>(8 - off, size - i);
    if (!each(i, reinterpret_cast<const std::byte *>(&w) + off, n))
      return;
    i += n;
  }
}

/// The length of message `seq`: sweeps [lo, hi], with hi every 7th and lo every 11th message.
inline std::size_t size_for(std::uint64_t seq, std::size_t lo, std::size_t hi) {
  if (seq % 7 == 3)
    return hi;
  if (seq % 11 == 5)
    return lo;
  return lo + static_cast<std::size_t>((seq * 2654435761u) % (hi - lo + 1));
}

inline constexpr std::size_t kIdBytes = 12; // producer (4) + seq (8)

/// Writes message (producer, seq) of `len` bytes: its id first when it fits, then the payload.
inline void fill(std::span<std::byte> out, std::uint32_t producer, std::uint64_t seq) {
  std::size_t i = 0;
  if (out.size() >= kIdBytes) {
    std::memcpy(out.data(), &producer, 4);
    std::memcpy(out.data() + 4, &seq, 8);
    i = kIdBytes;
  }
  for_payload(producer, seq, i, out.size(),
              [&](std::size_t at, const std::byte *bytes, std::size_t n) {
                std::memcpy(out.data() + at, bytes, n);
                return true;
              });
}

/// The id of a message of at least kIdBytes bytes.
inline std::pair<std::uint32_t, std::uint64_t> id_of(std::span<const std::byte> m) {
  std::uint32_t p = 0;
  std::uint64_t s = 0;
  std::memcpy(&p, m.data(), 4);
  std::memcpy(&s, m.data() + 4, 8);
  return {p, s};
}

/// True when `m` is exactly message (producer, seq).
inline bool intact(std::span<const std::byte> m, std::uint32_t producer, std::uint64_t seq) {
  std::size_t i = 0;
  if (m.size() >= kIdBytes) {
    if (id_of(m) != std::pair{producer, seq})
      return false;
    i = kIdBytes;
  }
  bool same = true;
  for_payload(producer, seq, i, m.size(),
              [&](std::size_t at, const std::byte *bytes, std::size_t n) {
                return same = std::memcmp(m.data() + at, bytes, n) == 0;
              });
  return same;
}

using harness::SharedBlock; // memory shared with forked children

/// Entries of /dev/shm made by this process's channels ("ipcv-shm-<pid>-...").
inline std::vector<std::string> own_shm_entries() {
  std::vector<std::string> out;
  const std::string prefix = "ipcv-shm-" + std::to_string(::getpid()) + "-";
  if (DIR *d = ::opendir("/dev/shm")) {
    while (dirent *e = ::readdir(d))
      if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0)
        out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

/// ShmTest checks after each test that no named region and no child process is left over.
class ShmTest : public ::testing::Test {
protected:
  void TearDown() override {
    EXPECT_TRUE(own_shm_entries().empty()) << "a /dev/shm entry outlived its test";
    errno = 0;
    const pid_t left = ::waitpid(-1, nullptr, WNOHANG);
    EXPECT_TRUE(left == -1 && errno == ECHILD) << "a child process outlived its test";
  }
};

/// The parent's view of a prepared region's shared layout (through the Address's mapping).
template <class Layout> Layout *layout(const RegionAddress &r) {
  return std::launder(reinterpret_cast<Layout *>(r.base));
}

inline std::span<const std::byte> bytes(const std::vector<std::uint8_t> &v) {
  return std::as_bytes(std::span(v));
}

} // namespace ipcv::shm::testing
