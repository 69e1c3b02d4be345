// fare bench: speed in the manner of llama-bench. pp = one N-token prompt into an empty KV cache;
// tg = greedy decode of N tokens after a 16-token prompt, timed from the first generated token.
// Next to the speeds: achieved decode GB/s against the memory bandwidth probed right before and
// after each decode run, peak RSS against weights + KV cache, load time, and hashes of the final
// logits.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.h"
#include "apps/cli/system_probe.h"
#include "common/error.h"

namespace fare::cli {

namespace {

using json = nlohmann::ordered_json;

constexpr int kTgPrompt = 16;                          // as llama-bench and the peer driver
// Buffers of the bandwidth probes, at least 4x the L3 (probe_buffer_bytes): before loading and
// after the tests, and the resident one read around each decode run.
constexpr size_t kBandwidthBytes = size_t{512} << 20;
constexpr size_t kProbeBytes = size_t{256} << 20;
constexpr int kProbePasses = 3;
constexpr const char* kPromptText =
    "The history of computing is a story of abstraction layered on abstraction. Early machines were programmed by "
    "rewiring panels; later, stored programs let instructions live in memory next to data. ";

struct BenchArgs {
  ModelArgs model;
  int pp = 512, tg = 64, reps = 2;
  int parallel = 0;  // > 0: also N sequences decoding together
  bool as_json = false, no_warmup = false;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// FNV-1a over the float bits: any change in any logit changes the hash.
std::string logits_hash(const std::vector<float>& logits) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = reinterpret_cast<const uint8_t*>(logits.data());
  for (size_t i = 0; i < logits.size() * sizeof(float); ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<int32_t> bench_prompt(const Engine& e, int n) {
  const auto base = e.tokenize(kPromptText, false);
  if (base.empty()) fail("the benchmark text tokenizes to nothing");
  std::vector<int32_t> out;
  while (static_cast<int>(out.size()) < n) out.insert(out.end(), base.begin(), base.end());
  out.resize(static_cast<size_t>(n));
  return out;
}

GenerateResult run_once(const Engine& e, std::vector<int32_t> prompt, int max_tokens) {
  GenerateRequest req;
  req.prompt = std::move(prompt);
  req.max_tokens = max_tokens;
  req.sampling.temperature = 0;
  req.stop_at_eos = false;
  req.return_logits = true;
  return e.generate(req);
}

struct Measured {
  std::vector<double> pp_s, tg_s;
  int64_t pp_cached = 0;  // prompt tokens of the pp runs served by a cache: 0, or the figures lie
  std::vector<double> tg_read_gbs;  // per decode run: the better of the probes right before and after it
  std::string pp_hash, tg_hash;
  bool stable = true;  // every repetition gave the same logits
  double load_s = 0;
  Bandwidth bw;  // the better of the probes before loading and after the tests
  size_t probe_bytes = 0;
  size_t peak_rss = 0;
  bool rss_reset = false;
  // --parallel N: N sequences of kTgPrompt + tg positions submitted together, per repetition.
  std::vector<double> batch_tps;   // generated tokens after each one's first / (last end - first first token)
  std::vector<double> batch_ttft;  // median time to first token
  int64_t batch_kv_bytes = 0;
};

// N different prompts submitted at once, each decoding tg tokens: the aggregate decode rate of
// one step per token for all of them, and how long each waited for its first token.
void measure_batch(const Engine& e, const std::vector<int32_t>& text, int n, int tg, Measured& m) {
  std::vector<std::shared_ptr<Generation>> gens;
  for (int i = 0; i < n; ++i) {
    GenerateRequest req;
    req.prompt.assign(text.begin() + i, text.begin() + i + kTgPrompt);  // distinct: no shared prefix
    req.max_tokens = tg + 1;
    req.stop_at_eos = false;
    gens.push_back(e.submit(req));
  }
  std::vector<double> first, end, ttft;
  double tokens = 0;
  for (auto& g : gens) {
    const GenerateResult r = g->wait();
    first.push_back(r.prefill_seconds);
    end.push_back(r.prefill_seconds + r.decode_seconds);
    ttft.push_back(r.prefill_seconds);
    tokens += static_cast<double>(r.tokens.size()) - 1;
  }
  const double window = *std::max_element(end.begin(), end.end()) - *std::min_element(first.begin(), first.end());
  m.batch_tps.push_back(window > 0 ? tokens / window : 0);
  m.batch_ttft.push_back(median(ttft));
  m.batch_kv_bytes = static_cast<int64_t>(n) * (kTgPrompt + tg + 1) * e.kv_bytes_per_token();
}

Measured measure(const BenchArgs& a, std::unique_ptr<Engine>& engine) {
  Measured m;
  const int n_threads = a.model.threads > 0 ? a.model.threads : 0;
  // Bandwidth first, then the peak RSS restarts so that its buffer is not counted.
  const size_t bandwidth_bytes = probe_buffer_bytes(kBandwidthBytes);
  m.bw = measure_bandwidth(n_threads > 0 ? n_threads : static_cast<int>(std::thread::hardware_concurrency()),
                           bandwidth_bytes, 3);
  // Resident from here on, so the restarted peak counts it; the report takes it off.
  std::optional<ReadProbe> probe;
  if (a.tg > 0) probe.emplace(probe_buffer_bytes(kProbeBytes));
  m.probe_bytes = probe ? probe->bytes() : 0;
  m.rss_reset = reset_peak_rss();
  const auto t0 = std::chrono::steady_clock::now();
  ModelArgs model = a.model;
  if (a.parallel > 0) model.parallel = a.parallel;
  // Every repetition computes its whole prompt: the prefix cache would serve the blocks of a
  // repeated one (a second pp512 ran twice as fast with it, and the median took it in).
  model.no_prefix_cache = true;
  engine = open_engine(model);
  m.load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Engine& e = *engine;
  const auto prompt = bench_prompt(e, std::max(a.pp, kTgPrompt + a.parallel));
  if (!a.no_warmup) run_once(e, {prompt[0]}, 1);  // maps every weight page once
  for (int r = 0; r < a.reps && a.pp > 0; ++r) {
    auto res = run_once(e, {prompt.begin(), prompt.begin() + a.pp}, 0);
    m.pp_s.push_back(res.prefill_seconds);
    m.pp_cached += res.n_cached;
    const auto h = logits_hash(res.final_logits);
    m.stable &= m.pp_hash.empty() || h == m.pp_hash;
    m.pp_hash = h;
  }
  for (int r = 0; r < a.reps && a.tg > 0; ++r) {
    const double before = probe->read_gbs(e.n_threads(), kProbePasses);
    auto res = run_once(e, {prompt.begin(), prompt.begin() + kTgPrompt}, a.tg + 1);
    m.tg_read_gbs.push_back(std::max(before, probe->read_gbs(e.n_threads(), kProbePasses)));
    m.tg_s.push_back(res.decode_seconds);
    const auto h = logits_hash(res.final_logits);
    m.stable &= m.tg_hash.empty() || h == m.tg_hash;
    m.tg_hash = h;
  }
  for (int r = 0; r < a.reps && a.parallel > 0 && a.tg > 0; ++r) measure_batch(e, prompt, a.parallel, a.tg, m);
  const size_t hwm = peak_rss_bytes();
  m.peak_rss = hwm - std::min(hwm, m.probe_bytes);
  // Bandwidth again at the end: the machine is shared, so take the better of two moments.
  const Bandwidth late = measure_bandwidth(e.n_threads(), bandwidth_bytes, 3);
  m.bw.read_gbs = std::max(m.bw.read_gbs, late.read_gbs);
  m.bw.copy_gbs = std::max(m.bw.copy_gbs, late.copy_gbs);
  return m;
}

json report(const BenchArgs& a, const Engine& e, const Measured& m) {
  const ModelInfo i = e.info();
  const double kv_elem = e.kv_cache() == "f32" ? 4.0 : 2.0;
  const double kv_row = 2.0 * i.n_layer * i.n_head_kv * i.head_dim * kv_elem;  // K and V of one position
  // A decode step reads every matrix once (of a mixture, the experts its token is routed to), one
  // embedding row (all of it when it is also lm_head), and the KV cache up to its position;
  // averaged over the timed steps.
  const double unread_experts =
      i.n_expert > 0 ? static_cast<double>(i.expert_bytes) * (1.0 - static_cast<double>(i.n_expert_used) / i.n_expert) : 0.0;
  const double weights_read = static_cast<double>(i.weight_bytes) - unread_experts -
                              (i.tie_embeddings ? 0.0 : static_cast<double>(i.embedding_bytes) * (1.0 - 1.0 / i.n_vocab));
  const double mean_ctx = kTgPrompt + 1 + (a.tg - 1) / 2.0;
  const double decode_bytes = weights_read + kv_row * mean_ctx;
  const double mlp_params = i.n_expert > 0 ? (3.0 * i.n_ff * i.n_expert_used + i.n_expert) * i.n_embd  // chosen experts, router
                                           : 3.0 * i.n_embd * i.n_ff;
  const double layer_params = static_cast<double>(i.n_embd) * (2.0 * i.n_head * i.head_dim + 2.0 * i.n_head_kv * i.head_dim) +
                              mlp_params;
  // Prefill: every layer matrix per token, attention over the causal triangle, lm_head once.
  const double pp_flops = 2.0 * layer_params * i.n_layer * a.pp +
                          4.0 * i.n_layer * i.n_head * i.head_dim * (a.pp * (a.pp + 1) / 2.0) + 2.0 * i.n_embd * i.n_vocab;
  const double pp_s = median(m.pp_s), tg_s = median(m.tg_s);
  const double pp_tps = pp_s > 0 ? a.pp / pp_s : 0, tg_tps = tg_s > 0 ? a.tg / tg_s : 0;
  const double decode_gbs = decode_bytes * tg_tps / 1e9;
  const double kv_bytes = kv_row * std::max(a.pp, kTgPrompt + a.tg + 1);
  const double expected = static_cast<double>(i.weight_bytes) + kv_bytes;
  auto runs = [](const std::vector<double>& s, int n) {
    json arr = json::array();
    for (double x : s) arr.push_back({{"seconds", x}, {"tok_per_s", x > 0 ? n / x : 0}});
    return arr;
  };
  // Each decode run against the bandwidth probed around it; the median of those fractions. Without
  // decode runs, the probes before loading and after the tests.
  json decode_runs = json::array();
  std::vector<double> fractions;
  for (size_t r = 0; r < m.tg_s.size(); ++r) {
    const double gbs = m.tg_s[r] > 0 ? decode_bytes * a.tg / m.tg_s[r] / 1e9 : 0;
    fractions.push_back(m.tg_read_gbs[r] > 0 ? gbs / m.tg_read_gbs[r] : 0);
    decode_runs.push_back({{"gb_per_s", gbs}, {"mem_read_gb_per_s", m.tg_read_gbs[r]}, {"fraction_of_mem_read", fractions.back()}});
  }
  const double mem_read = m.tg_read_gbs.empty() ? m.bw.read_gbs : median(m.tg_read_gbs);
  const double fraction = !fractions.empty() ? median(fractions) : m.bw.read_gbs > 0 ? decode_gbs / m.bw.read_gbs : 0;
  json types = json::object();
  for (const auto& [t, n] : i.weight_types) types[t] = n;
  return {
      {"engine", "fare"}, {"model", i.path}, {"format", i.format}, {"weight_types", types},
      {"weight_bytes", i.weight_bytes}, {"threads", e.n_threads()}, {"ubatch", e.micro_batch()}, {"kernels", e.kernels()},
      {"kv_cache", e.kv_cache()}, {"cpu", cpu_model()}, {"load_s", m.load_s},
      {"packed", {{"matrices", i.packed_matrices}, {"bytes", i.packed_bytes}}},
      {"pp", {{"tokens", a.pp}, {"cached_tokens", m.pp_cached}, {"runs", runs(m.pp_s, a.pp)}, {"tok_per_s", pp_tps},
              {"gflop_per_s", pp_s > 0 ? pp_flops / pp_s / 1e9 : 0}}},
      {"tg", {{"tokens", a.tg}, {"prompt_tokens", kTgPrompt}, {"runs", runs(m.tg_s, a.tg)}, {"tok_per_s", tg_tps},
              {"ms_per_token", tg_tps > 0 ? 1000.0 / tg_tps : 0}}},
      {"decode", {{"bytes_per_token", decode_bytes}, {"gb_per_s", decode_gbs}, {"mem_read_gb_per_s", mem_read},
                  {"fraction_of_mem_read", fraction}, {"runs", decode_runs}, {"probe_bytes", m.probe_bytes},
                  {"mem_read_gb_per_s_outside", m.bw.read_gbs}, {"mem_copy_gb_per_s", m.bw.copy_gbs}}},
      {"memory", {{"peak_rss_bytes", m.peak_rss}, {"peak_rss_reset", m.rss_reset}, {"weight_bytes", i.weight_bytes},
                  {"kv_bytes", kv_bytes}, {"rss_over_weights_kv", expected > 0 ? m.peak_rss / expected : 0}}},
      {"logits", {{"pp_hash", m.pp_hash}, {"tg_hash", m.tg_hash}, {"stable", m.stable}}},
      {"batch", {{"sequences", a.parallel}, {"tokens_each", a.tg}, {"tok_per_s", median(m.batch_tps)},
                 {"runs", m.batch_tps}, {"over_one_sequence", tg_tps > 0 ? median(m.batch_tps) / tg_tps : 0},
                 {"ttft_s", median(m.batch_ttft)}, {"kv_bytes", m.batch_kv_bytes}}},
  };
}

void print_text(const json& j) {
  auto gib = [](double b) { return b / (1 << 30); };
  std::printf("model    %s (%s, %.2f GiB of weights)\n", j["model"].get<std::string>().c_str(),
              j["format"].get<std::string>().c_str(), gib(j["weight_bytes"].get<double>()));
  std::printf("machine  %s, %d threads, kernels %s, ubatch %d, KV cache %s; load %.2f s",
              j["cpu"].get<std::string>().c_str(), j["threads"].get<int>(), j["kernels"].get<std::string>().c_str(),
              j["ubatch"].get<int>(), j["kv_cache"].get<std::string>().c_str(), j["load_s"].get<double>());
  if (const int n = j["packed"]["matrices"].get<int>(); n > 0)
    std::printf(" (%d matrices repacked, %.2f GiB)", n, gib(j["packed"]["bytes"].get<double>()));
  std::printf("\n");
  std::printf("| test   |        t/s | notes\n|--------|-----------:|------\n");
  const auto& pp = j["pp"];
  const auto& tg = j["tg"];
  const auto& d = j["decode"];
  std::printf("| pp%-4d | %10.2f | %.1f GFLOP/s\n", pp["tokens"].get<int>(), pp["tok_per_s"].get<double>(),
              pp["gflop_per_s"].get<double>());
  if (d["runs"].empty())
    std::printf("| tg%-4d | %10.3f | no decode runs; read bandwidth %.1f GB/s\n", tg["tokens"].get<int>(),
                tg["tok_per_s"].get<double>(), d["mem_read_gb_per_s"].get<double>());
  else
    std::printf("| tg%-4d | %10.3f | %.1f GB/s of %.1f GB/s read bandwidth around each run (%.0f%%); %.1f MB/token\n",
                tg["tokens"].get<int>(), tg["tok_per_s"].get<double>(), d["gb_per_s"].get<double>(),
                d["mem_read_gb_per_s"].get<double>(), 100 * d["fraction_of_mem_read"].get<double>(),
                d["bytes_per_token"].get<double>() / 1e6);
  const auto& mem = j["memory"];
  std::printf("peak RSS %.2f GiB = %.3f x (weights + KV cache %.2f GiB)%s\n", gib(mem["peak_rss_bytes"].get<double>()),
              mem["rss_over_weights_kv"].get<double>(), gib(mem["weight_bytes"].get<double>() + mem["kv_bytes"].get<double>()),
              mem["peak_rss_reset"].get<bool>() ? "" : " (could not reset the peak before loading)");
  if (const auto& b = j["batch"]; b["sequences"].get<int>() > 0)
    std::printf("batch    %d sequences x %d tokens: %.3f tok/s together (%.2fx one sequence), first token after %.2f s, "
                "KV %.1f MB\n",
                b["sequences"].get<int>(), b["tokens_each"].get<int>(), b["tok_per_s"].get<double>(),
                b["over_one_sequence"].get<double>(), b["ttft_s"].get<double>(), b["kv_bytes"].get<double>() / 1e6);
  const auto& l = j["logits"];
  std::printf("logits   pp %s, tg %s%s\n", l["pp_hash"].get<std::string>().c_str(), l["tg_hash"].get<std::string>().c_str(),
              l["stable"].get<bool>() ? "" : " (NOT the same in every repetition)");
}

void run(const BenchArgs& a) {
  std::unique_ptr<Engine> engine;
  const Measured m = measure(a, engine);
  const json j = report(a, *engine, m);
  if (a.as_json) std::printf("%s\n", j.dump(2).c_str());
  else print_text(j);
}

}  // namespace

void register_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Prompt and generation speed, decode GB/s vs memory bandwidth, RSS, logits hash");
  add_model_options(*cmd, a->model);
  cmd->add_option("--pp", a->pp, "Prompt tokens, processed as one batch (0: skip)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--tg", a->tg, "Generated tokens, timed from the first one (0: skip)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--parallel", a->parallel,
                  "Also decode tg tokens on N sequences at once: their aggregate tok/s, time to first token, KV bytes")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-r,--reps", a->reps, "Repetitions of each test; the median is reported")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--no-warmup", a->no_warmup, "Skip the one-token warm-up run that maps the weights");
  cmd->add_flag("--json", a->as_json, "Print one JSON object");
  cmd->callback([a] { run(*a); });
}

}  // namespace fare::cli
