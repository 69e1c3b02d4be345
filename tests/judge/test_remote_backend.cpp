// RemoteBackend against scripted OpenAI-compatible servers on 127.0.0.1: retries and their
// backoff, Retry-After, endpoints set aside, refusals that are the request's fault and those that
// are the setup's, giving up, timeouts, spreading over endpoints, the API key and the model name.
// Backoffs are shrunk through RemoteOptions so that the whole file runs in a few seconds.
#include "judge/remote_backend.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <thread>

#include "common/error.h"
#include "mock_openai_server.h"

namespace fare::judge {
namespace {

using nlohmann::json;
using testing::MockOpenaiServer;
using Clock = std::chrono::steady_clock;

constexpr const char* kVerdict = "Explanation: A is right.\nVerdict: [A]";

RemoteOptions fast_options() {
  RemoteOptions o;
  o.model = "mock-model";
  o.request_timeout_s = 5;
  o.retries = 4;
  o.backoff_base_s = 0.001;
  o.backoff_cap_s = 0.005;
  o.connect_timeout_s = 1;
  o.failures_to_set_aside = 2;
  o.set_aside_s = 60;  // longer than any test: an endpoint set aside stays aside
  return o;
}

JudgeRequest request() {
  JudgeRequest r;
  r.messages = {{"system", "You are a judge."}, {"user", "Which is better, [A] or [B]?"}};
  r.generation.max_tokens = 64;
  return r;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string error_of(RemoteBackend& b) {
  try {
    b.complete(request());
  } catch (const RequestRejected& e) {
    return std::string("rejected: ") + e.what();
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
  return "no error";
}

TEST(RemoteBackend, ServiceUnavailableTwiceThenAnswered) {
  MockOpenaiServer server([](const json&, int n, httplib::Response& res) {
    if (n < 2) return testing::reply_error(res, 503, "overloaded");
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  });
  RemoteOptions o = fast_options();
  o.failures_to_set_aside = 3;
  auto b = RemoteBackend::open(server.url(), o);
  JudgeCompletion c = b->complete(request());
  EXPECT_EQ(c.text, kVerdict);
  EXPECT_EQ(c.finish_reason, "eos");
  EXPECT_EQ(c.prompt_tokens, 100);
  EXPECT_GT(c.seconds, 0);
  const EndpointStats st = b->stats().at(0);
  EXPECT_EQ(st.sent, 3);
  EXPECT_EQ(st.failed, 2);
  EXPECT_EQ(st.retried, 2);
  EXPECT_EQ(st.answered, 1);
  EXPECT_TRUE(st.healthy);  // two failures in a row, one fewer than set it aside
  EXPECT_NE(b->summary().find("remote: 2 retries"), std::string::npos) << b->summary();
}

TEST(RemoteBackend, RetryAfterIsHonoured) {
  MockOpenaiServer server([](const json&, int n, httplib::Response& res) {
    if (n == 0) {
      res.set_header("Retry-After", "1");
      return testing::reply_error(res, 429, "slow down");
    }
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  });
  auto b = RemoteBackend::open(server.url(), fast_options());
  const auto t0 = Clock::now();
  EXPECT_EQ(b->complete(request()).text, kVerdict);
  // The backoff alone is at most 5 ms; 0.95 s leaves room for a coarse sleep clock.
  EXPECT_GE(seconds_since(t0), 0.95);
  EXPECT_EQ(server.chats(), 2);
  EXPECT_TRUE(b->stats().at(0).healthy);  // 429 is a busy server, not a broken one
}

TEST(RemoteBackend, AnEndpointThatRefusesConnectionsIsSetAside) {
  MockOpenaiServer good([](const json&, int, httplib::Response& res) {
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  });
  const std::string dead = testing::closed_port_url();
  auto b = RemoteBackend::open(dead + "," + good.url(), fast_options());
  for (int k = 0; k < 6; ++k) EXPECT_EQ(b->complete(request()).text, kVerdict);
  const std::vector<EndpointStats> st = b->stats();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].url, dead);
  EXPECT_EQ(st[0].answered, 0);
  EXPECT_EQ(st[0].sent, 2);  // two failures in a row set it aside for the rest of the test
  EXPECT_EQ(st[0].set_aside, 1);
  EXPECT_FALSE(st[0].healthy);
  EXPECT_EQ(st[1].answered, 6);
  EXPECT_EQ(good.chats(), 6);
  EXPECT_NE(b->load().find("set aside"), std::string::npos) << b->load();
}

TEST(RemoteBackend, APromptTooLongIsThisRequestsFault) {
  MockOpenaiServer server([](const json&, int, httplib::Response& res) {
    testing::reply_error(res, 400,
                         "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.");
  });
  auto b = RemoteBackend::open(server.url(), fast_options());
  const std::string e = error_of(*b);
  EXPECT_EQ(e.rfind("rejected: ", 0), 0u) << e;
  EXPECT_NE(e.find("maximum context length is 32768"), std::string::npos) << e;
  EXPECT_EQ(server.chats(), 1);  // not tried again
  EXPECT_EQ(b->stats().at(0).rejected, 1);
}

TEST(RemoteBackend, RefusalsThatWouldHitEveryRequestStopTheRun) {
  std::atomic<int> status{401};
  MockOpenaiServer server([&](const json&, int, httplib::Response& res) {
    testing::reply_error(res, status, status == 401 ? "invalid API key" : "unknown field 'chat_template_kwargs'");
  });
  auto b = RemoteBackend::open(server.url(), fast_options());
  std::string e = error_of(*b);
  EXPECT_EQ(e.rfind("error: ", 0), 0u) << e;
  EXPECT_NE(e.find("HTTP 401: invalid API key"), std::string::npos) << e;
  EXPECT_NE(e.find("FARE_API_KEY"), std::string::npos) << e;
  status = 400;  // a 400 that is not about length: every request would get it
  e = error_of(*b);
  EXPECT_EQ(e.rfind("error: ", 0), 0u) << e;
  EXPECT_NE(e.find("unknown field"), std::string::npos) << e;
  EXPECT_EQ(server.chats(), 2);
}

TEST(RemoteBackend, GivingUpNamesTheEndpointAndTheAttempts) {
  MockOpenaiServer server([](const json&, int, httplib::Response& res) { testing::reply_error(res, 500, "boom"); });
  RemoteOptions o = fast_options();
  o.retries = 2;
  o.failures_to_set_aside = 100;
  auto b = RemoteBackend::open(server.url(), o);
  const std::string e = error_of(*b);
  EXPECT_EQ(e.rfind("error: a request failed 3 times (1 try and 2 retries", 0), 0u) << e;
  EXPECT_NE(e.find(server.url()), std::string::npos) << e;
  EXPECT_NE(e.find("HTTP 500: boom"), std::string::npos) << e;
  EXPECT_EQ(server.chats(), 3);
}

TEST(RemoteBackend, ATimeoutIsTriedAgain) {
  MockOpenaiServer server([](const json&, int n, httplib::Response& res) {
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  });
  RemoteOptions o = fast_options();
  o.request_timeout_s = 0.3;
  auto b = RemoteBackend::open(server.url(), o);
  const auto t0 = Clock::now();
  EXPECT_EQ(b->complete(request()).text, kVerdict);
  EXPECT_LT(seconds_since(t0), 0.95);  // gave up on the slow answer instead of waiting for it
  EXPECT_EQ(b->stats().at(0).retried, 1);
}

TEST(RemoteBackend, ABodyThatIsNotJsonIsTriedAgainAndOneThatIsNotACompletionStops) {
  MockOpenaiServer server([](const json&, int n, httplib::Response& res) {
    if (n == 0) return res.set_content("{\"choices\": [", "application/json");  // cut short
    if (n == 1) return testing::reply_json(res, 200, testing::chat_answer(kVerdict));
    testing::reply_json(res, 200, json{{"result", "ok"}});
  });
  auto b = RemoteBackend::open(server.url(), fast_options());
  EXPECT_EQ(b->complete(request()).text, kVerdict);
  EXPECT_EQ(b->stats().at(0).retried, 1);
  const std::string e = error_of(*b);
  EXPECT_NE(e.find("error: a server answered POST /chat/completions with something that is not a chat completion: "
                   "the response: missing field 'choices'"),
            std::string::npos)
      << e;
}

// Eight requests held by the servers until all eight have arrived: the least outstanding rule
// must have put four on each.
TEST(RemoteBackend, ConcurrentRequestsSpreadOverEndpoints) {
  constexpr int kRequests = 8;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  auto hold = [&](const json&, int, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu);
    ++arrived;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return arrived >= kRequests; });
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  };
  MockOpenaiServer a(hold), b(hold);
  auto backend = RemoteBackend::open(a.url() + ", " + b.url(), fast_options());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int k = 0; k < kRequests; ++k)
    threads.emplace_back([&] { ok += backend->complete(request()).text == kVerdict; });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(a.chats(), kRequests / 2);
  EXPECT_EQ(b.chats(), kRequests / 2);
}

TEST(RemoteBackend, TheApiKeyComesFromTheEnvironment) {
  MockOpenaiServer server([](const json&, int, httplib::Response& res) {
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  });
  const char* saved_fare = std::getenv("FARE_API_KEY");
  const char* saved_openai = std::getenv("OPENAI_API_KEY");
  const std::string fare_key = saved_fare ? saved_fare : "", openai_key = saved_openai ? saved_openai : "";
  ::setenv("FARE_API_KEY", "key-one", 1);
  ::setenv("OPENAI_API_KEY", "key-two", 1);
  EXPECT_EQ(api_key_from_environment(), "key-one");
  RemoteOptions o = fast_options();
  o.api_key = api_key_from_environment();
  RemoteBackend::open(server.url(), o)->complete(request());
  ::unsetenv("FARE_API_KEY");
  EXPECT_EQ(api_key_from_environment(), "key-two");
  ::unsetenv("OPENAI_API_KEY");
  EXPECT_EQ(api_key_from_environment(), "");
  o.api_key = api_key_from_environment();
  RemoteBackend::open(server.url(), o)->complete(request());
  if (saved_fare) ::setenv("FARE_API_KEY", fare_key.c_str(), 1);
  if (saved_openai) ::setenv("OPENAI_API_KEY", openai_key.c_str(), 1);
  EXPECT_EQ(server.authorizations(), (std::vector<std::string>{"Bearer key-one", ""}));
}

TEST(RemoteBackend, TheModelNameIsLearntFromTheServerUnlessGiven) {
  MockOpenaiServer server([](const json& body, int, httplib::Response& res) {
    testing::reply_json(res, 200, testing::chat_answer(body.value("model", "?")));
  });
  RemoteOptions o = fast_options();
  o.model.clear();
  auto b = RemoteBackend::open(server.url(), o);
  EXPECT_EQ(b->model_id(), "mock-model");
  EXPECT_EQ(server.model_lists(), 1);
  JudgeRequest r = request();
  r.top_logprobs = 5;
  r.think = false;
  EXPECT_EQ(b->complete(r).text, "mock-model");  // the request names the model it learnt
  const json sent = json::parse(server.bodies().back());
  EXPECT_EQ(sent["top_logprobs"], 5);
  EXPECT_EQ(sent["chat_template_kwargs"]["enable_thinking"], false);
  EXPECT_NE(b->setup().find("remote model mock-model at " + server.url()), std::string::npos) << b->setup();

  o.model = "given";
  EXPECT_EQ(RemoteBackend::open(server.url(), o)->model_id(), "given");
  EXPECT_EQ(server.model_lists(), 1);
}

TEST(RemoteBackend, BadSpecsAreRefusedWithTheReason) {
  auto message = [](const std::string& spec) {
    try {
      RemoteBackend::open(spec, fast_options());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("opened");
  };
  EXPECT_EQ(message("http://"), "'http://': no host after http://");
  EXPECT_EQ(message("http://h:99999/v1"), "'http://h:99999/v1': port '99999' is not a number from 1 to 65535");
  EXPECT_EQ(message("http://a:1/v1,,http://b:2/v1"), "'http://a:1/v1,,http://b:2/v1': an empty URL in the list");
  EXPECT_EQ(message("http://a:1/v1,http://a:1/v1/"), "'http://a:1/v1,http://a:1/v1/' names http://a:1/v1 twice");
  EXPECT_EQ(message("http://a:1/v1,model.gguf"),
            "'model.gguf' is not a server URL: expected http://HOST:PORT/v1 or https://...");
  EXPECT_EQ(message("http://a:1/v1?x=1"),
            "'http://a:1/v1?x=1': expected only a host, a port and a path (no user, query or fragment)");
  EXPECT_EQ(message("http://a:1"), "opened");  // the API root defaults to /v1
  EXPECT_TRUE(is_remote_spec(" https://x/v1"));
  EXPECT_FALSE(is_remote_spec("models/fare-8b.gguf"));
}

}  // namespace
}  // namespace fare::judge
