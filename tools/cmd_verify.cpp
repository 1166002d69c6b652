// `ipcverify verify`: runs the conformance checks of the Channel contract against every
// registered channel (or the ones named) and prints one row per channel.
#include "channel_args.hpp"
#include "command.hpp"
#include "expected.hpp"
#include "harness/conformance.hpp"
#include "harness/interrupt.hpp"
#include "junit.hpp"
#include "plugin_args.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace ipcv::cli {
namespace {

struct VerifyOptions {
  std::vector<std::string> channels;
  bool include_faulty = false;
  std::string junit;
  std::vector<std::string> plugins;
  std::vector<std::string> expected;
  bool strict = false;
  int check_limit = 60; ///< seconds
};

int run(const VerifyOptions &o) {
  harness::set_check_limit(std::chrono::seconds(o.check_limit));
  Record record;
  record.strict = o.strict;
  if (!load_plugins("ipcverify", o.plugins) || !load_record("ipcverify verify", o.expected, record))
    return kExitUsage;
  harness::install_interrupt_handlers();
  std::vector<const ChannelEntry *> picked;
  std::string error;
  if (!resolve_channels(o.channels, o.include_faulty, picked, error)) {
    std::fprintf(stderr, "ipcverify verify: %s\n", error.c_str());
    return kExitUsage;
  }
  const auto checks = harness::conformance_checks();
  struct Row {
    std::string channel, claims, result;
    std::vector<std::string> failures;
    bool failed = false; ///< a failure not on record, or a stale record
  };
  std::vector<junit::Suite> suites;
  std::vector<Row> rows;
  bool any_failed = false;
  const bool tty = ::isatty(2) != 0;
  for (const ChannelEntry *e : picked) {
    if (harness::interrupted())
      break;
    Row row{e->name,
            fmt::format("{} specs, max {} B, {}x{}", e->claims.specs.size(), e->claims.max_message,
                        count_text(e->claims.max_senders), count_text(e->claims.max_receivers)),
            "",
            {}};
    int passed = 0, skipped = 0, idx = 0;
    for (const auto &c : checks) {
      ++idx;
      if (tty) {
        std::fprintf(stderr, "\r[%s] %d/%zu %-40s", e->name.c_str(), idx, checks.size(),
                     std::string(c.name).c_str());
        std::fflush(stderr);
      }
      if (harness::interrupted())
        break;
      auto out = c.run(*e);
      if (harness::interrupted())
        break; // a check cut short proves nothing
      const Finding *known = record.find(e->name, std::string(kVerifyPrefix) + std::string(c.name));
      if (out.kind != harness::Outcome::skip)
        row.failed |= check_fails("ipcverify verify", record, e->name, c.name,
                                  out.kind == harness::Outcome::fail);
      junit::add_check(suites, e->name, c.name,
                       known && out.kind == harness::Outcome::fail ? harness::Outcome::skip
                                                                   : out.kind,
                       known && out.kind == harness::Outcome::fail
                           ? "known finding, on record: " + record_text(*known) + "\n" + out.detail
                           : out.detail);
      if (out.kind == harness::Outcome::pass)
        ++passed;
      else if (out.kind == harness::Outcome::skip)
        ++skipped;
      else
        row.failures.push_back(fmt::format("{}{}: {}{}", known ? "FAIL* " : "", c.name, out.detail,
                                           known ? " (known finding, on record)" : ""));
    }
    if (tty)
      std::fprintf(stderr, "\r%-70s\r", "");
    else
      std::fprintf(stderr, "verify: %s: %d checks done\n", e->name.c_str(), idx);
    row.result = harness::interrupted() ? std::string("interrupted")
                 : row.failures.empty()
                     ? fmt::format("{}pass ({} checks, {} not applicable)",
                                   row.failed ? "FAIL: stale record, " : "", passed, skipped)
                     : fmt::format("{} ({} of {} checks)", row.failed ? "FAIL" : "FAIL*",
                                   row.failures.size(), checks.size());
    any_failed |= row.failed;
    rows.push_back(std::move(row));
  }
  std::size_t w = 14; // the name column: plugin channels may have longer names
  for (const auto &r : rows)
    w = std::max(w, r.channel.size());
  fmt::print("{:<{}} {:<34} {}\n", "channel", w, "claims", "result");
  for (const auto &r : rows) {
    fmt::print("{:<{}} {:<34} {}\n", r.channel, w, r.claims, r.result);
    for (const auto &f : r.failures)
      fmt::print("{:<{}}   - {}\n", "", w, f);
  }
  if (!o.junit.empty() && !junit::write(o.junit, junit::to_xml("ipcverify verify", suites))) {
    std::fprintf(stderr, "ipcverify verify: cannot write %s\n", o.junit.c_str());
    return kExitUsage;
  }
  if (const int sig = harness::interrupted()) {
    const auto done = std::count_if(rows.begin(), rows.end(),
                                    [](const Row &r) { return r.result != "interrupted"; });
    fmt::print("interrupted: {} of {} channels verified\n", done, picked.size());
    return harness::interrupted_status(sig);
  }
  return any_failed ? kExitFailed : kExitOk;
}

void add_verify_command(CLI::App &app, int &status) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App *cmd = app.add_subcommand(
      "verify", "Check every channel (or --channel NAME...) against the Channel contract");
  cmd->add_option("--channel", opts->channels, "Channel to verify (repeatable; default: all)");
  cmd->add_flag("--include-faulty", opts->include_faulty, "Include the faulty-* fixtures");
  cmd->add_option("--junit", opts->junit, "Write JUnit XML: a testcase per conformance check");
  cmd->add_option("--check-limit", opts->check_limit,
                  "Seconds one check may take before the channel is judged to hang (its "
                  "process is killed and the check fails)")
      ->check(CLI::Range(1, 3600))
      ->default_val(60);
  add_plugin_option(cmd, opts->plugins);
  add_record_options(cmd, opts->expected, opts->strict);
  cmd->callback([opts, &status] { status = run(*opts); });
}

const CommandRegistrar registered_verify{{"verify", 30, add_verify_command}};

} // namespace
} // namespace ipcv::cli
