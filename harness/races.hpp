// Race reports of a ThreadSanitizer build as evidence: each case's processes write their
// reports to files of the case's own, which the runner reads after reaping them, so a data race
// becomes a `race-free` failure of that case (shrunk and replayed like any other), with the
// two stacks, instead of a host that died mid-case. In a build without TSan nothing is
// written and `race-free` cannot be judged, which the verdict says.
#pragma once

#include <string>

namespace ipcv::harness {

/// True in a ThreadSanitizer build: race reports exist to be read.
bool race_checking() noexcept;

/// A fresh path prefix for the reports of one case ("<tmp>/ipcv-tsan-<pid>-<n>"); "" when
/// race_checking() is false.
std::string race_report_base();

/// In a child of the case: its reports go to `<base>.<pid>` from now on (no-op without TSan).
void report_races_to(const std::string &base) noexcept;

/// The shared library, not built with ThreadSanitizer, that a race report runs through: the
/// module of its first frame that has neither function nor source ("    #1 <null> <null>
/// (libzmq.so.5+0x7c0a0)"), or "" when every frame is of instrumented code. Such a library's
/// own synchronisation (its I/O threads' queues, its locks) is invisible to TSan, so a report
/// through it cannot be told from a false one: race-free attributes it to the library instead
/// of judging the channel by it.
std::string uninstrumented_module(const std::string &report);

/// The first report written under `base` (from "WARNING: ThreadSanitizer" to its "SUMMARY"
/// line), or "" when none; every file is removed.
std::string collect_race_reports(const std::string &base);

} // namespace ipcv::harness
