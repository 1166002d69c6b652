// Implementation of the workload generator (generators.hpp).
#include "generators.hpp"

#include <algorithm>

namespace ipcv::gen {

namespace {

/// `g` drawn at full size. rapidcheck scales inRange (and what is built on it) with the size,
/// which grows from 0 over a round: a decision of chance ("one case in four") must not depend
/// on it, or early cases never crash, stall or perturb. Shrinking still goes toward the lower
/// bound.
template <class G> auto full(G g) { return rc::gen::resize(100, std::move(g)); }

/// rc::gen::weightedOneOf, drawn at full size.
template <class T>
rc::Gen<T> full_weighted(std::initializer_list<std::pair<std::size_t, rc::Gen<T>>> pairs) {
  return full(rc::gen::weightedOneOf<T>(pairs));
}

/// The crash plan of a case: who dies and when. Channels that claim crash-safety are killed in
/// a third of process-mode cases (the claim is what is tested), the others in one case in
/// eight (measured only). Every kind of moment is reached: before the first call, inside a
/// send or a receive, between calls while the peer waits (with pacing), right after a close.
void crash_plan(const WorkloadSpace &space, harness::Workload &w) {
  if (!space.crashes || space.mode != harness::Mode::process)
    return;
  const int one_in = space.claims.promises("crash-safety") ? 3 : 8;
  if (*full(rc::gen::inRange(0, one_in)) != one_in - 1) // shrinks to 0: no crash
    return;
  w.crash_actor = *full(rc::gen::inRange<std::uint32_t>(0, w.actors()));
  const bool sender = *w.crash_actor < w.senders;
  w.crash_when = *full(rc::gen::element(harness::CrashAt::before, harness::CrashAt::inside,
                                        harness::CrashAt::after));
  // A sender's operations are its messages, then its close (operation `messages`), which a
  // third of a sender's crash plans aim at.
  const auto any_op = full(rc::gen::inRange<std::uint32_t>(0, w.messages + 1));
  w.crash_at = sender ? *full_weighted<std::uint32_t>({{2, any_op}, {1, rc::gen::just(w.messages)}})
                      : *any_op;
}

} // namespace

rc::Gen<harness::Workload> workload(const WorkloadSpace &space) {
  return rc::gen::exec([space] {
    using harness::Placement;
    harness::Workload w;
    // Counts grow with rapidcheck's size (0 to 100 over a campaign, then again), as in
    // QuickCheck: the first cases are small, so a bug that small cases show is found small and
    // needs few shrink steps (each costs a whole run: about one bound for a hang).
    const auto grow = static_cast<std::uint32_t>(
        std::clamp(*rc::gen::withSize([](int s) { return rc::gen::just(s); }), 0, 100));
    const auto grown = [&](std::uint32_t most) {
      return std::max(1u, std::min(most, 1 + most * grow / 100));
    };
    const auto side = [&](unsigned claimed) {
      return grown(std::max(1u, std::min<unsigned>(claimed, space.max_actors)));
    };
    w.senders = *rc::gen::inRange<std::uint32_t>(1, side(space.claims.max_senders) + 1);
    w.receivers = *rc::gen::inRange<std::uint32_t>(1, side(space.claims.max_receivers) + 1);
    const bool long_case = space.long_messages > space.max_messages;
    w.messages = long_case ? *full(rc::gen::inRange<std::uint32_t>(1, space.long_messages + 1))
                           : *rc::gen::inRange<std::uint32_t>(1, grown(space.max_messages) + 1);
    const std::uint32_t lo = 16;
    // Long cases move many small messages: a million of the largest would be a bandwidth test.
    const std::uint32_t hi = static_cast<std::uint32_t>(std::max<std::size_t>(
        std::min<std::size_t>(space.claims.max_message, long_case ? 256 : SIZE_MAX), lo));
    // Edge sizes (the minimum and the maximum) are as likely as everything in between.
    const auto size = rc::gen::weightedOneOf<std::uint32_t>(
        {{2, rc::gen::just(lo)}, {2, rc::gen::just(hi)}, {3, rc::gen::inRange(lo, hi + 1)}});
    w.sizes = *rc::gen::resize(
        4, rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint32_t>>(size)));
    w.try_ops = *full(rc::gen::inRange(0, 3)) == 2; // shrinks to blocking calls
    w.pace_us = long_case
                    ? 0
                    : *full_weighted<std::uint32_t>({{4, rc::gen::just<std::uint32_t>(0)},
                                                     {1, rc::gen::inRange<std::uint32_t>(1, 200)}});
    // Holds (level 3) wait for every peer to settle at each hot point: not in long cases, where
    // they would cost a peer's whole step per message.
    w.perturb = static_cast<std::uint8_t>(*full(rc::gen::inRange(0, long_case ? 2 : 4)));
    w.perturb_seed = w.perturb ? *full(rc::gen::inRange<std::uint64_t>(1, 1u << 30)) : 0;
    // Short deadlines in two cases of five: receives on an empty channel, sends on a full one,
    // deadlines that pass while a peer is slow or gone. Shrinks to none.
    w.short_deadlines = static_cast<std::uint8_t>(
        *full_weighted<int>({{3, rc::gen::just(0)}, {2, rc::gen::element(10, 30, 60, 100)}}));
    w.deadline_seed = w.short_deadlines ? *full(rc::gen::inRange<std::uint64_t>(1, 1u << 30)) : 0;
    // A slow peer in one case of eight, one in three where calls get short deadlines: a stall
    // of 5 to 250 ms before one operation, so that the others wait on an empty or a full
    // channel while their deadlines pass (a call that sleeps past its deadline shows only
    // when nothing wakes it for longer than the slack).
    const int stall_one_in = w.short_deadlines != 0 ? 3 : 8;
    if (!long_case && *full(rc::gen::inRange(0, stall_one_in)) == stall_one_in - 1) {
      w.stall_actor = *full(rc::gen::inRange<std::uint32_t>(0, w.actors()));
      w.stall_at = *full(rc::gen::inRange<std::uint32_t>(0, w.messages + 1));
      w.stall_ms = *full(rc::gen::element<std::uint32_t>(5, 50, 250));
    }
    w.placement = *full(rc::gen::element(Placement::any, Placement::spread, Placement::one_core));
    crash_plan(space, w);
    return w;
  });
}

std::vector<harness::Workload> directed_workloads(const WorkloadSpace &space) {
  std::vector<harness::Workload> out;
  const bool reg = space.claims.promises("register");
  // Messages that fill the channel and then some (a register never fills).
  const std::uint32_t fill = static_cast<std::uint32_t>(std::min<std::size_t>(
      space.max_messages,
      space.claims.capacity == 0 ? space.max_messages : space.claims.capacity + 4));
  harness::Workload base;
  base.sizes = {16};
  base.short_deadlines = 100; // every blocking call gets a short deadline
  base.deadline_seed = 1;
  harness::Workload quiet_sender = base; // receives on an empty channel, nothing to wake them
  quiet_sender.messages = 1;
  quiet_sender.stall_actor = 0;
  quiet_sender.stall_at = 0;
  quiet_sender.stall_ms = 250;
  out.push_back(quiet_sender);
  quiet_sender.stall_at = 1; // and before its close
  out.push_back(quiet_sender);
  if (!reg) {
    harness::Workload quiet_receiver = base; // sends on a full channel
    quiet_receiver.messages = fill;
    quiet_receiver.stall_actor = 1;
    quiet_receiver.stall_at = 0;
    quiet_receiver.stall_ms = 250;
    out.push_back(quiet_receiver);
  }
  if (space.crashes && space.mode == harness::Mode::process &&
      space.claims.promises("crash-safety")) {
    harness::Workload dead_sender; // the receiver waits on a sender that never sends
    dead_sender.sizes = {16};
    dead_sender.crash_actor = 0;
    dead_sender.crash_at = 0;
    dead_sender.crash_when = harness::CrashAt::before;
    out.push_back(dead_sender);
    if (!reg) {
      harness::Workload dead_receiver = dead_sender; // the sender fills a channel nobody drains
      dead_receiver.messages = fill;
      dead_receiver.crash_actor = 1;
      out.push_back(dead_receiver);
    }
  }
  return out;
}

} // namespace ipcv::gen
