// Internal to the dataset loaders: how one benchmark's records become items.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "judge/dataset.h"
#include "judge/item.h"

namespace fare::judge {

// One record of an input file: a JSON array element or a JSONL line.
struct Record {
  std::string where;  // "file.jsonl:17" or "file.json[16]"
  size_t index = 0;   // 0-based position among records
  std::optional<nlohmann::json> value;
  std::string parse_error;  // set when value is empty
};

// JSON array when the first non-blank byte is '[', JSON Lines otherwise. A broken array is a
// fare::Error with its line; a broken JSONL line becomes a Record with parse_error.
std::vector<Record> read_records(const std::string& path);

// Converts one record, appending zero or more items; throws fare::Error with rec.where.
using Converter = std::function<void(const nlohmann::json& value, const Record& rec, std::vector<Item>& out)>;

struct DatasetAdapter {
  DatasetInfo info;
  std::optional<Task> task;  // nullopt: the generic schema, any task
  // Does this file look like ours? `first` is the first record that parsed.
  std::function<bool(const std::filesystem::path& path, const nlohmann::json& first)> matches;
  // Reads companion files, checks options; `task` is the task the items will have.
  std::function<Converter(const std::filesystem::path& path, const LoadOptions& opts, Task task)> prepare;
};

DatasetAdapter judgebench_adapter();
DatasetAdapter processbench_adapter();
DatasetAdapter hardverify_adapter();
DatasetAdapter rm_bench_adapter();
DatasetAdapter llmbar_adapter();
DatasetAdapter mt_bench_adapter();
DatasetAdapter generic_adapter();

// Task of a generic file, from --task, a "task" field, or the record's shape.
Task generic_task(const nlohmann::json& first, const LoadOptions& opts, const std::string& where);

bool has_keys(const nlohmann::json& v, std::initializer_list<const char*> keys);
bool has_keys(const nlohmann::json& v, const std::vector<const char*>& keys);

// An adapter of one benchmark with a fixed task, recognised by the keys of its first record,
// whose converter depends only on the file's path.
DatasetAdapter keyed_adapter(DatasetInfo info, Task task, std::vector<const char*> keys,
                             std::function<Converter(const std::filesystem::path& path)> make_converter);

}  // namespace fare::judge
