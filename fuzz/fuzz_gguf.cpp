// GGUF files (io/gguf.h): the input is the file. GgufFile reads the header, the metadata and the
// tensor table; a file that opens must describe only bytes inside it (each tensor's range in the
// file, sized exactly for its type and shape, overlapping no other). Then what the model loader
// reads from it: the Qwen3 config (config_from_gguf), the tokenizer (load_gguf_tokenizer and the
// Tokenizer it builds), and, where those load, the whole model (Model::load: every tensor by name
// with its dtype and shape checked, the chat template, the end-of-generation ids).
#include <algorithm>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "model/config.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {

using fare::fuzz::expect_only_errors;

void check_tensors(const fare::GgufFile& g, size_t file_size) {
  std::vector<std::pair<const uint8_t*, size_t>> ranges;
  for (const auto& [name, t] : g.tensors()) {
    FUZZ_CHECK(name == t.name && !name.empty());
    FUZZ_CHECK(!t.shape.empty() && t.shape.size() <= 4, name);
    const auto& tr = fare::traits(t.dtype);
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      FUZZ_CHECK(d > 0, name, ": dimension ", d);
      FUZZ_CHECK(!__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel), name, ": element count overflows");
    }
    FUZZ_CHECK(t.shape.back() % tr.block_elems == 0, name);
    FUZZ_CHECK(t.nbytes == numel / tr.block_elems * tr.block_bytes, name, ": ", t.nbytes, " bytes for ", numel, " values");
    FUZZ_CHECK(t.nbytes <= file_size, name);
    volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];  // ASan checks both are mapped
    (void)first;
    (void)last;
    ranges.emplace_back(t.data, t.nbytes);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k)
    FUZZ_CHECK(ranges[k - 1].first + ranges[k - 1].second <= ranges[k].first, "tensor data overlaps");
  FUZZ_CHECK(g.alignment() > 0 && (g.alignment() & (g.alignment() - 1)) == 0, g.alignment());
}

// The typed getters on every key: a value of another type is an Error, never anything else.
void read_all_keys(const fare::GgufFile& g) {
  for (const auto& kv : g.metadata()) {
    const std::string& key = kv.first;
    expect_only_errors([&] { (void)g.get_string(key); });
    expect_only_errors([&] { (void)g.get_int(key); });
    expect_only_errors([&] { (void)g.get_float(key); });
    expect_only_errors([&] { (void)g.get_bool(key); });
    expect_only_errors([&] { (void)g.get_string_array(key); });
    expect_only_errors([&] { (void)g.get_int_array(key); });
    expect_only_errors([&] { (void)g.get_float_array(key); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = (fare::fuzz::scratch_dir() / "x.gguf").string();
  fare::fuzz::write_file(path, fare::fuzz::as_text(data, size));
  std::optional<fare::GgufFile> g;
  if (!expect_only_errors([&] { g.emplace(path); })) return 0;
  check_tensors(*g, size);
  read_all_keys(*g);
  const bool config_ok = expect_only_errors([&] { (void)fare::config_from_gguf(*g); });
  bool tokenizer_ok = false;
  fare::TokenizerSpec spec;
  if (expect_only_errors([&] { spec = fare::load_gguf_tokenizer(*g); }))
    tokenizer_ok = expect_only_errors([&] { fare::Tokenizer tok(std::move(spec)); (void)tok.encode("Hello <|im_end|>", true); });
  if (config_ok && tokenizer_ok) {
    std::shared_ptr<const fare::Model> model;
    if (expect_only_errors([&] { model = fare::Model::load(path); })) {
      FUZZ_CHECK(model->tokenizer.has_value());
      FUZZ_CHECK(static_cast<int>(model->layers.size()) == model->config.n_layer);
      for (int32_t id : model->eos_ids) FUZZ_CHECK(id >= 0 && id < model->tokenizer->n_vocab(), "eos id ", id);
    }
  }
  return 0;
}
