#include "support/derived_models.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "common/half.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "ops/dequant.h"

namespace fare::test {

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> to_f32_bytes(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  if (!v.empty()) {
    const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    const int64_t rows = t.numel() / cols;
    const size_t rb = row_bytes(t.dtype, cols);
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t.dtype, t.data + r * rb, v.data() + r * cols, cols);
  }
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::vector<uint8_t> raw_bytes(const TensorInfo& t) { return {t.data, t.data + t.nbytes}; }

void copy_side_files(const fs::path& from, const fs::path& to) {
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"})
    if (fs::exists(from / f)) fs::copy_file(from / f, to / f, fs::copy_options::overwrite_existing);
}

// Builds `name` in the scratch folder with `make(dir)` unless it exists; the rename makes a
// half-written model invisible to concurrent test processes.
std::string build_once(const std::string& name, const std::function<void(const fs::path&)>& make) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  const fs::path final_path = fs::path(scratch_dir()) / name;
  if (fs::exists(final_path)) return final_path.string();
  const fs::path tmp = fs::path(scratch_dir()) / (name + ".tmp" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  make(tmp);
  std::error_code ec;
  fs::rename(tmp, final_path, ec);  // another process may have won the race: fine
  fs::remove_all(tmp);
  return final_path.string();
}

}  // namespace

std::string fixtures_dir() { return FARE_FIXTURES_DIR; }
std::string fixture(const std::string& rel) { return fixtures_dir() + "/" + rel; }

std::string scratch_dir() {
  const fs::path p = fs::path(FARE_BINARY_DIR) / "test-scratch";
  fs::create_directories(p);
  return p.string();
}

std::string micro_hf_f32() {
  return build_once("micro-qwen3-hf-f32", [](const fs::path& dir) {
    fs::create_directories(dir);
    const fs::path src = fixture("micro-qwen3/hf-bf16");
    SafetensorsFile in((src / "model.safetensors").string());
    std::vector<TensorToWrite> out;
    for (const auto& [name, t] : in.tensors()) out.push_back({name, DType::F32, t.shape, to_f32_bytes(t)});
    write_safetensors((dir / "model.safetensors").string(), out);
    copy_side_files(src, dir);
  });
}

std::string micro_hf_sharded() {
  return build_once("micro-qwen3-hf-sharded", [](const fs::path& dir) {
    fs::create_directories(dir);
    const fs::path src = fixture("micro-qwen3/hf-bf16");
    SafetensorsFile in((src / "model.safetensors").string());
    constexpr int kShards = 3;
    std::vector<std::vector<TensorToWrite>> shards(kShards);
    nlohmann::json map = nlohmann::json::object();
    int i = 0;
    for (const auto& [name, t] : in.tensors()) {
      const int s = i++ % kShards;
      shards[s].push_back({name, t.dtype, t.shape, raw_bytes(t)});
      map[name] = "model-0000" + std::to_string(s + 1) + "-of-00003.safetensors";
    }
    for (int s = 0; s < kShards; ++s)
      write_safetensors((dir / ("model-0000" + std::to_string(s + 1) + "-of-00003.safetensors")).string(), shards[s]);
    std::ofstream((dir / "model.safetensors.index.json").string()) << nlohmann::json{{"metadata", {}}, {"weight_map", map}}.dump(1);
    copy_side_files(src, dir);
  });
}

std::string micro_gguf_f32() {
  const std::string dir = build_once("micro-qwen3-gguf-f32", [](const fs::path& d) {
    fs::create_directories(d);
    GgufFile in(fixture("micro-qwen3/micro-qwen3-f16.gguf"));
    GgufWriter w;
    for (const auto& [key, value] : in.metadata()) w.set_value(key, value);
    for (const auto& [name, t] : in.tensors()) w.add_tensor(name, DType::F32, t.shape, to_f32_bytes(t));
    w.write((d / "micro-qwen3-f32.gguf").string());
  });
  return dir + "/micro-qwen3-f32.gguf";
}

namespace {

std::string harmony_template_source() {
  std::ifstream in(std::string(FARE_SOURCE_DIR) + "/tests/tokenizer/harmony/chat_template.jinja", std::ios::binary);
  if (!in) throw std::runtime_error("tests/tokenizer/harmony/chat_template.jinja cannot be read");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* harmony_token(int id) {
  for (const auto& [i, text] : kMicroHarmonyTokens)
    if (i == id) return text;
  return nullptr;
}

}  // namespace

std::string micro_harmony_hf() {
  return build_once("micro-harmony-hf", [](const fs::path& dir) {
    fs::create_directories(dir);
    const fs::path src = fixture("micro-qwen3/hf-bf16");
    for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(src / f, dir / f);
    nlohmann::ordered_json tok = nlohmann::ordered_json::parse(std::ifstream(src / "tokenizer.json"));
    for (auto& t : tok["added_tokens"])
      if (const char* text = harmony_token(t["id"].get<int>())) t["content"] = text;
    std::ofstream(dir / "tokenizer.json") << tok.dump(1);
    nlohmann::ordered_json cfg = nlohmann::ordered_json::parse(std::ifstream(src / "tokenizer_config.json"));
    cfg.erase("chat_template");
    for (auto& [id, t] : cfg["added_tokens_decoder"].items())
      if (const char* text = harmony_token(std::stoi(id))) t["content"] = text;
    std::ofstream(dir / "tokenizer_config.json") << cfg.dump(1);
    std::ofstream(dir / "chat_template.jinja", std::ios::binary) << harmony_template_source();
    std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": 4096, "pad_token_id": 4096})";
  });
}

std::string micro_harmony_gguf() {
  const std::string dir = build_once("micro-harmony-gguf", [](const fs::path& d) {
    fs::create_directories(d);
    GgufFile in(fixture("micro-qwen3/micro-qwen3-f16.gguf"));
    GgufWriter w;
    for (const auto& [key, value] : in.metadata()) {
      if (key == "tokenizer.ggml.tokens") {
        std::vector<std::string> tokens = value.strings;
        for (const auto& [id, text] : kMicroHarmonyTokens) tokens.at(static_cast<size_t>(id)) = text;
        w.set_string_array(key, tokens);
      } else if (key == "tokenizer.chat_template") {
        w.set_string(key, harmony_template_source());
      } else {
        w.set_value(key, value);
      }
    }
    for (const auto& [name, t] : in.tensors()) w.add_tensor(name, t.dtype, t.shape, raw_bytes(t));
    w.write((d / "micro-harmony.gguf").string());
  });
  return dir + "/micro-harmony.gguf";
}

}  // namespace fare::test
