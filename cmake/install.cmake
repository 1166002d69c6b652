# `cmake --install <build> --prefix P`: the package a third party builds plugins against.
#
# The default build installs bin/ipcverify, bin/ipcbench, the public headers (include/ipcverify/,
# nothing else is public) and lib/cmake/ipcverify/: the config and version files, the exported
# target ipcverify::sdk, and the functions ipcverify_add_plugin() and ipcverify_add_test(). A
# sanitizer build (IPCV_SANITIZER=thread or address) installs next to it only its executable,
# bin/ipcverify-tsan or bin/ipcverify-asan, and a record of how that executable was built, which
# the config reads so ipcverify_add_plugin(... SANITIZER thread) can refuse a plugin that could
# not load into it. The installed package needs a C++20 compiler and nothing else: the sdk is
# headers only, and neither CLI11, fmt nor any test library is named by what is installed.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(IPCV_CMAKE_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipcverify)

if(IPCV_SANITIZER STREQUAL "none")
  install(TARGETS ipcverify RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  if(TARGET ipcbench)
    install(TARGETS ipcbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ipcverify DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp")
  # ipcverify::sdk carries IPCV_PERTURB=1 exactly when this ipcverify was built with it, so a
  # plugin's perturbation points are compiled in when (and only when) the host installs hooks.
  install(TARGETS ipcv_sdk EXPORT ipcverifyTargets)
  install(EXPORT ipcverifyTargets NAMESPACE ipcverify:: DESTINATION ${IPCV_CMAKE_DESTINATION})
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ipcverifyConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/ipcverifyConfig.cmake
                                INSTALL_DESTINATION ${IPCV_CMAKE_DESTINATION})
  # Before 1.0 a minor release may break the contract: 0.1 plugins are not built against 0.2.
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/ipcverifyConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/ipcverifyConfig.cmake
                ${PROJECT_BINARY_DIR}/ipcverifyConfigVersion.cmake
                ${PROJECT_SOURCE_DIR}/cmake/ipcverify_plugin.cmake
          DESTINATION ${IPCV_CMAKE_DESTINATION})
else()
  if(IPCV_SANITIZER STREQUAL "thread")
    set(IPCV_SANITIZER_SUFFIX tsan)
  else()
    set(IPCV_SANITIZER_SUFFIX asan)
  endif()
  install(PROGRAMS $<TARGET_FILE:ipcverify> DESTINATION ${CMAKE_INSTALL_BINDIR}
          RENAME ipcverify-${IPCV_SANITIZER_SUFFIX})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/ipcverify-sanitizer.cmake.in
                 ${PROJECT_BINARY_DIR}/ipcverify-sanitizer-${IPCV_SANITIZER}.cmake @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/ipcverify-sanitizer-${IPCV_SANITIZER}.cmake
          DESTINATION ${IPCV_CMAKE_DESTINATION})
endif()
