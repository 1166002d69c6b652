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

namespace ipcv::spec {
namespace {
/// What a read returned, in words.
std::string value(const Event &r) { return r.has_msg ? to_string(r.msg) : "the initial value"; }
} // namespace

Verdict check_register(const History &h, const Params &) {
  std::vector<std::size_t> writes, reads;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    const Event &e = h.events[i];
    if (e.op == Op::write && (e.res == Res::ok || e.pending()))
      writes.push_back(i);
    if (e.op == Op::read && e.res == Res::ok)
      reads.push_back(i);
  }
  if (writes.empty() && reads.empty())
    return Verdict::undecided("no register operations");
  auto at = [&](std::size_t i) -> const Event & { return h.events[i]; };
  std::sort(writes.begin(), writes.end(),
            [&](std::size_t a, std::size_t b) { return at(a).call < at(b).call; });
  std::vector<std::int64_t> write_ret(writes.size()); // increasing: writes are sequential
  for (std::size_t k = 0; k < writes.size(); ++k) {
    write_ret[k] = at(writes[k]).ret;
    if (k == 0)
      continue;
    const Event &a = at(writes[k - 1]), &b = at(writes[k]);
    if (a.pid != b.pid || a.msg.producer != b.msg.producer)
      return Verdict::undecided(
          fmt::format("two writers ({} and {}): this spec is of a single-writer register",
                      describe(a), describe(b)));
    if (!a.precedes(b))
      return Verdict::undecided(
          fmt::format("writes overlap ({} and {}): a single writer writes one at a time",
                      describe(a), describe(b)));
  }
  // (value, 1 + position in the write order), sorted by value; a failed write has position 0
  // ("never took effect").
  std::vector<std::pair<MsgId, std::size_t>> order;
  order.reserve(writes.size());
  for (std::size_t k = 0; k < writes.size(); ++k)
    order.emplace_back(at(writes[k]).msg, k + 1);
  for (const Event &e : h.events)
    if (e.op == Op::write && e.has_msg && e.res != Res::ok && !e.pending())
      order.emplace_back(e.msg, 0);
  std::sort(order.begin(), order.end());
  for (std::size_t k = 1; k < order.size(); ++k)
    if (order[k].first == order[k - 1].first)
      return Verdict::undecided(
          fmt::format("value {} is written twice", to_string(order[k].first)));

  Failures bad;
  auto write_of = [&](std::size_t k) { return k == 0 ? kNone : writes[k - 1]; };

  // The reads that returned a known value; rank: its position in the write order (0: initial).
  struct Read {
    std::uint32_t pid;
    std::int64_t call, ret;
    std::size_t rank, event;
  };
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
      auto it = std::lower_bound(order.begin(), order.end(), std::pair{r.msg, std::size_t{0}});
      if (it == order.end() || it->first != r.msg || it->second == 0) {
        const bool failed_write = it != order.end() && it->first == r.msg;
        bad.add(fmt::format("{} returned {}, which was never written{}", describe(r),
                            to_string(r.msg), failed_write ? " (its write failed)" : ""),
                {i});
        continue;
      }
      rank = it->second;
    }
    known.push_back({r.pid, r.call, r.ret, rank, i});
    if (rank != 0 && r.ret < at(write_of(rank)).call) {
      bad.add(
          fmt::format("{} returned {} before its write was called", describe(r), to_string(r.msg)),
          {i, write_of(rank)});
      continue;
    }
    const auto done = static_cast<std::size_t>( // writes completed before the read was called
        std::partition_point(write_ret.begin(), write_ret.end(),
                             [&](std::int64_t t) { return t < r.call; }) -
        write_ret.begin());
    if (rank < done)
      bad.add(fmt::format("{} returned {}, but {} had completed before the read was called",
                          describe(r), r.has_msg ? to_string(r.msg) : "the initial value",
                          describe(at(writes[done - 1]))),
              {write_of(rank), writes[done - 1], i});
  }

  // Reads never go back in time: per reader (program order), then across readers (real time).
  std::sort(known.begin(), known.end(), [](const Read &x, const Read &y) {
    return x.pid != y.pid ? x.pid < y.pid : x.call < y.call;
  });
  bool went_back = false;
  for (std::size_t k = 1; k < known.size(); ++k) {
    const Read &a = known[k - 1], &b = known[k];
    if (a.pid != b.pid || b.rank >= a.rank)
      continue;
    went_back = true;
    bad.add(fmt::format("pid {} read {} and then the older {}", a.pid, value(at(a.event)),
                        describe(at(b.event))),
            {write_of(b.rank), write_of(a.rank), a.event, b.event});
  }
  if (!went_back) {
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
                {write_of(b.rank), write_of(newest->rank), newest->event, b.event});
    }
  }
  if (bad.count == 0)
    return Verdict::ok();
  return Verdict::failed(fmt::format("{} reads are not those of a latest-value register; first: {}",
                                     bad.count, bad.first),
                         std::move(bad.witnesses));
}

namespace {
const SpecRegistrar kRegistered{
    {"register",
     "a latest-value register: no torn read, reads never go back in time per reader, "
     "linearizable read/write",
     &check_register, Domain::registers}};
} // namespace

} // namespace ipcv::spec
