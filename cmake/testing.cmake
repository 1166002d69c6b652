# ipcv_add_tests(NAME DIR LIBS...): one GoogleTest binary from every *_test.cpp in DIR (a new
# test file is picked up on its own), each test registered with CTest and JUnit XML written
# under ${CMAKE_BINARY_DIR}/junit/.
function(ipcv_add_tests name dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE ${ARGN} rapidcheck_gtest rapidcheck GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE IPCV_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT 300 LABELS "${name}"
    XML_OUTPUT_DIR ${CMAKE_BINARY_DIR}/junit)
endfunction()
