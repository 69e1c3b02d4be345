#include "judge/dataset.h"
#include "judge/item.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
using testing::temp_dir;
using testing::write_file;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Items, ProjectSchemaPerTask) {
  Item p = item_from_json(json::parse(R"({"id":"a","instruction":"q","response_a":"x","response_b":"y","label":"B"})"),
                          Task::kPairwise, "f:1");
  EXPECT_EQ(p.label, kOptionB);
  Item s = item_from_json(json::parse(R"({"id":7,"instruction":"q","steps":["s0","s1"],"label":"1"})"), Task::kStep, "f:2");
  EXPECT_EQ(s.id, "7");
  EXPECT_EQ(s.label, 1.0);
  Item v = item_from_json(json::parse(R"({"id":"v","instruction":"q","response":"r","label":false})"), Task::kVerify, "f:3");
  EXPECT_EQ(v.label, kIncorrect);
  Item r = item_from_json(json::parse(R"({"id":"r","instruction":"q","response":"r","label":7.5,"subset":"x"})"),
                          Task::kRating, "f:4");
  EXPECT_EQ(r.label, 7.5);
  EXPECT_EQ(r.subset, "x");
  Item n = item_from_json(json::parse(R"({"id":"n","instruction":"q","response":"r"})"), Task::kVerify, "f:5");
  EXPECT_FALSE(n.label);
  // Round trip through the schema.
  Item back = item_from_json(item_to_json(s), Task::kStep, "rt");
  EXPECT_EQ(back.steps, s.steps);
  EXPECT_EQ(back.label, s.label);
}

TEST(Items, ErrorsSayWhereWhatAndExpected) {
  std::string e = error_of([] {
    item_from_json(json::parse(R"({"id":"a","instruction":"q","response_a":"x","response_b":"y","label":"A=B"})"),
                   Task::kPairwise, "items.jsonl:17");
  });
  EXPECT_EQ(e, "items.jsonl:17: field 'label' is \"A=B\", expected \"A\" or \"B\"");
  e = error_of([] { item_from_json(json::parse(R"({"id":"a","instruction":"q"})"), Task::kVerify, "f:2"); });
  EXPECT_EQ(e, "f:2: missing field 'response'");
  e = error_of([] {
    item_from_json(json::parse(R"({"id":"a","instruction":"q","steps":["x"],"label":3})"), Task::kStep, "f:3");
  });
  EXPECT_NE(e.find("-1 or a step index 0..0"), std::string::npos) << e;
  e = error_of([] {
    item_from_json(json::parse(R"({"id":"a","instruction":"q","response":"r","label":"yes"})"), Task::kVerify, "f:4");
  });
  EXPECT_NE(e.find("expected true or false"), std::string::npos) << e;
  e = error_of([] {
    item_from_json(json::parse(R"({"id":"a","task":"rating","instruction":"q","response":"r"})"), Task::kVerify, "f:5");
  });
  EXPECT_NE(e.find("field 'task'"), std::string::npos) << e;
}

TEST(Items, GenericJsonlSkipsMalformedLinesWithLineNumbers) {
  auto dir = temp_dir("generic");
  std::string path = (dir / "items.jsonl").string();
  write_file(path,
             R"({"id":"a","instruction":"q","response_a":"x","response_b":"y","label":"A"})" "\n"
             "\n"
             R"({"id":"b","instruction":"q","response_a":"x")" "\n"
             R"({"id":"c","instruction":"q","response_a":"x","response_b":"y","label":"C"})" "\n"
             R"({"id":"a","instruction":"q","response_a":"x","response_b":"y"})" "\n"
             R"({"id":"d","instruction":"q","response_a":"x","response_b":"y"})");
  LoadResult r = load_dataset(path, {});
  EXPECT_EQ(r.dataset, "jsonl");
  EXPECT_EQ(r.task, Task::kPairwise);
  EXPECT_EQ(r.n_records, 5u);
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].id, "a");
  EXPECT_EQ(r.items[1].id, "d");
  ASSERT_EQ(r.problems.size(), 3u);
  EXPECT_NE(r.problems[0].find("items.jsonl:3: not valid JSON"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[1].find("items.jsonl:4: field 'label' is \"C\""), std::string::npos) << r.problems[1];
  EXPECT_NE(r.problems[2].find("'a' occurs twice"), std::string::npos) << r.problems[2];

  LoadOptions strict;
  strict.strict = true;
  std::string e = error_of([&] { load_dataset(path, strict); });
  EXPECT_NE(e.find("items.jsonl:3"), std::string::npos) << e;
}

TEST(Items, GenericTaskFromFlagFieldOrShape) {
  auto dir = temp_dir("generic_task");
  std::string path = (dir / "v.jsonl").string();
  write_file(path, R"({"id":"a","instruction":"q","response":"r","label":true})" "\n");
  EXPECT_NE(error_of([&] { load_dataset(path, {}); }).find("pass --task"), std::string::npos);
  LoadOptions o;
  o.task = Task::kVerify;
  EXPECT_EQ(load_dataset(path, o).items.at(0).label, kCorrect);
  o.task = Task::kRating;
  EXPECT_EQ(load_dataset(path, o).problems.size(), 1u);  // true is not a rating

  write_file(path, R"({"id":"a","task":"rating","instruction":"q","response":"r","label":3})" "\n");
  EXPECT_EQ(load_dataset(path, {}).task, Task::kRating);
  write_file(path, R"({"id":"a","instruction":"q","steps":["x"]})" "\n");
  EXPECT_EQ(load_dataset(path, {}).task, Task::kStep);
}

TEST(Items, CompletenessCheck) {
  Item r;
  r.id = "mt";
  r.task = Task::kRating;
  EXPECT_THROW(check_item_complete(r), Error);
  r.response = "ok";
  EXPECT_NO_THROW(check_item_complete(r));
}

}  // namespace
}  // namespace fare::judge
