// Times the polynomial `linearizable` check on a 100,000-operation multi-producer multi-consumer
// history: 4 producers and 4 consumers make calls with overlapping intervals, each call takes
// effect at a random instant of its interval against a real FIFO queue (so the history is
// linearizable), and consumers that find the queue empty record `empty`. Then two receives are
// swapped and the check must fail just as fast. Prints seconds and events per case.
//
//   specs_linearizable_bench [operations] [seed]
#include "specs/linearizable.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

using ipcv::spec::Event;
using ipcv::spec::History;
using ipcv::spec::MsgId;
using ipcv::spec::Op;
using ipcv::spec::Res;
using ipcv::spec::Verdict;

History simulate(std::size_t ops, std::uint64_t seed) {
  constexpr std::uint32_t kProducers = 4, kConsumers = 4, kProcs = kProducers + kConsumers;
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  History h;
  h.events.reserve(ops);
  std::vector<std::int64_t> at; // linearization instant of each event
  at.reserve(ops);
  std::vector<std::int64_t> clock(kProcs, 0);
  std::vector<std::uint64_t> seq(kProducers, 0);
  for (std::size_t i = 0; i < ops; ++i) {
    const auto p = static_cast<std::uint32_t>(i % kProcs);
    Event e;
    e.pid = p + 1;
    e.call = clock[p] + uniform(0, 300);
    e.ret = e.call + uniform(50, 600);
    clock[p] = e.ret + 1;
    if (p < kProducers) {
      e.op = Op::send;
      e.has_msg = true;
      e.msg = MsgId{p + 1, seq[p]++};
      e.len = 64;
    } else {
      e.op = Op::recv;
    }
    at.push_back(uniform(e.call, e.ret));
    h.events.push_back(e);
  }
  std::vector<std::size_t> order(ops);
  for (std::size_t i = 0; i < ops; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return at[a] < at[b]; });
  std::vector<MsgId> queue;
  std::size_t head = 0;
  for (std::size_t i : order) {
    Event &e = h.events[i];
    if (e.op == Op::send) {
      queue.push_back(e.msg);
    } else if (head < queue.size()) {
      e.res = Res::ok;
      e.has_msg = true;
      e.msg = queue[head++];
      e.len = 64;
    } else {
      e.res = Res::empty;
    }
  }
  return h;
}

double time_check(const History &h, Verdict &v) {
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    v = ipcv::spec::check_linearizable(h, {});
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

const char *kind(Verdict::Kind k) {
  return k == Verdict::pass ? "pass" : k == Verdict::fail ? "fail" : "unknown";
}

} // namespace

int main(int argc, char **argv) {
  const std::size_t ops = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  History h = simulate(ops, seed);
  std::size_t empties = 0;
  for (const Event &e : h.events)
    empties += e.res == Res::empty;

  Verdict v;
  double s = time_check(h, v);
  std::printf("linearizable  events %zu (empty receives %zu)  seconds %.4f  verdict %s\n",
              h.events.size(), empties, s, kind(v.kind));
  const bool ok_passes = v.kind == Verdict::pass;

  // Swap what two receives of one consumer got, where both sends returned before the first of
  // them was called: a reordering (VOrd) the check must catch.
  const std::size_t per = ops / 4 + 1; // sends per producer, at most
  std::vector<std::size_t> send_of(4 * per);
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].op == Op::send)
      send_of[(h.events[i].msg.producer - 1) * per + h.events[i].msg.seq] = i;
  auto sender = [&](const Event &r) {
    return h.events[send_of[(r.msg.producer - 1) * per + r.msg.seq]];
  };
  std::size_t first = 0, second = 0;
  for (std::size_t i = 0; i < h.events.size() && second == 0; ++i) {
    const Event &r1 = h.events[i];
    if (r1.op != Op::recv || r1.res != Res::ok || i < h.events.size() / 2)
      continue;
    for (std::size_t j = i + 1; j < h.events.size(); ++j) {
      const Event &r2 = h.events[j];
      if (r2.pid == r1.pid && r2.res == Res::ok && sender(r1).ret < sender(r2).call &&
          sender(r2).ret < r1.call) {
        first = i;
        second = j;
        break;
      }
    }
  }
  std::swap(h.events[first].msg, h.events[second].msg);
  s = time_check(h, v);
  std::printf("linearizable  events %zu (two receives swapped)  seconds %.4f  verdict %s: %s\n",
              h.events.size(), s, kind(v.kind), v.explanation.c_str());
  const bool bad_fails = v.kind == Verdict::fail;

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %ld KiB\n", ru.ru_maxrss);
  return ok_passes && bad_fails ? 0 : 1;
}
