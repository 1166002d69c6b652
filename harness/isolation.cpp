// Implementation of the isolation probes (isolation.hpp): runs each probe and sums the results
// up. The probes live in isolation_*.cpp, one file each (the two memory probes share one), and
// what they share in isolation_internal.hpp. Every probe prepares its own instances, forks its
// own children (which record into a page mapped before fork), reaps them, destroys the
// instances and checks that their named objects are gone.
#include "isolation.hpp"
#include "guard.hpp"
#include "isolation_internal.hpp"

#include <exception>
#include <fmt/format.h>

namespace ipcv::harness {

using isolation_detail::inconclusive;
using isolation_detail::result;
using isolation_detail::take_hang;

std::string ProbeResult::line() const {
  return fmt::format("{}: {}: {}", to_string(probe), to_string(kind), observed);
}

namespace {
ProbeResult run_probe_once(Probe p, const ChannelEntry &e) {
  try {
    switch (p) {
    case Probe::owner_only:
      return isolation_detail::owner_only(e);
    case Probe::no_squat:
      return isolation_detail::no_squat(e);
    case Probe::no_crosstalk:
      return isolation_detail::no_crosstalk(e);
    case Probe::copy_semantics:
      return isolation_detail::copy_semantics(e);
    case Probe::nothing_else_shared:
      return isolation_detail::nothing_else_shared(e);
    }
  } catch (const std::exception &x) {
    return result(p, Outcome::skip, std::string("the probe could not run: ") + x.what());
  }
  return result(p, Outcome::skip, "unknown probe");
}
} // namespace

ProbeResult run_probe(Probe p, const ChannelEntry &e, const ProbeOptions &o) {
  if (const auto why = unusable(e.name))
    return inconclusive(p, "not run: the channel is unusable: " + *why);
  take_hang(); // a hang noted by an earlier probe belongs to that probe
  const isolation_detail::CallDeadline deadline(o.call_deadline);
  ProbeResult r = run_probe_once(p, e);
  // A child of the probe that outlived every deadline it was given: the channel hung, which
  // says nothing about isolation. The probe's child was killed; the parent is unharmed.
  if (const auto hang = take_hang()) {
    r = inconclusive(p, "the channel hung: " + *hang);
    r.hang = fmt::format("in the isolation probe {}, {}", to_string(p), *hang);
  }
  return r;
}

IsolationReport probe_isolation(const ChannelEntry &e, const ProbeOptions &o) {
  IsolationReport r;
  r.channel = e.name;
  bool hung = false;
  for (Probe p : kProbes) {
    if (hung) {
      r.probes.push_back(inconclusive(p, "not run: the channel hung in an earlier probe"));
      continue;
    }
    r.probes.push_back(run_probe(p, e, o));
    hung = !r.probes.back().hang.empty();
  }
  return r;
}

std::string IsolationReport::hang() const {
  for (const ProbeResult &p : probes)
    if (!p.hang.empty())
      return p.hang;
  return {};
}

IsolationVerdict summarize(const IsolationReport &r) {
  IsolationVerdict v;
  v.channel = r.channel;
  const std::string hang = r.hang();
  std::string failed, passed, others;
  for (const auto &p : r.probes) {
    v.probes.push_back(p.line());
    switch (p.kind) {
    case Outcome::fail:
      failed += (failed.empty() ? "" : "; ") + p.line();
      break;
    case Outcome::pass:
      passed += (passed.empty() ? "" : ", ") + std::string(to_string(p.probe));
      break;
    default:
      others += (others.empty() ? "" : "; ") + p.line();
      break;
    }
  }
  if (!failed.empty()) {
    v.kind = Outcome::fail;
    v.explanation = failed;
  } else if (!hang.empty()) { // what passed before the hang is not the whole verdict
    v.kind = Outcome::skip;
    v.explanation = "not judged: the channel hung (see run): " + hang;
  } else if (passed.empty()) {
    v.kind = Outcome::skip;
    v.explanation = others.empty() ? "no probe ran" : others;
  } else {
    v.kind = Outcome::pass;
    v.explanation = "passed: " + passed + (others.empty() ? "" : "; " + others);
  }
  return v;
}

} // namespace ipcv::harness
