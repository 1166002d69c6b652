// Happens-before annotations for Valgrind's thread checkers (Helgrind and DRD). They know
// pthread primitives but not the C++ memory model: to them a release store and an acquire load
// are plain moves, so every byte handed over through an atomic index looks like a data race.
// At each SYNC POINT the shm code therefore states the edge its release/acquire pair creates,
// and it names the words that are only ever accessed atomically so that the checkers leave
// them alone. Compiled in with IPCV_VALGRIND (the CMake option of that name: on in the default
// build, whose tests Helgrind and DRD run; off in the benchmark build); otherwise every macro
// is empty. Outside Valgrind a client request is a few register instructions.
#pragma once

#if defined(IPCV_VALGRIND) && IPCV_VALGRIND
// helgrind.h first: drd.h then keeps Helgrind's ANNOTATE_HAPPENS_BEFORE/AFTER, whose client
// requests DRD shares (same numbers), and adds its own ANNOTATE_BENIGN_RACE_SIZED.
#include <valgrind/helgrind.h>

#include <valgrind/drd.h>

/// IPCV_HAPPENS_BEFORE(word) declares that what this thread did so far happens before what any
/// thread does after a later IPCV_HAPPENS_AFTER(word); placed just before the release store.
#define IPCV_HAPPENS_BEFORE(word) ANNOTATE_HAPPENS_BEFORE(word)

/// IPCV_HAPPENS_AFTER(word) is the receiving half of IPCV_HAPPENS_BEFORE(word); placed just
/// after the acquire load.
#define IPCV_HAPPENS_AFTER(word) ANNOTATE_HAPPENS_AFTER(word)

/// IPCV_UNCHECKED(addr, bytes) removes a range from race checking (Helgrind: untracked, DRD:
/// suppressed) until it is unmapped. Only for memory every access of which is atomic, where a
/// concurrent access is not a data race, and for the seqlock's copies, which readers read
/// while the writer may rewrite them and validate afterwards (seqlock_register.hpp).
#define IPCV_UNCHECKED(addr, bytes)                                                                \
  do {                                                                                             \
    VALGRIND_HG_DISABLE_CHECKING(addr, bytes);                                                     \
    ANNOTATE_BENIGN_RACE_SIZED(addr, bytes, "");                                                   \
  } while (0)
#else
#define IPCV_HAPPENS_BEFORE(word) ((void)0)
#define IPCV_HAPPENS_AFTER(word) ((void)0)
#define IPCV_UNCHECKED(addr, bytes) ((void)0)
#endif
