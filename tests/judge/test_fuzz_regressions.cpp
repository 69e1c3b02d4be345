// Inputs on which a fuzz target (fuzz/) once found a bug, kept in tests/judge/fuzz_regressions/
// and run again with that target's check:
//   dataset-*   a benchmark file (fuzz_dataset): written where each adapter expects its file and
//               loaded with the adapter named and detected, strict and not; fare::Error or items
//               that are complete, render and survive the item schema's round trip
//   results-*   a results file on resume (fuzz_results): each line that parses is fare::Error or a
//               judgment that reads back the same from its own line; open_results keeps whole
//               lines only, and what it keeps reads with read_results
#include <gtest/gtest.h>

#include <set>

#include "judge/dataset.h"
#include "judge/prompt.h"
#include "judge/results_file.h"
#include "support/fuzz_regressions.h"
#include "test_util.h"

namespace fare::judge {
namespace {

namespace fs = std::filesystem;
using test::returns_or_fare_error;

// Where fuzz/fuzz_dataset.cpp writes its input for each adapter.
const std::vector<std::pair<std::string, std::string>> kDatasetFiles = {
    {"judgebench", "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"},
    {"processbench", "processbench/gsm8k.json"},
    {"hardverify_math", "hardverify_math/HardVerify-Math.json"},
    {"rm_bench", "rm_bench/chat_filtered.json"},
    {"llmbar", "llmbar/LLMBar/Natural/dataset.json"},
    {"mt_bench", "mt_bench/question.jsonl"},
    {"mt_bench", "mt_bench/reference_answer/gpt-4.jsonl"},
    {"jsonl", "jsonl/items.jsonl"},
};

void check_items(const LoadResult& r, const std::string& what) {
  std::set<std::string> ids;
  for (const Item& item : r.items) {
    EXPECT_EQ(item.task, r.task) << what;
    EXPECT_TRUE(ids.insert(item.id).second) << what << ": id " << item.id << " twice";
    if (!returns_or_fare_error([&] { check_item_complete(item); }, what)) continue;
    for (Order order : {Order::kAsGiven, Order::kSwapped}) {
      if (order == Order::kSwapped && item.task != Task::kPairwise) break;
      EXPECT_TRUE(returns_or_fare_error([&] { (void)build_messages(builtin_template(item.task), item, order); }, what));
    }
    const nlohmann::json j = item_to_json(item);
    Item again;
    EXPECT_TRUE(returns_or_fare_error([&] { again = item_from_json(j, item.task, what); }, what))
        << "does not read back: " << j.dump();
    EXPECT_EQ(item_to_json(again), j) << what;
  }
}

TEST(FuzzRegressions, DatasetFiles) {
  const auto files = test::fuzz_regressions("judge", "dataset-");
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    const std::string bytes = test::file_bytes(f);
    for (const auto& [dataset, rel] : kDatasetFiles) {
      const fs::path root = testing::temp_dir("fuzz_" + f.stem().string());
      const fs::path path = root / rel;
      fs::create_directories(path.parent_path());
      // MT-Bench's companion files, as the fuzz target provides them.
      if (rel == "mt_bench/reference_answer/gpt-4.jsonl")
        fs::copy_file(testing::data_path("mt_bench/question.jsonl"), root / "mt_bench/question.jsonl");
      if (rel == "mt_bench/question.jsonl") {
        fs::create_directories(root / "mt_bench/reference_answer");
        fs::copy_file(testing::data_path("mt_bench/reference_answer/gpt-4.jsonl"), root / "mt_bench/reference_answer/gpt-4.jsonl");
      }
      testing::write_file(path.string(), bytes);
      for (int mode = 0; mode < 4; ++mode) {
        LoadOptions o;
        if (mode & 1) o.dataset = dataset;
        o.strict = mode & 2;
        const std::string what = f.filename().string() + " as " + rel + (o.dataset.empty() ? " (detected)" : " (named)") +
                                 (o.strict ? " strict" : "");
        SCOPED_TRACE(what);
        LoadResult r;
        if (!returns_or_fare_error([&] { r = load_dataset(path.string(), o); }, what)) continue;
        if (o.strict) {
          EXPECT_TRUE(r.problems.empty());
        }
        check_items(r, what);
      }
    }
  }
}

TEST(FuzzRegressions, ResultsFiles) {
  const auto files = test::fuzz_regressions("judge", "results-");
  ASSERT_FALSE(files.empty());
  const auto dump = [](const Judgment& j) {
    return judgment_to_json(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    const std::string text = test::file_bytes(f);
    for (size_t pos = 0; pos < text.size();) {
      size_t eol = std::min(text.find('\n', pos), text.size());
      nlohmann::json record = nlohmann::json::parse(text.substr(pos, eol - pos), nullptr, false);
      pos = eol + 1;
      if (record.is_discarded()) continue;
      Judgment j;
      if (!returns_or_fare_error([&] { j = judgment_from_json(record, "line"); }, f.string())) continue;
      Judgment again;
      ASSERT_TRUE(returns_or_fare_error([&] { again = judgment_from_json(nlohmann::json::parse(dump(j)), "again"); }, f.string()));
      EXPECT_EQ(dump(again), dump(j));
    }
    const std::string path = (testing::temp_dir("fuzz_" + f.stem().string()) / "r.jsonl").string();
    testing::write_file(path, text);
    std::vector<Judgment> all;
    const bool read_ok = returns_or_fare_error([&] { all = read_results(path); }, f.string());
    ExistingResults existing;
    if (!returns_or_fare_error([&] { existing = open_results(path); }, f.string())) continue;
    const std::string kept = testing::read_file(path);
    EXPECT_TRUE(text.starts_with(kept));
    EXPECT_TRUE(kept.empty() || kept.back() == '\n');
    if (read_ok) {
      EXPECT_EQ(all.size(), existing.judgments.size());
    }
    if (!kept.empty()) {
      EXPECT_TRUE(returns_or_fare_error([&] { (void)read_results(path); }, f.string()));
    }
  }
}

}  // namespace
}  // namespace fare::judge
