# IBM Z boards (s390x) with Debian's cross g++ (g++-s390x-linux-gnu); see toolchains/README.md.
set(CROSSRIG_ARCH s390x)
set(CROSSRIG_TRIPLE s390x-linux-gnu)
set(CROSSRIG_QEMU qemu-s390x-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
