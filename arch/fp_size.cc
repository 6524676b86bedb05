#include <string>

#include "arch/arch.h"

namespace crossrig::arch {

const FpRegset& fp_regset_for(const Arch& arch, std::size_t bytes) {
  for (const FpRegset& r : arch.fp_regsets) {
    if (r.size == bytes) return r;
  }
  for (const FpRegset& r : arch.fp_regsets) {
    if (r.size == 0) return r;
  }
  return arch.fp_regsets.front();
}

std::optional<std::string> fp_size_differs(std::span<const std::uint8_t> image_fp,
                                           std::span<const std::uint8_t> host_fp) {
  if (image_fp.size() == host_fp.size()) return std::nullopt;
  return "FP regset is " + std::to_string(image_fp.size()) + " bytes in the image but " +
         std::to_string(host_fp.size()) + " on this kernel";
}

}  // namespace crossrig::arch
