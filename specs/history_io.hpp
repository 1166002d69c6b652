// Reading and writing histories as JSON Lines (the format of docs/design.md, "History files"):
// one event per line, any order, unknown fields ignored, an optional first line {"meta":{...}}.
// Reading uses simdjson's on-demand parser one line at a time, so every error names its line;
// writing is a hand-rolled formatter (about 10x faster than building nlohmann::json objects for
// a million events). Errors are values: nothing here throws.
#pragma once

#include "history.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ipcv::spec {

/// An IoError is why a history could not be read or written, as one line of text naming the
/// file or the line: `line 7: missing "op"`.
struct IoError {
  std::string message;
};

/// A ReadResult is a history, or the first error met while reading it.
struct ReadResult {
  History history;
  std::optional<IoError> error;
  explicit operator bool() const noexcept { return !error; }
};

/// Parses the JSON Lines text of a history. Blank lines are skipped; events get their 1-based
/// line number in Event::line. Rules beyond the JSON: "pid", "op", "call" and "res" are required;
/// a pending call has no "ret" and every other call has one, not before its "call"; a send of a
/// non-empty message that returned ok or is pending, and every write, need "msg"/"val" (a send,
/// recv or read without one is identity-less: the empty message, a failed attempt whose message
/// goes out again later, or a register's initial value).
ReadResult parse_history(std::string_view text);

/// Reads and parses the history file at `path`; errors start with the path
/// (`h.jsonl: line 7: missing "op"`).
ReadResult read_history(const std::string &path);

/// The JSON Lines text of `h`: a meta line when it has meta numbers, claims or pid lists
/// (crashed, senders, receivers), then one line per
/// event in the order of h.events. parse_history(to_jsonl(h)) gives back h (lines renumbered).
std::string to_jsonl(const History &h);

/// Writes to_jsonl(h) to `path`; the error, if any.
std::optional<IoError> write_history(const History &h, const std::string &path);

} // namespace ipcv::spec
