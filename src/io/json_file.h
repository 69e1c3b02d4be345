// Reading a whole JSON file, with errors that name the file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace fare {

// Throws fare::Error "<path>: cannot open" or "<path>: not valid JSON: ...".
nlohmann::json read_json_file(const std::string& path);

}  // namespace fare
