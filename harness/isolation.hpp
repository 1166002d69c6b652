// The `isolation` probes: five experiments on fresh instances of a channel for what a history
// cannot show. Who else can reach the channel's named objects (a child that dropped to
// `nobody` tries them); whether a squatter can take a name before prepare does; whether two
// instances side by side exchange anything; whether a message is a copy, immune to the
// sender's later writes and the receiver's scribbles; and whether a process of the channel
// shares memory beyond the channel's region(s) and the harness's own mappings.
//
// Each probe ends pass, fail or skip: not applicable (nothing of the channel it could try), or
// it cannot run here (e.g. not root), always with one line saying what was tried and what was
// observed. Probes prepare their own instances, always destroy them and reap every child; they
// know nothing of the engine, which calls probe_isolation() and summarize() per channel.
#pragma once

#include "outcome.hpp"

#include "ipcverify/any_channel.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipcv::harness {

/// An EnumName pairs one enumerator with its name in reports.
template <class E> struct EnumName {
  E value;
  std::string_view name;
};

/// The name `table` gives `v`, or "?" when it gives none.
template <class E, std::size_t N>
constexpr std::string_view name_in(const std::array<EnumName<E>, N> &table, E v) noexcept {
  for (const EnumName<E> &n : table)
    if (n.value == v)
      return n.name;
  return "?";
}

/// A Probe is one isolation experiment.
enum class Probe : std::uint8_t {
  owner_only,         ///< another user cannot open, map, read or write any named object
  no_squat,           ///< names are unpredictable; prepare refuses a name that already exists
  no_crosstalk,       ///< two instances at once: no message of one appears in the other
  copy_semantics,     ///< a message is a copy: later writes on either side never change it
  nothing_else_shared ///< a child's shared mappings: the channel's region(s) and the harness's
};

/// Every probe, in the order they run and are reported.
inline constexpr std::array<Probe, 5> kProbes = {Probe::owner_only, Probe::no_squat,
                                                 Probe::no_crosstalk, Probe::copy_semantics,
                                                 Probe::nothing_else_shared};

/// The name of each probe in reports.
inline constexpr std::array<EnumName<Probe>, 5> kProbeNames = {{
    {Probe::owner_only, "owner-only"},
    {Probe::no_squat, "no-squat"},
    {Probe::no_crosstalk, "no-cross-talk"},
    {Probe::copy_semantics, "copy-semantics"},
    {Probe::nothing_else_shared, "nothing-else-shared"},
}};

/// The name of a probe in reports: "owner-only", "no-squat", "no-cross-talk",
/// "copy-semantics", "nothing-else-shared".
constexpr std::string_view to_string(Probe p) noexcept { return name_in(kProbeNames, p); }

/// A ProbeResult is the outcome of one probe on one channel: pass, fail, or skip, where a
/// skip is "not applicable: ..." (the channel has nothing the probe could try), "inconclusive:
/// ..." (the probe ran, but what it saw is evidence neither way, such as a channel that damaged,
/// lost or delayed its own messages, which other specs judge), or says why the probe could not
/// run here (e.g. not root).
struct ProbeResult {
  Probe probe = Probe::owner_only;
  Outcome kind = Outcome::pass;
  std::string observed; ///< one line: what was tried and what was observed
  /// Not empty when a child of the probe was still in the channel three deadlines after it
  /// started and was killed: "in the isolation probe no-cross-talk, sender A was still ...".
  /// The probe is then inconclusive, and the hang is the channel's `run` failure.
  std::string hang;

  /// "owner-only: pass: uid 65534 could not mq_open /ipcv-mq-...: EACCES ..."
  std::string line() const;
  /// True for a skip because the channel has nothing this probe could try.
  bool not_applicable() const noexcept {
    return kind == Outcome::skip && observed.starts_with(kNotApplicable);
  }
  /// True for a skip because the probe ran but saw no evidence either way.
  bool inconclusive() const noexcept {
    return kind == Outcome::skip && observed.starts_with(kInconclusive);
  }
  static constexpr std::string_view kNotApplicable = "not applicable: ";
  static constexpr std::string_view kInconclusive = "inconclusive: ";
};

/// An IsolationReport is every probe's result on one channel.
struct IsolationReport {
  std::string channel;
  std::vector<ProbeResult> probes;
  /// The hang of the probe that hung (ProbeResult::hang; the probes after it did not run), or
  /// empty.
  std::string hang() const;
};

/// How long a probe gives the channel. Every call a probe's child makes into the channel has
/// `call_deadline`; a child still in the channel three deadlines after it started hung (the
/// channel ignored its deadline), which is the channel's `run` failure and ends the probes.
struct ProbeOptions {
  std::chrono::milliseconds call_deadline{10'000};
};

/// Runs one probe against fresh instances of `e`.
ProbeResult run_probe(Probe p, const ChannelEntry &e, const ProbeOptions &o = {});

/// Runs the five probes against fresh instances of `e`, up to the first that hung (each after
/// it would wait as long again).
IsolationReport probe_isolation(const ChannelEntry &e, const ProbeOptions &o = {});

/// An IsolationVerdict is the `isolation` spec's verdict on one channel: pass when every probe
/// that applied passed, fail when one failed, skip when none applied.
struct IsolationVerdict {
  std::string channel;
  Outcome kind = Outcome::pass;
  /// Fail: the failing probes' lines, "; "-separated (so it names the probe that failed).
  /// Pass or skip: which probes passed, and why the others did not apply or were skipped.
  std::string explanation;
  std::vector<std::string> probes; ///< ProbeResult::line() of every probe, in kProbes order
};

/// The verdict a report amounts to.
IsolationVerdict summarize(const IsolationReport &r);

} // namespace ipcv::harness
