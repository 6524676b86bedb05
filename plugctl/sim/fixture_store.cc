#include "plugctl/sim/fixture_store.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace crossrig::plugsim {

namespace {

nlohmann::json parse_or_throw(std::string_view text, const std::string& origin) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::invalid_argument("fixture " + origin + " is not a JSON object");
  return j;
}

std::string known_names() {
  std::string out;
  for (const auto& f : embedded_fixtures())
    out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

}  // namespace

nlohmann::json load_fixture(std::string_view model, std::string_view fixture) {
  if (!fixture.empty()) {
    std::string_view stem =
        fixture.ends_with(".json") ? fixture.substr(0, fixture.size() - 5) : fixture;
    for (const auto& f : embedded_fixtures()) {
      if (f.name == stem) return parse_or_throw(f.text, std::string(f.name));
    }
    std::ifstream in{std::string(fixture)};
    if (!in) {
      throw std::invalid_argument(
          "fixture \"" + std::string(fixture) +
          "\" is neither an embedded fixture nor a readable file; embedded: " + known_names());
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse_or_throw(text.str(), std::string(fixture));
  }
  const EmbeddedFixture* best = nullptr;
  bool best_is_xor = false;
  for (const auto& f : embedded_fixtures()) {
    std::string_view name = f.name;
    bool matches = name.starts_with(model) && name.size() > model.size() &&
                   (name[model.size()] == '(' || name[model.size()] == '_' || model.ends_with(')'));
    if (!matches) continue;
    bool is_xor = f.text.find("\"discovery_result\"") == std::string_view::npos;
    if (!best || (is_xor && !best_is_xor)) {
      best = &f;
      best_is_xor = is_xor;
    }
  }
  if (!best) {
    throw std::invalid_argument("no embedded fixture for model \"" + std::string(model) +
                                "\"; embedded: " + known_names());
  }
  return parse_or_throw(best->text, std::string(best->name));
}

}  // namespace crossrig::plugsim
