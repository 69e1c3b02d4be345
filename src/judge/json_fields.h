// Reading typed fields from untrusted JSON records with messages that say where, what was found and
// what was expected: "gsm8k.json[17]: field 'label' is \"x\", expected an integer".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fare::judge {

// A short rendering of a JSON value for error messages (long strings are cut).
std::string describe_json(const nlohmann::json& v);

[[noreturn]] void fail_field(const std::string& where, std::string_view name, const nlohmann::json& v,
                             std::string_view expected);

void require_object(const nlohmann::json& v, const std::string& where);
const nlohmann::json& require_field(const nlohmann::json& obj, std::string_view name, const std::string& where);
bool has_field(const nlohmann::json& obj, std::string_view name);  // present and not null

std::string string_field(const nlohmann::json& obj, std::string_view name, const std::string& where);
std::optional<std::string> optional_string_field(const nlohmann::json& obj, std::string_view name,
                                                 const std::string& where);
// An integer, or a string holding one ("3", "-1"): some copies of ProcessBench store labels as strings.
int64_t int_field(const nlohmann::json& obj, std::string_view name, const std::string& where);
int64_t int_value(const nlohmann::json& v, std::string_view name, const std::string& where);
bool bool_field(const nlohmann::json& obj, std::string_view name, const std::string& where);
double number_field(const nlohmann::json& obj, std::string_view name, const std::string& where);
// n_expected < 0: any length.
std::vector<std::string> string_array_field(const nlohmann::json& obj, std::string_view name,
                                            const std::string& where, int n_expected = -1);

}  // namespace fare::judge
