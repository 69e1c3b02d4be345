#include "convert/random_weights.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <sstream>

#include "common/error.h"
#include "common/half.h"

namespace fare {

namespace {

Config fare_8b() {
  Config c;
  c.architecture = "qwen3";
  c.n_layer = 36;
  c.n_embd = 4096;
  c.n_head = 32;
  c.n_head_kv = 8;
  c.head_dim = 128;
  c.n_ff = 12288;
  c.n_vocab = 151936;
  c.n_ctx_train = 40960;
  c.rms_eps = 1e-6f;
  c.rope_theta = 1e6;
  c.tie_embeddings = false;
  return c;
}

// gpt-oss-20b (FARE-20B's base): 24 blocks of 64 query / 8 KV heads of 64, 32 experts of 2880
// (4 per token), a window of 128 on the even layers, YaRN x32 over 4096 positions.
Config fare_20b() {
  Config c;
  c.architecture = "gpt-oss";
  c.arch = Arch::GptOss;
  c.n_layer = 24;
  c.n_embd = 2880;
  c.n_head = 64;
  c.n_head_kv = 8;
  c.head_dim = 64;
  c.n_ff = 2880;
  c.n_vocab = 201088;
  c.n_ctx_train = 131072;
  c.rms_eps = 1e-5f;
  c.rope_theta = 150000;
  c.tie_embeddings = false;
  c.n_expert = 32;
  c.n_expert_used = 4;
  c.sliding_window = 128;
  c.swiglu_limit = 7.0f;
  c.yarn = {32, 4096, 32, 1, false};
  return c;
}

constexpr const char* kKeys =
    "layers, hidden, heads, kv_heads, head_dim, ff, vocab, ctx, tied, rope_theta, eps, experts, experts_used, window";

double parse_number(const std::string& spec, const std::string& key, const std::string& text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end)
    fail("--random-weights '", spec, "': ", key, "='", text, "' is not a number");
  return v;
}

int parse_int(const std::string& spec, const std::string& key, const std::string& text) {
  const double v = parse_number(spec, key, text);
  if (v != std::floor(v) || v < 0 || v > (1 << 30))
    fail("--random-weights '", spec, "': ", key, "=", text, " is not a whole number in [0, 2^30]");
  return static_cast<int>(v);
}

void apply(Config& c, const std::string& spec, const std::string& key, const std::string& value) {
  if (key == "layers") c.n_layer = parse_int(spec, key, value);
  else if (key == "hidden") c.n_embd = parse_int(spec, key, value);
  else if (key == "heads") c.n_head = parse_int(spec, key, value);
  else if (key == "kv_heads") c.n_head_kv = parse_int(spec, key, value);
  else if (key == "head_dim") c.head_dim = parse_int(spec, key, value);
  else if (key == "ff") c.n_ff = parse_int(spec, key, value);
  else if (key == "vocab") c.n_vocab = parse_int(spec, key, value);
  else if (key == "ctx") c.n_ctx_train = parse_int(spec, key, value);
  else if (key == "tied") {
    const int v = parse_int(spec, key, value);
    if (v > 1) fail("--random-weights '", spec, "': tied=", value, ", expected 0 or 1");
    c.tie_embeddings = v == 1;
  } else if (key == "rope_theta") c.rope_theta = parse_number(spec, key, value);
  else if (key == "eps") c.rms_eps = static_cast<float>(parse_number(spec, key, value));
  else if (c.arch == Arch::GptOss && key == "experts") c.n_expert = parse_int(spec, key, value);
  else if (c.arch == Arch::GptOss && key == "experts_used") c.n_expert_used = parse_int(spec, key, value);
  else if (c.arch == Arch::GptOss && key == "window") c.sliding_window = parse_int(spec, key, value);
  else fail("--random-weights '", spec, "': unknown shape key '", key, "' (expected one of: ", kKeys, ")");
}

// splitmix64's finaliser: a strong 64-bit mix, so consecutive counters give independent bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Sum of four 16-bit uniforms, centred and scaled to unit variance (Irwin-Hall, |x| <= 3.46).
inline float near_normal(uint64_t bits) {
  float s = 0.0f;
  for (int k = 0; k < 4; ++k, bits >>= 16) s += static_cast<float>(bits & 0xffff);
  constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(3) / 2^16
  return (s - 2.0f * 65535.0f) * kScale;
}

// The BF16 value the weight files store; tiny values are 0 so that F16 holds them exactly too.
inline float to_stored(float v) {
  const float r = bf16_to_f32(f32_to_bf16(v));
  return std::fabs(r) < 1.52587890625e-05f ? 0.0f : r;  // 2^-16
}

class RandomSource : public WeightSource {
 public:
  // Norms 1 + 0.1 N(0,1), biases 0.1 N(0,1), sinks N(0,1), the embedding N(0,1), every other
  // matrix N(0,1) / sqrt(its width).
  RandomSource(const Config& c, uint64_t seed) : config_(c), tensors_(model_tensors(c)) {
    for (size_t k = 0; k < tensors_.size(); ++k) {
      SourceTensor& t = tensors_[k];
      t.stored = DType::BF16;
      keys_.push_back(mix64(seed * 0x9e3779b97f4a7c15ull + mix64(k + 1)));
      const bool bias = t.name.ends_with(".bias"), sinks = t.name.ends_with("attn_sinks.weight");
      const bool norm = t.is_vector() && !bias && !sinks;
      const bool embd = t.name == "token_embd.weight";
      bias_.push_back(norm ? 1.0f : 0.0f);
      scale_.push_back(norm || bias ? 0.1f : embd || sinks ? 1.0f : 1.0f / std::sqrt(static_cast<float>(t.cols())));
    }
  }

  const Config& config() const override { return config_; }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }
  std::string describe() const override { return "random weights"; }

  void read_rows(size_t k, int64_t r0, int64_t r1, float* dst) const override {
    const int64_t cols = tensors_[k].cols();
    const uint64_t key = keys_[k];
    const float bias = bias_[k], scale = scale_[k];
    const auto first = static_cast<uint64_t>(r0 * cols), n = static_cast<uint64_t>((r1 - r0) * cols);
    for (uint64_t i = 0; i < n; ++i) dst[i] = to_stored(bias + scale * near_normal(mix64(key + first + i)));
  }

 private:
  Config config_;
  std::vector<SourceTensor> tensors_;
  std::vector<uint64_t> keys_;
  std::vector<float> bias_, scale_;
};

}  // namespace

Config parse_shape(const std::string& spec) {
  Config c = fare_8b();
  std::stringstream ss(spec);
  std::string item;
  bool first = true;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      if (first && (item == "fare-20b" || item == "gpt-oss-20b")) c = fare_20b();
      else if (!first || (item != "fare-8b" && item != "qwen3-8b"))
        fail("--random-weights '", spec, "': '", item,
             "' is neither a known shape (fare-8b, qwen3-8b, fare-20b, gpt-oss-20b) nor key=value");
    } else {
      apply(c, spec, item.substr(0, eq), item.substr(eq + 1));
    }
    first = false;
  }
  if (c.arch == Arch::GptOss) {  // the even layers slide, whatever the number of layers
    c.sliding.assign(static_cast<size_t>(std::max(c.n_layer, 0)), false);
    for (size_t l = 0; l < c.sliding.size(); l += 2) c.sliding[l] = true;
  }
  c.validate("--random-weights '" + spec + "'");
  return c;
}

std::unique_ptr<WeightSource> random_source(const Config& c, uint64_t seed) {
  return std::make_unique<RandomSource>(c, seed);
}

}  // namespace fare
