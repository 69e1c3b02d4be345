#include "tokenizer/byte_symbols.h"

#include <array>
#include <cstdint>

#include "tokenizer/unicode.h"

namespace fare::byte_symbols {
namespace {

bool is_self_mapped(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

struct Tables {
  std::array<char32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // every symbol is below U+0100 + 68
};

Tables build_tables() {
  Tables t;
  t.to_byte.fill(-1);
  char32_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    t.to_cp[b] = is_self_mapped(b) ? static_cast<char32_t>(b) : next++;
    t.to_byte[t.to_cp[b]] = static_cast<int16_t>(b);
  }
  return t;
}

const Tables& tables() {
  static const Tables t = build_tables();
  return t;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {  // every symbol is below U+0800
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string encode(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) append_utf8(out, t.to_cp[static_cast<uint8_t>(c)]);
  return out;
}

std::optional<std::string> decode(std::string_view symbols) {
  const Tables& t = tables();
  std::string out;
  out.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size();) {
    const unicode::Sequence seq = unicode::next_sequence(symbols, i);
    if (seq.kind != unicode::SeqKind::kValid || seq.cp >= t.to_byte.size() || t.to_byte[seq.cp] < 0)
      return std::nullopt;
    out.push_back(static_cast<char>(t.to_byte[seq.cp]));
    i += seq.len;
  }
  return out;
}

}  // namespace fare::byte_symbols
