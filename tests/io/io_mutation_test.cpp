// Deterministic random mutations of real files: every mutant either loads or throws fare::Error
// naming the file. Meant to run under ASan/UBSan as well (preset `sanitize`).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "io_test_util.h"

namespace fare {
namespace {

constexpr int kMutants = 300;
volatile uint64_t g_sink = 0;  // keeps the reads of touch_all from being optimised away

// Interesting values to plant over counts, lengths, types and offsets.
constexpr uint64_t kSpecial[] = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 255, 0x7f, 0x80, 0xffff, 0x7fffffff,
                                 0xffffffff, uint64_t{1} << 32, uint64_t{1} << 62, uint64_t{1} << 63, ~uint64_t{0}};

// Mutates `b` in one of several ways, mostly inside the first `hot` bytes where the parsers look.
void mutate(std::vector<uint8_t>& b, size_t hot, std::mt19937_64& rng) {
  const auto pick = [&](size_t n) { return static_cast<size_t>(rng() % std::max<size_t>(n, 1)); };
  const size_t zone = pick(10) < 8 ? std::min(hot, b.size()) : b.size();
  switch (pick(4)) {
    case 0: {  // a few random bytes
      const size_t n = 1 + pick(8);
      for (size_t k = 0; k < n; ++k) b[pick(zone)] = static_cast<uint8_t>(rng());
      break;
    }
    case 1: {  // one flipped bit
      b[pick(zone)] ^= static_cast<uint8_t>(1u << pick(8));
      break;
    }
    case 2: {  // a special value over 1, 4 or 8 bytes
      const size_t width = size_t{1} << (pick(3) == 0 ? 0 : pick(2) ? 2 : 3);
      const size_t pos = pick(zone > width ? zone - width : 1);
      const uint64_t v = kSpecial[pick(std::size(kSpecial))];
      std::memcpy(b.data() + pos, &v, std::min(width, b.size() - pos));
      break;
    }
    default:  // truncation
      b.resize(pick(pick(2) ? zone : b.size()));
  }
}

// Reads every byte of every tensor, so a range outside the map would fault under ASan or not.
template <typename File>
uint64_t touch_all(const File& f) {
  uint64_t sum = 0;
  for (const auto& [n, t] : f.tensors())
    for (size_t k = 0; k < t.nbytes; k += 61) sum += t.data[k];
  return sum;
}

template <typename File>
void mutation_loop(const std::string& src, size_t hot, uint64_t seed, const std::string& name) {
  const auto original = test::read_bytes(src);
  const auto path = test::temp_path(name);
  std::mt19937_64 rng(seed);
  int loaded = 0, rejected = 0;
  for (int i = 0; i < kMutants; ++i) {
    auto bytes = original;
    const int n_mutations = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < n_mutations && !bytes.empty(); ++m) mutate(bytes, hot, rng);
    test::write_bytes(path, bytes);
    try {
      const File f(path);
      g_sink = g_sink + touch_all(f);
      ++loaded;
    } catch (const Error& e) {
      ASSERT_NE(std::string(e.what()).find(path), std::string::npos) << "mutant " << i << ": " << e.what();
      ++rejected;
    }
  }
  // Both outcomes occur, or the mutations are not reaching the parser.
  EXPECT_GT(loaded, 0);
  EXPECT_GT(rejected, kMutants / 4);
  std::printf("%s: %d mutants loaded, %d rejected\n", name.c_str(), loaded, rejected);
}

TEST(IoMutation, GgufQ4K) {
  // The metadata and tensor infos take the first ~131 kB of the 1.4 MB file.
  mutation_loop<GgufFile>(test::fixture("micro-qwen3/micro-qwen3-q4_k.gguf"), 135000, 20240611, "mutant.gguf");
}

TEST(IoMutation, SafetensorsBf16) {
  const auto src = test::fixture("micro-qwen3/hf-bf16/model.safetensors");
  const auto bytes = test::read_bytes(src);
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  mutation_loop<SafetensorsFile>(src, 8 + header, 20240612, "mutant.safetensors");
}

}  // namespace
}  // namespace fare
