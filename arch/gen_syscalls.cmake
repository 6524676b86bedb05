# Writes an arch's syscall table as C++ ({name, number} lines) from the kernel's own table, after
# checking it against the installed uapi header of that arch: the build fails if they differ.
#   cmake -DARCH=... -DOUT=... -DSOURCE=... -DFORMAT=tbl -DABIS=common,64 -DCHECK=... -P
#   cmake -DARCH=... -DOUT=... -DSOURCE=... -DFORMAT=generic -DINCLUDES=dir,dir -DCPP=c++
#         -DCHECK=... -DCHECK_INCLUDES=dir,dir -P
# (lists are comma-separated, so they pass through a build command unquoted).
# FORMAT tbl reads a syscall.tbl, keeping the entries whose ABI column is one of ABIS (the
# kernel's own header generator does the same). FORMAT generic preprocesses a header that
# includes asm-generic/unistd.h (arm64) and resolves __NR_x -> __NR3264_x -> number. CHECK is
# a flat unistd header of #define __NR_x N lines, or with CHECK_INCLUDES a generic one.
cmake_policy(VERSION 3.25)

# Sets out_var to a sorted list of "name=number" from a flat unistd header.
function(read_flat header out_var)
  file(STRINGS "${header}" lines REGEX "^#define __NR_[a-z0-9_]+[ \t]+[0-9]+$")
  set(result "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^#define __NR_([a-z0-9_]+)[ \t]+([0-9]+)$" "\\1=\\2" entry "${line}")
    list(APPEND result "${entry}")
  endforeach()
  list(SORT result)
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

# Sets out_var to the sorted "name=number" entries of a syscall.tbl for the given ABIs.
function(read_tbl table abis out_var)
  file(STRINGS "${table}" lines REGEX "^[0-9]+[ \t]")
  set(result "")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "^([0-9]+)[ \t]+([a-z0-9]+)[ \t]+([a-z0-9_]+)" _ "${line}")
    if(CMAKE_MATCH_2 IN_LIST abis)
      list(APPEND result "${CMAKE_MATCH_3}=${CMAKE_MATCH_1}")
    endif()
  endforeach()
  list(SORT result)
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

# Sets out_var to the sorted "name=number" entries of a header built on asm-generic/unistd.h,
# as its preprocessor sees it: the __ARCH_WANT_* choices and the 64-bit __NR3264_* aliases.
function(read_generic header includes out_var)
  set(args -E -dM -x c -nostdinc)
  foreach(dir IN LISTS includes)
    list(APPEND args -I${dir})
  endforeach()
  execute_process(COMMAND ${CPP} ${args} ${header} OUTPUT_VARIABLE defines
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "preprocessing ${header} failed: ${err}")
  endif()
  string(REGEX MATCHALL "#define __NR[0-9_]*[a-z][a-z0-9_]* [^\n]+" macros "${defines}")
  foreach(m IN LISTS macros)
    string(REGEX REPLACE "^#define ([A-Za-z0-9_]+) (.+)$" "\\1" name "${m}")
    string(REGEX REPLACE "^#define ([A-Za-z0-9_]+) (.+)$" "\\2" value "${m}")
    set(def_${name} "${value}")
  endforeach()
  set(result "")
  foreach(m IN LISTS macros)
    string(REGEX REPLACE "^#define ([A-Za-z0-9_]+) .*$" "\\1" name "${m}")
    if(NOT name MATCHES "^__NR_[a-z]" OR name STREQUAL "__NR_syscalls")
      continue()
    endif()
    set(value "${def_${name}}")
    # An alias names another macro (__NR_mmap -> __NR3264_mmap); follow it to a number.
    foreach(hop RANGE 3)
      if(value MATCHES "^[0-9]+$" OR NOT DEFINED def_${value})
        break()
      endif()
      set(value "${def_${value}}")
    endforeach()
    if(NOT value MATCHES "^[0-9]+$")
      message(FATAL_ERROR "${header}: ${name} is '${value}', not a number")
    endif()
    string(REGEX REPLACE "^__NR_" "" short "${name}")
    list(APPEND result "${short}=${value}")
  endforeach()
  list(SORT result)
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

string(REPLACE "," ";" ABIS "${ABIS}")
string(REPLACE "," ";" INCLUDES "${INCLUDES}")
string(REPLACE "," ";" CHECK_INCLUDES "${CHECK_INCLUDES}")
if(FORMAT STREQUAL "tbl")
  read_tbl("${SOURCE}" "${ABIS}" table)
elseif(FORMAT STREQUAL "generic")
  read_generic("${SOURCE}" "${INCLUDES}" table)
else()
  message(FATAL_ERROR "gen_syscalls: unknown FORMAT '${FORMAT}'")
endif()
if(CHECK_INCLUDES)
  read_generic("${CHECK}" "${CHECK_INCLUDES}" check)
else()
  read_flat("${CHECK}" check)
endif()

list(LENGTH table count)
if(count LESS 300)
  message(FATAL_ERROR "${SOURCE} gives only ${count} ${ARCH} syscalls: wrong file or ABIs?")
endif()
if(NOT table STREQUAL check)
  set(only_kernel ${table})
  list(REMOVE_ITEM only_kernel ${check})
  set(only_header ${check})
  list(REMOVE_ITEM only_header ${table})
  message(FATAL_ERROR "${ARCH} syscall table of ${SOURCE} and ${CHECK} differ:\n"
          "  only in the kernel source: ${only_kernel}\n  only in the header: ${only_header}\n"
          "Install matching versions (scripts/setup) or fix the ABI selection.")
endif()

set(body "")
foreach(entry IN LISTS table)
  string(REPLACE "=" "\", " entry "${entry}")
  string(APPEND body "{\"${entry}},\n")
endforeach()
file(WRITE "${OUT}.new"
     "// ${ARCH}: generated from ${SOURCE}, checked against ${CHECK}; do not edit.\n${body}")
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.new")
