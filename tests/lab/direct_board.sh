# Sourced by the lab tests that boot QEMU straight from the lab's kernel and ramdisk (no
# firmware): direct_board ARCH sets kernel and ramdisk (from the manifest toolchains/lab-images
# wrote), qemu (the board each arch stands for, as the lab's QEMU machines are defined), console
# (its serial console) and nic (the virtio NIC device of its bus). Exits 1 without the images,
# 2 for an unknown arch.
direct_board() {
  local arch=$1 manifest
  manifest=${XDG_CACHE_HOME:-$HOME/.cache}/crossrig/lab/$arch/manifest.json
  [ -f "$manifest" ] || { echo "FAIL: no $manifest; run toolchains/lab-images $arch" >&2; exit 1; }
  kernel=$(sed -n 's/.*"kernel": "\([^"]*\)".*/\1/p' "$manifest")
  ramdisk=$(sed -n 's/.*"ramdisk": "\([^"]*\)".*/\1/p' "$manifest")
  nic=virtio-net-pci
  case $arch in
    x86_64) qemu=(qemu-system-x86_64 -M q35 -cpu max -m 1024) console=ttyS0 ;;
    aarch64) qemu=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -m 1024) console=ttyAMA0 ;;
    ppc64 | ppc64le) qemu=(qemu-system-ppc64 -M pseries,x-vof=on -m 1024) console=hvc0 ;;
    s390x) qemu=(qemu-system-s390x -M s390-ccw-virtio -m 1024) console=ttysclp0 nic=virtio-net-ccw ;;
    *) echo "usage: unknown arch $arch" >&2; exit 2 ;;
  esac
}
