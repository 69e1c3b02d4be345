// POST /v1/completions (the legacy API lm-eval's local-completions speaks: prompt as text or ids,
// echo, logprobs as {tokens, token_logprobs, top_logprobs, text_offset}) and GET /v1/models.
#include "common/error.h"
#include "server/openai_params.h"
#include "server/token_stream.h"

namespace fare::server {

namespace {

std::vector<int32_t> ids_from(const json& arr, size_t index) {
  std::vector<int32_t> ids;
  for (const auto& v : arr) {
    if (!v.is_number_integer()) throw bad_request(cat("prompt[", index, "] must hold token ids (integers)"), "prompt");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ids;
}

// A string, a list of ids, a list of strings or a list of id lists.
std::vector<std::vector<int32_t>> parse_prompts(const Engine& engine, const json& body) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) throw bad_request("'prompt' is required", "prompt");
  std::vector<std::vector<int32_t>> out;
  // Raw prompts are the caller's own text: special-token text in them is parsed, as vLLM and
  // llama.cpp do for completions (there is no template to protect).
  if (it->is_string()) {
    out.push_back(engine.tokenize(it->get<std::string>(), true));
  } else if (it->is_array() && !it->empty() && it->front().is_number_integer()) {
    out.push_back(ids_from(*it, 0));
  } else if (it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const json& p = (*it)[i];
      if (p.is_string())
        out.push_back(engine.tokenize(p.get<std::string>(), true));
      else if (p.is_array())
        out.push_back(ids_from(p, i));
      else
        throw bad_request(cat("prompt[", i, "] must be a string or a list of token ids"), "prompt");
    }
  } else {
    throw bad_request("'prompt' must be a string, a list of token ids, or a list of either", "prompt");
  }
  if (out.empty()) throw bad_request("'prompt' is empty", "prompt");
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].empty()) throw bad_request(cat("prompt ", i, " has no tokens"), "prompt");
  return out;
}

struct LegacyLogprobs {
  json tokens = json::array(), token_logprobs = json::array(), top_logprobs = json::array(),
       text_offset = json::array();
  size_t offset = 0;

  void add(const Tokenizer& tok, int32_t id, std::optional<float> lp, const std::vector<TokenLogprob>* top, int k) {
    const std::string text = token_text(tok, id);
    tokens.push_back(text);
    token_logprobs.push_back(lp ? json(*lp) : json());
    if (top) {
      json m = json::object();
      for (int i = 0; i < k && i < static_cast<int>(top->size()); ++i) m[token_text(tok, (*top)[i].id)] = (*top)[i].logprob;
      top_logprobs.push_back(m);
    } else {
      top_logprobs.push_back(json());
    }
    text_offset.push_back(offset);
    offset += text.size();
  }
  json to_json() const {
    return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top_logprobs}, {"text_offset", text_offset}};
  }
};

json stream_chunk(const std::string& id, int64_t created, const std::string& model, size_t index, const std::string& text,
                  json logprobs, json finish) {
  return {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
          {"choices", json::array({{{"index", index}, {"text", text}, {"logprobs", std::move(logprobs)},
                                    {"finish_reason", std::move(finish)}}})}};
}

struct CompletionStream {
  const Context& cx;
  std::vector<std::shared_ptr<Generation>> gens;  // prompt-major, n per prompt
  std::vector<std::string> echoed;                // per choice: the prompt text when echo
  std::shared_ptr<TokenStream> events;
  Deadline deadline;
  bool logprobs = false;
  int k = 0;
  bool include_usage = false;
  int n_prompt = 0;
  Clock::time_point t0;

  // Writes every chunk; false when the client left or time ran out (the generations cancelled).
  bool run(httplib::DataSink& sink) {
    const std::string id = new_id("cmpl-");
    const int64_t created = unix_now();
    const Tokenizer& tok = cx.engine->tokenizer();
    auto write = [&](const std::string& s) { return s.empty() || sink.write(s.data(), s.size()); };
    auto cancel_all = [&] {
      for (const auto& g : gens) g->cancel();
      return false;
    };
    std::vector<size_t> offset(gens.size(), 0);
    std::string out;
    for (size_t i = 0; i < gens.size(); ++i)
      if (!echoed[i].empty()) {
        out += sse(stream_chunk(id, created, cx.model_name, i, echoed[i], json(), json()));
        offset[i] = echoed[i].size();
      }
    if (!write(out)) return cancel_all();
    std::vector<bool> finished(gens.size(), false);
    size_t n_finished = 0;
    int completion = 0;
    auto on_event = [&](const TokenEvent& e) {
      json lp;
      if (logprobs) {
        json top = json::object();
        for (int i = 0; i < k && i < static_cast<int>(e.step.top.size()); ++i)
          top[token_text(tok, e.step.top[i].id)] = e.step.top[i].logprob;
        lp = {{"tokens", {token_text(tok, e.step.id)}}, {"token_logprobs", {e.step.logprob}},
              {"top_logprobs", {top}}, {"text_offset", {offset[e.choice]}}};
      }
      offset[e.choice] += e.piece.size();
      return sse(stream_chunk(id, created, cx.model_name, static_cast<size_t>(e.choice), e.piece, std::move(lp), json()));
    };
    while (n_finished < gens.size()) {
      out.clear();
      for (const TokenEvent& e : events->take(0.05)) out += on_event(e);
      for (size_t i = 0; i < gens.size(); ++i) {
        if (finished[i] || !gens[i]->done()) continue;
        for (const TokenEvent& e : events->take(0)) out += on_event(e);
        const GenerateResult r = gens[i]->wait();
        finished[i] = true;
        ++n_finished;
        completion += static_cast<int>(r.tokens.size());
        cx.metrics.request_done(finish_reason_name(r.finish_reason), r.prefill_seconds,
                                std::chrono::duration<double>(Clock::now() - t0).count(), r.n_prompt,
                                static_cast<int>(r.tokens.size()));
        out += sse(stream_chunk(id, created, cx.model_name, i, "", json(), finish_reason_name(r.finish_reason)));
      }
      if (!write(out)) return cancel_all();
      if (!sink.is_writable() || Clock::now() >= deadline.until || cx.inflight.cancelled()) return cancel_all();
    }
    out.clear();
    if (include_usage)
      out += sse({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", cx.model_name},
                  {"choices", json::array()},
                  {"usage", {{"prompt_tokens", n_prompt}, {"completion_tokens", completion},
                             {"total_tokens", n_prompt + completion}}}});
    out += kSseDone;
    write(out);
    sink.done();
    return true;
  }
};

void respond_stream(const Context& cx, const httplib::Request& req, httplib::Response& res, const CommonParams& p,
                    const std::vector<std::vector<int32_t>>& prompts, bool echo, int k, bool logprobs, Ticket ticket) {
  if (p.max_tokens == 0) throw bad_request("a stream needs max_tokens > 0", "max_tokens");
  auto st = std::make_shared<CompletionStream>(CompletionStream{cx, {}, {}, std::make_shared<TokenStream>(),
                                                                deadline_for(cx, req), logprobs, k, p.include_usage, 0,
                                                                Clock::now()});
  for (const auto& prompt : prompts) {
    st->n_prompt += static_cast<int>(prompt.size());
    for (int i = 0; i < p.n; ++i) {
      GenerateRequest g = choice_request(p, prompt, i);
      if (logprobs) g.top_logprobs = std::max(k, 1);
      const int choice = static_cast<int>(st->gens.size());
      st->gens.push_back(submit(cx, std::move(g), TokenStream::callback(st->events, choice)));
      st->echoed.push_back(echo ? cx.engine->detokenize(prompt) : std::string());
    }
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [st, ticket](size_t, httplib::DataSink& sink) {
    try {
      return st->run(sink);
    } catch (const std::exception& e) {
      for (const auto& g : st->gens) g->cancel();
      st->cx.metrics.request_failed();
      const std::string ev = sse(error_body(ApiError(500, "server_error", e.what())));
      sink.write(ev.data(), ev.size());
      return false;
    }
  });
}

}  // namespace

void handle_completions(const Context& cx, const httplib::Request& req, httplib::Response& res, Ticket ticket) {
  const json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  CommonParams p = parse_common(body, 16);  // OpenAI's default for this endpoint
  const bool echo = opt_bool(body, "echo").value_or(false);
  const int k = static_cast<int>(opt_int(body, "logprobs", 0, 20).value_or(-1));
  const bool want_logprobs = body.contains("logprobs") && !body["logprobs"].is_null();
  const auto prompts = parse_prompts(*cx.engine, body);
  if (p.stream) {
    if (echo && want_logprobs)
      throw ApiError(400, "not_supported_error", "'echo' with 'logprobs' (prompt scoring) is not supported in a stream", "stream");
    return respond_stream(cx, req, res, p, prompts, echo, std::max(k, 0), want_logprobs, std::move(ticket));
  }
  const auto t0 = Clock::now();

  std::vector<std::shared_ptr<Generation>> gens;
  for (const auto& prompt : prompts)
    for (int i = 0; i < p.n; ++i) {
      GenerateRequest g = choice_request(p, prompt, i);
      if (want_logprobs) g.top_logprobs = std::max(k, 1);
      gens.push_back(p.max_tokens == 0 ? nullptr : submit(cx, std::move(g)));
    }
  std::vector<std::shared_ptr<Generation>> live;
  for (const auto& g : gens)
    if (g) live.push_back(g);
  const Deadline deadline = deadline_for(cx, req);
  std::vector<GenerateResult> done = wait_all(cx, live, deadline);

  const Tokenizer& tok = cx.engine->tokenizer();
  json choices = json::array();
  int n_prompt_total = 0, n_completion = 0;
  size_t next = 0;
  for (size_t pi = 0; pi < prompts.size(); ++pi) {
    const auto& prompt = prompts[pi];
    if (prompt.size() > static_cast<size_t>(cx.engine->n_ctx())) throw context_exceeded(static_cast<int64_t>(prompt.size()), cx.engine->n_ctx());
    n_prompt_total += static_cast<int>(prompt.size());
    // Scoring the prompt is one forward pass on its own; once per prompt, shared by its choices.
    std::vector<GeneratedStep> scored;
    if (echo && want_logprobs) scored = cx.engine->score_tokens(prompt, std::max(k, 0));
    for (int i = 0; i < p.n; ++i) {
      const size_t gi = pi * static_cast<size_t>(p.n) + static_cast<size_t>(i);
      GenerateResult r;
      if (gens[gi]) r = done[next++];
      else r.finish_reason = "length";
      n_completion += static_cast<int>(r.tokens.size());
      std::string text = echo ? cx.engine->detokenize(prompt) + r.text : r.text;
      json lp;
      if (want_logprobs) {
        LegacyLogprobs l;
        if (echo) {
          l.add(tok, prompt[0], std::nullopt, nullptr, k);
          for (const GeneratedStep& s : scored) l.add(tok, s.id, s.logprob, &s.top, k);
        }
        for (const GeneratedStep& s : r.steps) l.add(tok, s.id, s.logprob, &s.top, k);
        lp = l.to_json();
      }
      choices.push_back({{"index", gi}, {"text", text}, {"logprobs", lp}, {"finish_reason", finish_reason_name(r.finish_reason)}});
      if (gens[gi])
        cx.metrics.request_done(finish_reason_name(r.finish_reason), r.prefill_seconds,
                                std::chrono::duration<double>(Clock::now() - t0).count(), r.n_prompt,
                                static_cast<int>(r.tokens.size()));
    }
  }
  send_json(res, {{"id", new_id("cmpl-")},
                  {"object", "text_completion"},
                  {"created", unix_now()},
                  {"model", cx.model_name},
                  {"choices", choices},
                  {"usage", {{"prompt_tokens", n_prompt_total}, {"completion_tokens", n_completion},
                             {"total_tokens", n_prompt_total + n_completion}}}});
}

void handle_models(const Context& cx, const httplib::Request&, httplib::Response& res) {
  send_json(res, {{"object", "list"},
                  {"data", json::array({{{"id", cx.model_name}, {"object", "model"}, {"created", unix_now()},
                                         {"owned_by", "fare"}, {"max_model_len", cx.engine->n_ctx()}}})}});
}

}  // namespace fare::server
