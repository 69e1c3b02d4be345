// HardVerify-Math (TinyV): a JSON array of {id, split, source, question, ground_truth, fn_output,
// tn_output, metadata}. Each question gives two reference-based items: fn_output is a correct answer
// written differently from the ground truth (label Correct), tn_output a near miss (label Incorrect).
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

namespace {

void convert_hardverify(const json& v, const Record& rec, std::vector<Item>& out) {
  const std::string& where = rec.where;
  require_object(v, where);
  int64_t id = int_field(v, "id", where);
  std::string question = string_field(v, "question", where);
  std::string truth = string_field(v, "ground_truth", where);
  std::string fn = string_field(v, "fn_output", where);
  std::string tn = string_field(v, "tn_output", where);
  std::string split = optional_string_field(v, "split", where).value_or("");
  std::string source = optional_string_field(v, "source", where).value_or("");
  for (bool correct : {true, false}) {
    Item item;
    item.task = Task::kVerifyRef;
    item.id = cat("hardverify-", id, correct ? "-fn" : "-tn");
    item.instruction = question;
    item.reference = truth;
    item.response = correct ? fn : tn;
    item.label = correct ? kCorrect : kIncorrect;
    item.subset = split;
    item.meta = {{"question_id", id}, {"source", source}, {"candidate", correct ? "fn_output" : "tn_output"}};
    out.push_back(std::move(item));
  }
}

}  // namespace

DatasetAdapter hardverify_adapter() {
  return keyed_adapter({"hardverify_math", "verify_ref", "HardVerify-Math (TinyV) JSON: fn_output -> Correct, tn_output -> Incorrect"}, Task::kVerifyRef, {"question", "ground_truth", "fn_output", "tn_output"},
                       [](const std::filesystem::path&) -> Converter { return convert_hardverify; });
}

}  // namespace fare::judge
