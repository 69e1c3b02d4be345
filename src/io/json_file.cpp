#include "io/json_file.h"

#include <fstream>

#include "common/error.h"

namespace fare {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
}

}  // namespace fare
