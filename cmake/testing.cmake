# ipcv_add_tests(NAME DIR LIBS...): one GoogleTest binary from every *_test.cpp in DIR (a new
# test file is picked up on its own), each test registered with CTest and JUnit XML written
# under ${CMAKE_BINARY_DIR}/junit/.
#
# The target ipcv_tests builds everything CTest runs and nothing else (no benchmarks), so a
# sanitizer configuration can build just that: a test registered with add_test outside this
# function must be added to it with add_dependencies(ipcv_tests TARGET).
add_custom_target(ipcv_tests)

function(ipcv_add_tests name dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  add_dependencies(ipcv_tests ${name})
  target_link_libraries(${name} PRIVATE ${ARGN} rapidcheck_gtest rapidcheck GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE IPCV_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # GoogleTest and rapidcheck are most of what every test file parses: parse them once per
  # binary in the clang (sanitizer) builds. Not with g++ 12: through a precompiled header its
  # false -Warray-bounds in std::string (a known g++ 12 bug) is no longer silenced.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_precompile_headers(${name} PRIVATE <gtest/gtest.h> <rapidcheck.h> <rapidcheck/gtest.h>)
  endif()
  # PRE_TEST: tests are listed when CTest runs, not when the binary is linked, so tests that
  # come from data files (one per golden history in specs/testdata/) follow the files.
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT 300 LABELS "${name}"
    XML_OUTPUT_DIR ${CMAKE_BINARY_DIR}/junit)
endfunction()

# ipcv_add_library_tests(NAME SOURCE PREFIX LIBS...): an adapter's by-hand tests of its library
# (GoogleTest and the library's own API, no ipcverify), one binary NAME from SOURCE linked with
# LIBS, each test registered with CTest as PREFIX<suite>.<test>. Default build only: the
# sanitizer runs leave out every adapter.* test (sanitizer_runs/lib.sh says why), so building
# them there cost 16 s of CPU in ASan and 10 s in TSan for nothing.
function(ipcv_add_library_tests name source prefix)
  if(NOT IPCV_SANITIZER STREQUAL "none" OR NOT TARGET GTest::gtest_main)
    return()
  endif()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest_main)
  gtest_discover_tests(${name} TEST_PREFIX ${prefix} PROPERTIES LABELS ipcverify TIMEOUT 60)
endfunction()

# The self-tests of the sanitizer configurations (fixtures each one must catch), compiled with
# the flags of this build; see sanitizer_runs/README.md.
add_subdirectory(${PROJECT_SOURCE_DIR}/sanitizer_runs ${PROJECT_BINARY_DIR}/sanitizer_runs)
