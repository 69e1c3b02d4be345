// fare convert / fare quantize: Hugging Face, GGUF or random weights to GGUF (or, for random
// weights, a Hugging Face directory). The work is in src/convert; this file only maps flags.
#include <cstdio>

#include "apps/cli/commands.h"
#include "common/error.h"
#include "convert/convert.h"

namespace fare::cli {

namespace {

constexpr const char* kTypes = "f32, f16, bf16, q8_0, q4_0, q4_k_m, q6_k";

void run(const ConvertOptions& o, bool quiet) {
  ConvertOptions opts = o;
  if (!quiet) opts.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const ConvertSummary s = convert_model(opts);
  std::string types;
  for (const auto& [t, n] : s.matrix_types) types += " " + t + " x" + std::to_string(n);
  std::fprintf(stderr, "wrote %s: %zu tensors, %.1f MiB of tensor data (matrices:%s) in %.1f s\n", s.output.c_str(),
               s.n_tensors, static_cast<double>(s.tensor_bytes) / (1 << 20), types.c_str(), s.seconds);
}

}  // namespace

void register_convert(CLI::App& app) {
  struct Args {
    ConvertOptions opts;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  a->opts.tokenizer_dir = FARE_DEFAULT_TOKENIZER_DIR;
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Hugging Face safetensors (BF16/F16/F32/FP8, one file or shards) -> GGUF; or a random-weight model of any Qwen3 shape");
  auto* model = cmd->add_option("-m,--model", a->opts.input, "Hugging Face model directory");
  cmd->add_option("-o,--output", a->opts.output,
                  "OUT.gguf; with --random-weights, a path not ending in .gguf writes a Hugging Face directory")
      ->required();
  cmd->add_option("--type", a->opts.type, std::string("Weight type: ") + kTypes + " (default bf16)");
  auto* random = cmd->add_option("--random-weights", a->opts.random_shape,
                                 "Random weights of this shape instead of -m: 'fare-8b' (Qwen3-8B) or key=value overrides "
                                 "of it, e.g. 'layers=2,hidden=256,heads=2,kv_heads=1,head_dim=128,ff=512,vocab=151936' "
                                 "(keys: layers hidden heads kv_heads head_dim ff vocab ctx tied rope_theta eps)");
  cmd->add_option("--seed", a->opts.seed, "Random weights: seed (same seed and shape, same file)");
  cmd->add_option("--tokenizer", a->opts.tokenizer_dir, "Random weights: tokenizer folder (tokenizer.json, tokenizer_config.json)")
      ->capture_default_str();
  cmd->add_option("--shard-size", a->opts.shard_bytes, "Hugging Face output: most bytes per safetensors shard")
      ->capture_default_str();
  cmd->add_option("-t,--threads", a->opts.n_threads, "Worker threads (default: all CPUs available)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", a->quiet, "No per-tensor progress lines");
  model->excludes(random);
  cmd->callback([a] { run(a->opts, a->quiet); });
}

void register_quantize(CLI::App& app) {
  struct Args {
    ConvertOptions opts;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("quantize", "Re-encode a GGUF file's weights in another type (from any type we read)");
  cmd->add_option("input", a->opts.input, "Input .gguf")->required();
  cmd->add_option("output", a->opts.output, "Output .gguf")->required();
  cmd->add_option("--type", a->opts.type, std::string("Weight type: ") + kTypes)->required();
  cmd->add_option("-t,--threads", a->opts.n_threads, "Worker threads (default: all CPUs available)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", a->quiet, "No per-tensor progress lines");
  cmd->callback([a] {
    if (a->opts.output.size() < 5 || a->opts.output.substr(a->opts.output.size() - 5) != ".gguf")
      fail(a->opts.output, ": the output of quantize must be a .gguf file");
    run(a->opts, a->quiet);
  });
}

}  // namespace fare::cli
