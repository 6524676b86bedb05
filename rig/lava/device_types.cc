#include "rig/lava/device_types.h"

#include <array>
#include <stdexcept>

namespace crossrig::rig::lava {

namespace {

// LAVA's own U-Boot template with load addresses taken from U-Boot's standard environment
// variables, as rig's boot script does, so one type serves every SoC. base.jinja2 would add
// ip=dhcp to the command line; the job's command line is the kernel's, as under `rig run`.
constexpr std::string_view kUbootTemplate =
    R"({# crossrig-uboot, written by `rig lava export`: boards of rig's boot method uboot. #}
{% extends 'base-uboot.jinja2' %}
{% set booti_kernel_addr = booti_kernel_addr | default('${kernel_addr_r}') %}
{% set booti_ramdisk_addr = booti_ramdisk_addr | default('${ramdisk_addr_r}') %}
{% set booti_dtb_addr = booti_dtb_addr | default('${fdt_addr_r}') %}
{% set base_ip_args = base_ip_args | default('') %}
)";

// The commands of rig's own iPXE script (rig/boot), with the job's command line as the whole
// kernel command line. LAVA types the commands; the delay between characters is that of LAVA's
// own x86 type, for firmware that drops input arriving at full serial speed.
constexpr std::string_view kIpxeTemplate =
    R"({# crossrig-ipxe, written by `rig lava export`: boards of rig's boot method ipxe. #}
{% extends 'base.jinja2' %}
{% set boot_character_delay = boot_character_delay | default(500) %}
{% block body %}
actions:
  deploy:
    methods:
      tftp:
  boot:
    connections:
      serial:
    methods:
      ipxe:
        parameters:
          bootloader_prompt: {{ bootloader_prompt | default('iPXE>') }}
        ramdisk:
          commands:
          - "dhcp"
          - "kernel tftp://{SERVER_IP}/{KERNEL} {{ extra_kernel_args | default('') }}"
          - "initrd tftp://{SERVER_IP}/{RAMDISK}"
          - "boot"
{% endblock body %}
)";

// LAVA has no boot method that talks to SLOF or the s390 netboot loader, and their netboot
// reads a configuration at a path of the board's own (pxelinux.cfg/01-MAC, s390-netboot.cfg)
// that LAVA's per-job TFTP directories cannot provide. So LAVA only power-cycles the board
// ("minimal" boot) and watches the console; the firmware boots what rig staged in tftp_dir.
constexpr std::string_view kNetbootTemplate =
    R"({# written by `rig lava export`: boards whose firmware netboots by itself after power-on
   (rig's boot methods slof and s390-netboot); jobs power-cycle and watch. #}
{% extends 'base.jinja2' %}
{% block body %}
actions:
  deploy:
    methods: {}
  boot:
    connections:
      serial:
    methods:
      minimal:
{% endblock body %}
)";

constexpr std::array<LavaDeviceType, 4> kDeviceTypes{{
    {BootMethod::kUboot, "crossrig-uboot", "u-boot", true, kUbootTemplate},
    {BootMethod::kSlof, "crossrig-slof", "minimal", false, kNetbootTemplate},
    {BootMethod::kS390Netboot, "crossrig-s390-netboot", "minimal", false, kNetbootTemplate},
    {BootMethod::kIpxe, "crossrig-ipxe", "ipxe", true, kIpxeTemplate},
}};

constexpr std::array<std::pair<Arch, std::string_view>, 5> kMkimageArch{{
    {Arch::kX86_64, "x86_64"},
    {Arch::kAarch64, "arm64"},
    {Arch::kPpc64, "powerpc"},
    {Arch::kPpc64le, "powerpc"},
    {Arch::kS390x, "s390"},
}};

}  // namespace

const LavaDeviceType& lava_device_type(BootMethod boot) {
  for (const auto& type : kDeviceTypes) {
    if (type.boot == boot) return type;
  }
  throw std::logic_error("no LAVA device type for a boot method; add a row to kDeviceTypes");
}

std::span<const LavaDeviceType> lava_device_types() {
  return kDeviceTypes;
}

std::string_view mkimage_arch(Arch arch) {
  for (const auto& [a, name] : kMkimageArch) {
    if (a == arch) return name;
  }
  throw std::logic_error("no mkimage arch for an arch; add a row to kMkimageArch");
}

}  // namespace crossrig::rig::lava
