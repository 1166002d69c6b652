// `register`: a history satisfies it when it is one of a single-writer latest-value register:
// no torn read, reads never go back in time per reader, linearizable read/write. Writes are the
// one writer's, one at a time, so they have a total order; a read without "val" returns the
// initial value (before every write). A read fails when it is torn (intact=false), returns a
// value never written (or whose write failed), returns a value whose write was called only after
// the read returned, returns a value older than a write that completed before the read was
// called, or returns a value older than one a read that completed before it was called already
// returned (per reader first: a reader going back in time). For a single writer these
// conditions are exactly linearizability. Pending writes may or may not have taken effect.
#include "register.hpp"

#include "catalog.hpp"
#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace ipcv::spec {
namespace {
/// What a read returned, in words.
std::string value(const Event &r) { return r.has_msg ? to_string(r.msg) : "the initial value"; }

/// Writes are the writes that took or may have taken effect, in the writer's order, and every
/// written value placed in that order.
struct Writes {
  std::vector<std::size_t> events; ///< by call
  std::vector<std::int64_t> ret;   ///< their returns; increasing, as writes are sequential
  /// (value, 1 + position in the write order), sorted by value; a failed write has position 0
  /// ("never took effect").
  std::vector<std::pair<MsgId, std::size_t>> order;

  /// The event of the write at `rank` (1-based position in the order), kNone for rank 0.
  std::size_t event_of(std::size_t rank) const { return rank == 0 ? kNone : events[rank - 1]; }
};

/// A Read is a read that returned a known value; rank: its position in the write order (0:
/// the initial value).
struct Read {
  std::uint32_t pid;
  std::int64_t call, ret;
  std::size_t rank, event;
};

/// Sorts `w.events` by call and fills `w.ret`; the reason the history is not one of a single
/// writer writing one value at a time, or nothing.
std::optional<std::string> order_writes(const History &h, Writes &w) {
  auto at = [&](std::size_t i) -> const Event & { return h.events[i]; };
  std::sort(w.events.begin(), w.events.end(),
            [&](std::size_t a, std::size_t b) { return at(a).call < at(b).call; });
  w.ret.resize(w.events.size());
  for (std::size_t k = 0; k < w.events.size(); ++k) {
    w.ret[k] = at(w.events[k]).ret;
    if (k == 0)
      continue;
    const Event &a = at(w.events[k - 1]), &b = at(w.events[k]);
    if (a.pid != b.pid || a.msg.producer != b.msg.producer)
      return fmt::format("two writers ({} and {}): this spec is of a single-writer register",
                         describe(a), describe(b));
    if (!a.precedes(b))
      return fmt::format("writes overlap ({} and {}): a single writer writes one at a time",
                         describe(a), describe(b));
  }
  return std::nullopt;
}

/// Fills `w.order` from the ordered writes and the failed ones; the reason the values cannot
/// be placed (one written twice), or nothing.
std::optional<std::string> place_values(const History &h, Writes &w) {
  w.order.reserve(w.events.size());
  for (std::size_t k = 0; k < w.events.size(); ++k)
    w.order.emplace_back(h.events[w.events[k]].msg, k + 1);
  for (const Event &e : h.events)
    if (e.op == Op::write && e.has_msg && e.res != Res::ok && !e.pending())
      w.order.emplace_back(e.msg, 0);
  std::sort(w.order.begin(), w.order.end());
  for (std::size_t k = 1; k < w.order.size(); ++k)
    if (w.order[k].first == w.order[k - 1].first)
      return fmt::format("value {} is written twice", to_string(w.order[k].first));
  return std::nullopt;
}

/// Judges each read on its own: torn, a value never written, a value whose write was called
/// after the read returned, or older than a write completed before its call; each such failure
/// goes to `bad`. Returns the reads that returned a known value.
std::vector<Read> judge_reads(const History &h, const Writes &w,
                              const std::vector<std::size_t> &reads, Failures &bad) {
  auto at = [&](std::size_t i) -> const Event & { return h.events[i]; };
  std::vector<Read> known;
  known.reserve(reads.size());
  for (const std::size_t i : reads) {
    const Event &r = at(i);
    if (!r.intact) {
      bad.add(fmt::format("{} is torn", describe(r)), {i});
      continue;
    }
    std::size_t rank = 0;
    if (r.has_msg) {
      auto it = std::lower_bound(w.order.begin(), w.order.end(), std::pair{r.msg, std::size_t{0}});
      if (it == w.order.end() || it->first != r.msg || it->second == 0) {
        const bool failed_write = it != w.order.end() && it->first == r.msg;
        bad.add(fmt::format("{} returned {}, which was never written{}", describe(r),
                            to_string(r.msg), failed_write ? " (its write failed)" : ""),
                {i});
        continue;
      }
      rank = it->second;
    }
    known.push_back({r.pid, r.call, r.ret, rank, i});
    if (rank != 0 && r.ret < at(w.event_of(rank)).call) {
      bad.add(
          fmt::format("{} returned {} before its write was called", describe(r), to_string(r.msg)),
          {i, w.event_of(rank)});
      continue;
    }
    const auto done = static_cast<std::size_t>( // writes completed before the read was called
        std::partition_point(w.ret.begin(), w.ret.end(),
                             [&](std::int64_t t) { return t < r.call; }) -
        w.ret.begin());
    if (rank < done)
      bad.add(fmt::format("{} returned {}, but {} had completed before the read was called",
                          describe(r), value(r), describe(at(w.events[done - 1]))),
              {w.event_of(rank), w.events[done - 1], i});
  }
  return known;
}

/// True when some reader read a value and then an older one (in program order); each such pair
/// goes to `bad`. Leaves `known` sorted by reader, then call.
bool went_back_per_reader(const History &h, const Writes &w, std::vector<Read> &known,
                          Failures &bad) {
  std::sort(known.begin(), known.end(), [](const Read &x, const Read &y) {
    return x.pid != y.pid ? x.pid < y.pid : x.call < y.call;
  });
  bool went_back = false;
  for (std::size_t k = 1; k < known.size(); ++k) {
    const Read &a = known[k - 1], &b = known[k];
    if (a.pid != b.pid || b.rank >= a.rank)
      continue;
    went_back = true;
    bad.add(fmt::format("pid {} read {} and then the older {}", a.pid, value(h.events[a.event]),
                        describe(h.events[b.event])),
            {w.event_of(b.rank), w.event_of(a.rank), a.event, b.event});
  }
  return went_back;
}

/// Adds to `bad` each read that returned a value older than one a read completed before its
/// call had returned (real time, across readers).
void went_back_across_readers(const History &h, const Writes &w, std::vector<Read> known,
                              Failures &bad) {
  auto at = [&](std::size_t i) -> const Event & { return h.events[i]; };
  std::vector<Read> by_ret = known;
  std::sort(by_ret.begin(), by_ret.end(),
            [](const Read &x, const Read &y) { return x.ret < y.ret; });
  std::sort(known.begin(), known.end(),
            [](const Read &x, const Read &y) { return x.call < y.call; });
  std::size_t done = 0;
  const Read *newest = nullptr; // among reads completed so far, the one of the highest rank
  for (const Read &b : known) {
    for (; done < by_ret.size() && by_ret[done].ret < b.call; ++done)
      if (!newest || by_ret[done].rank > newest->rank)
        newest = &by_ret[done];
    if (newest && b.rank < newest->rank)
      bad.add(fmt::format("{} returned {} after {} had returned the newer {}",
                          describe(at(b.event)), value(at(b.event)), describe(at(newest->event)),
                          value(at(newest->event))),
              {w.event_of(b.rank), w.event_of(newest->rank), newest->event, b.event});
  }
}

} // namespace

Verdict check_register(const History &h, const Params &) {
  Writes w;
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op == Op::write && (e.res == Res::ok || e.pending()))
      w.events.push_back(i);
    if (e.op == Op::read && e.res == Res::ok)
      reads.push_back(i);
  }
  if (w.events.empty() && reads.empty())
    return Verdict::undecided("no register operations");
  if (std::optional<std::string> why = order_writes(h, w))
    return Verdict::undecided(std::move(*why));
  if (std::optional<std::string> why = place_values(h, w))
    return Verdict::undecided(std::move(*why));

  Failures bad(h);
  std::vector<Read> known = judge_reads(h, w, reads, bad);
  // Reads never go back in time: per reader (program order), then across readers (real time).
  if (!went_back_per_reader(h, w, known, bad))
    went_back_across_readers(h, w, std::move(known), bad);
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(fmt::format("{} reads are not those of a latest-value register; first: {}",
                                     bad.count, bad.first),
                         std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegisteredRegister{
    {"register",
     "a latest-value register: no torn read, reads never go back in time per reader, "
     "linearizable read/write",
     &check_register, Domain::registers}};
} // namespace

} // namespace ipcv::spec
