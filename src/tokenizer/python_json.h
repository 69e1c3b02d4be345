// JSON text exactly as the `tojson` filter of Hugging Face's chat templates writes it, i.e.
// Python's json.dumps(value, ensure_ascii=False): ", " and ": " separators, keys in document
// order, non-ASCII kept as UTF-8, control characters escaped, floats in Python's repr().
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace fare {

std::string python_json_dumps(const nlohmann::ordered_json& value);

// Python's repr() of a float: the shortest round-trip digits, fixed notation for exponents
// -4..15 (always with a fractional part), scientific otherwise ("1e-05", "1.5e+16").
std::string python_float_repr(double v);

}  // namespace fare
