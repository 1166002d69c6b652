// The catalog of specs: every Spec linked into the program, looked up by name. A spec file
// registers itself with one line, so adding a spec is adding a file; no list to edit:
//
//   namespace { const SpecRegistrar kRegistered{{"no-loss", kDefinition, &check_no_loss}}; }
//
// Registration runs at static initialisation. The build links ipcv::specs as a whole archive
// (specs/CMakeLists.txt), so no spec file is dropped by the linker for being unreferenced.
//
// Calling a spec directly: every spec file `specs/<name>.cpp` has a header `specs/<name>.hpp`
// declaring `Verdict check_<name>(const History &, const Params &)` (dashes become
// underscores: check_no_loss, check_bounded_wait).
#pragma once

#include "history.hpp"

#include <string_view>
#include <vector>

namespace ipcv::spec {

/// A SpecRegistrar adds one Spec to the catalog when it is constructed (at static
/// initialisation); a second spec with the same name is a programming error.
struct SpecRegistrar {
  explicit SpecRegistrar(const Spec &spec) noexcept;
};

/// Every registered spec, in the order of kDesignOrder in catalog.cpp (docs/design.md, "Specs");
/// specs not listed there come after, by name.
const std::vector<Spec> &catalog();

/// The spec called `name`, or nullptr.
const Spec *find_spec(std::string_view name) noexcept;

/// True when `h` has events of the spec's domain (queue: send/recv/close, register:
/// write/read), so the spec has something to judge.
bool applies(const Spec &spec, const History &h) noexcept;

} // namespace ipcv::spec
