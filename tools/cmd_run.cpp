// `ipcverify run`: the engine from the command line. Runs generated workloads against each
// channel, judges every spec, prints the verdict matrix (channel × spec) and, for each broken
// claim, the shrunk workload, its witness timeline and a one-line replay command.
#include "channel_args.hpp"
#include "command.hpp"
#include "harness/interrupt.hpp"
#include "property_tests/engine.hpp"
#include "specs/catalog.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <unistd.h>

namespace ipcv::cli {
namespace {

struct RunOptions {
  std::vector<std::string> channels;
  std::vector<std::string> specs;
  std::string mode = "process";
  int cases = 100;
  std::optional<std::uint64_t> seed;
  double budget = 120;
  std::string json, markdown, workload;
  int attempts = 20;
  int case_budget_ms = 2500;
  int bound_ms = 1000;
  bool include_faulty = false;
  bool no_crash = false;
};

std::string cell(const engine::SpecResult &r) {
  switch (r.kind) {
  case engine::SpecResult::pass:
    return "pass";
  case engine::SpecResult::fail:
    return "FAIL";
  case engine::SpecResult::not_claimed:
    return "n/c";
  case engine::SpecResult::skip:
    return "skip";
  case engine::SpecResult::interrupted:
    return "interrupted";
  }
  return "?";
}

std::string counterexample_text(const engine::SpecResult &r) {
  if (!r.counterexample)
    return "";
  const auto &c = *r.counterexample;
  if (r.spec == harness::kIsolation) // probes, not a workload
    return fmt::format("{}\nprobes:\n{}", c.explanation, c.timeline);
  return fmt::format("workload: {}{}\n{}\n{}", harness::to_string(c.workload),
                     c.shrink_cut ? "  (shrinking stopped at the time budget: the smallest "
                                    "failing workload found so far)"
                                  : "",
                     c.explanation, c.timeline);
}

void print_matrix(std::FILE *out, const std::vector<std::string> &specs,
                  const std::vector<std::vector<engine::SpecResult>> &rows, bool markdown) {
  if (markdown) {
    fmt::print(out, "| channel |");
    for (const auto &s : specs)
      fmt::print(out, " {} |", s);
    fmt::print(out, "\n|---|");
    for (std::size_t i = 0; i < specs.size(); ++i)
      fmt::print(out, "---|");
    fmt::print(out, "\n");
    for (const auto &row : rows) {
      fmt::print(out, "| {} |", row.front().channel);
      for (const auto &r : row)
        fmt::print(out, " {} |", cell(r));
      fmt::print(out, "\n");
    }
    return;
  }
  std::size_t w0 = 8;
  for (const auto &row : rows)
    w0 = std::max(w0, row.front().channel.size() + 1);
  fmt::print(out, "{:<{}}", "channel", w0);
  for (const auto &s : specs)
    fmt::print(out, " {:<{}}", s, std::max<std::size_t>(s.size(), 4));
  fmt::print(out, "\n");
  for (const auto &row : rows) {
    fmt::print(out, "{:<{}}", row.front().channel, w0);
    for (std::size_t i = 0; i < row.size(); ++i)
      fmt::print(out, " {:<{}}", cell(row[i]), std::max<std::size_t>(specs[i].size(), 4));
    fmt::print(out, "\n");
  }
  fmt::print(out,
             "(pass: claimed and held; FAIL: claimed and broken; n/c: not claimed, measured; "
             "skip: not applicable{})\n",
             harness::interrupted() ? "; interrupted: the run stopped before this was judged" : "");
}

void print_details(std::FILE *out, const std::vector<std::vector<engine::SpecResult>> &rows,
                   bool markdown) {
  for (const auto &row : rows)
    for (const auto &r : row) {
      if (r.kind == engine::SpecResult::fail) {
        fmt::print(out, "{}FAIL {} × {} (seed {}, {} cases)\n", markdown ? "\n### " : "\n",
                   r.channel, r.spec, r.seed, r.cases);
        if (markdown)
          fmt::print(out, "\n```\n");
        fmt::print(out, "{}", counterexample_text(r));
        fmt::print(out, "replay: {}\n", r.replay);
        if (markdown)
          fmt::print(out, "```\n");
      }
    }
  bool header = false;
  for (const auto &row : rows)
    for (const auto &r : row)
      if (r.kind == engine::SpecResult::not_claimed && !r.observed.empty() &&
          r.observed.find("did not hold") != std::string::npos) {
        if (!header)
          fmt::print(out, "\nNot claimed, observed:\n");
        header = true;
        fmt::print(out, "{}{} × {}: {}\n", markdown ? "- " : "  ", r.channel, r.spec, r.observed);
      }
}

nlohmann::json to_json(const std::vector<std::vector<engine::SpecResult>> &rows) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto &row : rows)
    for (const auto &r : row) {
      nlohmann::json j{
          {"channel", r.channel},
          {"spec", r.spec},
          {"verdict", std::string(engine::to_string(r.kind))},
          {"cases", r.cases},
          {"seed", r.seed},
          {"replay", r.replay.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.replay)},
          {"counterexample",
           r.counterexample ? nlohmann::json(counterexample_text(r)) : nlohmann::json(nullptr)}};
      if (!r.observed.empty())
        j["observed"] = r.observed;
      results.push_back(std::move(j));
    }
  return nlohmann::json{{"results", results}};
}

bool write_file(const std::string &path, const std::string &text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f);
}

/// The channels this shard of a campaign runs: GoogleTest's sharding protocol, every
/// GTEST_TOTAL_SHARDS-th channel starting at GTEST_SHARD_INDEX. False with `error` when the
/// variables are malformed.
bool take_shard(std::vector<const ChannelEntry *> &picked, std::string &error) {
  const char *total = std::getenv("GTEST_TOTAL_SHARDS");
  if (total == nullptr)
    return true;
  const char *index = std::getenv("GTEST_SHARD_INDEX");
  const long n = std::strtol(total, nullptr, 10), k = index ? std::strtol(index, nullptr, 10) : -1;
  if (n < 1 || k < 0 || k >= n) {
    error = "bad GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX";
    return false;
  }
  std::vector<const ChannelEntry *> mine;
  for (std::size_t i = 0; i < picked.size(); ++i)
    if (static_cast<long>(i % static_cast<std::size_t>(n)) == k)
      mine.push_back(picked[i]);
  picked = mine;
  return true;
}

/// The engine's options from the command line's; false with `error` on a bad combination.
bool engine_options(const RunOptions &o, engine::Options &eo, std::string &error) {
  for (const auto &s : o.specs)
    if (!harness::judgeable(s)) {
      error = fmt::format("unknown spec '{}' (known: {})", s,
                          fmt::join(harness::judgeable_specs(), ", "));
      return false;
    }
  if (o.bound_ms >= o.case_budget_ms) {
    error = "--bound-ms must be below --case-budget-ms";
    return false;
  }
  eo.mode = o.mode == "thread" ? harness::Mode::thread : harness::Mode::process;
  eo.cases = o.cases;
  eo.seed = o.seed ? *o.seed : std::random_device{}();
  eo.specs = o.specs;
  eo.crashes = !o.no_crash;
  eo.case_budget = std::chrono::milliseconds(o.case_budget_ms);
  eo.bound = std::chrono::milliseconds(o.bound_ms);
  return true;
}

/// A row of `interrupted` cells for a channel the run never reached.
std::vector<engine::SpecResult>
interrupted_row(const ChannelEntry &e, const std::vector<std::string> &specs, std::uint64_t seed) {
  std::vector<engine::SpecResult> row;
  for (const auto &s : specs) {
    engine::SpecResult r;
    r.channel = e.name;
    r.spec = s;
    r.seed = seed;
    r.kind = engine::SpecResult::interrupted;
    r.observed = "interrupted before this channel ran";
    row.push_back(std::move(r));
  }
  return row;
}

/// Runs the campaign of every picked channel in turn, with a progress line on stderr; channels
/// after an interrupt get rows of `interrupted` cells.
std::vector<std::vector<engine::SpecResult>>
run_campaigns(const std::vector<const ChannelEntry *> &picked, engine::Options eo, double budget,
              const std::vector<std::string> &specs) {
  std::vector<std::vector<engine::SpecResult>> rows;
  const bool tty = ::isatty(2) != 0;
  const double per_channel = budget / static_cast<double>(picked.size());
  for (const ChannelEntry *e : picked) {
    if (harness::interrupted() != 0) {
      rows.push_back(interrupted_row(*e, specs, eo.seed));
      continue;
    }
    eo.budget_s = per_channel;
    const auto t0 = std::chrono::steady_clock::now();
    auto last = t0;
    eo.progress = [&](int done, int broken) {
      const auto now = std::chrono::steady_clock::now();
      if (!tty && now - last < std::chrono::seconds(5))
        return;
      last = now;
      std::fprintf(stderr, "%s[%s] %d cases, %d claims broken, %.0f s%s", tty ? "\r" : "",
                   e->name.c_str(), done, broken, std::chrono::duration<double>(now - t0).count(),
                   tty ? "   " : "\n");
    };
    rows.push_back(engine::run_campaign(*e, eo));
    int fails = 0, cases = 0;
    for (const auto &r : rows.back()) {
      fails += r.kind == engine::SpecResult::fail;
      cases = std::max(cases, r.cases);
    }
    std::fprintf(stderr, "%s[%s] %s: %d cases, %d claims broken, %.1f s\n", tty ? "\r" : "",
                 e->name.c_str(), harness::interrupted() ? "interrupted" : "done", cases, fails,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return rows;
}

/// Writes the JSON and Markdown reports the options ask for; false after a one-line message.
bool write_reports(const RunOptions &o, const std::vector<std::string> &cols,
                   const std::vector<std::vector<engine::SpecResult>> &rows, std::uint64_t seed) {
  const bool stopped = harness::interrupted() != 0;
  if (!o.json.empty()) {
    nlohmann::json j = to_json(rows);
    j["interrupted"] = stopped;
    if (!write_file(o.json, j.dump(2) + "\n")) {
      std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.json.c_str());
      return false;
    }
  }
  if (!o.markdown.empty()) {
    char *buf = nullptr;
    std::size_t len = 0;
    std::FILE *mem = ::open_memstream(&buf, &len);
    fmt::print(mem, "# ipcverify report\n\nmode {}, seed {}{}\n\n", o.mode, seed,
               stopped ? " — interrupted: unfinished cells say so" : "");
    print_matrix(mem, cols, rows, true);
    print_details(mem, rows, true);
    std::fclose(mem);
    const std::string md(buf, len);
    std::free(buf);
    if (!write_file(o.markdown, md)) {
      std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.markdown.c_str());
      return false;
    }
  }
  return true;
}

int run(const RunOptions &o) {
  harness::install_interrupt_handlers();
  std::vector<const ChannelEntry *> picked;
  std::string error;
  engine::Options eo;
  if (!resolve_channels(o.channels, o.include_faulty, picked, error) ||
      !take_shard(picked, error) || !engine_options(o, eo, error)) {
    std::fprintf(stderr, "ipcverify run: %s\n", error.c_str());
    return kExitUsage;
  }
  if (picked.empty()) {
    std::fprintf(stderr, "ipcverify run: this shard has no channel\n");
    return kExitOk;
  }
  const std::vector<std::string> specs = o.specs.empty() ? harness::judgeable_specs() : o.specs;
  std::vector<std::vector<engine::SpecResult>> rows;
  if (!o.workload.empty()) {
    if (picked.size() != 1 || o.specs.size() != 1) {
      std::fprintf(stderr, "ipcverify run: --workload replays one case: give exactly one "
                           "--channel and one --spec\n");
      return kExitUsage;
    }
    auto w = harness::parse_workload(o.workload, error);
    if (!w) {
      std::fprintf(stderr, "ipcverify run: %s\n", error.c_str());
      return kExitUsage;
    }
    std::fprintf(stderr, "replaying %s × %s, up to %d attempts\n", picked[0]->name.c_str(),
                 o.specs[0].c_str(), o.attempts);
    rows.push_back({engine::replay(*picked[0], *w, o.specs[0], eo, o.attempts)});
  } else {
    std::fprintf(stderr, "ipcverify run: %zu channel(s), mode %s, seed %llu, budget %.0f s\n",
                 picked.size(), o.mode.c_str(), static_cast<unsigned long long>(eo.seed), o.budget);
    rows = run_campaigns(picked, eo, o.budget, specs);
  }
  const std::vector<std::string> &cols = o.workload.empty() ? specs : o.specs;
  print_matrix(stdout, cols, rows, false);
  print_details(stdout, rows, false);
  for (const auto &row : rows)
    for (const auto &r : row)
      if (!o.workload.empty() && !r.observed.empty())
        fmt::print("{}\n", r.observed);
  if (!write_reports(o, cols, rows, eo.seed))
    return kExitUsage;
  if (const int sig = harness::interrupted()) {
    std::fprintf(stderr,
                 "ipcverify run: interrupted by %s; every actor was reaped and every "
                 "instance destroyed\n",
                 sigabbrev_np(sig) ? (std::string("SIG") + sigabbrev_np(sig)).c_str() : "a signal");
    return harness::interrupted_status(sig);
  }
  for (const auto &row : rows)
    for (const auto &r : row)
      if (r.kind == engine::SpecResult::fail)
        return kExitFailed;
  return kExitOk;
}

void add(CLI::App &app, int &status) {
  auto o = std::make_shared<RunOptions>();
  CLI::App *cmd = app.add_subcommand(
      "run", "Run generated multi-process workloads against channels and judge every spec");
  cmd->add_option("--channel", o->channels, "Channel to run (repeatable; default: all)");
  cmd->add_option("--spec", o->specs, "Spec to judge (repeatable; default: all)");
  cmd->add_option("--mode", o->mode, "process (fork, the real target) or thread")
      ->check(CLI::IsMember({"process", "thread"}));
  cmd->add_option("--cases", o->cases, "Generated cases per channel at most")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--seed", o->seed, "Seed of the generator (default: random, printed)");
  cmd->add_option("--time-budget", o->budget, "Wall-clock budget in seconds, all channels")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--json", o->json, "Write the results as JSON to this file");
  cmd->add_option("--markdown", o->markdown, "Write the matrix and failures as Markdown");
  cmd->add_option("--workload", o->workload,
                  "Replay this one workload (from a counterexample) instead of generating");
  cmd->add_option("--attempts", o->attempts, "Replay attempts before calling it passing")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--case-budget-ms", o->case_budget_ms,
                  "Deadline of every blocking call and the watchdog of one case")
      ->check(CLI::Range(100, 600000));
  cmd->add_option("--bound-ms", o->bound_ms,
                  "bounded-wait: longest a call may stay blocked while it could complete")
      ->check(CLI::Range(10, 600000));
  cmd->add_flag("--no-crash", o->no_crash, "Do not generate crash plans");
  cmd->add_flag("--include-faulty", o->include_faulty, "Include the faulty-* fixtures");
  cmd->callback([o, &status] { status = run(*o); });
}

const CommandRegistrar reg{{"run", 20, add}};

} // namespace
} // namespace ipcv::cli
