// Rendering of a failure's witness events as a short timeline: one column (lane) per process,
// one row per call and per return in time order, times relative to the first witness. Fits a
// terminal of the given width; with more processes than fit, it falls back to one row per event.
#pragma once

#include "history.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace ipcv::spec {

/// The timeline of the events `witnesses` (indices into h.events; duplicates ignored) as lines
/// of at most `width` columns, each ending in '\n'; empty when there are no witnesses.
std::string render_timeline(const History &h, const std::vector<std::size_t> &witnesses,
                            std::size_t width = 100);

} // namespace ipcv::spec
