#include "rig/lab/board_types.h"

#include <array>
#include <stdexcept>

namespace crossrig::rig::lab {

namespace {

// Measured netboot paths (shared/notes/virtual-lab.md): q35 boots iPXE from the virtio NIC's
// option ROM; virt runs Debian's U-Boot, which ignores QEMU's MAC and reads its own from the
// environment in flash; pseries boots SLOF's net device (spapr-vlan, the PAPR veth real POWER
// machines have); s390-ccw-virtio loads s390-netboot.img for a virtio-net-ccw boot device.
// TCG lacks the speculation-barrier workarounds pseries asks for by default; saying so up front
// keeps QEMU from warning at every power-on.
constexpr std::string_view kPseries =
    "pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off";

// x86_64 and aarch64 run QEMU's "max" CPU: the default qemu64 has neither XSAVE nor AVX, and
// cortex-a57 no SVE, which the ckpt suite exercises (pauth-impdef: TCG's architected pointer
// authentication made the aarch64 suite three times slower). 1 GiB each: the ckpt suite's largest
// tracee (256 MiB) and its image in tmpfs are both in memory while the restored copy fills in.
constexpr std::array<BoardType, 5> kTypes{{
    {Arch::kX86_64, "qemu-system-x86_64", "q35", "max", 1024, "", false, "virtio-net-pci", true,
     "ttyS0", BootMethod::kIpxe, "bzImage"},
    {Arch::kAarch64, "qemu-system-aarch64", "virt", "max,pauth-impdef=on", 1024,
     "/usr/lib/u-boot/qemu_arm64/u-boot.bin", true, "virtio-net-pci", false, "ttyAMA0",
     BootMethod::kUboot, "Image"},
    {Arch::kPpc64, "qemu-system-ppc64", kPseries, "", 1024, "", false, "spapr-vlan", true, "hvc0",
     BootMethod::kSlof, "vmlinux"},
    {Arch::kPpc64le, "qemu-system-ppc64", kPseries, "", 1024, "", false, "spapr-vlan", true, "hvc0",
     BootMethod::kSlof, "vmlinux"},
    {Arch::kS390x, "qemu-system-s390x", "s390-ccw-virtio", "", 1024, "", false, "virtio-net-ccw",
     true, "ttysclp0", BootMethod::kS390Netboot, "image"},
}};

}  // namespace

std::span<const BoardType> board_types() {
  return kTypes;
}

const BoardType& board_type(Arch arch) {
  for (const auto& t : kTypes) {
    if (t.arch == arch) return t;
  }
  throw std::logic_error("no virtual board type for this architecture");
}

}  // namespace crossrig::rig::lab
