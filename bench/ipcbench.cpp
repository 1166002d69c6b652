// `ipcbench`: latency and throughput of every registered channel — kernel message passing and
// shared memory side by side — against two physical baselines measured in the same run. It is
// a custom harness rather than Google Benchmark because every point needs two forked processes
// pinned to different CPUs that connect after fork and start together at a barrier, a round
// trip needs per-iteration percentiles rather than a mean, the parent must reap the children
// and destroy the OS objects on every path, and the JSON layout is fixed by docs/design.md
// ("Benchmark output"); Google Benchmark runs its loops in one process and owns its own output.
//
// Exit status: 0 every point ran, 1 a point failed (the table says which), 2 bad usage, 128 +
// the signal when interrupted (130 for Ctrl-C).
#include "ipcbench.hpp"

#include "harness/interrupt.hpp"
#include "harness/process.hpp"
#include "tools/plugin_args.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <map>
#include <optional>

namespace ipcv::bench {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

const std::vector<std::size_t> kQuickSizes = {64, 4096};

/// "4096", "4K", "4KiB", "64k", "1M", "1MiB" -> bytes; nullopt when not a size.
std::optional<std::size_t> parse_size(const std::string &text) {
  std::size_t pos = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &pos);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(pos);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const std::map<std::string, unsigned> kShift = {
      {"", 0}, {"b", 0}, {"k", 10}, {"kib", 10}, {"kb", 10}, {"m", 20}, {"mib", 20}, {"mb", 20}};
  auto it = kShift.find(unit);
  if (it == kShift.end() || v > (1ull << 40))
    return std::nullopt;
  return static_cast<std::size_t>(v) << it->second;
}

/// Options as parsed.
struct Options {
  std::vector<std::string> channels;
  std::vector<std::string> plugins;
  std::vector<std::string> patterns;
  std::vector<std::string> waits;
  std::vector<std::string> sizes;
  std::uint64_t iterations = 1'000'000;
  double seconds = 0.25;
  bool quick = false;
  std::string json;
  std::string check_json;
};

/// The points to run, in table order, and what is skipped and why.
struct Plan {
  std::vector<Point> points;
  std::vector<Skip> skips;
};

Plan make_plan(const std::vector<const ChannelEntry *> &chosen, const std::vector<Pattern> &pats,
               const std::vector<Wait> &waits, const std::vector<std::size_t> &sizes, bool quick) {
  Plan plan;
  for (const ChannelEntry *e : chosen) {
    const std::size_t max = e->claims.max_message;
    std::vector<std::size_t> fit;
    std::string over;
    for (std::size_t s : sizes) {
      if (s <= max)
        fit.push_back(s);
      else
        over += (over.empty() ? "" : ", ") + size_text(s);
    }
    if (fit.empty() && quick && max >= 8)
      fit.push_back(std::min<std::size_t>(max, 64));
    if (!over.empty())
      plan.skips.push_back(
          {e->name, over, fmt::format("over its max_message of {}", size_text(max))});
    for (Pattern p : pats) {
      if (p == Pattern::stream && is_register(*e)) {
        plan.skips.push_back({e->name, "stream",
                              "a latest-value register keeps only the newest value, so a one-way "
                              "message rate is not defined (its round trip is measured)"});
        continue;
      }
      if (p == Pattern::stream && !e->claims.promises("no-loss")) {
        plan.skips.push_back({e->name, "stream",
                              "it does not claim no-loss, so a one-way rate "
                              "would count messages it may drop"});
        continue;
      }
      for (Wait w : waits) {
        if (w == Wait::block && is_register(*e)) {
          if (p == Pattern::pingpong)
            plan.skips.push_back({e->name, "pingpong block",
                                  "a register's recv waits only for the first write and then "
                                  "returns the current value at once, so a blocking round trip "
                                  "would be the spin one under another name"});
          continue;
        }
        for (std::size_t s : fit)
          plan.points.push_back({e, p, w, s});
      }
    }
  }
  return plan;
}

std::string point_text(const Point &p) {
  return fmt::format("{} {} {} {}", p.channel->name, to_string(p.pattern), to_string(p.wait),
                     size_text(p.size));
}

std::string result_text(const Measurement &m) {
  if (!m.ok)
    return "FAILED: " + m.error;
  if (m.point.pattern == Pattern::pingpong)
    return fmt::format("rtt p50 {:.0f} ns, p99 {:.0f} ns ({} rounds)", m.rtt_ns_p50, m.rtt_ns_p99,
                       m.count);
  return fmt::format("{:.4g} msgs/s, {:.3f} GB/s ({} messages)", m.msgs_per_s, m.gbps, m.count);
}

/// The channels named by --channel (all that are not fixtures when none), without repeats;
/// false after a one-line message on an unknown name.
bool choose_channels(const Options &o, std::vector<const ChannelEntry *> &chosen) {
  if (o.channels.empty()) {
    for (const auto &e : channels())
      if (!e.faulty)
        chosen.push_back(&e);
    return true;
  }
  for (const auto &name : o.channels) {
    const ChannelEntry *e = find_channel(name);
    if (e == nullptr) {
      std::string known;
      for (const auto &c : channels())
        known += (known.empty() ? "" : ", ") + c.name;
      fmt::print(stderr, "ipcbench: unknown channel '{}' (registered: {})\n", name, known);
      return false;
    }
    if (std::find(chosen.begin(), chosen.end(), e) == chosen.end())
      chosen.push_back(e);
  }
  return true;
}

/// The sizes of --size (the defaults when none); false after a one-line message on a bad one.
bool choose_sizes(const Options &o, std::vector<std::size_t> &sizes) {
  for (const auto &text : o.sizes) {
    auto s = parse_size(text);
    if (!s || *s < 8) {
      fmt::print(stderr,
                 "ipcbench: --size {}: want a byte count of at least 8 (the sequence "
                 "number), e.g. 64, 4K, 1MiB\n",
                 text);
      return false;
    }
    if (std::find(sizes.begin(), sizes.end(), *s) == sizes.end())
      sizes.push_back(*s);
  }
  if (sizes.empty())
    sizes = o.quick ? kQuickSizes
                    : std::vector<std::size_t>(kDefaultSizes.begin(), kDefaultSizes.end());
  return true;
}

/// The baselines measured again at the end folded into those of the start: the best of both,
/// and a note when the cache-line round trip moved by more than a quarter (a busy machine).
void fold_end_baselines(Baselines &base, const Baselines &end) {
  const double lo = std::min(base.cacheline_rtt_ns, end.cacheline_rtt_ns);
  const double hi = std::max(base.cacheline_rtt_ns, end.cacheline_rtt_ns);
  if (hi > 1.25 * lo)
    base.note = fmt::format("the cache-line round trip moved from {:.0f} ns to {:.0f} ns during "
                            "the run: the machine was busy and every ratio is noisy",
                            base.cacheline_rtt_ns, end.cacheline_rtt_ns);
  if (end.cacheline_rtt_ns < base.cacheline_rtt_ns) {
    base.cacheline_rtt_ns = end.cacheline_rtt_ns;
    base.cacheline_rtt_p99_ns = end.cacheline_rtt_p99_ns;
  }
  base.memcpy_gbps = std::max(base.memcpy_gbps, end.memcpy_gbps);
  base.clock_ns = std::min(base.clock_ns, end.clock_ns);
}

int run(const Options &o, bool iterations_given, bool seconds_given) {
  if (!o.check_json.empty()) {
    std::string summary, error;
    if (!check_json(o.check_json, summary, error)) {
      fmt::print(stderr, "ipcbench: {}\n", error);
      return kExitFailed;
    }
    fmt::print("ipcbench: {}\n", summary);
    return kExitOk;
  }

  std::vector<const ChannelEntry *> chosen;
  std::vector<std::size_t> sizes;
  if (!choose_channels(o, chosen) || !choose_sizes(o, sizes))
    return kExitUsage;
  std::vector<Pattern> pats;
  for (Pattern p : {Pattern::pingpong, Pattern::stream})
    if (o.patterns.empty() || std::count(o.patterns.begin(), o.patterns.end(), to_string(p)))
      pats.push_back(p);
  std::vector<Wait> waits;
  for (Wait w : {Wait::spin, Wait::block})
    if (o.waits.empty() || std::count(o.waits.begin(), o.waits.end(), to_string(w)))
      waits.push_back(w);
  Budget budget{o.iterations, o.seconds};
  if (o.quick) {
    if (!iterations_given)
      budget.iterations = 2000;
    if (!seconds_given)
      budget.seconds = 0.03;
  }

  const Plan plan = make_plan(chosen, pats, waits, sizes, o.quick);
  const CpuPair cpus = pick_cpus();
  if (cpus.pinned())
    fmt::print(stderr,
               "ipcbench: A on CPU {}, B on CPU {}; {} points, up to {} iterations or "
               "{} s each\n",
               cpus.a, cpus.b, plan.points.size(), budget.iterations, budget.seconds);
  else
    fmt::print(stderr, "ipcbench: fewer than 2 CPUs available: A and B are not pinned\n");

  auto measure = [&](Baselines &b) {
    b.memcpy_gbps = measure_memcpy_gbps(std::size_t{64} << 20, o.quick ? 3 : 7);
    b.clock_ns = clock_read_ns();
    std::string error;
    if (measure_cacheline_rtt(o.quick ? 20'000 : 200'000, cpus, b, error))
      return true;
    fmt::print(stderr, "ipcbench: cache-line baseline failed: {}\n", error);
    return false;
  };
  Baselines base;
  if (!measure(base))
    return kExitFailed;
  fmt::print(stderr, "ipcbench: baselines: cache-line round trip {:.1f} ns, memcpy {:.2f} GB/s\n",
             base.cacheline_rtt_ns, base.memcpy_gbps);

  std::vector<Measurement> results;
  results.reserve(plan.points.size());
  bool failed = false;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    if (harness::interrupted() != 0) {
      fmt::print(stderr, "ipcbench: interrupted; reporting what ran\n");
      failed = true;
      break;
    }
    const Point &p = plan.points[i];
    results.push_back(run_point(p, budget, cpus));
    failed |= !results.back().ok;
    fmt::print(stderr, "ipcbench: [{}/{}] {}: {}\n", i + 1, plan.points.size(), point_text(p),
               result_text(results.back()));
  }
  // Measured again at the end: the best of both is the baseline, and a large move says the
  // machine was busy during the run.
  if (!o.quick && !plan.points.empty() && harness::interrupted() == 0) {
    Baselines end;
    if (!measure(end))
      return kExitFailed;
    fmt::print(stderr,
               "ipcbench: baselines again: cache-line round trip {:.1f} ns, memcpy {:.2f} "
               "GB/s\n",
               end.cacheline_rtt_ns, end.memcpy_gbps);
    fold_end_baselines(base, end);
  }
  print_report(base, results, plan.skips, !o.quick);

  if (auto kids = harness::live_children(); !kids.empty()) {
    fmt::print(stderr, "ipcbench: {} child process(es) left unreaped\n", kids.size());
    failed = true;
  }
  if (!o.json.empty()) {
    if (std::string error; !write_json(o.json, base, results, error)) {
      fmt::print(stderr, "ipcbench: {}\n", error);
      return kExitFailed;
    }
    fmt::print(stderr, "ipcbench: wrote {}\n", o.json);
  }
  return failed ? kExitFailed : kExitOk;
}

} // namespace
} // namespace ipcv::bench

int main(int argc, char **argv) {
  using namespace ipcv::bench;
  CLI::App app{"ipcbench: round-trip latency and one-way throughput of every registered channel "
               "between two processes,\nagainst a shared-memory cache-line round trip and memcpy "
               "bandwidth measured in the same run.",
               "ipcbench"};
  Options o;
  app.add_option("--channel", o.channels, "channel to measure (repeatable; default: all)");
  ipcv::cli::add_plugin_option(&app, o.plugins);
  app.add_option("--pattern", o.patterns, "pingpong or stream (repeatable; default: both)")
      ->check(CLI::IsMember({"pingpong", "stream"}));
  app.add_option("--wait", o.waits, "spin or block (repeatable; default: both)")
      ->check(CLI::IsMember({"spin", "block"}));
  app.add_option("--size", o.sizes,
                 "message size, e.g. 64, 4K, 1MiB (repeatable; default: 8 B to 1 MiB)");
  auto *iters = app.add_option("--iterations", o.iterations,
                               "measured round trips / messages per point, at most (default 1e6)")
                    ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{20'000'000}));
  auto *secs = app.add_option("--seconds", o.seconds,
                              "measured seconds per point, at most; 0: no limit (default 0.25)")
                   ->check(CLI::Range(0.0, 3600.0));
  app.add_flag("--quick", o.quick, "smoke run: 2 sizes, few iterations, no targets section");
  app.add_option("--json", o.json, "also write the results as JSON (docs/design.md format)");
  app.add_option("--check-json", o.check_json,
                 "only check a JSON file written by --json: baselines and a result per channel");
  app.footer("Exit status: 0 every point ran, 1 a point failed, 2 bad usage, 130/143 interrupted.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "ipcbench: %s (see 'ipcbench --help')\n", e.what());
    return 2;
  }
  if (!ipcv::cli::load_plugins("ipcbench", o.plugins))
    return 2;
  // Ctrl-C reaches the children too (they run with the default action and die); the parent
  // reaps them, destroys the instances and reports what ran, then exits 128 + the signal. A
  // second signal exits at once, after killing the children and removing named objects.
  ipcv::harness::install_interrupt_handlers();
  try {
    const int status = run(o, iters->count() > 0, secs->count() > 0);
    // Interrupted, whatever else went wrong: what ran is reported, nothing else counts.
    if (const int sig = ipcv::harness::interrupted())
      return ipcv::harness::interrupted_status(sig);
    return status;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "ipcbench: %s\n", e.what());
    return 1;
  }
}
