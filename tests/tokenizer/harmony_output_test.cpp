// Splitting gpt-oss output into reasoning (analysis channel) and answer (final channel), whole
// and streamed, on well-formed, truncated and malformed output.
#include "tokenizer/harmony_output.h"

#include <gtest/gtest.h>

namespace fare {
namespace {

const std::string kTypical =
    "<|channel|>analysis<|message|>Response A adds the numbers wrongly. Verdict: [B]?<|end|>"
    "<|start|>assistant<|channel|>final<|message|>A is wrong.\nVerdict: [B]<|return|>";

TEST(HarmonyOutput, ReasoningAndAnswer) {
  const HarmonyOutput out = parse_harmony_output(kTypical);
  EXPECT_EQ(out.reasoning, "Response A adds the numbers wrongly. Verdict: [B]?");
  EXPECT_EQ(out.answer, "A is wrong.\nVerdict: [B]");
  EXPECT_TRUE(out.has_final);
  EXPECT_EQ(out.stray, "");
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].role, "assistant");
  EXPECT_EQ(out.messages[0].channel, "analysis");
  EXPECT_EQ(out.messages[0].end, "<|end|>");
  EXPECT_EQ(out.messages[1].role, "assistant");
  EXPECT_EQ(out.messages[1].channel, "final");
  EXPECT_EQ(out.messages[1].end, "<|return|>");
}

// <|return|> is an end-of-generation token: the engine's text stops before it.
TEST(HarmonyOutput, TextEndingAtTheEndOfGenerationToken) {
  const std::string text = kTypical.substr(0, kTypical.size() - std::string("<|return|>").size());
  const HarmonyOutput out = parse_harmony_output(text);
  EXPECT_EQ(out.answer, "A is wrong.\nVerdict: [B]");
  EXPECT_TRUE(out.has_final);
  EXPECT_EQ(out.messages.back().end, "");
  // A final message without reasoning before it.
  const HarmonyOutput direct = parse_harmony_output("<|channel|>final<|message|>Verdict: [A]");
  EXPECT_EQ(direct.reasoning, "");
  EXPECT_EQ(direct.answer, "Verdict: [A]");
  EXPECT_TRUE(direct.has_final);
}

// Out of tokens before the answer: no answer, and flagged, whatever the reasoning said.
TEST(HarmonyOutput, TruncatedBeforeTheFinalChannel) {
  for (const std::string& text : {
           std::string("<|channel|>analysis<|message|>Verdict: [A] seems right but"),
           std::string("<|channel|>analysis<|message|>Verdict: [A]<|end|>"),
           std::string("<|channel|>analysis<|message|>Verdict: [A]<|end|><|start|>assistant<|channel|>fin"),
           std::string("<|channel|>analysis<|message|>Verdict: [A]<|end|><|start|>assistant<|channel|>final"),
           std::string("<|channel|>analy"),
           std::string(""),
       }) {
    SCOPED_TRACE(text);
    const HarmonyOutput out = parse_harmony_output(text);
    EXPECT_FALSE(out.has_final);
    EXPECT_EQ(out.answer, "");
  }
  const HarmonyOutput cut = parse_harmony_output(
      "<|channel|>analysis<|message|>thinking<|end|><|start|>assistant<|channel|>final");
  EXPECT_EQ(cut.reasoning, "thinking");
  EXPECT_EQ(cut.stray, "assistant<|channel|>final");  // a header that never reached <|message|>
}

TEST(HarmonyOutput, TextOutsideChannelsIsNeverTheAnswer) {
  // No harmony markup at all (a model that ignores the format).
  HarmonyOutput out = parse_harmony_output("Verdict: [A]");
  EXPECT_FALSE(out.has_final);
  EXPECT_EQ(out.answer, "");
  EXPECT_EQ(out.stray, "Verdict: [A]");
  // Junk before the first channel, and between messages.
  out = parse_harmony_output(
      "Verdict: [A] <|channel|>analysis<|message|>r<|end|>Verdict: [A]<|start|>assistant<|channel|>final<|message|>"
      "Verdict: [B]<|return|>trailing");
  EXPECT_EQ(out.reasoning, "r");
  EXPECT_EQ(out.answer, "Verdict: [B]");
  EXPECT_EQ(out.stray, "Verdict: [A]Verdict: [A]trailing");
  // A message with no channel is not the answer.
  out = parse_harmony_output("<|message|>Verdict: [A]<|end|>");
  EXPECT_FALSE(out.has_final);
  EXPECT_EQ(out.messages.at(0).channel, "");
  EXPECT_EQ(out.messages.at(0).content, "Verdict: [A]");
}

TEST(HarmonyOutput, ToolCallsAreNotTheAnswer) {
  // As the model writes a function call: recipient after the channel, <|constrain|>.
  HarmonyOutput out = parse_harmony_output(
      "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary "
      "to=functions.get_weather <|constrain|>json<|message|>{\"location\": \"Paris\"}<|call|>");
  EXPECT_EQ(out.reasoning, "Need the weather.");
  EXPECT_EQ(out.answer, "");
  EXPECT_FALSE(out.has_final);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[1].channel, "commentary");
  EXPECT_EQ(out.messages[1].recipient, "functions.get_weather");
  EXPECT_EQ(out.messages[1].content_type, "<|constrain|>json");
  EXPECT_EQ(out.messages[1].content, "{\"location\": \"Paris\"}");
  EXPECT_EQ(out.messages[1].end, "<|call|>");
  // As the chat template writes one: recipient before the channel; and <|constrain|> glued on.
  out = parse_harmony_output(
      "<|channel|>analysis<|message|>r<|end|><|start|>assistant to=functions.search<|channel|>commentary "
      "json<|message|>{}<|call|>");
  EXPECT_EQ(out.messages.at(1).recipient, "functions.search");
  EXPECT_EQ(out.messages.at(1).content_type, "json");
  out = parse_harmony_output("<|channel|>commentary to=functions.f<|constrain|>json<|message|>{}<|call|>");
  EXPECT_EQ(out.messages.at(0).recipient, "functions.f");
  EXPECT_EQ(out.messages.at(0).content_type, "<|constrain|>json");
  // A built-in tool call goes to the analysis channel with a recipient: not reasoning either.
  out = parse_harmony_output("<|channel|>analysis to=python code<|message|>print(1)<|call|>");
  EXPECT_EQ(out.reasoning, "");
  EXPECT_EQ(out.messages.at(0).recipient, "python");
  EXPECT_EQ(out.messages.at(0).content_type, "code");
  // A final message addressed to a tool, a commentary preamble, another role's final message.
  out = parse_harmony_output(
      "<|channel|>commentary<|message|>Checking.<|end|><|start|>assistant<|channel|>final to=functions.f<|message|>x"
      "<|end|><|start|>functions.f to=assistant<|channel|>final<|message|>y<|end|>");
  EXPECT_FALSE(out.has_final);
  EXPECT_EQ(out.answer, "");
  EXPECT_EQ(out.messages.at(2).role, "functions.f");
  EXPECT_EQ(out.messages.at(2).recipient, "assistant");
}

TEST(HarmonyOutput, MalformedMarkupClosesWhatItCan) {
  // A body that runs into the next message without <|end|>.
  HarmonyOutput out = parse_harmony_output(
      "<|channel|>analysis<|message|>r<|start|>assistant<|channel|>final<|message|>Verdict: [A]");
  EXPECT_EQ(out.reasoning, "r");
  EXPECT_EQ(out.answer, "Verdict: [A]");
  EXPECT_EQ(out.messages.at(0).end, "");
  out = parse_harmony_output("<|channel|>analysis<|message|>r<|channel|>final<|message|>Verdict: [A]<|end|>");
  EXPECT_EQ(out.reasoning, "r");
  EXPECT_EQ(out.answer, "Verdict: [A]");
  // A header cut short by an end marker or a new message: no message from it.
  out = parse_harmony_output("<|channel|>final<|end|><|start|>assistant<|start|>assistant<|channel|>final<|message|>B");
  EXPECT_EQ(out.answer, "B");
  EXPECT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.stray, "<|channel|>finalassistant");
  // Marker-like text inside a body is text.
  out = parse_harmony_output("<|channel|>final<|message|>a <|constrain|> b <|en d|> <| <|endoftext|>");
  EXPECT_EQ(out.answer, "a <|constrain|> b <|en d|> <| <|endoftext|>");
}

TEST(HarmonyOutput, SeveralMessagesOfOneChannelAreJoined) {
  const HarmonyOutput out = parse_harmony_output(
      "<|channel|>analysis<|message|>one<|end|><|start|>assistant<|channel|>analysis<|message|><|end|>"
      "<|start|>assistant<|channel|>analysis<|message|>two<|end|><|start|>assistant<|channel|>final<|message|>A<|end|>"
      "<|start|>assistant<|channel|>final<|message|>B<|return|>");
  EXPECT_EQ(out.reasoning, "one\n\ntwo");
  EXPECT_EQ(out.answer, "A\n\nB");
  EXPECT_EQ(out.messages.size(), 5u);
}

// Every case above, fed in two pieces split at every byte and in one-byte pieces: the deltas add
// up to the whole result, and the result is the same.
void expect_same_when_streamed(const std::string& text) {
  const HarmonyOutput whole = parse_harmony_output(text);
  auto check = [&](const std::vector<std::string>& pieces, const std::string& how) {
    SCOPED_TRACE(how);
    HarmonyStreamParser p;
    std::string reasoning, answer;
    for (const std::string& piece : pieces) {
      const HarmonyStreamParser::Delta d = p.feed(piece);
      reasoning += d.reasoning;
      answer += d.answer;
    }
    const HarmonyStreamParser::Delta d = p.finish();
    reasoning += d.reasoning;
    answer += d.answer;
    EXPECT_EQ(reasoning, whole.reasoning);
    EXPECT_EQ(answer, whole.answer);
    const HarmonyOutput& out = p.output();
    EXPECT_EQ(out.reasoning, whole.reasoning);
    EXPECT_EQ(out.answer, whole.answer);
    EXPECT_EQ(out.has_final, whole.has_final);
    EXPECT_EQ(out.stray, whole.stray);
    ASSERT_EQ(out.messages.size(), whole.messages.size());
    for (size_t i = 0; i < out.messages.size(); ++i) {
      EXPECT_EQ(out.messages[i].role, whole.messages[i].role);
      EXPECT_EQ(out.messages[i].channel, whole.messages[i].channel);
      EXPECT_EQ(out.messages[i].recipient, whole.messages[i].recipient);
      EXPECT_EQ(out.messages[i].content_type, whole.messages[i].content_type);
      EXPECT_EQ(out.messages[i].content, whole.messages[i].content);
      EXPECT_EQ(out.messages[i].end, whole.messages[i].end);
    }
  };
  for (size_t k = 0; k <= text.size(); ++k) check({text.substr(0, k), text.substr(k)}, "split at " + std::to_string(k));
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  check(bytes, "byte by byte");
}

TEST(HarmonyOutput, StreamingSplitsAtEveryByte) {
  for (const std::string& text : {
           kTypical,
           std::string("<|channel|>final<|message|>Verdict: [A]"),
           std::string("<|channel|>analysis<|message|>Verdict: [A]<|end|><|start|>assistant<|channel|>fin"),
           std::string("Verdict: [A] <|channel|>analysis<|message|>r<|end|>x<|start|>assistant<|channel|>final"
                       "<|message|>Verdict: [B]<|return|>trailing"),
           std::string("<|channel|>analysis<|message|>Need it.<|end|><|start|>assistant<|channel|>commentary "
                       "to=functions.get_weather <|constrain|>json<|message|>{\"location\": \"Paris\"}<|call|>"),
           std::string("<|channel|>analysis<|message|>r<|start|>assistant<|channel|>final<|message|>A<|channel|>"
                       "final<|message|>B"),
           std::string("<|channel|>final<|end|><|start|>assistant<|start|>assistant<|channel|>final<|message|>B"),
           std::string("<|channel|>final<|message|>a <|constrain|> b <|en d|> <| <|endoftext|> <|"),
           std::string("<|channel|>analysis<|message|>one<|end|><|start|>assistant<|channel|>analysis<|message|>two"
                       "<|end|><|start|>assistant<|channel|>final<|message|>Ünïcödé ✓<|return|>"),
       }) {
    SCOPED_TRACE(text);
    expect_same_when_streamed(text);
  }
}

// Text is handed out as soon as it cannot be part of a marker.
TEST(HarmonyOutput, StreamingHoldsBackOnlyPossibleMarkers) {
  HarmonyStreamParser p;
  EXPECT_EQ(p.feed("<|channel|>analysis<|mess").reasoning, "");
  EXPECT_EQ(p.feed("age|>Think").reasoning, "Think");
  HarmonyStreamParser::Delta d = p.feed("ing <|e");
  EXPECT_EQ(d.reasoning, "ing ");
  d = p.feed("nd|><|start|>assistant<|channel|>final<|message|>Verdict: [A]<|co");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.answer, "Verdict: [A]<|co");  // "<|co" begins no marker
  d = p.feed("<|ret");
  EXPECT_EQ(d.answer, "");
  d = p.feed("urn|>");
  EXPECT_EQ(d.answer, "");
  EXPECT_EQ(p.finish().answer, "");
  EXPECT_EQ(p.output().answer, "Verdict: [A]<|co");
  EXPECT_EQ(p.output().messages.back().end, "<|return|>");
  // At the end of the text, a held-back prefix is text after all.
  HarmonyStreamParser q;
  EXPECT_EQ(q.feed("<|channel|>final<|message|>x <|en").answer, "x ");
  EXPECT_EQ(q.finish().answer, "<|en");
}

}  // namespace
}  // namespace fare
