// Test support: model variants the fixtures do not ship, generated from the shipped ones into
// the build tree (once; later calls reuse them).
#pragma once

#include <string>

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

}  // namespace fare::test
