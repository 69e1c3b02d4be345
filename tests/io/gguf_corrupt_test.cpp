// Corrupt GGUF files: each must give one fare::Error naming the file and the problem, never a
// crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "io/gguf.h"
#include "io_test_util.h"

namespace fare {
namespace {

using test::expect_error;
using test::fixture;
using test::GgufBytes;
using test::poke;
using test::temp_path;

constexpr uint32_t kF32 = 0, kQ8_0 = 8, kQ4_K = 12;

// Writes `bytes` to a temp file and expects loading it to fail with every phrase.
std::string expect_bad(const std::string& name, const std::vector<uint8_t>& bytes,
                       std::initializer_list<std::string_view> phrases) {
  const auto path = temp_path(name);
  test::write_bytes(path, bytes);
  const auto msg = expect_error([&] { GgufFile f(path); }, phrases);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  return msg;
}

// A valid file: one string key and two Q8_0/F32 tensors, 96 bytes of data.
GgufBytes valid_small() {
  GgufBytes g;
  g.header(3, 2, 1).kv_str("general.architecture", "qwen3");
  g.tensor("w", {32, 2}, kQ8_0, 0).tensor("n", {8}, kF32, 96).pad().zeros(128);
  return g;
}

TEST(GgufCorrupt, SmallBaselineLoads) {
  const auto path = temp_path("small_ok.gguf");
  test::write_bytes(path, valid_small().bytes);
  const GgufFile f(path);
  EXPECT_EQ(f.tensors().at("w").shape, (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(f.tensors().at("n").nbytes, 32u);
}

// Layout of the fixture's first bytes: magic, version, n_tensors, n_kv, then the first key
// "general.architecture" (length at 24, type at 52, string length at 56).
struct Fixture {
  std::string path = fixture("micro-qwen3/micro-qwen3-q4_k.gguf");
  std::vector<uint8_t> bytes = test::read_bytes(path);
  // Where the tensor data starts: the last tensor ends exactly at the end of the file.
  size_t data_start() const {
    const GgufFile f(path);
    const uint8_t* lo = nullptr;
    const uint8_t* hi = nullptr;
    for (const auto& [n, t] : f.tensors()) {
      lo = (!lo || t.data < lo) ? t.data : lo;
      hi = std::max(hi, t.data + t.nbytes);
    }
    return bytes.size() - static_cast<size_t>(hi - lo);
  }
};

TEST(GgufCorrupt, TruncatedAnywhere) {
  const Fixture fx;
  const size_t n = fx.bytes.size();
  std::vector<size_t> cuts;
  for (size_t k = 0; k < 64; ++k) cuts.push_back(k);
  for (size_t k = 64; k < n; k += 1 + k / 8) cuts.push_back(k);
  cuts.push_back(n - 1);
  for (const size_t cut : cuts) {
    SCOPED_TRACE(cut);
    expect_bad("truncated.gguf", {fx.bytes.begin(), fx.bytes.begin() + static_cast<ptrdiff_t>(cut)}, {"truncated"});
  }
}

TEST(GgufCorrupt, TruncatedAtEachSection) {
  const Fixture fx;
  const auto cut = [&](size_t n) { return std::vector<uint8_t>(fx.bytes.begin(), fx.bytes.begin() + static_cast<ptrdiff_t>(n)); };
  expect_bad("empty.gguf", {}, {"header: truncated", "file ends at 0"});
  expect_bad("mid_magic.gguf", cut(2), {"header: truncated"});
  expect_bad("mid_header.gguf", cut(12), {"header: truncated", "at byte 8"});
  // Mid key/value: the counts still fit, the tokenizer's token array does not.
  expect_bad("mid_kv.gguf", cut(5000), {"metadata key 'tokenizer.ggml.tokens'", "array of 4224 STRING", "truncated file?"});
  const size_t data_start = fx.data_start();
  // The last tensor info (output_norm.weight, 50 bytes) ends 5 bytes before the data.
  expect_bad("mid_tensor_name.gguf", cut(data_start - 40), {"tensor info #23", "string length 18", "truncated?"});
  expect_bad("mid_tensor_info.gguf", cut(data_start - 15), {"tensor 'output_norm.weight'", "truncated"});
  expect_bad("mid_data.gguf", cut(fx.bytes.size() - 1), {"runs past the end of the file", "truncated?"});
  expect_bad("no_data.gguf", cut(data_start - 1), {"data section starts at byte", "past the end of the file"});
}

TEST(GgufCorrupt, BadMagic) {
  Fixture fx;
  fx.bytes[0] = 'X';
  expect_bad("bad_magic.gguf", fx.bytes, {"not a GGUF file", "magic 'XGUF'"});
}

TEST(GgufCorrupt, BadVersion) {
  Fixture fx;
  poke<uint32_t>(fx.bytes, 4, 1);
  expect_bad("v1.gguf", fx.bytes, {"GGUF version 1 is not supported"});
  poke<uint32_t>(fx.bytes, 4, 4);
  expect_bad("v4.gguf", fx.bytes, {"unsupported GGUF version 4 (expected 2 or 3)"});
  poke<uint32_t>(fx.bytes, 4, 0x03000000);
  expect_bad("big_endian.gguf", fx.bytes, {"big-endian"});
}

TEST(GgufCorrupt, HugeCounts) {
  Fixture fx;
  poke<uint64_t>(fx.bytes, 16, uint64_t{1} << 60);
  expect_bad("huge_n_kv.gguf", fx.bytes, {"1152921504606846976 metadata key/value pairs cannot fit"});
  poke<uint64_t>(fx.bytes, 16, std::numeric_limits<uint64_t>::max());
  expect_bad("max_n_kv.gguf", fx.bytes, {"metadata key/value pairs cannot fit"});
  poke<uint64_t>(fx.bytes, 16, 25);
  poke<uint64_t>(fx.bytes, 8, std::numeric_limits<uint64_t>::max() / 4);
  expect_bad("huge_n_tensors.gguf", fx.bytes, {"tensor infos cannot fit"});
  // A plausible but wrong count: the last key/value is then read as a tensor info, and its
  // value type (STRING = 8) as n_dims.
  poke<uint64_t>(fx.bytes, 8, 24);
  poke<uint64_t>(fx.bytes, 16, 24);
  expect_bad("one_less_kv.gguf", fx.bytes, {"tensor 'tokenizer.chat_template'", "n_dims 8"});
}

TEST(GgufCorrupt, HugeStringLength) {
  Fixture fx;
  poke<uint64_t>(fx.bytes, 24, uint64_t{1} << 40);  // the first key's length
  expect_bad("huge_key.gguf", fx.bytes, {"metadata key/value #0", "string length 1099511627776 at byte 24 runs past the end"});
  poke<uint64_t>(fx.bytes, 24, 100000);  // fits in the file, but no key is that long
  expect_bad("long_key.gguf", fx.bytes, {"metadata key/value #0", "string length 100000 exceeds the limit of 65535"});
  fx = Fixture();
  poke<uint64_t>(fx.bytes, 56, std::numeric_limits<uint64_t>::max());  // the first value's length
  expect_bad("huge_string.gguf", fx.bytes, {"metadata key 'general.architecture'", "runs past the end of the file"});
}

TEST(GgufCorrupt, HugeArrayCount) {
  GgufBytes g;
  g.header(3, 0, 1).key("tokens", 9).put<uint32_t>(8).put<uint64_t>(uint64_t{1} << 61).str("a");
  expect_bad("huge_array.gguf", g.bytes, {"metadata key 'tokens'", "array of 2305843009213693952 STRING"});
  GgufBytes h;
  h.header(3, 0, 1).key("ints", 9).put<uint32_t>(5).put<uint64_t>(1000).put<int32_t>(1);
  expect_bad("short_array.gguf", h.bytes, {"metadata key 'ints'", "array of 1000 I32 needs at least 4 bytes each"});
}

TEST(GgufCorrupt, UnknownValueType) {
  Fixture fx;
  poke<uint32_t>(fx.bytes, 52, 13);
  expect_bad("value_type.gguf", fx.bytes, {"metadata key 'general.architecture'", "unknown value type 13"});
  GgufBytes g;
  g.header(3, 0, 1).key("arr", 9).put<uint32_t>(0xffffffffu).put<uint64_t>(0);
  expect_bad("elem_type.gguf", g.bytes, {"metadata key 'arr'", "unknown value type 4294967295"});
}

TEST(GgufCorrupt, NestedArray) {
  GgufBytes g;
  g.header(3, 0, 1).key("nested", 9).put<uint32_t>(9).put<uint64_t>(1).put<uint32_t>(4).put<uint64_t>(0);
  expect_bad("nested.gguf", g.bytes, {"metadata key 'nested'", "arrays of arrays are not supported"});
}

TEST(GgufCorrupt, BadScalarValues) {
  GgufBytes g;
  g.header(3, 0, 1).key("flag", 7).put<uint8_t>(2);
  expect_bad("bool.gguf", g.bytes, {"metadata key 'flag'", "BOOL value 2"});
  GgufBytes h;
  h.header(3, 0, 1).key("big", 10).put<uint64_t>(std::numeric_limits<uint64_t>::max());
  expect_bad("u64.gguf", h.bytes, {"metadata key 'big'", "above the supported maximum"});
  GgufBytes e;
  e.header(3, 0, 1).kv_str("", "x");
  expect_bad("empty_key.gguf", e.bytes, {"empty key"});
}

TEST(GgufCorrupt, DuplicateKeyAndTensorName) {
  GgufBytes g;
  g.header(3, 0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  expect_bad("dup_key.gguf", g.bytes, {"metadata key 'a.b'", "duplicate key"});
  GgufBytes h;
  h.header(3, 2, 0).tensor("w", {32}, kF32, 0).tensor("w", {32}, kF32, 128).pad().zeros(256);
  expect_bad("dup_tensor.gguf", h.bytes, {"tensor 'w'", "duplicate tensor name"});
}

TEST(GgufCorrupt, BadAlignment) {
  GgufBytes g;
  g.header(3, 0, 1).kv_u32("general.alignment", 48);
  expect_bad("align48.gguf", g.bytes, {"'general.alignment'", "48 is not a power of two"});
  GgufBytes z;
  z.header(3, 0, 1).kv_u32("general.alignment", 0);
  expect_bad("align0.gguf", z.bytes, {"0 is not a power of two"});
  GgufBytes h;
  h.header(3, 0, 1).kv_str("general.alignment", "32");
  expect_bad("align_str.gguf", h.bytes, {"'general.alignment'", "expected U32, found STRING"});
}

TEST(GgufCorrupt, UnknownGgmlType) {
  GgufBytes g;
  g.header(3, 1, 0).tensor("w", {32}, 99, 0).pad().zeros(64);
  expect_bad("ggml99.gguf", g.bytes, {"tensor 'w'", "unknown ggml type 99"});
  GgufBytes h;
  h.header(3, 1, 0).tensor("w", {32}, 6, 0).pad().zeros(64);
  expect_bad("ggml_q5_0.gguf", h.bytes, {"tensor 'w'", "ggml type 6 (Q5_0) is not supported"});
}

TEST(GgufCorrupt, OffsetOutOfRange) {
  GgufBytes g;
  g.header(3, 1, 0).tensor("blk.0.attn_q.weight", {32, 4}, kF32, 256).pad().zeros(512);
  expect_bad("offset_range.gguf", g.bytes,
             {"tensor 'blk.0.attn_q.weight'", "data [offset 256, 512 bytes] runs past the end of the file"});
  GgufBytes h;
  h.header(3, 1, 0).tensor("w", {32}, kF32, uint64_t{1} << 63).pad().zeros(128);
  expect_bad("offset_huge.gguf", h.bytes, {"tensor 'w'", "runs past the end of the file"});
}

TEST(GgufCorrupt, MisalignedOffset) {
  GgufBytes g;
  g.header(3, 1, 0).tensor("w", {8}, kF32, 4).pad().zeros(64);
  expect_bad("misaligned.gguf", g.bytes, {"tensor 'w'", "data offset 4 is not a multiple of the alignment 32"});
}

TEST(GgufCorrupt, OverlappingTensors) {
  GgufBytes g;
  g.header(3, 2, 0).tensor("a", {32, 2}, kF32, 0).tensor("b", {32}, kF32, 128).pad().zeros(256);
  expect_bad("overlap.gguf", g.bytes, {"tensor 'b'", "overlaps tensor 'a'", "[offset 0, 256 bytes]"});
  GgufBytes h;
  h.header(3, 2, 0).tensor("a", {32}, kF32, 0).tensor("b", {32}, kF32, 0).pad().zeros(256);
  expect_bad("same_offset.gguf", h.bytes, {"overlaps tensor"});
}

TEST(GgufCorrupt, BadDims) {
  GgufBytes g;
  g.header(3, 1, 0).tensor("w", {32, 1, 1, 1, 1}, kF32, 0).pad().zeros(128);
  expect_bad("ndims5.gguf", g.bytes, {"tensor 'w'", "n_dims 5 (expected 1..4)"});
  GgufBytes z;
  z.header(3, 1, 0).tensor("w", {}, kF32, 0).pad().zeros(128);
  expect_bad("ndims0.gguf", z.bytes, {"n_dims 0"});
  GgufBytes h;
  h.header(3, 1, 0).put<uint64_t>(1).put<char>('w').put<uint32_t>(0xffffffffu).pad().zeros(128);
  expect_bad("ndims_huge.gguf", h.bytes, {"n_dims 4294967295"});
}

TEST(GgufCorrupt, DimensionNotMultipleOfBlock) {
  GgufBytes g;
  g.header(3, 1, 0).tensor("blk.0.ffn_up.weight", {200, 4}, kQ4_K, 0).pad().zeros(1024);
  expect_bad("block.gguf", g.bytes,
             {"tensor 'blk.0.ffn_up.weight'", "ne[0] = 200 is not a multiple of the Q4_K block size 256"});
}

TEST(GgufCorrupt, ZeroOrOverflowingDims) {
  GgufBytes g;
  g.header(3, 1, 0).tensor("w", {32, 0}, kF32, 0).pad().zeros(128);
  expect_bad("zero_dim.gguf", g.bytes, {"tensor 'w'", "dimension ne[1] is 0"});
  GgufBytes h;
  h.header(3, 1, 0).tensor("w", {uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0).pad().zeros(128);
  expect_bad("overflow_numel.gguf", h.bytes, {"tensor 'w'", "dimensions are too large"});
  GgufBytes n;
  n.header(3, 1, 0).tensor("w", {std::numeric_limits<uint64_t>::max()}, kF32, 0).pad().zeros(128);
  expect_bad("negative_dim.gguf", n.bytes, {"dimensions are too large"});
  // Fits in int64 elements but not in bytes (8 per F64 value).
  GgufBytes b;
  b.header(3, 1, 0).tensor("w", {uint64_t{1} << 61, 2}, 28, 0).pad().zeros(128);
  expect_bad("overflow_bytes.gguf", b.bytes, {"tensor 'w'", "overflows the byte count"});
  // Large but representable: fails on the file size instead.
  GgufBytes c;
  c.header(3, 1, 0).tensor("w", {uint64_t{1} << 20, uint64_t{1} << 20}, kF32, 0).pad().zeros(128);
  expect_bad("huge_tensor.gguf", c.bytes, {"runs past the end of the file"});
}

}  // namespace
}  // namespace fare
