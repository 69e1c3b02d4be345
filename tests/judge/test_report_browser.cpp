// Every kind of report, made by the real `fare` from scripted runs on the real benchmark files
// (every verdict kind and invalid reason of the task among the replies), opened in headless
// Chromium: each must finish drawing, print nothing to the console, request nothing, draw every
// chart with non-zero size and the marks its data calls for, and show hostile text as text. The
// reports must also carry exactly the summary's metrics, and `fare report` must rewrite them byte
// for byte. Screenshots land in the build tree's tests/judge/report_browser/.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "judge/dataset.h"
#include "judge/eval.h"
#include "judge/prompt.h"
#include "judge/template.h"
#include "support/run_command.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kChromium = "/usr/bin/chromium";
const std::string kHostile = "</script><img src=x onerror=alert(1)>";

struct CliRun {
  int rc = -1;
  std::string out, err;
};

CliRun fare(const std::string& args, const fs::path& dir) {
  const std::string err_path = (dir / "stderr.txt").string();
  test::CommandRun run = test::run_command("cd '" + dir.string() + "' && '" + std::string(FARE_CLI_PATH) + "' " + args +
                                           " 2>'" + err_path + "'");
  return {run.exit_code, run.out, testing::read_file(err_path)};
}

// One scripted reply: the text, and for verdicts with confidence the option's probability (the
// rule then carries the token steps the judge reads it from).
struct Reply {
  std::string before, option, after;
  double p = 0;  // 0: no log-probabilities
  std::string other;
  std::string finish = "eos";
  bool none = false;  // no rule at all: the backend refuses the request
};

Reply says(const std::string& option, const std::string& other = "", double p = 0, const std::string& extra = "") {
  return {"Explanation: checked the work." + extra + "\nVerdict: [", option, "]", p, other, "eos", false};
}
Reply plain(const std::string& text, const std::string& finish = "eos") { return {text, "", "", 0, "", finish, false}; }

// The invalid replies every task can give, by reason (step and rating add their own).
std::vector<Reply> invalid_replies(const std::string& two_options, const std::string& unbalanced) {
  return {plain("Explanation: the first answer begins by restating the problem and then", "length"),  // no verdict line
          plain("Explanation: unsure.\nVerdict: " + two_options),                                     // more than one option
          plain("Explanation: unsure.\nVerdict: " + unbalanced),                                      // unbalanced / unrecognised
          plain("Explanation: unsure.\nVerdict: maybe"),                                              // unrecognised verdict
          plain("Explanation: unsure.\nVerdict:\n"),                                                  // empty verdict
          plain("<think>\nComparing them. Verdict: [A]"),                                             // unterminated think block
          Reply{"", "", "", 0, "", "eos", true}};                                                     // backend error
}

json rule(const std::string& prompt, const Reply& r) {
  json out = {{"contains", prompt}, {"output", r.before + r.option + r.after}, {"finish_reason", r.finish}};
  if (r.p > 0)
    out["steps"] = json::array({{{"text", r.before}},
                                {{"text", r.option}, {"logprob", std::log(r.p)},
                                 {"top", json::array({json::array({r.option, std::log(r.p)}),
                                                      json::array({r.other, std::log(1 - r.p)})})}},
                                {{"text", r.after}}});
  return out;
}

std::string shown(double code) { return code == kOptionA ? "A" : "B"; }

// Pairwise, per item: right, wrong, always A (inconsistent), one order invalid for each reason,
// confident and unsure verdicts, and a reply full of markup.
std::vector<Reply> pairwise_replies(const Item& it, size_t i) {
  const double right = *it.label;
  const double wrong = 1 - right;
  std::vector<Reply> invalid = invalid_replies("[A] or [B]", "[A");
  auto both = [&](double item_code, double p) -> std::vector<Reply> {
    return {says(shown(item_code), shown(1 - item_code), p), says(shown(1 - item_code), shown(item_code), p)};
  };
  switch (i % 12) {
    case 0: return both(right, 0.9);
    case 1: return both(wrong, 0.7);
    case 2: return {says("A"), says("A")};
    case 3: return {says("B", "A", 0.55), says("B", "A", 0.6)};
    case 4: return {says(shown(right), "", 0, " " + kHostile), says(shown(1 - right), "", 0, " " + kHostile)};
    case 5: return both(right, 0.99);
    default: return {invalid[(i / 12 * 6 + i % 12 - 6) % invalid.size()], says(shown(1 - right))};
  }
}

std::vector<Reply> step_replies(const Item& it, size_t i) {
  const int label = static_cast<int>(*it.label);
  const int n = static_cast<int>(it.steps.size());
  const std::string right = std::to_string(label);
  const std::string other_step = std::to_string(label == kNoError ? 0 : label + 1 < n ? label + 1 : std::max(0, label - 1));
  std::vector<Reply> invalid = invalid_replies("1 or 2", "99");  // 99: step out of range
  invalid.push_back(plain("Explanation: unsure.\nVerdict: [1"));
  switch (i % 12) {
    case 0:
    case 1: return {says(right)};
    case 2: return {says(label == kNoError ? "0" : "-1")};  // false alarm or missed error
    case 3: return {says(other_step)};                     // wrong step (or a false alarm)
    case 4: return {says(right, "", 0, " " + kHostile)};
    default: return {invalid[(i / 12 * 7 + i % 12 - 5) % invalid.size()]};
  }
}

std::vector<Reply> verify_replies(const Item& it, size_t i) {
  const bool correct = *it.label == kCorrect;
  const std::string right = correct ? "Correct" : "Incorrect", wrong = correct ? "Incorrect" : "Correct";
  std::vector<Reply> invalid = invalid_replies("[Correct] or [Incorrect]", "[Correct");
  switch (i % 12) {
    case 0: return {says(right, wrong, 0.95)};
    case 1: return {says(right, wrong, 0.75)};
    case 2: return {says(wrong, right, 0.65)};
    case 3: return {says(wrong)};
    case 4: return {says(right, "", 0, " " + kHostile)};
    default: return {invalid[(i / 12 * 7 + i % 12 - 5) % invalid.size()]};
  }
}

std::vector<Reply> rating_replies(const Item& it, size_t i) {
  std::vector<Reply> invalid = invalid_replies("7 or 8", "[7");
  for (const char* v : {"11", "7.5", "4/5"}) invalid.push_back(plain(std::string("Explanation: fine.\nVerdict: ") + v));
  if (i % 2 == 0) {
    int r = it.label ? static_cast<int>(*it.label) : static_cast<int>(1 + i / 2 % 10);
    return {says(std::to_string(std::clamp(r + static_cast<int>(i % 8 == 4 ? -4 : 0), 1, 10)), "", 0,
                 i % 4 == 2 ? " " + kHostile : "")};
  }
  return {invalid[(i / 2) % invalid.size()]};
}

std::vector<Reply> replies_for(const Item& it, size_t i) {
  switch (it.task) {
    case Task::kPairwise: return pairwise_replies(it, i);
    case Task::kStep: return step_replies(it, i);
    case Task::kVerify:
    case Task::kVerifyRef: return verify_replies(it, i);
    case Task::kRating: return rating_replies(it, i);
  }
  return {};
}

// A rules file answering each (item, order) of the run by its whole prompt.
void write_rules(const fs::path& path, const std::vector<Item>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<Reply> replies = replies_for(items[i], i);
    for (size_t k = 0; k < replies.size(); ++k) {
      if (replies[k].none) continue;
      Order order = k == 0 ? Order::kAsGiven : Order::kSwapped;
      text += rule(build_messages(builtin_template(items[i].task), items[i], order)[1].content, replies[k]).dump() + "\n";
    }
  }
  testing::write_file(path.string(), text);
}

// Hostile markup in ids, questions and answers, in the project's own schema.
void write_hostile_items(const fs::path& path, const std::string& task, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    json it = {{"id", cat("h", i, kHostile)}, {"task", task}, {"instruction", cat("Question ", kHostile)},
               {"response", cat("Answer <b>", i, "</b> ", kHostile)}, {"subset", i % 2 ? "odd" : "even"}};
    if (task == "verify") it["label"] = i % 3 != 0;
    if (task == "rating") it["label"] = 1 + i % 10;
    text += it.dump() + "\n";
  }
  testing::write_file(path.string(), text);
}

struct RunCase {
  std::string name;
  std::vector<std::string> inputs;
  std::string task;  // for the project schema
  size_t limit = 0;
  std::string shuffle;
  std::set<std::string> reasons;  // invalid reasons the replies must have produced
};

const std::set<std::string> kCommonReasons = {"no verdict line", "more than one option", "unrecognised verdict",
                                              "empty verdict", "unterminated think block", "backend error"};

std::set<std::string> with(std::set<std::string> s, std::initializer_list<const char*> more) {
  for (const char* m : more) s.insert(m);
  return s;
}

std::vector<RunCase> runs() {
  const std::string jb = testing::data_path("judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl");
  return {
      {"pairwise", {jb}, "", 36, "3", with(kCommonReasons, {"unbalanced brackets"})},
      {"pairwise_rmbench", {testing::data_path("rm_bench/chat_filtered.json")}, "", 18, "", {"no verdict line"}},
      {"step", {testing::data_path("processbench/gsm8k.json")}, "", 36, "1", with(kCommonReasons, {"step out of range"})},
      {"verify_ref", {testing::data_path("hardverify_math/HardVerify-Math.json")}, "", 36, "2",
       with(kCommonReasons, {"unbalanced brackets"})},
      {"rating", {testing::data_path("mt_bench/reference_answer/gpt-4.jsonl")}, "", 30, "",
       with(kCommonReasons, {"rating out of range", "rating not an integer", "rating scale not 10"})},
      {"verify_hostile", {"hostile_verify.jsonl"}, "verify", 0, "", {"no verdict line"}},
      {"rating_hostile", {"hostile_rating.jsonl"}, "rating", 0, "", {"no verdict line"}},
  };
}

std::vector<Item> run_items(const RunCase& r, const fs::path& dir) {
  LoadOptions lo;
  if (!r.task.empty()) lo.task = parse_task(r.task);
  std::vector<std::string> paths;
  for (const std::string& p : r.inputs) paths.push_back(fs::path(p).is_absolute() ? p : (dir / p).string());
  std::optional<size_t> limit;
  std::optional<uint64_t> shuffle;
  if (r.limit) limit = r.limit;
  if (!r.shuffle.empty()) shuffle = std::stoull(r.shuffle);
  return select_items(load_datasets(paths, lo).items, limit, shuffle);
}

std::string eval_command(const RunCase& r, const std::string& rules, const std::string& out) {
  std::string cmd = "eval -m scripted:" + rules + " -o " + out + " --report";
  for (const std::string& p : r.inputs) cmd += " --input '" + p + "'";
  if (!r.task.empty()) cmd += " --task " + r.task;
  if (r.limit) cmd += " --limit " + std::to_string(r.limit);
  if (!r.shuffle.empty()) cmd += " --shuffle-seed " + r.shuffle;
  return cmd;
}

json report_data(const fs::path& html_path) {
  std::string html = testing::read_file(html_path.string());
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  size_t b = html.find(open);
  EXPECT_NE(b, std::string::npos);
  b += open.size();
  return json::parse(html.substr(b, html.find("</script>", b) - b));
}

void check_page(const json& page, const std::string& name) {
  SCOPED_TRACE(name);
  EXPECT_TRUE(page["ready"].get<bool>()) << "the page did not finish drawing";
  EXPECT_EQ(page["console"], json::array()) << page["console"].dump();
  EXPECT_EQ(page["exceptions"], json::array()) << page["exceptions"].dump();
  EXPECT_EQ(page["requests"], json::array()) << "the page asked for " << page["requests"].dump();
  EXPECT_EQ(page["dialogs"], json::array()) << "the page ran injected code: " << page["dialogs"].dump();
  EXPECT_EQ(page["images"], 0) << "an <img> element was created from the data";
  ASSERT_FALSE(page["charts"].empty());
  for (const json& c : page["charts"]) {
    SCOPED_TRACE(c["id"].get<std::string>());
    EXPECT_GT(c["width"].get<double>(), 0);
    EXPECT_GT(c["height"].get<double>(), 0);
    EXPECT_EQ(c["marks"], c["expected"]);
    int total = 0;
    for (const auto& [type, n] : c["marks"].items()) total += n.get<int>();
    EXPECT_GT(total, 0);
  }
}

const json* chart(const json& page, const std::string& id) {
  if (!page.is_object()) {
    ADD_FAILURE() << "no such page";
    return nullptr;
  }
  for (const json& c : page["charts"])
    if (c["id"] == id) return &c;
  ADD_FAILURE() << page["file"] << " has no chart " << id;
  return nullptr;
}

TEST(ReportBrowser, EveryTaskRendersOfflineWithEveryChartDrawn) {
  ASSERT_TRUE(fs::exists(kChromium)) << kChromium << " is missing: scripts/setup.sh installs Debian's chromium";
  const fs::path modules = fs::path(FARE_SOURCE_DIR) / "report" / "node_modules";
  ASSERT_TRUE(fs::exists(modules / "playwright-core")) << modules << " lacks playwright-core: run scripts/setup.sh";
  const fs::path dir = testing::temp_dir("report_browser");
  const fs::path shots = fs::path(FARE_BINARY_DIR) / "tests" / "judge" / "report_browser";
  fs::remove_all(shots);
  fs::create_directories(shots);
  write_hostile_items(dir / "hostile_verify.jsonl", "verify", 12);
  write_hostile_items(dir / "hostile_rating.jsonl", "rating", 12);

  std::vector<std::string> pages;
  std::map<std::string, json> summaries;
  for (const RunCase& r : runs()) {
    SCOPED_TRACE(r.name);
    write_rules(dir / (r.name + ".rules.jsonl"), run_items(r, dir));
    CliRun ev = fare(eval_command(r, r.name + ".rules.jsonl", r.name + ".jsonl"), dir);
    ASSERT_EQ(ev.rc, 0) << ev.err;
    json summary = json::parse(testing::read_file((dir / (r.name + ".summary.json")).string()));
    for (const std::string& reason : r.reasons) EXPECT_TRUE(summary["judgments"]["invalid_reasons"].contains(reason)) << reason;
    // The report carries the summary's numbers, computed by the same code.
    json data = report_data(dir / (r.name + ".report.html"));
    EXPECT_EQ(data["metrics"], summary["metrics"]);
    // Seconds are summed in completion order by the run and in file order by the report: the
    // last bit may differ (1e-9 relative), everything else must not.
    json dj = data["judgments"], sj = summary["judgments"];
    EXPECT_NEAR(dj["seconds"].get<double>(), sj["seconds"].get<double>(), 1e-9 * sj["seconds"].get<double>());
    dj.erase("seconds");
    sj.erase("seconds");
    EXPECT_EQ(dj, sj);
    // `fare report` on the same file writes the same bytes (seeded intervals, no clock).
    CliRun again = fare("report " + r.name + ".jsonl -o " + r.name + ".again.html", dir);
    ASSERT_EQ(again.rc, 0) << again.err;
    EXPECT_EQ(testing::read_file((dir / (r.name + ".report.html")).string()),
              testing::read_file((dir / (r.name + ".again.html")).string()));
    pages.push_back((dir / (r.name + ".report.html")).string());
    summaries[r.name] = summary;
  }
  // Two runs on the same pairs: the second with another set of replies.
  {
    RunCase b = runs()[0];
    std::vector<Item> items = run_items(b, dir);
    std::rotate(items.begin(), items.begin() + 5, items.end());  // other replies for the same items
    write_rules(dir / "pairwise_b.rules.jsonl", items);
    CliRun ev = fare(eval_command(b, "pairwise_b.rules.jsonl", "pairwise_b.jsonl"), dir);
    ASSERT_EQ(ev.rc, 0) << ev.err;
    CliRun cmp = fare("report pairwise.jsonl pairwise_b.jsonl", dir);
    ASSERT_EQ(cmp.rc, 0) << cmp.err;
    EXPECT_NE(cmp.out.find("pairwise.vs.pairwise_b.report.html"), std::string::npos) << cmp.out;
    pages.push_back((dir / "pairwise.vs.pairwise_b.report.html").string());
  }

  std::string cmd = "node '" + std::string(FARE_SOURCE_DIR) + "/tests/judge/report_browser.mjs' '" + modules.string() +
                    "' '" + kChromium + "' '" + shots.string() + "' onerror";
  for (const std::string& p : pages) cmd += " '" + p + "'";
  test::CommandRun browser = test::run_command(cmd + " 2>&1");
  ASSERT_EQ(browser.exit_code, 0) << browser.out;
  json seen = json::parse(browser.out);
  std::printf("browser: %zu pages in %d ms\n", pages.size(), seen["milliseconds"].get<int>());
  ASSERT_EQ(seen["pages"].size(), pages.size());
  std::map<std::string, json> by_name;
  for (const json& page : seen["pages"]) {
    std::string name = fs::path(page["file"].get<std::string>()).stem().stem().string();
    check_page(page, name);
    EXPECT_TRUE(fs::exists(shots / (fs::path(page["file"].get<std::string>()).stem().string() + ".png")));
    by_name[name] = page;
  }

  // Charts each task must have, with counts worked out from the summaries rather than the page.
  auto reasons = [&](const std::string& run) { return static_cast<int>(summaries[run]["judgments"]["invalid_reasons"].size()); };
  for (const char* name : {"pairwise", "step", "verify_ref", "rating"}) {
    if (const json* c = chart(by_name[name], "chart-invalid-reasons")) {
      EXPECT_EQ(c->at("marks")["rect"], reasons(name));
    }
    EXPECT_GT(by_name[name]["marked"].get<int>(), 0) << name << ": no verdict line marked in the examples";
  }
  if (const json* c = chart(by_name["pairwise"], "chart-outcomes")) {
    EXPECT_EQ(c->at("marks")["rect"], 4);
  }
  chart(by_name["pairwise"], "chart-orders");
  chart(by_name["pairwise"], "chart-reliability");
  chart(by_name["pairwise_rmbench"], "chart-by-difficulty");
  chart(by_name["step"], "chart-first-error");
  chart(by_name["step"], "chart-splits");
  chart(by_name["step"], "chart-by-length");
  chart(by_name["verify_ref"], "chart-confusion");
  chart(by_name["verify_ref"], "chart-prf");
  chart(by_name["verify_ref"], "chart-reliability");
  if (const json* c = chart(by_name["rating"], "chart-ratings")) {
    EXPECT_EQ(c->at("marks")["rect"], 10);
  }
  chart(by_name["rating_hostile"], "chart-agreement");
  chart(by_name["pairwise.vs.pairwise_b"], "chart-differences");
  chart(by_name["pairwise.vs.pairwise_b"], "chart-group-differences");

  // Hostile text is shown and searchable as text, never run.
  for (const std::string name : {"verify_hostile", "rating_hostile", "pairwise"}) {
    SCOPED_TRACE(name);
    EXPECT_NE(by_name[name]["search"].get<std::string>().find(" match"), std::string::npos);
    EXPECT_EQ(by_name[name]["search"].get<std::string>().find("0 of"), std::string::npos) << by_name[name]["search"];
    std::string html = testing::read_file((dir / (name + ".report.html")).string());
    EXPECT_EQ(html.find("<img src=x"), std::string::npos);
    EXPECT_EQ(html.find("</script><img"), std::string::npos);
    EXPECT_EQ(html.find("<b>"), std::string::npos);
  }
}

}  // namespace
}  // namespace fare::judge
