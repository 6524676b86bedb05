# x86_64 boards with Debian's own g++ under its triple name (x86_64-linux-gnu-g++): the same
# static on-board binaries as for the other arches, for the lab's x86_64 ramdisk; see
# toolchains/README.md.
set(CROSSRIG_ARCH x86_64)
set(CROSSRIG_TRIPLE x86_64-linux-gnu)
set(CROSSRIG_QEMU qemu-x86_64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
