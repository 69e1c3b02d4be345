// Chat requests: messages JSON -> chat_messages_from_json -> ChatTemplate::render_marked ->
// Tokenizer::encode_with_literal_spans, with the Qwen3 template and tokenizer of the fixtures
// (tokenizer/chat_template.h). Byte 0 sets the options (bit 0: enable_thinking false, bit 1: no
// generation prompt, bit 2: the plain ChatML template instead, bit 3: gpt-oss's harmony template
// instead, with a byte-level tokenizer that has harmony's special tokens, bits 4-5: its reasoning
// effort, default, low, medium or high); the rest is a JSON array of messages or
// {"messages": [...], "tools": [...]} as `fare generate --messages` takes it.
// Checked (README, "Message content is text, never control tokens"): the content spans are
// ascending, disjoint and inside the text; the prompt's control tokens are exactly those of the
// template's markup encoded alone, so no message byte became a control token; every byte of the
// rendering is kept (decode(ids) is the text wherever NFC leaves it unchanged); render() and
// render_marked() agree.
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "fuzz_util.h"
#include "tokenizer/byte_symbols.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

using fare::ChatTemplate;
using fare::RenderedChat;
using fare::Tokenizer;
using nlohmann::ordered_json;

const Tokenizer* g_tok = nullptr;
const Tokenizer* g_harmony_tok = nullptr;
const ChatTemplate* g_qwen3 = nullptr;
const ChatTemplate* g_chatml = nullptr;
const ChatTemplate* g_harmony = nullptr;

std::vector<int32_t> control_ids(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::set<int32_t> added;
  for (const fare::AddedToken& t : tok.spec().added) added.insert(t.id);
  std::vector<int32_t> out;
  for (int32_t id : ids)
    if (added.count(id)) out.push_back(id);
  return out;
}

// The 256 byte symbols and gpt-oss's special tokens after them: the o200k vocabulary's control
// structure, without its merges.
Tokenizer harmony_stand_in_tokenizer() {
  fare::TokenizerSpec spec;
  for (int b = 0; b < 256; ++b) spec.tokens.push_back(fare::byte_symbols::encode(std::string(1, static_cast<char>(b))));
  for (const char* t : {"<|startoftext|>", "<|endoftext|>", "<|start|>", "<|end|>", "<|message|>", "<|channel|>",
                        "<|constrain|>", "<|return|>", "<|call|>"}) {
    spec.added.push_back({static_cast<int32_t>(spec.tokens.size()), t, true, false, false});
    spec.tokens.push_back(t);
  }
  return Tokenizer(std::move(spec));
}

void check(const ChatTemplate& tpl, const Tokenizer& tok, const std::vector<fare::ChatMessage>& messages,
           const fare::ChatOptions& opts) {
  RenderedChat chat;
  if (!fare::fuzz::expect_only_errors([&] { chat = tpl.render_marked(messages, opts); })) return;
  FUZZ_CHECK(tpl.render(messages, opts) == chat.text);
  size_t prev_end = 0;
  for (const fare::TextSpan& s : chat.content) {
    FUZZ_CHECK(s.begin >= prev_end && s.begin < s.end && s.end <= chat.text.size(), "span [", s.begin, ", ", s.end,
               ") after ", prev_end, " in ", chat.text.size(), " bytes");
    prev_end = s.end;
  }
  const std::vector<int32_t> ids = tok.encode_with_literal_spans(chat.text, chat.content);
  // The markup between the spans, each run encoded alone with special-token parsing.
  std::vector<int32_t> expected;
  size_t pos = 0;
  for (size_t k = 0; k <= chat.content.size(); ++k) {
    const size_t end = k < chat.content.size() ? chat.content[k].begin : chat.text.size();
    const std::vector<int32_t> part = control_ids(tok, tok.encode(std::string_view(chat.text).substr(pos, end - pos), true));
    expected.insert(expected.end(), part.begin(), part.end());
    if (k < chat.content.size()) pos = chat.content[k].end;
  }
  const std::vector<int32_t> got = control_ids(tok, ids);
  if (got != expected) {
    std::string g, e;
    for (int32_t id : got) g += fare::cat(id, " ");
    for (int32_t id : expected) e += fare::cat(id, " ");
    fare::fuzz::finding("control tokens [", g, "] differ from the markup's [", e, "]");
  }
  if (fare::unicode::nfc(chat.text) == chat.text) FUZZ_CHECK(tok.decode(ids) == chat.text, "the prompt lost bytes");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static const Tokenizer tok(fare::load_hf_tokenizer(fare::fuzz::fixture("tokenizer/tokenizer.json")));
  std::ifstream f(fare::fuzz::fixture("tokenizer/tokenizer_config.json"));
  static const ChatTemplate qwen3(nlohmann::json::parse(f)["chat_template"].get<std::string>());
  static const ChatTemplate chatml(
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}");
  std::ifstream h(std::string(FARE_TESTS_DIR) + "/tokenizer/harmony/chat_template.jinja");
  static const ChatTemplate harmony(std::string(std::istreambuf_iterator<char>(h), {}));
  static const Tokenizer harmony_tok = harmony_stand_in_tokenizer();
  g_tok = &tok;
  g_harmony_tok = &harmony_tok;
  g_qwen3 = &qwen3;
  g_chatml = &chatml;
  g_harmony = &harmony;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  fare::ChatOptions opts;
  if (data[0] & 1) opts.enable_thinking = false;
  opts.add_generation_prompt = (data[0] & 2) == 0;
  const ChatTemplate& tpl = (data[0] & 8) ? *g_harmony : (data[0] & 4) ? *g_chatml : *g_qwen3;
  const Tokenizer& tok = (data[0] & 8) ? *g_harmony_tok : *g_tok;
  const char* const efforts[] = {"", "low", "medium", "high"};
  opts.reasoning_effort = efforts[(data[0] >> 4) & 3];
  opts.date = "2025-08-05";
  ordered_json j;
  try {
    j = ordered_json::parse(fare::fuzz::as_text(data + 1, size - 1));
  } catch (const ordered_json::exception&) {
    return 0;  // not JSON: the callers' own parsers refuse it before the template sees it
  }
  if (j.is_object() && j.contains("tools") && j["tools"].is_array() && !j["tools"].empty()) opts.tools_json = j["tools"].dump();
  if (j.is_object() && j.contains("messages")) j = ordered_json(j["messages"]);
  std::vector<fare::ChatMessage> messages;
  if (!fare::fuzz::expect_only_errors([&] { messages = fare::chat_messages_from_json(j); })) return 0;
  fare::fuzz::expect_no_exception([&] { check(tpl, tok, messages, opts); });
  return 0;
}
