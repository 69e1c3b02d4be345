// MT-Bench (FastChat llm_judge), judged with the rating task. Two kinds of file load:
// - question.jsonl {question_id, category, turns[2], reference?}: one item per question, for its first
//   turn (FARE's rating template is single-turn). The answers to rate come from a FastChat
//   model_answer JSONL (LoadOptions::answers_path); without it the items have no response yet.
//   reference_answer/gpt-4.jsonl beside it, when present, gives the reference answer (math,
//   reasoning and coding, as upstream's reference-guided grading).
// - reference_answer/gpt-4.jsonl {question_id, model_id, choices[{turns[2]}]}: GPT-4's answers
//   themselves, rated; the questions come from ../question.jsonl.
// There are no labels.
#include <map>

#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Answer {
  std::string model_id;
  std::string text;  // first turn
};

bool is_answer_record(const json& v) { return has_keys(v, {"question_id", "choices"}); }

std::map<int64_t, Answer> read_answers(const fs::path& path) {
  std::map<int64_t, Answer> out;
  for (const Record& r : read_records(path.string())) {
    if (!r.value) fail(r.where, ": not valid JSON (", r.parse_error, ")");
    const json& v = *r.value;
    require_object(v, r.where);
    int64_t qid = int_field(v, "question_id", r.where);
    const json& choices = require_field(v, "choices", r.where);
    if (!choices.is_array() || choices.empty() || !choices[0].is_object())
      fail_field(r.where, "choices", choices, "a non-empty array of {turns: [...]}");
    std::vector<std::string> turns = string_array_field(choices[0], "turns", r.where);
    if (turns.empty()) fail(r.where, ": field 'choices[0].turns' is empty");
    out[qid] = {optional_string_field(v, "model_id", r.where).value_or(""), turns[0]};
  }
  return out;
}

struct Question {
  std::string category;
  std::string turn1;
  json hints;  // the short per-turn "reference" field, shown only by upstream's browser UI
};

std::map<int64_t, Question> read_questions(const fs::path& path) {
  std::map<int64_t, Question> out;
  for (const Record& r : read_records(path.string())) {
    if (!r.value) fail(r.where, ": not valid JSON (", r.parse_error, ")");
    const json& v = *r.value;
    require_object(v, r.where);
    std::vector<std::string> turns = string_array_field(v, "turns", r.where);
    if (turns.empty()) fail(r.where, ": field 'turns' is empty");
    out[int_field(v, "question_id", r.where)] = {string_field(v, "category", r.where), turns[0],
                                                 v.value("reference", json(nullptr))};
  }
  return out;
}

Converter questions_converter(const fs::path& path, const LoadOptions& opts) {
  fs::path refs_path = path.parent_path() / "reference_answer" / "gpt-4.jsonl";
  std::map<int64_t, Answer> refs, answers;
  if (fs::exists(refs_path)) refs = read_answers(refs_path);
  bool have_answers = !opts.answers_path.empty();
  if (have_answers) answers = read_answers(opts.answers_path);
  return [refs, answers, have_answers](const json& v, const Record& rec, std::vector<Item>& out) {
    const std::string& where = rec.where;
    require_object(v, where);
    int64_t qid = int_field(v, "question_id", where);
    std::vector<std::string> turns = string_array_field(v, "turns", where);
    if (turns.empty()) fail(where, ": field 'turns' is empty");
    Item item;
    item.task = Task::kRating;
    item.id = cat("mt_bench-", qid);
    item.instruction = turns[0];
    item.subset = string_field(v, "category", where);
    item.meta = {{"question_id", qid}, {"turn", 1}};
    if (has_field(v, "reference")) item.meta["reference_hint"] = v.at("reference");
    if (auto it = refs.find(qid); it != refs.end()) item.reference = it->second.text;
    if (have_answers) {
      auto it = answers.find(qid);
      if (it == answers.end()) fail(where, ": question ", qid, " has no answer in the answers file");
      item.response = it->second.text;
      item.meta["answer_model"] = it->second.model_id;
    }
    out.push_back(std::move(item));
  };
}

Converter answers_converter(const fs::path& path) {
  fs::path questions_path = path.parent_path().parent_path() / "question.jsonl";
  if (!fs::exists(questions_path))
    fail(path.string(), ": MT-Bench answers need their questions, expected at ", questions_path.string());
  std::map<int64_t, Question> questions = read_questions(questions_path);
  return [questions](const json& v, const Record& rec, std::vector<Item>& out) {
    const std::string& where = rec.where;
    require_object(v, where);
    int64_t qid = int_field(v, "question_id", where);
    auto q = questions.find(qid);
    if (q == questions.end()) fail(where, ": question_id ", qid, " is not in question.jsonl");
    const json& choices = require_field(v, "choices", where);
    if (!choices.is_array() || choices.empty() || !choices[0].is_object())
      fail_field(where, "choices", choices, "a non-empty array of {turns: [...]}");
    std::vector<std::string> turns = string_array_field(choices[0], "turns", where);
    if (turns.empty()) fail(where, ": field 'choices[0].turns' is empty");
    std::string model = optional_string_field(v, "model_id", where).value_or("model");
    Item item;
    item.task = Task::kRating;
    item.id = cat("mt_bench-", qid, "-", model);
    item.instruction = q->second.turn1;
    item.response = turns[0];
    item.subset = q->second.category;
    item.meta = {{"question_id", qid}, {"turn", 1}, {"answer_model", model}};
    out.push_back(std::move(item));
  };
}

}  // namespace

DatasetAdapter mt_bench_adapter() {
  DatasetAdapter a;
  a.info = {"mt_bench", "rating",
            "MT-Bench question.jsonl (with --answers) or reference_answer/*.jsonl: first-turn ratings, no labels"};
  a.task = Task::kRating;
  a.matches = [](const fs::path&, const json& first) {
    return has_keys(first, {"question_id", "turns", "category"}) || is_answer_record(first);
  };
  a.prepare = [](const fs::path& path, const LoadOptions& opts, Task) -> Converter {
    for (const Record& r : read_records(path.string()))
      if (r.value) return is_answer_record(*r.value) ? answers_converter(path) : questions_converter(path, opts);
    fail(path.string(), ": no record could be read");
  };
  return a;
}

}  // namespace fare::judge
