// Implementation of the record of known findings (expected.hpp).
#include "expected.hpp"

#include "harness/conformance.hpp"
#include "harness/judge.hpp"
#include "harness/plugins.hpp"
#include "harness/registry.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ipcv::cli {
namespace {

/// Why `f` cannot be on record, or "" when it can.
std::string refusal(const Finding &f, const Record &so_far) {
  if (f.channel.empty() || f.spec.empty() || f.reason.empty())
    return "an entry needs channel, spec and reason";
  const ChannelEntry *e = harness::find_channel(f.channel);
  if (e == nullptr)
    return "channel '" + f.channel + "' is not registered (is its plugin loaded?)";
  if (harness::plugin_of(f.channel).empty())
    return "channel '" + f.channel + "' is a reference channel: it has no record, it must hold";
  if (f.spec.starts_with(kVerifyPrefix)) {
    const std::string check = f.spec.substr(kVerifyPrefix.size());
    const auto checks = harness::conformance_checks();
    if (std::none_of(checks.begin(), checks.end(), [&](const auto &c) { return c.name == check; }))
      return "'" + check + "' is not a conformance check";
  } else {
    const auto specs = harness::judgeable_specs();
    if (std::find(specs.begin(), specs.end(), f.spec) == specs.end())
      return "'" + f.spec + "' is not a spec";
    if (!harness::always_claimed(f.spec) && !e->claims.promises(f.spec))
      return f.channel + " does not claim " + f.spec + ", so it cannot FAIL it";
  }
  if (so_far.find(f.channel, f.spec) != nullptr)
    return f.channel + " × " + f.spec + " is on record twice";
  return "";
}

/// Reads one record file into `out`; "" or why not.
std::string read_record(const std::string &path, Record &out) {
  std::ifstream in(path);
  if (!in)
    return "cannot be read";
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("findings") || !j["findings"].is_array())
    return "not a record (a JSON object with a \"findings\" array)";
  auto field = [](const nlohmann::json &e, const char *k) {
    return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string();
  };
  for (const auto &e : j["findings"]) {
    if (!e.is_object())
      return "each finding is a JSON object";
    if (field(e, "verdict") != "FAIL")
      return "verdict must be \"FAIL\" (the only verdict a record expects)";
    Finding f{field(e, "channel"), field(e, "spec"),          field(e, "reason"),
              field(e, "link"),    field(e, "reproduced_by"), path};
    const std::string seen = e.contains("seen") ? field(e, "seen") : "always";
    if (seen != "always" && seen != "sometimes")
      return "seen must be \"always\" or \"sometimes\"";
    f.sometimes = seen == "sometimes";
    if (const std::string why = refusal(f, out); !why.empty())
      return why;
    out.findings.push_back(std::move(f));
  }
  return "";
}

} // namespace

const Finding *Record::find(std::string_view channel, std::string_view spec) const {
  for (const auto &f : findings)
    if (f.channel == channel && f.spec == spec)
      return &f;
  return nullptr;
}

void add_record_options(CLI::App *cmd, std::vector<std::string> &files, bool &strict) {
  cmd->add_option("--expected", files,
                  "A record of known findings of third-party channels (JSON; repeatable; after "
                  "those of IPCV_EXPECTED, colon-separated): a broken claim on record shows as "
                  "FAIL* and does not fail the run, a recorded one that holds does");
  cmd->add_flag("--strict", strict, "Known failures on record fail the run too");
}

bool load_record(const char *program, const std::vector<std::string> &files, Record &out) {
  std::vector<std::string> all;
  if (const char *env = std::getenv("IPCV_EXPECTED")) {
    std::stringstream list(env);
    for (std::string p; std::getline(list, p, ':');)
      if (!p.empty())
        all.push_back(p);
  }
  all.insert(all.end(), files.begin(), files.end());
  for (const auto &path : all)
    if (const std::string why = read_record(path, out); !why.empty()) {
      std::fprintf(stderr, "%s: record %s: %s\n", program, path.c_str(), why.c_str());
      return false;
    }
  return true;
}

std::string record_text(const Finding &f) {
  return f.link.empty() ? f.reason : f.reason + " (" + f.link + ")";
}

void mark_known(std::vector<Row> &rows, const Record &rec) {
  for (auto &row : rows)
    for (auto &r : row.result.cells)
      if (r.kind == engine::SpecResult::fail)
        if (const Finding *f = rec.find(r.channel, r.spec))
          r.on_record = record_text(*f);
}

namespace {

/// Says that the cell of `f` held: a stale record, or for a "sometimes" finding a note. Returns
/// whether that fails the run.
bool held_on_record(const char *program, const Finding &f) {
  if (f.sometimes) {
    std::fprintf(stderr,
                 "%s: note: %s × %s held in this run; on record %s as seen sometimes (%s)\n",
                 program, f.channel.c_str(), f.spec.c_str(), f.file.c_str(), f.reason.c_str());
    return false;
  }
  std::fprintf(stderr, "%s: stale record %s: %s × %s held, but the record expects FAIL (%s)\n",
               program, f.file.c_str(), f.channel.c_str(), f.spec.c_str(), f.reason.c_str());
  return true;
}

} // namespace

bool run_fails(const char *program, const std::vector<Row> &rows, const Record &rec) {
  bool fails = false;
  for (const auto &row : rows)
    for (const auto &r : row.result.cells) {
      const Finding *f = rec.find(r.channel, r.spec);
      if (r.kind == engine::SpecResult::fail)
        fails |= f == nullptr || rec.strict;
      else if (r.kind == engine::SpecResult::pass && f != nullptr)
        fails |= held_on_record(program, *f);
    }
  return fails;
}

bool check_fails(const char *program, const Record &rec, std::string_view channel,
                 std::string_view check, bool failed) {
  const Finding *f = rec.find(channel, std::string(kVerifyPrefix) + std::string(check));
  if (failed)
    return f == nullptr || rec.strict;
  return f != nullptr && held_on_record(program, *f);
}

} // namespace ipcv::cli
