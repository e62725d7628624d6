// `specfuse eval` from the outside, on the real smollm2-135m with short answers: a run
// appends one line per finished (method, item) and a re-run redoes exactly what is
// missing, byte for byte but for the wall time.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A result line without its only non-deterministic field.
std::string Untimed(const std::string& line) {
  auto j = nlohmann::json::parse(line);
  j.erase("wall_ms");
  return j.dump();
}

// One evaluation (3 items x 2 methods) shared by the tests, which each work on copies.
class EvalResumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("specfuse-eval-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "items.jsonl")
        << R"({"id": "a1", "task": "arithmetic", "prompt": "What is 2 + 3? Answer with just the number.", "answer": "5"})"
        << "\n"
        << R"({"id": "c1", "task": "choice", "prompt": "Which animal can fly?", "choices": ["Dog", "Bird"], "answer": "B"})"
        << "\n"
        << R"({"id": "i1", "task": "instruction", "prompt": "Name a color.", "reference": "Red is a color."})"
        << "\n";
    first_rc_ = Eval(dir_ / "first.jsonl");
    first_ = Read(dir_ / "first.jsonl");
    first_stdout_ = Read(dir_ / "stdout.txt");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override { ASSERT_EQ(first_rc_, 0) << Read(dir_ / "stderr.txt"); }

  // Runs the eval into out with max_tokens (other values are other settings); returns
  // the exit status.
  static int Eval(const fs::path& out, int max_tokens = 6) {
    std::string cmd = std::string(SPECFUSE_BIN) + " eval -m smollm2-135m --threads 1 --max-tokens " +
                      std::to_string(max_tokens) + " --methods smollm2-135m,best-of-n --data " +
                      (dir_ / "items.jsonl").string() + " --out " + out.string() + " > " +
                      (dir_ / "stdout.txt").string() + " 2> " + (dir_ / "stderr.txt").string();
    return std::system(cmd.c_str());
  }
  static fs::path dir_;
  static int first_rc_;
  static std::string first_, first_stdout_;
};
fs::path EvalResumeTest::dir_;
int EvalResumeTest::first_rc_ = -1;
std::string EvalResumeTest::first_, EvalResumeTest::first_stdout_;

TEST_F(EvalResumeTest, ARunWritesOneLinePerMethodAndItemAndASummary) {
  EXPECT_EQ(Lines(first_).size(), 6u);  // 2 methods x 3 items
  EXPECT_TRUE(fs::exists(dir_ / "first.summary.json"));
  EXPECT_NE(first_stdout_.find("| smollm2-135m |"), std::string::npos);
  EXPECT_NE(first_stdout_.find("| best-of-n |"), std::string::npos);
}

TEST_F(EvalResumeTest, ReRunsAppendNothingAndRedoExactlyTheMissingLine) {
  const fs::path out = dir_ / "resumed.jsonl";
  const auto lines = Lines(first_);
  ASSERT_FALSE(lines.empty());
  std::ofstream(out, std::ios::binary) << first_;

  // Everything is done: the file stays as it was.
  ASSERT_EQ(Eval(out), 0) << Read(dir_ / "stderr.txt");
  EXPECT_EQ(Read(out), first_);
  EXPECT_NE(Read(dir_ / "stderr.txt").find("0 to run, 6 already"), std::string::npos);

  // The last line lost: exactly that line comes back.
  const std::string without_last = first_.substr(0, first_.size() - lines.back().size() - 1);
  std::ofstream(out, std::ios::binary | std::ios::trunc) << without_last;
  ASSERT_EQ(Eval(out), 0) << Read(dir_ / "stderr.txt");
  auto redone = Lines(Read(out));
  ASSERT_EQ(redone.size(), lines.size());
  EXPECT_EQ(Read(out).substr(0, without_last.size()), without_last);
  EXPECT_EQ(Untimed(redone.back()), Untimed(lines.back()));

  // A write cut short mid-line (an interrupted run): dropped and redone.
  std::ofstream(out, std::ios::binary | std::ios::trunc) << without_last << lines.back().substr(0, 20);
  ASSERT_EQ(Eval(out), 0) << Read(dir_ / "stderr.txt");
  redone = Lines(Read(out));
  ASSERT_EQ(redone.size(), lines.size());
  EXPECT_EQ(Untimed(redone.back()), Untimed(lines.back()));
}

TEST_F(EvalResumeTest, TwoRunsGiveTheSameAnswers) {
  ASSERT_EQ(Eval(dir_ / "second.jsonl"), 0) << Read(dir_ / "stderr.txt");
  const auto one = Lines(first_);
  const auto two = Lines(Read(dir_ / "second.jsonl"));
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(Untimed(one[i]), Untimed(two[i]));
}

TEST_F(EvalResumeTest, OtherSettingsNeedAnotherResultsFile) {
  const fs::path out = dir_ / "other.jsonl";
  std::ofstream(out, std::ios::binary) << first_;
  EXPECT_NE(Eval(out, 7), 0);
  EXPECT_NE(Read(dir_ / "stderr.txt").find("written with other settings"), std::string::npos);
  EXPECT_EQ(Read(out), first_);
}

}  // namespace
