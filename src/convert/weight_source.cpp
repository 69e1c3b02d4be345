#include "convert/weight_source.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "io/json_file.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "ops/quantize.h"
#include "ops/dequant.h"
#include "ops/matmul.h"

namespace fare {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// One block's names and shape, in file order.
struct Part {
  const char* gguf;
  const char* hf;
  bool vector;
};
constexpr Part kBlockParts[] = {
    {"attn_norm", "input_layernorm", true},        {"attn_q", "self_attn.q_proj", false},
    {"attn_k", "self_attn.k_proj", false},         {"attn_v", "self_attn.v_proj", false},
    {"attn_output", "self_attn.o_proj", false},    {"attn_q_norm", "self_attn.q_norm", true},
    {"attn_k_norm", "self_attn.k_norm", true},     {"ffn_norm", "post_attention_layernorm", true},
    {"ffn_gate", "mlp.gate_proj", false},          {"ffn_up", "mlp.up_proj", false},
    {"ffn_down", "mlp.down_proj", false},
};

std::vector<int64_t> block_shape(const Config& c, const std::string& part) {
  const int64_t e = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff, hd = c.head_dim;
  if (part == "attn_norm" || part == "ffn_norm") return {e};
  if (part == "attn_q_norm" || part == "attn_k_norm") return {hd};
  if (part == "attn_q") return {q, e};
  if (part == "attn_k" || part == "attn_v") return {kv, e};
  if (part == "attn_output") return {e, q};
  if (part == "ffn_gate" || part == "ffn_up") return {ff, e};
  FARE_CHECK(part == "ffn_down", part);
  return {e, ff};
}

// Decodes rows of a stored tensor; `scale` (FP8 only) is its [ceil(rows/128), ceil(cols/128)] grid.
void decode_rows(const TensorInfo& t, const TensorInfo* scale, int64_t r0, int64_t r1, float* dst) {
  const int64_t cols = t.shape.back();
  const size_t rb = row_bytes(t.dtype, cols);
  std::vector<float> srow(scale ? static_cast<size_t>(scale->shape[1]) : 0);
  for (int64_t r = r0; r < r1; ++r, dst += cols) {
    dequantize_row(t.dtype, t.data + static_cast<size_t>(r) * rb, dst, cols);
    if (!scale) continue;
    const int64_t sc = scale->shape[1];
    dequantize_row(scale->dtype, scale->data + row_bytes(scale->dtype, (r / kFp8Block) * sc), srow.data(), sc);
    for (int64_t c = 0; c < cols; ++c) dst[c] *= srow[static_cast<size_t>(c / kFp8Block)];
  }
}

class HfSource : public WeightSource {
 public:
  explicit HfSource(const fs::path& dir) : dir_(dir) {
    if (!fs::is_directory(dir)) fail(dir.string(), ": not a directory (expected a Hugging Face model directory)");
    config_ = config_from_hf_json((dir / "config.json").string());
    if (config_.arch == Arch::GptOss)
      fail(dir.string(), ": converting a gpt-oss folder is not supported; fare runs it as it is (-m ", dir.string(), ")");
    check_quantization(dir / "config.json");
    open_shards();
    tensors_ = qwen3_tensors(config_);
    for (auto& t : tensors_) bind(t);
  }

  const Config& config() const override { return config_; }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }
  std::string describe() const override { return dir_.string(); }
  void read_rows(size_t i, int64_t r0, int64_t r1, float* dst) const override {
    decode_rows(*stored_[i], scales_[i], r0, r1, dst);
  }

 private:
  fs::path dir_;
  Config config_;
  std::vector<SourceTensor> tensors_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> by_name_;
  std::vector<const TensorInfo*> stored_, scales_;

  void check_quantization(const fs::path& config_path) {
    const json j = read_json_file(config_path.string());
    if (!j.contains("quantization_config") || j["quantization_config"].is_null()) return;
    const json& q = j["quantization_config"];
    if (q.value("quant_method", std::string()) != "fp8")
      fail(config_path.string(), ": quantization_config ", q.dump(), " is not supported (only Qwen's block FP8)");
    if (q.contains("weight_block_size") && q["weight_block_size"] != json::array({kFp8Block, kFp8Block}))
      fail(config_path.string(), ": weight_block_size ", q["weight_block_size"].dump(), ", expected [128, 128]");
  }

  void open_shards() {
    std::set<std::string> shards;
    const fs::path index = dir_ / "model.safetensors.index.json";
    if (fs::exists(dir_ / "model.safetensors")) {
      shards.insert("model.safetensors");
    } else if (fs::exists(index)) {
      const json j = read_json_file(index.string());
      if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail(index.string(), ": missing object 'weight_map'");
      for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) fail(index.string(), ": weight_map['", name, "'] is not a file name");
        const auto f = file.get<std::string>();
        if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
          fail(index.string(), ": shard name '", f, "' is not a plain file name");
        shards.insert(f);
      }
    } else {
      fail(dir_.string(), ": no model.safetensors or model.safetensors.index.json");
    }
    for (const auto& s : shards) {
      files_.push_back(std::make_unique<SafetensorsFile>((dir_ / s).string()));
      for (const auto& [name, t] : files_.back()->tensors())
        if (!by_name_.emplace(name, &t).second) fail(t.file, ": tensor '", name, "' also appears in ", by_name_[name]->file);
    }
  }

  const TensorInfo& get(const std::string& name) const {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) fail(dir_.string(), ": missing tensor '", name, "'");
    return *it->second;
  }

  void bind(SourceTensor& t) {
    const TensorInfo& s = get(t.hf_name);
    if (s.shape != t.shape)
      fail(s.file, ": tensor '", t.hf_name, "': expected shape ", shape_str(t.shape), ", found ", shape_str(s.shape));
    const bool plain = s.dtype == DType::F32 || s.dtype == DType::F16 || s.dtype == DType::BF16;
    if (!plain && !(s.dtype == DType::F8_E4M3 && !t.is_vector()))
      fail(s.file, ": tensor '", t.hf_name, "': dtype ", name(s.dtype), " is not supported (F32, F16, BF16; F8_E4M3 for matrices)");
    t.stored = s.dtype;
    stored_.push_back(&s);
    scales_.push_back(s.dtype == DType::F8_E4M3 ? &fp8_scale(t) : nullptr);
  }

  const TensorInfo& fp8_scale(const SourceTensor& t) const {
    const std::string name = t.hf_name + "_scale_inv";
    const TensorInfo& s = get(name);
    const std::vector<int64_t> want = {(t.rows() + kFp8Block - 1) / kFp8Block, (t.cols() + kFp8Block - 1) / kFp8Block};
    if (s.shape != want) fail(s.file, ": tensor '", name, "': expected shape ", shape_str(want), ", found ", shape_str(s.shape));
    if (s.dtype != DType::F32 && s.dtype != DType::BF16)
      fail(s.file, ": tensor '", name, "': dtype ", fare::name(s.dtype), ", expected F32 or BF16");
    return s;
  }
};

class GgufSource : public WeightSource {
 public:
  explicit GgufSource(const std::string& path) : file_(path) {
    config_ = config_from_gguf(file_);
    tensors_ = model_tensors(config_);
    for (auto& t : tensors_) {
      const auto it = file_.tensors().find(t.name);
      if (it == file_.tensors().end()) fail(path, ": missing tensor '", t.name, "'");
      const TensorInfo& s = it->second;
      if (s.shape != t.shape)
        fail(path, ": tensor '", t.name, "': expected shape ", shape_str(t.shape), ", found ", shape_str(s.shape));
      // The types this tool writes (ops/quantize.h) are the ones it reads back.
      if (!can_quantize(s.dtype))
        fail(path, ": tensor '", t.name, "': type ", name(s.dtype), " is not a weight type this tool reads");
      t.stored = s.dtype;
      stored_.push_back(&s);
    }
  }

  const Config& config() const override { return config_; }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }
  std::string describe() const override { return file_.path(); }
  void read_rows(size_t i, int64_t r0, int64_t r1, float* dst) const override {
    decode_rows(*stored_[i], nullptr, r0, r1, dst);
  }

 private:
  GgufFile file_;
  Config config_;
  std::vector<SourceTensor> tensors_;
  std::vector<const TensorInfo*> stored_;
};

}  // namespace

std::vector<SourceTensor> qwen3_tensors(const Config& c) {
  std::vector<SourceTensor> out;
  out.push_back({"token_embd.weight", "model.embed_tokens.weight", {c.n_vocab, c.n_embd}, DType::F32});
  for (int i = 0; i < c.n_layer; ++i)
    for (const Part& p : kBlockParts)
      out.push_back({cat("blk.", i, ".", p.gguf, ".weight"), cat("model.layers.", i, ".", p.hf, ".weight"),
                     block_shape(c, p.gguf), DType::F32});
  out.push_back({"output_norm.weight", "model.norm.weight", {c.n_embd}, DType::F32});
  if (!c.tie_embeddings) out.push_back({"output.weight", "lm_head.weight", {c.n_vocab, c.n_embd}, DType::F32});
  return out;
}

std::vector<SourceTensor> gpt_oss_tensors(const Config& c) {
  const int64_t D = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), E = c.n_expert, F = c.n_ff;
  std::vector<SourceTensor> out;
  auto add = [&](std::string name, std::vector<int64_t> shape) { out.push_back({std::move(name), "", std::move(shape), DType::F32}); };
  add("token_embd.weight", {c.n_vocab, D});
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string b = cat("blk.", i, ".");
    add(b + "attn_norm.weight", {D});
    for (const auto& [part, rows] : {std::pair<const char*, int64_t>{"attn_q", Q}, {"attn_k", KV}, {"attn_v", KV}}) {
      add(b + part + ".weight", {rows, D});
      add(b + part + ".bias", {rows});
    }
    add(b + "attn_output.weight", {D, Q});
    add(b + "attn_output.bias", {D});
    add(b + "attn_sinks.weight", {c.n_head});
    add(b + "post_attention_norm.weight", {D});
    add(b + "ffn_gate_inp.weight", {E, D});
    add(b + "ffn_gate_inp.bias", {E});
    add(b + "ffn_gate_exps.weight", {E, F, D});
    add(b + "ffn_gate_exps.bias", {E, F});
    add(b + "ffn_up_exps.weight", {E, F, D});
    add(b + "ffn_up_exps.bias", {E, F});
    add(b + "ffn_down_exps.weight", {E, D, F});
    add(b + "ffn_down_exps.bias", {E, D});
  }
  add("output_norm.weight", {D});
  add("output.weight", {c.n_vocab, D});
  return out;
}

std::vector<SourceTensor> model_tensors(const Config& c) {
  return c.arch == Arch::GptOss ? gpt_oss_tensors(c) : qwen3_tensors(c);
}

std::unique_ptr<WeightSource> open_hf_source(const std::string& dir) { return std::make_unique<HfSource>(dir); }
std::unique_ptr<WeightSource> open_gguf_source(const std::string& path) { return std::make_unique<GgufSource>(path); }

}  // namespace fare
