// Each subcommand registers itself on the CLI11 app; main() only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace fare::cli {

// Options every model-using subcommand shares.
struct ModelArgs {
  std::string path;
  int threads = 0;
  int ctx = 0;
};
void add_model_options(CLI::App& cmd, ModelArgs& args);
std::unique_ptr<Engine> open_engine(const ModelArgs& args);

// "1,2, 3" -> {1, 2, 3}; throws fare::Error naming the bad element.
std::vector<int32_t> parse_id_list(const std::string& text);
std::string read_text_file(const std::string& path);

void register_generate(CLI::App& app);
void register_logprobs(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_info(CLI::App& app);

}  // namespace fare::cli
