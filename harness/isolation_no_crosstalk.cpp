// The `no-cross-talk` probe: two instances of a channel at once, each with its own producer; no
// message of one may appear in the other. Only a message that verifies as one of the other
// instance's fails it. A damaged, missing or repeated message, a receiver that stopped early or a
// child that did not finish breaks a queue spec, not isolation: the case is then inconclusive.
#include "isolation_internal.hpp"

#include "conformance.hpp"
#include "specs/message.hpp"
#include <algorithm>
#include <atomic>

namespace ipcv::harness::isolation_detail {
namespace {

constexpr std::uint64_t kCrosstalkMessages = 300;
constexpr std::uint32_t kProducer[2] = {1001, 2002};
constexpr char kName[2] = {'A', 'B'};

/// What one instance's children saw, noted by them, read by the parent after reaping.
struct CrossSide {
  std::atomic<std::uint64_t> own{0};      ///< distinct messages of its own producer, intact
  std::atomic<std::uint64_t> repeated{0}; ///< own messages that arrived again
  std::atomic<std::uint64_t> foreign{0};  ///< messages that verify as the other instance's
  std::atomic<std::uint64_t> damaged{0};  ///< messages that do not verify as anyone's
  std::atomic<bool> saw_last{false};      ///< its producer's last message arrived
  std::atomic<bool> finished{false};      ///< the receiver came to its end (was not killed)
  Note first_foreign;
  Note first_damaged;
  Note stopped;     ///< a result other than ok/eof that ended the receiver
  Note send_failed; ///< the send that ended the sender early
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

/// The sender of instance `k`: its 300 messages, then close. Its exit code.
int send_all(AnyInstance &mine, AnyInstance &other, Barrier &start, CrossSide &me, int k,
             std::size_t max) {
  auto s = mine.connect_sender(0);
  if (!s)
    return 3;
  mine.detach();
  other.detach(); // nothing of the other instance: a pipe end would keep it open
  if (!start.arrive_and_wait(call_deadline()))
    return 4;
  std::vector<std::byte> buf(max);
  for (std::uint64_t i = 0; i < kCrosstalkMessages; ++i) {
    const std::size_t n = spec::encode(kProducer[k], i, crosstalk_len(i, max), buf);
    if (Status st = (*s)->send(std::span(buf).first(n), call_deadline()); !st.ok()) {
      me.send_failed.set(fmt::format("send {} returned {}", i, st.describe()));
      return 5;
    }
  }
  (*s)->close();
  return 0;
}

/// Notes one message received by instance `k`'s receiver (`seen`: its own seqs so far).
void note_message(std::span<const std::byte> got, CrossSide &me, int k, std::vector<bool> &seen) {
  const spec::MsgCheck c = spec::verify(got);
  const bool intact = c.status == spec::MsgStatus::ok && c.id;
  if (intact && c.id->producer == kProducer[1 - k]) {
    if (me.foreign.fetch_add(1) == 0)
      me.first_foreign.set(fmt::format("({}, {})", c.id->producer, c.id->seq));
    return;
  }
  if (intact && c.id->producer == kProducer[k] && c.id->seq < kCrosstalkMessages) {
    if (seen[c.id->seq]) {
      me.repeated.fetch_add(1); // a register may return one value again
    } else {
      seen[c.id->seq] = true;
      me.own.fetch_add(1);
    }
    if (c.id->seq + 1 == kCrosstalkMessages)
      me.saw_last.store(true);
    return;
  }
  if (me.damaged.fetch_add(1) == 0)
    me.first_damaged.set(
        c.id ? fmt::format("{} ({}, {})", spec::to_string(c.status), c.id->producer, c.id->seq)
             : fmt::format("{} of {} bytes", spec::to_string(c.status), got.size()));
}

/// The receiver of instance `k`: until eof (a register: until it read the last value), or
/// until a result that ends it. Its exit code.
int receive_all(AnyInstance &mine, AnyInstance &other, Barrier &start, CrossSide &me, int k,
                std::size_t max, bool reg) {
  auto r = mine.connect_receiver(0);
  if (!r)
    return 3;
  mine.detach();
  other.detach(); // nothing of the other instance: a pipe end would keep it open
  if (!start.arrive_and_wait(call_deadline()))
    return 4;
  std::vector<std::byte> buf(max + 1);
  std::vector<bool> seen(kCrosstalkMessages);
  for (;;) {
    RecvStatus st = (*r)->recv(buf, call_deadline());
    if (st.result == Result::eof)
      break;
    if (!st.ok()) {
      me.stopped.set(st.describe());
      break;
    }
    note_message(std::span<const std::byte>(buf).first(st.size), me, k, seen);
    if (reg && me.saw_last.load())
      break;
  }
  me.finished.store(true);
  return 0;
}

/// "A received 300 of its own, B ...": what each receiver got, for the probe's line.
std::string sides_text(const CrossNotes &notes, bool reg) {
  std::string out;
  for (int k = 0; k < 2; ++k) {
    const CrossSide &s = notes.side[k];
    out += fmt::format("{}{} {} {} of its own", k == 0 ? "" : ", ", kName[k],
                       reg ? "read" : "received", s.own.load());
    if (s.foreign.load() > 0)
      out += fmt::format(" and {} of instance {}'s (first: {})", s.foreign.load(), kName[1 - k],
                         s.first_foreign.get());
  }
  return out;
}

/// What kept instance `k`'s case from being complete, or "": damaged messages, repeated ones (a
/// queue's), a receiver that stopped, ended early or never finished, a sender that failed.
std::string incomplete(const CrossSide &s, int k, bool reg) {
  std::vector<std::string> off;
  if (s.damaged.load() > 0)
    off.push_back(
        fmt::format("got {} damaged (first: {})", s.damaged.load(), s.first_damaged.get()));
  if (s.repeated.load() > 0 && !reg)
    off.push_back(fmt::format("got {} of its own again", s.repeated.load()));
  if (!s.stopped.get().empty())
    off.push_back(fmt::format("stopped on {} after {} of {}", s.stopped.get(), s.own.load(),
                              kCrosstalkMessages));
  else if (!s.finished.load())
    off.push_back(fmt::format("had {} of {} and never finished", s.own.load(), kCrosstalkMessages));
  else if (reg ? !s.saw_last.load() : s.own.load() < kCrosstalkMessages)
    off.push_back(reg ? fmt::format("ended after {} values without the last", s.own.load())
                      : fmt::format("ended after {} of {}", s.own.load(), kCrosstalkMessages));
  std::string out;
  for (const std::string &o : off)
    out += (out.empty() ? fmt::format("receiver of {} ", kName[k]) : ", ") + o;
  if (!s.send_failed.get().empty())
    out +=
        fmt::format("{}sender of {}: {}", out.empty() ? "" : "; ", kName[k], s.send_failed.get());
  return out;
}

/// The verdict: fail on a message of the other instance (or objects left after destroy),
/// inconclusive when either case is incomplete or a child did not exit cleanly, else pass.
ProbeResult crosstalk_verdict(const CrossNotes &notes, bool reg, const std::string &exits,
                              const std::string &left) {
  constexpr Probe kP = Probe::no_crosstalk;
  const bool leaked = notes.side[0].foreign.load() + notes.side[1].foreign.load() > 0;
  std::string text =
      fmt::format("instances A (producer {}) and B (producer {}) side by side, {} "
                  "messages each: {}",
                  kProducer[0], kProducer[1], kCrosstalkMessages, sides_text(notes, reg));
  if (leaked || !left.empty())
    return conclude(kP, leaked, std::move(text), exits, left);
  std::string gaps;
  for (int k = 0; k < 2; ++k)
    if (std::string g = incomplete(notes.side[k], k, reg); !g.empty())
      gaps += (gaps.empty() ? "" : "; ") + g;
  if (!exits.empty())
    gaps += (gaps.empty() ? "" : "; ") + exits;
  if (gaps.empty())
    return result(kP, Outcome::pass, std::move(text));
  return inconclusive(kP, gaps + "; no message of either instance reached the other");
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
    return inconclusive(kP, "prepare of instance A failed: " + a.status().describe());
  Instance b(e, probe_config());
  if (!b)
    return inconclusive(kP, "prepare of instance B failed: " + b.status().describe());
  Instance *inst[2] = {&a, &b};
  SharedBlock<CrossNotes> notes;
  Barrier start(4);
  std::vector<pid_t> pids;
  for (int k = 0; k < 2; ++k) {
    CrossSide &me = notes->side[k];
    pids.push_back(spawn([&, k] { return send_all(**inst[k], **inst[1 - k], start, me, k, max); }));
    pids.push_back(
        spawn([&, k] { return receive_all(**inst[k], **inst[1 - k], start, me, k, max, reg); }));
  }
  a->detach();
  b->detach();
  const char *roles[] = {"sender A", "receiver A", "sender B", "receiver B"};
  const auto exits = reap_channel_children(pids, roles, 3);
  a.release(); // both first: instances sharing an object (a bug) remove it with the last
  b.release();
  return crosstalk_verdict(*notes, reg, exits_text(exits, roles), a.leftovers() + b.leftovers());
}

} // namespace ipcv::harness::isolation_detail
