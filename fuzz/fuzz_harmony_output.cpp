// gpt-oss output split into reasoning and answer (tokenizer/harmony_output.h) on arbitrary text.
// Byte 0 picks how the text is streamed: split once at an offset, and in pieces of 1 to 8 bytes;
// the rest is the text. Checked: streaming gives exactly what reading the text whole gives, the
// deltas add up to the result, an answer comes only with a final message, and no byte is counted
// twice (the messages' contents and the stray text together are no longer than the text).
#include "fuzz_util.h"
#include "tokenizer/harmony_output.h"

namespace {

using fare::HarmonyOutput;
using fare::HarmonyStreamParser;

HarmonyOutput streamed(std::string_view text, size_t piece, size_t first) {
  HarmonyStreamParser p;
  std::string reasoning, answer;
  auto add = [&](const HarmonyStreamParser::Delta& d) {
    reasoning += d.reasoning;
    answer += d.answer;
  };
  add(p.feed(text.substr(0, first)));
  for (size_t i = first; i < text.size(); i += piece) add(p.feed(text.substr(i, piece)));
  add(p.finish());
  FUZZ_CHECK(reasoning == p.output().reasoning, "the reasoning deltas differ from the reasoning");
  FUZZ_CHECK(answer == p.output().answer, "the answer deltas differ from the answer");
  return p.output();
}

void check_same(const HarmonyOutput& a, const HarmonyOutput& b) {
  FUZZ_CHECK(a.reasoning == b.reasoning && a.answer == b.answer && a.has_final == b.has_final && a.stray == b.stray);
  FUZZ_CHECK(a.messages.size() == b.messages.size());
  for (size_t i = 0; i < a.messages.size(); ++i) {
    const fare::HarmonyMessage &x = a.messages[i], &y = b.messages[i];
    FUZZ_CHECK(x.role == y.role && x.channel == y.channel && x.recipient == y.recipient &&
                   x.content_type == y.content_type && x.content == y.content && x.end == y.end,
               "message ", i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string text(fare::fuzz::as_text(data + 1, size - 1));
  fare::fuzz::expect_no_exception([&] {
    const HarmonyOutput whole = fare::parse_harmony_output(text);
    check_same(whole, streamed(text, text.size() + 1, data[0] % (text.size() + 1)));
    check_same(whole, streamed(text, 1 + data[0] % 8, 0));
    FUZZ_CHECK(whole.answer.empty() || whole.has_final, "an answer without a final message");
    size_t n = whole.stray.size();
    for (const fare::HarmonyMessage& m : whole.messages) n += m.content.size();
    FUZZ_CHECK(n <= text.size(), n, " bytes of content and stray text from ", text.size());
  });
  return 0;
}
