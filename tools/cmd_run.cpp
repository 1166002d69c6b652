// `ipcverify run`: the engine from the command line. Runs generated workloads against each
// channel until its share of the time budget is spent (or --cases ran), judges every spec,
// prints the verdict matrix (channel × spec) and, for each broken claim, the shrunk workload,
// its witness timeline and a one-line replay command. With --workload it replays one
// counterexample --attempts times and says how often it reproduced.
#include "channel_args.hpp"
#include "command.hpp"
#include "expected.hpp"
#include "junit.hpp"
#include "plugin_args.hpp"
#include "run_report.hpp"

#include "harness/interrupt.hpp"
#include "harness/process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <unistd.h>

namespace ipcv::cli {
namespace {

struct RunOptions {
  std::vector<std::string> channels;
  std::vector<std::string> specs;
  std::string mode = "process";
  int cases = 0;
  std::optional<std::uint64_t> seed;
  double budget = 60;
  std::string json, markdown, workload, junit;
  int attempts = engine::kReplayAttempts;
  int case_budget_ms = 2500;
  int bound_ms = 1000;
  int slack_ms = 100;
  std::uint32_t max_messages = 100000;
  bool include_faulty = false;
  bool no_crash = false;
  std::vector<std::string> plugins;
  std::vector<std::string> expected;
  bool strict = false;
};

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
  eo.slack = std::chrono::milliseconds(o.slack_ms);
  eo.max_messages = o.max_messages;
  return true;
}

/// A row of `interrupted` cells for a channel the run never reached.
Row interrupted_row(const ChannelEntry &e, const std::vector<std::string> &specs,
                    std::uint64_t seed) {
  Row row{e.name, {}};
  for (const auto &s : specs) {
    engine::SpecResult r;
    r.channel = e.name;
    r.spec = s;
    r.seed = seed;
    r.kind = engine::SpecResult::interrupted;
    r.observed = "interrupted before this channel ran";
    row.result.cells.push_back(std::move(r));
  }
  return row;
}

/// Runs the campaign of every picked channel in turn, each with its share of the budget, with
/// a progress line on stderr; channels after an interrupt get rows of `interrupted` cells.
std::vector<Row> run_campaigns(const std::vector<const ChannelEntry *> &picked, engine::Options eo,
                               double budget, const std::vector<std::string> &specs) {
  std::vector<Row> rows;
  const bool tty = ::isatty(2) != 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < picked.size(); ++i) {
    const ChannelEntry *e = picked[i];
    if (harness::interrupted() != 0) {
      rows.push_back(interrupted_row(*e, specs, eo.seed));
      continue;
    }
    // What is left, shared among the channels still to run: time one channel did not use
    // (all its claims broken early) goes to the next.
    const double left =
        budget - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    eo.budget_s = std::max(1.0, left / static_cast<double>(picked.size() - i));
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
    rows.push_back({e->name, engine::run_campaign(*e, eo)});
    const auto &res = rows.back().result;
    const auto fails = std::count_if(res.cells.begin(), res.cells.end(), [](const auto &r) {
      return r.kind == engine::SpecResult::fail;
    });
    std::fprintf(stderr,
                 "%s[%s] %s: %d cases, %ld claims broken, %.1f s, longest case %u "
                 "messages per sender\n",
                 tty ? "\r" : "", e->name.c_str(), harness::interrupted() ? "interrupted" : "done",
                 res.cases, static_cast<long>(fails), res.seconds, res.longest);
  }
  return rows;
}

/// Replays one counterexample; false after a one-line message on bad input.
bool replay_one(const RunOptions &o, const ChannelEntry &e, const engine::Options &eo,
                std::vector<Row> &rows) {
  std::string error;
  auto w = harness::parse_workload(o.workload, error);
  if (!w) {
    std::fprintf(stderr, "ipcverify run: %s\n", error.c_str());
    return false;
  }
  std::fprintf(stderr, "replaying %s × %s, %d attempts\n", e.name.c_str(), o.specs[0].c_str(),
               o.attempts);
  Row row{e.name, {}};
  row.result.cells.push_back(engine::replay(e, *w, o.specs[0], eo, o.attempts));
  rows.push_back(std::move(row));
  return true;
}

/// Writes the JSON and Markdown reports the options ask for; false after a one-line message.
bool write_reports(const RunOptions &o, const RunContext &ctx, const std::vector<std::string> &cols,
                   const std::vector<Row> &rows) {
  if (!o.json.empty() && !write_file(o.json, to_json(ctx, rows).dump(2) + "\n")) {
    std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.json.c_str());
    return false;
  }
  if (!o.markdown.empty() && !write_file(o.markdown, to_markdown(ctx, cols, rows))) {
    std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.markdown.c_str());
    return false;
  }
  if (!o.junit.empty() &&
      !junit::write(o.junit, junit::to_xml("ipcverify run", junit::from_run(rows)))) {
    std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.junit.c_str());
    return false;
  }
  return true;
}

int run(const RunOptions &o) {
  Record record;
  record.strict = o.strict;
  if (!load_plugins("ipcverify", o.plugins) || !load_record("ipcverify run", o.expected, record))
    return kExitUsage;
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
  if (!o.workload.empty() && (picked.size() != 1 || o.specs.size() != 1)) {
    std::fprintf(stderr, "ipcverify run: --workload replays one case: give exactly one "
                         "--channel and one --spec\n");
    return kExitUsage;
  }
  std::vector<std::string> specs = o.specs.empty() ? harness::judgeable_specs() : o.specs;
  const auto selected = [&](const char *s) {
    return std::find(specs.begin(), specs.end(), s) != specs.end();
  };
  if (o.workload.empty() && selected(harness::kIsolation) && !selected(harness::kRun)) {
    // The probes can break `run` (a child that hangs in the channel), which every channel owes:
    // judged alone, `isolation` would show that as "not judged" and exit 0.
    specs.insert(specs.begin(), harness::kRun);
    eo.specs = specs;
  }
  std::vector<Row> rows;
  if (!o.workload.empty()) {
    if (!replay_one(o, *picked[0], eo, rows))
      return kExitUsage;
  } else {
    std::fprintf(stderr, "ipcverify run: %zu channel(s), mode %s, seed %llu, budget %.0f s%s\n",
                 picked.size(), o.mode.c_str(), static_cast<unsigned long long>(eo.seed), o.budget,
                 o.cases ? fmt::format(", at most {} cases each", o.cases).c_str() : "");
    rows = run_campaigns(picked, eo, o.budget, specs);
    mark_known(rows, record); // a replay says only whether it reproduced
  }
  print_matrix(stdout, specs, rows, false);
  print_campaigns(stdout, rows, false);
  print_details(stdout, rows, false);
  if (!o.workload.empty())
    fmt::print("{}\n", rows.front().result.cells.front().observed);
  const RunContext ctx{o.mode, eo.seed, o.budget, harness::interrupted() != 0};
  if (!write_reports(o, ctx, specs, rows))
    return kExitUsage;
  if (const int sig = harness::interrupted()) {
    std::fprintf(stderr,
                 "ipcverify run: interrupted by %s; every actor was reaped and every "
                 "instance destroyed\n",
                 harness::signal_name(sig).c_str());
    return harness::interrupted_status(sig);
  }
  if (!o.workload.empty())
    return rows.front().result.cells.front().kind == engine::SpecResult::fail ? kExitFailed
                                                                              : kExitOk;
  return run_fails("ipcverify run", rows, record) ? kExitFailed : kExitOk;
}

void add_run_command(CLI::App &app, int &status) {
  auto o = std::make_shared<RunOptions>();
  CLI::App *cmd = app.add_subcommand(
      "run", "Run generated multi-process workloads against channels and judge every spec");
  cmd->add_option("--channel", o->channels, "Channel to run (repeatable; default: all)");
  cmd->add_option("--spec", o->specs, "Spec to judge (repeatable; default: all)");
  cmd->add_option("--mode", o->mode, "process (fork, the real target) or thread")
      ->check(CLI::IsMember({"process", "thread"}));
  cmd->add_option("--time-budget", o->budget,
                  "Wall-clock budget in seconds, all channels (default 60; a campaign runs "
                  "the isolation probes, then cases until its share is spent, and at least "
                  "half its share)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cases", o->cases, "Generated cases per channel at most (default: no limit)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--seed", o->seed, "Seed of the generator (default: random, printed)");
  cmd->add_option("--max-messages", o->max_messages,
                  "Messages per sender of the long cases (default 100000; 0: no long cases)");
  cmd->add_option("--json", o->json, "Write the results as JSON to this file");
  cmd->add_option("--markdown", o->markdown, "Write the matrix and failures as Markdown");
  cmd->add_option("--junit", o->junit, "Write JUnit XML: a testcase per verdict cell");
  cmd->add_option("--workload", o->workload,
                  "Replay this one workload (from a counterexample) instead of generating");
  cmd->add_option("--attempts", o->attempts, "Replays of --workload (default 10)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--case-budget-ms", o->case_budget_ms,
                  "Deadline of every blocking call and the watchdog of one case")
      ->check(CLI::Range(100, 600000));
  cmd->add_option("--bound-ms", o->bound_ms,
                  "bounded-wait: longest a call may stay blocked while it could complete")
      ->check(CLI::Range(10, 600000));
  cmd->add_option("--slack-ms", o->slack_ms,
                  "deadline: how late after its deadline a call may return (default 100)")
      ->check(CLI::Range(1, 600000));
  cmd->add_flag("--no-crash", o->no_crash, "Do not generate crash plans");
  cmd->add_flag("--include-faulty", o->include_faulty, "Include the faulty-* fixtures");
  add_plugin_option(cmd, o->plugins);
  add_record_options(cmd, o->expected, o->strict);
  cmd->callback([o, &status] { status = run(*o); });
}

const CommandRegistrar registered_run{{"run", 20, add_run_command}};

} // namespace
} // namespace ipcv::cli
