// The `fare bench`, `fare convert` and `fare quantize` executables as scripts use them. The bench
// smoke is what CI runs of the benchmarks: tiny sizes, every JSON field present and sane.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/derived_models.h"
#include "support/run_command.h"

#include <unistd.h>

namespace fare {
namespace {

using json = nlohmann::json;

using CliRun = test::CommandRun;

// stdout, and stderr too when asked.
CliRun fare(const std::string& args, bool with_stderr = true) {
  return test::run_command(std::string(FARE_CLI) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

const std::string kMicroQ8 = test::fixture("micro-qwen3/micro-qwen3-q8_0.gguf");

json bench_json() {
  const CliRun r = fare("bench -m " + kMicroQ8 + " --pp 8 --tg 4 --reps 2 -t 2 --json", false);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return json::parse(r.out);
}

TEST(BenchSmoke, JsonHasEveryMeasurement) {
  const json j = bench_json();
  EXPECT_EQ(j["engine"], "fare");
  EXPECT_EQ(j["threads"], 2);
  EXPECT_FALSE(j["kernels"].get<std::string>().empty());
  EXPECT_EQ(j["weight_types"]["Q8_0"], 15);
  EXPECT_GT(j["load_s"].get<double>(), 0);
  for (const char* test : {"pp", "tg"}) {
    EXPECT_EQ(j[test]["runs"].size(), 2u) << test;
    EXPECT_GT(j[test]["tok_per_s"].get<double>(), 0) << test;
  }
  EXPECT_EQ(j["pp"]["tokens"], 8);
  EXPECT_EQ(j["tg"]["tokens"], 4);
  EXPECT_GT(j["pp"]["gflop_per_s"].get<double>(), 0);
  const auto& d = j["decode"];
  // A decode step reads at least every matrix except the untouched embedding rows.
  EXPECT_GT(d["bytes_per_token"].get<double>(), 0.9 * j["weight_bytes"].get<double>());
  for (const char* k : {"gb_per_s", "mem_read_gb_per_s", "mem_read_gb_per_s_outside", "mem_copy_gb_per_s",
                        "fraction_of_mem_read"})
    EXPECT_GT(d[k].get<double>(), 0) << k;
  // Each decode run against the probes around it; the fraction reported is the median (of two:
  // their mean) of the runs' fractions.
  ASSERT_EQ(d["runs"].size(), 2u);
  double sum = 0;
  for (const auto& r : d["runs"]) {
    const double f = r["fraction_of_mem_read"].get<double>();
    EXPECT_NEAR(f, r["gb_per_s"].get<double>() / r["mem_read_gb_per_s"].get<double>(), 1e-9 * f);
    sum += f;
  }
  EXPECT_NEAR(d["fraction_of_mem_read"].get<double>(), sum / 2, 1e-9 * sum);
  const auto& m = j["memory"];
  EXPECT_GT(m["peak_rss_bytes"].get<double>(), m["weight_bytes"].get<double>());
  // The probes' buffer (256 MiB at least) is resident during the runs but not counted: the micro
  // model's process stays far below it.
  const double probe = d["probe_bytes"].get<double>();
  EXPECT_GE(probe, 256.0 * (1 << 20));
  EXPECT_LT(m["peak_rss_bytes"].get<double>(), 200e6);
  // A probe the L3 could hold would measure the cache: 4x this CPU's L3 (one instance of it, as
  // sysfs gives it), unless that is over an eighth of the memory.
  std::ifstream l3("/sys/devices/system/cpu/cpu0/cache/index3/size");
  double l3_kib = 0;
  if (l3 >> l3_kib) {
    const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    EXPECT_GE(probe, std::min(4 * 1024 * l3_kib, memory / 8));
  }
  EXPECT_GT(m["kv_bytes"].get<double>(), 0);
  for (const char* k : {"pp_hash", "tg_hash"}) EXPECT_EQ(j["logits"][k].get<std::string>().size(), 16u) << k;
  EXPECT_TRUE(j["logits"]["stable"].get<bool>());
}

TEST(BenchSmoke, LogitsHashesAreReproducible) {
  const json a = bench_json(), b = bench_json();
  EXPECT_EQ(a["logits"], b["logits"]);
}

TEST(BenchSmoke, ReferenceKernelsGiveTheSameDecodeLogitsEveryTime) {
  const CliRun r = fare("bench -m " + kMicroQ8 + " --pp 4 --tg 2 --reps 2 -t 2 --kernels reference --kv-cache f16 --json", false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["kernels"], "reference");
  EXPECT_EQ(j["kv_cache"], "f16");
  EXPECT_TRUE(j["logits"]["stable"].get<bool>());
}

// --parallel: N sequences decode together; the JSON says how fast, against one sequence, and how
// much KV cache they held (positions: 16 of prompt + tg + 1 each).
TEST(BenchSmoke, ParallelSequencesAreMeasured) {
  const CliRun r = fare("bench -m " + kMicroQ8 + " --pp 0 --tg 4 --reps 1 -t 2 --parallel 3 --json", false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json b = json::parse(r.out)["batch"];
  EXPECT_EQ(b["sequences"], 3);
  EXPECT_EQ(b["tokens_each"], 4);
  EXPECT_GT(b["tok_per_s"].get<double>(), 0);
  EXPECT_GT(b["over_one_sequence"].get<double>(), 0);
  EXPECT_GE(b["ttft_s"].get<double>(), 0);
  EXPECT_GT(b["kv_bytes"].get<double>(), 0);
  EXPECT_EQ(b["kv_bytes"].get<int64_t>() % (3 * (16 + 4 + 1)), 0);
}

// --repack copies the BF16 matrices (every layer matrix and the lm_head) into the avx512-bf16
// kernels' layout; the products on it are checked by kernel_sets_test and golden_test.
// Q8_0 on AMX is packed without asking.
TEST(BenchSmoke, RepackCopiesTheMatricesTheKernelsReadPacked) {
  const std::string bf16 = test::fixture("micro-qwen3/micro-qwen3-bf16.gguf");
  const std::string args = " --pp 16 --tg 2 --reps 1 -t 2 --json";
  const CliRun packed = fare("bench -m " + bf16 + args + " --kernels avx512-bf16 --repack", false);
  if (packed.exit_code != 0) GTEST_SKIP() << "this CPU cannot run the avx512-bf16 kernels";
  const json p = json::parse(packed.out), w = json::parse(fare("bench -m " + bf16 + args + " --kernels avx512-bf16", false).out);
  const int n_matrices = 7 * 2 + 1;  // micro-qwen3: 2 layers, and the lm_head (its tied embedding)
  EXPECT_EQ(p["packed"]["matrices"], n_matrices);
  // Blocks of 48 rows (zeros past the last row) over micro-qwen3's shapes: per layer q and o
  // 256 x 256, k and v 128 x 256, gate and up 512 x 256, down 256 x 512; lm_head 4224 x 256.
  const auto padded = [](int64_t rows, int64_t cols) { return (rows + 47) / 48 * 48 * cols * 2; };
  const int64_t layer = 2 * padded(256, 256) + 2 * padded(128, 256) + 2 * padded(512, 256) + padded(256, 512);
  EXPECT_EQ(p["packed"]["bytes"].get<int64_t>(), 2 * layer + padded(4224, 256));
  EXPECT_EQ(w["packed"]["matrices"], 0);
  EXPECT_TRUE(p["logits"]["stable"].get<bool>());
  // Q8_0 is packed by default, and only where the kernels decode it on AMX-INT8 tiles (the
  // amx-bf16 set); --no-repack keeps every matrix as stored.
  const json q = json::parse(fare("bench -m " + kMicroQ8 + args, false).out);
  EXPECT_EQ(q["packed"]["matrices"], q["kernels"] == "amx-bf16" ? n_matrices : 0) << q["kernels"];
  EXPECT_TRUE(q["logits"]["stable"].get<bool>());
  const json off = json::parse(fare("bench -m " + kMicroQ8 + args + " --no-repack", false).out);
  EXPECT_EQ(off["packed"]["matrices"], 0);
  EXPECT_NE(fare("bench -m " + kMicroQ8 + args + " --repack --no-repack").exit_code, 0);
}

// Each pp repetition computes its whole prompt: with the prefix cache on, the second one had
// most of its blocks served and the median doubled the rate.
TEST(BenchSmoke, RepeatedPromptsAreComputedEveryTime) {
  const CliRun r = fare("bench -m " + kMicroQ8 + " --pp 40 --tg 0 --reps 3 -t 2 --json", false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json pp = json::parse(r.out)["pp"];
  EXPECT_EQ(pp["runs"].size(), 3u);
  EXPECT_EQ(pp["cached_tokens"], 0);
}

TEST(BenchSmoke, UbatchIsReportedAndChecked) {
  EXPECT_EQ(bench_json()["ubatch"], 512);  // Q8_0 weights
  const CliRun r = fare("bench -m " + kMicroQ8 + " --pp 9 --tg 2 --reps 1 -t 2 --ubatch 4 --json", false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json::parse(r.out)["ubatch"], 4);
  const CliRun bad = fare("bench -m " + kMicroQ8 + " --pp 4 --tg 2 --ubatch 0");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--ubatch: Value 0 not in range 1"), std::string::npos) << bad.out;
}

TEST(BenchSmoke, TextOutputIsATable) {
  const CliRun r = fare("bench -m " + kMicroQ8 + " --pp 4 --tg 2 --reps 1 -t 1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (const char* s : {"| pp4", "| tg2", "GB/s", "peak RSS", "logits"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(ToolsCli, HelpListsTheNewSubcommands) {
  const CliRun top = fare("--help");
  for (const char* sub : {"convert", "quantize", "bench"}) EXPECT_NE(top.out.find(sub), std::string::npos) << sub;
  EXPECT_NE(fare("convert --help").out.find("--random-weights"), std::string::npos);
  EXPECT_NE(fare("bench --help").out.find("--pp"), std::string::npos);
}

TEST(ToolsCli, ConvertAndQuantizeWriteLoadableFiles) {
  const std::string dir = test::scratch_dir();
  const std::string out = dir + "/cli-random.gguf", requant = dir + "/cli-random-q4_0.gguf";
  CliRun r = fare("convert --random-weights layers=1,hidden=64,heads=2,kv_heads=1,head_dim=32,ff=128,vocab=4224 --tokenizer " +
                  test::fixture("micro-qwen3/tokenizer") + " --type bf16 --seed 3 -q -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = fare("quantize " + out + " " + requant + " --type q4_0 -q");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = fare("info --json -m " + requant, false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json info = json::parse(r.out);
  EXPECT_EQ(info["weight_types"]["Q4_0"], 9);  // 7 per layer, token_embd and output
  EXPECT_EQ(info["n_vocab"], 4224);
}

TEST(ToolsCli, BadInputsFailWithAMessage) {
  const std::string out = test::scratch_dir() + "/cli-bad.gguf";
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"convert --random-weights foo=1 -o " + out, "unknown shape key 'foo'"},
           {"convert -m /no/such/dir -o " + out, "/no/such/dir: no such file or directory"},
           {"convert -m " + test::fixture("micro-qwen3/hf-bf16") + " --type q2 -o " + out, "unknown output type 'q2'"},
           {"quantize " + kMicroQ8 + " " + test::scratch_dir() + "/x.bin --type q8_0", "must be a .gguf file"},
           {"bench -m /no/such/model.gguf --pp 4 --tg 2", "/no/such/model.gguf: cannot open"},
       }) {
    const CliRun r = fare(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace fare
