// The native chat-template renderers against Hugging Face renderings.
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tokenizer/python_json.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace fare {
namespace {

using nlohmann::ordered_json;

using test::options_of;
using test::qwen3_template_source;

TEST(ChatTemplate, EveryChatGoldenRendersAndEncodesExactly) {
  const ChatTemplate tpl(qwen3_template_source());
  EXPECT_EQ(tpl.family(), "qwen3");
  const Tokenizer& tok = test::qwen3_tokenizer();
  const auto lines = test::read_jsonl(test::fixture("tokenizer/chat.jsonl"));
  ASSERT_EQ(lines.size(), 17u);
  for (const auto& c : lines) {
    SCOPED_TRACE(testing::Message() << c["name"] << " enable_thinking=" << c["enable_thinking"]);
    const std::string rendered = tpl.render(chat_messages_from_json(c["messages"]), options_of(c));
    EXPECT_EQ(rendered, c["rendered"].get<std::string>());
    EXPECT_EQ(tok.encode(rendered, /*parse_special=*/true), test::ids_of(c["ids"]));
  }
}

// Rendered by Jinja2 with Hugging Face's chat-template environment (trim_blocks, lstrip_blocks,
// tojson = json.dumps(ensure_ascii=False)) from the same template: explicit reasoning_content,
// several tool calls (with and without a "function" wrapper, arguments as object and as
// string), grouped tool responses, a <tool_response> user turn, think blocks kept only after the
// last real query, a later system turn, tojson of floats, escapes, non-ASCII and key order.
const char* const kJinjaCases[] = {
    R"json({"name": "reasoning_field", "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "\nA", "reasoning_content": "\nR\n"}], "rendered": "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nR\n</think>\n\nA<|im_end|>\n<|im_start|>assistant\n"})json",
    R"json({"name": "multi_step_tools", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Weather in Paris and Rome?"}, {"role": "assistant", "content": "<think>\nplan\n</think>\n\nLet me check.", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}, {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}]}, {"role": "tool", "content": "{\"temp\": 18}"}, {"role": "tool", "content": "{\"temp\": 21}"}, {"role": "assistant", "content": "<think>\nsummarise\n</think>\nParis 18, Rome 21."}, {"role": "user", "content": "<tool_response>\nlate\n</tool_response>"}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "M\u00e9t\u00e9o \u2014 \u00abactuelle\u00bb", "parameters": {"z": 1.0, "a": [1e-05, 1e+16, 0.1, -0.0, 1000000000000000.0, 123456789.125, true, null], "e": {}, "q": "\"quote\" back\\slash\n\t\u0001 \u007f"}}}], "enable_thinking": false, "rendered": "<|im_start|>system\nS\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"M\u00e9t\u00e9o \u2014 \u00abactuelle\u00bb\", \"parameters\": {\"z\": 1.0, \"a\": [1e-05, 1e+16, 0.1, -0.0, 1000000000000000.0, 123456789.125, true, null], \"e\": {}, \"q\": \"\\\"quote\\\" back\\\\slash\\n\\t\\u0001 \u007f\"}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWeather in Paris and Rome?<|im_end|>\n<|im_start|>assistant\n<think>\nplan\n</think>\n\nLet me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 18}\n</tool_response>\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\nsummarise\n</think>\n\nParis 18, Rome 21.<|im_end|>\n<|im_start|>user\n<tool_response>\nlate\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"})json",
    R"json({"name": "think_kept_after_last_query", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "<think>old</think>Hello"}, {"role": "user", "content": "Go"}, {"role": "assistant", "content": "<think>\n\nmid\n\n</think>\n\nStep one"}, {"role": "assistant", "content": "no think here"}, {"role": "assistant", "content": "final"}], "add_generation_prompt": false, "rendered": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nGo<|im_end|>\n<|im_start|>assistant\n<think>\nmid\n</think>\n\nStep one<|im_end|>\n<|im_start|>assistant\nno think here<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nfinal<|im_end|>\n"})json",
    R"json({"name": "system_later", "messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}, {"role": "tool", "content": "c"}], "enable_thinking": true, "rendered": "<|im_start|>user\na<|im_end|>\n<|im_start|>system\nb<|im_end|>\n<|im_start|>user\n<tool_response>\nc\n</tool_response><|im_end|>\n<|im_start|>assistant\n"})json",
};

TEST(ChatTemplate, MatchesJinjaOnHarderConversations) {
  const ChatTemplate tpl(qwen3_template_source());
  for (const char* text : kJinjaCases) {
    const ordered_json c = ordered_json::parse(text);
    SCOPED_TRACE(c["name"].get<std::string>());
    EXPECT_EQ(tpl.render(chat_messages_from_json(c["messages"]), options_of(c)), c["rendered"].get<std::string>());
  }
}

TEST(ChatTemplate, GenerationPromptAndThinkingSwitch) {
  const ChatTemplate tpl(qwen3_template_source());
  const std::vector<ChatMessage> msgs = {{"user", "Hi", std::nullopt, ""}};
  ChatOptions opts;
  EXPECT_EQ(tpl.render(msgs, opts), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  opts.enable_thinking = true;
  EXPECT_EQ(tpl.render(msgs, opts), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  opts.enable_thinking = false;
  EXPECT_EQ(tpl.render(msgs, opts), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  opts.add_generation_prompt = false;
  EXPECT_EQ(tpl.render(msgs, opts), "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_THROW(tpl.render({}, opts), Error);  // Hugging Face fails on messages[0] too
}

TEST(ChatTemplate, FamilyDetection) {
  const std::string chatml =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
      "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
  const ChatTemplate plain(chatml);
  EXPECT_EQ(plain.family(), "chatml");
  ChatOptions opts;
  opts.enable_thinking = false;  // the plain template has no such switch
  EXPECT_EQ(plain.render({{"system", "S", std::nullopt, ""}, {"user", "U", std::nullopt, ""}}, opts),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");

  // Qwen2's template adds a default system prompt: not plain ChatML, so refused.
  const std::string qwen2 =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
      "You are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
      "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
      "'<|im_start|>assistant\n' }}{% endif %}";
  for (const std::string& src : {qwen2, std::string("{{ bos_token }}[INST] {{ messages[0].content }} [/INST]")}) {
    try {
      ChatTemplate t(src);
      ADD_FAILURE() << "accepted " << src;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("unsupported chat template family"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--chat-template"), std::string::npos) << e.what();
    }
  }
  // Qwen3 "Thinking-2507" opens <think> in the generation prompt: a different template.
  std::string thinking = qwen3_template_source();
  const std::string gen = "{{- '<|im_start|>assistant\\n' }}";
  ASSERT_NE(thinking.find(gen), std::string::npos);
  thinking.replace(thinking.find(gen), gen.size(), "{{- '<|im_start|>assistant\\n<think>\\n' }}");
  EXPECT_THROW(ChatTemplate t(thinking), Error);
}

std::string message_error(const char* json_text) {
  try {
    chat_messages_from_json(nlohmann::json::parse(json_text));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ChatMessages, ErrorsNameTheIndexAndField) {
  EXPECT_EQ(message_error(R"({"role": "user"})"), "messages: expected a JSON array, got object");
  EXPECT_EQ(message_error(R"([{"role": "user", "content": "a"}, 3])"), "messages[1]: expected an object, got number");
  EXPECT_EQ(message_error(R"([{"content": "a"}])"), "messages[0].role: missing");
  EXPECT_EQ(message_error(R"([{"role": "robot", "content": "a"}])"),
            "messages[0].role: expected system, developer, user, assistant or tool, got 'robot'");
  EXPECT_EQ(message_error(R"([{"role": "user", "content": "a"}, {"role": "user"}])"), "messages[1].content: missing");
  EXPECT_EQ(message_error(R"([{"role": "user", "content": [1]}])"),
            "messages[0].content: expected a string, got array");
  EXPECT_EQ(message_error(R"([{"role": "assistant", "content": "a", "reasoning_content": 5}])"),
            "messages[0].reasoning_content: expected a string, got number");
  EXPECT_EQ(message_error(R"([{"role": "assistant", "content": "a", "tool_calls": {}}])"),
            "messages[0].tool_calls: expected an array, got object");
}

TEST(ChatMessages, FieldsAreRead) {
  const auto msgs = chat_messages_from_json(ordered_json::parse(
      R"([{"role": "assistant", "content": null, "reasoning_content": "r",
           "tool_calls": [{"function": {"name": "f", "arguments": {"z": 1, "a": 2}}}]}])"));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].content, "");
  EXPECT_EQ(msgs[0].reasoning_content, "r");
  EXPECT_EQ(msgs[0].tool_calls_json, R"([{"function":{"name":"f","arguments":{"z":1,"a":2}}}])");
}

TEST(ChatTemplate, BadToolJsonIsAnError) {
  const ChatTemplate tpl(qwen3_template_source());
  ChatOptions opts;
  opts.tools_json = "[{";
  EXPECT_THROW(tpl.render({{"user", "Hi", std::nullopt, ""}}, opts), Error);
  opts.tools_json = R"({"name": "f"})";
  EXPECT_THROW(tpl.render({{"user", "Hi", std::nullopt, ""}}, opts), Error);
  const std::vector<ChatMessage> no_name = {{"user", "Hi", std::nullopt, ""},
                                            {"assistant", "", std::nullopt, R"([{"arguments": {}}])"}};
  EXPECT_THROW(tpl.render(no_name, ChatOptions{}), Error);
}

TEST(PythonJson, MatchesJsonDumps) {
  EXPECT_EQ(python_json_dumps(ordered_json::parse(R"({"b": [1, -2, 3.5, true, null], "a": {}, "c": []})")),
            R"({"b": [1, -2, 3.5, true, null], "a": {}, "c": []})");
  // Python repr() of floats.
  const std::pair<double, const char*> floats[] = {
      {1.0, "1.0"},           {0.1, "0.1"},
      {1e-05, "1e-05"},       {0.0001, "0.0001"},
      {1e16, "1e+16"},        {1e15, "1000000000000000.0"},
      {-0.0, "-0.0"},         {123456789.125, "123456789.125"},
      {2.5e-300, "2.5e-300"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
      {-12.75, "-12.75"},     {1e100, "1e+100"}};
  for (const auto& [v, s] : floats) EXPECT_EQ(python_float_repr(v), s) << v;
  EXPECT_EQ(python_json_dumps(ordered_json("tab\there \"q\" \\ \x01 \x7f \xc3\xa9")),
            "\"tab\\there \\\"q\\\" \\\\ \\u0001 \x7f \xc3\xa9\"");
}

}  // namespace
}  // namespace fare
