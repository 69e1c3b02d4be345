// load_hf_tokenizer: the subset of Hugging Face's tokenizer.json that Qwen2/Qwen3 and gpt-oss
// use. Anything that would change the ids (another normaliser, byte fallback, a different
// pre-tokenizer layout) is rejected by name rather than silently ignored.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "tokenizer/merge_text.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace fare {
namespace {

using nlohmann::json;

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open ", path, ": ", std::strerror(errno));
  std::ostringstream buf;
  buf << f.rdbuf();
  return buf.str();
}

json parse_json(const std::string& text, const std::string& path, const json::parser_callback_t& cb = nullptr) {
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number beyond double's range
    fail(path, ": malformed JSON: ", e.what());
  }
}

// model.vocab and model.merges are taken out while parsing: kept in the DOM they would be some
// 450k small allocations, which dominate the load time of a 150k-token vocabulary. (With
// nlohmann's callback, rejecting a key keeps it out of its object; rejecting a value or a
// finished array keeps it out of its parent.)
class BulkFieldCollector {
 public:
  std::vector<std::pair<std::string, int64_t>> vocab;  // document order
  std::vector<json> merges;                            // each "a b" or ["a", "b"], as parsed
  std::string vocab_error;                             // the first entry that is not an integer

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    using Event = json::parse_event_t;
    const auto d = static_cast<size_t>(depth);
    if (event == Event::object_start || event == Event::array_start) {
      if (is_array_.size() <= d) is_array_.resize(d + 1);
      is_array_[d] = event == Event::array_start;
      return true;
    }
    if (depth == 3 && inside_model("vocab", false)) return take_vocab(event, parsed);
    if (depth == 3 && inside_model("merges", true) && (event == Event::value || event == Event::array_end)) {
      merges.push_back(std::move(parsed));
      return false;
    }
    if (event == Event::key) {
      if (keys_.size() <= d) keys_.resize(d + 1);
      keys_[d] = parsed.get<std::string>();
    }
    return true;
  }

 private:
  bool take_vocab(json::parse_event_t event, const json& parsed) {
    if (event == json::parse_event_t::key) {
      token_ = parsed.get<std::string>();
    } else if (event == json::parse_event_t::value && parsed.is_number_integer()) {
      vocab.emplace_back(std::move(token_), parsed.get<int64_t>());
    } else if (vocab_error.empty()) {
      vocab_error = cat("model.vocab['", token_, "']: expected an integer, got ", parsed.type_name());
    }
    return false;
  }
  // Whether the parser is inside root.model.<field>, which is an array or an object.
  bool inside_model(std::string_view field, bool array) const {
    return keys_.size() > 2 && is_array_.size() > 2 && !is_array_[0] && !is_array_[1] && is_array_[2] == array &&
           keys_[1] == "model" && keys_[2] == field;
  }
  std::vector<std::string> keys_;  // by depth: the key being read in the object at that depth
  std::vector<bool> is_array_;     // by depth: the kind of the container that starts there
  std::string token_;              // the vocabulary key being read
};

// Names the file and JSON path in every message.
struct Where {
  const std::string& path;
  [[noreturn]] void error(std::string_view field, std::string_view problem) const {
    fail(path, ": ", field, ": ", problem);
  }
  const json& member(const json& obj, const char* key, std::string_view field) const {
    if (!obj.is_object()) error(field, cat("expected an object, got ", obj.type_name()));
    auto it = obj.find(key);
    if (it == obj.end()) error(field, cat("missing key '", key, "'"));
    return *it;
  }
  std::string string_at(const json& v, std::string_view field) const {
    if (!v.is_string()) error(field, cat("expected a string, got ", v.type_name()));
    return v.get<std::string>();
  }
  int64_t int_at(const json& v, std::string_view field) const {
    if (!v.is_number_integer()) error(field, cat("expected an integer, got ", v.type_name()));
    return v.get<int64_t>();
  }
  bool flag(const json& obj, const char* key, std::string_view field) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return false;
    if (!it->is_boolean()) error(cat(field, ".", key), cat("expected a boolean, got ", it->type_name()));
    return it->get<bool>();
  }
};

void put_token(TokenizerSpec& spec, std::vector<bool>& filled, int64_t id, const std::string& text, const Where& w,
               std::string_view field) {
  if (id < 0 || id > 100'000'000) w.error(field, cat("token id ", id, " is out of range"));
  if (static_cast<size_t>(id) >= spec.tokens.size()) {
    spec.tokens.resize(id + 1);
    filled.resize(id + 1, false);
  }
  if (filled[id] && spec.tokens[id] != text) {
    w.error(field, cat("id ", id, " is given to both '", spec.tokens[id], "' and '", text, "'"));
  }
  spec.tokens[id] = text;
  filled[id] = true;
}

void read_vocab(const json& model, const BulkFieldCollector& bulk, TokenizerSpec& spec, std::vector<bool>& filled,
                const Where& w) {
  const json& vocab = w.member(model, "vocab", "model");
  if (!vocab.is_object()) w.error("model.vocab", cat("expected an object, got ", vocab.type_name()));
  if (!bulk.vocab_error.empty()) fail(w.path, ": ", bulk.vocab_error);
  spec.tokens.reserve(bulk.vocab.size() + 1024);
  for (const auto& [text, id] : bulk.vocab) put_token(spec, filled, id, text, w, "model.vocab");
}

void read_merges(const json& model, BulkFieldCollector& bulk, TokenizerSpec& spec, const Where& w) {
  const json& merges = w.member(model, "merges", "model");
  if (!merges.is_array()) w.error("model.merges", cat("expected an array, got ", merges.type_name()));
  if (!merges.empty()) w.error("model.merges", cat("unexpected entry ", merges[0].dump()));
  spec.merges.reserve(bulk.merges.size());
  for (size_t i = 0; i < bulk.merges.size(); ++i) {
    json& m = bulk.merges[i];
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      spec.merges.emplace_back(std::move(m[0].get_ref<std::string&>()), std::move(m[1].get_ref<std::string&>()));
    } else if (auto pair = m.is_string() ? split_merge_text(m.get_ref<const std::string&>()) : std::nullopt) {
      spec.merges.push_back(std::move(*pair));
    } else {
      w.error(cat("model.merges[", i, "]"), cat("expected \"a b\" or [\"a\", \"b\"], got ", m.dump()));
    }
  }
}

void read_model_options(const json& model, TokenizerSpec& spec, const Where& w) {
  if (auto it = model.find("type"); it != model.end() && *it != "BPE") {
    w.error("model.type", cat("only BPE is supported, got ", it->dump()));
  }
  if (w.flag(model, "byte_fallback", "model")) w.error("model.byte_fallback", "true is not supported");
  spec.ignore_merges = w.flag(model, "ignore_merges", "model");
  if (auto it = model.find("dropout"); it != model.end() && !it->is_null()) {
    w.error("model.dropout", "BPE dropout is not supported");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && *it != "") w.error(cat("model.", key), "must be empty");
  }
}

void read_added_tokens(const json& root, TokenizerSpec& spec, std::vector<bool>& filled, const Where& w) {
  auto list = root.find("added_tokens");
  if (list == root.end() || list->is_null()) return;
  if (!list->is_array()) w.error("added_tokens", cat("expected an array, got ", list->type_name()));
  for (size_t i = 0; i < list->size(); ++i) {
    const json& t = (*list)[i];
    const std::string field = cat("added_tokens[", i, "]");
    AddedToken a;
    a.id = static_cast<int32_t>(w.int_at(w.member(t, "id", field), field + ".id"));
    a.content = w.string_at(w.member(t, "content", field), field + ".content");
    a.special = w.flag(t, "special", field);
    a.lstrip = w.flag(t, "lstrip", field);
    a.rstrip = w.flag(t, "rstrip", field);
    // single_word needs word-boundary rules no Qwen tokenizer uses; refuse rather than guess.
    if (w.flag(t, "single_word", field)) w.error(field + ".single_word", "true is not supported");
    put_token(spec, filled, a.id, a.content, w, field);
    spec.added.push_back(std::move(a));
  }
}

bool read_normalizer(const json& n, const Where& w, std::string_view field) {
  if (n.is_null()) return false;
  const std::string type = w.string_at(w.member(n, "type", field), cat(field, ".type"));
  if (type == "NFC") return true;
  if (type == "Sequence") {
    bool nfc = false;
    const json& list = w.member(n, "normalizers", field);
    for (size_t i = 0; i < list.size(); ++i) nfc |= read_normalizer(list[i], w, cat(field, ".normalizers[", i, "]"));
    return nfc;
  }
  w.error(field, cat("normalizer '", type, "' is not supported (only NFC)"));
}

void read_split(const json& split, TokenizerSpec& spec, const Where& w, const std::string& field) {
  const json& pattern = w.member(split, "pattern", field);
  auto regex = pattern.find("Regex");
  if (!pattern.is_object() || regex == pattern.end()) w.error(field + ".pattern", "expected {\"Regex\": ...}");
  spec.pre_pattern = w.string_at(*regex, field + ".pattern.Regex");
  if (split.value("behavior", "") != "Isolated") w.error(field + ".behavior", "only \"Isolated\" is supported");
  if (w.flag(split, "invert", field)) w.error(field + ".invert", "true is not supported");
}

void check_byte_level(const json& bl, const Where& w, const std::string& field) {
  if (w.flag(bl, "add_prefix_space", field)) w.error(field + ".add_prefix_space", "true is not supported");
  if (w.flag(bl, "use_regex", field)) w.error(field + ".use_regex", "true is not supported (GPT-2's own regex)");
}

// The layout of Qwen2 and gpt-oss: Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)].
void read_pre_tokenizer(const json& root, TokenizerSpec& spec, const Where& w) {
  const json& pre = w.member(root, "pre_tokenizer", "(root)");
  const std::string expected = "expected Sequence[Split(Regex, Isolated), ByteLevel] as in Qwen2 and gpt-oss";
  if (pre.is_null() || pre.value("type", "") != "Sequence") w.error("pre_tokenizer", expected);
  const json& list = w.member(pre, "pretokenizers", "pre_tokenizer");
  if (!list.is_array() || list.size() != 2 || list[0].value("type", "") != "Split" ||
      list[1].value("type", "") != "ByteLevel") {
    w.error("pre_tokenizer", cat(expected, ", got ", pre.dump().substr(0, 200)));
  }
  read_split(list[0], spec, w, "pre_tokenizer.pretokenizers[0]");
  check_byte_level(list[1], w, "pre_tokenizer.pretokenizers[1]");
  // Named when it is a pattern llama.cpp knows, so that a GGUF written from this spec can say so.
  spec.pre = split_pattern_name(spec.pre_pattern);
}

std::optional<int32_t> find_token(const TokenizerSpec& spec, const std::string& text) {
  for (const AddedToken& a : spec.added) {
    if (a.content == text) return a.id;
  }
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    if (spec.tokens[id] == text) return static_cast<int32_t>(id);
  }
  return std::nullopt;
}

// bos_token etc.: a string, {"content": ...} or null.
std::optional<int32_t> config_token(const json& config, const char* key, const TokenizerSpec& spec, const Where& w) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  const json& v = it->is_object() ? w.member(*it, "content", key) : *it;
  const std::string text = w.string_at(v, key);
  std::optional<int32_t> id = find_token(spec, text);
  if (!id) w.error(key, cat("'", text, "' is not a token of the tokenizer"));
  return id;
}

void read_tokenizer_config(const std::string& tokenizer_json_path, TokenizerSpec& spec) {
  const auto path = std::filesystem::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  const std::string config_path = path.string();
  const json config = parse_json(read_text_file(config_path), config_path);
  const Where w{config_path};
  if (!config.is_object()) w.error("(root)", cat("expected an object, got ", config.type_name()));
  spec.bos = config_token(config, "bos_token", spec, w);
  spec.eos = config_token(config, "eos_token", spec, w);
  spec.pad = config_token(config, "pad_token", spec, w);
}

TokenizerSpec spec_from_json(const json& root, BulkFieldCollector& bulk, const std::string& tokenizer_json_path) {
  const Where w{tokenizer_json_path};
  if (!root.is_object()) w.error("(root)", cat("expected an object, got ", root.type_name()));
  TokenizerSpec spec;
  std::vector<bool> filled;
  const json& model = w.member(root, "model", "(root)");
  read_model_options(model, spec, w);
  read_vocab(model, bulk, spec, filled, w);
  read_merges(model, bulk, spec, w);
  read_added_tokens(root, spec, filled, w);
  auto normalizer = root.find("normalizer");
  spec.nfc = normalizer != root.end() && read_normalizer(*normalizer, w, "normalizer");
  read_pre_tokenizer(root, spec, w);
  for (size_t id = 0; id < filled.size(); ++id) {
    if (!filled[id]) spec.unused.push_back(static_cast<int32_t>(id));
  }
  return spec;
}

}  // namespace

TokenizerSpec load_hf_tokenizer(const std::string& tokenizer_json_path) {
  BulkFieldCollector bulk;
  const json root =
      parse_json(read_text_file(tokenizer_json_path), tokenizer_json_path,
                 [&bulk](int depth, json::parse_event_t event, json& parsed) { return bulk(depth, event, parsed); });
  TokenizerSpec spec;
  try {
    spec = spec_from_json(root, bulk, tokenizer_json_path);
  } catch (const json::exception& e) {  // a value of an unexpected type deep inside
    fail(tokenizer_json_path, ": unexpected content: ", e.what());
  }
  read_tokenizer_config(tokenizer_json_path, spec);
  return spec;
}

}  // namespace fare
