// Timelines of witness events (see timeline.hpp). Example, two lanes:
//
//         time  pid 1                      pid 2
//        +0 ns  send (1,0) 64B [L2]        .
//      +500 ns  `-> ok                     .
//      +600 ns  .                          recv [L5]
//      +900 ns  .                          `-> ok (1,0) 64B TORN
#include "timeline.hpp"

#include "msg_index.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ipcv::spec {
namespace {

constexpr std::size_t kTimeWidth = 13;
constexpr std::size_t kMinLane = 16;
constexpr std::size_t kMaxLane = 34;

std::string relative(std::int64_t dt, std::int64_t span) {
  if (span < 10'000)
    return fmt::format("+{} ns", dt);
  if (span < 1'000'000)
    return fmt::format("+{:.3f} us", static_cast<double>(dt) / 1e3);
  if (span < 1'000'000'000)
    return fmt::format("+{:.3f} ms", static_cast<double>(dt) / 1e6);
  return fmt::format("+{:.3f} s", static_cast<double>(dt) / 1e9);
}

std::string call_text(const Event &e) {
  std::string s(to_string(e.op));
  if (e.has_msg && (e.op == Op::send || e.op == Op::write))
    s += " " + to_string(e.msg);
  if (e.op == Op::send)
    s += fmt::format(" {}B", e.len);
  if (e.line != 0)
    s += fmt::format(" [L{}]", e.line);
  return s;
}

std::string return_text(const Event &e) {
  std::string s = fmt::format("`-> {}", to_string(e.res));
  if (e.has_msg && (e.op == Op::recv || e.op == Op::read))
    s += " " + to_string(e.msg);
  if (e.op == Op::recv && e.res == Res::ok)
    s += fmt::format(" {}B", e.len);
  if ((e.op == Op::recv || e.op == Op::read) && e.res == Res::ok && !e.intact)
    s += " TORN";
  return s;
}

std::string fit(std::string s, std::size_t w) {
  if (s.size() >= w)
    s.resize(w - 1);
  s.resize(w, ' ');
  return s;
}

struct Row {
  std::int64_t t;
  int kind; ///< 0 return, 1 call, 2 end of a pending call
  std::size_t event;
};

} // namespace

std::string render_timeline(const History &h, const std::vector<std::size_t> &witnesses,
                            std::size_t width) {
  std::vector<std::size_t> ev;
  for (std::size_t w : witnesses)
    if (w < h.events.size() && std::find(ev.begin(), ev.end(), w) == ev.end())
      ev.push_back(w);
  if (ev.empty())
    return {};
  std::sort(ev.begin(), ev.end(),
            [&](std::size_t a, std::size_t b) { return h.events[a].call < h.events[b].call; });
  const std::int64_t t0 = h.events[ev.front()].call;
  std::int64_t t1 = t0;
  for (std::size_t i : ev)
    t1 = std::max(t1, h.events[i].pending() ? h.events[i].call : h.events[i].ret);
  const std::int64_t span = t1 - t0;

  std::vector<std::uint32_t> lanes;
  for (std::size_t i : ev)
    if (std::find(lanes.begin(), lanes.end(), h.events[i].pid) == lanes.end())
      lanes.push_back(h.events[i].pid);

  std::string out;
  const std::size_t room = width > kTimeWidth + 2 ? width - kTimeWidth - 2 : 0;
  if (lanes.size() * kMinLane > room) { // too many processes for lanes: one row per event
    for (std::size_t i : ev) {
      const Event &e = h.events[i];
      std::string line =
          fmt::format("{:>{}}  pid {}: {} {}", relative(e.call - t0, span), kTimeWidth, e.pid,
                      call_text(e), e.pending() ? "(never returned)" : return_text(e));
      if (!e.pending())
        line += " at " + relative(e.ret - t0, span);
      if (line.size() > width)
        line.resize(width);
      out += line + '\n';
    }
    return out;
  }
  const std::size_t lane_w = std::min(kMaxLane, room / lanes.size());

  std::vector<Row> rows;
  for (std::size_t i : ev) {
    const Event &e = h.events[i];
    rows.push_back({e.call, 1, i});
    rows.push_back(e.pending() ? Row{t1, 2, i} : Row{e.ret, 0, i});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    return a.t != b.t ? a.t < b.t : a.kind < b.kind;
  });

  auto lane_of = [&](std::size_t i) {
    return static_cast<std::size_t>(std::find(lanes.begin(), lanes.end(), h.events[i].pid) -
                                    lanes.begin());
  };
  std::string head = fmt::format("{:>{}}  ", "time", kTimeWidth);
  for (std::uint32_t pid : lanes)
    head += fit(fmt::format("pid {}", pid), lane_w);
  while (!head.empty() && head.back() == ' ')
    head.pop_back();
  out += head + '\n';
  std::vector<int> open(lanes.size(), 0); // calls in flight per lane
  for (const Row &r : rows) {
    const std::size_t lane = lane_of(r.event);
    const Event &e = h.events[r.event];
    std::string line =
        fmt::format("{:>{}}  ", r.kind == 2 ? "(end)" : relative(r.t - t0, span), kTimeWidth);
    if (r.kind == 0 || r.kind == 2)
      --open[lane];
    for (std::size_t l = 0; l < lanes.size(); ++l) {
      std::string cell = open[l] > 0 ? "|" : ".";
      if (l == lane)
        cell = r.kind == 1 ? call_text(e) : r.kind == 0 ? return_text(e) : "`-> never returned";
      line += fit(cell, lane_w);
    }
    if (r.kind == 1)
      ++open[lane];
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + '\n';
  }
  return out;
}

} // namespace ipcv::spec
