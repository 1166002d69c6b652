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
#include <unordered_map>

namespace ipcv::spec {

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
  for (std::size_t k = 1; k < writes.size(); ++k) {
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
  // order[val] = 1 + position in the write order; failed writes map to 0 ("never took effect").
  std::unordered_map<MsgId, std::size_t, decltype([](MsgId id) {
                       return std::hash<std::uint64_t>{}(id.seq * 31 + id.producer);
                     })>
      order;
  for (std::size_t k = 0; k < writes.size(); ++k)
    if (!order.try_emplace(at(writes[k]).msg, k + 1).second)
      return Verdict::undecided(fmt::format("value {} is written twice ({})",
                                            to_string(at(writes[k]).msg), describe(at(writes[k]))));
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].op == Op::write && h.events[i].has_msg)
      order.try_emplace(h.events[i].msg, 0);

  std::size_t bad = 0;
  std::vector<std::size_t> witnesses;
  std::string first;
  auto fail = [&](std::string why, std::initializer_list<std::size_t> w) {
    if (++bad > kMaxWitnessedFailures)
      return;
    if (first.empty())
      first = std::move(why);
    for (std::size_t x : w)
      if (x != kNone)
        witnesses.push_back(x);
  };
  auto write_of = [&](std::size_t k) { return k == 0 ? kNone : writes[k - 1]; };

  // rank[j]: the position in the write order of what reads[j] returned (0: initial value), or
  // kNone when the value was never (successfully) written.
  std::vector<std::size_t> rank(reads.size(), 0);
  for (std::size_t j = 0; j < reads.size(); ++j) {
    const std::size_t i = reads[j];
    const Event &r = at(i);
    if (!r.intact) {
      fail(fmt::format("{} is torn", describe(r)), {i});
      rank[j] = kNone;
      continue;
    }
    if (!r.has_msg)
      continue;
    auto it = order.find(r.msg);
    if (it == order.end() || it->second == 0) {
      fail(fmt::format("{} returned {}, which was never written{}", describe(r), to_string(r.msg),
                       it == order.end() ? "" : " (its write failed)"),
           {i});
      rank[j] = kNone;
      continue;
    }
    rank[j] = it->second;
    const Event &w = at(write_of(rank[j]));
    if (r.ret < w.call) {
      fail(fmt::format("{} returned {} before its write was called", describe(r), to_string(r.msg)),
           {i, write_of(rank[j])});
      continue;
    }
    // Writes completed before the read was called: writes are sequential, so their returns are
    // in order and a binary search counts them.
    const auto done = static_cast<std::size_t>(
        std::partition_point(writes.begin(), writes.end(),
                             [&](std::size_t x) { return at(x).ret < r.call; }) -
        writes.begin());
    if (rank[j] < done)
      fail(fmt::format("{} returned {}, but {} had completed before the read was called",
                       describe(r), to_string(r.msg), describe(at(writes[done - 1]))),
           {write_of(rank[j]), writes[done - 1], i});
  }

  // Reads never go back in time: per reader (program order), then across readers (real time).
  std::vector<std::size_t> by_reader(reads.size());
  for (std::size_t j = 0; j < reads.size(); ++j)
    by_reader[j] = j;
  std::sort(by_reader.begin(), by_reader.end(), [&](std::size_t a, std::size_t b) {
    const Event &x = at(reads[a]), &y = at(reads[b]);
    return x.pid != y.pid ? x.pid < y.pid : x.call < y.call;
  });
  bool went_back = false;
  for (std::size_t k = 1; k < by_reader.size(); ++k) {
    const std::size_t a = by_reader[k - 1], b = by_reader[k];
    if (at(reads[a]).pid != at(reads[b]).pid || rank[a] == kNone || rank[b] == kNone)
      continue;
    if (rank[b] < rank[a]) {
      went_back = true;
      fail(fmt::format("pid {} read {} and then the older {}", at(reads[a]).pid,
                       to_string(at(reads[a]).msg), describe(at(reads[b]))),
           {write_of(rank[b]), write_of(rank[a]), reads[a], reads[b]});
    }
  }
  if (!went_back) {
    std::vector<std::size_t> by_ret = by_reader, by_call = by_reader;
    std::sort(by_ret.begin(), by_ret.end(),
              [&](std::size_t a, std::size_t b) { return at(reads[a]).ret < at(reads[b]).ret; });
    std::sort(by_call.begin(), by_call.end(),
              [&](std::size_t a, std::size_t b) { return at(reads[a]).call < at(reads[b]).call; });
    std::size_t done = 0, newest = kNone; // newest: the completed read with the highest rank
    for (std::size_t b : by_call) {
      for (; done < by_ret.size() && at(reads[by_ret[done]]).ret < at(reads[b]).call; ++done)
        if (rank[by_ret[done]] != kNone && (newest == kNone || rank[by_ret[done]] > rank[newest]))
          newest = by_ret[done];
      if (newest != kNone && rank[b] != kNone && rank[b] < rank[newest])
        fail(fmt::format("{} returned {} after {} had returned the newer {}",
                         describe(at(reads[b])), to_string(at(reads[b]).msg),
                         describe(at(reads[newest])), to_string(at(reads[newest]).msg)),
             {write_of(rank[b]), write_of(rank[newest]), reads[newest], reads[b]});
    }
  }
  if (bad == 0)
    return Verdict::ok();
  return Verdict::failed(
      fmt::format("{} reads are not those of a latest-value register; first: {}", bad, first),
      std::move(witnesses));
}

namespace {
const SpecRegistrar kRegistered{
    {"register",
     "a latest-value register: no torn read, reads never go back in time per reader, "
     "linearizable read/write",
     &check_register, Domain::registers}};
} // namespace

} // namespace ipcv::spec
