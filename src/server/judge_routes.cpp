// The FARE endpoints: POST /v1/judge (items in the project's JSONL schema, answered with the
// records `fare eval` writes), POST /v1/rerank (Jina / Cohere / vLLM shape, backed by the
// reranker) and POST /get_reward (OpenRLHF's remote reward model). All of them run the judge on
// the server's engine, so their generations share the batch with every other request.
#include <future>

#include "common/error.h"
#include "judge/judge.h"
#include "judge/rerank.h"
#include "judge/template.h"
#include "server/openai_params.h"

namespace fare::server {

namespace {

using judge::Task;

judge::JudgeConfig config_for(const Context& cx, Task task, const json& options) {
  judge::ConfigOverrides o;
  if (!options.is_null() && !options.is_object()) throw bad_request("'options' must be an object", "options");
  const json opts = options.is_null() ? json::object() : options;
  o.think = opt_bool(opts, "think");
  o.reasoning_effort = opt_string(opts, "reasoning_effort").value_or("");
  o.temperature = opt_number(opts, "temperature", 0, 2);
  o.top_p = opt_number(opts, "top_p", 0, 1);
  if (auto k = opt_int(opts, "top_k", 0, 1 << 20)) o.top_k = static_cast<int>(*k);
  if (auto m = opt_int(opts, "max_tokens", 1, 1 << 20)) o.max_tokens = static_cast<int>(*m);
  o.seed = static_cast<uint64_t>(opt_int(opts, "seed", 0, INT64_MAX).value_or(0));
  o.samples = static_cast<int>(opt_int(opts, "samples", 1, 64).value_or(1));
  o.swap = opt_bool(opts, "swap").value_or(true);
  o.top_logprobs = static_cast<int>(opt_int(opts, "top_logprobs", 0, 20).value_or(judge::kDefaultTopLogprobs));
  try {
    judge::JudgeConfig config = judge::make_config(task, judge::resolve_template(task, cx.opts.template_dir, "", ""), o);
    judge::check_model_family(config, cx.judge.chat_family());
    return config;
  } catch (const Error& e) {
    throw bad_request(e.what(), "options");
  }
}

int parallel_for(const Context& cx) {
  return cx.opts.judge_parallel > 0 ? cx.opts.judge_parallel : cx.engine->max_sequences();
}

// Runs fn on a worker while this thread watches the client, the deadline and shutdown; any of
// them sets the flag fn's judgments poll, and fn's RequestCancelled is then not the answer.
template <typename F>
auto run_watched(const Context& cx, const httplib::Request& req, F&& fn) {
  std::atomic<bool> cancel{false};
  auto fut = std::async(std::launch::async, [&] { return fn(&cancel); });
  try {
    wait_until(cx, [&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, cancel,
               deadline_for(cx, req));
  } catch (...) {
    fut.wait();  // its judgments stop at their next step
    throw;
  }
  return fut.get();
}

void count(const Context& cx, const std::vector<judge::Judgment>& js) {
  for (const auto& j : js) cx.metrics.judgment(std::string(judge::task_name(j.task)), j.valid, j.invalid_reason());
}

json decisions_json(Task task, const std::vector<judge::Decision>& ds) {
  json out = json::array();
  for (const judge::Decision& d : ds)
    out.push_back({{"order", task == Task::kPairwise ? json(judge::order_name(d.order)) : json()},
                   {"valid", d.valid},
                   {"verdict", d.valid ? json(judge::verdict_code_text(task, d.code)) : json()},
                   {"votes", d.n_votes},
                   {"samples", d.n_samples},
                   {"soft_score", d.soft_score ? json(*d.soft_score) : json()},
                   {"invalid_reason", d.valid ? json() : json(d.invalid_reason)}});
  return out;
}

struct ParsedItem {
  judge::Item item;
  judge::JudgeConfig config;
};

ParsedItem parse_item(const Context& cx, json j, std::optional<Task> task, const json& options, size_t index) {
  const std::string where = cat("items[", index, "]");
  if (!j.is_object()) throw bad_request(cat(where, " must be an object"), "items");
  if (!j.contains("id")) j["id"] = cat("item-", index);
  const json own = j.contains("options") ? j["options"] : options;
  j.erase("options");
  try {
    nlohmann::json plain = nlohmann::json::parse(j.dump());
    const Task t = judge::infer_task(plain, task, where);
    ParsedItem p{judge::item_from_json(plain, t, where), config_for(cx, t, own)};
    judge::check_item_complete(p.item);
    return p;
  } catch (const Error& e) {
    throw bad_request(e.what(), "items");
  }
}

}  // namespace

void handle_judge(const Context& cx, const httplib::Request& req, httplib::Response& res) {
  json body = parse_body(req);
  std::optional<Task> task;
  json options;
  json items = json::array();
  bool single = false;
  if (body.is_array()) {
    items = body;
  } else if (body.is_object()) {
    try {
      if (auto t = opt_string(body, "task")) task = judge::parse_task(*t);
    } catch (const Error& e) {
      throw bad_request(e.what(), "task");
    }
    options = body.contains("options") ? body["options"] : json();
    if (body.contains("items")) {
      if (!body["items"].is_array()) throw bad_request("'items' must be an array", "items");
      items = body["items"];
    } else {
      json item = body;
      item.erase("task");
      item.erase("options");
      item.erase("model");
      items.push_back(item);
      single = true;
    }
  } else {
    throw bad_request("the body must be an item object, {\"items\": [...]}, or an array of items");
  }
  if (items.empty()) throw bad_request("no items to judge", "items");
  if (items.size() > 1024) throw bad_request(cat(items.size(), " items in one request; the most is 1024"), "items");

  std::vector<ParsedItem> parsed;
  for (size_t i = 0; i < items.size(); ++i) parsed.push_back(parse_item(cx, items[i], task, options, i));
  // Every job of every item in one pool, so the engine batches across items too.
  struct Slot {
    size_t item;
    judge::Job job;
  };
  std::vector<Slot> slots;
  for (size_t i = 0; i < parsed.size(); ++i)
    for (const judge::Job& j : judge::jobs_for_item(parsed[i].item, parsed[i].config)) slots.push_back({i, j});

  std::vector<judge::Judgment> done = run_watched(cx, req, [&](const std::atomic<bool>* cancel) {
    std::vector<judge::Judgment> out(slots.size());
    std::atomic<size_t> next{0};
    std::vector<std::future<void>> workers;
    const int n = std::min<int>(parallel_for(cx), static_cast<int>(slots.size()));
    for (int w = 0; w < n; ++w)
      workers.push_back(std::async(std::launch::async, [&] {
        for (size_t k; (k = next++) < slots.size() && !cancel->load();)
          out[k] = judge::run_job(cx.judge, parsed[slots[k].item].config, slots[k].job, cancel);
      }));
    for (auto& f : workers) f.get();  // the first failure (RequestCancelled included) is rethrown
    return out;
  });
  count(cx, done);

  json results = json::array();
  for (size_t i = 0; i < parsed.size(); ++i) {
    std::vector<judge::Judgment> mine;
    for (size_t k = 0; k < slots.size(); ++k)
      if (slots[k].item == i) mine.push_back(done[k]);
    const judge::ItemResult r = judge::item_result(std::move(mine));
    json judgments = json::array();
    for (const judge::Judgment& j : r.judgments) {
      json line = judge::judgment_to_json(j);
      line["explanation"] = j.verdict.explanation;
      judgments.push_back(line);
    }
    results.push_back({{"id", parsed[i].item.id},
                       {"task", judge::task_name(parsed[i].item.task)},
                       {"config", judge::config_to_json(parsed[i].config)},
                       {"decisions", decisions_json(parsed[i].item.task, r.decisions)},
                       {"judgments", judgments}});
  }
  if (single) {
    json one = results[0];
    one["model"] = cx.model_name;
    send_json(res, one);
  } else {
    send_json(res, {{"model", cx.model_name}, {"results", results}});
  }
}

void handle_rerank(const Context& cx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  const auto query = opt_string(body, "query");
  if (!query) throw bad_request("'query' is required", "query");
  if (!body.contains("documents") || !body["documents"].is_array())
    throw bad_request("'documents' must be an array of strings or {\"text\": ...} objects", "documents");
  judge::RerankInput in;
  in.instruction = *query;
  for (size_t i = 0; i < body["documents"].size(); ++i) {
    const json& d = body["documents"][i];
    if (d.is_string())
      in.candidates.push_back(d.get<std::string>());
    else if (d.is_object() && d.contains("text") && d["text"].is_string())
      in.candidates.push_back(d["text"].get<std::string>());
    else
      throw bad_request(cat("documents[", i, "] must be a string or {\"text\": ...}"), "documents");
  }
  if (in.candidates.size() < 2) throw bad_request("'documents' needs at least 2 entries to rank", "documents");
  in.reference = opt_string(body, "reference");
  judge::RerankMethod method = judge::RerankMethod::kPointwise;
  Task task = in.reference ? Task::kVerifyRef : Task::kVerify;
  try {
    if (auto m = opt_string(body, "method")) method = judge::parse_rerank_method(*m);
    if (auto t = opt_string(body, "task")) task = judge::parse_task(*t);
  } catch (const Error& e) {
    throw bad_request(e.what());
  }
  if (method == judge::RerankMethod::kKnockout) task = Task::kPairwise;
  const judge::JudgeConfig config = config_for(cx, task, body.contains("options") ? body["options"] : json());
  const size_t n = in.candidates.size();
  const size_t top_n = static_cast<size_t>(opt_int(body, "top_n", 1, INT64_MAX).value_or(static_cast<int64_t>(n)));
  const bool return_documents = opt_bool(body, "return_documents").value_or(true);

  judge::RerankResult r = run_watched(cx, req, [&](const std::atomic<bool>* cancel) {
    try {
      return judge::rerank(cx.judge, config, in, method, parallel_for(cx), cancel);
    } catch (const judge::RequestCancelled&) {
      throw;
    } catch (const Error& e) {
      throw bad_request(e.what());
    }
  });
  count(cx, r.judgments);
  json results = json::array();
  int tokens = 0;
  for (const auto& j : r.judgments) tokens += j.prompt_tokens + j.completion_tokens;
  for (size_t rank = 0; rank < r.ranking.size() && rank < top_n; ++rank) {
    const int i = r.ranking[rank];
    // Knockout has no per-candidate score: the rank stands in for it, best 1, last 1/n.
    double score = method == judge::RerankMethod::kPointwise ? r.scores[i].value_or(0.0)
                                                             : static_cast<double>(n - rank) / static_cast<double>(n);
    json entry = {{"index", i}, {"relevance_score", score}};
    if (return_documents) entry["document"] = {{"text", in.candidates[i]}};
    results.push_back(entry);
  }
  send_json(res, {{"id", new_id("rerank-")}, {"model", cx.model_name}, {"results", results}, {"usage", {{"total_tokens", tokens}}}});
}

}  // namespace fare::server
