// Reporting for ipcbench: the table on stdout (round trips, one-way rates, registers, skips and
// the project's targets as ratios within the run), the JSON file of docs/design.md ("Benchmark
// output"), and the check of such a file that the smoke test runs.
#include "ipcbench.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace ipcv::bench {
namespace {

std::string ns_text(double ns) {
  if (ns < 1e3)
    return fmt::format("{:.0f} ns", ns);
  if (ns < 1e6)
    return fmt::format("{:.1f} us", ns / 1e3);
  return fmt::format("{:.2f} ms", ns / 1e6);
}

std::string rate_text(double per_s) {
  if (per_s >= 1e6)
    return fmt::format("{:.2f} M/s", per_s / 1e6);
  if (per_s >= 1e3)
    return fmt::format("{:.1f} k/s", per_s / 1e3);
  return fmt::format("{:.0f} /s", per_s);
}

const Measurement *find(const std::vector<Measurement> &rs, std::string_view channel, Pattern p,
                        Wait w, std::size_t size) {
  for (const auto &m : rs)
    if (m.ok && m.point.channel->name == channel && m.point.pattern == p && m.point.wait == w &&
        m.point.size == size)
      return &m;
  return nullptr;
}

/// The stream result of `channel` at `size` with the higher rate over both wait modes.
const Measurement *best_stream(const std::vector<Measurement> &rs, std::string_view channel,
                               std::size_t size) {
  const Measurement *s = find(rs, channel, Pattern::stream, Wait::spin, size);
  const Measurement *b = find(rs, channel, Pattern::stream, Wait::block, size);
  if (s == nullptr)
    return b;
  if (b == nullptr)
    return s;
  return s->msgs_per_s >= b->msgs_per_s ? s : b;
}

/// Width of the channel column: the longest name among `rows`, at least "channel".
std::size_t name_width(const std::vector<const Measurement *> &rows) {
  std::size_t w = 12;
  for (const Measurement *m : rows)
    w = std::max(w, m->point.channel->name.size());
  return w;
}

/// The cache-line round trip a pingpong result is compared with: the one its own processes
/// measured just before it, or the run's baseline when there is none.
double line_of(const Baselines &base, const Measurement &m) {
  return m.line_ns_p50 > 0 ? m.line_ns_p50 : base.cacheline_rtt_ns;
}

void print_pingpong(const Baselines &base, const std::vector<const Measurement *> &rows) {
  const std::size_t w = name_width(rows);
  fmt::print("{:<{}} {:<5} {:>7} {:>10} {:>10} {:>9} {:>9} {:>9}\n", "channel", w, "wait", "size",
             "rtt p50", "rtt p99", "line p50", "p50/line", "rounds");
  for (const Measurement *m : rows)
    fmt::print("{:<{}} {:<5} {:>7} {:>10} {:>10} {:>9} {:>8.1f}x {:>9}\n", m->point.channel->name,
               w, to_string(m->point.wait), size_text(m->point.size), ns_text(m->rtt_ns_p50),
               ns_text(m->rtt_ns_p99), ns_text(line_of(base, *m)),
               m->rtt_ns_p50 / line_of(base, *m), m->count);
}

void print_stream(const Baselines &base, const std::vector<const Measurement *> &rows) {
  const std::size_t w = name_width(rows);
  fmt::print("{:<{}} {:<5} {:>7} {:>12} {:>8} {:>11} {:>9}\n", "channel", w, "wait", "size",
             "msgs/s", "GB/s", "of memcpy", "messages");
  for (const Measurement *m : rows)
    fmt::print("{:<{}} {:<5} {:>7} {:>12} {:>8.3f} {:>10.1f}% {:>9}\n", m->point.channel->name, w,
               to_string(m->point.wait), size_text(m->point.size), rate_text(m->msgs_per_s),
               m->gbps, 100.0 * m->gbps / base.memcpy_gbps, m->count);
}

/// One line of the targets section: PASS/MISS with the ratio, or n/a with the reason.
void target(std::string_view what, const char *need, bool have, double ratio, bool pass,
            const std::string &detail) {
  if (!have) {
    fmt::print("  n/a   {:<46} {}\n", what, detail);
    return;
  }
  fmt::print("  {}  {:<46} {:>7.2f}{}  ({})\n", pass ? "PASS" : "MISS", what, ratio, need, detail);
}

void print_targets(const Baselines &base, const std::vector<Measurement> &rs) {
  const std::string_view spsc = "shm-spsc";
  const std::string_view pipe = "pipe";
  fmt::print("\ntargets (ratios within this run; a MISS is reported, never fails the run):\n");

  const Measurement *rtt = find(rs, spsc, Pattern::pingpong, Wait::spin, 64);
  if (rtt != nullptr) {
    // Against the line measured just before by the same processes, both less the clock read
    // every sample holds (it would pull the ratio towards 1).
    const double line = line_of(base, *rtt);
    const double r = (rtt->rtt_ns_p50 - base.clock_ns) / (line - base.clock_ns);
    target("shm-spsc 64 B round trip, spin <= 2x line", "x", true, r, r <= 2.0,
           fmt::format("{} vs {} for the line just before, less {} per clock read each",
                       ns_text(rtt->rtt_ns_p50), ns_text(line), ns_text(base.clock_ns)));
  } else {
    target("shm-spsc 64 B round trip, spin <= 2x line", "", false, 0, false,
           "not measured (shm-spsc pingpong spin 64 B)");
  }

  const Measurement *fast = best_stream(rs, spsc, 64);
  const Measurement *slow = best_stream(rs, pipe, 64);
  if (fast != nullptr && slow != nullptr) {
    const double r = fast->msgs_per_s / slow->msgs_per_s;
    target("shm-spsc 64 B one way >= 30x pipe", "x", true, r, r >= 30.0,
           fmt::format("{} {} vs {} {}, best wait of each", rate_text(fast->msgs_per_s),
                       to_string(fast->point.wait), rate_text(slow->msgs_per_s),
                       to_string(slow->point.wait)));
  } else {
    target("shm-spsc 64 B one way >= 30x pipe", "", false, 0, false,
           "not measured (stream 64 B of shm-spsc and pipe)");
  }

  // 1 MiB, or the largest default size within the channel's maximum when that is lower.
  std::size_t want = 0;
  if (const ChannelEntry *e = find_channel(spsc))
    for (std::size_t s : kDefaultSizes)
      if (s <= e->claims.max_message)
        want = s;
  const Measurement *big = want ? best_stream(rs, spsc, want) : nullptr;
  if (big != nullptr) {
    const double half = base.memcpy_gbps / 2;
    const double r = big->gbps / half;
    std::string at;
    if (want != kDefaultSizes.back())
      at = fmt::format("; at {}: 1 MiB is over its max_message of {}", size_text(want),
                       size_text(big->point.channel->claims.max_message));
    target("shm-spsc 1 MiB one way >= 0.8x memcpy/2", "x", true, r, r >= 0.8,
           fmt::format("{:.2f} GB/s {} vs {:.2f} GB/s{}", big->gbps, to_string(big->point.wait),
                       half, at));
  } else {
    target("shm-spsc 1 MiB one way >= 0.8x memcpy/2", "", false, 0, false,
           fmt::format("not measured (shm-spsc stream {})", size_text(want ? want : 1 << 20)));
  }

  const Measurement *fut = find(rs, spsc, Pattern::pingpong, Wait::block, 64);
  const Measurement *pip = find(rs, pipe, Pattern::pingpong, Wait::block, 64);
  if (fut != nullptr && pip != nullptr) {
    const double r = fut->rtt_ns_p50 / pip->rtt_ns_p50;
    target("shm-spsc 64 B round trip, block <= pipe's", "x", true, r, r <= 1.0,
           fmt::format("{} vs {}", ns_text(fut->rtt_ns_p50), ns_text(pip->rtt_ns_p50)));
  } else {
    target("shm-spsc 64 B round trip, block <= pipe's", "", false, 0, false,
           "not measured (pingpong block 64 B of shm-spsc and pipe)");
  }
}

} // namespace

std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
    return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0)
    return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} B", bytes);
}

void print_report(const Baselines &base, const std::vector<Measurement> &results,
                  const std::vector<Skip> &skips, bool show_targets) {
  fmt::print("baselines: cache-line round trip {} (p99 {}), memcpy {:.2f} GB/s; one clock "
             "read {:.0f} ns (in every round-trip sample)\n",
             ns_text(base.cacheline_rtt_ns), ns_text(base.cacheline_rtt_p99_ns), base.memcpy_gbps,
             base.clock_ns);
  if (!base.note.empty())
    fmt::print("warning: {}\n", base.note);
  std::vector<const Measurement *> rtt, one_way, reg;
  for (const auto &m : results) {
    if (!m.ok)
      continue;
    if (is_register(*m.point.channel))
      reg.push_back(&m);
    else
      (m.point.pattern == Pattern::pingpong ? rtt : one_way).push_back(&m);
  }
  if (!rtt.empty()) {
    fmt::print("\nround trip (pingpong: A sends, B answers on a second instance, A receives; "
               "line: the bare cache-line round trip of the same two processes just before)\n");
    print_pingpong(base, rtt);
  }
  if (!one_way.empty()) {
    fmt::print("\none way (stream: A sends as fast as B receives; GB/s counts payload bytes)\n");
    print_stream(base, one_way);
  }
  if (!reg.empty()) {
    fmt::print("\nlatest-value registers (pingpong: A writes, B polls until the new value shows "
               "and writes it back)\n");
    print_pingpong(base, reg);
  }
  std::size_t failed = 0;
  for (const auto &m : results)
    failed += m.ok ? 0 : 1;
  if (failed > 0) {
    fmt::print("\nfailed ({}):\n", failed);
    for (const auto &m : results)
      if (!m.ok)
        fmt::print("  {} {} {} {}: {}\n", m.point.channel->name, to_string(m.point.pattern),
                   to_string(m.point.wait), size_text(m.point.size), m.error);
  }
  if (!skips.empty()) {
    fmt::print("\nskipped:\n");
    for (const auto &s : skips)
      fmt::print("  {} {}: {}\n", s.channel, s.what, s.why);
  }
  if (show_targets)
    print_targets(base, results);
  std::fflush(stdout);
}

bool write_json(const std::string &path, const Baselines &base,
                const std::vector<Measurement> &results, std::string &error) {
  using nlohmann::ordered_json;
  ordered_json b;
  b["cacheline_rtt_ns"] = base.cacheline_rtt_ns;
  b["memcpy_gbps"] = base.memcpy_gbps;
  std::string text = "{\"baselines\":" + b.dump() + ",\n \"results\":[";
  bool first = true;
  for (const auto &m : results) {
    if (!m.ok)
      continue;
    ordered_json r;
    r["channel"] = m.point.channel->name;
    r["pattern"] = to_string(m.point.pattern);
    r["wait"] = to_string(m.point.wait);
    r["size"] = m.point.size;
    if (m.point.pattern == Pattern::pingpong) {
      r["rtt_ns_p50"] = m.rtt_ns_p50;
      r["rtt_ns_p99"] = m.rtt_ns_p99;
    } else {
      r["msgs_per_s"] = m.msgs_per_s;
      r["gbps"] = m.gbps;
    }
    text += (first ? "\n  " : ",\n  ") + r.dump();
    first = false;
  }
  text += "]}\n";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << text) || !out.flush()) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

bool check_json(const std::string &path, std::string &summary, std::string &error) {
  using nlohmann::json;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = path + ": not a JSON object";
    return false;
  }
  auto positive = [](const json &o, const char *key) {
    return o.is_object() && o.contains(key) && o[key].is_number() && o[key].get<double>() > 0;
  };
  if (!j.contains("baselines") || !positive(j["baselines"], "cacheline_rtt_ns") ||
      !positive(j["baselines"], "memcpy_gbps")) {
    error = path + ": baselines.cacheline_rtt_ns and baselines.memcpy_gbps must be > 0";
    return false;
  }
  if (!j.contains("results") || !j["results"].is_array()) {
    error = path + ": no results array";
    return false;
  }
  std::set<std::string> seen;
  std::size_t i = 0;
  for (const auto &r : j["results"]) {
    const bool named = r.is_object() && r.contains("channel") && r["channel"].is_string() &&
                       r.contains("pattern") && r.contains("wait") && r.contains("size") &&
                       r["size"].is_number_unsigned();
    const bool numbers = named && (r["pattern"] == "pingpong"
                                       ? positive(r, "rtt_ns_p50") && positive(r, "rtt_ns_p99")
                                       : r["pattern"] == "stream" && positive(r, "msgs_per_s") &&
                                             positive(r, "gbps"));
    if (!numbers || (r["wait"] != "spin" && r["wait"] != "block")) {
      error = fmt::format("{}: result {} is malformed: {}", path, i, r.dump());
      return false;
    }
    seen.insert(r["channel"].get<std::string>());
    ++i;
  }
  std::string missing;
  std::size_t expected = 0;
  for (const auto &e : channels()) {
    if (e.faulty)
      continue;
    ++expected;
    if (!seen.count(e.name))
      missing += (missing.empty() ? "" : ", ") + e.name;
  }
  if (!missing.empty()) {
    error = fmt::format("{}: no result for registered channel(s): {}", path, missing);
    return false;
  }
  summary =
      fmt::format("{}: both baselines, {} results, all {} registered channels", path, i, expected);
  return true;
}

} // namespace ipcv::bench
