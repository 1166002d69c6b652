// The reports of `ipcverify run`: the verdict matrix (channel × spec) on the terminal and in
// Markdown, each broken claim with its shrunk workload, witness timeline and replay command,
// what the campaign of each channel did (cases, time, its longest case), and the JSON report.
#pragma once

#include "property_tests/engine.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ipcv::cli {

/// A Row is one channel of a run: its campaign's result under the channel's name.
struct Row {
  std::string channel;
  engine::CampaignResult result;
};

/// The header of a run's reports.
struct RunContext {
  std::string mode;
  std::uint64_t seed = 0;
  double budget_s = 0;
  bool interrupted = false;
};

/// The text of a matrix cell: pass, FAIL, n/c, skip, interrupted.
std::string cell_text(const engine::SpecResult &r);

/// The matrix: one line per channel, one column per spec, then the legend.
void print_matrix(std::FILE *out, const std::vector<std::string> &specs,
                  const std::vector<Row> &rows, bool markdown);

/// Per channel: cases run, wall time, the longest case (messages per sender).
void print_campaigns(std::FILE *out, const std::vector<Row> &rows, bool markdown);

/// Each broken claim with its counterexample and replay command, then what was observed of
/// the specs a channel does not claim.
void print_details(std::FILE *out, const std::vector<Row> &rows, bool markdown);

/// The JSON report: the context, one entry per channel, one result per cell.
nlohmann::json to_json(const RunContext &ctx, const std::vector<Row> &rows);

/// The Markdown report: the same as the terminal's, as a document.
std::string to_markdown(const RunContext &ctx, const std::vector<std::string> &specs,
                        const std::vector<Row> &rows);

} // namespace ipcv::cli
