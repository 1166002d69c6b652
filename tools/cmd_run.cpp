// `ipcverify run`: the engine from the command line. Runs generated workloads against each
// channel, judges every spec, prints the verdict matrix (channel × spec) and, for each broken
// claim, the shrunk workload, its witness timeline and a one-line replay command.
#include "channel_args.hpp"
#include "command.hpp"
#include "property_tests/engine.hpp"
#include "specs/catalog.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  case engine::SpecResult::skipped:
    return "skip";
  }
  return "?";
}

std::string counterexample_text(const engine::SpecResult &r) {
  if (!r.counterexample)
    return "";
  const auto &c = *r.counterexample;
  if (r.spec == harness::kIsolation) // probes, not a workload
    return fmt::format("{}\nprobes:\n{}", c.explanation, c.timeline);
  return fmt::format("workload: {}\n{}\n{}", harness::to_string(c.workload), c.explanation,
                     c.timeline);
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
  fmt::print(out, "(pass: claimed and held; FAIL: claimed and broken; n/c: not claimed, measured; "
                  "skip: not applicable)\n");
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

int run(const RunOptions &o) {
  std::vector<const ChannelEntry *> picked;
  std::string error;
  if (!resolve_channels(o.channels, o.include_faulty, picked, error)) {
    std::fprintf(stderr, "ipcverify run: %s\n", error.c_str());
    return kExitUsage;
  }
  // GoogleTest's sharding protocol: a campaign spread over machines runs every
  // GTEST_TOTAL_SHARDS-th channel, starting at GTEST_SHARD_INDEX.
  if (const char *total = std::getenv("GTEST_TOTAL_SHARDS")) {
    const char *index = std::getenv("GTEST_SHARD_INDEX");
    const long n = std::strtol(total, nullptr, 10),
               k = index ? std::strtol(index, nullptr, 10) : -1;
    if (n < 1 || k < 0 || k >= n) {
      std::fprintf(stderr, "ipcverify run: bad GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX\n");
      return kExitUsage;
    }
    std::vector<const ChannelEntry *> mine;
    for (std::size_t i = 0; i < picked.size(); ++i)
      if (static_cast<long>(i % static_cast<std::size_t>(n)) == k)
        mine.push_back(picked[i]);
    picked = mine;
    if (picked.empty()) {
      std::fprintf(stderr, "ipcverify run: shard %ld of %ld has no channel\n", k, n);
      return kExitOk;
    }
  }
  const std::vector<std::string> known = harness::judgeable_specs();
  for (const auto &s : o.specs)
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      std::fprintf(stderr, "ipcverify run: unknown spec '%s' (known: %s)\n", s.c_str(),
                   fmt::format("{}", fmt::join(known, ", ")).c_str());
      return kExitUsage;
    }
  engine::Options eo;
  eo.mode = o.mode == "thread" ? harness::Mode::thread : harness::Mode::process;
  eo.cases = o.cases;
  eo.seed = o.seed ? *o.seed : std::random_device{}();
  eo.specs = o.specs;
  eo.crashes = !o.no_crash;
  eo.case_budget = std::chrono::milliseconds(o.case_budget_ms);
  eo.bound = std::chrono::milliseconds(o.bound_ms);
  if (o.bound_ms >= o.case_budget_ms) {
    std::fprintf(stderr, "ipcverify run: --bound-ms must be below --case-budget-ms\n");
    return kExitUsage;
  }
  const std::vector<std::string> specs = o.specs.empty() ? known : o.specs;
  std::vector<std::vector<engine::SpecResult>> rows;
  const bool tty = ::isatty(2) != 0;

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
    const double per_channel = o.budget / static_cast<double>(picked.size());
    for (const ChannelEntry *e : picked) {
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
      std::fprintf(stderr, "%s[%s] done: %d cases, %d claims broken, %.1f s\n", tty ? "\r" : "",
                   e->name.c_str(), cases, fails,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  const std::vector<std::string> &cols = o.workload.empty() ? specs : o.specs;
  print_matrix(stdout, cols, rows, false);
  print_details(stdout, rows, false);
  for (const auto &row : rows)
    for (const auto &r : row)
      if (!o.workload.empty() && !r.observed.empty())
        fmt::print("{}\n", r.observed);
  if (!o.json.empty() && !write_file(o.json, to_json(rows).dump(2) + "\n")) {
    std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.json.c_str());
    return kExitUsage;
  }
  if (!o.markdown.empty()) {
    std::string md;
    {
      char *buf = nullptr;
      std::size_t len = 0;
      std::FILE *mem = ::open_memstream(&buf, &len);
      fmt::print(mem, "# ipcverify report\n\nmode {}, seed {}\n\n", o.mode, eo.seed);
      print_matrix(mem, cols, rows, true);
      print_details(mem, rows, true);
      std::fclose(mem);
      md.assign(buf, len);
      std::free(buf);
    }
    if (!write_file(o.markdown, md)) {
      std::fprintf(stderr, "ipcverify run: cannot write %s\n", o.markdown.c_str());
      return kExitUsage;
    }
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
