// Loading a Model from a Hugging Face directory or a GGUF file. Every tensor is declared once
// with the shape the config implies, and looked up by name with dtype and shape checked.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/half.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "ops/mxfp4.h"

namespace fare {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool is_matrix_type(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::F8_E4M3:
    case DType::Q8_0: case DType::Q4_0: case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::MXFP4:
      return true;
    default:
      return false;
  }
}

// Where tensors come from, and how the loader names them.
struct TensorSource {
  std::map<std::string, const TensorInfo*> by_name;
  std::string describe;  // for "not found in ..." messages
  bool hf_names = true;

  const TensorInfo* find(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }
  const TensorInfo& get(const std::string& name) const {
    const TensorInfo* t = find(name);
    if (!t) fail(describe, ": missing tensor '", name, "'");
    return *t;
  }
};

enum class Part { AttnNorm, Q, K, V, O, QNorm, KNorm, FfnNorm, Gate, Up, Down };

std::string tensor_name(bool hf, int layer, Part p) {
  static const std::map<Part, std::pair<const char*, const char*>> kNames = {
      {Part::AttnNorm, {"input_layernorm", "attn_norm"}},
      {Part::Q, {"self_attn.q_proj", "attn_q"}},
      {Part::K, {"self_attn.k_proj", "attn_k"}},
      {Part::V, {"self_attn.v_proj", "attn_v"}},
      {Part::O, {"self_attn.o_proj", "attn_output"}},
      {Part::QNorm, {"self_attn.q_norm", "attn_q_norm"}},
      {Part::KNorm, {"self_attn.k_norm", "attn_k_norm"}},
      {Part::FfnNorm, {"post_attention_layernorm", "ffn_norm"}},
      {Part::Gate, {"mlp.gate_proj", "ffn_gate"}},
      {Part::Up, {"mlp.up_proj", "ffn_up"}},
      {Part::Down, {"mlp.down_proj", "ffn_down"}},
  };
  const auto& n = kNames.at(p);
  return hf ? cat("model.layers.", layer, ".", n.first, ".weight") : cat("blk.", layer, ".", n.second, ".weight");
}

}  // namespace

class ModelLoader {
 public:
  explicit ModelLoader(Model& m) : m_(m) {}

  void load(const std::string& path) {
    m_.path = path;
    if (fs::is_directory(path)) load_hf(path);
    else if (path.size() >= 5 && path.substr(path.size() - 5) == ".gguf") load_gguf(path);
    else if (!fs::exists(path)) fail(path, ": no such file or directory");
    else fail(path, ": not a Hugging Face model directory or a .gguf file");
  }

 private:
  Model& m_;
  TensorSource src_;

  void load_hf(const fs::path& dir) {
    m_.format = "safetensors";
    m_.config = config_from_hf_json((dir / "config.json").string());
    check_quantization_config(dir / "config.json");
    open_safetensors(dir);
    load_weights();
    load_hf_tokenizer_and_chat(dir);
    load_hf_eos(dir);
  }

  void load_gguf(const std::string& path) {
    m_.format = "gguf";
    m_.gguf_ = std::make_unique<GgufFile>(path);
    const GgufFile& g = *m_.gguf_;
    m_.config = config_from_gguf(g);
    src_.describe = path;
    src_.hf_names = false;
    for (const auto& [name, t] : g.tensors()) src_.by_name[name] = &t;
    load_weights();
    m_.tokenizer.emplace(load_gguf_tokenizer(g));
    if (g.has("tokenizer.chat_template")) set_chat_template(g.get_string("tokenizer.chat_template"));
    else m_.chat_template_error = path + ": no tokenizer.chat_template in the GGUF metadata";
    load_gguf_eos(g);
  }

  void check_quantization_config(const fs::path& config_path) {
    const json j = read_json_file(config_path.string());
    if (!j.contains("quantization_config") || j["quantization_config"].is_null()) return;
    const json& q = j["quantization_config"];
    const auto method = q.value("quant_method", std::string());
    // gpt-oss's release: MXFP4 experts (as *_blocks / *_scales), everything else as it is.
    if (method == "mxfp4" && m_.config.arch == Arch::GptOss) return;
    if (method != "fp8")
      fail(config_path.string(), ": quantization_config.quant_method '", method, "' is not supported (only Qwen's block FP8)");
    if (q.contains("weight_block_size") && q["weight_block_size"] != json::array({kFp8Block, kFp8Block}))
      fail(config_path.string(), ": weight_block_size ", q["weight_block_size"].dump(), " is not supported, expected [128, 128]");
  }

  void open_safetensors(const fs::path& dir) {
    std::vector<std::string> shards;
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(dir / "model.safetensors")) {
      shards.push_back("model.safetensors");
    } else if (fs::exists(index)) {
      const json j = read_json_file(index.string());
      if (!j.contains("weight_map") || !j["weight_map"].is_object())
        fail(index.string(), ": missing object 'weight_map'");
      std::set<std::string> files;
      for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) fail(index.string(), ": weight_map['", name, "'] is not a file name");
        files.insert(file.get<std::string>());
      }
      shards.assign(files.begin(), files.end());
    } else {
      fail(dir.string(), ": no model.safetensors or model.safetensors.index.json");
    }
    src_.describe = (dir / shards.front()).string() + (shards.size() > 1 ? cat(" (and ", shards.size() - 1, " more shards)") : "");
    for (const auto& s : shards) {
      if (s.find('/') != std::string::npos || s.find("..") != std::string::npos)
        fail(index.string(), ": shard name '", s, "' is not a plain file name");
      m_.st_files_.push_back(std::make_unique<SafetensorsFile>((dir / s).string()));
      for (const auto& [name, t] : m_.st_files_.back()->tensors()) {
        if (src_.by_name.count(name)) fail(t.file, ": tensor '", name, "' also appears in ", src_.by_name[name]->file);
        src_.by_name[name] = &t;
      }
    }
  }

  std::vector<float> vec(const std::string& name, int64_t n) { return values(name, {n}); }

  // A float tensor of the given shape (norms, biases, sinks) as float32.
  std::vector<float> values(const std::string& name, const std::vector<int64_t>& shape) {
    const TensorInfo& t = src_.get(name);
    if (t.shape != shape) fail(t.file, ": tensor '", name, "': expected shape ", shape_str(shape), ", found ", shape_str(t.shape));
    if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
      fail(t.file, ": tensor '", name, "': dtype ", fare::name(t.dtype), " is not supported for a vector (F32, F16, BF16)");
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      if (t.dtype == DType::F32) std::memcpy(&out[i], t.data + 4 * i, 4);
      else {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = t.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
    }
    m_.weight_bytes += t.nbytes;
    return out;
  }

  WeightMatrix matrix(const std::string& name, int64_t rows, int64_t cols) {
    return stack(name, 1, rows, cols).front();
  }

  // A [count, rows, cols] tensor (count = 1: a [rows, cols] one) as `count` matrices: the experts
  // of a layer, stored one after the other.
  std::vector<WeightMatrix> stack(const std::string& name, int64_t count, int64_t rows, int64_t cols) {
    const TensorInfo& t = src_.get(name);
    const std::vector<int64_t> shape = count == 1 && t.shape.size() == 2 ? std::vector<int64_t>{rows, cols}
                                                                           : std::vector<int64_t>{count, rows, cols};
    if (t.shape != shape) fail(t.file, ": tensor '", name, "': expected shape ", shape_str(shape), ", found ", shape_str(t.shape));
    if (!is_matrix_type(t.dtype))
      fail(t.file, ": tensor '", name, "': dtype ", fare::name(t.dtype), " is not supported for a weight matrix");
    const auto& tr = traits(t.dtype);
    if (cols % tr.block_elems != 0)
      fail(t.file, ": tensor '", name, "': ", cols, " columns is not a multiple of the ", tr.name, " block size ", tr.block_elems);
    WeightMatrix w;
    w.type = t.dtype;
    w.rows = rows;
    w.cols = cols;
    w.data = t.data;
    w.row_stride = row_bytes(t.dtype, cols);
    FARE_CHECK(w.row_stride * static_cast<size_t>(rows * count) == t.nbytes, name);
    if (t.dtype == DType::F8_E4M3) {
      if (count != 1) fail(t.file, ": tensor '", name, "': FP8 experts are not supported");
      attach_fp8_scale(name, w);
    }
    m_.dtype_counts[std::string(tr.name)] += static_cast<int>(count);
    m_.weight_bytes += t.nbytes;
    std::vector<WeightMatrix> out(static_cast<size_t>(count), w);
    for (int64_t e = 0; e < count; ++e) out[static_cast<size_t>(e)].data = t.data + static_cast<size_t>(e * rows) * w.row_stride;
    return out;
  }

  void attach_fp8_scale(const std::string& name, WeightMatrix& w) {
    const std::string sname = name + "_scale_inv";
    const TensorInfo* s = src_.find(sname);
    if (!s) fail(src_.describe, ": FP8 tensor '", name, "' has no block scale '", sname, "'");
    const int64_t br = (w.rows + kFp8Block - 1) / kFp8Block, bc = (w.cols + kFp8Block - 1) / kFp8Block;
    if (s->shape != std::vector<int64_t>{br, bc})
      fail(s->file, ": tensor '", sname, "': expected shape [", br, ", ", bc, "] for 128x128 blocks of ", name, ", found ",
           shape_str(s->shape));
    if (s->dtype != DType::F32 && s->dtype != DType::BF16)
      fail(s->file, ": tensor '", sname, "': dtype ", fare::name(s->dtype), ", expected F32 or BF16");
    auto scales = std::make_unique<std::vector<float>>(static_cast<size_t>(br * bc));
    for (int64_t i = 0; i < br * bc; ++i) {
      if (s->dtype == DType::F32) std::memcpy(&(*scales)[i], s->data + 4 * i, 4);
      else {
        uint16_t h;
        std::memcpy(&h, s->data + 2 * i, 2);
        (*scales)[i] = bf16_to_f32(h);
      }
    }
    w.block_scale = scales->data();
    w.scale_cols = bc;
    m_.owned_.push_back(std::move(scales));
  }

  void load_weights() {
    const Config& c = m_.config;
    const bool hf = src_.hf_names;
    m_.tok_embd = matrix(hf ? "model.embed_tokens.weight" : "token_embd.weight", c.n_vocab, c.n_embd);
    if (m_.tok_embd.type == DType::F8_E4M3) fail(src_.describe, ": an FP8 token embedding is not supported");
    m_.layers.resize(static_cast<size_t>(c.n_layer));
    for (int i = 0; i < c.n_layer; ++i) {
      LayerWeights& l = m_.layers[static_cast<size_t>(i)];
      if (c.arch == Arch::GptOss) {
        load_gpt_oss_layer(i, l);
        continue;
      }
      auto name = [&](Part p) { return tensor_name(hf, i, p); };
      l.attn_norm = vec(name(Part::AttnNorm), c.n_embd);
      l.wq = matrix(name(Part::Q), c.q_dim(), c.n_embd);
      l.wk = matrix(name(Part::K), c.kv_dim(), c.n_embd);
      l.wv = matrix(name(Part::V), c.kv_dim(), c.n_embd);
      l.wo = matrix(name(Part::O), c.n_embd, c.q_dim());
      l.q_norm = vec(name(Part::QNorm), c.head_dim);
      l.k_norm = vec(name(Part::KNorm), c.head_dim);
      l.ffn_norm = vec(name(Part::FfnNorm), c.n_embd);
      l.w_gate = matrix(name(Part::Gate), c.n_ff, c.n_embd);
      l.w_up = matrix(name(Part::Up), c.n_ff, c.n_embd);
      l.w_down = matrix(name(Part::Down), c.n_embd, c.n_ff);
    }
    m_.output_norm = vec(hf ? "model.norm.weight" : "output_norm.weight", c.n_embd);
    const char* out_name = hf ? "lm_head.weight" : "output.weight";
    if (c.tie_embeddings) {
      m_.output = m_.tok_embd;
    } else {
      m_.output = matrix(out_name, c.n_vocab, c.n_embd);
    }
  }

  // A gpt-oss block: attention with biases and sinks, and the experts with their router.
  void load_gpt_oss_layer(int i, LayerWeights& l) {
    const Config& c = m_.config;
    const bool hf = src_.hf_names;
    const std::string p = hf ? cat("model.layers.", i, ".") : cat("blk.", i, ".");
    const char* attn = hf ? "self_attn." : "attn_";
    auto proj = [&](const char* x) { return hf ? p + attn + x + "_proj" : p + attn + (std::string(x) == "o" ? "output" : x); };
    l.attn_norm = vec(p + (hf ? "input_layernorm.weight" : "attn_norm.weight"), c.n_embd);
    l.wq = matrix(proj("q") + ".weight", c.q_dim(), c.n_embd);
    l.wk = matrix(proj("k") + ".weight", c.kv_dim(), c.n_embd);
    l.wv = matrix(proj("v") + ".weight", c.kv_dim(), c.n_embd);
    l.wo = matrix(proj("o") + ".weight", c.n_embd, c.q_dim());
    l.bq = vec(proj("q") + ".bias", c.q_dim());
    l.bk = vec(proj("k") + ".bias", c.kv_dim());
    l.bv = vec(proj("v") + ".bias", c.kv_dim());
    l.bo = vec(proj("o") + ".bias", c.n_embd);
    l.sinks = vec(p + (hf ? "self_attn.sinks" : "attn_sinks.weight"), c.n_head);
    l.ffn_norm = vec(p + "post_attention_" + (hf ? "layernorm.weight" : "norm.weight"), c.n_embd);
    const std::string router = p + (hf ? "mlp.router." : "ffn_gate_inp.");
    l.router = matrix(router + "weight", c.n_expert, c.n_embd);
    l.router_bias = vec(router + "bias", c.n_expert);
    if (hf) return load_hf_experts(p + "mlp.experts.", l);
    const int64_t E = c.n_expert, F = c.n_ff, D = c.n_embd;
    const auto gate = stack(p + "ffn_gate_exps.weight", E, F, D), up = stack(p + "ffn_up_exps.weight", E, F, D);
    const auto down = stack(p + "ffn_down_exps.weight", E, D, F);
    const auto gate_b = values(p + "ffn_gate_exps.bias", {E, F}), up_b = values(p + "ffn_up_exps.bias", {E, F});
    const auto down_b = values(p + "ffn_down_exps.bias", {E, D});
    l.experts.resize(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) {
      ExpertWeights& x = l.experts[static_cast<size_t>(e)];
      const auto u = static_cast<size_t>(e);
      x.gate = gate[u];
      x.up = up[u];
      x.down = down[u];
      x.gate_bias.assign(gate_b.begin() + e * F, gate_b.begin() + (e + 1) * F);
      x.up_bias.assign(up_b.begin() + e * F, up_b.begin() + (e + 1) * F);
      x.down_bias.assign(down_b.begin() + e * D, down_b.begin() + (e + 1) * D);
    }
  }

  // Hugging Face's gpt-oss experts: gate and up interleaved row by row in one gate_up_proj (gate
  // the even rows), as MXFP4 `_blocks` / `_scales` (the release) or dense [E, in, out] matrices
  // used as x @ W (a dequantized checkpoint). Either is copied once into ggml's row-major layout
  // (MXFP4 blocks regrouped by mxfp4_row_from_hf, dense ones transposed), gate and up apart.
  void load_hf_experts(const std::string& x, LayerWeights& l) {
    const Config& c = m_.config;
    const int64_t E = c.n_expert, F = c.n_ff, D = c.n_embd;
    const auto gu_bias = values(x + "gate_up_proj_bias", {E, 2 * F}), down_bias = values(x + "down_proj_bias", {E, D});
    const bool mxfp4 = src_.find(x + "gate_up_proj_blocks") != nullptr;
    // [E][rows][cols] for gate, up, down, in the type the kernels will read.
    const DType type = mxfp4 ? DType::MXFP4 : src_.get(x + "gate_up_proj").dtype;
    if (!mxfp4 && type != DType::BF16 && type != DType::F16 && type != DType::F32)
      fail(src_.describe, ": tensor '", x, "gate_up_proj': dtype ", fare::name(type), ", expected BF16, F16 or F32");
    if (F % 32 != 0 || D % 32 != 0) fail(src_.describe, ": gpt-oss widths ", D, " and ", F, " are not multiples of 32");
    const size_t in_row = row_bytes(type, D), down_row = row_bytes(type, F);
    const size_t expert_bytes = 2 * static_cast<size_t>(F) * in_row + static_cast<size_t>(D) * down_row;
    PageBuffer& buf = m_.owned_pages_.emplace_back(static_cast<size_t>(E) * expert_bytes);
    l.experts.resize(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) {
      ExpertWeights& xe = l.experts[static_cast<size_t>(e)];
      uint8_t* base = buf.data() + static_cast<size_t>(e) * expert_bytes;
      xe.gate = owned_matrix(type, F, D, base);
      xe.up = owned_matrix(type, F, D, base + static_cast<size_t>(F) * in_row);
      xe.down = owned_matrix(type, D, F, base + 2 * static_cast<size_t>(F) * in_row);
      const auto u = static_cast<size_t>(e);
      for (int64_t i = 0; i < F; ++i) {
        xe.gate_bias.push_back(gu_bias[u * 2 * F + 2 * i]);
        xe.up_bias.push_back(gu_bias[u * 2 * F + 2 * i + 1]);
      }
      xe.down_bias.assign(down_bias.begin() + e * D, down_bias.begin() + (e + 1) * D);
    }
    if (mxfp4) {
      copy_hf_mxfp4(x + "gate_up_proj", E, 2 * F, D, [&](int64_t e, int64_t r) {
        ExpertWeights& xe = l.experts[static_cast<size_t>(e)];
        return const_cast<uint8_t*>((r % 2 == 0 ? xe.gate : xe.up).row(r / 2));
      });
      copy_hf_mxfp4(x + "down_proj", E, D, F, [&](int64_t e, int64_t r) {
        return const_cast<uint8_t*>(l.experts[static_cast<size_t>(e)].down.row(r));
      });
    } else {
      copy_hf_dense(x + "gate_up_proj", type, E, D, 2 * F, [&](int64_t e, int64_t r) {
        ExpertWeights& xe = l.experts[static_cast<size_t>(e)];
        return const_cast<uint8_t*>((r % 2 == 0 ? xe.gate : xe.up).row(r / 2));
      });
      copy_hf_dense(x + "down_proj", type, E, F, D, [&](int64_t e, int64_t r) {
        return const_cast<uint8_t*>(l.experts[static_cast<size_t>(e)].down.row(r));
      });
    }
    m_.dtype_counts[std::string(traits(type).name)] += static_cast<int>(3 * E);
  }

  static WeightMatrix owned_matrix(DType type, int64_t rows, int64_t cols, uint8_t* data) {
    WeightMatrix w;
    w.type = type;
    w.rows = rows;
    w.cols = cols;
    w.data = data;
    w.row_stride = row_bytes(type, cols);
    return w;
  }

  // `name`_blocks [E, rows, cols / 32, 16] and `name`_scales [E, rows, cols / 32] (U8), row r of
  // expert e to dst(e, r) as ggml blocks.
  template <class Dst>
  void copy_hf_mxfp4(const std::string& name, int64_t E, int64_t rows, int64_t cols, Dst dst) {
    const int64_t nb = cols / 32;
    const TensorInfo& b = u8_tensor(name + "_blocks", {E, rows, nb, 16});
    const TensorInfo& s = u8_tensor(name + "_scales", {E, rows, nb});
    for (int64_t e = 0; e < E; ++e)
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = e * rows + r;
        mxfp4_row_from_hf(b.data + i * nb * 16, s.data + i * nb, nb, dst(e, r));
      }
    m_.weight_bytes += b.nbytes + s.nbytes;
  }

  // `name` [E, in, out] used as x @ W: column j of expert e is row j of the matrix.
  template <class Dst>
  void copy_hf_dense(const std::string& name, DType type, int64_t E, int64_t in, int64_t out, Dst dst) {
    const TensorInfo& t = src_.get(name);
    if (t.shape != std::vector<int64_t>{E, in, out})
      fail(t.file, ": tensor '", name, "': expected shape ", shape_str({E, in, out}), ", found ", shape_str(t.shape));
    if (t.dtype != type) fail(t.file, ": tensor '", name, "': dtype ", fare::name(t.dtype), ", expected ", fare::name(type));
    const size_t es = row_bytes(type, 1);
    for (int64_t e = 0; e < E; ++e)
      for (int64_t j = 0; j < out; ++j) {
        uint8_t* row = dst(e, j);
        for (int64_t k = 0; k < in; ++k)
          std::memcpy(row + k * es, t.data + ((e * in + k) * out + j) * static_cast<int64_t>(es), es);
      }
    m_.weight_bytes += t.nbytes;
  }

  const TensorInfo& u8_tensor(const std::string& name, const std::vector<int64_t>& shape) {
    const TensorInfo& t = src_.get(name);
    if (t.dtype != DType::U8 && t.dtype != DType::I8)
      fail(t.file, ": tensor '", name, "': dtype ", fare::name(t.dtype), ", expected U8 (MXFP4 blocks or scales)");
    if (t.shape != shape) fail(t.file, ": tensor '", name, "': expected shape ", shape_str(shape), ", found ", shape_str(t.shape));
    return t;
  }

  void set_chat_template(const std::string& source) {
    try {
      m_.chat_template.emplace(source);
    } catch (const Error& e) {
      m_.chat_template_error = e.what();
    }
  }

  void load_hf_tokenizer_and_chat(const fs::path& dir) {
    const fs::path tj = dir / "tokenizer.json";
    if (!fs::exists(tj)) fail(dir.string(), ": no tokenizer.json");
    m_.tokenizer.emplace(load_hf_tokenizer(tj.string()));
    // Newer releases keep the template in its own file; older ones inside tokenizer_config.json.
    const fs::path jinja = dir / "chat_template.jinja";
    const fs::path tc = dir / "tokenizer_config.json";
    if (fs::exists(jinja)) {
      std::ifstream in(jinja, std::ios::binary);
      set_chat_template(std::string(std::istreambuf_iterator<char>(in), {}));
    } else if (fs::exists(tc)) {
      const json j = read_json_file(tc.string());
      const json* t = j.contains("chat_template") ? &j["chat_template"] : nullptr;
      if (t && t->is_string()) set_chat_template(t->get<std::string>());
      else if (t && t->is_array()) {
        for (const auto& e : *t)
          if (e.value("name", "") == "default" && e.contains("template")) set_chat_template(e["template"].get<std::string>());
      }
      if (!m_.chat_template && m_.chat_template_error.empty())
        m_.chat_template_error = tc.string() + ": no chat_template";
    } else {
      m_.chat_template_error = dir.string() + ": no tokenizer_config.json or chat_template.jinja";
    }
  }

  void add_eos(const json& v, const std::string& where) {
    if (v.is_number_integer()) m_.eos_ids.push_back(v.get<int32_t>());
    else if (v.is_array()) {
      for (const auto& e : v) {
        if (!e.is_number_integer()) fail(where, ": eos_token_id entry ", e.dump(), " is not an integer");
        m_.eos_ids.push_back(e.get<int32_t>());
      }
    } else if (!v.is_null()) {
      fail(where, ": eos_token_id ", v.dump(), " is not an integer or a list of integers");
    }
  }

  void load_hf_eos(const fs::path& dir) {
    // generation_config.json is what generate() uses in Hugging Face; config.json is the fallback.
    for (const fs::path& p : {dir / "generation_config.json", dir / "config.json"}) {
      if (!fs::exists(p)) continue;
      const json j = read_json_file(p.string());
      if (j.contains("eos_token_id")) add_eos(j["eos_token_id"], p.string());
      if (!m_.eos_ids.empty()) break;
    }
    if (m_.eos_ids.empty() && m_.tokenizer->spec().eos) m_.eos_ids.push_back(*m_.tokenizer->spec().eos);
    add_harmony_eos();
    finish_eos();
  }

  void load_gguf_eos(const GgufFile& g) {
    for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"})
      if (g.has(key)) m_.eos_ids.push_back(static_cast<int32_t>(g.get_int(key)));
    // GGUF has one eos id; Qwen's generation config also stops at <|endoftext|>, which GGUF
    // files mark only as a control token. Stop there too, as llama.cpp does.
    if (auto id = m_.tokenizer->find("<|endoftext|>"); id && m_.tokenizer->is_special(*id)) m_.eos_ids.push_back(*id);
    add_harmony_eos();
    finish_eos();
  }

  // gpt-oss (harmony) ends a turn with <|return|> (its answer is done) or <|call|> (a tool call
  // waits for its result), as its generation_config.json says ([200002, 199999, 200012]); a GGUF
  // names one of them at most. With a harmony template, stop at both wherever they are special.
  void add_harmony_eos() {
    if (!m_.chat_template || m_.chat_template->family() != "harmony") return;
    for (const char* text : {"<|return|>", "<|call|>"})
      if (auto id = m_.tokenizer->find(text); id && m_.tokenizer->is_special(*id)) m_.eos_ids.push_back(*id);
  }

  void finish_eos() {
    std::sort(m_.eos_ids.begin(), m_.eos_ids.end());
    m_.eos_ids.erase(std::unique(m_.eos_ids.begin(), m_.eos_ids.end()), m_.eos_ids.end());
    for (int32_t id : m_.eos_ids)
      if (id < 0 || id >= m_.config.n_vocab)
        fail(m_.path, ": end-of-generation id ", id, " is outside the vocabulary [0, ", m_.config.n_vocab, ")");
    if (m_.tokenizer->n_vocab() > m_.config.n_vocab)
      fail(m_.path, ": tokenizer has ", m_.tokenizer->n_vocab(), " tokens but the embedding only ", m_.config.n_vocab, " rows");
  }
};

Model::Model() = default;
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& path, const Compute* pack_for, bool pack_all) {
  std::shared_ptr<Model> m(new Model());
  ModelLoader(*m).load(path);
  if (pack_for != nullptr) m->pack(*pack_for, pack_all);
  return m;
}

}  // namespace fare
