// The native gpt-oss (harmony) renderer against renderings of the real template by
// @huggingface/jinja (tests/tokenizer/harmony/harmony_chat.jsonl, checked against Jinja2 too).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/harmony_template.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace fare {
namespace {

using nlohmann::ordered_json;

std::string harmony_dir() { return std::string(FARE_TESTS_DIR) + "/tokenizer/harmony/"; }

std::string harmony_template_source() {
  std::ifstream f(harmony_dir() + "chat_template.jinja");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

ChatOptions harmony_options_of(const ordered_json& c) {
  const ordered_json& o = c["options"];
  ChatOptions opts;
  opts.add_generation_prompt = o["add_generation_prompt"].get<bool>();
  if (o.contains("reasoning_effort")) opts.reasoning_effort = o["reasoning_effort"].get<std::string>();
  if (o.contains("model_identity")) opts.model_identity = o["model_identity"].get<std::string>();
  opts.date = o["date"].get<std::string>();
  if (c.contains("tools")) opts.tools_json = c["tools"].dump();
  return opts;
}

TEST(HarmonyTemplate, EveryGoldenRendersExactly) {
  const ChatTemplate tpl(harmony_template_source());
  EXPECT_EQ(tpl.family(), "harmony");
  const auto cases = test::read_jsonl(harmony_dir() + "harmony_chat.jsonl");
  ASSERT_EQ(cases.size(), 36u);
  size_t n_rendered = 0, n_refused = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::vector<ChatMessage> messages = chat_messages_from_json(c["messages"]);
    const ChatOptions opts = harmony_options_of(c);
    if (c.contains("error")) {
      EXPECT_THROW(tpl.render(messages, opts), Error) << c["error"];
      ++n_refused;
      continue;
    }
    const RenderedChat chat = tpl.render_marked(messages, opts);
    EXPECT_EQ(chat.text, c["rendered"].get<std::string>());
    EXPECT_EQ(tpl.render(messages, opts), chat.text);
    ++n_rendered;
  }
  EXPECT_EQ(n_rendered, 31u);
  EXPECT_EQ(n_refused, 5u);
}

// The first line of every rendering, and the options that change it.
TEST(HarmonyTemplate, SystemMessageOptions) {
  const ChatTemplate tpl(harmony_template_source());
  const std::vector<ChatMessage> msgs = {{"user", "Hi", std::nullopt, ""}};
  ChatOptions opts;
  opts.date = "2025-08-05";
  EXPECT_EQ(tpl.render(msgs, opts),
            "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
            "Knowledge cutoff: 2024-06\nCurrent date: 2025-08-05\n\nReasoning: medium\n\n"
            "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>"
            "<|start|>user<|message|>Hi<|end|><|start|>assistant");
  opts.reasoning_effort = "low";
  opts.model_identity = "You are a judge.";
  opts.add_generation_prompt = false;
  EXPECT_EQ(tpl.render(msgs, opts),
            "<|start|>system<|message|>You are a judge.\nKnowledge cutoff: 2024-06\nCurrent date: 2025-08-05\n\n"
            "Reasoning: low\n\n# Valid channels: analysis, commentary, final. Channel must be included for every "
            "message.<|end|><|start|>user<|message|>Hi<|end|>");
  // Without a date: today's, as strftime_now gives it.
  opts.date.clear();
  const std::string text = tpl.render(msgs, opts);
  const size_t at = text.find("Current date: ");
  ASSERT_NE(at, std::string::npos);
  const std::string day = text.substr(at + 14, 11);
  EXPECT_TRUE(day.size() == 11 && day[4] == '-' && day[7] == '-' && day[10] == '\n') << day;
}

TEST(HarmonyTemplate, BadOptionsAndMessagesAreErrors) {
  const ChatTemplate tpl(harmony_template_source());
  const std::vector<ChatMessage> msgs = {{"user", "Hi", std::nullopt, ""}};
  auto error_of = [&](const std::vector<ChatMessage>& m, const ChatOptions& o) -> std::string {
    try {
      tpl.render(m, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  ChatOptions opts;
  opts.reasoning_effort = "max";
  EXPECT_EQ(error_of(msgs, opts), "chat template: reasoning effort must be low, medium or high, got 'max'");
  opts.reasoning_effort = "high";
  opts.date = "5 Aug 2025";
  EXPECT_EQ(error_of(msgs, opts), "chat template: the date must be YYYY-MM-DD, got '5 Aug 2025'");
  opts.date = "2025-08-05";
  EXPECT_EQ(error_of({}, opts), "chat template: there are no messages to render");
  EXPECT_EQ(error_of({{"user", "Q", std::nullopt, ""}, {"tool", "r", std::nullopt, ""}}, opts),
            "messages[1]: a tool result must follow an assistant turn with a tool call");
  EXPECT_NE(error_of({{"user", "Q", std::nullopt, ""}, {"assistant", "a<|channel|>final<|message|>b", std::nullopt, ""}},
                     opts)
                .find("messages[1].content holds <|channel|> markup"),
            std::string::npos);
  // Tool calls and tools the template cannot read.
  const std::vector<std::pair<std::string, std::string>> bad_calls = {
      {"[]", "messages[1].tool_calls: empty"},
      {R"([{"arguments": {}}])", "chat template: messages[1].tool_calls[0].name is missing"},
      {R"([{"name": "f"}])", "chat template: messages[1].tool_calls[0].arguments is missing"},
      {R"([{"name": 3, "arguments": {}}])", "chat template: messages[1].tool_calls[0].name must be a string, got number"},
      {"[{", "chat template: message 1: tool_calls is not valid JSON"},
  };
  for (const auto& [calls, want] : bad_calls) {
    const std::string got = error_of({{"user", "Q", std::nullopt, ""}, {"assistant", "", std::nullopt, calls}}, opts);
    EXPECT_EQ(got.substr(0, want.size()), want) << calls;
  }
  const std::vector<std::pair<std::string, std::string>> bad_tools = {
      {R"({"name": "f"})", "chat template: tools must be a JSON array, got object"},
      {R"([{"name": "f"}])", "chat template: tools[0] has no 'function'"},
      {R"([{"function": {"name": "f"}}])", "chat template: tools[0].function.description is missing"},
      {R"([{"function": {"name": "f", "description": "d", "parameters": {"properties": {"x": {"type": "integer",
          "enum": [1], "default": 1}}}}}])",
       "chat template: tools[0].function.parameters.properties.x.default must be a string, got number"},
      {R"([{"function": {"name": "f", "description": "d", "parameters": {"properties": [1]}}}])",
       "chat template: tools[0].function.parameters.properties must be an object, got array"},
      {R"([{"function": {"name": "f", "description": "d", "parameters": {"properties": {"x": {"type": "string",
          "enum": [[1]]}}}}}])",
       "chat template: tools[0].function.parameters.properties.x.enum must hold strings, numbers or booleans"},
  };
  for (const auto& [tools, want] : bad_tools) {
    ChatOptions o = opts;
    o.tools_json = tools;
    const std::string got = error_of(msgs, o);
    EXPECT_EQ(got.substr(0, want.size()), want) << tools;
  }
}

// Type quirks the goldens leave out (expected text from Jinja2): the 50-character limit on an
// array's item type counts characters, not bytes (beta has 50, gamma 51); joins print Python's
// str() of non-strings; "required" given as a string is searched as one.
TEST(HarmonyTemplate, ToolTypeCornerCases) {
  const ChatTemplate tpl(harmony_template_source());
  ChatOptions opts;
  opts.date = "2025-08-05";
  opts.add_generation_prompt = false;
  opts.tools_json = R"([{"function": {"name": "f", "description": "d", "parameters": {"required": "alpha",
      "properties": {
        "alpha": {"type": ["string", 1, true, null]},
        "beta": {"type": "array", "items": {"type": ["ééééééééééééééééééééééé", "éééééééééééééééééééééééé"]}},
        "gamma": {"type": "array", "items": {"type": ["éééééééééééééééééééééééé", "éééééééééééééééééééééééé"]}},
        "delta": "string"}}}}])";
  const std::string text = tpl.render({{"user", "Hi", std::nullopt, ""}}, opts);
  const std::string tools = text.substr(text.find("type f"));
  EXPECT_EQ(tools,
            "type f = (_: {\nalpha: string | 1 | True | None,\n"
            "beta?: ééééééééééééééééééééééé | éééééééééééééééééééééééé[],\n"
            "gamma?: any[],\ndelta?: any,\n}) => any;\n\n} // namespace functions<|end|><|start|>user<|message|>Hi<|end|>");
}

TEST(HarmonyTemplate, FamilyDetection) {
  const std::string src = harmony_template_source();
  EXPECT_TRUE(is_harmony_template(src));
  // Saved with CRLF line ends, it is the same template.
  std::string crlf;
  for (char c : src) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(ChatTemplate(crlf).family(), "harmony");
  auto refused = [](std::string s) {
    try {
      ChatTemplate t(std::move(s));
      return false;
    } catch (const Error& e) {
      return std::string(e.what()).find("unsupported chat template family") != std::string::npos;
    }
  };
  // A generation prompt that opens the final channel, so that the model skips its reasoning.
  std::string final_only = src;
  const std::string gen = "{%- if add_generation_prompt -%}\n<|start|>assistant\n{%- endif -%}";
  ASSERT_NE(final_only.find(gen), std::string::npos);
  final_only.replace(final_only.find(gen), gen.size(),
                     "{%- if add_generation_prompt -%}\n<|start|>assistant<|channel|>final<|message|>\n{%- endif -%}");
  EXPECT_TRUE(refused(final_only));
  // The first release ended tool calls with <|end|> rather than <|call|>.
  std::string first_release = src;
  for (size_t at; (at = first_release.find("<|call|>")) != std::string::npos;) first_release.replace(at, 8, "<|end|>");
  EXPECT_TRUE(refused(first_release));
  // Neither Qwen3 nor ChatML templates are taken for it.
  EXPECT_EQ(ChatTemplate(test::qwen3_template_source()).family(), "qwen3");
  EXPECT_FALSE(is_harmony_template(test::qwen3_template_source()));
}

TEST(HarmonyTemplate, DeveloperRoleAndThinkingField) {
  const auto msgs = chat_messages_from_json(ordered_json::parse(
      R"([{"role": "developer", "content": "D"}, {"role": "assistant", "content": "A", "thinking": "T"},
          {"role": "assistant", "content": "B", "thinking": "U", "reasoning_content": "U"}])"));
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].role, "developer");
  EXPECT_EQ(msgs[1].reasoning_content, "T");
  EXPECT_EQ(msgs[2].reasoning_content, "U");
  EXPECT_THROW(chat_messages_from_json(ordered_json::parse(
                   R"([{"role": "assistant", "content": "A", "thinking": "T", "reasoning_content": "R"}])")),
               Error);
  // Qwen3's template has no developer turn: refused rather than dropped.
  const ChatTemplate qwen3(test::qwen3_template_source());
  EXPECT_THROW(qwen3.render({{"developer", "D", std::nullopt, ""}, {"user", "U", std::nullopt, ""}}, ChatOptions{}),
               Error);
}

}  // namespace
}  // namespace fare
