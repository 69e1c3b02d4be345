#include "tokenizer/tokenizer.h"

#include <array>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_symbols.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace fare {
namespace {

enum class TokenKind : uint8_t {
  kNormal,   // byte-level BPE token
  kSpecial,  // added, special
  kAdded,    // added, not special
  kUnused,   // stands for no text
};

std::string_view split_pattern(const TokenizerSpec& spec) {
  if (!spec.pre_pattern.empty()) return spec.pre_pattern;
  std::optional<std::string_view> pattern = split_pattern_by_name(spec.pre);
  if (!pattern) fail("tokenizer: pre-tokenizer '", spec.pre, "' is not supported (expected 'qwen2' or 'gpt-4o')");
  return *pattern;
}

void check_id(const TokenizerSpec& spec, int64_t id, std::string_view what) {
  if (id < 0 || id >= static_cast<int64_t>(spec.tokens.size())) {
    fail("tokenizer: ", what, " id ", id, " is outside the vocabulary [0, ", spec.tokens.size(), ")");
  }
}

}  // namespace

struct Tokenizer::Impl {
  TokenizerSpec spec;
  std::vector<TokenKind> kind;                            // by id
  std::vector<std::string> bytes;                         // by id: what the token decodes to
  std::unordered_map<std::string_view, int32_t> by_text;  // views into spec.tokens
  AddedTokenMatcher added;
  SplitPretokenizer pretok;
  BpeModel bpe;

  explicit Impl(TokenizerSpec s);
  void classify_tokens();
  void index_texts();
  void decode_token_bytes();
  std::array<int32_t, 256> byte_tokens() const;
  std::vector<MergeRule> merge_rules() const;
  using WholeTokens = std::vector<std::pair<std::string, int32_t>>;
  WholeTokens whole_tokens() const;
  int32_t normal_token(const std::string& text, size_t rank) const;
  void check_special_ids() const;
  void encode_text(std::string_view text, std::vector<int32_t>& ids, std::vector<std::string_view>& pieces) const;
  std::vector<int32_t> encode(std::string_view text, bool parse_special, std::span<const TextSpan> literal) const;
};

Tokenizer::Impl::Impl(TokenizerSpec s) : spec(std::move(s)), pretok(split_pattern(spec)) {
  if (spec.tokens.empty()) fail("tokenizer: the vocabulary is empty");
  classify_tokens();
  index_texts();
  decode_token_bytes();
  bpe = BpeModel(byte_tokens(), merge_rules(), spec.ignore_merges ? whole_tokens() : WholeTokens{});
  added = AddedTokenMatcher(spec.added);
  check_special_ids();
}

void Tokenizer::Impl::classify_tokens() {
  kind.assign(spec.tokens.size(), TokenKind::kNormal);
  for (int32_t id : spec.unused) {
    check_id(spec, id, "unused token");
    kind[id] = TokenKind::kUnused;
  }
  std::unordered_set<int32_t> seen;
  for (const AddedToken& t : spec.added) {
    check_id(spec, t.id, cat("added token '", t.content, "'"));
    if (!seen.insert(t.id).second) fail("tokenizer: added token id ", t.id, " is listed twice");
    if (spec.tokens[t.id] != t.content) {
      fail("tokenizer: added token '", t.content, "' has id ", t.id, ", which the vocabulary gives to '",
           spec.tokens[t.id], "'");
    }
    kind[t.id] = t.special ? TokenKind::kSpecial : TokenKind::kAdded;
  }
}

void Tokenizer::Impl::index_texts() {
  by_text.reserve(spec.tokens.size());
  // Ordinary tokens first: where an added token repeats one's text, find() and merges see the
  // ordinary one.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t id = 0; id < spec.tokens.size(); ++id) {
      if ((kind[id] == TokenKind::kNormal) == (pass == 0))
        by_text.try_emplace(spec.tokens[id], static_cast<int32_t>(id));
    }
  }
}

void Tokenizer::Impl::decode_token_bytes() {
  bytes.resize(spec.tokens.size());
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    switch (kind[id]) {
      case TokenKind::kNormal: {
        // A vocabulary entry outside the byte-level alphabet stands for its own UTF-8 text.
        std::optional<std::string> raw = byte_symbols::decode(spec.tokens[id]);
        bytes[id] = raw ? std::move(*raw) : spec.tokens[id];
        break;
      }
      case TokenKind::kSpecial:
      case TokenKind::kAdded:
        bytes[id] = spec.tokens[id];
        break;
      case TokenKind::kUnused:
        break;
    }
  }
}

std::array<int32_t, 256> Tokenizer::Impl::byte_tokens() const {
  std::array<int32_t, 256> ids{};
  for (int b = 0; b < 256; ++b) {
    const std::string symbol = byte_symbols::encode(std::string(1, static_cast<char>(b)));
    auto it = by_text.find(symbol);
    if (it == by_text.end() || kind[it->second] != TokenKind::kNormal) {
      fail("tokenizer: the vocabulary has no token for byte 0x", std::hex, b, " ('", symbol,
           "'); byte-level BPE needs all 256");
    }
    ids[b] = it->second;
  }
  return ids;
}

int32_t Tokenizer::Impl::normal_token(const std::string& text, size_t rank) const {
  auto it = by_text.find(text);
  if (it == by_text.end() || kind[it->second] != TokenKind::kNormal) {
    const auto& [a, b] = spec.merges[rank];
    fail("tokenizer: merge ", rank, " ('", a, "' '", b, "') refers to '", text,
         "', which is not an ordinary token of the vocabulary");
  }
  return it->second;
}

std::vector<MergeRule> Tokenizer::Impl::merge_rules() const {
  std::vector<MergeRule> rules;
  rules.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [a, b] = spec.merges[rank];
    rules.push_back({normal_token(a, rank), normal_token(b, rank), normal_token(a + b, rank)});
  }
  return rules;
}

// The tokens a pre-token can be at once under ignore_merges: Hugging Face looks the pre-token up,
// in byte-level symbols, in the BPE model's vocabulary, so added tokens and entries that are not
// byte-level symbols never match.
Tokenizer::Impl::WholeTokens Tokenizer::Impl::whole_tokens() const {
  WholeTokens whole;
  whole.reserve(spec.tokens.size());
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    if (kind[id] != TokenKind::kNormal) continue;
    if (std::optional<std::string> raw = byte_symbols::decode(spec.tokens[id])) {
      whole.emplace_back(std::move(*raw), static_cast<int32_t>(id));
    }
  }
  return whole;
}

void Tokenizer::Impl::check_special_ids() const {
  if (spec.bos) check_id(spec, *spec.bos, "bos");
  if (spec.eos) check_id(spec, *spec.eos, "eos");
  if (spec.pad) check_id(spec, *spec.pad, "pad");
}

void Tokenizer::Impl::encode_text(std::string_view text, std::vector<int32_t>& ids,
                                  std::vector<std::string_view>& pieces) const {
  std::string normalized;
  if (spec.nfc) {
    normalized = unicode::nfc(text);
    text = normalized;
  }
  pieces.clear();
  pretok.split(text, pieces);
  for (std::string_view piece : pieces) bpe.encode(piece, ids);
}

std::vector<int32_t> Tokenizer::Impl::encode(std::string_view text, bool parse_special,
                                             std::span<const TextSpan> literal) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  std::vector<TextSegment> segments;
  added.split(text, parse_special, literal, segments);
  std::vector<std::string_view> pieces;
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
    } else {
      encode_text(seg.text, ids, pieces);
    }
  }
  return ids;
}

Tokenizer::Tokenizer(TokenizerSpec spec) : impl_(std::make_unique<Impl>(std::move(spec))) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  return impl_->encode(text, parse_special, {});
}

std::vector<int32_t> Tokenizer::encode_with_literal_spans(std::string_view text,
                                                          std::span<const TextSpan> literal) const {
  return impl_->encode(text, true, literal);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab()) continue;
    if (skip_special && impl_->kind[id] == TokenKind::kSpecial) continue;
    out += impl_->bytes[id];
  }
  return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  check_id(impl_->spec, id, "token");
  return impl_->bytes[id];
}

const std::string& Tokenizer::token_text(int32_t id) const {
  check_id(impl_->spec, id, "token");
  return impl_->spec.tokens[id];
}

std::optional<int32_t> Tokenizer::find(std::string_view token_text) const {
  auto it = impl_->by_text.find(token_text);
  if (it == impl_->by_text.end()) return std::nullopt;
  return it->second;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->spec.tokens.size()); }

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < n_vocab() && impl_->kind[id] == TokenKind::kSpecial;
}

const TokenizerSpec& Tokenizer::spec() const { return impl_->spec; }

std::string StreamDecoder::push(int32_t id) {
  if (id < 0 || id >= tok_.n_vocab()) return {};
  if (skip_special_ && tok_.is_special(id)) return {};
  pending_ += tok_.token_bytes(id);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const unicode::Sequence seq = unicode::next_sequence(pending_, i);
    if (seq.kind == unicode::SeqKind::kIncomplete) break;  // wait for the token that completes it
    if (seq.kind == unicode::SeqKind::kValid) {
      out.append(pending_, i, seq.len);
    } else {
      out += unicode::kReplacementChar;
    }
    i += seq.len;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = pending_.empty() ? std::string() : std::string(unicode::kReplacementChar);
  pending_.clear();
  return out;
}

}  // namespace fare
