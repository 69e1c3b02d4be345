// Corrupt safetensors files: each must give one fare::Error naming the file and the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "io/safetensors.h"
#include "io_test_util.h"

namespace fare {
namespace {

using test::expect_error;
using test::fixture;
using test::poke;
using test::temp_path;

// An 8-byte header length, the header text and `data_bytes` zero bytes of data.
std::vector<uint8_t> st_bytes(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
  const uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  return b;
}

std::string expect_bad(const std::string& name, const std::vector<uint8_t>& bytes,
                       std::initializer_list<std::string_view> phrases) {
  const auto path = temp_path(name);
  test::write_bytes(path, bytes);
  const auto msg = expect_error([&] { SafetensorsFile f(path); }, phrases);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  return msg;
}

std::string expect_bad_header(const std::string& name, const std::string& header, size_t data_bytes,
                              std::initializer_list<std::string_view> phrases) {
  return expect_bad(name, st_bytes(header, data_bytes), phrases);
}

TEST(SafetensorsCorrupt, SmallBaselineLoads) {
  // c, d: gpt-oss's MXFP4 experts as the release stores them, blocks and scales in U8 tensors.
  const auto path = temp_path("ok.safetensors");
  test::write_bytes(path, st_bytes(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                                   R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},)"
                                   R"("c":{"dtype":"U8","shape":[2,1,16],"data_offsets":[24,56]},)"
                                   R"("d":{"dtype":"U8","shape":[2,1],"data_offsets":[56,58]}})", 58));
  const SafetensorsFile f(path);
  EXPECT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.tensors().at("b").shape, std::vector<int64_t>{4});
  EXPECT_EQ(f.tensors().at("c").dtype, DType::U8);
  EXPECT_EQ(f.tensors().at("c").nbytes, 32u);
  EXPECT_EQ(f.tensors().at("d").nbytes, 2u);
}

TEST(SafetensorsCorrupt, TooShort) {
  expect_bad("empty.safetensors", {}, {"file is 0 bytes, too short"});
  expect_bad("seven.safetensors", {1, 0, 0, 0, 0, 0, 0}, {"file is 7 bytes, too short"});
}

TEST(SafetensorsCorrupt, TruncatedFixture) {
  const auto bytes = test::read_bytes(fixture("micro-qwen3/hf-bf16/model.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const auto cut = [&](size_t k) { return std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(k)); };
  expect_bad("cut_header.safetensors", cut(8 + n / 2), {"runs past the end of the file", "truncated?"});
  expect_bad("cut_data.safetensors", cut(bytes.size() - 1), {"run past the end of the data section", "truncated"});
}

TEST(SafetensorsCorrupt, HeaderLengthBeyondFile) {
  auto b = st_bytes(R"({})", 0);
  poke<uint64_t>(b, 0, 1000);
  expect_bad("len_beyond.safetensors", b, {"header length 1000 runs past the end of the file (10 bytes"});
}

TEST(SafetensorsCorrupt, HeaderLengthHuge) {
  auto b = st_bytes(R"({})", 0);
  poke<uint64_t>(b, 0, std::numeric_limits<uint64_t>::max());
  expect_bad("len_huge.safetensors", b, {"header length 18446744073709551615 exceeds the 100 MB limit"});
}

TEST(SafetensorsCorrupt, NotJson) {
  expect_bad_header("not_json.safetensors", R"({"a": {"dtype": "F32",)", 0, {"header is not valid JSON"});
  expect_bad_header("binary.safetensors", std::string("\x00\xff\xfe", 3), 0, {"header is not valid JSON"});
}

TEST(SafetensorsCorrupt, HeaderNotObject) {
  expect_bad_header("array.safetensors", R"([1, 2, 3])", 0, {"header is not a JSON object"});
  expect_bad_header("string.safetensors", R"("hello")", 0, {"header is not a JSON object"});
}

TEST(SafetensorsCorrupt, EntryNotObject) {
  expect_bad_header("entry.safetensors", R"({"w": [1, 2]})", 0, {"tensor 'w'", "header entry is not an object"});
}

TEST(SafetensorsCorrupt, MissingFields) {
  expect_bad_header("no_dtype.safetensors", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "missing string field 'dtype'"});
  expect_bad_header("dtype_num.safetensors", R"({"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "missing string field 'dtype'"});
  expect_bad_header("no_shape.safetensors", R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "missing array field 'shape'"});
  expect_bad_header("no_offsets.safetensors", R"({"w":{"dtype":"F32","shape":[2]}})", 8,
                    {"tensor 'w'", "missing field 'data_offsets'"});
  expect_bad_header("one_offset.safetensors", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8,
                    {"tensor 'w'", "missing field 'data_offsets'"});
}

TEST(SafetensorsCorrupt, UnknownDtype) {
  expect_bad_header("dtype.safetensors", R"({"w":{"dtype":"Q9_X","shape":[2],"data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "unsupported dtype 'Q9_X'"});
}

TEST(SafetensorsCorrupt, BadDims) {
  expect_bad_header("neg_dim.safetensors", R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "non-integer or negative dimension"});
  expect_bad_header("float_dim.safetensors", R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "non-integer or negative dimension"});
  expect_bad_header("huge_dims.safetensors",
                    R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8,
                    {"tensor 'w'", "has more than 2^48 elements"});
}

TEST(SafetensorsCorrupt, OffsetsPastEnd) {
  expect_bad_header("past_end.safetensors", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 16,
                    {"tensor 'w'", "run past the end of the data section (16 bytes"});
  expect_bad_header("neg_offset.safetensors", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 16,
                    {"tensor 'w'", "are not non-negative integers"});
}

TEST(SafetensorsCorrupt, BeginAfterEnd) {
  expect_bad_header("begin_end.safetensors", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 16,
                    {"tensor 'w'", "end before they begin"});
}

TEST(SafetensorsCorrupt, SizeMismatch) {
  expect_bad_header("size.safetensors", R"({"w":{"dtype":"BF16","shape":[3,3],"data_offsets":[0,16]}})", 16,
                    {"tensor 'w'", "holds 16 bytes, but BF16 [3, 3] needs 18"});
}

TEST(SafetensorsCorrupt, OverlappingRanges) {
  expect_bad_header("overlap.safetensors",
                    R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                    16, {"tensor data ranges overlap at byte 8"});
}

TEST(SafetensorsCorrupt, MetadataNotObject) {
  expect_bad_header("meta.safetensors", R"({"__metadata__":["x"]})", 0, {"__metadata__ is not an object"});
}

// nlohmann::json throws out_of_range (not parse_error) for numbers beyond double.
TEST(SafetensorsCorrupt, NumberOverflowIsFareError) {
  expect_bad_header("overflow_number.safetensors", R"({"w":{"dtype":"F32","shape":[1e999],"data_offsets":[0,4]}})", 4,
                    {"header is not valid JSON"});
}

// A zero dimension must not let another dimension above INT64_MAX through.
TEST(SafetensorsCorrupt, HugeDimensionAfterZeroIsRejected) {
  expect_bad_header("zero_then_huge.safetensors",
                    R"({"w":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})", 0,
                    {"tensor 'w'", "dimension above 2^48"});
}

// Deep nesting is refused while parsing, before anything recursive sees it.
TEST(SafetensorsCorrupt, DeeplyNestedValuesAreRejected) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  expect_bad_header("deep_shape.safetensors", R"({"w":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,4]}})", 4,
                    {"nests deeper than"});
  expect_bad_header("deep_metadata.safetensors", R"({"__metadata__":{"a":)" + deep + "}}", 0, {"nests deeper than"});
}

TEST(SafetensorsCorrupt, DuplicateTensorName) {
  expect_bad_header("dup.safetensors",
                    R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                    8, {"tensor 'w' appears twice"});
}

}  // namespace
}  // namespace fare
