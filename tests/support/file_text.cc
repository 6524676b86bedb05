#include "tests/support/file_text.h"

#include <fstream>
#include <sstream>

namespace crossrig::test_support {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace crossrig::test_support
