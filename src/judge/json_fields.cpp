#include "judge/json_fields.h"

#include <charconv>
#include <cmath>

#include "common/error.h"

namespace fare::judge {

using nlohmann::json;

std::string describe_json(const json& v) {
  constexpr size_t kMaxChars = 60;
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxChars) s = s.substr(0, kMaxChars) + "...";
  return s;
}

void fail_field(const std::string& where, std::string_view name, const json& v, std::string_view expected) {
  fail(where, ": field '", name, "' is ", describe_json(v), ", expected ", expected);
}

void require_object(const json& v, const std::string& where) {
  if (!v.is_object()) fail(where, ": expected a JSON object, found ", describe_json(v));
}

const json& require_field(const json& obj, std::string_view name, const std::string& where) {
  auto it = obj.find(name);
  if (it == obj.end()) fail(where, ": missing field '", name, "'");
  return *it;
}

bool has_field(const json& obj, std::string_view name) {
  auto it = obj.find(name);
  return it != obj.end() && !it->is_null();
}

std::string string_field(const json& obj, std::string_view name, const std::string& where) {
  const json& v = require_field(obj, name, where);
  if (!v.is_string()) fail_field(where, name, v, "a string");
  return v.get<std::string>();
}

std::optional<std::string> optional_string_field(const json& obj, std::string_view name, const std::string& where) {
  if (!has_field(obj, name)) return std::nullopt;
  return string_field(obj, name, where);
}

int64_t int_value(const json& v, std::string_view name, const std::string& where) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    // A whole number within int64's range (casting anything else is undefined).
    double d = v.get<double>();
    if (d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d)) return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    int64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return out;
  }
  fail_field(where, name, v, "an integer");
}

int64_t int_field(const json& obj, std::string_view name, const std::string& where) {
  return int_value(require_field(obj, name, where), name, where);
}

bool bool_field(const json& obj, std::string_view name, const std::string& where) {
  const json& v = require_field(obj, name, where);
  if (!v.is_boolean()) fail_field(where, name, v, "true or false");
  return v.get<bool>();
}

double number_field(const json& obj, std::string_view name, const std::string& where) {
  const json& v = require_field(obj, name, where);
  if (!v.is_number()) fail_field(where, name, v, "a number");
  return v.get<double>();
}

std::vector<std::string> string_array_field(const json& obj, std::string_view name, const std::string& where,
                                            int n_expected) {
  const json& v = require_field(obj, name, where);
  std::string expected = n_expected < 0 ? std::string("an array of strings")
                                        : cat("an array of ", n_expected, " strings");
  if (!v.is_array()) fail_field(where, name, v, expected);
  if (n_expected >= 0 && v.size() != static_cast<size_t>(n_expected))
    fail(where, ": field '", name, "' has ", v.size(), " entries, expected ", n_expected);
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) fail_field(where, cat(name, "[", i, "]"), v[i], "a string");
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

}  // namespace fare::judge
