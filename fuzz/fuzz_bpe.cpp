// Byte-level BPE and streaming decode with the real Qwen3 tokenizer (fixtures/tokenizer), loaded
// once. Byte 0 picks what the rest is:
//   0: text. encode with and without special-token parsing; where NFC leaves the text unchanged,
//      decode(encode(s)) == s byte for byte (README, "Tokenizer"; tokenizer.h), invalid UTF-8 included.
//      Streaming the ids gives valid UTF-8, and the text itself when the text is valid UTF-8.
//   1: text and literal spans: byte 1 cuts the text into spans, encode_with_literal_spans must keep
//      every byte and match added tokens only wholly outside the spans.
//   2: little-endian int32 ids, any value: decode and the stream decoder never fail, the stream is
//      valid UTF-8, and it equals decode() wherever decode() is valid UTF-8.
#include <algorithm>
#include <cstring>
#include <set>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

using fare::Tokenizer;
using fare::unicode::is_valid_utf8;

const Tokenizer* g_tok = nullptr;
std::set<int32_t> g_added;

std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special) {
  fare::StreamDecoder sd(tok, skip_special);
  std::string out;
  for (int32_t id : ids) {
    const std::string piece = sd.push(id);
    FUZZ_CHECK(is_valid_utf8(piece), "a stream piece is not valid UTF-8");
    out += piece;
  }
  out += sd.flush();
  FUZZ_CHECK(is_valid_utf8(out));
  return out;
}

void text_mode(std::string_view s) {
  const Tokenizer& tok = *g_tok;
  const bool nfc_stable = fare::unicode::nfc(s) == s;
  for (bool special : {false, true}) {
    const std::vector<int32_t> ids = tok.encode(s, special);
    for (int32_t id : ids) {
      FUZZ_CHECK(id >= 0 && id < tok.n_vocab(), id);
      if (!special) FUZZ_CHECK(!tok.is_special(id), "special id ", id, " without special-token parsing");
    }
    const std::string back = tok.decode(ids);
    if (nfc_stable) FUZZ_CHECK(back == s, "decode(encode(s, ", special, ")) != s (", back.size(), " vs ", s.size(), " bytes)");
    const std::string streamed = stream(tok, ids, false);
    if (nfc_stable && is_valid_utf8(s)) FUZZ_CHECK(streamed == s, "the stream decoder changed the text");
  }
}

// Ascending, disjoint spans within s, their borders drawn from the first bytes of s.
std::vector<fare::TextSpan> spans_of(std::string_view s, uint8_t n) {
  std::vector<size_t> cuts;
  for (size_t k = 0; k < std::min<size_t>(n % 9, s.size()); ++k) cuts.push_back(static_cast<uint8_t>(s[k]) % (s.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  std::vector<fare::TextSpan> spans;
  for (size_t k = 0; k + 1 < cuts.size(); k += 2) spans.push_back({cuts[k], cuts[k + 1]});
  return spans;
}

void spans_mode(uint8_t n, std::string_view s) {
  const Tokenizer& tok = *g_tok;
  const std::vector<fare::TextSpan> spans = spans_of(s, n);
  const std::vector<int32_t> ids = tok.encode_with_literal_spans(s, spans);
  if (fare::unicode::nfc(s) == s) FUZZ_CHECK(tok.decode(ids) == s, "a span-aware encoding lost bytes");
  // Walk the ids over the text: every added token lies wholly outside the spans. (Only where the
  // ids spell the text, i.e. NFC changed nothing.)
  if (tok.decode(ids) != s) return;
  size_t pos = 0;
  for (int32_t id : ids) {
    const size_t len = tok.token_bytes(id).size();
    if (g_added.count(id)) {
      for (const fare::TextSpan& sp : spans)
        FUZZ_CHECK(pos + len <= sp.begin || pos >= sp.end || sp.begin == sp.end, "added token ", id, " at [", pos, ", ",
                   pos + len, ") overlaps the literal span [", sp.begin, ", ", sp.end, ")");
    }
    pos += len;
  }
}

void ids_mode(std::string_view rest) {
  const Tokenizer& tok = *g_tok;
  std::vector<int32_t> ids(rest.size() / 4);
  if (!ids.empty()) std::memcpy(ids.data(), rest.data(), ids.size() * 4);
  // Most ids of a random int32 are outside the vocabulary: fold half of them into it.
  for (size_t k = 0; k < ids.size(); k += 2) ids[k] = static_cast<int32_t>(static_cast<uint32_t>(ids[k]) % (tok.n_vocab() + 8));
  for (bool skip : {false, true}) {
    const std::string decoded = tok.decode(ids, skip);
    const std::string streamed = stream(tok, ids, skip);
    if (is_valid_utf8(decoded)) FUZZ_CHECK(streamed == decoded, "the stream differs from decode() on valid UTF-8");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static const Tokenizer tok(fare::load_hf_tokenizer(fare::fuzz::fixture("tokenizer/tokenizer.json")));
  g_tok = &tok;
  for (const fare::AddedToken& t : tok.spec().added) g_added.insert(t.id);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest = fare::fuzz::as_text(data + 1, size - 1);
  fare::fuzz::expect_no_exception([&] {
    switch (data[0] % 3) {
      case 0: text_mode(rest); break;
      case 1:
        if (!rest.empty()) spans_mode(static_cast<uint8_t>(rest[0]), rest.substr(1));
        break;
      case 2: ids_mode(rest); break;
    }
  });
  return 0;
}
