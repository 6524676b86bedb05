# Little-endian 64-bit POWER boards (ppc64le) with Debian's cross g++ (g++-powerpc64le-linux-gnu); see toolchains/README.md.
set(CROSSRIG_ARCH ppc64le)
set(CROSSRIG_TRIPLE powerpc64le-linux-gnu)
set(CROSSRIG_QEMU qemu-ppc64le-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross.cmake)
