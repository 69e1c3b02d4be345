#include "convert/convert.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/thread_pool.h"
#include "convert/gguf_metadata.h"
#include "convert/quant_recipe.h"
#include "convert/random_weights.h"
#include "convert/weight_source.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "ops/quantize.h"

namespace fare {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

constexpr int64_t kChunkValues = int64_t{1} << 20;  // rows per chunk: about 4 MB of floats

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

int layer_of(const std::string& gguf_name) {
  if (gguf_name.rfind("blk.", 0) != 0) return -1;
  return std::stoi(gguf_name.substr(4));
}

// Tensor k of `src` encoded as `dtype`: chunks of rows, each decoded and encoded on the pool.
TensorProducer encode_rows(const WeightSource& src, size_t k, DType dtype, ThreadPool& pool) {
  return [&src, k, dtype, &pool](const ByteSink& sink) {
    const SourceTensor& t = src.tensors()[k];
    const int64_t rows = t.rows(), cols = t.cols();
    const size_t rb = row_bytes(dtype, cols);
    const int64_t chunk = std::max<int64_t>(1, kChunkValues / cols);
    std::vector<uint8_t> out(static_cast<size_t>(std::min(chunk, rows)) * rb);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      pool.parallel_for(n, 1, [&](int64_t a, int64_t b) {
        std::vector<float> x(static_cast<size_t>((b - a) * cols));
        src.read_rows(k, r0 + a, r0 + b, x.data());
        for (int64_t r = a; r < b; ++r) quantize_row(dtype, x.data() + (r - a) * cols, out.data() + r * rb, cols);
      });
      sink(out.data(), static_cast<size_t>(n) * rb);
    }
  };
}

void log_tensor(const ConvertOptions& o, size_t k, size_t n, const SourceTensor& t, DType dtype) {
  if (o.log) o.log(cat("[", k + 1, "/", n, "] ", t.name, " ", shape_str(t.shape), " ", name(t.stored), " -> ", name(dtype)));
}

struct Input {
  std::unique_ptr<WeightSource> source;
  std::unique_ptr<GgufFile> gguf;  // a GGUF input: its metadata is carried over
  std::string tokenizer_dir;       // otherwise: where the tokenizer comes from
  std::string name;                // general.name
};

Input open_input(const ConvertOptions& o) {
  Input in;
  if (!o.random_shape.empty()) {
    if (!o.input.empty()) fail("give either an input model or --random-weights, not both");
    in.source = random_source(parse_shape(o.random_shape), o.seed);
    in.tokenizer_dir = o.tokenizer_dir;
    in.name = cat("random-", o.random_shape, "-seed", o.seed);
    if (in.tokenizer_dir.empty()) fail("random weights need a tokenizer folder (--tokenizer DIR)");
    return in;
  }
  if (o.input.empty()) fail("no input model given");
  if (!fs::exists(o.input)) fail(o.input, ": no such file or directory");
  if (fs::is_directory(o.input)) {
    in.source = open_hf_source(o.input);
    in.tokenizer_dir = o.input;
    in.name = fs::path(o.input).lexically_normal().filename().string();
    if (in.name.empty()) in.name = fs::path(o.input).lexically_normal().parent_path().filename().string();
  } else if (ends_with(o.input, ".gguf")) {
    in.gguf = std::make_unique<GgufFile>(o.input);
    in.source = open_gguf_source(o.input);
  } else {
    fail(o.input, ": not a Hugging Face model directory or a .gguf file");
  }
  return in;
}

void write_gguf(const ConvertOptions& o, Input& in, OutputType type, ThreadPool& pool, ConvertSummary& sum) {
  const WeightSource& src = *in.source;
  const Config& c = src.config();
  GgufWriter w;
  if (in.gguf) {
    for (const auto& [key, value] : in.gguf->metadata())
      if (key != "general.alignment") w.set_value(key, value);
    w.set_u32("general.file_type", llama_file_type(type));
    w.set_u32("general.quantization_version", 2);
  } else {
    set_model_metadata(w, c, in.name, llama_file_type(type));
    set_tokenizer_metadata(w, read_tokenizer_files(in.tokenizer_dir), c.n_vocab);
  }
  const auto& tensors = src.tensors();
  for (size_t k = 0; k < tensors.size(); ++k) {
    const SourceTensor& t = tensors[k];
    const DType dt = tensor_type(type, t.name, t.shape, layer_of(t.name), c.n_layer, c.tie_embeddings);
    if (!t.is_vector()) sum.matrix_types[std::string(name(dt))]++;
    sum.tensor_bytes += static_cast<uint64_t>(t.rows()) * row_bytes(dt, t.cols());
    TensorProducer encode = encode_rows(src, k, dt, pool);
    w.add_tensor(t.name, dt, t.shape, [&o, k, n = tensors.size(), &t, dt, encode](const ByteSink& sink) {
      log_tensor(o, k, n, t, dt);
      encode(sink);
    });
  }
  // Written under a temporary name first: an interrupted run never leaves a plausible file.
  const std::string part = o.output + ".part";
  try {
    w.write(part);
  } catch (...) {
    fs::remove(part);
    throw;
  }
  fs::rename(part, o.output);
  sum.n_tensors = tensors.size();
}

json hf_config(const Config& c, const TokenizerSpec& tok, const std::string& torch_dtype) {
  json j = {
      {"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"},
      {"hidden_size", c.n_embd}, {"intermediate_size", c.n_ff}, {"num_hidden_layers", c.n_layer},
      {"num_attention_heads", c.n_head}, {"num_key_value_heads", c.n_head_kv}, {"head_dim", c.head_dim},
      {"vocab_size", c.n_vocab}, {"max_position_embeddings", c.n_ctx_train}, {"rms_norm_eps", c.rms_eps},
      {"rope_theta", c.rope_theta}, {"rope_scaling", nullptr}, {"tie_word_embeddings", c.tie_embeddings},
      {"hidden_act", "silu"}, {"attention_bias", false}, {"attention_dropout", 0.0},
      {"use_sliding_window", false}, {"sliding_window", nullptr}, {"max_window_layers", c.n_layer},
      {"torch_dtype", torch_dtype}, {"use_cache", true},
  };
  if (tok.eos) j["eos_token_id"] = *tok.eos;
  return j;
}

// Qwen's generation config stops at <|im_end|> and <|endoftext|>.
json hf_generation_config(const TokenizerSpec& tok) {
  json eos = json::array();
  if (tok.eos) eos.push_back(*tok.eos);
  for (const AddedToken& a : tok.added)
    if (a.content == "<|endoftext|>" && (!tok.eos || a.id != *tok.eos)) eos.push_back(a.id);
  json j = {{"eos_token_id", eos}};
  if (tok.pad) j["pad_token_id"] = *tok.pad;
  return j;
}

void write_hf(const ConvertOptions& o, Input& in, OutputType type, ThreadPool& pool, ConvertSummary& sum) {
  if (!in.source || o.random_shape.empty())
    fail(o.output, ": a Hugging Face directory is written only for --random-weights (give an output ending in .gguf)");
  if (type != OutputType::F32 && type != OutputType::F16 && type != OutputType::BF16)
    fail("a Hugging Face directory holds f32, f16 or bf16 weights, not ", output_type_name(type));
  const DType dt = type == OutputType::F32 ? DType::F32 : type == OutputType::F16 ? DType::F16 : DType::BF16;
  const WeightSource& src = *in.source;
  if (src.config().arch == Arch::GptOss)
    fail(o.output, ": a gpt-oss model is written only as GGUF (give an output ending in .gguf)");
  const TokenizerFiles tok = read_tokenizer_files(in.tokenizer_dir);
  fs::create_directories(o.output);
  const fs::path dir(o.output);
  // Shards in file order, each closed before it would pass shard_bytes.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t in_shard = 0;
  for (size_t k = 0; k < src.tensors().size(); ++k) {
    const SourceTensor& t = src.tensors()[k];
    const uint64_t bytes = static_cast<uint64_t>(t.rows()) * row_bytes(dt, t.cols());
    if (in_shard > 0 && in_shard + bytes > o.shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(k);
    in_shard += bytes;
    sum.tensor_bytes += bytes;
    if (!t.is_vector()) sum.matrix_types[std::string(name(dt))]++;
  }
  json weight_map = json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string file = shards.size() == 1 ? "model.safetensors"
                                                : cat("model-", std::string(5 - std::to_string(s + 1).size(), '0'), s + 1,
                                                      "-of-", std::string(5 - std::to_string(shards.size()).size(), '0'),
                                                      shards.size(), ".safetensors");
    std::vector<TensorToStream> list;
    for (size_t k : shards[s]) {
      const SourceTensor& t = src.tensors()[k];
      TensorProducer encode = encode_rows(src, k, dt, pool);
      list.push_back({t.hf_name, dt, t.shape, [&o, k, n = src.tensors().size(), &t, dt, encode](const ByteSink& sink) {
                        log_tensor(o, k, n, t, dt);
                        encode(sink);
                      }});
      weight_map[t.hf_name] = file;
    }
    write_safetensors((dir / file).string(), list, {{"format", "pt"}});
  }
  if (shards.size() > 1)
    std::ofstream(dir / "model.safetensors.index.json")
        << json{{"metadata", {{"total_size", sum.tensor_bytes}}}, {"weight_map", weight_map}}.dump(2) << "\n";
  const std::string torch_dtype = dt == DType::F32 ? "float32" : dt == DType::F16 ? "float16" : "bfloat16";
  std::ofstream(dir / "config.json") << hf_config(src.config(), tok.spec, torch_dtype).dump(2) << "\n";
  std::ofstream(dir / "generation_config.json") << hf_generation_config(tok.spec).dump(2) << "\n";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"})
    if (fs::exists(fs::path(tok.dir) / f)) {
      fs::copy_file(fs::path(tok.dir) / f, dir / f, fs::copy_options::overwrite_existing);
      // The source may be read-only (a shared fixtures folder); the copy belongs to the model.
      fs::permissions(dir / f, fs::perms::owner_write, fs::perm_options::add);
    }
  sum.n_tensors = src.tensors().size();
}

}  // namespace

ConvertSummary convert_model(const ConvertOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.output.empty()) fail("no output path given");
  const OutputType type = parse_output_type(o.type);
  if (!o.input.empty() && fs::exists(o.output) && fs::equivalent(o.input, o.output))
    fail(o.output, ": the output would overwrite the input");
  Input in = open_input(o);
  ThreadPool pool(o.n_threads > 0 ? o.n_threads : ThreadPool::default_threads());
  ConvertSummary sum;
  sum.output = o.output;
  if (ends_with(o.output, ".gguf")) write_gguf(o, in, type, pool, sum);
  else write_hf(o, in, type, pool, sum);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace fare
