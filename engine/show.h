#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "arch/arch.h"
#include "engine/image.h"

namespace crossrig::engine {

/// The arch an image inventory names, nullptr if this ckpt has no table for it; throws
/// kBadImage when the inventory's endianness contradicts that arch.
const arch::Arch* image_arch(const nlohmann::json& inventory);

/// What a core's registers mean, decoded with its arch's table: pc, sp and thread pointer as
/// hex; throws kBadImage on a missing or malformed register.
nlohmann::json decode_core(const arch::Arch& a, const nlohmann::json& core);

/// The whole image as one JSON document (inventory, tree, and each process's metadata, each
/// core with "decoded" registers when the image's arch is known).
nlohmann::json image_to_json(const ImageReader& image);

/// A human summary of an image: header, processes, mappings, registers.
void print_image(const nlohmann::json& doc, std::ostream& out);

}  // namespace crossrig::engine
