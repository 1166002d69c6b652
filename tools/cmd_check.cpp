// `ipcverify check [--spec NAME]... [--bound-ns N] FILE.jsonl`: checks a recorded history against
// the specs of the catalog and prints each verdict, with the timeline of every failure. By default
// every spec that applies (queue specs on queue events, `register` on write/read events); when
// the meta line lists claims, an unclaimed spec that fails is reported but does not fail the run.
// Exit status: 0 nothing failed, 1 a spec failed, 2 bad input (unreadable file, malformed line,
// unknown spec name), each with a one-line message.
#include "command.hpp"

#include "specs/catalog.hpp"
#include "specs/history_io.hpp"
#include "specs/timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace ipcv::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> specs;
  std::int64_t bound_ns = 0;
  std::string file;
};

/// `text` wrapped at `width` columns, every line indented by `indent`.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width = 100) {
  std::string out, line(indent, ' ');
  while (!text.empty()) {
    const std::size_t sp = text.find(' ');
    const std::string_view word = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
    if (line.size() > indent && line.size() + 1 + word.size() > width) {
      out += line + '\n';
      line.assign(indent, ' ');
    }
    if (line.size() > indent)
      line += ' ';
    line += word;
  }
  if (line.size() > indent)
    out += line + '\n';
  return out;
}

/// Every line of `text` indented by `n` spaces.
std::string indent(std::string_view text, std::size_t n) {
  std::string out;
  for (std::size_t b = 0; b < text.size();) {
    const std::size_t e = std::min(text.find('\n', b), text.size());
    out.append(n, ' ').append(text.substr(b, e - b)).push_back('\n');
    b = e + 1;
  }
  return out;
}

int run(const CheckOptions &o) {
  using namespace ipcv::spec;
  std::vector<const Spec *> chosen;
  for (const std::string &name : o.specs) {
    const Spec *s = find_spec(name);
    if (!s) {
      std::string known;
      for (const Spec &k : catalog())
        known += (known.empty() ? "" : ", ") + std::string(k.name);
      std::fprintf(stderr, "ipcverify check: unknown spec \"%s\" (known: %s)\n", name.c_str(),
                   known.c_str());
      return kExitUsage;
    }
    if (std::find(chosen.begin(), chosen.end(), s) == chosen.end())
      chosen.push_back(s);
  }
  const bool named = !chosen.empty();
  if (!named)
    for (const Spec &s : catalog())
      chosen.push_back(&s);
  if (o.bound_ns < 0) {
    std::fprintf(stderr, "ipcverify check: --bound-ns must not be negative\n");
    return kExitUsage;
  }

  ReadResult r = read_history(o.file);
  if (!r) {
    std::fprintf(stderr, "ipcverify check: %s\n", r.error->message.c_str());
    return kExitUsage;
  }
  const History &h = r.history;
  const Params params{o.bound_ns};
  fmt::print("{}: {} events\n", o.file, h.events.size());
  std::size_t passed = 0, failed = 0, unknown = 0, skipped = 0;
  for (const Spec *s : chosen) {
    if (!applies(*s, h)) {
      ++skipped;
      fmt::print("{:<16}skipped: no {} operations\n", s->name,
                 s->domain == Domain::registers ? "register" : "queue");
      continue;
    }
    const Verdict v = s->check(h, params);
    const bool claimed = named || h.claims.empty() || s->owed ||
                         std::find(h.claims.begin(), h.claims.end(), s->name) != h.claims.end();
    switch (v.kind) {
    case Verdict::pass:
      ++passed;
      fmt::print("{:<16}pass\n", s->name);
      break;
    case Verdict::unknown:
      ++unknown;
      fmt::print("{:<16}unknown\n{}", s->name, wrap(v.explanation, 4));
      break;
    case Verdict::fail:
      if (claimed)
        ++failed;
      fmt::print("{:<16}{}\n{}", s->name, claimed ? "FAIL" : "fails (not claimed, reported only)",
                 wrap(v.explanation, 4));
      fmt::print("{}", indent(render_timeline(h, v.witnesses, 96), 4));
      break;
    }
  }
  fmt::print("{} passed, {} failed, {} unknown, {} skipped\n", passed, failed, unknown, skipped);
  return failed ? kExitFailed : kExitOk;
}

void add_check_command(CLI::App &app, int &status) {
  auto opts = std::make_shared<CheckOptions>();
  CLI::App *cmd =
      app.add_subcommand("check", "Check a recorded history (JSON Lines) against the specs");
  cmd->add_option("--spec", opts->specs,
                  "Check only this spec (repeatable); default: all that "
                  "apply");
  cmd->add_option("--bound-ns", opts->bound_ns,
                  "bounded-wait's bound in ns (default: the meta key bound_ns)");
  cmd->add_option("file", opts->file, "The history file (JSON Lines, see docs/design.md)")
      ->required();
  cmd->callback([opts, &status] { status = run(*opts); });
}

const CommandRegistrar registered_check{{"check", 30, add_check_command}};

} // namespace
} // namespace ipcv::cli
