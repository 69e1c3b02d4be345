// Reports without a browser: the bootstrap and McNemar numbers, escaping, loading a run from its
// files (and refusing bad ones), and the page's data against the summary of the same run.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "judge/dataset.h"
#include "judge/eval.h"
#include "judge/html_report.h"
#include "judge/report_compare.h"
#include "judge/report_items.h"
#include "judge/report_stats.h"
#include "judge/scripted_backend.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kHostile = "</script><img src=x onerror=alert(1)>";

TEST(ReportStats, PercentilesResamplingAndMcNemar) {
  std::vector<double> draws;
  for (int i = 0; i < 100; ++i) draws.push_back(i);
  std::optional<Interval> iv = percentile_interval(draws, 100);
  ASSERT_TRUE(iv);
  EXPECT_NEAR(iv->lo, 2.475, 1e-12);
  EXPECT_NEAR(iv->hi, 96.525, 1e-12);
  EXPECT_FALSE(percentile_interval({1, 2, 3}, 100));  // a metric defined in too few resamples

  // Each stratum keeps its size; one seed, one sequence.
  std::vector<std::string> strata = {"a", "a", "b", "b", "b"};
  Resampler r1(strata, 7), r2(strata, 7), r3(strata, 8);
  std::vector<size_t> s1 = r1.next();
  ASSERT_EQ(s1.size(), 5u);
  for (size_t k = 0; k < 2; ++k) EXPECT_LT(s1[k], 2u);
  for (size_t k = 2; k < 5; ++k) EXPECT_GE(s1[k], 2u);
  EXPECT_EQ(s1, r2.next());
  std::vector<size_t> s3 = r3.next();
  EXPECT_TRUE(s3 != s1 || r3.next() != r1.next());

  EXPECT_NEAR(binomial_two_sided_p(0, 5), 2.0 / 32, 1e-12);
  EXPECT_NEAR(binomial_two_sided_p(1, 6), 2.0 * 7 / 64, 1e-12);
  EXPECT_DOUBLE_EQ(binomial_two_sided_p(2, 4), 1.0);
  McNemar m = mcnemar({true, true, false, false, false, false, false, true}, {true, false, true, true, true, true, true, true});
  EXPECT_EQ(m.both_right, 2);
  EXPECT_EQ(m.only_a_right, 1);
  EXPECT_EQ(m.only_b_right, 5);
  EXPECT_EQ(m.both_wrong, 0);
  EXPECT_NEAR(m.p_value, 2.0 * 7 / 64, 1e-12);
  EXPECT_NEAR(m.chi2, 9.0 / 6, 1e-12);
}

ItemOutcome verify_outcome(int i, bool right) {
  ItemOutcome o;
  o.item_id = "v" + std::to_string(i);
  o.label = i % 2 ? kCorrect : kIncorrect;
  o.subset = i % 3 ? "x" : "y";
  Decision d;
  d.valid = true;
  d.code = right ? static_cast<int>(*o.label) : 1 - static_cast<int>(*o.label);
  o.as_given = d;
  return o;
}

TEST(ReportStats, BootstrapIntervalsAreSeededAndPaired) {
  std::vector<ItemOutcome> outcomes, all_right;
  for (int i = 0; i < 60; ++i) {
    outcomes.push_back(verify_outcome(i, i % 4 != 0));
    all_right.push_back(verify_outcome(i, true));
  }
  BootstrapOptions opts{3, 400};
  MetricIntervals a = bootstrap_metrics(Task::kVerify, outcomes, false, opts);
  MetricIntervals b = bootstrap_metrics(Task::kVerify, outcomes, false, opts);
  MetricIntervals c = bootstrap_metrics(Task::kVerify, outcomes, false, {4, 400});
  const MetricKey acc = {"overall", "accuracy"};
  ASSERT_TRUE(a.count(acc));
  EXPECT_EQ(a.at(acc).lo, b.at(acc).lo);
  EXPECT_EQ(a.at(acc).hi, b.at(acc).hi);
  EXPECT_TRUE(a.at(acc).lo != c.at(acc).lo || a.at(acc).hi != c.at(acc).hi);
  EXPECT_LT(a.at(acc).lo, 0.75);
  EXPECT_GT(a.at(acc).hi, 0.75);
  EXPECT_TRUE(a.count({"subset=y", "accuracy"}));
  EXPECT_FALSE(a.count({"overall", "n"}));  // counts have no interval

  MetricIntervals perfect = bootstrap_metrics(Task::kVerify, all_right, false, opts);
  EXPECT_DOUBLE_EQ(perfect.at(acc).lo, 1.0);
  EXPECT_DOUBLE_EQ(perfect.at(acc).hi, 1.0);
  MetricIntervals same = bootstrap_differences(Task::kVerify, outcomes, false, outcomes, false, opts);
  EXPECT_DOUBLE_EQ(same.at(acc).lo, 0.0);
  EXPECT_DOUBLE_EQ(same.at(acc).hi, 0.0);
  MetricIntervals better = bootstrap_differences(Task::kVerify, outcomes, false, all_right, false, opts);
  EXPECT_GT(better.at(acc).lo, 0.0);  // paired: every resample has B ahead
}

TEST(ReportHtml, EscapingForTextJsonAndScripts) {
  EXPECT_EQ(html_escape("<a href='x'>\"&\""), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;");
  json v = {{"t", kHostile + " & \xE2\x80\xA8"}};
  std::string s = script_json(v);
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_EQ(s.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_EQ(json::parse(s), v);  // still the same JSON
  EXPECT_EQ(script_text("a = '</SCRIPT>'; b = '<!--';"), "a = '<\\/SCRIPT>'; b = '<\\!--';");
}

std::string pairwise_items(int n, bool hostile) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    const std::string markup = hostile ? kHostile : "";
    json it = {{"id", cat("p", i, markup)},
               {"instruction", cat("Question ", i, markup)},
               {"response_a", i % 2 ? "bad" : "good"},
               {"response_b", i % 2 ? "good" : "bad"},
               {"label", i % 2 ? "B" : "A"},
               {"subset", i % 3 ? "s1" : "s2"}};
    text += it.dump() + "\n";
  }
  return text;
}

// Picks the good answer, except every fifth prompt says A, every seventh gives no verdict.
JudgeCompletion judge_pairs(const JudgeRequest& req) {
  const std::string& user = req.messages.at(1).content;
  size_t q = user.find("Question ");
  int n = std::stoi(user.substr(q + 9));
  if (n % 7 == 3) return testing::completion("Explanation: " + kHostile + " hmm");
  bool good_first = user.find("A's Answer]\ngood") != std::string::npos;
  return testing::completion("Explanation: " + kHostile + "\nVerdict: [" + (good_first || n % 5 == 1 ? "A" : "B") + "]");
}

struct Evaluated {
  fs::path dir;
  std::string results;
  json summary;
};

// stop_after > 0: stop after that many judgments, as Ctrl-C does.
Evaluated evaluate(const std::string& name, int n, bool hostile, int stop_after = 0) {
  Evaluated e{testing::temp_dir(name), "", nullptr};
  const std::string items = (e.dir / "items.jsonl").string();
  testing::write_file(items, pairwise_items(n, hostile));
  LoadOptions lo;
  lo.task = Task::kPairwise;
  LoadResult loaded = load_dataset(items, lo);
  e.results = (e.dir / "r.jsonl").string();
  EvalOptions o;
  o.output_path = e.results;
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  o.stop = &stop;
  o.extra = {{"dataset", loaded.dataset}, {"inputs", {items}}};
  ScriptedBackend backend("judge-x", [&](const JudgeRequest& req) {
    if (stop_after > 0 && ++calls >= stop_after) stop = true;
    return judge_pairs(req);
  });
  EvalReport r = run_eval(backend, make_config(Task::kPairwise, builtin_template(Task::kPairwise), {}), loaded.items, o);
  e.summary = json::parse(testing::read_file(r.summary_path));
  return e;
}

json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  size_t b = html.find(open) + open.size();
  return json::parse(html.substr(b, html.find("</script>", b) - b));
}

TEST(ReportRun, MetricsEqualTheSummaryAndTheFileIsReproducible) {
  Evaluated e = evaluate("report_run", 30, false);
  RunData run = load_run({e.results, "", std::nullopt, {}, ""});
  EXPECT_TRUE(run.have_texts) << run.texts_note;  // found again through the summary's inputs
  EXPECT_EQ(run.items.size(), 30u);
  EXPECT_EQ(json(metrics_to_json(run.metrics)), e.summary["metrics"]);
  EXPECT_EQ(json(counts_to_json(run.counts)), e.summary["judgments"]);

  std::string html = run_report_html(run, {});
  json data = page_data(html);
  EXPECT_EQ(data["metrics"], e.summary["metrics"]);
  EXPECT_EQ(data["items"].size(), 30u);
  EXPECT_EQ(html, run_report_html(load_run({e.results, "", std::nullopt, {}, ""}), {}));
  // p0's right answer is A; in the swapped order the model wrote [B] for it.
  const json& ba = data["items"][0]["judgments"][1];
  EXPECT_EQ(ba["order"], "ba");
  EXPECT_EQ(ba["verdict"], "A");
  EXPECT_EQ(ba["written"], "B");
  EXPECT_NE(ba["raw"].dump().find("Verdict: [B]"), std::string::npos);
  ReportOptions other;
  other.bootstrap.seed = 99;
  EXPECT_NE(html, run_report_html(run, other));

  // Without the input files the items come from the judgments: no texts, the same numbers.
  fs::rename(e.dir / "items.jsonl", e.dir / "moved.jsonl");
  RunData bare = load_run({e.results, "", std::nullopt, {}, ""});
  EXPECT_FALSE(bare.have_texts);
  EXPECT_NE(bare.texts_note.find("not found"), std::string::npos) << bare.texts_note;
  EXPECT_EQ(json(metrics_to_json(bare.metrics)), e.summary["metrics"]);
  EXPECT_FALSE(page_data(run_report_html(bare, {}))["items"][0].contains("question"));
  RunData given = load_run({e.results, "", std::nullopt, {(e.dir / "moved.jsonl").string()}, ""});
  EXPECT_TRUE(given.have_texts);
}

TEST(ReportRun, AnInterruptedRunCountsItsUnjudgedItemsAsTheSummaryDoes) {
  Evaluated e = evaluate("report_stopped", 12, false, 7);
  ASSERT_EQ(e.summary["complete"], false);
  RunData run = load_run({e.results, "", std::nullopt, {}, ""});
  EXPECT_EQ(run.items.size(), 12u);  // the unjudged ones too, as the summary counts them
  EXPECT_EQ(run.counts.n_judgments, 7);
  EXPECT_EQ(json(metrics_to_json(run.metrics)), e.summary["metrics"]);
  EXPECT_NE(run_report_html(run, {}).find("stopped before the end"), std::string::npos);
}

TEST(ReportHtml, HostileTextIsEscapedEverywhere) {
  Evaluated e = evaluate("report_hostile", 14, true);
  RunData run = load_run({e.results, "", std::nullopt, {}, ""});
  ASSERT_TRUE(run.have_texts);
  std::string html = run_report_html(run, {});
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  // The only script ends are the page's own: the data and four scripts.
  size_t ends = 0;
  for (size_t at = html.find("</script"); at != std::string::npos; at = html.find("</script", at + 1)) ++ends;
  EXPECT_EQ(ends, 5u);
  json data = page_data(html);
  EXPECT_EQ(data["items"][0]["id"], "p0" + kHostile);  // intact once parsed
  EXPECT_NE(data["items"][0]["question"].get<std::string>().find(kHostile), std::string::npos);
}

TEST(ReportRun, VerdictLineIsMarked) {
  std::string raw = "Explanation: fine.\nVerdict: [B]\n";
  auto span = verdict_span(raw, Task::kPairwise, -1);
  ASSERT_TRUE(span);
  EXPECT_EQ(raw.substr(span->first, span->second - span->first), "Verdict: [B]");
  auto empty = verdict_span("Explanation: x\nVerdict:", Task::kPairwise, -1);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->first, 15u);
  EXPECT_FALSE(verdict_span("no marker here", Task::kPairwise, -1));
}

void expect_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one saying " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(ReportRun, BadInputIsRefusedWithWhereAndWhy) {
  Evaluated e = evaluate("report_bad", 6, false);
  const fs::path d = e.dir;
  expect_error([&] { load_run({(d / "missing.jsonl").string(), "", std::nullopt, {}, ""}); }, "missing.jsonl: cannot open");
  std::string text = testing::read_file(e.results);
  std::string first = text.substr(0, text.find('\n') + 1);
  testing::write_file((d / "bad.jsonl").string(), first + "{\"key\": 1}\n");
  expect_error([&] { load_run({(d / "bad.jsonl").string(), "", std::nullopt, {}, ""}); }, "bad.jsonl:2");
  testing::write_file((d / "torn.jsonl").string(), first + first.substr(0, 30));
  expect_error([&] { load_run({(d / "torn.jsonl").string(), "", std::nullopt, {}, ""}); }, "interrupted");
  testing::write_file((d / "empty.jsonl").string(), "");
  expect_error([&] { load_run({(d / "empty.jsonl").string(), "", std::nullopt, {}, ""}); }, "holds no judgment");
  testing::write_file((d / "badsummary.json").string(), "{");
  expect_error([&] { load_run({e.results, (d / "badsummary.json").string(), std::nullopt, {}, ""}); }, "not a JSON summary");

  // Comparisons: no shared item, or different labels for the same id.
  RunData a = load_run({e.results, "", std::nullopt, {}, ""});
  RunData b = a;
  for (Item& it : b.items) it.id += "-other";
  b.item_index.clear();
  for (size_t i = 0; i < b.items.size(); ++i) b.item_index[b.items[i].id] = i;
  expect_error([&] { compare_runs(a, b, {}); }, "share no item");
  RunData c = a;
  c.items[0].label = 1 - *c.items[0].label;
  expect_error([&] { compare_runs(a, c, {}); }, "not of the same benchmark");
  RunData d2 = a;
  d2.task = Task::kStep;
  expect_error([&] { compare_runs(a, d2, {}); }, "only runs of one task");
}

TEST(ReportCompare, PairedDifferencesAndDisagreements) {
  Evaluated e = evaluate("report_compare", 30, false);
  RunData a = load_run({e.results, "", std::nullopt, {}, ""});
  RunData b = a;
  // B gets the first five items wrong in both orders.
  for (size_t i = 0; i < 5; ++i) {
    for (auto* d : {&b.outcomes[i].as_given, &b.outcomes[i].swapped}) (*d)->code = 1 - static_cast<int>(*b.items[i].label);
  }
  Comparison c = compare_runs(a, b, {});
  EXPECT_EQ(c.index_a.size(), 30u);
  ASSERT_TRUE(c.mcnemar);
  EXPECT_EQ(c.mcnemar->only_b_right, 0);
  EXPECT_GT(c.mcnemar->only_a_right, 0);
  EXPECT_FALSE(c.disagreements.empty());
  std::string html = comparison_report_html(a, b, {});
  json data = page_data(html);
  EXPECT_EQ(data["kind"], "comparison");
  EXPECT_EQ(data["metrics"]["a"], e.summary["metrics"]);
  EXPECT_EQ(data["examples"][0]["count"], c.disagreements.size());
}

}  // namespace
}  // namespace fare::judge
