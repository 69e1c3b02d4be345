// Behaviour beyond the goldens: added-token rules, invalid input, errors, small vocabularies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/error.h"
#include "tokenizer/byte_symbols.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"
#include "tokenizer/unicode.h"

namespace fare {
namespace {

using test::fixture;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// The fixture's tokenizer.json with `edit` applied, written to a scratch directory.
std::string edited_tokenizer_json(const std::string& name, const std::function<void(nlohmann::ordered_json&)>& edit) {
  std::ifstream in(fixture("micro-qwen3/tokenizer/tokenizer.json"));
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(in);
  edit(j);
  const std::string path = test::scratch_dir(name) + "/tokenizer.json";
  write_file(path, j.dump());
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no fare::Error thrown)";
}

TEST(Tokenizer, ParseSpecialFalseKeepsSpecialTextButStillMapsAddedTokens) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::string text = "<|im_start|>user\n<think>x</think>";
  const std::vector<int32_t> plain = tok.encode(text, /*parse_special=*/false);
  const int32_t im_start = *tok.find("<|im_start|>");
  EXPECT_EQ(im_start, 151644);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
  EXPECT_EQ(tok.decode(plain), text);
  // "<think>" and "</think>" are added but not special: matched either way.
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151667), 1);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151668), 1);
  // The special text alone is ordinary BPE text: several byte-level tokens.
  const std::vector<int32_t> alone = tok.encode("<|im_start|>", false);
  EXPECT_GT(alone.size(), 1u);
  EXPECT_EQ(tok.decode(alone), "<|im_start|>");
  EXPECT_EQ(tok.encode("<|im_start|>", true), std::vector<int32_t>{151644});
}

TEST(Tokenizer, DecodeSkipsSpecialTokensOnRequest) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::vector<int32_t> ids = tok.encode("<|im_start|>Hi<think>", true);
  EXPECT_EQ(tok.decode(ids), "<|im_start|>Hi<think>");
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), "Hi<think>");
  EXPECT_TRUE(tok.is_special(151644));
  EXPECT_FALSE(tok.is_special(151667));  // <think>
  EXPECT_FALSE(tok.is_special(9707));
}

TEST(Tokenizer, TokenAccessors) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  EXPECT_EQ(tok.token_text(9707), "Hello");
  EXPECT_EQ(tok.token_text(220), "Ġ");
  EXPECT_EQ(tok.token_bytes(220), " ");
  EXPECT_EQ(tok.token_text(151645), "<|im_end|>");
  EXPECT_EQ(tok.find("Hello"), 9707);
  EXPECT_FALSE(tok.find("no such token").has_value());
  EXPECT_THROW(tok.token_bytes(tok.n_vocab()), Error);
  EXPECT_THROW(tok.token_text(-1), Error);
  // Ids beyond the vocabulary (a model's padded embedding rows) decode to nothing.
  const std::vector<int32_t> ids = {9707, 151700, -3, 1879};
  EXPECT_EQ(tok.decode(ids), "Hello world");
}

TEST(Tokenizer, InvalidUtf8IsEncodedAsBytesAndRoundTrips) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::vector<std::string> inputs = {"\xff",
                                           "abc\xfe\xff def",
                                           "caf\xc3",
                                           "\xe4\xbd",
                                           "\xed\xa0\x80 surrogate",
                                           "ok \xc0\xaf overlong",
                                           std::string("nul\0byte", 8),
                                           "\xf0\x9f\x99"};
  for (const std::string& s : inputs) {
    SCOPED_TRACE(testing::PrintToString(s));
    const std::vector<int32_t> ids = tok.encode(s, true);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok.decode(ids), s);
  }
}

// Long runs of one class make single huge pre-tokens and regex matches.
TEST(Tokenizer, LongRunsRoundTrip) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const size_t n = 200'000;
  for (std::string_view unit : {" ", "a", "7", "\n ", "\xe4\xbd\xa0", "!?", "\xff"}) {
    std::string s;
    while (s.size() < n) s += unit;
    SCOPED_TRACE(testing::PrintToString(unit));
    const std::vector<int32_t> ids = tok.encode(s, true);
    EXPECT_EQ(tok.decode(ids), s);
  }
}

TEST(Tokenizer, ConcurrentEncodesAgree) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const auto lines = test::read_jsonl(fixture("tokenizer/golden.jsonl"));
  std::vector<int> n_ok(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n_ok.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        for (const auto& line : lines)
          n_ok[t] += tok.encode(line["text"].get<std::string>(), true) == test::ids_of(line["ids_hf"]);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int ok : n_ok) EXPECT_EQ(ok, 3 * 140);
}

TEST(Tokenizer, RandomBytesRoundTripThroughNfc) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  std::mt19937 rng(7);
  const std::string alphabet[] = {"a",          " ",
                                  "\n",         "\xff",
                                  "\xc3",       "\xa9",
                                  "e\xcc\x81",  "\xe4\xbd\xa0",
                                  "'s",         "1",
                                  "<|im_end|>", "<think>",
                                  "\t",         "\xf0\x9f\x99\x82",
                                  "\x80"};
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) s += alphabet[rng() % std::size(alphabet)];
    SCOPED_TRACE(testing::PrintToString(s));
    // Added tokens are cut out before normalisation, so normalise the pieces between them.
    std::string expected;
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t next = std::min({s.find("<|im_end|>", pos), s.find("<think>", pos), s.size()});
      expected += unicode::nfc(s.substr(pos, next - pos));
      if (next == s.size()) break;
      const size_t len_tok = s.compare(next, 7, "<think>") == 0 ? 7 : 10;
      expected += s.substr(next, len_tok);
      pos = next + len_tok;
    }
    EXPECT_EQ(tok.decode(tok.encode(s, true)), expected);
  }
}

TEST(Tokenizer, AddedTokensLongestMatchAndStripFlags) {
  std::vector<AddedToken> added = {
      {0, "<a>", true, false, false},
      {0, "<a><b>", true, false, false},
      {0, "[L]", false, /*lstrip=*/true, false},
      {0, "[R]", false, false, /*rstrip=*/true},
  };
  const Tokenizer tok(test::byte_level_spec({{"x", "y"}}, added));
  const int32_t a = 257, ab = 258, l = 259, r = 260, xy = 256;
  EXPECT_EQ(tok.encode("<a><b>", true), (std::vector<int32_t>{ab}));
  EXPECT_EQ(tok.encode("<a><a><b>", true), (std::vector<int32_t>{a, ab}));
  EXPECT_EQ(tok.encode("xy  [L]  xy", true), (std::vector<int32_t>{xy, l, ' ', ' ', xy}));
  EXPECT_EQ(tok.encode("xy  [R] \n xy", true), (std::vector<int32_t>{xy, ' ', ' ', r, xy}));
  EXPECT_EQ(tok.encode("[R]", false), (std::vector<int32_t>{r}));
  // Special ones only when asked; the text is then plain bytes.
  EXPECT_EQ(tok.encode("<a>", false), (std::vector<int32_t>{'<', 'a', '>'}));
}

TEST(Tokenizer, BpeMergesLowestRankFirstLeftmostOnTies) {
  // Ranks: "bc" before "ab", so "abc" -> a + bc, and "aaaa" -> aa aa (leftmost first).
  const Tokenizer tok(test::byte_level_spec({{"b", "c"}, {"a", "b"}, {"a", "a"}, {"aa", "aa"}}, {}));
  EXPECT_EQ(tok.encode("abc", false), (std::vector<int32_t>{'a', 256}));
  EXPECT_EQ(tok.encode("ab", false), (std::vector<int32_t>{257}));
  EXPECT_EQ(tok.encode("aaa", false), (std::vector<int32_t>{258, 'a'}));
  EXPECT_EQ(tok.encode("aaaaa", false), (std::vector<int32_t>{259, 'a'}));
}

TEST(Tokenizer, IgnoreMergesTakesWholeVocabularyEntries) {
  // "xyz" is an entry no merge builds. "中" is written as raw UTF-8 rather than byte-level
  // symbols: Hugging Face looks pre-tokens up in symbols, so it is never found whole.
  TokenizerSpec spec = test::byte_level_spec({{"a", "b"}}, {});
  spec.tokens.push_back(byte_symbols::encode("xyz"));
  spec.tokens.push_back("中");
  const Tokenizer merges_only(spec);
  spec.ignore_merges = true;
  const Tokenizer whole(spec);
  const std::vector<int32_t> cjk = {0xe4, 0xb8, 0xad};
  EXPECT_EQ(merges_only.encode("xyz", false), (std::vector<int32_t>{'x', 'y', 'z'}));
  EXPECT_EQ(whole.encode("xyz", false), std::vector<int32_t>{257});
  EXPECT_EQ(whole.encode("xyz ab", false), (std::vector<int32_t>{257, ' ', 256}));  // " ab" is no entry
  EXPECT_EQ(whole.encode("中", false), cjk);
  EXPECT_EQ(merges_only.encode("中", false), cjk);
}

TEST(Tokenizer, HfLoaderNamesKnownSplitPatterns) {
  const std::string p1 =
      edited_tokenizer_json("ignore_merges", [](nlohmann::ordered_json& j) { j["model"]["ignore_merges"] = true; });
  const TokenizerSpec with_flag = load_hf_tokenizer(p1);
  EXPECT_TRUE(with_flag.ignore_merges);
  EXPECT_EQ(with_flag.pre, "qwen2");
  const std::string p2 = edited_tokenizer_json("own_regex", [](nlohmann::ordered_json& j) {
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = R"(\p{L}+|\p{N}|\s+|[^\s\p{L}\p{N}]+)";
  });
  const TokenizerSpec own = load_hf_tokenizer(p2);
  EXPECT_EQ(own.pre, "");  // no llama.cpp name; the pattern itself is used
  const Tokenizer tok(own);
  EXPECT_EQ(tok.decode(tok.encode("Hello, world 42", false)), "Hello, world 42");
}

TEST(Tokenizer, MergesAsStringsGiveTheSameIds) {
  const std::string path = edited_tokenizer_json("merges_as_strings", [](nlohmann::ordered_json& j) {
    for (auto& m : j["model"]["merges"]) m = m[0].get<std::string>() + " " + m[1].get<std::string>();
  });
  const Tokenizer tok(load_hf_tokenizer(path));
  for (const auto& line : test::read_jsonl(fixture("micro-qwen3/tokenizer/check.jsonl"))) {
    EXPECT_EQ(tok.encode(line["text"].get<std::string>(), true), test::ids_of(line["ids_hf"]));
  }
  // No tokenizer_config.json beside this copy: no bos/eos/pad.
  EXPECT_FALSE(tok.spec().eos.has_value());
}

TEST(TokenizerErrors, MissingFile) {
  const std::string msg = error_of([] { load_hf_tokenizer("/nonexistent/dir/tokenizer.json"); });
  EXPECT_NE(msg.find("cannot open /nonexistent/dir/tokenizer.json"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MalformedJson) {
  const std::string path = test::scratch_dir("malformed") + "/tokenizer.json";
  write_file(path, R"({"model": {"vocab": {"a": 0,}})");
  const std::string msg = error_of([&] { load_hf_tokenizer(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MergeWithUnknownToken) {
  const std::string path = edited_tokenizer_json("bad_merge", [](nlohmann::ordered_json& j) {
    j["model"]["merges"][5] = nlohmann::ordered_json::array({"Ġ", "zzqq"});
  });
  const std::string msg = error_of([&] { Tokenizer tok(load_hf_tokenizer(path)); });
  EXPECT_NE(msg.find("merge 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'zzqq'"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MergeResultNotInVocabulary) {
  const std::string path = edited_tokenizer_json("bad_merge_result", [](nlohmann::ordered_json& j) {
    j["model"]["merges"].push_back(nlohmann::ordered_json::array({"Q", "Z"}));
  });
  const std::string msg = error_of([&] { Tokenizer tok(load_hf_tokenizer(path)); });
  EXPECT_NE(msg.find("'QZ'"), std::string::npos) << msg;
}

TEST(TokenizerErrors, UnsupportedPipelinePartsAreNamed) {
  const std::string p1 =
      edited_tokenizer_json("nfkc", [](nlohmann::ordered_json& j) { j["normalizer"]["type"] = "NFKC"; });
  EXPECT_NE(error_of([&] { load_hf_tokenizer(p1); }).find("normalizer 'NFKC' is not supported"), std::string::npos);
  const std::string p2 =
      edited_tokenizer_json("fallback", [](nlohmann::ordered_json& j) { j["model"]["byte_fallback"] = true; });
  EXPECT_NE(error_of([&] { load_hf_tokenizer(p2); }).find("model.byte_fallback"), std::string::npos);
  const std::string p3 = edited_tokenizer_json("bad_regex", [](nlohmann::ordered_json& j) {
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  });
  EXPECT_NE(error_of([&] { Tokenizer tok(load_hf_tokenizer(p3)); }).find("does not compile"), std::string::npos);
  const std::string p4 =
      edited_tokenizer_json("vocab_type", [](nlohmann::ordered_json& j) { j["model"]["vocab"]["a"] = "x"; });
  EXPECT_NE(error_of([&] { load_hf_tokenizer(p4); }).find("model.vocab['a']: expected an integer"), std::string::npos);
}

TEST(TokenizerErrors, BadConfigTokenIsNamed) {
  const std::string dir = test::scratch_dir("bad_config");
  std::filesystem::copy_file(fixture("micro-qwen3/tokenizer/tokenizer.json"), dir + "/tokenizer.json");
  write_file(dir + "/tokenizer_config.json", R"({"eos_token": {"content": "<|nope|>"}, "bos_token": null})");
  const std::string msg = error_of([&] { load_hf_tokenizer(dir + "/tokenizer.json"); });
  EXPECT_NE(msg.find("eos_token: '<|nope|>' is not a token"), std::string::npos) << msg;
}

TEST(TokenizerErrors, SpecValidation) {
  TokenizerSpec dup = test::byte_level_spec({}, {{0, "<x>", true, false, false}});
  dup.added.push_back(dup.added[0]);
  EXPECT_NE(error_of([&] { Tokenizer t(dup); }).find("listed twice"), std::string::npos);
  TokenizerSpec no_byte = test::byte_level_spec({}, {});
  no_byte.tokens[10] = "something else";
  EXPECT_NE(error_of([&] { Tokenizer t(no_byte); }).find("no token for byte 0xa"), std::string::npos);
  TokenizerSpec bad_eos = test::byte_level_spec({}, {});
  bad_eos.eos = 999;
  EXPECT_NE(error_of([&] { Tokenizer t(bad_eos); }).find("eos id 999"), std::string::npos);
  TokenizerSpec bad_pre = test::byte_level_spec({}, {});
  bad_pre.pre = "llama3";
  EXPECT_NE(error_of([&] { Tokenizer t(bad_pre); }).find("'llama3' is not supported"), std::string::npos);
}

TEST(ByteSymbols, AllBytesRoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string sym = byte_symbols::encode(all);
  EXPECT_EQ(byte_symbols::decode(sym), all);
  EXPECT_EQ(byte_symbols::encode(" \n"), "ĠĊ");
  EXPECT_FALSE(byte_symbols::decode("<|im_end|>你").has_value());
}

}  // namespace
}  // namespace fare
