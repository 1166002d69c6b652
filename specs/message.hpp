// Self-describing test messages: a header naming the message (producer, seq, length) and a
// payload derived deterministically from that identity, so a receiver verifies one message alone
// and tells an intact message from a torn, truncated, corrupted or misdelivered one.
//
// Layout (host byte order: messages never leave the machine), by total length L:
//   L == 0        identity-less: the legal empty message carries nothing. Receivers count them
//                 separately (a history records them as events without "msg").
//   L in 1..15    never produced by encode(); receiving one means a longer message was cut.
//   L in 16..23   compact form: producer u32 | lenword u32 | seq u64 | payload (L - 16 bytes),
//                 lenword = L | check24 << 8, check24 a 24-bit check of (producer, seq, L).
//   L >= 24       full form: producer u32 | length u32 | seq u64 | digest u64 | payload,
//                 digest = XXH3-64 of the payload, seeded by a key of (producer, seq, L).
// The payload is a counter-mode stream keyed by (producer, seq, L): 8-byte word i holds a 32-bit
// fingerprint of the message next to a 32-bit hash of (fingerprint, i), so every whole word says
// which message it belongs to. A message whose words are all valid but some belong to another
// message is torn; a word that belongs to no message makes it corrupted.
#pragma once

#include "history.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ipcv::spec {

/// The smallest message that carries its identity (the compact header).
inline constexpr std::size_t kMinMessageSize = 16;
/// The size of the full header; messages this long and longer carry a 64-bit digest.
inline constexpr std::size_t kFullHeaderSize = 24;

/// A MsgStatus is what a receiver learns by verifying one message.
enum class MsgStatus : std::uint8_t {
  ok,          ///< exactly what its producer sent (and, if given, the expected identity)
  torn,        ///< made of parts of two or more messages
  truncated,   ///< shorter than its header says (a prefix of a valid message)
  corrupted,   ///< bytes that belong to no message, or a length that does not add up
  misdelivered ///< a valid message, but not one this receiver should see
};

/// The canonical spelling of a MsgStatus ("ok", "torn", ...).
std::string_view to_string(MsgStatus s) noexcept;

/// An Expectation is what a receiver knows about the next message it should get: always its
/// producer, and its seq when the receiver knows the exact order.
struct Expectation {
  std::uint32_t producer = 0;
  std::optional<std::uint64_t> seq;
};

/// A MsgCheck is the result of verify(): a status and the identity the message claims. `id` is
/// empty for the identity-less empty message and for fragments shorter than kMinMessageSize;
/// when status != ok it is what the (possibly damaged) header says.
struct MsgCheck {
  MsgStatus status = MsgStatus::ok;
  std::optional<MsgId> id;
  friend bool operator==(const MsgCheck &, const MsgCheck &) = default;
};

/// Writes the message (producer, seq) of `total_len` bytes into the front of `out` and returns
/// `total_len`. Precondition: total_len == 0 or total_len >= kMinMessageSize, and
/// out.size() >= total_len. A zero-length message is identity-less and writes nothing.
std::size_t encode(std::uint32_t producer, std::uint64_t seq, std::size_t total_len,
                   std::span<std::byte> out) noexcept;

/// Verifies one received message alone; with `expected`, a valid message of another identity
/// is reported as misdelivered. The empty message verifies as ok without identity.
MsgCheck verify(std::span<const std::byte> msg,
                std::optional<Expectation> expected = std::nullopt) noexcept;

} // namespace ipcv::spec
