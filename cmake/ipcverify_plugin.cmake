# ipcverify_add_plugin() and ipcverify_add_test(): how a plugin is built and tested. The same
# file serves this tree (adapters/, test fixtures) and the installed package
# (lib/cmake/ipcverify/), so in-tree and out-of-tree plugins are built one way. It needs the
# target ipcverify::sdk (the public headers) and, for ipcverify_add_test, the executable
# IPCVERIFY_EXECUTABLE_<sanitizer> names (ipcverify::ipcverify; ipcverify::ipcverify-tsan ...).
#
# In this tree IPCVERIFY_BUILD_SANITIZER is the build's own IPCV_SANITIZER: every target already
# gets its flags, so a plugin is built for the ipcverify beside it. In the package the plugin
# adds the flags itself, for the sanitizer build the package records (ipcverify-sanitizer-*.cmake).

# ipcverify_add_plugin(<name> <source>... [SANITIZER none|thread|address]): builds <source>...
# into lib<name>.so, a plugin that `ipcverify --plugin` loads. With SANITIZER thread (address)
# the plugin is for ipcverify-tsan (ipcverify-asan): compiled with that sanitizer, by the
# compiler that built the executable, or refused here (the runtimes of two compilers differ,
# and a plugin built for the other one cannot load).
#
# A MODULE library: it is only ever dlopen()ed, never linked against. Symbols keep default
# visibility, so the plugin's copy of the perturbation hook (an inline thread_local in
# perturb.hpp) is the one ipcverify exports and installs hooks into.
function(ipcverify_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SANITIZER" "")
  if(NOT arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ipcverify_add_plugin(${name}): no source files")
  endif()
  if(DEFINED IPCVERIFY_BUILD_SANITIZER)
    set(built_for ${IPCVERIFY_BUILD_SANITIZER})
  else()
    set(built_for none)
  endif()
  if(NOT DEFINED arg_SANITIZER)
    set(arg_SANITIZER ${built_for})
  endif()
  if(NOT arg_SANITIZER MATCHES "^(none|thread|address)$")
    message(FATAL_ERROR "ipcverify_add_plugin(${name}): SANITIZER must be none, thread or address, not '${arg_SANITIZER}'")
  endif()
  if(DEFINED IPCVERIFY_BUILD_SANITIZER AND NOT arg_SANITIZER STREQUAL IPCVERIFY_BUILD_SANITIZER)
    message(FATAL_ERROR "ipcverify_add_plugin(${name}): SANITIZER ${arg_SANITIZER} in a build of ipcverify with IPCV_SANITIZER=${IPCVERIFY_BUILD_SANITIZER}: a plugin is built for the ipcverify beside it")
  endif()
  # The package's record of its sanitizer builds; in this tree the build itself is the record.
  if(NOT arg_SANITIZER STREQUAL "none" AND NOT DEFINED IPCVERIFY_BUILD_SANITIZER)
    set(recorded "${IPCVERIFY_SANITIZER_${arg_SANITIZER}_COMPILER_ID}")
    if(recorded STREQUAL "")
      message(FATAL_ERROR "ipcverify_add_plugin(${name}): SANITIZER ${arg_SANITIZER}: this ipcverify package has no ${arg_SANITIZER} build (install one from a build configured with -DIPCV_SANITIZER=${arg_SANITIZER} into the same prefix)")
    endif()
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL recorded)
      message(FATAL_ERROR "ipcverify_add_plugin(${name}): SANITIZER ${arg_SANITIZER}: the ${arg_SANITIZER} build of ipcverify was compiled by ${recorded}, this project by ${CMAKE_CXX_COMPILER_ID}; their sanitizer runtimes differ and the plugin could not load (configure with the ${recorded} compiler)")
    endif()
    if(NOT "${IPCVERIFY_SANITIZER_${arg_SANITIZER}_PERTURB}" STREQUAL "${IPCVERIFY_PERTURB}")
      message(FATAL_ERROR "ipcverify_add_plugin(${name}): SANITIZER ${arg_SANITIZER}: the ${arg_SANITIZER} build of ipcverify has IPCV_PERTURB=${IPCVERIFY_SANITIZER_${arg_SANITIZER}_PERTURB}, ipcverify::sdk has ${IPCVERIFY_PERTURB}; install both from builds with the same IPCV_PERTURB")
    endif()
  endif()

  add_library(${name} MODULE ${arg_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ipcverify::sdk)
  set_target_properties(${name} PROPERTIES PREFIX "lib" SUFFIX ".so" IPCVERIFY_SANITIZER ${arg_SANITIZER})
  if(NOT DEFINED IPCVERIFY_BUILD_SANITIZER)
    # The flags of ipcverify's own sanitizer builds (the top-level CMakeLists.txt of ipcverify).
    if(arg_SANITIZER STREQUAL "thread")
      target_compile_options(${name} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
      target_link_options(${name} PRIVATE -fsanitize=thread)
    elseif(arg_SANITIZER STREQUAL "address")
      target_compile_options(${name} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
      target_link_options(${name} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all)
    endif()
  endif()
endfunction()

# ipcverify_add_test(<NAME> PLUGIN <target> CHANNELS <channel>... [CASES n] [BUDGET seconds]
#                    [MODE process|thread] [EXPECTED record.json]): two CTest tests of the channels the plugin <target>
# registers, run by the ipcverify the plugin was built for (ipcverify-tsan for SANITIZER thread):
#   <NAME>.verify  the contract's conformance checks (`ipcverify verify`)
#   <NAME>.run     the campaign, every spec judged (`ipcverify run`), after <NAME>.verify
# Each fails when a claim is broken (ipcverify exits 1) or on bad input (2), and leaves JUnit
# XML in ${CMAKE_BINARY_DIR}/junit/<NAME>.verify.xml and <NAME>.run.xml for the CI to show.
# BUDGET (default 30 s) is the campaign's wall-clock budget, CASES caps its cases; MODE defaults
# to process, and to thread for a ThreadSanitizer plugin (TSan judges race-free only there).
# EXPECTED names a record of known findings (JSON, see docs/plugins.md): a broken claim on record
# (FAIL*) passes both tests, a broken claim not on record or a recorded one that held fails them.
function(ipcverify_add_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PLUGIN;CASES;BUDGET;MODE;EXPECTED" "CHANNELS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ipcverify_add_test(${name}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_PLUGIN OR NOT TARGET ${arg_PLUGIN})
    message(FATAL_ERROR "ipcverify_add_test(${name}): PLUGIN must name a target of ipcverify_add_plugin(), not '${arg_PLUGIN}'")
  endif()
  if(NOT arg_CHANNELS)
    message(FATAL_ERROR "ipcverify_add_test(${name}): CHANNELS names no channel")
  endif()
  get_target_property(sanitizer ${arg_PLUGIN} IPCVERIFY_SANITIZER)
  if(NOT sanitizer)
    message(FATAL_ERROR "ipcverify_add_test(${name}): ${arg_PLUGIN} was not built by ipcverify_add_plugin()")
  endif()
  set(exe "${IPCVERIFY_EXECUTABLE_${sanitizer}}")
  if(exe STREQUAL "" OR NOT TARGET ${exe})
    message(FATAL_ERROR "ipcverify_add_test(${name}): no ipcverify executable for SANITIZER ${sanitizer}")
  endif()
  if(NOT arg_BUDGET)
    set(arg_BUDGET 30)
  endif()
  if(NOT arg_MODE)
    set(arg_MODE process)
    if(sanitizer STREQUAL "thread")
      set(arg_MODE thread)
    endif()
  endif()
  if(NOT arg_MODE MATCHES "^(process|thread)$")
    message(FATAL_ERROR "ipcverify_add_test(${name}): MODE must be process or thread, not '${arg_MODE}'")
  endif()
  set(channels "")
  foreach(ch IN LISTS arg_CHANNELS)
    list(APPEND channels --channel ${ch})
  endforeach()
  set(junit ${CMAKE_BINARY_DIR}/junit)
  file(MAKE_DIRECTORY ${junit})
  set(plugin --plugin $<TARGET_FILE:${arg_PLUGIN}>)
  if(arg_EXPECTED)
    # The record of known findings (a library's documented shortcomings): FAIL* then passes the
    # test, a new failure or a stale record fails it.
    if(NOT IS_ABSOLUTE "${arg_EXPECTED}")
      set(arg_EXPECTED "${CMAKE_CURRENT_SOURCE_DIR}/${arg_EXPECTED}")
    endif()
    if(NOT EXISTS "${arg_EXPECTED}")
      message(FATAL_ERROR "ipcverify_add_test(${name}): EXPECTED ${arg_EXPECTED} does not exist")
    endif()
    list(APPEND plugin --expected ${arg_EXPECTED})
  endif()

  add_test(NAME ${name}.verify
           COMMAND ${exe} verify ${plugin} ${channels} --junit ${junit}/${name}.verify.xml)
  set(run_args --mode ${arg_MODE} --time-budget ${arg_BUDGET})
  if(arg_CASES)
    list(APPEND run_args --cases ${arg_CASES})
  endif()
  add_test(NAME ${name}.run
           COMMAND ${exe} run ${plugin} ${channels} ${run_args} --junit ${junit}/${name}.run.xml)
  # The campaign shares its budget among the channels and then shrinks what it found: room for
  # both, so a CTest timeout never cuts a report short.
  math(EXPR run_timeout "${arg_BUDGET} * 2 + 120")
  set_tests_properties(${name}.verify PROPERTIES TIMEOUT 300 LABELS ipcverify)
  set_tests_properties(${name}.run PROPERTIES TIMEOUT ${run_timeout} LABELS ipcverify
                                              DEPENDS ${name}.verify)
endfunction()
