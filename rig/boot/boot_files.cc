#include "rig/boot/boot_files.h"

#include <algorithm>
#include <stdexcept>

#include "rig/boot/uboot_image.h"

namespace crossrig::rig::boot {

namespace {

constexpr const char* kUbootScript = "boot.scr.uimg";
constexpr const char* kIpxeScript = "boot.ipxe";
constexpr const char* kS390Config = "s390-netboot.cfg";

void check(const BootRequest& r) {
  // Every format here is line-based, and U-Boot's script quotes the command line in '...'.
  if (r.cmdline.find_first_of("\n\r'") != std::string::npos) {
    throw std::invalid_argument("the kernel command line may hold no newline and no single quote");
  }
  for (const auto* name : {&r.kernel, &r.ramdisk, &r.prefix}) {
    if (name->find_first_of(" \t\n\r'\"$;") != std::string::npos) {
      throw std::invalid_argument("the file name '" + *name +
                                  "' holds a space, quote, '$' or ';'; rename it");
    }
  }
  if (!r.prefix.empty() && r.prefix.back() != '/') {
    throw std::invalid_argument("the TFTP prefix '" + r.prefix + "' must end with '/'");
  }
}

std::string uboot_script(const BootRequest& r) {
  std::string s = "# rig: netboot through U-Boot's boot script\n";
  s += "setenv bootargs '" + r.cmdline + "'\n";
  std::string fdt = "${fdtcontroladdr}";
  if (r.dtb) {
    s += "tftpboot ${fdt_addr_r} " + r.prefix + *r.dtb + " || exit\n";
    fdt = "${fdt_addr_r}";
  }
  s += "tftpboot ${kernel_addr_r} " + r.prefix + r.kernel + " || exit\n";
  // The ramdisk comes last so that ${filesize} is its size.
  s += "tftpboot ${ramdisk_addr_r} " + r.prefix + r.ramdisk + " || exit\n";
  s += "booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} " + fdt + "\n";
  s += "echo rig: booti returned, the kernel did not start\n";
  return s;
}

// The syslinux format SLOF and the s390 netboot loader both read.
std::string pxelinux_config(const BootRequest& r, bool s390) {
  std::string s = s390 ? "# pxelinux\n" : "";
  s += "DEFAULT rig\nLABEL rig\n";
  s += "  KERNEL " + r.prefix + r.kernel + "\n";
  s += "  INITRD " + r.prefix + r.ramdisk + "\n";
  s += "  APPEND " + r.cmdline + "\n";
  return s;
}

std::string ipxe_script(const BootRequest& r) {
  std::string base = "tftp://" + r.server.value_or("${next-server}") + "/" + r.prefix;
  std::string s = "#!ipxe\n";
  s += "kernel " + base + r.kernel + " " + r.cmdline + "\n";
  s += "initrd " + base + r.ramdisk + "\n";
  s += "boot\n";
  return s;
}

std::string pxelinux_mac_name(const std::string& mac) {
  std::string name = "01-" + mac;
  std::replace(name.begin(), name.end(), ':', '-');
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

}  // namespace

std::vector<BootFile> boot_files(const BootRequest& request) {
  check(request);
  switch (request.method) {
    case BootMethod::kUboot: {
      UbootArch arch = request.arch == Arch::kAarch64 ? UbootArch::kArm64 : UbootArch::kPowerPc;
      // A fixed time keeps the image identical from one job to the next.
      return {{kUbootScript, script_image(uboot_script(request), "rig boot script", arch, 0)}};
    }
    case BootMethod::kSlof: {
      std::string config = pxelinux_config(request, false);
      std::vector<BootFile> files;
      if (!request.mac.empty())
        files.push_back({"pxelinux.cfg/" + pxelinux_mac_name(request.mac), config});
      files.push_back({"pxelinux.cfg/default", config});
      return files;
    }
    case BootMethod::kS390Netboot:
      return {{kS390Config, pxelinux_config(request, true)}};
    case BootMethod::kIpxe:
      return {{kIpxeScript, ipxe_script(request)}};
  }
  throw std::invalid_argument("unknown boot method");
}

std::string dhcp_bootfile(BootMethod method, const std::string& prefix) {
  switch (method) {
    case BootMethod::kUboot:
      return prefix + kUbootScript;
    case BootMethod::kSlof:
      // SLOF reads a bootfile ending in '/' as the directory of pxelinux.cfg/.
      return prefix.empty() ? "/" : prefix;
    case BootMethod::kS390Netboot:
      return prefix + kS390Config;
    case BootMethod::kIpxe:
      return prefix + kIpxeScript;
  }
  return prefix;
}

}  // namespace crossrig::rig::boot
