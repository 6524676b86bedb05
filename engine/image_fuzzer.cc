// Feeds arbitrary bytes to the decoders of image files: the inventory seal check, the
// JSON → image structs conversions and the register decoding of every arch (`ckpt show`),
// which must only ever throw their documented errors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/ckpt_error.h"
#include "engine/image.h"
#include "engine/seccomp.h"
#include "engine/show.h"
#include "engine/task_image.h"

using namespace crossrig::engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    verify_inventory(text);
  } catch (const CkptError&) {
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    j.get<MmImage>();
  } catch (const nlohmann::json::exception&) {
  }
  try {
    auto task = j.get<TaskImage>();
    std::vector<int> lasts;
    for (int i = -1; i < static_cast<int>(task.seccomp_filters.size()); ++i)
      lasts.push_back(i);
    plan_seccomp(task.seccomp_filters, lasts);
  } catch (const nlohmann::json::exception&) {
  } catch (const CkptError&) {
  }
  try {
    auto core = j.get<CoreImage>();
    regs_from_names(crossrig::arch::native_arch(), core.regs);
  } catch (const nlohmann::json::exception&) {
  } catch (const CkptError&) {
  }
  try {
    image_arch(j);
  } catch (const nlohmann::json::exception&) {
  } catch (const CkptError&) {
  }
  for (const crossrig::arch::Arch* a : crossrig::arch::all_arches()) {
    try {
      decode_core(*a, j);
    } catch (const nlohmann::json::exception&) {
    } catch (const CkptError&) {
    }
  }
  return 0;
}
