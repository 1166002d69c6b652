// The spec catalog: a registry filled at static initialisation, sorted on first use.
#include "catalog.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace ipcv::spec {
namespace {

constexpr std::array<std::string_view, 12> kDesignOrder = {
    "integrity",    "no-phantom",    "no-duplication", "no-loss",   "fifo",         "linearizable",
    "bounded-wait", "end-of-stream", "deadline",       "isolation", "crash-safety", "register"};

std::size_t rank(std::string_view name) {
  return static_cast<std::size_t>(std::find(kDesignOrder.begin(), kDesignOrder.end(), name) -
                                  kDesignOrder.begin());
}

struct Registry {
  std::vector<Spec> specs;
  bool sorted = false;
};
Registry &registry() {
  static Registry r;
  return r;
}

} // namespace

SpecRegistrar::SpecRegistrar(const Spec &spec) noexcept {
  Registry &r = registry();
  for (const Spec &s : r.specs)
    if (s.name == spec.name) {
      std::fprintf(stderr, "ipcv: spec \"%.*s\" registered twice\n",
                   static_cast<int>(spec.name.size()), spec.name.data());
      std::abort();
    }
  r.specs.push_back(spec);
  r.sorted = false;
}

const std::vector<Spec> &catalog() {
  Registry &r = registry();
  if (!r.sorted) {
    std::sort(r.specs.begin(), r.specs.end(), [](const Spec &a, const Spec &b) {
      const auto ra = rank(a.name), rb = rank(b.name);
      return ra != rb ? ra < rb : a.name < b.name;
    });
    r.sorted = true;
  }
  return r.specs;
}

const Spec *find_spec(std::string_view name) noexcept {
  for (const Spec &s : catalog())
    if (s.name == name)
      return &s;
  return nullptr;
}

bool applies(const Spec &spec, const History &h) noexcept {
  if (spec.domain == Domain::any)
    return !h.events.empty();
  return std::any_of(h.events.begin(), h.events.end(), [&](const Event &e) {
    const bool reg = e.op == Op::write || e.op == Op::read;
    return spec.domain == Domain::registers ? reg : !reg;
  });
}

} // namespace ipcv::spec
