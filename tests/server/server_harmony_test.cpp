// fare serve on a model whose chat template is gpt-oss's (micro-qwen3's weights with harmony's
// template and special tokens, so its text is random): the chat endpoint splits the output by
// channel, whole and streamed alike, reasoning_effort reaches the template or is refused with a
// precise 400, and the judge and reward endpoints take an effort too.
#include "server/chat_output.h"
#include "server_fixture.h"

namespace fare::server::testing {
namespace {

const json kHello = json::array({{{"role", "user"}, {"content", "Which answer is right?"}}});

std::shared_ptr<const Engine> harmony_engine() {
  EngineOptions o;
  o.n_threads = 2;
  o.n_ctx = 4096;
  o.max_sequences = 4;
  return std::shared_ptr<const Engine>(Engine::open(test::micro_harmony_hf(), o));
}

// Sampled, so that each seed gives other random text. (Outputs with real channels are split in
// chat_output_test.cpp, with the same ChatSplitter the stream uses.)
json chat(int max_tokens, uint64_t seed, json extra = json::object()) {
  json b = {{"messages", kHello}, {"max_tokens", max_tokens}, {"temperature", 2}, {"seed", seed}, {"ignore_eos", true}};
  for (auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

std::vector<json> sse_events(const std::string& body) {
  std::vector<json> out;
  for (size_t pos = 0; (pos = body.find("data: ", pos)) != std::string::npos;) {
    const size_t end = body.find("\n\n", pos);
    const std::string data = body.substr(pos + 6, end - pos - 6);
    if (data != "[DONE]") out.push_back(json::parse(data));
    pos = end;
  }
  return out;
}

TEST(ServerHarmony, ChatSplitsByChannelWholeAndStreamed) {
  TestServer s({}, harmony_engine());
  ChatOptions opts;
  opts.reasoning_effort = "high";
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(seed);
    const json whole = body_of(s.post("/v1/chat/completions", chat(64, seed, {{"reasoning_effort", "high"}})));
    ASSERT_TRUE(whole.contains("choices")) << whole.dump();
    // What the engine generates for the same prompt and seed, parsed as harmony.
    GenerateRequest g;
    g.prompt = s.engine().chat_prompt({{"user", "Which answer is right?", std::nullopt, ""}}, opts);
    g.max_tokens = 64;
    g.sampling.temperature = 2;
    g.sampling.seed = seed;
    g.stop_at_eos = false;
    const GenerateResult r = s.engine().generate(g);
    const SplitText want = harmony_split(parse_harmony_output(r.text));
    EXPECT_EQ(whole["usage"]["prompt_tokens"], static_cast<int>(g.prompt.size()));
    const json& msg = whole["choices"][0]["message"];
    EXPECT_EQ(msg["content"], want.content);
    if (!r.text.empty()) EXPECT_NE(msg["content"], r.text);  // split as harmony, not passed through
    EXPECT_EQ(msg.contains("reasoning_content"), want.reasoning.has_value());
    if (want.reasoning) {
      EXPECT_EQ(msg["reasoning_content"], *want.reasoning);
      EXPECT_EQ(msg["reasoning"], *want.reasoning);
    }

    auto streamed = s.post("/v1/chat/completions", chat(64, seed, {{"reasoning_effort", "high"}, {"stream", true}}));
    ASSERT_TRUE(streamed);
    std::string content, reasoning;
    for (const json& ev : sse_events(streamed->body)) {
      if (ev["choices"].empty()) continue;
      content += ev["choices"][0]["delta"].value("content", "");
      reasoning += ev["choices"][0]["delta"].value("reasoning_content", "");
    }
    EXPECT_EQ(content, want.content);
    EXPECT_EQ(reasoning, want.reasoning.value_or(""));
  }
}

TEST(ServerHarmony, ReasoningEffortReachesTheTemplateOrIsRefusedPrecisely) {
  TestServer s({}, harmony_engine());
  auto ids = [&](json extra) {
    json b = {{"messages", kHello}};
    for (auto& [k, v] : extra.items()) b[k] = v;
    return body_of(s.post("/tokenize", b))["tokens"];
  };
  ChatOptions high;
  high.reasoning_effort = "high";
  const auto want = s.engine().chat_prompt({{"user", "Which answer is right?", std::nullopt, ""}}, high);
  EXPECT_EQ(ids({{"reasoning_effort", "high"}}), json(want));
  EXPECT_EQ(ids({{"chat_template_kwargs", {{"reasoning_effort", "high"}}}}), json(want));
  EXPECT_NE(ids({{"reasoning_effort", "low"}}), json(want));
  EXPECT_EQ(ids({{"reasoning_effort", "high"}, {"chat_template_kwargs", {{"reasoning_effort", "low"}}}}), json(want));

  for (const json& bad : {json("minimal"), json("HIGH"), json("")}) {
    const json e = error_of(s.post("/v1/chat/completions", chat(4, 1, {{"reasoning_effort", bad}})), 400);
    EXPECT_EQ(e["param"], "reasoning_effort");
    EXPECT_EQ(e["message"], "'reasoning_effort' must be \"low\", \"medium\" or \"high\", got " + bad.dump()) << e.dump();
  }
  const json e = error_of(s.post("/v1/chat/completions", chat(4, 1, {{"reasoning_effort", 3}})), 400);
  EXPECT_EQ(e["param"], "reasoning_effort");

  // A Qwen3 model has no reasoning effort: saying one is an error, not silently ignored.
  TestServer qwen3({}, micro_engine(4096, 2));
  const json q = error_of(qwen3.post("/v1/chat/completions", chat(4, 1, {{"reasoning_effort", "low"}})), 400);
  EXPECT_EQ(q["param"], "reasoning_effort");
  EXPECT_NE(q["message"].get<std::string>().find("this model's chat template is qwen3"), std::string::npos) << q.dump();
  error_of(qwen3.post("/v1/judge", {{"task", "verify"}, {"instruction", "2+2?"}, {"response", "4"},
                                     {"options", {{"max_tokens", 4}, {"reasoning_effort", "low"}}}}),
           400);
  error_of(qwen3.post("/get_reward", {{"query", {"Q: 2+2? A: 4"}}, {"prompts", {"Q: 2+2?"}}, {"reasoning_effort", "low"}}),
           400);
}

TEST(ServerHarmony, JudgeAndRewardTakeTheEffort) {
  ServerOptions o;
  o.reward.max_tokens = 8;
  o.reward.reasoning_effort = "low";
  TestServer s(o, harmony_engine());
  const json b = body_of(s.post("/v1/judge", {{"task", "verify"}, {"instruction", "2+2?"}, {"response", "4"},
                                              {"options", {{"max_tokens", 8}, {"reasoning_effort", "high"}}}}));
  ASSERT_EQ(b["judgments"].size(), 1u) << b.dump();
  const json& j = b["judgments"][0];
  EXPECT_EQ(j["reasoning_effort"], "high");
  EXPECT_EQ(j["model_family"], "harmony");
  EXPECT_EQ(b["config"]["reasoning_effort"], "high");
  EXPECT_TRUE(j["raw"].get<std::string>().starts_with("<think>")) << j["raw"];  // the canonical form
  const json bad = error_of(s.post("/v1/judge", {{"task", "verify"}, {"instruction", "2+2?"}, {"response", "4"},
                                                 {"options", {{"reasoning_effort", "max"}}}}),
                            400);
  EXPECT_EQ(bad["param"], "options");

  const json r = body_of(s.post("/get_reward", {{"query", {"Q: 2+2? A: 4"}}, {"prompts", {"Q: 2+2?"}}}));
  ASSERT_EQ(r["rewards"].size(), 1u) << r.dump();
  const json r2 = body_of(s.post("/get_reward", {{"query", {"Q: 2+2? A: 4"}}, {"prompts", {"Q: 2+2?"}},
                                                 {"reasoning_effort", "high"}}));
  ASSERT_EQ(r2["rewards"].size(), 1u) << r2.dump();
  error_of(s.post("/get_reward", {{"query", {"Q: 2+2? A: 4"}}, {"prompts", {"Q: 2+2?"}}, {"reasoning_effort", "max"}}), 400);
}

}  // namespace
}  // namespace fare::server::testing
