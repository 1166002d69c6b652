# ipcverify_add_plugin(<name> <source>... ): builds <source>... into lib<name>.so, a plugin
# that `ipcverify --plugin` loads. The same file serves this tree (adapters/, test fixtures) and
# the installed package (lib/cmake/ipcverify/), so in-tree and out-of-tree plugins are built
# one way. It needs the target ipcverify::sdk (the public headers) to exist.
#
# A MODULE library: it is only ever dlopen()ed, never linked against. Symbols keep default
# visibility, so the plugin's copy of the perturbation hook (an inline thread_local in
# perturb.hpp) is the one ipcverify exports and installs hooks into.
function(ipcverify_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "ipcverify_add_plugin(${name}): no source files")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE ipcverify::sdk)
  set_target_properties(${name} PROPERTIES PREFIX "lib" SUFFIX ".so")
endfunction()
