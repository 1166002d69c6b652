// Implementation of the engine (engine.hpp): rapidcheck drives generation and shrinking; the
// property of one round is "every targeted claim holds". Once it fails and has shrunk, the
// failing claims are recorded and the next round (new seed) targets the claims still standing.
// Rounds of a few hundred cases follow each other until the cases or the budget run out, so
// case sizes sweep from small to large again and again.
#include "engine.hpp"
#include "generators.hpp"

#include "harness/guard.hpp"
#include "harness/interrupt.hpp"
#include "harness/isolation.hpp"
#include "harness/plugins.hpp"

#include <fmt/format.h>
#include <iostream>
#include <map>
#include <rapidcheck/Check.h>
#include <rapidcheck/detail/Configuration.h>
#include <rapidcheck/detail/TestListener.h>
#include <sstream>

namespace ipcv::engine {
namespace {

using harness::Outcome;
using harness::SpecOutcome;
using Clock = std::chrono::steady_clock;

/// Cases of one rapidcheck round: sizes grow from 0 to 100 over a round.
constexpr int kRoundCases = 200;
/// At most this share of a campaign's time goes to long cases.
constexpr double kLongShare = 0.2;

struct Tally {
  int judged = 0;
  int failed = 0;         ///< not claimed: cases in which it did not hold
  std::string first_fail; ///< explanation of the first such case
  std::string skip_reason;
  int told = 0;         ///< cases not judged for a reason to tell (SpecOutcome::told)
  std::string told_why; ///< the first such reason
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

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string quote(const std::string &s) { return "'" + s + "'"; }

harness::RunOptions run_options(const Options &o) {
  harness::RunOptions r;
  r.mode = o.mode;
  r.budget = o.case_budget;
  r.bound = o.bound;
  r.slack = o.slack;
  return r;
}

} // namespace

std::string_view to_string(SpecResult::Kind k) {
  switch (k) {
  case SpecResult::pass:
    return "pass";
  case SpecResult::fail:
    return "fail";
  case SpecResult::not_claimed:
    return "not-claimed";
  case SpecResult::skip:
    return "skip";
  case SpecResult::interrupted:
    return "interrupted";
  }
  return "skip";
}

/// " --plugin PATH" for a channel a plugin registered (a replay must load it again), else "".
std::string plugin_flag(const ChannelEntry &entry) {
  const std::string path = harness::plugin_of(entry.name);
  return path.empty() ? std::string() : " --plugin " + quote(path);
}

/// " --case-budget-ms N" when `o` has another case budget than the default, else "".
std::string case_budget_flag(const Options &o) {
  return o.case_budget == Options{}.case_budget
             ? std::string()
             : fmt::format(" --case-budget-ms {}", o.case_budget.count());
}

std::string replay_command(const ChannelEntry &entry, const std::string &spec, const Options &o,
                           const harness::Workload &w) {
  const Options defaults;
  std::string extra = case_budget_flag(o);
  if (o.bound != defaults.bound)
    extra += fmt::format(" --bound-ms {}", o.bound.count());
  if (o.slack != defaults.slack)
    extra += fmt::format(" --slack-ms {}", o.slack.count());
  return fmt::format("ipcverify run{} --channel {} --spec {} --mode {} --workload {}{}{}",
                     plugin_flag(entry), entry.name, spec, harness::to_string(o.mode),
                     quote(harness::to_string(w)), extra, entry.faulty ? " --include-faulty" : "");
}

/// The command that runs the isolation probes of `entry` again.
/// (The probes' calls have the case budget as their deadline, as the cases' calls do.) For a
/// `run` failure in the probes, `specs` is "run --spec isolation", so the replay shows it.
std::string isolation_replay(const ChannelEntry &entry, const Options &o,
                             std::string_view specs = harness::kIsolation) {
  return fmt::format("ipcverify run{} --channel {} --spec {}{}{}", plugin_flag(entry), entry.name,
                     specs, case_budget_flag(o), entry.faulty ? " --include-faulty" : "");
}

/// What the `run` cell's replay runs when the channel failed in the probes.
constexpr std::string_view kRunInProbes = "run --spec isolation";

/// What the isolation probes found: the `isolation` cell, and the hang of a child of theirs
/// (empty when none hung), which is the channel's `run` failure.
struct ProbesFound {
  SpecResult cell;
  std::string hang;
};

/// The probes run once against fresh instances of the channel, each call of theirs with the
/// case budget as its deadline.
ProbesFound isolation_result(const ChannelEntry &entry, const Options &o) {
  // The probes call prepare and destroy in this process: guarded, like the runner's calls.
  const harness::IsolationReport report = harness::probe_isolation(
      harness::guarded_entry(entry), harness::ProbeOptions{.call_deadline = o.case_budget});
  const harness::IsolationVerdict v = harness::summarize(report);
  ProbesFound found{{}, report.hang()};
  SpecResult &res = found.cell;
  res.channel = entry.name;
  res.spec = harness::kIsolation;
  res.seed = o.seed;
  res.cases = 1;
  std::string probes;
  for (const auto &line : v.probes)
    probes += "  " + line + "\n";
  if (harness::interrupted() != 0) {
    res.kind = SpecResult::interrupted;
    res.observed = "interrupted while the probes ran";
  } else if (const auto why = harness::unusable(entry.name)) {
    res.kind = SpecResult::skip;
    res.cases = 0;
    res.observed = "not judged: the channel failed (see run): " + *why;
  } else if (v.kind == harness::Outcome::fail) {
    res.kind = SpecResult::fail;
    res.counterexample = Counterexample{{}, v.explanation, probes};
    res.replay = isolation_replay(entry, o);
  } else if (v.kind == harness::Outcome::skip) {
    res.kind = SpecResult::skip;
    res.cases = 0;
    res.observed = v.explanation;
  } else {
    res.observed = probes;
  }
  return found;
}

namespace {

/// A Campaign is the state of one run_campaign: what it targets, what it found so far.
class Campaign {
public:
  Campaign(const ChannelEntry &entry, const Options &o)
      : entry_(entry), o_(o), specs_(o.specs.empty() ? harness::judgeable_specs() : o.specs),
        run_opts_(run_options(o)), start_(Clock::now()) {
    for (const auto &s : specs_)
      if (s != harness::kIsolation && claimed(s))
        targets_.push_back(s);
    // Unclaimed specs are measured over every case; with none, the campaign ends once every
    // targeted claim is broken.
    measuring_ = std::any_of(specs_.begin(), specs_.end(), [&](const std::string &s) {
      return s != harness::kIsolation && !claimed(s);
    });
    space_.claims = entry.claims;
    space_.mode = o.mode;
    space_.crashes = o.crashes;
  }

  /// The isolation probes first (their time counts against the budget), then rounds of
  /// generation and shrinking, each with a new seed, while budget and claims last.
  CampaignResult run() {
    const bool probes =
        std::find(specs_.begin(), specs_.end(), harness::kIsolation) != specs_.end();
    std::string hang;
    if (probes && harness::interrupted() == 0) {
      ProbesFound found = isolation_result(entry_, o_);
      isolation_ = std::move(found.cell);
      hang = std::move(found.hang);
    }
    probe_seconds_ = seconds_since(start_);
    if (const auto why = harness::unusable(entry_.name)) { // in the probes: no case can run
      abandon(harness::Workload{}, *why);
      abandoned_->in_probes = true;
    } else if (!hang.empty()) { // a probe's child hung: the cases, each with its watchdog, run
      hung_in_probes(hang);
    }
    directed();
    load_rapidcheck_quietly();
    for (std::uint64_t seed = o_.seed; more_cases() && (measuring_ || !targets_.empty()); ++seed)
      round(seed);
    CampaignResult out;
    for (const auto &s : specs_)
      out.cells.push_back(s == harness::kIsolation ? isolation_cell() : cell(s));
    out.cases = cases_;
    out.longest = longest_;
    out.out_of_time = out_of_time_;
    out.seconds = seconds_since(start_);
    return out;
  }

private:
  bool claimed(const std::string &s) const {
    return harness::always_claimed(s) || entry_.claims.promises(s);
  }
  /// The budget counts the probes too, but the cases get at least half of it: a channel that
  /// hangs in the probes would otherwise have none judged.
  bool time_left() const {
    return seconds_since(start_) < std::max(o_.budget_s, probe_seconds_ + o_.budget_s / 2);
  }
  bool more_cases() const {
    return !abandoned_ && (o_.cases == 0 || cases_ < o_.cases) && time_left() &&
           harness::interrupted() == 0;
  }
  bool targeted(const std::string &s) const {
    return std::find(targets_.begin(), targets_.end(), s) != targets_.end();
  }
  /// Whether the next case is long: while long cases took less than their share of the time.
  bool next_is_long() const {
    return o_.max_messages > space_.max_messages && cases_ > 0 &&
           long_seconds_ < kLongShare * seconds_since(start_);
  }

  /// Counts one generated case's outcomes into the tally of each spec.
  void tally_case(const harness::Workload &w, const std::vector<SpecOutcome> &outcomes) {
    for (const auto &out : outcomes) {
      Tally &t = tally_[out.spec];
      if (out.kind == Outcome::skip) {
        if (t.skip_reason.empty())
          t.skip_reason = out.explanation;
        if (out.told && t.told++ == 0)
          t.told_why = out.explanation;
        continue;
      }
      ++t.judged;
      if (out.kind == Outcome::fail && !out.claimed && t.failed++ == 0)
        t.first_fail = out.explanation;
    }
    ++cases_;
    longest_ = std::max(longest_, w.messages);
    if (o_.progress)
      o_.progress(cases_, broken_);
  }

  void round(std::uint64_t seed);

  /// The directed cases (gen::directed_workloads) first: each is small already, so a failure
  /// of one is not shrunk, only checked and hardened as any counterexample (adopt). Skipped
  /// with --cases, which asks for generated cases alone.
  void directed() {
    if (o_.cases != 0)
      return;
    for (const harness::Workload &w : gen::directed_workloads(space_)) {
      if (!more_cases() || (!measuring_ && targets_.empty()))
        return;
      const harness::RunResult r = harness::run_case(entry_, w, run_opts_);
      if (r.interrupted)
        return;
      if (r.abandoned) {
        abandon(w, r.run_error);
        return;
      }
      const auto outcomes = harness::judge(entry_, r, specs_);
      tally_case(w, outcomes);
      out_of_time_ += r.out_of_time;
      if (std::none_of(outcomes.begin(), outcomes.end(), [&](const SpecOutcome &out) {
            return out.kind == Outcome::fail && targeted(out.spec);
          }))
        continue;
      adopt({Failure{w, outcomes, {}}}, false);
    }
  }

  /// The channel failed in this process (guard.hpp): `run` fails with the reason and the
  /// campaign ends, since the harness calls the channel no more. Other channels go on.
  void abandon(const harness::Workload &w, const std::string &why) {
    if (abandoned_)
      return;
    abandoned_ = Counterexample{w, why, ""};
    abandoned_->reproduced = 1;
    abandoned_->reruns = 1;
    ++broken_;
  }

  /// A child of the isolation probes hung in the channel: the `run` claim is broken (found
  /// once, by the probes), and the cases judge the rest.
  void hung_in_probes(const std::string &why) {
    const auto it = std::find(targets_.begin(), targets_.end(), harness::kRun);
    if (it == targets_.end())
      return;
    Counterexample cx{harness::Workload{}, why, ""};
    cx.in_probes = true;
    tally_[harness::kRun].cx = std::move(cx);
    targets_.erase(it);
    ++broken_;
  }

  /// Runs `w` up to `n` times, until `enough` of them broke `spec` again or too many did not
  /// for `enough` to be reached: {broke, ran}. Once a run took longer than kCostlyRun (a hang
  /// costs about one bound), half as many runs, each of which must break it: a counterexample
  /// of a hang is checked in 5 s instead of 10.
  std::pair<int, int> reproductions(const harness::Workload &w, const std::string &spec, int n,
                                    int enough) {
    int k = 0, ran = 0;
    const auto shrink_plan = [&] {
      if (costly_ && n > 1) {
        n = (n + 1) / 2;
        enough = std::min(enough, n);
      }
    };
    shrink_plan();
    for (; ran < n && k < enough && (ran - k) <= n - enough && harness::interrupted() == 0; ++ran) {
      const auto t = Clock::now();
      const harness::RunResult r = harness::run_case(entry_, w, run_opts_);
      if (r.interrupted)
        break;
      k += harness::judge(entry_, r, {spec}).front().kind == Outcome::fail;
      if (!costly_ && Clock::now() - t > kCostlyRun) {
        costly_ = true;
        shrink_plan();
      }
    }
    return {k, ran};
  }
  static constexpr auto kCostlyRun = std::chrono::milliseconds(250);
  /// A run takes longer than kCostlyRun: while shrinking, the round's first failure did; while
  /// a counterexample is checked, one of its check runs did.
  bool costly_ = false;

  /// Whether each of kConfirmRuns more runs of `w` breaks one of `failing` again; `failing`
  /// keeps those broken every time. A shrink candidate that fails once in three runs would
  /// make a counterexample that replays once in three: the shrinker would trade fidelity for
  /// size, since the smaller plans (no perturbation, fewer messages) are the less reliable.
  static constexpr int kConfirmRuns = 2;
  bool confirmed(const harness::Workload &w, std::vector<std::string> &failing) {
    for (int i = 0; i < kConfirmRuns && !failing.empty(); ++i) {
      const harness::RunResult r = harness::run_case(entry_, w, run_opts_);
      if (r.interrupted)
        return false;
      const auto outcomes = harness::judge(entry_, r, failing);
      std::erase_if(failing, [&](const std::string &spec) {
        return std::none_of(outcomes.begin(), outcomes.end(), [&](const SpecOutcome &o) {
          return o.spec == spec && o.kind == Outcome::fail;
        });
      });
    }
    return !failing.empty();
  }

  /// A failing workload of a shrink chain: its outcomes, and the specs it broke in each of the
  /// confirmation runs too (none for the first failure of a round, which is not confirmed).
  struct Failure {
    harness::Workload workload;
    std::vector<SpecOutcome> outcomes;
    std::vector<std::string> confirmed;
  };

  /// After a shrunk failure: its broken claims get the counterexample and leave the targets.
  /// `chain` holds every failing workload of the round in the order the shrinker adopted them,
  /// the first failure first and the smallest last. A race need not show on every run, and
  /// the smaller workloads (fewer messages, a milder perturbation plan) are often the ones that
  /// show it less, while a printed counterexample must replay: the candidates are run again
  /// from the smallest back towards the first, and the first that breaks the claim again in
  /// kEnough of kCheckRuns runs is kept. When none does, the best of them is tried once more
  /// with holds (perturbation level 3, the same seed), which turns a narrow window into one
  /// every run goes through; the one that did best is kept either way, and the counterexample
  /// says how often it reproduced. Out of time, the smallest failure's own confirmation runs
  /// are its rate, when they broke this spec, else one run: a hang costs a case budget per run,
  /// and a campaign must end near its budget.
  void adopt(const std::vector<Failure> &chain, bool shrink_cut) {
    constexpr int kCheckRuns = 10, kEnough = 9, kMaxRuns = 40;
    const Failure &shrunk = chain.back();
    // Costly or not is the counterexample's: its check runs say (reproductions), not the
    // round's first failure, which may be a much larger case.
    costly_ = false;
    for (const auto &out : shrunk.outcomes) {
      auto it = std::find(targets_.begin(), targets_.end(), out.spec);
      if (out.kind != Outcome::fail || it == targets_.end())
        continue;
      std::optional<Counterexample> best;
      std::pair<int, int> best_rate{-1, 0};
      int runs = 0;
      // Keeps `w` as the counterexample when it did better than the best so far (more
      // reproductions per run); true once it is good enough to stop looking.
      // `ties`: as good as the best so far is enough.
      const auto consider = [&](const harness::Workload &w, const SpecOutcome &f,
                                std::pair<int, int> rate, bool cut, std::string note,
                                bool ties = false) {
        runs += rate.second;
        const auto mine = rate.first * best_rate.second, theirs = best_rate.first * rate.second;
        if (best && (ties ? mine < theirs : mine <= theirs))
          return false;
        best.emplace(w, f.explanation, f.timeline, cut);
        best->note = std::move(note);
        best_rate = rate;
        return costly_ ? rate.first == rate.second && rate.first >= 5 : rate.first >= kEnough;
      };
      bool good = false;
      for (const std::size_t i : look_back(chain.size())) {
        const auto f = std::find_if(chain[i].outcomes.begin(), chain[i].outcomes.end(),
                                    [&](const SpecOutcome &o) { return o.spec == out.spec; });
        if (f == chain[i].outcomes.end() || f->kind != Outcome::fail)
          continue;
        if (runs >= kMaxRuns || (best && (harness::interrupted() != 0 || !time_left())))
          break;
        const bool was_confirmed = std::find(chain[i].confirmed.begin(), chain[i].confirmed.end(),
                                             out.spec) != chain[i].confirmed.end();
        const bool late = !time_left();
        const auto rate = late && was_confirmed
                              ? std::pair{kConfirmRuns, kConfirmRuns}
                              : reproductions(chain[i].workload, out.spec, late ? 1 : kCheckRuns,
                                              late ? 1 : kEnough);
        good = consider(chain[i].workload, *f, rate, shrink_cut && i + 1 == chain.size(),
                        i + 1 == chain.size()
                            ? ""
                            : "the smaller failing workloads reproduced less often; this is the "
                              "smallest that broke the claim again most often");
        if (good)
          break;
      }
      // Even one that broke the claim in each of its check runs may lean on timing that a
      // replay in a new process does not have (m=9 in a queue of 8 on one core broke no-loss 9
      // of 9 times in the campaign and 37 of 50 in replays): held, it does not, so a held
      // version that does as well is kept instead.
      // Not a long case: holding at each of its messages would take seconds per run.
      // A costly one (a hang) that broke it in every run is left as it is: 12 seeds at a bound
      // each would double the campaign of a hanging channel.
      const bool perfect_and_costly = costly_ && best_rate.first == best_rate.second;
      if (best && best->workload.perturb != 3 && !perfect_and_costly &&
          std::uint64_t{best->workload.senders} * best->workload.messages <= kMostHeld &&
          time_left() && harness::interrupted() == 0)
        harden(Counterexample(*best), out.spec, consider); // a copy: consider replaces best
      // Still short of 9 in 10: the directed workloads with holds, whose quiet peers make the
      // widest windows (a sender that stalls before its close holds a receiver's look at the
      // peer table open across the close and the exit), when they break this claim at all.
      const bool good_now = costly_ ? best_rate.first == best_rate.second && best_rate.first >= 5
                                    : best_rate.first >= kEnough;
      if (best && !good_now && !costly_)
        for (const harness::Workload &d : gen::directed_workloads(space_)) {
          if (!time_left() || harness::interrupted() != 0)
            break;
          const std::pair<int, int> before = best_rate;
          harden(Counterexample{d, "", ""}, out.spec, consider, 8);
          if (best_rate != before)
            break;
        }
      if (!best) // interrupted before any check
        best.emplace(shrunk.workload, out.explanation, out.timeline, shrink_cut);
      best->reproduced = std::max(best_rate.first, 0);
      best->reruns = best_rate.second;
      targets_.erase(it);
      tally_[out.spec].cx = std::move(*best);
      ++broken_;
    }
  }

  /// The most messages (senders × messages per sender) of a workload hardened with holds.
  static constexpr std::uint64_t kMostHeld = 1024;

  /// The counterexample `cx` with holds at its hot points (level 3), under its own plan's seed
  /// first, then under others, since the seed decides which actors hold where: the first that
  /// breaks `spec` in 9 of 10 runs, and held on its first, is offered to `consider` (as good
  /// as the best so far wins; ties go to it, since holds do not lean on timing), else nothing.
  /// A seed that does not break the claim, or makes no hold, on its first run costs that run.
  /// `seeds`: how many to try.
  template <class Consider>
  void harden(const Counterexample &cx, const std::string &spec, Consider &consider,
              int seeds = 12) {
    const int kSeeds = seeds;
    harness::Workload held = cx.workload;
    held.perturb = 3;
    const std::uint64_t first = cx.workload.perturb_seed == 0 ? 1 : cx.workload.perturb_seed;
    for (int k = 0; k < kSeeds && time_left() && harness::interrupted() == 0; ++k) {
      held.perturb_seed = (first + static_cast<std::uint64_t>(k) * 0x9e3779b9ULL) % (1u << 30);
      if (held.perturb_seed == 0)
        held.perturb_seed = 1;
      const harness::RunResult r = harness::run_case(entry_, held, run_opts_);
      if (r.interrupted)
        return;
      const SpecOutcome f = harness::judge(entry_, r, {spec}).front();
      if (f.kind != Outcome::fail || r.holds == 0) // no hold: as timing-bound as without
        continue;
      auto rate = reproductions(held, spec, 9, 8); // with the run above: 9 of 10
      ++rate.first;
      ++rate.second;
      if (costly_ ? rate.first != rate.second : rate.first < 9) // as reproductions asks
        continue;
      consider(held, f, rate, cx.shrink_cut,
               "the shrunk workload with holds at its hot points (pt=3), which do not lean on "
               "timing",
               true);
      return;
    }
  }

  /// True when `a` and `b` differ in their perturbation and deadline seeds at most.
  static bool only_seeds_differ(harness::Workload a, const harness::Workload &b) {
    a.perturb_seed = b.perturb_seed;
    a.deadline_seed = b.deadline_seed;
    return harness::to_string(a) == harness::to_string(b);
  }

  /// Which of `n` chained failures to check, smallest first: the last three, then back in
  /// doubling steps, and the first failure last.
  static std::vector<std::size_t> look_back(std::size_t n) {
    std::vector<std::size_t> idx;
    for (std::size_t back = 1, step = 1; back <= n; back += step) {
      idx.push_back(n - back);
      if (back >= 3)
        step *= 2;
    }
    if (idx.empty() || idx.back() != 0)
      idx.push_back(0);
    return idx;
  }

  SpecResult cell(const std::string &s) const;
  SpecResult isolation_cell() const;

  const ChannelEntry &entry_;
  const Options &o_;
  std::vector<std::string> specs_, targets_;
  bool measuring_ = false;
  gen::WorkloadSpace space_;
  harness::RunOptions run_opts_;
  Clock::time_point start_;
  std::map<std::string, Tally> tally_;
  std::optional<SpecResult> isolation_;
  std::optional<Counterexample> abandoned_;
  int cases_ = 0, broken_ = 0, out_of_time_ = 0;
  double probe_seconds_ = 0;
  std::uint32_t longest_ = 0;
  double long_seconds_ = 0; ///< time spent in long cases
};

void Campaign::round(std::uint64_t seed) {
  bool shrinking = false;
  costly_ = false;
  // Out of cases, time or interrupted: rapidcheck has no way to stop early, so the property
  // fails once ("stopped") and then passes every shrink candidate of that non-failure, which
  // ends the round at once instead of generating the rest of its cases for nothing.
  bool stopped = false;
  bool shrink_cut = false;    // the budget ran out while shrinking a real failure
  std::vector<Failure> chain; // the first failure, then each smaller one the shrinker adopted
  // Shrinking often proposes a workload it already tried (a change to a value the workload
  // does not use, such as the seed of an unused plan); a hang costs a whole bound per run,
  // so each distinct workload runs once while shrinking and its verdict is reused.
  struct Seen {
    std::vector<std::string> failing; ///< targeted specs it broke (none: it passed)
    std::vector<SpecOutcome> outcomes;
    std::vector<std::string> confirmed; ///< as Failure::confirmed
  };
  std::map<std::string, Seen> shrink_seen; // by workload text
  auto property = [&] {
    if (!shrinking) // a shrink candidate keeps the kind of case that failed
      space_.long_messages = next_is_long() ? o_.max_messages : 0;
    const harness::Workload w = *gen::workload(space_);
    if (stopped)
      return;
    if (shrinking && (!time_left() || harness::interrupted() != 0)) {
      shrink_cut = true; // keep the smallest failure so far: every later candidate passes
      return;
    }
    if (!shrinking && !more_cases()) {
      stopped = true;
      RC_FAIL("stopped");
    }
    const std::string text = harness::to_string(w);
    if (auto seen = shrink_seen.find(text); shrinking && seen != shrink_seen.end()) {
      if (seen->second.failing.empty())
        return;
      if (harness::to_string(chain.back().workload) != text)
        chain.push_back({w, seen->second.outcomes, seen->second.confirmed});
      RC_FAIL(fmt::format("broken: {}", fmt::join(seen->second.failing, ", ")));
    }
    // A seed is not simpler than another, only another schedule: shrinking one tries schedules,
    // which pays where a run is cheap (a schedule that reproduces) but costs a bound per run
    // where the failure is a hang. There the candidate that changes only a seed passes unrun.
    if (shrinking && costly_ && only_seeds_differ(w, chain.back().workload))
      return;
    const auto case_start = Clock::now();
    const harness::RunResult r = harness::run_case(entry_, w, run_opts_);
    if (r.interrupted)
      return;
    if (r.abandoned) {
      abandon(w, r.run_error);
      return;
    }
    const auto outcomes = harness::judge(entry_, r, specs_);
    if (space_.long_messages != 0)
      long_seconds_ += seconds_since(case_start);
    std::vector<std::string> failing;
    for (const auto &out : outcomes)
      if (out.kind == Outcome::fail && targeted(out.spec))
        failing.push_back(out.spec);
    // A shrink candidate counts as failing only when further runs break a claim again: one
    // lucky interleaving must not make the counterexample, which others replay.
    if (shrinking && !failing.empty() && !confirmed(w, failing))
      failing.clear();
    if (!shrinking) {
      tally_case(w, outcomes);
      out_of_time_ += r.out_of_time;
    }
    // Only a shrink candidate's failures were confirmed by further runs.
    const auto confirmed_specs = shrinking ? failing : std::vector<std::string>{};
    if (shrinking || !failing.empty())
      shrink_seen[text] = Seen{failing, outcomes, confirmed_specs};
    if (!failing.empty()) {
      if (!shrinking) // the round's first failure: is a run of it costly (a hang)?
        costly_ = seconds_since(case_start) > std::chrono::duration<double>(kCostlyRun).count();
      shrinking = true;
      chain.push_back({w, outcomes, confirmed_specs});
      RC_FAIL(fmt::format("broken: {}", fmt::join(failing, ", ")));
    }
  };
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = o_.cases == 0 ? kRoundCases : std::min(kRoundCases, o_.cases - cases_);
  params.maxSize = 100;
  rc::detail::TestMetadata meta;
  meta.id = entry_.name;
  meta.description = entry_.name;
  SilentListener listener;
  const auto result =
      rc::detail::checkProperty(rc::detail::toProperty(property), meta, params, listener);
  space_.long_messages = 0;
  if (!result.template is<rc::detail::FailureResult>() || chain.empty() || stopped)
    return;
  // The last failing run is the shrunk counterexample: rapidcheck adopts every failing
  // candidate at once, so the final adoption is the one it reports.
  adopt(chain, shrink_cut);
}

SpecResult Campaign::cell(const std::string &s) const {
  const auto it = tally_.find(s);
  const Tally t = it == tally_.end() ? Tally{} : it->second;
  SpecResult res;
  res.channel = entry_.name;
  res.spec = s;
  res.cases = t.judged;
  res.seed = o_.seed;
  if (s == harness::kRun && abandoned_) {
    res.kind = SpecResult::fail;
    res.counterexample = abandoned_;
    res.replay = abandoned_->in_probes ? isolation_replay(entry_, o_, kRunInProbes)
                                       : replay_command(entry_, s, o_, abandoned_->workload);
  } else if (t.cx) {
    res.kind = SpecResult::fail;
    res.counterexample = t.cx;
    res.replay = t.cx->in_probes ? isolation_replay(entry_, o_, kRunInProbes)
                                 : replay_command(entry_, s, o_, t.cx->workload);
  } else if (abandoned_ && t.judged == 0) {
    res.kind = SpecResult::skip;
    res.observed = "not judged: the channel failed (see run)";
  } else if (harness::interrupted() != 0) {
    res.kind = SpecResult::interrupted;
    res.observed = fmt::format("interrupted after {} cases", cases_);
  } else if (t.judged == 0) {
    res.kind = SpecResult::skip;
    res.observed = !t.skip_reason.empty() ? t.skip_reason
                   : claimed(s)           ? "no case was run"
                                          : "not judged";
  } else if (!claimed(s)) {
    res.kind = SpecResult::not_claimed;
    res.observed = t.failed == 0 ? fmt::format("held in all {} cases", t.judged)
                                 : fmt::format("did not hold in {} of {} cases; first: {}",
                                               t.failed, t.judged, t.first_fail);
  } else {
    res.kind = SpecResult::pass;
    // A case the judge could not judge for a reason worth telling (a race report attributed
    // to an uninstrumented library) is said, not dropped: the pass holds for the others only.
    if (t.told > 0)
      res.observed = fmt::format("held where judged ({} of {} cases); the other {}: {}", t.judged,
                                 t.judged + t.told, t.told, t.told_why);
  }
  return res;
}

SpecResult Campaign::isolation_cell() const {
  if (isolation_)
    return *isolation_;
  SpecResult res;
  res.channel = entry_.name;
  res.spec = harness::kIsolation;
  res.seed = o_.seed;
  res.kind = SpecResult::interrupted;
  res.observed = "interrupted before the probes ran";
  return res;
}

} // namespace

CampaignResult run_campaign(const ChannelEntry &entry, const Options &o) {
  return Campaign(entry, o).run();
}

SpecResult replay(const ChannelEntry &entry, const harness::Workload &w, const std::string &spec,
                  const Options &o, int attempts) {
  if (spec == harness::kIsolation)
    return isolation_result(entry, o).cell;
  const harness::RunOptions run_opts = run_options(o);
  SpecResult res;
  res.channel = entry.name;
  res.spec = spec;
  res.seed = o.seed;
  const bool claimed = harness::always_claimed(spec) || entry.claims.promises(spec);
  std::string skip;
  int failed = 0;
  // Every one of `attempts` runs, to say how often it reproduces; when none did, on until the
  // first that does, up to five times as many (a narrow race).
  for (int i = 0; i < (failed == 0 ? 5 * attempts : attempts) && harness::interrupted() == 0; ++i) {
    const auto r = harness::run_case(entry, w, run_opts);
    if (r.interrupted)
      break;
    const auto out = harness::judge(entry, r, {spec}).front();
    if (out.kind == Outcome::skip) {
      skip = out.explanation;
      continue;
    }
    ++res.cases;
    if (out.kind == Outcome::fail && failed++ == 0) {
      res.counterexample = Counterexample{w, out.explanation, out.timeline};
      res.replay = replay_command(entry, spec, o, w);
    }
  }
  if (harness::interrupted() != 0) {
    res.kind = SpecResult::interrupted;
    res.observed = fmt::format("interrupted after {} attempts; reproduced {} of {}", res.cases,
                               failed, res.cases);
  } else if (res.cases == 0) {
    res.kind = SpecResult::skip;
    res.observed = skip;
  } else {
    res.kind = failed == 0 ? (claimed ? SpecResult::pass : SpecResult::not_claimed)
               : claimed   ? SpecResult::fail
                           : SpecResult::not_claimed;
    res.observed = fmt::format("reproduced {} of {}", failed, res.cases);
  }
  return res;
}

} // namespace ipcv::engine
