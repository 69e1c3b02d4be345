#include <cctype>
#include <fstream>
#include <sstream>

#include "apps/cli/commands.h"
#include "common/error.h"

namespace fare::cli {

void add_model_options(CLI::App& cmd, ModelArgs& args, const std::string& model_help) {
  cmd.add_option("-m,--model", args.path, model_help)->required();
  cmd.add_option("-t,--threads", args.threads, "Worker threads (default: all CPUs available)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("-c,--ctx", args.ctx, "Context length (default: the model's, at most 32768)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--chat-template", args.chat_template, "Jinja chat template file to use instead of the model's own");
  cmd.add_option("--kernels", args.kernels,
                 "CPU kernel set: auto (= fast: the fastest, int8/bf16 activations as llama.cpp), exact (the "
                 "fastest that keeps float activations), reference, avx2, avx2-int8, avx512, avx512-vnni, avx512-bf16, amx, amx-int8, amx-bf16")
      ->capture_default_str();
  cmd.add_option("--kv-cache", args.kv_cache, "KV cache values: f32, f16, bf16, or auto (f16 with kernels that round activations, f32 with exact ones)")->capture_default_str();
  auto* repack = cmd.add_flag("--repack", args.repack,
                              "Also copy BF16 weights into the layout --kernels fast reads faster on AVX-512 BF16 "
                              "without AMX: decode 2-6 % faster and prefill 3-8 % slower as measured. By default only "
                              "Q8_0 weights are copied, on AMX CPUs (tiles of 16 rows: decode of several sequences "
                              "1.6-1.8x as fast); either way loading takes longer and other processes cannot share those "
                              "pages of the page cache");
  cmd.add_flag("--no-repack", args.no_repack, "Read every weight where the model file holds it (no copy at load)")
      ->excludes(repack);
  cmd.add_option("--ubatch", args.ubatch,
                 "Prompt tokens per forward pass; prefill reads every weight once per pass (default: 512 for BF16, "
                 "F16, F32 and Q8_0 weights and for integer weights on bf16 tiles, 256 for the others)")
      ->check(CLI::Range(1, 1 << 20));
  cmd.add_option("--kv-budget", args.kv_budget,
                 "Memory for the KV cache of all sequences together, e.g. 8G or 512M (default: half of the memory "
                 "available after the weights, at most what every sequence at full context needs)");
  cmd.add_flag("--no-prefix-cache", args.no_prefix_cache,
               "Compute every prompt in full instead of reusing the blocks of earlier prompts that start the same");
}

int64_t parse_bytes(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = used ? text.substr(used) : "";
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) unit.resize(unit.size() - 2);
  else if (unit.ends_with("B")) unit.pop_back();
  const double scale = unit.empty() ? 1 : unit == "K" ? 1 << 10 : unit == "M" ? 1 << 20 : unit == "G" ? 1 << 30 : 0;
  if (used == 0 || scale == 0 || !(v > 0)) fail("'", text, "' is not a size: expected e.g. 8G, 512M, 64K or bytes");
  return static_cast<int64_t>(v * scale);
}

EngineOptions engine_options(const ModelArgs& args) {
  EngineOptions o;
  o.n_threads = args.threads;
  o.n_ctx = args.ctx;
  o.chat_template_file = args.chat_template;
  o.kernels = args.kernels;
  o.kv_cache = args.kv_cache;
  o.repack = args.repack ? "all" : args.no_repack ? "off" : "auto";
  o.micro_batch = args.ubatch;
  o.max_sequences = args.parallel;
  if (!args.kv_budget.empty()) o.kv_budget = parse_bytes(args.kv_budget);
  o.prefix_cache = !args.no_prefix_cache;
  return o;
}

std::unique_ptr<Engine> open_engine(const ModelArgs& args) { return Engine::open(args.path, engine_options(args)); }

std::vector<int32_t> parse_id_list(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  int index = 0;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t\n"), e = item.find_last_not_of(" \t\n");
    if (b == std::string::npos) fail("token list: element ", index, " is empty");
    const std::string s = item.substr(b, e - b + 1);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || v < 0 || v > INT32_MAX) fail("token list: element ", index, " '", s, "' is not a token id");
    ids.push_back(static_cast<int32_t>(v));
    ++index;
  }
  if (ids.empty()) fail("token list is empty");
  return ids;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace fare::cli
