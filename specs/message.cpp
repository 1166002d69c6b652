// Encoding and verification of self-describing test messages (layout in message.hpp).
#include "message.hpp"

#include <xxhash.h>

#include <cassert>
#include <cstring>

namespace ipcv::spec {
namespace {

template <class T> T load(const std::byte *p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T> void store(std::byte *p, T v) noexcept { std::memcpy(p, &v, sizeof v); }

constexpr std::uint64_t mix64(std::uint64_t x) noexcept { // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// The key of a message: every derived byte of it depends on (producer, seq, total length).
std::uint64_t key_of(std::uint32_t producer, std::uint64_t seq, std::size_t len) noexcept {
  const std::uint64_t parts[2] = {seq, (std::uint64_t{producer} << 32) | (len & 0xffffffffU)};
  return XXH3_64bits(parts, sizeof parts);
}
constexpr std::uint32_t fingerprint(std::uint64_t key) noexcept {
  return static_cast<std::uint32_t>(key);
}
constexpr std::uint32_t check24(std::uint64_t key) noexcept {
  return static_cast<std::uint32_t>(key >> 40) & 0xffffffU;
}
/// Word i of the payload of the message with fingerprint fp: the fingerprint in the low half,
/// a hash of (fp, i) in the high half.
constexpr std::uint64_t word(std::uint32_t fp, std::uint64_t i) noexcept {
  const auto h = static_cast<std::uint32_t>(mix64((std::uint64_t{fp} << 32) ^ i) >> 32);
  return std::uint64_t{fp} | (std::uint64_t{h} << 32);
}
constexpr bool valid_word(std::uint64_t w, std::uint64_t i) noexcept {
  return word(static_cast<std::uint32_t>(w), i) == w;
}

void fill_payload(std::uint32_t fp, std::byte *p, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; (i + 1) * 8 <= n; ++i)
    store(p + i * 8, word(fp, i));
  if (const std::size_t tail = n - i * 8; tail != 0) {
    const std::uint64_t w = word(fp, i);
    std::memcpy(p + i * 8, &w, tail);
  }
}

/// What the words of a payload say about where they came from.
struct Scan {
  bool all_own = true;  ///< every byte is what this message's key derives
  bool foreign = false; ///< some whole words are valid words of another message
  bool invalid = false; ///< some bytes belong to no message (beyond one seam per tear)
};

/// Scans payload bytes against the message with fingerprint `own`. A single unrecognisable word
/// between runs of different messages is the seam of a tear, not corruption.
Scan scan_payload(std::uint32_t own, const std::byte *p, std::size_t n) noexcept {
  Scan s;
  std::uint32_t prev = own;
  bool seam = false;
  std::size_t i = 0;
  for (; (i + 1) * 8 <= n; ++i) {
    const auto w = load<std::uint64_t>(p + i * 8);
    if (!valid_word(w, i)) {
      s.all_own = false;
      if (seam)
        s.invalid = true;
      seam = true;
      continue;
    }
    const auto fp = static_cast<std::uint32_t>(w);
    if (fp != own) {
      s.all_own = false;
      s.foreign = true;
    }
    if (seam && fp == prev)
      s.invalid = true; // a bad word inside one message's run
    seam = false;
    prev = fp;
  }
  if (const std::size_t tail = n - i * 8; tail != 0) {
    const std::uint64_t w = word(own, i);
    if (std::memcmp(p + i * 8, &w, tail) != 0) {
      s.all_own = false;
      if (prev == own || seam)
        s.invalid = true; // a tail from another message ends a foreign run
    }
  } else if (seam) {
    s.invalid = true;
  }
  return s;
}

MsgStatus judge(const Scan &s) noexcept {
  if (s.invalid)
    return MsgStatus::corrupted;
  if (s.foreign)
    return MsgStatus::torn;
  return MsgStatus::corrupted; // own payload, damaged header field
}

MsgStatus classify(std::span<const std::byte> m) noexcept {
  const std::size_t n = m.size();
  const auto producer = load<std::uint32_t>(m.data());
  const auto lenword = load<std::uint32_t>(m.data() + 4);
  const auto seq = load<std::uint64_t>(m.data() + 8);
  if (n < kFullHeaderSize) {
    const std::size_t len = lenword & 0xffU;
    const bool compact = len >= kMinMessageSize && len < kFullHeaderSize &&
                         (lenword >> 8) == check24(key_of(producer, seq, len));
    if (!compact)
      return lenword >= kFullHeaderSize ? MsgStatus::truncated : MsgStatus::corrupted;
    const Scan s = scan_payload(fingerprint(key_of(producer, seq, len)), m.data() + 16, n - 16);
    if (!s.all_own || len < n)
      return MsgStatus::corrupted;
    return len > n ? MsgStatus::truncated : MsgStatus::ok;
  }
  const std::size_t len = lenword;
  if (len < kFullHeaderSize || len < n)
    return MsgStatus::corrupted;
  const std::uint64_t key = key_of(producer, seq, len);
  const std::byte *payload = m.data() + kFullHeaderSize;
  if (len == n &&
      XXH3_64bits_withSeed(payload, n - kFullHeaderSize, key) == load<std::uint64_t>(m.data() + 16))
    return MsgStatus::ok;
  const Scan s = scan_payload(fingerprint(key), payload, n - kFullHeaderSize);
  if (len > n && s.all_own)
    return MsgStatus::truncated;
  return judge(s);
}

} // namespace

std::string_view to_string(MsgStatus s) noexcept {
  switch (s) {
  case MsgStatus::ok:
    return "ok";
  case MsgStatus::torn:
    return "torn";
  case MsgStatus::truncated:
    return "truncated";
  case MsgStatus::corrupted:
    return "corrupted";
  case MsgStatus::misdelivered:
    return "misdelivered";
  }
  return "?";
}

std::size_t encode(std::uint32_t producer, std::uint64_t seq, std::size_t total_len,
                   std::span<std::byte> out) noexcept {
  assert((total_len == 0 || total_len >= kMinMessageSize) &&
         "a message is empty or at least kMinMessageSize bytes long");
  assert(out.size() >= total_len && "the output buffer must hold the whole message");
  assert(total_len <= 0xffffffffU && "the length must fit the header's u32");
  if (total_len == 0)
    return 0;
  std::byte *p = out.data();
  const std::uint64_t key = key_of(producer, seq, total_len);
  store(p, producer);
  store(p + 8, seq);
  if (total_len < kFullHeaderSize) {
    store(p + 4, static_cast<std::uint32_t>(total_len | (std::size_t{check24(key)} << 8)));
    fill_payload(fingerprint(key), p + 16, total_len - 16);
    return total_len;
  }
  store(p + 4, static_cast<std::uint32_t>(total_len));
  fill_payload(fingerprint(key), p + kFullHeaderSize, total_len - kFullHeaderSize);
  store(p + 16, XXH3_64bits_withSeed(p + kFullHeaderSize, total_len - kFullHeaderSize, key));
  return total_len;
}

MsgCheck verify(std::span<const std::byte> msg, std::optional<Expectation> expected) noexcept {
  if (msg.empty())
    return {MsgStatus::ok, std::nullopt};
  if (msg.size() < kMinMessageSize)
    return {MsgStatus::truncated, std::nullopt};
  const MsgId id{load<std::uint32_t>(msg.data()), load<std::uint64_t>(msg.data() + 8)};
  MsgStatus st = classify(msg);
  if (st == MsgStatus::ok && expected &&
      (id.producer != expected->producer || (expected->seq && id.seq != *expected->seq)))
    st = MsgStatus::misdelivered;
  return {st, id};
}

} // namespace ipcv::spec
