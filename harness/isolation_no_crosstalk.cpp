// The `no-cross-talk` probe: two instances of a channel at once, each with its own producer;
// no message of one may appear in the other.
#include "isolation_internal.hpp"

#include "conformance.hpp"
#include "specs/message.hpp"
#include <algorithm>
#include <atomic>

namespace ipcv::harness::isolation_detail {
namespace {

constexpr std::uint64_t kCrosstalkMessages = 300;
constexpr std::uint32_t kProducer[2] = {1001, 2002};

struct CrossSide {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> foreign{0};
  std::atomic<std::uint64_t> damaged{0};
  Note first_bad;
  Note stopped; ///< a result other than ok/eof that ended the receiver
};
struct CrossNotes {
  CrossSide side[2];
};

std::size_t crosstalk_len(std::uint64_t i, std::size_t max) {
  if (i % 50 == 49)
    return max;
  const std::size_t hi = std::min<std::size_t>(max, 1024);
  return spec::kMinMessageSize + (i * 53) % (hi - spec::kMinMessageSize + 1);
}

} // namespace

ProbeResult no_crosstalk(const ChannelEntry &e) {
  constexpr Probe kP = Probe::no_crosstalk;
  const std::size_t max = e.claims.max_message;
  if (auto na = too_small_for_identity(kP, max))
    return *na;
  const bool reg = is_register(e);
  Instance a(e, probe_config());
  if (!a)
    return result(kP, Outcome::fail, "prepare of instance A failed: " + a.status().describe());
  Instance b(e, probe_config());
  if (!b)
    return result(kP, Outcome::fail, "prepare of instance B failed: " + b.status().describe());
  Instance *inst[2] = {&a, &b};
  SharedBlock<CrossNotes> notes;
  Barrier start(4);
  std::vector<pid_t> pids;
  for (int k = 0; k < 2; ++k) {
    pids.push_back(spawn([&, k]() -> int {
      auto s = (*inst[k])->connect_sender();
      if (!s)
        return 3;
      (*inst[k])->detach();
      (*inst[1 - k])->detach(); // nothing of the other instance: a pipe end would keep it open
      if (!start.arrive_and_wait(after_ms(10000)))
        return 4;
      std::vector<std::byte> buf(max);
      for (std::uint64_t i = 0; i < kCrosstalkMessages; ++i) {
        const std::size_t n = spec::encode(kProducer[k], i, crosstalk_len(i, max), buf);
        if (Status st = (*s)->send(std::span(buf).first(n), after_ms(10000)); !st.ok())
          return 5;
      }
      (*s)->close();
      return 0;
    }));
    pids.push_back(spawn([&, k]() -> int {
      auto r = (*inst[k])->connect_receiver();
      if (!r)
        return 3;
      (*inst[k])->detach();
      (*inst[1 - k])->detach(); // nothing of the other instance: a pipe end would keep it open
      if (!start.arrive_and_wait(after_ms(10000)))
        return 4;
      CrossSide &me = notes->side[k];
      std::vector<std::byte> buf(max + 1);
      for (;;) {
        RecvStatus st = (*r)->recv(buf, after_ms(10000));
        if (st.result == Result::eof)
          break;
        if (!st.ok()) {
          me.stopped.set(st.describe());
          break;
        }
        const auto got = std::span<const std::byte>(buf).first(st.size);
        const spec::MsgCheck c = spec::verify(got);
        const bool mine = c.status == spec::MsgStatus::ok && c.id && c.id->producer == kProducer[k];
        if (mine) {
          me.received.fetch_add(1);
          if (reg && c.id->seq + 1 == kCrosstalkMessages)
            break;
          continue;
        }
        const bool other = c.id && c.id->producer == kProducer[1 - k];
        (other ? me.foreign : me.damaged).fetch_add(1);
        if (me.first_bad.get().empty())
          me.first_bad.set(
              fmt::format("{}{}", other ? "" : std::string(spec::to_string(c.status)) + " ",
                          c.id ? fmt::format("({}, {})", c.id->producer, c.id->seq) : "message"));
      }
      return 0;
    }));
  }
  a->detach();
  b->detach();
  const auto exits = reap(pids, after_ms(30000));
  a.release(); // both first: instances sharing an object (a bug) remove it with the last
  b.release();
  const std::string left = a.leftovers() + b.leftovers();
  const char *roles[] = {"sender A", "receiver A", "sender B", "receiver B"};
  std::string sides;
  bool bad = false;
  for (int k = 0; k < 2; ++k) {
    const CrossSide &s = notes->side[k];
    const char name = k == 0 ? 'A' : 'B';
    sides += fmt::format("{}{} {} {} of its own", k == 0 ? "" : ", ", name,
                         reg ? "read" : "received", s.received.load());
    if (s.foreign.load() > 0)
      sides += fmt::format(" and {} of instance {}'s (first: {})", s.foreign.load(),
                           k == 0 ? 'B' : 'A', s.first_bad.get());
    if (s.damaged.load() > 0)
      sides += fmt::format(" and {} damaged (first: {})", s.damaged.load(), s.first_bad.get());
    if (!s.stopped.get().empty())
      sides += " then stopped on " + s.stopped.get();
    bad = bad || s.foreign.load() > 0 || s.damaged.load() > 0 || s.received.load() == 0;
  }
  std::string text = fmt::format("instances A (producer {}) and B (producer {}) side by side, {} "
                                 "messages each: {}",
                                 kProducer[0], kProducer[1], kCrosstalkMessages, sides);
  return conclude(kP, bad, std::move(text), exits_text(exits, roles), left);
}

} // namespace ipcv::harness::isolation_detail
