// Inputs on which a fuzz target (fuzz/) once found a bug, kept in tests/tokenizer/fuzz_regressions/
// and run again with that target's check:
//   tokenizer_json-*    a tokenizer.json (fuzz_tokenizer_load): fare::Error, or a tokenizer that
//                       loads and round-trips text
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "support/fuzz_regressions.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace fare {
namespace {

namespace fs = std::filesystem;

TEST(FuzzRegressions, TokenizerJson) {
  const auto files = test::fuzz_regressions("tokenizer", "tokenizer_json-");
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    const fs::path dir = test::scratch_dir("fuzz-" + f.stem().string());
    fs::copy_file(f, dir / "tokenizer.json");
    TokenizerSpec spec;
    if (!test::returns_or_fare_error([&] { spec = load_hf_tokenizer((dir / "tokenizer.json").string()); }, f.string()))
      continue;
    std::optional<Tokenizer> tok;
    if (!test::returns_or_fare_error([&] { tok.emplace(std::move(spec)); }, f.string())) continue;
    for (const std::string s : {"Hello, world! 123", "<|im_start|>user\nhi<|im_end|>"})
      EXPECT_EQ(tok->decode(tok->encode(s, true)), s);
  }
}

}  // namespace
}  // namespace fare
