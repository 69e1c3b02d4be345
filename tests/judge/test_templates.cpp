#include "judge/prompt.h"
#include "judge/template.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using testing::read_file;
using testing::temp_dir;
using testing::write_file;

TEST(Templates, BuiltinsEqualSharedFilesByteForByte) {
  for (Task task : kAllTasks) {
    std::string base = std::string(FARE_SHARED_DIR) + "/fare/templates/" + std::string(task_name(task));
    EXPECT_EQ(builtin_template(task).system, read_file(base + ".system.txt")) << task_name(task);
    EXPECT_EQ(builtin_template(task).user, read_file(base + ".user.txt")) << task_name(task);
  }
}

TEST(Templates, TrainedTyposAreKept) {
  EXPECT_NE(builtin_template(Task::kPairwise).system.find("Focus on the content each response"), std::string::npos);
  EXPECT_NE(builtin_template(Task::kStep).system.find("Before providing an your final verdict"), std::string::npos);
}

TEST(Templates, BuiltinsHaveTheirPlaceholders) {
  for (Task task : kAllTasks) EXPECT_NO_THROW(validate_template(task, builtin_template(task))) << task_name(task);
}

TEST(Templates, HashDependsOnBothHalvesAndIsStable) {
  TaskTemplate a{"sys", "user {instruction} {response}", "x"};
  TaskTemplate b{"sys", "user {instruction} {response} ", "x"};
  TaskTemplate c{"sys ", "user {instruction} {response}", "x"};
  EXPECT_EQ(a.hash().size(), 16u);
  EXPECT_NE(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
  // Moving a byte across the boundary must change the hash: the halves are separated.
  EXPECT_NE((TaskTemplate{"ab", "c", ""}.hash()), (TaskTemplate{"a", "bc", ""}.hash()));
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(hex64(fnv1a64("a")), "af63dc4c8601ec8c");  // the published FNV-1a 64 test vector
}

TEST(Templates, FillIsLiteralAndSinglePass) {
  PlaceholderValues v = {{"instruction", "What is {response}?"}, {"response", "x = {a} + }{"}};
  EXPECT_EQ(fill_placeholders("Q: {instruction}\nA: {response}\n{unknown} {} { response}", v),
            "Q: What is {response}?\nA: x = {a} + }{\n{unknown} {} { response}");
  EXPECT_EQ(fill_placeholders("{{instruction}}", v), "{What is {response}?}");
  EXPECT_EQ(fill_placeholders("unterminated {instruction", v), "unterminated {instruction");
}

TEST(Templates, StepTaggingExact) {
  EXPECT_EQ(tag_steps({"First.", "Second {x}.", ""}),
            "<step 0> First.</step 0>\n<step 1> Second {x}.</step 1>\n<step 2> </step 2>");
  EXPECT_EQ(tag_steps({}), "");
}

TEST(Templates, OverrideFromFolderKeepsMissingHalfAndDropsOneNewline) {
  auto dir = temp_dir("tpl_dir");
  write_file((dir / "rating.user.txt").string(), "Rate {response} for {instruction}\n\n");
  TaskTemplate t = load_template_dir(Task::kRating, dir.string());
  EXPECT_EQ(t.system, builtin_template(Task::kRating).system);
  EXPECT_EQ(t.user, "Rate {response} for {instruction}\n");
  EXPECT_NE(t.hash(), builtin_template(Task::kRating).hash());
  EXPECT_NE(t.origin, "built-in");
}

TEST(Templates, OverrideMissingPlaceholderIsAnError) {
  auto dir = temp_dir("tpl_bad");
  write_file((dir / "pairwise.user.txt").string(), "{instruction} {response_a}");
  try {
    load_template_dir(Task::kPairwise, dir.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("{response_b}"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_template_dir(Task::kPairwise, (dir / "nope").string()), Error);
}

TEST(Prompt, PairwiseOrdersSwapResponses) {
  Item item;
  item.id = "p1";
  item.task = Task::kPairwise;
  item.instruction = "Q {response_b}";
  item.response_a = "first";
  item.response_b = "second";
  auto ab = build_messages(builtin_template(Task::kPairwise), item, Order::kAsGiven);
  auto ba = build_messages(builtin_template(Task::kPairwise), item, Order::kSwapped);
  ASSERT_EQ(ab.size(), 2u);
  EXPECT_EQ(ab[0].role, "system");
  EXPECT_EQ(ab[0].content, builtin_template(Task::kPairwise).system);
  EXPECT_EQ(ab[1].content,
            "[User Question]\nQ {response_b}\n\n[The Start of Assistant A's Answer]\nfirst\n[The End of Assistant A's "
            "Answer]\n\n[The Start of Assistant B's Answer]\nsecond\n[The End of Assistant B's Answer]");
  EXPECT_NE(ba[1].content.find("A's Answer]\nsecond\n"), std::string::npos);
  EXPECT_NE(ba[1].content.find("B's Answer]\nfirst\n"), std::string::npos);
}

TEST(Prompt, StepAndVerifyRef) {
  Item s;
  s.id = "s";
  s.task = Task::kStep;
  s.instruction = "2+2?";
  s.steps = {"2+2=5", "So 5."};
  auto m = build_messages(builtin_template(Task::kStep), s, Order::kAsGiven);
  EXPECT_NE(m[1].content.find("<step 0> 2+2=5</step 0>\n<step 1> So 5.</step 1>"), std::string::npos);

  Item v;
  v.id = "v";
  v.task = Task::kVerifyRef;
  v.instruction = "q";
  v.response = "resp";
  v.reference = "ref";
  m = build_messages(builtin_template(Task::kVerifyRef), v, Order::kAsGiven);
  EXPECT_EQ(m[1].content,
            "[User Question]\nq\n\n[The Start of Reference Answer]\nref\n[The End of Reference Answer]\n\n"
            "[The Start of Assistant's Answer]\nresp\n[The End of Assistant's Answer]");
  v.reference.reset();
  EXPECT_THROW(build_messages(builtin_template(Task::kVerifyRef), v, Order::kAsGiven), Error);
}

}  // namespace
}  // namespace fare::judge
