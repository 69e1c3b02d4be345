// Pre-tokenisation: Hugging Face's Split pre-tokenizer with "Isolated" behaviour, i.e. the text
// is cut into the regex's matches and the (possibly empty) gaps between them, which BPE then
// encodes one by one. The pattern is compiled with PCRE2 in Unicode mode (\p{L}, \s, ...) so
// that it matches exactly what oniguruma, the engine of Hugging Face's `tokenizers`, matches.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pcre2_real_code_8;

namespace fare {

// Qwen2/Qwen3's split pattern (tokenizer.json stores it too; GGUF files only name it "qwen2").
inline constexpr std::string_view kQwen2SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// OpenAI's o200k split pattern (GPT-4o, gpt-oss; llama.cpp names it "gpt-4o"). Unlike Qwen2's it
// cuts a word where lower case turns to upper case ("camelCase" -> "camel" "Case"), ends a word
// with its contraction ("DON'T" is one piece), and splits digits in groups of up to three.
inline constexpr std::string_view kO200kSplitPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The split pattern of a llama.cpp pre-tokenizer name (GGUF's tokenizer.ggml.pre), if known.
std::optional<std::string_view> split_pattern_by_name(std::string_view name);
// The llama.cpp name of a split pattern, or "" when it is none of the known ones.
std::string_view split_pattern_name(std::string_view pattern);
// `pattern` with \s and \S spelled as the White_Space property, which is what oniguruma's \s is;
// PCRE2's \s also takes U+180E (no longer white space since Unicode 6.3). \Q...\E is left alone.
std::string with_onig_white_space(std::string_view pattern);

class SplitPretokenizer {
 public:
  // Throws fare::Error naming the position of a syntax error in `pattern`.
  explicit SplitPretokenizer(std::string_view pattern);
  ~SplitPretokenizer();
  SplitPretokenizer(SplitPretokenizer&& other) noexcept;
  SplitPretokenizer& operator=(SplitPretokenizer&& other) noexcept;
  SplitPretokenizer(const SplitPretokenizer&) = delete;
  SplitPretokenizer& operator=(const SplitPretokenizer&) = delete;

  // Appends the non-empty pieces of `text` in order; their concatenation is `text`. Invalid
  // UTF-8 never matches the pattern, so it ends up in gap pieces of its own. Thread-safe.
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;

 private:
  pcre2_real_code_8* code_ = nullptr;
};

}  // namespace fare
