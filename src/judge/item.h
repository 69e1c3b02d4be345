// One thing to judge, in the project's own schema (see docs/JUDGE.md):
//   pairwise   {id, instruction, response_a, response_b, label?: "A"|"B"}
//   step       {id, instruction, steps: [...], label?: int}
//   verify     {id, instruction, response, label?: bool}
//   verify_ref {id, instruction, reference, response, label?: bool}
//   rating     {id, instruction, response, label?: number}
// Optional everywhere: subset, difficulty (metric breakdowns) and meta (kept in the results).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "judge/task.h"

namespace fare::judge {

struct Item {
  std::string id;  // unique within one input
  Task task = Task::kPairwise;
  std::string instruction;
  std::optional<std::string> response;  // verify, verify_ref, rating; absent only for unanswered MT-Bench questions
  std::string response_a, response_b;   // pairwise
  std::vector<std::string> steps;       // step
  std::optional<std::string> reference; // verify_ref; optional context for the other tasks
  std::optional<double> label;          // in the task's verdict code (task.h)
  std::string subset;                   // metric breakdown, e.g. "gsm8k" or "livebench-math"
  std::string difficulty;               // RM-Bench: hard / normal / easy
  nlohmann::json meta = nlohmann::json::object();  // source fields worth keeping (pair_id, generator, ...)
};

// The project schema. `where` prefixes error messages ("items.jsonl:17").
Item item_from_json(const nlohmann::json& j, Task task, const std::string& where);
nlohmann::json item_to_json(const Item& item);

// The task of a record in the project schema: `given` (--task) if set, else its "task" field,
// else its shape (response_a/b: pairwise, steps: step, reference: verify_ref). verify and rating
// look alike, so those need one of the first two.
Task infer_task(const nlohmann::json& j, std::optional<Task> given, const std::string& where);

// Throws fare::Error when the item lacks what its task needs (e.g. a rating item without a response).
void check_item_complete(const Item& item);

// Label as written in the project schema: "A", 3, true, 7.5.
nlohmann::json label_to_json(Task task, double label);
double label_from_json(Task task, const nlohmann::json& v, const std::string& where);

}  // namespace fare::judge
