# Compiler flags and the helpers every folder uses to declare its targets.

set(CROSSRIG_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2)
if(CROSSRIG_WERROR)
  list(APPEND CROSSRIG_WARNINGS -Werror)
endif()

add_library(crossrig_flags INTERFACE)
target_compile_options(crossrig_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:${CROSSRIG_WARNINGS}>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra $<$<BOOL:${CROSSRIG_WERROR}>:-Werror>>)
target_compile_definitions(crossrig_flags INTERFACE _GNU_SOURCE
  CROSSRIG_VERSION="${PROJECT_VERSION}")
if(CROSSRIG_SANITIZE)
  target_compile_options(crossrig_flags INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(crossrig_flags INTERFACE -fsanitize=address,undefined)
endif()
if(CROSSRIG_FUZZ)
  # Coverage feedback must come from the libraries under test, not only the fuzzer's own file.
  target_compile_options(crossrig_flags INTERFACE -fsanitize=fuzzer-no-link)
endif()

# crossrig_library(NAME SOURCES ... [DEPS ...]): a static library of one folder.
function(crossrig_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC crossrig_flags ${ARG_DEPS})
endfunction()

# crossrig_tool(NAME SOURCES ... [DEPS ...]): a command installed to build/<preset>/bin.
function(crossrig_tool name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE crossrig_flags ${ARG_DEPS})
  install(TARGETS ${name} RUNTIME DESTINATION bin)
endfunction()

# crossrig_unit_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [NOT_UNDER_QEMU_USER ...]): a
# GoogleTest binary whose cases ctest lists one by one, labelled "unit" so the sanitizer run can
# pick them out. Cases matching a NOT_UNDER_QEMU_USER pattern call what qemu-user does not
# translate (an ioctl missing from its table fails with ENOSYS): cross presets leave them out,
# and each must name the lab test that runs the same call on every board's real kernel.
function(crossrig_unit_test name)
  if(NOT CROSSRIG_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;NOT_UNDER_QEMU_USER" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE crossrig_flags GTest::gtest GTest::gtest_main ${ARG_DEPS})
  target_compile_definitions(${name} PRIVATE
    CROSSRIG_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CROSSRIG_BINARY_DIR="${CMAKE_BINARY_DIR}")
  set(filter "")
  if(CMAKE_CROSSCOMPILING_EMULATOR AND ARG_NOT_UNDER_QEMU_USER)
    list(JOIN ARG_NOT_UNDER_QEMU_USER ":" patterns)
    set(filter TEST_FILTER "-${patterns}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 ${filter}
    PROPERTIES LABELS "unit;${ARG_LABELS}" TIMEOUT 120)
endfunction()

# crossrig_fuzzer(NAME SOURCES ... [DEPS ...]): a libFuzzer target, built with CROSSRIG_FUZZ;
# ctest runs it briefly over its corpus folder (label "fuzz").
function(crossrig_fuzzer name)
  if(NOT CROSSRIG_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE crossrig_flags ${ARG_DEPS})
  set(work ${CMAKE_BINARY_DIR}/fuzz/${name})
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
      $<TARGET_FILE:${name}> -max_total_time=20 -timeout=5 -rss_limit_mb=1024
      -artifact_prefix=${work}/ ${work}/corpus ${ARG_CORPUS})
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 120
    FIXTURES_REQUIRED ${name}_corpus)
  add_test(NAME ${name}_corpus COMMAND ${CMAKE_COMMAND} -E make_directory ${work}/corpus)
  set_tests_properties(${name}_corpus PROPERTIES FIXTURES_SETUP ${name}_corpus LABELS fuzz)
endfunction()
