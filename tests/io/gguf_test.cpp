// GGUF reader on the fixture files (checked against their manifests) and writer round trips.
#include "io/gguf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "io_test_util.h"

namespace fare {
namespace {

using json = nlohmann::json;
using test::expect_error;
using test::fixture;
using test::GgufBytes;
using test::temp_path;

json load_manifest(const std::string& rel) {
  std::ifstream in(fixture(rel));
  return json::parse(in);
}

// Expected shape (outermost first) of every tensor of a Qwen3 GGUF, from the model config.
std::vector<int64_t> expected_shape(const std::string& name, const json& cfg) {
  const int64_t hidden = cfg["hidden_size"], ffn = cfg["intermediate_size"], vocab = cfg["vocab_size"];
  const int64_t head_dim = cfg["head_dim"];
  const int64_t q_dim = head_dim * cfg["num_attention_heads"].get<int64_t>();
  const int64_t kv_dim = head_dim * cfg["num_key_value_heads"].get<int64_t>();
  const auto ends = [&](const char* s) { return name.ends_with(s); };
  if (name == "token_embd.weight" || name == "output.weight") return {vocab, hidden};
  if (ends("attn_q.weight")) return {q_dim, hidden};
  if (ends("attn_k.weight") || ends("attn_v.weight")) return {kv_dim, hidden};
  if (ends("attn_output.weight")) return {hidden, q_dim};
  if (ends("ffn_gate.weight") || ends("ffn_up.weight")) return {ffn, hidden};
  if (ends("ffn_down.weight")) return {hidden, ffn};
  if (ends("attn_q_norm.weight") || ends("attn_k_norm.weight")) return {head_dim};
  if (ends("norm.weight")) return {hidden};
  ADD_FAILURE() << "unexpected tensor " << name;
  return {};
}

void check_fixture(const std::string& dir, const json& manifest, const std::string& file) {
  SCOPED_TRACE(file);
  const GgufFile f(fixture(dir + "/" + file));
  const auto& cfg = manifest["config"];
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_int("qwen3.block_count"), cfg["num_hidden_layers"].get<int64_t>());
  EXPECT_EQ(f.get_int("qwen3.embedding_length"), cfg["hidden_size"].get<int64_t>());
  EXPECT_EQ(f.get_int("qwen3.feed_forward_length"), cfg["intermediate_size"].get<int64_t>());
  EXPECT_EQ(f.get_int("qwen3.attention.head_count"), cfg["num_attention_heads"].get<int64_t>());
  EXPECT_EQ(f.get_int("qwen3.attention.head_count_kv"), cfg["num_key_value_heads"].get<int64_t>());
  EXPECT_EQ(f.get_int("qwen3.attention.key_length"), cfg["head_dim"].get<int64_t>());
  EXPECT_EQ(f.get_int("qwen3.context_length"), cfg["max_position_embeddings"].get<int64_t>());
  EXPECT_EQ(f.get_float("qwen3.rope.freq_base"), cfg["rope_theta"].get<double>());
  // Stored as F32, so compare with the float nearest to the config's double.
  EXPECT_EQ(f.get_float("qwen3.attention.layer_norm_rms_epsilon"),
            static_cast<double>(static_cast<float>(cfg["rms_norm_eps"].get<double>())));
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), cfg["eos_token_id"].get<int64_t>());
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), cfg["bos_token_id"].get<int64_t>());
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_bos_token"));
  const auto n_vocab = static_cast<size_t>(cfg["vocab_size"].get<int64_t>());
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), n_vocab);
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type").size(), n_vocab);
  EXPECT_FALSE(f.get_string_array("tokenizer.ggml.merges").empty());
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_NE(f.get_string("tokenizer.chat_template").find("<|im_start|>"), std::string::npos);

  const auto& types = manifest["files"][file]["tensor_types"];
  EXPECT_EQ(f.tensors().size(), types.size());
  for (auto it = types.begin(); it != types.end(); ++it) {
    SCOPED_TRACE(it.key());
    const auto t = f.tensors().find(it.key());
    ASSERT_NE(t, f.tensors().end());
    const auto& info = t->second;
    EXPECT_EQ(name(info.dtype), it.value().get<std::string>());
    EXPECT_EQ(info.shape, expected_shape(it.key(), cfg));
    EXPECT_EQ(info.nbytes, static_cast<size_t>(info.numel() / info.shape.back()) * row_bytes(info.dtype, info.shape.back()));
    EXPECT_EQ(info.file, f.path());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(info.data) % 32, 0u);  // the map is page aligned
  }
}

TEST(GgufFixtures, MicroQwen3MatchesManifest) {
  const auto manifest = load_manifest("micro-qwen3/micro-qwen3.manifest.json");
  int n_files = 0;
  for (auto it = manifest["files"].begin(); it != manifest["files"].end(); ++it) {
    if (!it.key().ends_with(".gguf")) continue;
    check_fixture("micro-qwen3", manifest, it.key());
    ++n_files;
  }
  EXPECT_EQ(n_files, 8);
}

TEST(GgufFixtures, TinyQwen3MatchesManifest) {
  const auto manifest = load_manifest("tiny-qwen3/tiny-qwen3.manifest.json");
  check_fixture("tiny-qwen3", manifest, "tiny-qwen3-q8_0.gguf");
}

TEST(GgufFixtures, TypedGettersNameKeyAndTypes) {
  const auto path = fixture("micro-qwen3/micro-qwen3-q8_0.gguf");
  const GgufFile f(path);
  expect_error([&] { f.get_string("qwen3.block_count"); },
               {path, "'qwen3.block_count'", "expected STRING", "found U32"});
  expect_error([&] { f.get_int("general.architecture"); }, {path, "expected an integer type", "found STRING"});
  expect_error([&] { f.get_bool("qwen3.block_count"); }, {"expected BOOL", "found U32"});
  expect_error([&] { f.get_float("tokenizer.ggml.tokens"); }, {"found ARRAY of STRING"});
  expect_error([&] { f.get_int_array("tokenizer.ggml.tokens"); },
               {"expected ARRAY of an integer type", "found ARRAY of STRING"});
  expect_error([&] { f.get_float_array("tokenizer.ggml.token_type"); }, {"expected ARRAY of F32 or F64", "found ARRAY of I32"});
  expect_error([&] { f.get_string_array("general.name"); }, {"expected ARRAY of STRING", "found STRING"});
  expect_error([&] { f.get_string("no.such.key"); }, {path, "'no.such.key' is missing"});
  EXPECT_EQ(f.get_float("qwen3.block_count"), 2.0);  // integers widen to float
  EXPECT_EQ(f.find("no.such.key"), nullptr);
  EXPECT_TRUE(f.has("general.name"));
}

// Every value type the format has, written field by field, including arrays of each.
TEST(GgufReader, ReadsEveryValueType) {
  GgufBytes g;
  g.header(3, 0, 18);
  g.key("u8", 0).put<uint8_t>(200).key("i8", 1).put<int8_t>(-100);
  g.key("u16", 2).put<uint16_t>(60000).key("i16", 3).put<int16_t>(-30000);
  g.key("u32", 4).put<uint32_t>(4000000000u).key("i32", 5).put<int32_t>(-2000000000);
  g.key("f32", 6).put<float>(-1.5f).key("bool", 7).put<uint8_t>(1);
  g.kv_str("str", std::string("a\0b", 3));
  g.key("u64", 10).put<uint64_t>(uint64_t{1} << 62).key("i64", 11).put<int64_t>(-(int64_t{1} << 62));
  g.key("f64", 12).put<double>(0.1);
  g.key("arr_u8", 9).put<uint32_t>(0).put<uint64_t>(3).put<uint8_t>(1).put<uint8_t>(2).put<uint8_t>(255);
  g.key("arr_i16", 9).put<uint32_t>(3).put<uint64_t>(2).put<int16_t>(-7).put<int16_t>(7);
  g.key("arr_bool", 9).put<uint32_t>(7).put<uint64_t>(2).put<uint8_t>(0).put<uint8_t>(1);
  g.key("arr_f64", 9).put<uint32_t>(12).put<uint64_t>(2).put<double>(1e300).put<double>(-0.0);
  g.key("arr_str", 9).put<uint32_t>(8).put<uint64_t>(3).str("x").str("").str("zz");
  g.key("arr_empty", 9).put<uint32_t>(11).put<uint64_t>(0);
  const auto path = temp_path("every_type.gguf");
  test::write_bytes(path, g.bytes);

  const GgufFile f(path);
  EXPECT_EQ(f.metadata().size(), 18u);
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -100);
  EXPECT_EQ(f.get_int("u16"), 60000);
  EXPECT_EQ(f.get_int("i16"), -30000);
  EXPECT_EQ(f.get_int("u32"), 4000000000);
  EXPECT_EQ(f.get_int("i32"), -2000000000);
  EXPECT_EQ(f.get_float("f32"), -1.5);
  EXPECT_TRUE(f.get_bool("bool"));
  EXPECT_EQ(f.get_string("str"), std::string("a\0b", 3));
  EXPECT_EQ(f.get_int("u64"), int64_t{1} << 62);
  EXPECT_EQ(f.get_int("i64"), -(int64_t{1} << 62));
  EXPECT_EQ(f.get_float("f64"), 0.1);
  EXPECT_EQ(f.get_int_array("arr_u8"), (std::vector<int64_t>{1, 2, 255}));
  EXPECT_EQ(f.get_int_array("arr_i16"), (std::vector<int64_t>{-7, 7}));
  EXPECT_EQ(f.get_int_array("arr_bool"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(f.get_float_array("arr_f64"), (std::vector<double>{1e300, -0.0}));
  EXPECT_EQ(f.get_string_array("arr_str"), (std::vector<std::string>{"x", "", "zz"}));
  EXPECT_TRUE(f.get_int_array("arr_empty").empty());
  EXPECT_EQ(f.find("arr_empty")->elem_type, GgufType::I64);
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufReader, AcceptsVersion2) {
  GgufBytes g;
  g.header(2, 1, 1).kv_str("general.architecture", "qwen3").tensor("w", {32}, 0, 0).pad().zeros(128);
  const auto path = temp_path("v2.gguf");
  test::write_bytes(path, g.bytes);
  const GgufFile f(path);
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.tensors().at("w").shape, std::vector<int64_t>{32});
}

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

void round_trip(uint64_t alignment) {
  SCOPED_TRACE(alignment);
  GgufWriter w;
  w.set_string("general.architecture", "qwen3");
  w.set_string("empty", "");
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -5);
  w.set_f32("f32", 0.1f);
  w.set_f32("nan", std::numeric_limits<float>::quiet_NaN());
  w.set_bool("yes", true);
  w.set_bool("no", false);
  w.set_string_array("strings", {"a", "", "日本語", std::string(1000, 'x')});
  w.set_i32_array("ints", {std::numeric_limits<int32_t>::min(), 0, std::numeric_limits<int32_t>::max()});
  w.set_f32_array("floats", {1.0f, -2.5f, 1e-40f});
  w.set_i32_array("no_ints", {});
  w.set_i32("i32", 7);  // a second set replaces the first
  struct T {
    const char* name;
    DType dtype;
    std::vector<int64_t> shape;
  };
  const std::vector<T> specs = {{"a.f32", DType::F32, {3, 5}},        {"b.f16", DType::F16, {7}},
                                {"c.bf16", DType::BF16, {2, 3, 4, 5}}, {"d.q8_0", DType::Q8_0, {3, 64}},
                                {"e.q4_k", DType::Q4_K, {2, 256}},     {"f.q6_k", DType::Q6_K, {1, 512}},
                                {"g.q4_0", DType::Q4_0, {32}},        {"h.mxfp4", DType::MXFP4, {2, 3, 64}}};
  std::map<std::string, std::vector<uint8_t>> data;
  for (size_t k = 0; k < specs.size(); ++k) {
    const auto& s = specs[k];
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < s.shape.size(); ++d) rows *= s.shape[d];
    const size_t nbytes = static_cast<size_t>(rows) * row_bytes(s.dtype, s.shape.back());
    data[s.name] = random_bytes(nbytes, k);
    w.add_tensor(s.name, s.dtype, s.shape, data[s.name]);
  }
  const auto path = temp_path("round_trip_" + std::to_string(alignment) + ".gguf");
  w.write(path, alignment);

  const GgufFile f(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.has("general.alignment"), alignment != 32);
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_string("empty"), "");
  EXPECT_EQ(f.get_int("u32"), 4000000000);
  EXPECT_EQ(f.find("u32")->type, GgufType::U32);
  EXPECT_EQ(f.get_int("i32"), 7);
  EXPECT_EQ(f.find("i32")->type, GgufType::I32);
  EXPECT_EQ(f.get_float("f32"), static_cast<double>(0.1f));
  EXPECT_TRUE(std::isnan(f.get_float("nan")));
  EXPECT_TRUE(f.get_bool("yes"));
  EXPECT_FALSE(f.get_bool("no"));
  EXPECT_EQ(f.get_string_array("strings"), (std::vector<std::string>{"a", "", "日本語", std::string(1000, 'x')}));
  EXPECT_EQ(f.get_int_array("ints"), (std::vector<int64_t>{std::numeric_limits<int32_t>::min(), 0,
                                                            std::numeric_limits<int32_t>::max()}));
  EXPECT_EQ(f.find("ints")->elem_type, GgufType::I32);
  EXPECT_EQ(f.get_float_array("floats"), (std::vector<double>{1.0, -2.5, static_cast<double>(1e-40f)}));
  EXPECT_TRUE(f.get_int_array("no_ints").empty());
  ASSERT_EQ(f.tensors().size(), specs.size());
  for (const auto& s : specs) {
    SCOPED_TRACE(s.name);
    const auto& t = f.tensors().at(s.name);
    EXPECT_EQ(t.dtype, s.dtype);
    EXPECT_EQ(t.shape, s.shape);
    ASSERT_EQ(t.nbytes, data[s.name].size());
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), data[s.name]);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % alignment, 0u);
  }
}

TEST(GgufWriter, RoundTripsEveryWriterTypeAndTensorType) {
  for (uint64_t a : {32, 1, 8, 64, 4096}) round_trip(a);
}

// MXFP4 is ggml type 39 (blocks of 32 values in 17 bytes): the id in the file's tensor info, both
// ways.
TEST(GgufWriter, Mxfp4IsGgmlType39) {
  EXPECT_EQ(dtype_from_ggml(39), DType::MXFP4);
  EXPECT_EQ(ggml_type_id(DType::MXFP4), 39u);
  EXPECT_EQ(row_bytes(DType::MXFP4, 64), 34u);
  GgufWriter w;
  w.set_string("general.architecture", "gpt-oss");
  w.add_tensor("experts", DType::MXFP4, {4, 64}, std::vector<uint8_t>(4 * 34, 0x77));
  const auto path = temp_path("mxfp4.gguf");
  w.write(path);
  // The tensor info: name, n_dims = 2, ne = {64, 4}, then the type id.
  const auto bytes = test::read_bytes(path);
  const std::string name = "experts";
  const auto at = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(at, bytes.end());
  uint32_t type = 0;
  std::memcpy(&type, &*at + name.size() + 4 + 2 * 8, 4);
  EXPECT_EQ(type, 39u);
  const GgufFile f(path);
  EXPECT_EQ(f.tensors().at("experts").dtype, DType::MXFP4);
  EXPECT_EQ(f.tensors().at("experts").nbytes, 4u * 34);
}

// The writer reproduces a fixture byte for byte when given the same keys, tensors and order:
// its layout is the standard one the fixture's llama.cpp-checked files use.
TEST(GgufWriter, ReproducesFixtureBytes) {
  const auto src_path = fixture("micro-qwen3/micro-qwen3-q4_k_m.gguf");
  const GgufFile src(src_path);
  const char* const kKeyOrder[] = {
      "general.architecture", "general.type", "general.name", "general.file_type", "general.quantization_version",
      "qwen3.block_count", "qwen3.context_length", "qwen3.embedding_length", "qwen3.feed_forward_length",
      "qwen3.attention.head_count", "qwen3.attention.head_count_kv", "qwen3.rope.freq_base",
      "qwen3.attention.layer_norm_rms_epsilon", "qwen3.attention.key_length", "qwen3.attention.value_length",
      "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
      "tokenizer.ggml.merges", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
      "tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.chat_template"};
  ASSERT_EQ(std::size(kKeyOrder), src.metadata().size());
  GgufWriter w;
  for (const char* key : kKeyOrder) {
    const auto& v = src.metadata().at(key);
    switch (v.type) {
      case GgufType::STRING: w.set_string(key, v.s); break;
      case GgufType::U32: w.set_u32(key, static_cast<uint32_t>(v.i)); break;
      case GgufType::F32: w.set_f32(key, static_cast<float>(v.f)); break;
      case GgufType::BOOL: w.set_bool(key, v.i != 0); break;
      case GgufType::ARRAY:
        if (v.elem_type == GgufType::STRING) w.set_string_array(key, v.strings);
        else w.set_i32_array(key, std::vector<int32_t>(v.ints.begin(), v.ints.end()));
        break;
      default: FAIL() << key << " has type " << gguf_type_name(v.type);
    }
  }
  std::vector<const TensorInfo*> by_offset;
  for (const auto& [n, t] : src.tensors()) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->data < b->data; });
  for (const auto* t : by_offset) w.add_tensor(t->name, t->dtype, t->shape, {t->data, t->data + t->nbytes});
  const auto out = temp_path("rewritten.gguf");
  w.write(out);
  EXPECT_TRUE(test::read_bytes(out) == test::read_bytes(src_path));
}

TEST(GgufWriter, RejectsBadInput) {
  GgufWriter w;
  expect_error([&] { w.add_tensor("x", DType::F32, {2, 3}, std::vector<uint8_t>(20)); }, {"'x'", "holds 20 bytes", "needs 24"});
  expect_error([&] { w.add_tensor("x", DType::F8_E4M3, {4}, std::vector<uint8_t>(4)); }, {"F8_E4M3 cannot be stored"});
  expect_error([&] { w.add_tensor("x", DType::Q8_0, {2, 48}, std::vector<uint8_t>(68)); }, {"not a multiple of the Q8_0 block size 32"});
  expect_error([&] { w.add_tensor("x", DType::F32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)); }, {"1..4 dimensions"});
  expect_error([&] { w.add_tensor("x", DType::F32, {0, 4}, std::vector<uint8_t>{}); }, {"non-positive"});
  w.add_tensor("x", DType::F32, {1}, std::vector<uint8_t>(4));
  expect_error([&] { w.add_tensor("x", DType::F32, {1}, std::vector<uint8_t>(4)); }, {"'x'", "added twice"});
  const auto path = temp_path("bad_alignment.gguf");
  expect_error([&] { w.write(path, 48); }, {path, "alignment 48 is not a power of two"});
  w.set_u32("general.alignment", 64);
  expect_error([&] { w.write(path, 32); }, {path, "'general.alignment' disagrees"});
  w.write(path, 64);
  EXPECT_EQ(GgufFile(path).alignment(), 64u);
}

}  // namespace
}  // namespace fare
