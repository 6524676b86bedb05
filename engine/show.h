#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "engine/image.h"

namespace crossrig::engine {

/// The whole image as one JSON document (inventory, tree, and each process's metadata).
nlohmann::json image_to_json(const ImageReader& image);

/// A human summary of an image: header, processes, mappings, registers.
void print_image(const nlohmann::json& doc, std::ostream& out);

}  // namespace crossrig::engine
