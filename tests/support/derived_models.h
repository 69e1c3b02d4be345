// Test support: model variants the fixtures do not ship, generated from the shipped ones into
// the build tree (once; later calls reuse them).
#pragma once

#include <string>
#include <utility>

namespace fare::test {

std::string fixtures_dir();
std::string fixture(const std::string& rel);  // fixtures_dir() + "/" + rel
std::string scratch_dir();                    // a per-build folder for generated files

// micro-qwen3 as F32 safetensors (same numbers as hf-bf16).
std::string micro_hf_f32();
// micro-qwen3 hf-bf16 split into three safetensors shards with model.safetensors.index.json.
std::string micro_hf_sharded();
// micro-qwen3 as an F32 GGUF (same numbers), metadata copied from the F16 GGUF.
std::string micro_gguf_f32();

// micro-qwen3's weights with gpt-oss's chat template (tests/tokenizer/harmony/chat_template.jinja)
// and harmony's special tokens in place of seven of its padding tokens (kMicroHarmonyTokens):
// a model whose output the engine, the judge and the server treat as harmony. Its text is as
// random as micro-qwen3's. The Hugging Face form stops only at <|endoftext|> in its
// generation_config.json; the GGUF form keeps micro-qwen3's end-of-generation ids.
std::string micro_harmony_hf();
std::string micro_harmony_gguf();
inline constexpr std::pair<int, const char*> kMicroHarmonyTokens[] = {
    {4101, "<|return|>"}, {4102, "<|constrain|>"}, {4103, "<|channel|>"}, {4104, "<|start|>"},
    {4105, "<|end|>"},    {4106, "<|message|>"},   {4107, "<|call|>"}};

}  // namespace fare::test
