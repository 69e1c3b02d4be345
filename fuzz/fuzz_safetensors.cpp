// Safetensors files and shard indexes (io/safetensors.h; model/loader.cpp reads the index).
// Byte 0 even: the rest is a .safetensors file, opened with SafetensorsFile. A file that opens
// must describe only bytes inside it: every tensor's range lies in the data section, holds
// exactly what its dtype and shape need, and overlaps no other.
// Byte 0 odd: the rest is model.safetensors.index.json in a model folder beside the micro
// fixture's config and tokenizer and two shards (the micro model's weights, and a small file of
// one extra tensor); Model::load reads the index, opens the shards it names and loads.
#include <algorithm>
#include <cstring>

#include "fuzz_util.h"
#include "io/safetensors.h"
#include "model/model.h"

namespace {

namespace fs = std::filesystem;

void check_file(const fare::SafetensorsFile& f, const std::string& bytes) {
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const size_t data_size = bytes.size() - 8 - n;
  std::vector<std::pair<const uint8_t*, size_t>> ranges;
  for (const auto& [name, t] : f.tensors()) {
    FUZZ_CHECK(name == t.name);
    FUZZ_CHECK(fare::traits(t.dtype).block_elems == 1, "a block type in a safetensors file");
    uint64_t numel = 1;
    bool zero = false;
    for (int64_t d : t.shape) {
      FUZZ_CHECK(d >= 0, "negative dimension");
      zero |= d == 0;
      if (!zero) FUZZ_CHECK(!__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel), "element count overflows");
    }
    if (zero) numel = 0;
    FUZZ_CHECK(t.nbytes == numel * static_cast<uint64_t>(fare::traits(t.dtype).block_bytes), name, ": ", t.nbytes, " bytes");
    FUZZ_CHECK(t.nbytes <= data_size, name, ": ", t.nbytes, " bytes in a data section of ", data_size);
    if (t.nbytes == 0) continue;
    // The first and last byte are readable (ASan stops on anything outside the mapping).
    volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];
    (void)first;
    (void)last;
    ranges.emplace_back(t.data, t.nbytes);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 0; k < ranges.size(); ++k) {
    if (k > 0) FUZZ_CHECK(ranges[k - 1].first + ranges[k - 1].second <= ranges[k].first, "tensor data overlaps");
    FUZZ_CHECK(static_cast<size_t>(ranges[k].first + ranges[k].second - ranges[0].first) <= data_size,
               "tensor data spans more than the data section");
  }
}

struct ModelDir {
  fs::path dir;
  fs::path index;
};

const ModelDir& model_dir() {
  static const ModelDir m = [] {
    ModelDir d;
    d.dir = fare::fuzz::scratch_dir() / "model";
    fs::create_directories(d.dir);
    for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"})
      fs::create_symlink(fare::fuzz::fixture(std::string("micro-qwen3/hf-bf16/") + f), d.dir / f);
    fs::create_symlink(fare::fuzz::fixture("micro-qwen3/hf-bf16/model.safetensors"), d.dir / "model-00001-of-00002.safetensors");
    fare::write_safetensors((d.dir / "model-00002-of-00002.safetensors").string(),
                            {{"extra.weight", fare::DType::F32, {2}, std::vector<uint8_t>(8, 0)}});
    d.index = d.dir / "model.safetensors.index.json";
    return d;
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string rest(fare::fuzz::as_text(data + 1, size - 1));
  if (data[0] % 2 == 0) {
    const fs::path path = fare::fuzz::scratch_dir() / "x.safetensors";
    fare::fuzz::write_file(path, rest);
    std::optional<fare::SafetensorsFile> f;
    if (fare::fuzz::expect_only_errors([&] { f.emplace(path.string()); })) check_file(*f, rest);
    return 0;
  }
  const ModelDir& m = model_dir();
  fare::fuzz::write_file(m.index, rest);
  std::shared_ptr<const fare::Model> model;
  if (fare::fuzz::expect_only_errors([&] { model = fare::Model::load(m.dir.string()); })) {
    FUZZ_CHECK(model->config.n_layer == 2 && model->layers.size() == 2, "the micro model loaded with ", model->layers.size(), " layers");
  }
  return 0;
}
