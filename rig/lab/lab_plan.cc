#include "rig/lab/lab_plan.h"

#include <string_view>

#include "rig/boot/boot_files.h"
#include "rig/inventory/vocabulary.h"

namespace crossrig::rig::lab {

namespace {

std::string two_hex(int value) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  return {kDigits[(value >> 4) & 0xf], kDigits[value & 0xf]};
}

// Board names are inventory keys and TFTP prefixes: quoted in YAML all the same.
std::string quoted(const std::string& text) {
  return "'" + text + "'";
}

}  // namespace

const LabBoard* LabPlan::find(const std::string& name) const {
  for (const auto& b : boards) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

LabPlan plan_lab(const std::string& state_dir, const std::string& netns,
                 std::span<const Arch> arches) {
  LabPlan plan;
  plan.state_dir = state_dir;
  plan.netns = netns;
  auto types = board_types();
  for (std::size_t row = 0; row < types.size(); ++row) {
    const BoardType& type = types[row];
    bool wanted = false;
    for (Arch a : arches)
      wanted = wanted || a == type.arch;
    if (!wanted) continue;
    std::string arch(arch_name(type.arch));
    LabBoard b;
    b.name = "qemu-" + arch;
    b.type = &type;
    b.mac = "52:54:00:72:69:" + two_hex(0x10 + static_cast<int>(row));
    b.ip = "10.99.0." + std::to_string(10 + row);
    b.tap = "tap-" + arch;
    b.tftp_dir = plan.tftp_root() + "/" + b.name;
    b.run_dir = state_dir + "/boards/" + b.name;
    plan.boards.push_back(b);
  }
  return plan;
}

std::string dnsmasq_config(const LabPlan& plan) {
  std::string c = "# the rig lab's DHCP server; DNS and TFTP are off (rig serves TFTP)\n";
  c += "port=0\n";
  c += "interface=" + plan.bridge + "\nbind-interfaces\n";
  c += "dhcp-authoritative\n";
  // Only the boards' MACs get addresses; no router and no DNS server are offered.
  c += "dhcp-range=" + plan.server_ip.substr(0, plan.server_ip.rfind('.')) +
       ".0,static,255.255.255.0,1h\n";
  c += "dhcp-option=option:router\ndhcp-option=option:dns-server\n";
  c += "dhcp-leasefile=" + plan.state_dir + "/dnsmasq.leases\n";
  c += "log-dhcp\n";
  for (const auto& b : plan.boards) {
    c += "dhcp-host=" + b.mac + "," + b.ip + ",set:" + b.name + "\n";
    c += "dhcp-boot=tag:" + b.name + "," + boot::dhcp_bootfile(b.type->boot, b.name + "/") + ",," +
         plan.server_ip + "\n";
  }
  return c;
}

std::string inventory_yaml(const LabPlan& plan) {
  std::string y = "# Written by `rig lab up` for the virtual lab in " + plan.state_dir +
                  "; rewritten at each up.\nboards:\n";
  for (const auto& b : plan.boards) {
    y += "  " + b.name + ":\n";
    y += "    arch: " + std::string(arch_name(b.type->arch)) + "\n";
    y += "    boot: " + std::string(boot_method_name(b.type->boot)) + "\n";
    y += "    power:\n      driver: hs100\n";
    y += "      address: 127.0.0.1:" + std::to_string(b.plug_port) + "\n";
    y += "      transport: xor\n";
    y += "    console: 127.0.0.1:" + std::to_string(b.console_port) + "\n";
    y += "    mac: " + quoted(b.mac) + "\n";
    y += "    tftp_dir: " + quoted(b.tftp_dir) + "\n";
    y += "    kernel: " + quoted(std::string(b.type->kernel_name)) + "\n";
    y += "    ramdisk: " + quoted(kRamdiskName) + "\n";
    y += "    off_time: 1\n";
    if (!b.kernel_file.empty()) {
      // The lab's own images are each board's default job: `rig run --board NAME`.
      y += "    job:\n      kernel: " + quoted(b.kernel_file) + "\n";
      y += "      ramdisk: " + quoted(b.ramdisk_file) + "\n";
    }
  }
  return y;
}

std::vector<std::string> qemu_args(const LabBoard& board, int tap_fd, int console_fd,
                                   const std::string& cmdline) {
  const BoardType& t = *board.type;
  std::vector<std::string> a{std::string(t.qemu),
                             "-machine",
                             std::string(t.machine),
                             "-m",
                             std::to_string(t.memory_mib),
                             "-nodefaults",
                             "-no-user-config",
                             "-nographic",
                             "-no-reboot",
                             "-name",
                             board.name};
  if (!t.cpu.empty()) a.insert(a.end(), {"-cpu", std::string(t.cpu)});
  if (!t.bios.empty()) a.insert(a.end(), {"-bios", std::string(t.bios)});
  if (t.uboot_env_flash) {
    a.insert(a.end(),
             {"-drive", "if=pflash,unit=1,format=raw,file=" + board.run_dir + "/flash1.img"});
  }
  if (t.boot == BootMethod::kSlof) a.insert(a.end(), {"-prom-env", "boot-file=" + cmdline});
  // wait=on: the guest starts only once QEMU has accepted the console multiplexer's connection
  // (already queued on the lab's listening socket), so no firmware banner is printed to nobody.
  a.insert(a.end(),
           {"-chardev", "socket,id=console,fd=" + std::to_string(console_fd) + ",server=on,wait=on",
            "-serial", "chardev:console"});
  a.insert(a.end(), {"-netdev", "tap,id=net0,fd=" + std::to_string(tap_fd)});
  std::string nic = std::string(t.nic) + ",netdev=net0,mac=" + board.mac;
  if (t.nic_bootindex) nic += ",bootindex=1";
  a.insert(a.end(), {"-device", nic});
  a.insert(a.end(), {"-qmp", "unix:" + board.run_dir + "/qmp.sock,server=on,wait=off"});
  return a;
}

std::map<std::string, std::string> uboot_environment(const LabBoard& board) {
  // Addresses from U-Boot's qemu-arm defaults: the DT sits at the start of RAM, the script
  // above it, the kernel and ramdisk with room for ~60 MB of kernel between them.
  return {{"ethaddr", board.mac},
          {"bootdelay", "1"},
          {"loadaddr", "0x40200000"},
          {"kernel_addr_r", "0x40400000"},
          {"ramdisk_addr_r", "0x44000000"},
          {"fdt_addr_r", "0x40000000"},
          {"bootcmd", "dhcp && source ${loadaddr}; echo rig: netboot failed"}};
}

nlohmann::json lab_json(const LabPlan& plan, int supervisor_pid) {
  nlohmann::json boards = nlohmann::json::array();
  for (const auto& b : plan.boards) {
    boards.push_back({{"name", b.name},
                      {"arch", arch_name(b.type->arch)},
                      {"boot", boot_method_name(b.type->boot)},
                      {"mac", b.mac},
                      {"ip", b.ip},
                      {"console", "127.0.0.1:" + std::to_string(b.console_port)},
                      {"plug", "127.0.0.1:" + std::to_string(b.plug_port)},
                      {"tftp_dir", b.tftp_dir},
                      {"kernel", b.kernel_file},
                      {"ramdisk", b.ramdisk_file}});
  }
  return {{"state_dir", plan.state_dir},
          {"netns", plan.netns},
          {"inventory", plan.inventory_path()},
          {"supervisor_pid", supervisor_pid},
          {"boards", boards}};
}

std::string default_cmdline(const BoardType& type) {
  return "console=" + std::string(type.console) + " rdinit=/init";
}

}  // namespace crossrig::rig::lab
