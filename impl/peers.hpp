// The peer table of a channel: which endpoints connected, which closed, and the pid of each,
// so a survivor can tell "every sender closed" (eof) from "a peer died" (peer_gone). Every
// channel that must notice a dead peer itself uses this one implementation: the shm channels
// keep it in their region, `mqueue` in a control block mapped before fork.
//
// It lives in shared memory and is untrusted: counts are clamped to kMaxEndpoints, and a
// garbage pid only makes a survivor wait until its deadline. Liveness is os::process_alive
// (a zombie counts as dead, so a killed child is noticed before its parent reaps it).
//
// The one subtle step is telling a death from a clean close. A slot says "closed" with a flag
// and "alive" through its pid, and no single read sees both: an endpoint that closes and then
// exits between a look at its flag and a look at its pid would look dead. So a slot is called
// dead only when its flag still reads "open" after its pid was found gone (CloseCheck::twice).
// CloseCheck::once, the order that has exactly that race, exists only for the fixture that
// proves the engine finds it (faulty-close-race); a perturbation point sits in the window.
#pragma once

#include "ipcverify/channel.hpp"

#include <atomic>
#include <cstdint>
#include <sys/types.h>

namespace ipcv {

inline constexpr unsigned kMaxEndpoints = 64; ///< per side

/// A PeerSide is one side's endpoints (the senders, or the receivers) in shared memory.
struct alignas(64) PeerSide {
  std::atomic<std::uint32_t> connected{0}; ///< slots asked for (may exceed the declared count)
  std::atomic<std::int32_t> pid[kMaxEndpoints] = {};
  std::atomic<std::uint8_t> closed[kMaxEndpoints] = {};
};

/// A PeerTable is both sides of a channel.
struct PeerTable {
  PeerSide senders;
  PeerSide receivers;
};

/// A SideState is what one look at a side says about who may still act on it.
struct SideState {
  unsigned expected = 0; ///< endpoints the Config declared
  unsigned seen = 0;     ///< slots found connected (clamped)
  unsigned open = 0;     ///< connected, not closed, alive (or still connecting)
  unsigned dead = 0;     ///< connected, not closed, process gone
  /// ok while someone may still act; eof when all declared closed; peer_gone if any died.
  Result verdict() const noexcept {
    if (seen < expected || open > 0)
      return Result::ok;
    return dead > 0 ? Result::peer_gone : Result::eof;
  }
};

/// How look_at tells a closed slot from a dead one: `twice` reads the closed flag again after
/// the pid was found gone (correct); `once` trusts the first read (the race described above,
/// kept for the faulty-close-race fixture only).
enum class CloseCheck : std::uint8_t { twice, once };

/// Takes a slot on `side` for the calling process; error when `limit` (the declared number of
/// endpoints on that side) already did.
Expected<unsigned> join_side(PeerSide &side, unsigned limit);

/// Marks slot `slot` closed (release: whatever the endpoint did before is visible to a reader
/// of the flag).
void leave_side(PeerSide &side, unsigned slot) noexcept;

/// Looks at every slot of `side`; `check_alive` false skips the /proc look-up of pids (the
/// cheap look used between liveness checks: dead peers then count as open).
SideState look_at(const PeerSide &side, unsigned expected, bool check_alive,
                  CloseCheck how = CloseCheck::twice) noexcept;

/// What an empty try_recv answers: eof when every declared sender closed, peer_gone when the
/// rest died (process liveness looked at no more than once per `every`, tracked in
/// `next_look`), or ok when someone may still send (the caller then answers empty). The
/// caller must re-try its receive after a non-ok answer: a sender closes after its last send.
/// A full try_send asks the same of the receivers (any non-ok answer is peer_gone for it).
Result senders_done(const PeerSide &senders, unsigned expected, Deadline &next_look,
                    Clock::duration every) noexcept;

} // namespace ipcv
