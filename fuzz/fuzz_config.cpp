// Model configuration: a Hugging Face config.json (model/config.h, config_from_hf_json). The input
// is the file. A config that loads is validated: its derived widths (q_dim, kv_dim, the grouping of
// query heads) must be computable without overflow, as the loader multiplies them into tensor shapes.
#include <climits>

#include "fuzz_util.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = (fare::fuzz::scratch_dir() / "config.json").string();
  fare::fuzz::write_file(path, fare::fuzz::as_text(data, size));
  fare::Config c;
  if (!fare::fuzz::expect_only_errors([&] { c = fare::config_from_hf_json(path); })) return 0;
  FUZZ_CHECK(c.architecture == "qwen3");
  for (long v : {c.n_layer, c.n_embd, c.n_head, c.n_head_kv, c.head_dim, c.n_ff, c.n_vocab, c.n_ctx_train})
    FUZZ_CHECK(v > 0, v);
  FUZZ_CHECK(c.n_head % c.n_head_kv == 0);
  FUZZ_CHECK(int64_t{c.n_head} * c.head_dim <= INT_MAX, "q_dim ", c.n_head, " x ", c.head_dim, " overflows int");
  FUZZ_CHECK(c.rms_eps > 0 && c.rope_theta > 0);
  (void)c.q_dim();
  (void)c.kv_dim();
  (void)c.group();
  return 0;
}
