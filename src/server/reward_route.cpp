// POST /get_reward: OpenRLHF's remote reward model protocol. OpenRLHF sends
//   {"query": [prompt + response, ...], "prompts": [prompt, ...], "labels": [reference, ...]}
// and reads {"rewards": [...], "scores": [...], "extra_logs": {...}}. Each response is the query
// with its prompt taken off the front; FARE judges it with verify (or verify_ref when labels are
// given, or the task --reward-task names), and the verdict becomes a number as RewardOptions says.
// A gpt-oss judge reasons with --reward-reasoning-effort, or the body's "reasoning_effort" (an
// extension of the protocol).
#include <future>

#include "common/error.h"
#include "judge/judge.h"
#include "judge/template.h"
#include "server/routes.h"

namespace fare::server {

namespace {

using judge::Task;

std::vector<std::string> string_list(const json& body, const char* key, bool required) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) throw bad_request(cat("'", key, "' is required"), key);
    return {};
  }
  if (!it->is_array()) throw bad_request(cat("'", key, "' must be a list of strings"), key);
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (v.is_string())
      out.push_back(v.get<std::string>());
    else if (v.is_number())
      out.push_back(v.dump());  // numeric labels (math answers) as written
    else
      throw bad_request(cat(key, "[", i, "] must be a string"), key);
  }
  return out;
}

// The response part of an OpenRLHF query, without the end-of-turn marker the policy wrote.
std::string response_of(const std::string& query, const std::string& prompt, size_t index) {
  if (!query.starts_with(prompt))
    throw bad_request(cat("query[", index, "] does not start with prompts[", index, "]"), "prompts");
  std::string r = query.substr(prompt.size());
  for (std::string_view end : {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"})
    while (r.ends_with(end)) r.erase(r.size() - end.size());
  return r;
}

double reward_of(const RewardOptions& o, Task task, const judge::Judgment& j) {
  if (!j.valid) return o.invalid;
  if (task == Task::kRating) return j.code / 10.0;
  if (o.use_probability && j.probs) return j.probs->soft_score * (o.correct - o.incorrect) + o.incorrect;
  return j.code == 1 ? o.correct : o.incorrect;
}

}  // namespace

void handle_get_reward(const Context& cx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  const auto queries = string_list(body, "query", true);
  const auto prompts = string_list(body, "prompts", true);
  const auto labels = string_list(body, "labels", false);
  if (prompts.size() != queries.size())
    throw bad_request(cat("'prompts' has ", prompts.size(), " entries and 'query' ", queries.size()), "prompts");
  if (!labels.empty() && labels.size() != queries.size())
    throw bad_request(cat("'labels' has ", labels.size(), " entries and 'query' ", queries.size()), "labels");
  if (queries.empty()) throw bad_request("'query' is empty", "query");

  const RewardOptions& ro = cx.opts.reward;
  Task task = labels.empty() ? Task::kVerify : Task::kVerifyRef;
  if (!ro.task.empty()) task = judge::parse_task(ro.task);
  if (task == Task::kVerifyRef && labels.empty())
    throw bad_request("the reward task is verify_ref, which needs 'labels' (the reference answers)", "labels");
  judge::ConfigOverrides o;
  if (ro.max_tokens > 0) o.max_tokens = ro.max_tokens;
  o.reasoning_effort = reasoning_effort(body, chat_family(*cx.engine));
  if (o.reasoning_effort.empty()) o.reasoning_effort = ro.reasoning_effort;  // checked when the model loaded
  const judge::JudgeConfig config =
      judge::make_config(task, judge::resolve_template(task, cx.opts.template_dir, "", ""), o);

  std::vector<judge::Item> items(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    judge::Item& it = items[i];
    it.id = cat("reward-", i);
    it.task = task;
    it.instruction = prompts[i];
    it.response = response_of(queries[i], prompts[i], i);
    if (!labels.empty()) it.reference = labels[i];
  }
  std::vector<judge::Job> jobs;
  for (const judge::Item& it : items)
    for (const judge::Job& j : judge::jobs_for_item(it, config)) jobs.push_back(j);

  const int parallel = cx.opts.judge_parallel > 0 ? cx.opts.judge_parallel : cx.engine->max_sequences();
  std::atomic<bool> cancel{false};
  auto fut = std::async(std::launch::async, [&] { return judge::run_jobs(cx.judge, config, jobs, parallel, &cancel); });
  try {
    wait_until(cx, [&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, cancel,
               deadline_for(cx, req));
  } catch (...) {
    fut.wait();
    throw;
  }
  const std::vector<judge::Judgment> done = fut.get();

  json rewards = json::array(), verdicts = json::array(), invalid = json::array();
  for (const judge::Judgment& j : done) {
    cx.metrics.judgment(std::string(judge::task_name(j.task)), j.valid, j.invalid_reason());
    rewards.push_back(reward_of(ro, task, j));
    verdicts.push_back(j.valid ? json(judge::verdict_code_text(task, j.code)) : json());
    invalid.push_back(j.valid ? json() : json(j.invalid_reason()));
  }
  send_json(res, {{"rewards", rewards},
                  {"scores", rewards},
                  {"extra_logs", {{"verdict", verdicts}, {"invalid_reason", invalid}}}});
}

}  // namespace fare::server
