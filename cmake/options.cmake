# Every build option of ipcverify, in one place, printed at configure time.
set(IPCV_SANITIZER "none" CACHE STRING "Sanitizer build: none, thread or address (address = ASan+UBSan)")
set_property(CACHE IPCV_SANITIZER PROPERTY STRINGS none thread address)
option(IPCV_WERROR "Treat warnings as errors" ON)
option(IPCV_BUILD_TESTS "Build the tests (default: when ipcverify is the top-level project)" ${PROJECT_IS_TOP_LEVEL})
option(IPCV_PERTURB "Compile the perturbation points of the reference channels" ON)

foreach(opt IPCV_SANITIZER IPCV_WERROR IPCV_BUILD_TESTS IPCV_PERTURB)
  message(STATUS "ipcverify option ${opt} = ${${opt}}")
endforeach()
