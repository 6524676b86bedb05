# 64-bit Arm boards (aarch64) with Debian's cross g++ (g++-aarch64-linux-gnu); see toolchains/README.md.
set(CROSSRIG_ARCH aarch64)
set(CROSSRIG_TRIPLE aarch64-linux-gnu)
set(CROSSRIG_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
