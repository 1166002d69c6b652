// Implementation of the engine (engine.hpp): rapidcheck drives generation and shrinking; the
// property of one round is "every targeted claim holds". Once it fails and has shrunk, the
// failing claims are recorded and the next round (new seed) targets the claims still standing.
#include "engine.hpp"
#include "generators.hpp"

#include "harness/isolation.hpp"

#include <fmt/format.h>
#include <iostream>
#include <map>
#include <rapidcheck/Check.h>
#include <rapidcheck/detail/Configuration.h>
#include <rapidcheck/detail/TestListener.h>
#include <sstream>

namespace ipcv::engine {
namespace {

using harness::SpecOutcome;
using Clock = std::chrono::steady_clock;

struct Tally {
  int judged = 0;
  int failed = 0;         ///< not claimed: cases in which it did not hold
  std::string first_fail; ///< explanation of the first such case
  std::string skip_reason;
  std::optional<Counterexample> cx;
};

/// rapidcheck announces its configuration on stderr the first time it is read; the engine
/// owns its own output, so that first read happens with stderr muted.
void load_rapidcheck_quietly() {
  static const bool loaded = [] {
    std::ostringstream sink;
    auto *old = std::cerr.rdbuf(sink.rdbuf());
    rc::detail::configuration();
    std::cerr.rdbuf(old);
    return true;
  }();
  (void)loaded;
}

/// Receives nothing: rapidcheck's default listener would collect reproduce strings and print
/// them at exit, while the engine gives its own replay command.
struct SilentListener final : rc::detail::TestListener {
  void onTestCaseFinished(const rc::detail::CaseDescription &) override {}
  void onShrinkTried(const rc::detail::CaseDescription &, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata &, const rc::detail::TestResult &) override {}
};

bool budget_left(Clock::time_point start, double budget_s) {
  return std::chrono::duration<double>(Clock::now() - start).count() < budget_s;
}

std::string quote(const std::string &s) { return "'" + s + "'"; }

} // namespace

std::string_view to_string(SpecResult::Kind k) {
  switch (k) {
  case SpecResult::pass:
    return "pass";
  case SpecResult::fail:
    return "fail";
  case SpecResult::not_claimed:
    return "not-claimed";
  case SpecResult::skipped:
    return "skipped";
  }
  return "skipped";
}

std::string replay_command(const ChannelEntry &entry, const std::string &spec, harness::Mode mode,
                           const harness::Workload &w) {
  return fmt::format("ipcverify run --channel {} --spec {} --mode {} --workload {}{}", entry.name,
                     spec, harness::to_string(mode), quote(harness::to_string(w)),
                     entry.faulty ? " --include-faulty" : "");
}

/// The `isolation` cell: the probes run once against fresh instances of the channel.
SpecResult isolation_result(const ChannelEntry &entry, const Options &o) {
  const harness::IsolationVerdict v = harness::isolation_verdict(entry);
  SpecResult res;
  res.channel = entry.name;
  res.spec = harness::kIsolation;
  res.seed = o.seed;
  res.cases = 1;
  std::string probes;
  for (const auto &line : v.probes)
    probes += "  " + line + "\n";
  if (v.kind == harness::IsolationVerdict::fail) {
    res.kind = SpecResult::fail;
    res.counterexample = Counterexample{{}, v.explanation, probes};
    res.replay = fmt::format("ipcverify run --channel {} --spec isolation{}", entry.name,
                             entry.faulty ? " --include-faulty" : "");
  } else if (v.kind == harness::IsolationVerdict::skipped) {
    res.kind = SpecResult::skipped;
    res.cases = 0;
    res.observed = v.explanation;
  } else {
    res.observed = probes;
  }
  return res;
}

std::vector<SpecResult> run_campaign(const ChannelEntry &entry, const Options &o) {
  const std::vector<std::string> specs = o.specs.empty() ? harness::judgeable_specs() : o.specs;
  std::map<std::string, Tally> tally;
  std::vector<std::string> targets;
  for (const auto &s : specs)
    if (s != harness::kIsolation && (harness::always_claimed(s) || entry.claims.promises(s)))
      targets.push_back(s);

  gen::WorkloadSpace space;
  space.claims = entry.claims;
  space.mode = o.mode;
  space.crashes = o.crashes;
  harness::RunOptions run_opts;
  run_opts.mode = o.mode;
  run_opts.budget = o.case_budget;
  run_opts.bound = o.bound;

  load_rapidcheck_quietly();
  const auto start = Clock::now();
  int cases = 0;
  int broken = 0;
  std::uint64_t seed = o.seed;
  // Unclaimed specs are measured over every case; with none, the campaign ends once every
  // targeted claim is broken.
  const bool measuring = std::any_of(specs.begin(), specs.end(), [&](const std::string &s) {
    return s != harness::kIsolation && !harness::always_claimed(s) && !entry.claims.promises(s);
  });
  while (cases < o.cases && budget_left(start, o.budget_s) && (measuring || !targets.empty())) {
    bool shrinking = false;
    std::optional<std::pair<harness::Workload, std::vector<SpecOutcome>>> last_failure;
    // Shrinking often proposes a workload it already tried (a change to a value the workload
    // does not use, such as the seed of an unused plan); a hang costs a whole bound per run,
    // so each distinct workload runs once while shrinking and its verdict is reused.
    struct Seen {
      std::vector<std::string> failing; ///< targeted specs it broke (none: it passed)
      std::vector<SpecOutcome> outcomes;
    };
    std::map<std::string, Seen> shrink_seen; // by workload text
    auto property = [&] {
      const harness::Workload w = *gen::workload(space);
      if (!budget_left(start, o.budget_s) && !shrinking)
        return; // out of time: stop quietly
      if (!shrinking && cases >= o.cases)
        return;
      const std::string text = harness::to_string(w);
      if (auto seen = shrink_seen.find(text); shrinking && seen != shrink_seen.end()) {
        if (seen->second.failing.empty())
          return;
        last_failure.emplace(w, seen->second.outcomes);
        RC_FAIL(fmt::format("broken: {}", fmt::join(seen->second.failing, ", ")));
      }
      const harness::RunResult r = harness::run_case(entry, w, run_opts);
      const auto outcomes = harness::judge(entry, w, r, specs);
      std::vector<std::string> failing;
      for (const auto &out : outcomes) {
        const bool targeted = std::find(targets.begin(), targets.end(), out.spec) != targets.end();
        if (out.kind == SpecOutcome::fail && targeted)
          failing.push_back(out.spec);
        if (shrinking)
          continue;
        Tally &t = tally[out.spec];
        if (out.kind == SpecOutcome::skipped) {
          if (t.skip_reason.empty())
            t.skip_reason = out.explanation;
          continue;
        }
        ++t.judged;
        if (out.kind == SpecOutcome::fail && !out.claimed) {
          if (t.failed++ == 0)
            t.first_fail = out.explanation;
        }
      }
      if (!shrinking) {
        ++cases;
        if (o.progress)
          o.progress(cases, broken);
      }
      if (shrinking || !failing.empty())
        shrink_seen[text] = Seen{failing, outcomes};
      if (!failing.empty()) {
        shrinking = true;
        last_failure.emplace(w, outcomes);
        RC_FAIL(fmt::format("broken: {}", fmt::join(failing, ", ")));
      }
    };
    rc::detail::TestParams params;
    params.seed = seed;
    params.maxSuccess = std::max(1, o.cases - cases);
    params.maxSize = 100;
    rc::detail::TestMetadata meta;
    meta.id = entry.name;
    meta.description = entry.name;
    SilentListener listener;
    const auto result =
        rc::detail::checkProperty(rc::detail::toProperty(property), meta, params, listener);
    if (!result.template is<rc::detail::FailureResult>() || !last_failure)
      break;
    // The last failing run is the shrunk counterexample: rapidcheck adopts every failing
    // candidate at once, so the final adoption is the one it reports.
    const auto &[w, outcomes] = *last_failure;
    for (const auto &out : outcomes) {
      auto it = std::find(targets.begin(), targets.end(), out.spec);
      if (out.kind != SpecOutcome::fail || it == targets.end())
        continue;
      tally[out.spec].cx = Counterexample{w, out.explanation, out.timeline};
      targets.erase(it);
      ++broken;
    }
    ++seed;
  }

  std::vector<SpecResult> results;
  for (const auto &s : specs) {
    if (s == harness::kIsolation) {
      results.push_back(isolation_result(entry, o));
      continue;
    }
    const Tally &t = tally[s];
    SpecResult res;
    res.channel = entry.name;
    res.spec = s;
    res.cases = t.judged;
    res.seed = o.seed;
    const bool claimed = harness::always_claimed(s) || entry.claims.promises(s);
    if (t.cx) {
      res.kind = SpecResult::fail;
      res.counterexample = t.cx;
      res.replay = replay_command(entry, s, o.mode, t.cx->workload);
    } else if (!claimed && t.judged == 0) {
      res.kind = SpecResult::skipped;
      res.observed = t.skip_reason.empty() ? "not judged" : t.skip_reason;
    } else if (!claimed) {
      res.kind = SpecResult::not_claimed;
      res.observed = t.judged == 0   ? (t.skip_reason.empty() ? "not judged" : t.skip_reason)
                     : t.failed == 0 ? fmt::format("held in all {} cases", t.judged)
                                     : fmt::format("did not hold in {} of {} cases; first: {}",
                                                   t.failed, t.judged, t.first_fail);
    } else if (t.judged == 0) {
      res.kind = SpecResult::skipped;
      res.observed = t.skip_reason.empty() ? "no case was run" : t.skip_reason;
    } else {
      res.kind = SpecResult::pass;
    }
    results.push_back(std::move(res));
  }
  return results;
}

SpecResult replay(const ChannelEntry &entry, const harness::Workload &w, const std::string &spec,
                  const Options &o, int attempts) {
  if (spec == harness::kIsolation)
    return isolation_result(entry, o);
  harness::RunOptions run_opts;
  run_opts.mode = o.mode;
  run_opts.budget = o.case_budget;
  run_opts.bound = o.bound;
  SpecResult res;
  res.channel = entry.name;
  res.spec = spec;
  res.seed = o.seed;
  const bool claimed = harness::always_claimed(spec) || entry.claims.promises(spec);
  std::string skip;
  for (int i = 0; i < attempts; ++i) {
    const auto r = harness::run_case(entry, w, run_opts);
    const auto out = harness::judge(entry, w, r, {spec}).front();
    if (out.kind == SpecOutcome::skipped) {
      skip = out.explanation;
      continue;
    }
    ++res.cases;
    if (out.kind == SpecOutcome::fail) {
      res.kind = claimed ? SpecResult::fail : SpecResult::not_claimed;
      res.counterexample = Counterexample{w, out.explanation, out.timeline};
      res.replay = replay_command(entry, spec, o.mode, w);
      res.observed = fmt::format("failed on attempt {}: {}", i + 1, out.explanation);
      return res;
    }
  }
  res.kind = res.cases == 0 ? SpecResult::skipped
             : claimed      ? SpecResult::pass
                            : SpecResult::not_claimed;
  res.observed = res.cases == 0 ? skip : fmt::format("held in all {} attempts", res.cases);
  return res;
}

} // namespace ipcv::engine
