// The dataset adapters (judge/dataset*.cpp) on arbitrary records. Byte 0 picks the adapter, and
// with it the file name and folder it expects (see ../shared/data), whether the adapter is named
// or detected from the records, and strict loading; the rest is the file. Each item that loads
// must be complete or say why not, turn into the judge's messages with the built-in template, and
// survive the project schema's round trip (item_to_json, item_from_json).
#include <array>
#include <set>

#include "fuzz_util.h"
#include "judge/dataset.h"
#include "judge/prompt.h"

namespace {

namespace fs = std::filesystem;
using namespace fare::judge;
using fare::fuzz::expect_only_errors;

struct Target {
  const char* dataset;  // the adapter's name
  const char* file;     // where it is written, relative to the scratch folder
};

// MT-Bench twice: its question file and its reference answers (which read ../question.jsonl).
constexpr std::array<Target, 8> kTargets = {{
    {"judgebench", "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"},
    {"processbench", "processbench/gsm8k.json"},
    {"hardverify_math", "hardverify_math/HardVerify-Math.json"},
    {"rm_bench", "rm_bench/chat_filtered.json"},
    {"llmbar", "llmbar/LLMBar/Natural/dataset.json"},
    {"mt_bench", "mt_bench/question.jsonl"},
    {"mt_bench", "mt_bench/reference_answer/gpt-4.jsonl"},
    {"jsonl", "jsonl/items.jsonl"},
}};

const fs::path& root() {
  static const fs::path dir = [] {
    const fs::path d = fare::fuzz::scratch_dir();
    for (const Target& t : kTargets) fs::create_directories((d / t.file).parent_path());
    return d;
  }();
  return dir;
}

// The companion files MT-Bench reads: the real question file for the answers, and the real
// answers for the questions (each is replaced by the input when it is the one under test).
void write_companions(const Target& t) {
  const fs::path mt = root() / "mt_bench";
  if (std::string_view(t.file) == "mt_bench/reference_answer/gpt-4.jsonl") {
    fs::copy_file(fare::fuzz::data_file("mt_bench/question.jsonl"), mt / "question.jsonl", fs::copy_options::overwrite_existing);
  } else if (std::string_view(t.file) == "mt_bench/question.jsonl") {
    fs::copy_file(fare::fuzz::data_file("mt_bench/reference_answer/gpt-4.jsonl"), mt / "reference_answer" / "gpt-4.jsonl",
                  fs::copy_options::overwrite_existing);
  }
}

void check_item(const Item& item) {
  if (!expect_only_errors([&] { check_item_complete(item); })) return;
  const TaskTemplate& tpl = builtin_template(item.task);
  for (Order order : {Order::kAsGiven, Order::kSwapped}) {
    if (order == Order::kSwapped && item.task != Task::kPairwise) break;
    std::vector<Message> msgs;
    FUZZ_CHECK(expect_only_errors([&] { msgs = build_messages(tpl, item, order); }), "item ", item.id, " does not render");
    FUZZ_CHECK(!msgs.empty());
  }
  const nlohmann::json j = item_to_json(item);
  Item again;
  FUZZ_CHECK(expect_only_errors([&] { again = item_from_json(j, item.task, "round trip"); }), "item ", item.id,
             " does not read back: ", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  FUZZ_CHECK(item_to_json(again) == j, "item ", item.id, " reads back differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Target& t = kTargets[data[0] % kTargets.size()];
  LoadOptions opts;
  if (data[0] & 0x10) opts.dataset = t.dataset;  // else detected from the records
  opts.strict = (data[0] & 0x20) != 0;
  const fs::path path = root() / t.file;
  write_companions(t);
  fare::fuzz::write_file(path, fare::fuzz::as_text(data + 1, size - 1));

  LoadResult r;
  if (!expect_only_errors([&] { r = load_dataset(path.string(), opts); })) return 0;
  FUZZ_CHECK(!opts.strict || r.problems.empty(), "strict loading skipped ", r.problems.size(), " records");
  std::set<std::string> ids;
  for (const Item& item : r.items) {
    FUZZ_CHECK(item.task == r.task, "an item of task ", task_name(item.task), " in a ", task_name(r.task), " dataset");
    FUZZ_CHECK(ids.insert(item.id).second, "item id '", item.id, "' twice");
    check_item(item);
  }
  return 0;
}
