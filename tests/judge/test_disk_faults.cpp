// `fare eval` on a full disk and on a read-only output: a clear error (what, where), a non-zero
// exit, and every judgment already written kept whole. The disk is a small tmpfs where the test
// may mount one (root); elsewhere a file-size limit (RLIMIT_FSIZE) stands in for the full disk.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "process_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kJudgeBench =
    testing::data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl");
constexpr size_t kJudgments = 60;    // 30 pairs, both orders
constexpr size_t kDiskBytes = 64 << 10;  // room for about 18 of the 3.5 KB lines below

// Long replies make long lines, so that a small disk fills after a few of them.
void write_rules(const fs::path& dir) {
  const json rule = {{"output", "Explanation: " + std::string(3000, 'x') + "\nVerdict: [A]"}};
  testing::write_file((dir / "rules.jsonl").string(), rule.dump() + "\n");
}

std::vector<std::string> eval_args(const fs::path& dir, const std::string& output) {
  return {"eval", "-m", "scripted:" + (dir / "rules.jsonl").string(), "--input", kJudgeBench, "--limit", "30",
          "-o", output};
}

std::string stderr_of(const fs::path& dir) { return testing::read_file((dir / "stderr.txt").string()); }

// Every line whole, and each equal to the reference's judgment of the same key.
void expect_prefix_of_reference(const testing::ResultsText& now, const testing::ResultsText& reference) {
  EXPECT_TRUE(now.all_lines_parse);
  EXPECT_TRUE(now.torn_tail.empty()) << now.torn_tail.size() << " bytes after the last newline";
  const auto want = testing::by_key(reference.records);
  for (const auto& [key, record] : testing::by_key(now.records)) {
    ASSERT_TRUE(want.count(key)) << key;
    EXPECT_EQ(record, want.at(key)) << key;
  }
}

class DiskFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    testing::Tmpfs::detach_stale(testing::temp_dir_path(name) / "disk");  // left by a run that crashed
    dir_ = testing::temp_dir(name);
    write_rules(dir_);
    ASSERT_EQ(testing::run_fare(eval_args(dir_, "reference.jsonl"), dir_).exit_code, 0) << stderr_of(dir_);
    reference_ = testing::read_results(dir_ / "reference.jsonl");
    ASSERT_EQ(reference_.records.size(), kJudgments);
    disk_ = testing::Tmpfs::mount_on(dir_ / "disk", kDiskBytes, why_no_mount_);
    if (!disk_) fs::create_directories(dir_ / "disk");
  }
  void TearDown() override { disk_.reset(); }

  fs::path dir_;
  testing::ResultsText reference_;
  std::unique_ptr<testing::Tmpfs> disk_;
  std::string why_no_mount_;
};

// Runs until the disk is full; checks the error and that the file holds only whole lines.
void run_into_full_disk(const fs::path& dir, const std::string& out, std::vector<std::string> args,
                        const testing::Tmpfs* disk, const std::string& why_no_mount,
                        const testing::ResultsText& reference) {
  // Without a tmpfs, the same size as a file-size limit: writes past it fail with EFBIG.
  std::optional<rlim_t> limit;
  if (!disk) {
    std::printf("no tmpfs (%s): using RLIMIT_FSIZE of %zu bytes\n", why_no_mount.c_str(), kDiskBytes);
    limit = kDiskBytes;
  }
  const testing::ChildEnd end = testing::run_fare(args, dir, limit);
  const std::string err = stderr_of(dir);
  EXPECT_EQ(end.exit_code, 1) << err;
  EXPECT_NE(err.find(out + ": cannot append the judgment of "), std::string::npos) << err;
  EXPECT_NE(err.find(disk ? "No space left on device" : "File too large"), std::string::npos) << err;
  EXPECT_NE(err.find("the part line was removed and every judgment written before it is kept"), std::string::npos)
      << err;
  const auto kept = testing::read_results(out);
  EXPECT_GT(kept.records.size(), 0u);
  EXPECT_LT(kept.records.size(), kJudgments);
  expect_prefix_of_reference(kept, reference);
}

TEST_F(DiskFaults, AFullDiskStopsWithAClearErrorAndKeepsEveryWholeLine) {
  const std::string out = (dir_ / "disk" / "r.jsonl").string();
  run_into_full_disk(dir_, out, eval_args(dir_, out), disk_.get(), why_no_mount_, reference_);
  const std::string kept_text = testing::read_file(out);

  // With room again, the same command finishes the work, the kept lines untouched.
  if (disk_) {
    ASSERT_TRUE(disk_->resize(4 << 20));
  }
  const testing::ChildEnd resumed = testing::run_fare(eval_args(dir_, out), dir_);
  ASSERT_EQ(resumed.exit_code, 0) << stderr_of(dir_);
  const auto final = testing::read_results(out);
  EXPECT_EQ(testing::read_file(out).substr(0, kept_text.size()), kept_text);
  EXPECT_EQ(final.records.size(), kJudgments);
  EXPECT_EQ(testing::by_key(final.records), testing::by_key(reference_.records));
}

// Judgments that finish after the failed write are not written behind it.
TEST_F(DiskFaults, AFullDiskInParallelKeepsEveryWholeLine) {
  const std::string out = (dir_ / "disk" / "r.jsonl").string();
  std::vector<std::string> args = eval_args(dir_, out);
  args.insert(args.end(), {"--parallel", "4"});
  run_into_full_disk(dir_, out, args, disk_.get(), why_no_mount_, reference_);
}

// Fills what is left of the tmpfs, so that the next file written there fails.
void fill_disk(const fs::path& dir) {
  const int fd = ::open((dir / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  const std::string block(4096, 'f');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  ::close(fd);
}

TEST_F(DiskFaults, ASummaryThatDoesNotFitLeavesThePreviousOneWhole) {
  const std::string out = (dir_ / "disk" / "r.jsonl").string();
  // All judgments written in a roomy place first, then copied in: this run only writes the summary.
  const std::string results = testing::read_file((dir_ / "reference.jsonl").string());
  std::optional<rlim_t> limit;
  if (disk_) {
    ASSERT_TRUE(disk_->resize(4 << 20));
    fs::copy_file(dir_ / "reference.jsonl", out);
    ASSERT_EQ(testing::run_fare(eval_args(dir_, out), dir_).exit_code, 0) << stderr_of(dir_);
    fill_disk(dir_ / "disk");
  } else {
    std::printf("no tmpfs (%s): using RLIMIT_FSIZE of 1024 bytes\n", why_no_mount_.c_str());
    fs::copy_file(dir_ / "reference.jsonl", out);
    ASSERT_EQ(testing::run_fare(eval_args(dir_, out), dir_).exit_code, 0) << stderr_of(dir_);
    limit = 1024;  // above what the run writes to stderr, below any summary
  }
  const std::string summary_path = (dir_ / "disk" / "r.summary.json").string();
  const std::string summary = testing::read_file(summary_path);
  const testing::ChildEnd end = testing::run_fare(eval_args(dir_, out), dir_, limit);
  const std::string err = stderr_of(dir_);
  EXPECT_EQ(end.exit_code, 1) << err;
  EXPECT_NE(err.find("cannot write the summary: " + summary_path + ".tmp: write failed"), std::string::npos) << err;
  EXPECT_NE(err.find(summary_path + " is unchanged"), std::string::npos) << err;
  EXPECT_NE(err.find("the judgments are all in " + out), std::string::npos) << err;
  EXPECT_EQ(testing::read_file(summary_path), summary);
  EXPECT_EQ(testing::read_file(out), results);
  EXPECT_FALSE(fs::exists(summary_path + ".tmp"));
}

// Read-only: a remounted tmpfs as root (where permission bits do not bind), else permission bits.
bool make_read_only(testing::Tmpfs* disk, const fs::path& dir) {
  if (disk) return disk->make_read_only();
  if (::geteuid() == 0) return false;
  for (const auto& e : fs::directory_iterator(dir)) ::chmod(e.path().c_str(), 0444);
  return ::chmod(dir.c_str(), 0555) == 0;
}

TEST_F(DiskFaults, AReadOnlyOutputIsRefusedBeforeAnyWorkAndLeftAsItIs) {
  const fs::path disk = dir_ / "disk";
  // Ten whole judgments, and a copy with a torn eleventh line as a crash leaves it.
  const std::string text = testing::read_file((dir_ / "reference.jsonl").string());
  size_t ten = 0;
  for (int i = 0; i < 10; ++i) ten = text.find('\n', ten) + 1;
  testing::write_file((disk / "r.jsonl").string(), text.substr(0, ten));
  testing::write_file((disk / "torn.jsonl").string(), text.substr(0, ten + 100));
  if (!make_read_only(disk_.get(), disk)) GTEST_SKIP() << "cannot make a read-only folder here: " << why_no_mount_;

  for (const char* name : {"r.jsonl", "torn.jsonl"}) {
    const std::string out = (disk / name).string();
    const std::string before = testing::read_file(out);
    const testing::ChildEnd end = testing::run_fare(eval_args(dir_, out), dir_);
    const std::string err = stderr_of(dir_);
    EXPECT_EQ(end.exit_code, 1) << err;
    EXPECT_NE(err.find("cannot write the results to " + out + ": "), std::string::npos) << err;
    EXPECT_NE(err.find(disk_ ? "Read-only file system" : "Permission denied"), std::string::npos) << err;
    EXPECT_NE(err.find("nothing was judged or changed"), std::string::npos) << err;
    EXPECT_EQ(testing::read_file(out), before);
  }
  // Results in a writable folder, the summary asked into the read-only one: refused up front too.
  std::vector<std::string> args = eval_args(dir_, (dir_ / "w.jsonl").string());
  args.insert(args.end(), {"--summary", (disk / "summary.json").string()});
  const testing::ChildEnd end = testing::run_fare(args, dir_);
  EXPECT_EQ(end.exit_code, 1) << stderr_of(dir_);
  EXPECT_NE(stderr_of(dir_).find("cannot write the summary to " + disk.string()), std::string::npos)
      << stderr_of(dir_);
  EXPECT_FALSE(fs::exists(dir_ / "w.jsonl"));
  if (!disk_) ::chmod(disk.c_str(), 0755);  // so that the next run can clear the folder
}

}  // namespace
}  // namespace fare::judge
