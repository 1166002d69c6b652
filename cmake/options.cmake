# Every build option of ipcverify, in one place, printed at configure time.
set(IPCV_SANITIZER "none" CACHE STRING "Sanitizer build: none, thread or address (address = ASan+UBSan)")
set_property(CACHE IPCV_SANITIZER PROPERTY STRINGS none thread address)
option(IPCV_WERROR "Treat warnings as errors" ON)
option(IPCV_BUILD_TESTS "Build the tests (default: when ipcverify is the top-level project)" ${PROJECT_IS_TOP_LEVEL})
option(IPCV_PERTURB "Compile the perturbation points of the reference channels" ON)
# On by default, so the Helgrind/DRD runs need no build of their own: outside Valgrind each
# annotation is a few register instructions. Benchmark builds (`make bench`) turn it off.
option(IPCV_VALGRIND "Compile the Valgrind client annotations (happens-before/after) of the lock-free code, for Helgrind/DRD runs" ON)
# Unity build: each target's sources compiled as a few combined translation units, so the
# headers every file includes (CLI11, GoogleTest, rapidcheck, fmt) are parsed once per batch,
# not once per file. A fresh g++ build of everything took 840 s of CPU file by file and about
# 440 s in batches (make check builds three times: g++, TSan, ASan). Off for quick
# incremental rebuilds while editing, where a change recompiles its whole batch.
option(IPCV_UNITY_BUILD "Compile each target's sources in combined batches (fresh builds take about half the CPU)" ON)
if(IPCV_UNITY_BUILD)
  set(CMAKE_UNITY_BUILD ON)
endif()

foreach(opt IPCV_SANITIZER IPCV_WERROR IPCV_BUILD_TESTS IPCV_PERTURB IPCV_VALGRIND IPCV_UNITY_BUILD)
  message(STATUS "ipcverify option ${opt} = ${${opt}}")
endforeach()

# IPCV_VALGRIND=1 tells the code to include <valgrind/helgrind.h> and emit its annotations
# (see sanitizer_runs/README.md, "Helgrind and lock-free code"); off, they compile to nothing.
if(IPCV_VALGRIND)
  add_compile_definitions(IPCV_VALGRIND=1)
endif()
