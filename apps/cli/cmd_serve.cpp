// fare serve: the model behind an OpenAI-compatible, judge and reward HTTP API.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "apps/cli/commands.h"
#include "common/error.h"
#include "server/server.h"

namespace fare::cli {

namespace {

struct ServeArgs {
  ModelArgs model;
  server::ServerOptions opts;
  std::string body_limit = "16M";
  std::string default_thinking;  // "on", "off", empty: the template's default
};

// SIGTERM and SIGINT are taken by one thread (blocked everywhere else, so the HTTP and engine
// threads never see them); the first asks the server to drain, a second one exits at once.
void watch_signals(const sigset_t& set, server::Server& srv) {
  std::thread([set, &srv] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "serve: %s: finishing the requests in flight, taking no new ones\n", strsignal(sig));
    std::thread([set] {
      int again = 0;
      sigwait(&set, &again);
      std::fprintf(stderr, "serve: second %s: exiting now\n", strsignal(again));
      std::_Exit(1);
    }).detach();
    srv.shutdown();
  }).detach();
}

void run(ServeArgs& a) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up is a failed write, not the end of the server

  if (a.opts.api_key.empty())
    if (const char* k = std::getenv("FARE_API_KEY"); k && *k) a.opts.api_key = k;
  a.opts.max_body_bytes = static_cast<size_t>(parse_bytes(a.body_limit));
  if (a.default_thinking == "on") a.opts.default_thinking = true;
  if (a.default_thinking == "off") a.opts.default_thinking = false;

  server::Server srv(a.opts);
  srv.start();
  watch_signals(set, srv);
  std::fprintf(stderr, "serve: listening on http://%s:%d (loading %s; /health answers 503 until it is ready)%s\n",
               a.opts.host.c_str(), srv.port(), a.model.path.c_str(), a.opts.api_key.empty() ? "" : ", API key required");
  std::shared_ptr<const Engine> engine;
  try {
    engine = open_engine(a.model);
  } catch (...) {
    srv.shutdown();
    throw;
  }
  if (!a.opts.reward.reasoning_effort.empty() && engine->info().chat_family != "harmony") {
    srv.shutdown();
    fail("--reward-reasoning-effort is a setting of gpt-oss (harmony) models; this model's chat template is ",
         engine->info().chat_family.empty() ? std::string("unusable") : engine->info().chat_family, ", which has none");
  }
  const EngineStats st = engine->stats();
  std::fprintf(stderr, "serve: ready: %s, context %d, KV cache %.2f GiB, up to %d sequences per step, %s kernels, %d threads\n",
               engine->model_id().c_str(), engine->n_ctx(), static_cast<double>(st.kv_budget_bytes) / (1 << 30),
               engine->max_sequences(), engine->kernels().c_str(), engine->n_threads());
  srv.set_engine(engine);
  srv.wait();
  std::fprintf(stderr, "serve: stopped\n");
}

}  // namespace

void register_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the model over HTTP: OpenAI chat/completions, judge, rerank, reward");
  add_model_options(*cmd, a->model);
  cmd->add_option("--parallel", a->model.parallel, "Sequences decoded together in one step (default 8)")->check(CLI::PositiveNumber);
  cmd->add_option("--host", a->opts.host, "Address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", a->opts.port, "Port (default 8080; 0: any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", a->opts.api_key,
                  "Require this key (Authorization: Bearer KEY or X-Api-Key); default: $FARE_API_KEY, else none. "
                  "Prefer the variable: a flag shows in ps");
  cmd->add_option("--served-model-name", a->opts.model_name, "The model name clients send and see (default: the model's folder or file name)");
  cmd->add_option("--max-queue", a->opts.max_requests,
                  "Generation requests running or queued at once; more get 429 (default: 8 x --parallel)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", a->opts.request_timeout, "Seconds a request may run before it is cancelled with 503 (default 600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shutdown-grace", a->opts.shutdown_grace,
                  "On SIGTERM, seconds in-flight requests may still run before they are cancelled (default 30)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--http-threads", a->opts.http_threads,
                  "Connections served at once (each open connection holds a thread; more wait for one); "
                  "default max(256, 4 x --max-queue + 64)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--body-limit", a->body_limit, "Largest request body; larger ones get 413 (default 16M)");
  cmd->add_option("--default-thinking", a->default_thinking,
                  "enable_thinking for chat requests that do not set chat_template_kwargs (default: the template's, on for Qwen3)")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--template-dir", a->opts.template_dir, "Folder with <task>.system.txt / <task>.user.txt overriding the built-in FARE templates");
  cmd->add_option("--judge-parallel", a->opts.judge_parallel, "Judgments of one /v1/judge, /v1/rerank or /get_reward request in flight (default: --parallel)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--reward-task", a->opts.reward.task, "/get_reward judges with verify, verify_ref or rating (default: verify_ref when labels are sent, else verify)")
      ->check(CLI::IsMember({"verify", "verify_ref", "rating"}));
  cmd->add_option("--reward-correct", a->opts.reward.correct, "/get_reward: reward for the verdict Correct (default 1)");
  cmd->add_option("--reward-incorrect", a->opts.reward.incorrect, "/get_reward: reward for the verdict Incorrect (default 0)");
  cmd->add_option("--reward-invalid", a->opts.reward.invalid, "/get_reward: reward when no valid verdict was given (default 0)");
  cmd->add_option("--reward-max-tokens", a->opts.reward.max_tokens,
                  "/get_reward: most tokens the judge writes per reward (default: the task's, docs/JUDGE.md)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--reward-reasoning-effort", a->opts.reward.reasoning_effort,
                  "/get_reward with a gpt-oss judge (FARE-20B): its reasoning effort (default: the template's, medium); "
                  "a request's reasoning_effort wins")
      ->check(CLI::IsMember({"low", "medium", "high"}));
  cmd->add_flag("--reward-probability", a->opts.reward.use_probability,
                "/get_reward: interpolate between incorrect and correct by P(Correct) read from the verdict token's log-probabilities");
  cmd->callback([a] { run(*a); });
}

}  // namespace fare::cli
