#include "tokenizer/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/error.h"

namespace fare {
namespace {

// json.dumps' two-character escapes; other control characters become \u00XX.
const char* short_escape(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    default:
      return nullptr;
  }
}

void append_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (char c : s) {
    if (const char* esc = short_escape(c)) {
      out += esc;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void append_value(std::string& out, const nlohmann::ordered_json& v) {
  using T = nlohmann::ordered_json::value_t;
  switch (v.type()) {
    case T::null:
      out += "null";
      break;
    case T::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case T::number_integer:
      out += std::to_string(v.get<int64_t>());
      break;
    case T::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      break;
    case T::number_float:
      out += python_float_repr(v.get<double>());
      break;
    case T::string:
      append_string(out, v.get_ref<const std::string&>());
      break;
    case T::array: {
      out.push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ", ";
        append_value(out, v[i]);
      }
      out.push_back(']');
      break;
    }
    case T::object: {
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        append_string(out, it.key());
        out += ": ";
        append_value(out, it.value());
      }
      out.push_back('}');
      break;
    }
    default:
      fail("tojson: a ", v.type_name(), " value has no JSON text");
  }
}

}  // namespace

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  // Shortest round-trip digits, as "d.ddde[+-]xx".
  const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  FARE_CHECK(res.ec == std::errc());
  const std::string_view sci(buf, res.ptr - buf);
  const size_t e_pos = sci.find('e');
  std::string digits(sci.substr(0, e_pos));
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int exp10 = std::stoi(std::string(sci.substr(e_pos + 1)));
  std::string out = std::signbit(v) ? "-" : "";
  if (exp10 >= -4 && exp10 < 16) {
    const int point = exp10 + 1;  // digits before the decimal point
    const auto n = static_cast<int>(digits.size());
    if (point <= 0) {
      out.append("0.").append(static_cast<size_t>(-point), '0').append(digits);
    } else if (point >= n) {
      out.append(digits).append(static_cast<size_t>(point - n), '0').append(".0");
    } else {
      out.append(digits, 0, point).append(".").append(digits, point);
    }
  } else {
    out.push_back(digits[0]);
    if (digits.size() > 1) out.append(".").append(digits, 1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    out += exp_buf;
  }
  return out;
}

std::string python_json_dumps(const nlohmann::ordered_json& value) {
  std::string out;
  append_value(out, value);
  return out;
}

}  // namespace fare
