// Implementation of the workload generator (generators.hpp).
#include "generators.hpp"

#include <algorithm>

namespace ipcv::gen {

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
    w.messages = *rc::gen::inRange<std::uint32_t>(1, grown(space.max_messages) + 1);
    const std::uint32_t lo = 16;
    const std::uint32_t hi =
        static_cast<std::uint32_t>(std::max<std::size_t>(space.claims.max_message, lo));
    // Edge sizes (the minimum and the maximum) are as likely as everything in between.
    const auto size = rc::gen::weightedOneOf<std::uint32_t>(
        {{2, rc::gen::just(lo)}, {2, rc::gen::just(hi)}, {3, rc::gen::inRange(lo, hi + 1)}});
    w.sizes = *rc::gen::resize(
        4, rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint32_t>>(size)));
    w.try_ops = *rc::gen::inRange(0, 3) == 2; // shrinks to blocking calls
    w.pace_us = *rc::gen::weightedOneOf<std::uint32_t>(
        {{4, rc::gen::just<std::uint32_t>(0)}, {1, rc::gen::inRange<std::uint32_t>(1, 200)}});
    w.perturb = static_cast<std::uint8_t>(*rc::gen::inRange(0, 3));
    w.perturb_seed = w.perturb ? *rc::gen::inRange<std::uint64_t>(1, 1u << 30) : 0;
    w.placement = *rc::gen::element(Placement::any, Placement::spread, Placement::one_core);
    if (space.crashes && space.mode == harness::Mode::process && *rc::gen::inRange(0, 4) == 3) {
      w.crash_actor = *rc::gen::inRange<std::uint32_t>(0, w.actors());
      w.crash_at = *rc::gen::inRange<std::uint32_t>(0, w.messages + 1);
      w.crash_inside = *rc::gen::arbitrary<bool>();
    }
    return w;
  });
}

} // namespace ipcv::gen
