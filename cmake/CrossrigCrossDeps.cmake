# The libraries of the on-board binaries when cross-compiling, as the same targets the native
# build gets from find_package (see toolchains/README.md for why they come from where they do):
# - header-only ones from the host's headers, which are the same on every arch and which
#   Debian's cross g++ searches after its own libc's (/usr/include comes last);
# - xxHash and {fmt} header-only (XXH_INLINE_ALL, FMT_HEADER_ONLY);
# - libcrypto and Boost.Program_options from the sysroot toolchains/build-sysroot builds from
#   Debian's source packages (cached; about 10 min per arch the first time);
# - GoogleTest from Debian's googletest sources in /usr/src/googletest.
include(CheckIncludeFileCXX)

execute_process(
  COMMAND ${PROJECT_SOURCE_DIR}/toolchains/build-sysroot ${CMAKE_SYSTEM_PROCESSOR}
  OUTPUT_VARIABLE CROSSRIG_SYSROOT OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "toolchains/build-sysroot ${CMAKE_SYSTEM_PROCESSOR} failed (its message "
    "is above); run scripts/setup, then configure again")
endif()
message(STATUS "Target libraries from ${CROSSRIG_SYSROOT}")

foreach(header boost/version.hpp nlohmann/json.hpp fmt/format.h xxhash.h)
  string(MAKE_C_IDENTIFIER "CROSSRIG_HAVE_${header}" var)
  check_include_file_cxx(${header} ${var})
  if(NOT ${var})
    message(FATAL_ERROR "${CMAKE_CXX_COMPILER} finds no ${header}: run scripts/setup "
      "(libboost-dev, nlohmann-json3-dev, libfmt-dev, libxxhash-dev)")
  endif()
endforeach()

add_library(Boost::headers INTERFACE IMPORTED GLOBAL)
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED GLOBAL)

add_library(Boost::program_options STATIC IMPORTED GLOBAL)
set_target_properties(Boost::program_options PROPERTIES
  IMPORTED_LOCATION ${CROSSRIG_SYSROOT}/lib/libboost_program_options.a
  INTERFACE_LINK_LIBRARIES Boost::headers)

add_library(OpenSSL::Crypto STATIC IMPORTED GLOBAL)
set_target_properties(OpenSSL::Crypto PROPERTIES
  IMPORTED_LOCATION ${CROSSRIG_SYSROOT}/lib/libcrypto.a
  INTERFACE_INCLUDE_DIRECTORIES ${CROSSRIG_SYSROOT}/include)

# libssl for the page server's TLS; it calls into libcrypto, so it comes before it.
add_library(OpenSSL::SSL STATIC IMPORTED GLOBAL)
set_target_properties(OpenSSL::SSL PROPERTIES
  IMPORTED_LOCATION ${CROSSRIG_SYSROOT}/lib/libssl.a
  INTERFACE_LINK_LIBRARIES OpenSSL::Crypto)

add_library(PkgConfig::XXHASH INTERFACE IMPORTED GLOBAL)
set_target_properties(PkgConfig::XXHASH PROPERTIES INTERFACE_COMPILE_DEFINITIONS XXH_INLINE_ALL)

add_library(fmt INTERFACE IMPORTED GLOBAL)
set_target_properties(fmt PROPERTIES INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY)

if(CROSSRIG_TESTS)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)
endif()
