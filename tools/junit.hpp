// JUnit XML reports of `ipcverify run --junit FILE` and `ipcverify verify --junit FILE`, the
// format every CI server shows as test results: one <testsuite> per channel, one <testcase> per
// verdict cell (run) or conformance check (verify), a broken claim or failed check as a
// <failure> carrying what was observed, a cell not judged as <skipped>.
#pragma once

#include "run_report.hpp"

#include "harness/outcome.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ipcv::cli::junit {

/// A Case is one <testcase>.
struct Case {
  enum Kind { pass, failure, skipped };
  std::string name;
  Kind kind = pass;
  std::string message; ///< failure/skipped: one line (the message attribute)
  std::string text;    ///< failure: the evidence (the element's text), may span lines
};

/// A Suite is one <testsuite>: the cases of one channel.
struct Suite {
  std::string name;
  double seconds = 0;
  std::vector<Case> cases;
};

/// `s` as XML character data or an attribute value: &, <, >, " and ' as entities, tab, newline
/// and carriage return kept (as character references in attributes, where a parser would
/// otherwise fold them into spaces), every other character XML 1.0 forbids, and every byte that
/// is not part of valid UTF-8, replaced by U+FFFD.
std::string escape(std::string_view s, bool attribute);

/// The whole document: <testsuites name="..."> around the suites.
std::string to_xml(std::string_view name, const std::vector<Suite> &suites);

/// The suites of a run: one per channel, one case per spec cell (pass, FAIL with the observed
/// text and the replay command, n/c and skip as skipped, interrupted as skipped).
std::vector<Suite> from_run(const std::vector<Row> &rows);

/// Adds the outcome of conformance check `check` on `channel` to the suites of a verify: a
/// failed check as a failure carrying `detail`, a check not applicable as skipped.
void add_check(std::vector<Suite> &suites, std::string_view channel, std::string_view check,
               harness::Outcome kind, const std::string &detail);

/// Writes `xml` to `path`; false when it cannot.
bool write(const std::string &path, const std::string &xml);

} // namespace ipcv::cli::junit
