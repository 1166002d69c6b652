// Implementation of the reports of `ipcverify run` (run_report.hpp).
#include "run_report.hpp"

#include "harness/plugins.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

namespace ipcv::cli {
namespace {

std::string counterexample_text(const engine::SpecResult &r) {
  if (!r.counterexample)
    return "";
  const auto &c = *r.counterexample;
  if (r.spec == harness::kIsolation || c.in_probes) // probes, not a workload
    return c.timeline.empty() ? c.explanation + "\n"
                              : fmt::format("{}\nprobes:\n{}", c.explanation, c.timeline);
  std::string notes;
  if (c.shrink_cut)
    notes += "shrinking stopped at the time budget: the smallest failing workload found so far; ";
  if (!c.note.empty())
    notes += c.note + "; ";
  if (c.reruns > 0)
    notes +=
        fmt::format("it broke the claim again in {} of {} runs when found", c.reproduced, c.reruns);
  return fmt::format("workload: {}\n{}{}\n{}", harness::to_string(c.workload),
                     notes.empty() ? "" : "(" + notes + ")\n", c.explanation, c.timeline);
}

bool any_interrupted(const std::vector<Row> &rows) {
  for (const auto &row : rows)
    for (const auto &r : row.result.cells)
      if (r.kind == engine::SpecResult::interrupted)
        return true;
  return false;
}

bool any_known(const std::vector<Row> &rows) {
  for (const auto &row : rows)
    for (const auto &r : row.result.cells)
      if (r.kind == engine::SpecResult::fail && !r.on_record.empty())
        return true;
  return false;
}

} // namespace

std::string cell_text(const engine::SpecResult &r) {
  switch (r.kind) {
  case engine::SpecResult::pass:
    return "pass";
  case engine::SpecResult::fail:
    return r.on_record.empty() ? "FAIL" : "FAIL*";
  case engine::SpecResult::not_claimed:
    return "n/c";
  case engine::SpecResult::skip:
    return "skip";
  case engine::SpecResult::interrupted:
    return "interrupted";
  }
  return "?";
}

void print_matrix(std::FILE *out, const std::vector<std::string> &specs,
                  const std::vector<Row> &rows, bool markdown) {
  if (markdown) {
    fmt::print(out, "| channel |");
    for (const auto &s : specs)
      fmt::print(out, " {} |", s);
    fmt::print(out, "\n|---|");
    for (std::size_t i = 0; i < specs.size(); ++i)
      fmt::print(out, "---|");
    fmt::print(out, "\n");
    for (const auto &row : rows) {
      fmt::print(out, "| {} |", row.channel);
      for (const auto &r : row.result.cells)
        fmt::print(out, " {} |", cell_text(r));
      fmt::print(out, "\n");
    }
  } else {
    std::size_t w0 = 8;
    for (const auto &row : rows)
      w0 = std::max(w0, row.channel.size() + 1);
    fmt::print(out, "{:<{}}", "channel", w0);
    for (const auto &s : specs)
      fmt::print(out, " {:<{}}", s, std::max<std::size_t>(s.size(), 4));
    fmt::print(out, "\n");
    for (const auto &row : rows) {
      fmt::print(out, "{:<{}}", row.channel, w0);
      for (std::size_t i = 0; i < row.result.cells.size(); ++i)
        fmt::print(out, " {:<{}}", cell_text(row.result.cells[i]),
                   std::max<std::size_t>(specs[i].size(), 4));
      fmt::print(out, "\n");
    }
  }
  fmt::print(out,
             "{}(pass: claimed and held; FAIL: claimed and broken; {}n/c: not claimed, measured; "
             "skip: not applicable{})\n",
             markdown ? "\n" : "",
             any_known(rows) ? "FAIL*: claimed and broken, a known finding on record; " : "",
             any_interrupted(rows) ? "; interrupted: the run stopped before this was judged" : "");
}

void print_campaigns(std::FILE *out, const std::vector<Row> &rows, bool markdown) {
  fmt::print(out, "{}", markdown ? "\n" : "");
  for (const auto &row : rows) {
    if (row.result.cases == 0 && row.result.seconds == 0)
      continue; // a replay, or a channel the run never reached
    // A case the harness cut at its deadline judged what it had, no-loss not at all: a slow
    // machine (--case-budget-ms gives more), or a channel that hung until then.
    const std::string cut = row.result.out_of_time == 0
                                ? std::string()
                                : fmt::format("; {} reached the case deadline (cut there: "
                                              "no-loss not judged in them)",
                                              row.result.out_of_time);
    fmt::print(out, "{}{}: {} cases in {:.1f} s; longest case {} messages per sender{}\n",
               markdown ? "- " : "", row.channel, row.result.cases, row.result.seconds,
               row.result.longest, cut);
  }
}

void print_details(std::FILE *out, const std::vector<Row> &rows, bool markdown) {
  for (const auto &row : rows)
    for (const auto &r : row.result.cells) {
      if (r.kind != engine::SpecResult::fail)
        continue;
      fmt::print(out, "{}{} {} × {} (seed {}, {} cases)\n", markdown ? "\n### " : "\n",
                 cell_text(r), r.channel, r.spec, r.seed, r.cases);
      if (!r.on_record.empty())
        fmt::print(out, "known finding, on record: {}\n", r.on_record);
      if (markdown)
        fmt::print(out, "\n```\n");
      fmt::print(out, "{}", counterexample_text(r));
      fmt::print(out, "replay: {}\n", r.replay);
      if (markdown)
        fmt::print(out, "```\n");
    }
  bool header = false;
  for (const auto &row : rows)
    for (const auto &r : row.result.cells)
      if (r.kind == engine::SpecResult::not_claimed &&
          r.observed.find("did not hold") != std::string::npos) {
        if (!header)
          fmt::print(out, "\nNot claimed, observed:\n");
        header = true;
        fmt::print(out, "{}{} × {}: {}\n", markdown ? "- " : "  ", r.channel, r.spec, r.observed);
      }
  header = false;
  for (const auto &row : rows)
    for (const auto &r : row.result.cells)
      if (r.kind == engine::SpecResult::pass && !r.observed.empty()) {
        if (!header)
          fmt::print(out, "\nHeld where judged, not judged in some cases:\n");
        header = true;
        fmt::print(out, "{}{} × {}: {}\n", markdown ? "- " : "  ", r.channel, r.spec, r.observed);
      }
}

nlohmann::json to_json(const RunContext &ctx, const std::vector<Row> &rows) {
  nlohmann::json results = nlohmann::json::array();
  nlohmann::json campaigns = nlohmann::json::array();
  for (const auto &row : rows) {
    campaigns.push_back({{"channel", row.channel},
                         {"cases", row.result.cases},
                         {"seconds", row.result.seconds},
                         {"longest_case_messages", row.result.longest},
                         {"cases_out_of_time", row.result.out_of_time}});
    for (const auto &r : row.result.cells) {
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
      if (!r.on_record.empty())
        j["on_record"] = r.on_record;
      results.push_back(std::move(j));
    }
  }
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto &p : harness::loaded_plugins())
    plugins.push_back({{"path", p.path},
                       {"name", p.name},
                       {"xxh3_64", harness::digest_text(p.digest)},
                       {"channels", p.channels}});
  return nlohmann::json{{"mode", ctx.mode},         {"seed", ctx.seed},
                        {"budget_s", ctx.budget_s}, {"interrupted", ctx.interrupted},
                        {"plugins", plugins},       {"campaigns", campaigns},
                        {"results", results}};
}

std::string to_markdown(const RunContext &ctx, const std::vector<std::string> &specs,
                        const std::vector<Row> &rows) {
  char *buf = nullptr;
  std::size_t len = 0;
  std::FILE *mem = ::open_memstream(&buf, &len);
  fmt::print(mem, "# ipcverify report\n\nmode {}, seed {}, budget {:.0f} s{}\n\n", ctx.mode,
             ctx.seed, ctx.budget_s,
             ctx.interrupted ? " — interrupted: unfinished cells say so" : "");
  if (!harness::loaded_plugins().empty()) {
    fmt::print(mem, "Plugins loaded:\n\n");
    for (const auto &p : harness::loaded_plugins())
      fmt::print(mem, "- `{}` ({}; XXH3-64 {}): {}\n", p.path, p.name,
                 harness::digest_text(p.digest), fmt::join(p.channels, ", "));
    fmt::print(mem, "\n");
  }
  print_matrix(mem, specs, rows, true);
  print_campaigns(mem, rows, true);
  print_details(mem, rows, true);
  std::fclose(mem);
  std::string md(buf, len);
  std::free(buf);
  return md;
}

} // namespace ipcv::cli
