// Implementation of the judge (judge.hpp).
#include "judge.hpp"

#include "specs/catalog.hpp"
#include "specs/timeline.hpp"

#include <fmt/format.h>

namespace ipcv::harness {
namespace {

using spec::Res;

std::vector<std::size_t> pending_events(const spec::History &h, std::optional<std::uint32_t> skip) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].pending() && !(skip && h.events[i].pid == *skip + 1))
      out.push_back(i);
  if (out.size() > 8)
    out.resize(8);
  return out;
}

std::vector<std::size_t> events_where(const spec::History &h, auto pred) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < h.events.size() && out.size() < 8; ++i)
    if (pred(h.events[i]))
      out.push_back(i);
  return out;
}

SpecOutcome from_verdict(const std::string &name, bool claimed, const spec::Verdict &v,
                         const spec::History &h) {
  SpecOutcome o{name, SpecOutcome::pass, claimed, v.explanation, ""};
  if (v.kind == spec::Verdict::fail) {
    o.kind = SpecOutcome::fail;
    o.timeline = spec::render_timeline(h, v.witnesses);
  } else if (v.kind == spec::Verdict::unknown) {
    o.kind = SpecOutcome::skipped;
  }
  return o;
}

bool receiver_crashed(const Workload &w, const RunResult &r) {
  return r.crashed && *r.crashed >= w.senders;
}

} // namespace

bool always_claimed(const std::string &spec) { return spec == kRun || spec == kIsolation; }

std::vector<std::string> judgeable_specs() {
  std::vector<std::string> out{kRun};
  for (const auto &s : spec::catalog())
    out.emplace_back(s.name);
  out.emplace_back(kCrashSafety);
  out.emplace_back(kIsolation);
  return out;
}

std::vector<SpecOutcome> judge(const ChannelEntry &e, const Workload &w, const RunResult &r,
                               const std::vector<std::string> &specs) {
  std::vector<SpecOutcome> out;
  const spec::History &h = r.history;
  spec::Params params;
  for (const auto &name : specs) {
    const bool claimed = always_claimed(name) || e.claims.promises(name);
    SpecOutcome o{name, SpecOutcome::pass, claimed, "", ""};
    if (name == kIsolation) {
      o.kind = SpecOutcome::skipped;
      o.explanation = "judged once per channel by the isolation probes";
    } else if (r.crashed && name != kRun && name != kCrashSafety &&
               !e.claims.promises(kCrashSafety)) {
      // A channel's claims hold among live participants; what a kill does to them is the
      // crash-safety claim, measured (not failed) where the channel does not make it.
      o.kind = SpecOutcome::skipped;
      o.explanation = "a participant was killed and the channel does not claim crash-safety";
    } else if (name == kRun) {
      auto errors = events_where(h, [](const spec::Event &ev) { return ev.res == Res::error; });
      if (!r.run_error.empty()) {
        o.kind = SpecOutcome::fail;
        o.explanation = r.run_error;
      } else if (!errors.empty()) {
        o.kind = SpecOutcome::fail;
        o.explanation = fmt::format("a call returned error (line up with the timeline)");
        o.timeline = spec::render_timeline(h, errors);
      }
    } else if (name == kCrashSafety) {
      if (!r.crashed) {
        o.kind = SpecOutcome::skipped;
        o.explanation = "no participant was killed in this case";
      } else if (r.hung) {
        o.kind = SpecOutcome::fail;
        o.explanation = fmt::format("after {} was killed, a survivor hung until the watchdog",
                                    actor_name(w, *r.crashed));
        o.timeline = spec::render_timeline(h, pending_events(h, r.crashed));
      } else if (auto torn =
                     events_where(h,
                                  [](const spec::Event &ev) {
                                    return ev.has_msg && ev.res == Res::ok && !ev.intact &&
                                           (ev.op == spec::Op::recv || ev.op == spec::Op::read);
                                  });
                 !torn.empty()) {
        o.kind = SpecOutcome::fail;
        o.explanation = fmt::format("after {} was killed, a survivor received a damaged message",
                                    actor_name(w, *r.crashed));
        o.timeline = spec::render_timeline(h, torn);
      } else if (e.claims.promises("no-loss") && !receiver_crashed(w, r)) {
        if (const spec::Spec *nl = spec::find_spec("no-loss")) {
          spec::Verdict v = nl->check(h, params);
          if (v.kind == spec::Verdict::fail) {
            o = from_verdict(name, claimed, v, h);
            o.explanation =
                fmt::format("after {} was killed: {}", actor_name(w, *r.crashed), v.explanation);
          }
        }
      }
    } else if (const spec::Spec *s = spec::find_spec(name)) {
      if (!spec::applies(*s, h)) {
        o.kind = SpecOutcome::skipped;
        o.explanation = r.is_register ? "a register has no queue operations"
                                      : "no register operations in a queue history";
      } else if (name == "bounded-wait" && r.hung) {
        // Stopped early, the spec itself judges the history up to the stop (meta end_ns) and
        // shows its witness; it must fail, else the watchdog's verdict stands.
        if (!r.hang_note.empty())
          o = from_verdict(name, claimed, s->check(h, params), h);
        if (o.kind == SpecOutcome::fail) {
          o.explanation = r.hang_note + ": " + o.explanation;
        } else {
          o.kind = SpecOutcome::fail;
          o.explanation =
              r.hang_note.empty()
                  ? "the case hung: calls were still blocked when the watchdog killed them"
                  : r.hang_note;
          o.timeline = spec::render_timeline(h, pending_events(h, r.crashed));
        }
      } else if (r.hung) {
        o.kind = SpecOutcome::skipped;
        o.explanation = "the case hung (judged by bounded-wait)";
      } else if (receiver_crashed(w, r) && (name == "no-loss" || name == "linearizable")) {
        o.kind = SpecOutcome::skipped;
        o.explanation = "a receiver was killed: what it took with it cannot be observed";
      } else if (r.crashed && name == "bounded-wait") {
        // The killed actor's last call stays pending forever by design; judge the survivors.
        spec::History survivors = h;
        std::erase_if(survivors.events, [&](const spec::Event &ev) {
          return ev.pid == *r.crashed + 1 && ev.pending();
        });
        o = from_verdict(name, claimed, s->check(survivors, params), survivors);
      } else {
        o = from_verdict(name, claimed, s->check(h, params), h);
      }
    } else {
      o.kind = SpecOutcome::skipped;
      o.explanation = "not judged by the engine yet";
    }
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace ipcv::harness
