// POST /v1/chat/completions: OpenAI's chat API on the engine, with the thinking split out as
// reasoning_content (llama.cpp, older vLLM) and reasoning (vLLM now), and Qwen3 tool calls
// parsed into tool_calls; for gpt-oss (harmony) models the analysis channel is the reasoning,
// the final channel the content, and reasoning_effort reaches the template.
#include "common/error.h"
#include "server/chat_output.h"
#include "server/openai_params.h"
#include "server/token_stream.h"

namespace fare::server {

namespace {

struct ChatCall {
  std::vector<ChatMessage> messages;
  ChatOptions chat;
  bool tools = false;  // tools were given to the template: parse tool calls back
  bool harmony = false;  // the model's chat template is gpt-oss's: split the output by channel
  CommonParams p;
  bool logprobs = false;
  int top_logprobs = 0;
};

// OpenAI lets content be a list of parts; only text parts can be read here.
json normalize_messages(const json& messages) {
  if (!messages.is_array() || messages.empty()) throw bad_request("'messages' must be a non-empty array", "messages");
  json out = json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    json m = messages[i];
    if (!m.is_object()) throw bad_request(cat("messages[", i, "] must be an object"), "messages");
    auto c = m.find("content");
    if (c != m.end() && c->is_array()) {
      std::string text;
      for (const auto& part : *c) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          throw bad_request(cat("messages[", i, "].content: only text parts ({\"type\": \"text\", \"text\": ...}) are supported"),
                            "messages");
        text += part["text"].get<std::string>();
      }
      *c = text;
    }
    // Fields the template does not read (name, tool_call_id) are dropped here, not rejected.
    json kept;
    for (const char* k : {"role", "content", "reasoning_content", "tool_calls"})
      if (m.contains(k)) kept[k] = m[k];
    if (!kept.contains("reasoning_content") && m.contains("reasoning") && m["reasoning"].is_string())
      kept["reasoning_content"] = m["reasoning"];
    out.push_back(std::move(kept));
  }
  return out;
}

ChatCall parse_chat(const Context& cx, const json& body) {
  ChatCall c;
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  if (!body.contains("messages")) throw bad_request("'messages' is required", "messages");
  try {
    c.messages = chat_messages_from_json(normalize_messages(body["messages"]));
  } catch (const Error& e) {
    throw bad_request(e.what(), "messages");
  }
  c.p = parse_common(body, -1);
  c.logprobs = opt_bool(body, "logprobs").value_or(false);
  c.top_logprobs = static_cast<int>(opt_int(body, "top_logprobs", 0, 20).value_or(0));
  if (c.top_logprobs > 0 && !c.logprobs) throw bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
  c.p.gen.top_logprobs = c.top_logprobs;
  c.chat.add_generation_prompt = true;
  c.chat.enable_thinking = cx.opts.default_thinking;
  if (auto it = body.find("chat_template_kwargs"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw bad_request("'chat_template_kwargs' must be an object", "chat_template_kwargs");
    if (auto t = opt_bool(*it, "enable_thinking")) c.chat.enable_thinking = *t;
  }
  const std::string family = chat_family(*cx.engine);
  c.harmony = family == "harmony";
  c.chat.reasoning_effort = reasoning_effort(body, family);
  std::string choice = "auto";
  if (auto it = body.find("tool_choice"); it != body.end() && it->is_string()) choice = it->get<std::string>();
  if (auto it = body.find("tools"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) throw bad_request("'tools' must be an array", "tools");
    if (!it->empty() && choice != "none") {
      c.chat.tools_json = it->dump();
      c.tools = true;
    }
  }
  if (auto it = body.find("response_format"); it != body.end() && it->is_object() && it->value("type", "text") != "text")
    throw ApiError(400, "not_supported_error", "'response_format' other than text is not supported", "response_format");
  return c;
}

json token_entry(const Tokenizer& tok, int32_t id, float logprob) {
  const std::string bytes = token_text(tok, id);
  json b = json::array();
  for (unsigned char ch : bytes) b.push_back(ch);
  return {{"token", bytes}, {"logprob", logprob}, {"bytes", b}};
}

json logprob_entry(const Tokenizer& tok, const GeneratedStep& s, int top) {
  json e = token_entry(tok, s.id, s.logprob);
  json alts = json::array();
  for (int i = 0; i < top && i < static_cast<int>(s.top.size()); ++i) alts.push_back(token_entry(tok, s.top[i].id, s.top[i].logprob));
  e["top_logprobs"] = alts;
  return e;
}

// Whether the prompt leaves the think block open (a template that starts the answer inside it).
bool thinking_open(const Engine& engine, const std::vector<int32_t>& prompt) {
  const size_t n = std::min<size_t>(prompt.size(), 4);
  const std::string tail = engine.detokenize(std::vector<int32_t>(prompt.end() - static_cast<long>(n), prompt.end()));
  const size_t open = tail.rfind(kThinkOpen);
  return open != std::string::npos && tail.find(kThinkClose, open) == std::string::npos;
}

json usage_json(int prompt_tokens, int completion_tokens, int cached) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

void record(const Context& cx, const std::vector<GenerateResult>& results, Clock::time_point t0) {
  const double e2e = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const auto& r : results)
    cx.metrics.request_done(finish_reason_name(r.finish_reason), r.prefill_seconds, e2e, r.n_prompt,
                            static_cast<int>(r.tokens.size()));
}

void respond_whole(const Context& cx, const httplib::Request& req, httplib::Response& res, const ChatCall& c,
                   const std::vector<int32_t>& prompt, bool open) {
  const auto t0 = Clock::now();
  std::vector<std::shared_ptr<Generation>> gens;
  for (int i = 0; i < c.p.n; ++i) gens.push_back(submit(cx, choice_request(c.p, prompt, i)));
  const std::vector<GenerateResult> results = wait_all(cx, gens, deadline_for(cx, req));
  record(cx, results, t0);

  const Tokenizer& tok = cx.engine->tokenizer();
  json choices = json::array();
  int completion = 0;
  for (int i = 0; i < c.p.n; ++i) {
    const GenerateResult& r = results[i];
    completion += static_cast<int>(r.tokens.size());
    SplitText split;
    ParsedContent parsed;
    if (c.harmony) {
      const HarmonyOutput out = parse_harmony_output(r.text);
      split = harmony_split(out);
      parsed.content = split.content;
      if (c.tools) parsed.calls = harmony_tool_calls(out);
    } else {
      split = split_reasoning(r.text, open);
      parsed.content = split.content;
      if (c.tools) parsed = parse_tool_calls(split.content);
    }
    json msg = {{"role", "assistant"}};
    std::string finish = finish_reason_name(r.finish_reason);
    msg["content"] = parsed.content.empty() && !parsed.calls.empty() ? json() : json(parsed.content);
    if (split.reasoning) {
      msg["reasoning_content"] = *split.reasoning;
      msg["reasoning"] = *split.reasoning;
    }
    if (!parsed.calls.empty()) {
      msg["tool_calls"] = tool_calls_to_json(parsed.calls, false);
      if (finish == "stop") finish = "tool_calls";
    }
    json logprobs;
    if (c.logprobs) {
      json content = json::array();
      for (const GeneratedStep& s : r.steps) content.push_back(logprob_entry(tok, s, c.top_logprobs));
      logprobs = {{"content", content}};
    }
    choices.push_back({{"index", i}, {"message", msg}, {"logprobs", logprobs}, {"finish_reason", finish}});
  }
  const int n_prompt = static_cast<int>(prompt.size());
  send_json(res, {{"id", new_id("chatcmpl-")},
                  {"object", "chat.completion"},
                  {"created", unix_now()},
                  {"model", cx.model_name},
                  {"choices", choices},
                  {"usage", usage_json(n_prompt, completion, results.empty() ? 0 : results[0].n_cached)}});
}

// One choice's text on its way out: the reasoning split, then tool-call blocks held back until
// they can be parsed whole.
struct ChoiceStream {
  ChoiceStream(bool harmony, bool open) : splitter(harmony, open) {}
  ChatSplitter splitter;
  std::string content;     // all content so far
  size_t sent = 0;         // bytes of it sent as content deltas
  bool finished = false;
  std::string finish_reason;
  int tokens = 0;
};

size_t sendable(const std::string& content, size_t sent, bool tools) {
  if (!tools) return content.size();
  const size_t at = content.find(kToolCallOpen, sent);
  if (at != std::string::npos) return at;
  for (size_t n = std::min(content.size() - sent, kToolCallOpen.size() - 1); n > 0; --n)
    if (std::string_view(content).substr(content.size() - n) == kToolCallOpen.substr(0, n)) return content.size() - n;
  return content.size();
}

class ChatStreamWriter {
 public:
  ChatStreamWriter(const Context& cx, const ChatCall& c, int n_prompt, bool open)
      : cx_(cx), c_(c), n_prompt_(n_prompt), id_(new_id("chatcmpl-")), created_(unix_now()) {
    for (int i = 0; i < c.p.n; ++i) choices_.emplace_back(c.harmony, open);
  }

  json chunk(int index, json delta, json logprobs = json(), json finish = json()) const {
    json ch = {{"index", index}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)},
               {"finish_reason", std::move(finish)}};
    json ev = {{"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", cx_.model_name},
               {"choices", json::array({ch})}};
    if (c_.p.include_usage) ev["usage"] = json();
    return ev;
  }

  std::string first_chunks() const {
    std::string out;
    for (int i = 0; i < c_.p.n; ++i) out += sse(chunk(i, {{"role", "assistant"}, {"content", ""}}));
    return out;
  }

  std::string on_event(const TokenEvent& e) {
    ChoiceStream& s = choices_[e.choice];
    ++s.tokens;
    const ReasoningSplitter::Delta d = s.splitter.feed(e.piece);
    json lp;
    if (c_.logprobs) lp = {{"content", json::array({logprob_entry(cx_.engine->tokenizer(), e.step, c_.top_logprobs)})}};
    return deltas(e.choice, d, std::move(lp), false);
  }

  std::string on_finish(int index, const GenerateResult& r) {
    ChoiceStream& s = choices_[index];
    std::string out = deltas(index, s.splitter.finish(), json(), true);
    std::string finish = finish_reason_name(r.finish_reason);
    ParsedContent parsed{s.content.substr(s.sent), {}};
    if (c_.tools) {
      if (const HarmonyOutput* h = s.splitter.harmony_output())
        parsed.calls = harmony_tool_calls(*h);
      else
        parsed = parse_tool_calls(parsed.content);
    }
    if (!parsed.content.empty()) out += sse(chunk(index, {{"content", parsed.content}}));
    if (!parsed.calls.empty()) {
      out += sse(chunk(index, {{"tool_calls", tool_calls_to_json(parsed.calls, true)}}));
      if (finish == "stop") finish = "tool_calls";
    }
    s.sent = s.content.size();
    completion_ += static_cast<int>(r.tokens.size());
    cached_ = r.n_cached;
    out += sse(chunk(index, json::object(), json(), finish));
    return out;
  }

  std::string end() const {
    std::string out;
    if (c_.p.include_usage)
      out += sse({{"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", cx_.model_name},
                  {"choices", json::array()}, {"usage", usage_json(n_prompt_, completion_, cached_)}});
    return out + std::string(kSseDone);
  }

 private:
  std::string deltas(int index, const ReasoningSplitter::Delta& d, json lp, bool final) {
    ChoiceStream& s = choices_[index];
    std::string out;
    json delta = json::object();
    if (!d.reasoning.empty()) {
      delta["reasoning_content"] = d.reasoning;
      delta["reasoning"] = d.reasoning;
    }
    s.content += d.content;
    const size_t upto = final ? s.sent : sendable(s.content, s.sent, c_.tools && !c_.harmony);
    if (upto > s.sent) {
      delta["content"] = s.content.substr(s.sent, upto - s.sent);
      s.sent = upto;
    }
    if (!delta.empty() || !lp.is_null()) out += sse(chunk(index, delta, std::move(lp)));
    return out;
  }

  const Context& cx_;
  const ChatCall& c_;
  int n_prompt_;
  std::string id_;
  int64_t created_;
  std::vector<ChoiceStream> choices_;
  int completion_ = 0;
  int cached_ = 0;
};

bool stream_chat(const Context& cx, const ChatCall& call, const std::vector<std::shared_ptr<Generation>>& gens,
                 TokenStream& stream, const Deadline& deadline, Clock::time_point t0, int n_prompt, bool open,
                 httplib::DataSink& sink);

void respond_stream(const Context& cx, const httplib::Request& req, httplib::Response& res, ChatCall c,
                    const std::vector<int32_t>& prompt, bool open, Ticket ticket) {
  auto stream = std::make_shared<TokenStream>();
  std::vector<std::shared_ptr<Generation>> gens;
  for (int i = 0; i < c.p.n; ++i) gens.push_back(submit(cx, choice_request(c.p, prompt, i), TokenStream::callback(stream, i)));
  const Deadline deadline = deadline_for(cx, req);
  auto call = std::make_shared<ChatCall>(std::move(c));
  const auto t0 = Clock::now();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&cx, call, gens, stream, deadline, ticket, t0,
                                                         n_prompt = static_cast<int>(prompt.size()), open](size_t, httplib::DataSink& sink) {
    // An exception must not leave the provider: it runs on an HTTP thread with no handler above.
    try {
      return stream_chat(cx, *call, gens, *stream, deadline, t0, n_prompt, open, sink);
    } catch (const std::exception& e) {
      for (const auto& g : gens) g->cancel();
      cx.metrics.request_failed();
      const std::string ev = sse(error_body(ApiError(500, "server_error", e.what())));
      sink.write(ev.data(), ev.size());
      return false;
    }
  });
}

bool stream_chat(const Context& cx, const ChatCall& call, const std::vector<std::shared_ptr<Generation>>& gens,
                 TokenStream& stream_, const Deadline& deadline, Clock::time_point t0, int n_prompt, bool open,
                 httplib::DataSink& sink) {
    TokenStream* stream = &stream_;
    ChatStreamWriter w(cx, call, n_prompt, open);
    auto cancel_all = [&] {
      for (const auto& g : gens) g->cancel();
    };
    if (!sink.write(w.first_chunks().data(), w.first_chunks().size())) return cancel_all(), false;
    std::vector<bool> finished(gens.size(), false);
    std::vector<GenerateResult> results(gens.size());
    size_t n_finished = 0;
    while (n_finished < gens.size()) {
      std::string out;
      for (const TokenEvent& e : stream->take(0.05)) out += w.on_event(e);
      // A generation is done only once its last token has been taken from the stream.
      for (size_t i = 0; i < gens.size(); ++i) {
        if (finished[i] || !gens[i]->done()) continue;
        for (const TokenEvent& e : stream->take(0)) out += w.on_event(e);
        try {
          results[i] = gens[i]->wait();
        } catch (const std::exception& e) {
          cx.metrics.request_failed();
          out += sse(error_body(ApiError(500, "server_error", e.what())));
          sink.write(out.data(), out.size());
          return cancel_all(), false;
        }
        finished[i] = true;
        ++n_finished;
        out += w.on_finish(static_cast<int>(i), results[i]);
      }
      if (!out.empty() && !sink.write(out.data(), out.size())) return cancel_all(), false;
      if (!sink.is_writable() || Clock::now() >= deadline.until || cx.inflight.cancelled()) return cancel_all(), false;
    }
    record(cx, results, t0);
    const std::string end = w.end();
    sink.write(end.data(), end.size());
    sink.done();
    return true;
}

}  // namespace

void handle_chat_completions(const Context& cx, const httplib::Request& req, httplib::Response& res, Ticket ticket) {
  ChatCall c = parse_chat(cx, parse_body(req));
  std::vector<int32_t> prompt;
  try {
    prompt = cx.engine->chat_prompt(c.messages, c.chat);
  } catch (const Error& e) {
    throw bad_request(e.what(), "messages");
  }
  const bool open = thinking_open(*cx.engine, prompt);
  if (c.p.stream)
    respond_stream(cx, req, res, std::move(c), prompt, open, std::move(ticket));
  else
    respond_whole(cx, req, res, c, prompt, open);
}

}  // namespace fare::server
