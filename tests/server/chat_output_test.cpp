// Splitting generated text into reasoning and content, and tool calls (Qwen3's blocks, gpt-oss's
// channels), without a model.
#include "server/chat_output.h"

#include <gtest/gtest.h>

#include <random>

namespace fare::server {
namespace {

// Feeds text in random pieces; the joined deltas must not depend on where the cuts fall.
ReasoningSplitter::Delta feed_randomly(std::string_view text, bool open, uint32_t seed) {
  std::mt19937 rng(seed);
  ReasoningSplitter s(open);
  ReasoningSplitter::Delta all;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = std::min<size_t>(text.size() - pos, 1 + rng() % 5);
    const auto d = s.feed(text.substr(pos, n));
    all.reasoning += d.reasoning;
    all.content += d.content;
    pos += n;
  }
  const auto d = s.finish();
  all.reasoning += d.reasoning;
  all.content += d.content;
  return all;
}

TEST(ReasoningSplitter, SplitsThinkBlockAndInvertsExactly) {
  const std::string text = "<think>\nA is right because 2+2=4.\n</think>\n\n**Verdict**: [[A]]";
  const SplitText s = split_reasoning(text);
  ASSERT_TRUE(s.reasoning);
  EXPECT_EQ(*s.reasoning, "\nA is right because 2+2=4.\n");
  EXPECT_EQ(s.content, "\n\n**Verdict**: [[A]]");
  EXPECT_EQ("<think>" + *s.reasoning + "</think>" + s.content, text);  // what a client rebuilds
}

TEST(ReasoningSplitter, StreamingAgreesWithWholeTextWhereverThePiecesEnd) {
  const std::vector<std::string> texts = {
      "<think>\nhmm</think>answer", "<think></think>", "no think block at all", "<thi", "<think>unterminated",
      "answer with </think> inside", "<think>a</thi</think>b</think>c", "", "<<think>x"};
  for (const std::string& t : texts)
    for (bool open : {false, true})
      for (uint32_t seed = 0; seed < 20; ++seed) {
        const SplitText whole = split_reasoning(t, open);
        const auto streamed = feed_randomly(t, open, seed);
        EXPECT_EQ(streamed.content, whole.content) << t << " seed " << seed;
        EXPECT_EQ(streamed.reasoning, whole.reasoning.value_or("")) << t << " seed " << seed;
      }
}

TEST(ReasoningSplitter, TextWithoutThinkBlockIsAllContent) {
  const SplitText s = split_reasoning("Verdict: [[B]]");
  EXPECT_FALSE(s.reasoning);
  EXPECT_EQ(s.content, "Verdict: [[B]]");
  // A prompt that opened the block (template ends with "<think>\n"): reasoning until the close.
  const SplitText o = split_reasoning("why\n</think>\n\nB", true);
  ASSERT_TRUE(o.reasoning);
  EXPECT_EQ(*o.reasoning, "why\n");
  EXPECT_EQ(o.content, "\n\nB");
}

TEST(ToolCalls, ParsesQwen3BlocksAndKeepsTheRest) {
  const std::string text =
      "Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>";
  const ParsedContent p = parse_tool_calls(text);
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(p.calls[0].arguments, R"({"city":"Paris","days":2})");  // key order kept
  EXPECT_EQ(p.calls[1].name, "now");
  EXPECT_NE(p.calls[0].id, p.calls[1].id);
  EXPECT_EQ(p.content, "Let me look.");
  const auto j = tool_calls_to_json(p.calls, true);
  EXPECT_EQ(j[1]["index"], 1);
  EXPECT_EQ(j[0]["type"], "function");
  EXPECT_EQ(j[0]["function"]["arguments"], R"({"city":"Paris","days":2})");
}

TEST(ToolCalls, MalformedBlocksStayText) {
  for (const std::string t : {"<tool_call>{not json}</tool_call>", "<tool_call>{\"arguments\": {}}</tool_call>",
                              "<tool_call>{\"name\": \"x\"}", "plain"}) {
    const ParsedContent p = parse_tool_calls(t);
    EXPECT_TRUE(p.calls.empty()) << t;
    EXPECT_EQ(p.content, t);
  }
}


// gpt-oss output after "<|start|>assistant": reasoning, a tool call (stopped at <|call|> in a real
// run; here the turn goes on), then the answer.
const std::string kHarmony =
    "<|channel|>analysis<|message|>Check both sums; \"</think>\" is text here.<|end|>"
    "<|start|>assistant to=functions.add<|channel|>commentary <|constrain|>json<|message|>{\"a\": 2, \"b\": 2}<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Explanation: 2+2=4.\nVerdict: [[A]]<|return|>";

TEST(ChatSplitter, HarmonyAnalysisIsReasoningAndFinalIsContentWhereverThePiecesEnd) {
  const HarmonyOutput whole = parse_harmony_output(kHarmony);
  const SplitText s = harmony_split(whole);
  ASSERT_TRUE(s.reasoning);
  EXPECT_EQ(*s.reasoning, "Check both sums; \"</think>\" is text here.");
  EXPECT_EQ(s.content, "Explanation: 2+2=4.\nVerdict: [[A]]");
  const auto calls = harmony_tool_calls(whole);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "add");
  EXPECT_EQ(calls[0].arguments, "{\"a\": 2, \"b\": 2}");
  EXPECT_TRUE(calls[0].id.starts_with("call_"));

  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    ChatSplitter splitter(/*harmony=*/true, /*thinking_open=*/false);
    std::string reasoning, content;
    for (size_t pos = 0; pos < kHarmony.size();) {
      const size_t n = std::min<size_t>(kHarmony.size() - pos, 1 + rng() % 7);
      const auto d = splitter.feed(std::string_view(kHarmony).substr(pos, n));
      reasoning += d.reasoning;
      content += d.content;
      pos += n;
    }
    const auto d = splitter.finish();
    EXPECT_EQ(reasoning + d.reasoning, *s.reasoning) << seed;
    EXPECT_EQ(content + d.content, s.content) << seed;
    ASSERT_NE(splitter.harmony_output(), nullptr);
    EXPECT_EQ(harmony_tool_calls(*splitter.harmony_output()).size(), 1u);
  }
}

TEST(ChatSplitter, HarmonyWithoutAFinalMessageHasNoContent) {
  const SplitText cut = harmony_split(parse_harmony_output("<|channel|>analysis<|message|>Still think"));
  EXPECT_EQ(cut.reasoning, "Still think");
  EXPECT_EQ(cut.content, "");
  const SplitText plain = harmony_split(parse_harmony_output("no markup at all"));
  EXPECT_FALSE(plain.reasoning);
  EXPECT_EQ(plain.content, "");
  // Only functions.NAME recipients are tool calls.
  EXPECT_TRUE(harmony_tool_calls(parse_harmony_output("<|channel|>commentary to=browser.search<|message|>{}")).empty());
}

TEST(ChatSplitter, Qwen3ModelsKeepTheThinkBlockSplit) {
  const std::string text = "<think>\nwhy\n</think>\n\nVerdict: [A]";
  ChatSplitter splitter(/*harmony=*/false, /*thinking_open=*/false);
  const auto a = splitter.feed(text);
  const auto b = splitter.finish();
  EXPECT_EQ(a.reasoning + b.reasoning, "\nwhy\n");
  EXPECT_EQ(a.content + b.content, "\n\nVerdict: [A]");
  EXPECT_EQ(splitter.harmony_output(), nullptr);
}

}  // namespace
}  // namespace fare::server
