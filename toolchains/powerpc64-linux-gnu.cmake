# Big-endian 64-bit POWER boards (ppc64, e.g. the PowerXCell 8i card) with Debian's cross g++
# (g++-powerpc64-linux-gnu); see toolchains/README.md.
set(CROSSRIG_ARCH ppc64)
set(CROSSRIG_TRIPLE powerpc64-linux-gnu)
set(CROSSRIG_QEMU qemu-ppc64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
