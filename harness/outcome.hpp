// The one vocabulary of the harness's verdicts. A spec says pass, fail or unknown of a history
// (spec::Verdict); everything the harness decides (a conformance check, one spec on one case,
// an isolation probe, a channel's isolation) ends in an Outcome: pass, fail, or skip with the
// reason it could not be judged. The verdict matrix adds its own two words for a cell,
// not-claimed and interrupted (engine::SpecResult).
#pragma once

#include <cstdint>
#include <string_view>

namespace ipcv::harness {

/// An Outcome is what one judgement of the harness found.
enum class Outcome : std::uint8_t {
  pass, ///< held
  fail, ///< broken, with the evidence
  skip, ///< not judged: not applicable, or it could not run here (the reason says which)
};

/// "pass", "fail", "skip".
constexpr std::string_view to_string(Outcome o) noexcept {
  return o == Outcome::pass ? "pass" : o == Outcome::fail ? "fail" : "skip";
}

} // namespace ipcv::harness
