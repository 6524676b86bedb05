# What every cross toolchain file shares: Debian's cross gcc for CROSSRIG_TRIPLE, static
# executables run through qemu-user, and no host directories searched for target libraries.
# Included by toolchains/<triple>.cmake after it sets CROSSRIG_ARCH (uname -m spelling),
# CROSSRIG_TRIPLE and CROSSRIG_QEMU. See toolchains/README.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${CROSSRIG_ARCH})
set(CMAKE_C_COMPILER ${CROSSRIG_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${CROSSRIG_TRIPLE}-g++)

find_program(CROSSRIG_QEMU_PATH ${CROSSRIG_QEMU})
if(NOT CROSSRIG_QEMU_PATH)
  message(FATAL_ERROR "${CROSSRIG_QEMU} not found: run scripts/setup (package qemu-user-static)")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${CROSSRIG_QEMU_PATH})

# The boards run these binaries from a ramdisk with no libraries at all: -static, at a fixed
# address (not static-pie, which relocates itself at start-up).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -no-pie")
set(CMAKE_POSITION_INDEPENDENT_CODE OFF)

# Libraries come from the cross compiler's own directories and toolchains/build-sysroot, never
# from the host's /usr/lib.
set(CMAKE_FIND_ROOT_PATH /usr/${CROSSRIG_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
