// GPT-2's byte-level alphabet: every byte is shown as one printable character so that a BPE
// vocabulary can be stored as text ("Ġthe" is " the"). Bytes that are printable Latin-1 stand
// for themselves; the other 68 are mapped, in byte order, to U+0100 and up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fare::byte_symbols {

// The byte-level form of raw bytes ("\n" -> "Ċ").
std::string encode(std::string_view bytes);

// The raw bytes of a byte-level string, or nullopt when it holds a character outside the
// alphabet (added tokens and other plain-text entries).
std::optional<std::string> decode(std::string_view symbols);

}  // namespace fare::byte_symbols
