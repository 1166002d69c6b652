// The record of known findings: what a third-party library is expected to break, so that
// `ipcverify run` and `verify` stay usable over libraries with documented shortcomings. A
// record is a JSON file (one per adapter, adapters/<lib>/expected.json):
//
//   {"library": "ZeroMQ 4.3.4",
//    "findings": [{"channel": "zmq-pushpull", "spec": "no-loss", "verdict": "FAIL",
//                  "reason": "one line", "link": "https://...", "reproduced_by": "test",
//                  "seen": "always"}]}
//
// `spec` is a column of run's matrix, or `verify:<Check>` for a conformance check of verify.
// A broken claim on record shows as FAIL* and does not count in the exit status; one that is
// not on record does, and so does a recorded one that now holds (the record is stale). With
// --strict the known ones count too. Reference channels never have a record: they must hold.
// A finding whose trigger is a race the campaign reaches only in some runs says
// "seen": "sometimes" (the default is "always"): when its cell holds, a note says so instead of
// a stale record, because one run that missed it proves nothing.
#pragma once

#include "run_report.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ipcv::cli {

/// One expected verdict of a record file.
struct Finding {
  std::string channel, spec, reason, link, reproduced_by;
  std::string file;       ///< the record it came from
  bool sometimes = false; ///< "seen": "sometimes": a run that holds is not a stale record
};

/// Every finding of the records given to one command.
struct Record {
  std::vector<Finding> findings;
  bool strict = false; ///< --strict: known failures count in the exit status too

  /// The finding for this cell, or nullptr.
  const Finding *find(std::string_view channel, std::string_view spec) const;
};

/// The prefix of a conformance check's name in a record.
inline constexpr std::string_view kVerifyPrefix = "verify:";

/// Adds --expected FILE (repeatable) and --strict to `cmd`.
void add_record_options(CLI::App *cmd, std::vector<std::string> &files, bool &strict);

/// Reads the records of IPCV_EXPECTED (colon-separated), then those of `files`, after the
/// plugins are loaded. Refuses, with one line on stderr ("PROGRAM: record FILE: why") and
/// false: an unreadable or malformed file, an entry without channel, spec or reason, a verdict
/// other than FAIL, a channel no loaded plugin registered (reference channels have no record),
/// a spec unknown or not claimed by the channel (it could never FAIL), a duplicate entry, a
/// "seen" other than "always" or "sometimes".
bool load_record(const char *program, const std::vector<std::string> &files, Record &out);

/// The text a cell on record carries: "reason (link)".
std::string record_text(const Finding &f);

/// Marks each FAIL cell of `rows` that is on record (SpecResult::on_record).
void mark_known(std::vector<Row> &rows, const Record &rec);

/// Whether the verdicts of a run fail it: a FAIL not on record (any FAIL with --strict), or a
/// finding on record whose cell was judged and held, which is printed as a stale record, one
/// line each on stderr (a "sometimes" finding that held is a note on stderr and does not fail).
bool run_fails(const char *program, const std::vector<Row> &rows, const Record &rec);

/// The same for one conformance check of verify: true when `failed` is not what the record
/// expects (a failure not on record, or a recorded one that passed, printed as stale; a
/// "sometimes" one that passed is a note).
bool check_fails(const char *program, const Record &rec, std::string_view channel,
                 std::string_view check, bool failed);

} // namespace ipcv::cli
