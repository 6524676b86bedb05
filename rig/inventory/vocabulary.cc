#include "rig/inventory/vocabulary.h"

#include <array>
#include <utility>

namespace crossrig::rig {

namespace {

constexpr std::array<std::pair<Arch, std::string_view>, 5> kArches{{
    {Arch::kX86_64, "x86_64"},
    {Arch::kAarch64, "aarch64"},
    {Arch::kPpc64, "ppc64"},
    {Arch::kPpc64le, "ppc64le"},
    {Arch::kS390x, "s390x"},
}};

constexpr std::array<std::pair<BootMethod, std::string_view>, 4> kBootMethods{{
    {BootMethod::kUboot, "uboot"},
    {BootMethod::kSlof, "slof"},
    {BootMethod::kS390Netboot, "s390-netboot"},
    {BootMethod::kIpxe, "ipxe"},
}};

// Both drivers take the confirmation knobs: a plug that is slow to report its new state gets
// more attempts without touching the code.
constexpr std::array<std::string_view, 1> kHs100Required{"address"};
constexpr std::array<std::string_view, 7> kHs100Optional{
    "outlet",  "transport",        "username",        "password_file",
    "timeout", "confirm_attempts", "confirm_interval"};
constexpr std::array<std::string_view, 3> kCommandRequired{"on", "off", "state"};
constexpr std::array<std::string_view, 7> kCommandOptional{
    "address", "outlet",           "on_pattern",      "off_pattern",
    "timeout", "confirm_attempts", "confirm_interval"};

constexpr std::array<PowerDriverSchema, 2> kPowerDrivers{{
    {"hs100", kHs100Required, kHs100Optional},
    {"command", kCommandRequired, kCommandOptional},
}};

template <typename Table>
std::string join_names(const Table& table) {
  std::string out;
  for (const auto& [value, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

template <typename Table, typename Value>
std::string_view name_of(const Table& table, Value value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename Table>
auto value_of(const Table& table, std::string_view name)
    -> std::optional<typename Table::value_type::first_type> {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view arch_name(Arch arch) {
  return name_of(kArches, arch);
}
std::optional<Arch> parse_arch(std::string_view name) {
  return value_of(kArches, name);
}
std::string arch_names() {
  return join_names(kArches);
}

std::string_view boot_method_name(BootMethod boot) {
  return name_of(kBootMethods, boot);
}
std::optional<BootMethod> parse_boot_method(std::string_view name) {
  return value_of(kBootMethods, name);
}
std::string boot_method_names() {
  return join_names(kBootMethods);
}

std::span<const PowerDriverSchema> power_driver_schemas() {
  return kPowerDrivers;
}

const PowerDriverSchema* find_power_driver_schema(std::string_view driver) {
  for (const auto& schema : kPowerDrivers) {
    if (schema.driver == driver) return &schema;
  }
  return nullptr;
}

}  // namespace crossrig::rig
