// A model directory or GGUF that does not fit the Qwen3 contract gives one clear error naming
// the file, the tensor or field, and expected vs actual.
#include <gtest/gtest.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "support/derived_models.h"
#include "support/fuzz_regressions.h"

namespace fare {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kMicro = test::fixture("micro-qwen3/hf-bf16");

// A fresh copy of the micro model that a test may break.
fs::path copy_micro(const std::string& name) {
  const fs::path dir = fs::path(test::scratch_dir()) / ("broken-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(kMicro)) fs::copy_file(e.path(), dir / e.path().filename());
  return dir;
}

json read_json(const fs::path& p) { return json::parse(std::ifstream(p)); }
void write_json(const fs::path& p, const json& j) { std::ofstream(p) << j.dump(1); }

// Rewrites model.safetensors through `edit` (which may drop, rename or change tensors).
void rewrite_tensors(const fs::path& dir, const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  std::vector<TensorToWrite> ts;
  {
    SafetensorsFile in((dir / "model.safetensors").string());
    for (const auto& [n, t] : in.tensors()) ts.push_back({n, t.dtype, t.shape, {t.data, t.data + t.nbytes}});
  }
  edit(ts);
  write_safetensors((dir / "model.safetensors").string(), ts);
}

void expect_error(const fs::path& path, const std::vector<std::string>& phrases) {
  try {
    Model::load(path.string());
    FAIL() << "loaded without error: " << path;
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

TEST(LoadErrors, MissingConfigField) {
  const auto dir = copy_micro("no-hidden");
  auto j = read_json(dir / "config.json");
  j.erase("hidden_size");
  write_json(dir / "config.json", j);
  expect_error(dir, {"config.json", "missing field 'hidden_size'"});
}

TEST(LoadErrors, WrongArchitecture) {
  const auto dir = copy_micro("llama");
  auto j = read_json(dir / "config.json");
  j["model_type"] = "llama";
  write_json(dir / "config.json", j);
  expect_error(dir, {"config.json", "model_type is 'llama', expected 'qwen3'"});
}

TEST(LoadErrors, InconsistentHeads) {
  const auto dir = copy_micro("heads");
  auto j = read_json(dir / "config.json");
  j["num_key_value_heads"] = 3;
  write_json(dir / "config.json", j);
  expect_error(dir, {"config.json", "num_attention_heads (2) is not a multiple of num_key_value_heads (3)"});
}

TEST(LoadErrors, ShapeDisagreesWithConfig) {
  const auto dir = copy_micro("shape");
  auto j = read_json(dir / "config.json");
  j["intermediate_size"] = 1024;
  write_json(dir / "config.json", j);
  expect_error(dir, {"model.safetensors", "model.layers.0.mlp.gate_proj.weight", "expected shape [1024, 256], found [512, 256]"});
}

TEST(LoadErrors, MissingTensor) {
  const auto dir = copy_micro("missing");
  rewrite_tensors(dir, [](auto& ts) {
    std::erase_if(ts, [](const TensorToWrite& t) { return t.name == "model.layers.1.self_attn.k_norm.weight"; });
  });
  expect_error(dir, {"model.safetensors", "missing tensor 'model.layers.1.self_attn.k_norm.weight'"});
}

TEST(LoadErrors, UnsupportedDtypeForANorm) {
  const auto dir = copy_micro("dtype");
  rewrite_tensors(dir, [](auto& ts) {
    for (auto& t : ts)
      if (t.name == "model.norm.weight") t.dtype = DType::I16;  // same byte size as BF16
  });
  expect_error(dir, {"model.norm.weight", "dtype I16 is not supported"});
}

TEST(LoadErrors, UntiedModelWithoutLmHead) {
  const auto dir = copy_micro("untied");
  auto j = read_json(dir / "config.json");
  j["tie_word_embeddings"] = false;
  write_json(dir / "config.json", j);
  expect_error(dir, {"missing tensor 'lm_head.weight'"});
}

TEST(LoadErrors, ShardIndexNamesAMissingFile) {
  const auto dir = copy_micro("shards");
  fs::rename(dir / "model.safetensors", dir / "model-00001-of-00002.safetensors");
  write_json(dir / "model.safetensors.index.json",
             {{"weight_map", {{"model.norm.weight", "model-00001-of-00002.safetensors"},
                              {"lm_head.weight", "model-00002-of-00002.safetensors"}}}});
  expect_error(dir, {"model-00002-of-00002.safetensors", "cannot open"});
}

TEST(LoadErrors, NoTokenizer) {
  const auto dir = copy_micro("notok");
  fs::remove(dir / "tokenizer.json");
  expect_error(dir, {"no tokenizer.json"});
}

TEST(LoadErrors, Fp8WithoutBlockScale) {
  const fs::path dir = fs::path(test::scratch_dir()) / "broken-fp8";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(test::fixture("micro-qwen3/hf-fp8"))) fs::copy_file(e.path(), dir / e.path().filename());
  rewrite_tensors(dir, [](auto& ts) {
    std::erase_if(ts, [](const TensorToWrite& t) { return t.name == "model.layers.0.mlp.up_proj.weight_scale_inv"; });
  });
  expect_error(dir, {"FP8 tensor 'model.layers.0.mlp.up_proj.weight' has no block scale"});
}

TEST(LoadErrors, GgufOfAnotherArchitecture) {
  GgufFile in(test::fixture("micro-qwen3/micro-qwen3-q8_0.gguf"));
  GgufWriter w;
  for (const auto& [k, v] : in.metadata()) w.set_value(k, v);
  w.set_string("general.architecture", "llama");
  for (const auto& [n, t] : in.tensors()) w.add_tensor(n, t.dtype, t.shape, {t.data, t.data + t.nbytes});
  const fs::path out = fs::path(test::scratch_dir()) / "broken-arch.gguf";
  w.write(out.string());
  expect_error(out, {"broken-arch.gguf", "general.architecture is 'llama', expected 'qwen3'"});
}

TEST(LoadErrors, GgufMissingTensor) {
  GgufFile in(test::fixture("micro-qwen3/micro-qwen3-q8_0.gguf"));
  GgufWriter w;
  for (const auto& [k, v] : in.metadata()) w.set_value(k, v);
  for (const auto& [n, t] : in.tensors())
    if (n != "blk.1.ffn_down.weight") w.add_tensor(n, t.dtype, t.shape, {t.data, t.data + t.nbytes});
  const fs::path out = fs::path(test::scratch_dir()) / "broken-missing.gguf";
  w.write(out.string());
  expect_error(out, {"broken-missing.gguf", "missing tensor 'blk.1.ffn_down.weight'"});
}

TEST(LoadErrors, NotAModel) {
  expect_error("/nonexistent/dir", {"/nonexistent/dir", "no such file"});
  expect_error(test::fixture("README.md"), {"not a Hugging Face model directory or a .gguf file"});
}

// config.json files on which fuzz/fuzz_config.cpp found a bug: each one is a fare::Error, or a
// config whose derived widths fit in an int.
TEST(FuzzRegressions, ConfigJson) {
  const auto files = test::fuzz_regressions("model", "config-");
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    Config c;
    if (!test::returns_or_fare_error([&] { c = config_from_hf_json(f.string()); }, f.string())) continue;
    EXPECT_LE(int64_t{c.n_head} * c.head_dim, int64_t{INT_MAX});
    EXPECT_GT(c.n_head_kv, 0);
  }
}

}  // namespace
}  // namespace fare
