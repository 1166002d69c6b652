// Perturbation points: places in the reference channels where interleavings matter. Each
// IPCV_PERTURB_POINT("name") calls the hook installed by the engine for this thread (yield,
// spin or sleep by a seeded plan); with no hook it is one relaxed load, and with IPCV_PERTURB
// undefined it compiles to nothing.
#pragma once

namespace ipcv::perturb {

/// A Hook is called at every perturbation point reached by the thread that installed it.
using Hook = void (*)(const char *point);

/// The calling thread's hook (nullptr: none). Thread-local, so actors do not disturb each other.
inline thread_local Hook tls_hook = nullptr;

/// Installs `h` for the calling thread and returns the previous hook.
inline Hook install(Hook h) noexcept {
  Hook old = tls_hook;
  tls_hook = h;
  return old;
}

inline void point(const char *name) noexcept {
  if (Hook h = tls_hook)
    h(name);
}

} // namespace ipcv::perturb

#if defined(IPCV_PERTURB) && IPCV_PERTURB
#define IPCV_PERTURB_POINT(name) ::ipcv::perturb::point(name)
#else
// The name is still referenced (unevaluated): a point whose name a function takes as a
// parameter must compile without "unused parameter" when the points are compiled out.
#define IPCV_PERTURB_POINT(name) ((void)sizeof(name))
#endif
