// Test support: reading the xz-compressed golden files.
#pragma once

#include <string>

namespace fare::test {

// Whole file decompressed; throws std::runtime_error on a bad or missing file.
std::string read_xz_file(const std::string& path);

}  // namespace fare::test
