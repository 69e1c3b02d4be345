// POST /tokenize, POST /detokenize and GET /tokenizer_info, accepting vLLM's field names
// (prompt / messages, tokens -> prompt) and llama.cpp's (content, with_pieces, tokens -> content).
#include "common/error.h"
#include "server/routes.h"

namespace fare::server {


void handle_tokenize(const Context& cx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  std::vector<int32_t> ids;
  if (body.is_object() && body.contains("messages")) {
    ChatOptions chat;
    chat.add_generation_prompt = opt_bool(body, "add_generation_prompt").value_or(true);
    chat.enable_thinking = cx.opts.default_thinking;
    if (auto it = body.find("chat_template_kwargs"); it != body.end() && it->is_object())
      if (auto t = opt_bool(*it, "enable_thinking")) chat.enable_thinking = *t;
    chat.reasoning_effort = reasoning_effort(body, chat_family(*cx.engine));
    try {
      ids = cx.engine->chat_prompt(chat_messages_from_json(body["messages"]), chat);
    } catch (const Error& e) {
      throw bad_request(e.what(), "messages");
    }
  } else {
    std::optional<std::string> text = opt_string(body, "prompt");
    if (!text) text = opt_string(body, "content");
    if (!text) throw bad_request("give 'prompt' (or llama.cpp's 'content') or 'messages'", "prompt");
    ids = cx.engine->tokenize(*text, true);
    const bool add_special = opt_bool(body, "add_special_tokens").value_or(opt_bool(body, "add_special").value_or(false));
    const auto bos = cx.engine->info().bos;
    if (add_special && bos) ids.insert(ids.begin(), *bos);
  }
  json tokens = json::array();
  if (opt_bool(body, "with_pieces").value_or(false)) {
    for (int32_t id : ids) tokens.push_back({{"id", id}, {"piece", token_text(cx.engine->tokenizer(), id)}});
  } else {
    tokens = ids;
  }
  json out = {{"count", ids.size()}, {"max_model_len", cx.engine->n_ctx()}, {"tokens", tokens}};
  if (opt_bool(body, "return_token_strs").value_or(false)) {
    json strs = json::array();
    for (int32_t id : ids) strs.push_back(token_text(cx.engine->tokenizer(), id));
    out["token_strs"] = strs;
  }
  send_json(res, out);
}

void handle_detokenize(const Context& cx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
    throw bad_request("'tokens' must be a list of token ids", "tokens");
  std::vector<int32_t> ids;
  const int32_t n_vocab = cx.engine->tokenizer().n_vocab();
  for (size_t i = 0; i < body["tokens"].size(); ++i) {
    const json& v = body["tokens"][i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= n_vocab)
      throw bad_request(cat("tokens[", i, "] is ", v.dump(), ", expected an id in [0, ", n_vocab, ")"), "tokens");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  const std::string text = cx.engine->detokenize(ids);
  send_json(res, {{"prompt", text}, {"content", text}});
}

void handle_tokenizer_info(const Context& cx, const httplib::Request&, httplib::Response& res) {
  const ModelInfo info = cx.engine->info();
  const Tokenizer& tok = cx.engine->tokenizer();
  auto token_or_null = [&](std::optional<int32_t> id) { return id ? json(tok.token_text(*id)) : json(); };
  json added = json::array();
  for (const AddedToken& a : tok.spec().added) added.push_back({{"id", a.id}, {"content", a.content}, {"special", a.special}});
  send_json(res, {{"tokenizer_class", "Qwen2TokenizerFast"},
                  {"vocab_size", tok.n_vocab()},
                  {"model_max_length", cx.engine->n_ctx()},
                  {"bos_token", token_or_null(info.bos)},
                  {"eos_token", token_or_null(info.eos)},
                  {"pad_token", token_or_null(info.pad)},
                  {"eos_token_ids", info.eos_ids},
                  {"added_tokens", added},
                  {"chat_template", cx.engine->chat_template().source()}});
}

}  // namespace fare::server
