// Loading items to judge: the project's own JSONL schema (item.h) and adapters for the public
// benchmark files in ../shared/data (JudgeBench, ProcessBench, HardVerify-Math, RM-Bench, LLMBar,
// MT-Bench), each read with its real schema and quirks. The dataset is detected from the records'
// shape unless named.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "judge/item.h"
#include "judge/task.h"

namespace fare::judge {

struct LoadOptions {
  std::string dataset;       // empty: detect from the first record's shape
  std::optional<Task> task;  // --task: must agree with the dataset's task; picks the task of generic JSONL
  bool strict = false;       // a malformed record stops loading instead of being reported and skipped
  std::string answers_path;  // MT-Bench questions: a FastChat model_answer JSONL whose answers are rated
};

struct LoadResult {
  std::string dataset;  // adapter name, e.g. "judgebench"
  Task task = Task::kPairwise;
  std::vector<Item> items;
  size_t n_records = 0;               // records read, skipped ones included
  std::vector<std::string> problems;  // skipped records: "file:line: what is wrong"
};

struct DatasetInfo {
  std::string name;
  std::string task;  // "pairwise", ..., or "any" for the generic schema
  std::string description;
};
const std::vector<DatasetInfo>& dataset_infos();

LoadResult load_dataset(const std::string& path, const LoadOptions& opts);

// Several files into one list (e.g. RM-Bench's two safety files, pooled as upstream does). Item ids
// must stay unique across files.
LoadResult load_datasets(const std::vector<std::string>& paths, const LoadOptions& opts);

}  // namespace fare::judge
