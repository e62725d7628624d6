// The code sandbox with the real Python interpreter: passing and failing tests, and
// programs that hang, fork without bound, allocate without bound, reach for the network
// or write outside their directory all end as failed runs, quickly.
#include "eval/code_sandbox.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "eval/code_answer.h"

namespace specfuse::eval {
namespace {

SandboxRun Sandboxed(const std::string& program, double wall = 5) {
  SandboxLimits limits;
  limits.wall_seconds = wall;
  limits.cpu_seconds = 5;
  auto run = RunSandboxedPython(program, limits);
  EXPECT_TRUE(run.ok()) << run.status().message();
  return run.ok() ? *run : SandboxRun{};
}

TEST(CodeSandbox, PassesAProgramThatExitsCleanly) {
  SandboxRun r = Sandboxed("def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\nprint('ok')\n");
  EXPECT_TRUE(r.passed) << r.output;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "ok\n");
}

TEST(CodeSandbox, FailsAFailingAssertionWithItsTraceback) {
  SandboxRun r = Sandboxed("assert 1 + 1 == 3, 'arithmetic'\n");
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("AssertionError: arithmetic"), std::string::npos) << r.output;
}

TEST(CodeSandbox, KillsAHangingProgramAtTheWallClockLimit) {
  const auto t0 = std::chrono::steady_clock::now();
  SandboxRun r = Sandboxed("import time\nwhile True:\n    time.sleep(1)\n", 1.0);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(s, 3.0);
}

TEST(CodeSandbox, KillsEveryProcessOfAForkBomb) {
  // Children that outlive the parent and escape its process group still die with the
  // namespace; the process limit stops the growth.
  SandboxRun r = Sandboxed(
      "import os, time\n"
      "for _ in range(200):\n"
      "    try:\n"
      "        if os.fork() == 0:\n"
      "            os.setsid()\n"
      "            time.sleep(60)\n"
      "            os._exit(0)\n"
      "    except OSError:\n"
      "        break\n"
      "time.sleep(60)\n",
      1.5);
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(r.timed_out);
}

TEST(CodeSandbox, StopsUnboundedAllocation) {
  SandboxRun r = Sandboxed("x = []\nwhile True:\n    x.append(bytearray(1 << 24))\n");
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.output.find("MemoryError"), std::string::npos) << r.output;
}

TEST(CodeSandbox, HasNoNetwork) {
  SandboxRun r = Sandboxed(
      "import socket\n"
      "s = socket.socket()\n"
      "s.settimeout(2)\n"
      "s.connect(('127.0.0.1', 22))\n");
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.output.find("Network is unreachable"), std::string::npos) << r.output;
}

TEST(CodeSandbox, WritesOnlyInsideItsDirectory) {
  const std::string outside = std::filesystem::temp_directory_path() / ("specfuse-escape-" + std::to_string(getpid()));
  SandboxRun inside = Sandboxed("open('here.txt', 'w').write('fine')\nprint(open('here.txt').read())\n");
  EXPECT_TRUE(inside.passed) << inside.output;
  SandboxRun r = Sandboxed("open('" + outside + "', 'w').write('escaped')\n");
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(std::filesystem::exists(outside));
  EXPECT_NE(r.output.find("Read-only file system"), std::string::npos) << r.output;
}

TEST(CodeSandbox, LeavesNoDirectoryBehind) {
  SandboxRun r = Sandboxed("import os\nprint(os.getcwd())\n");
  ASSERT_TRUE(r.passed) << r.output;
  std::string dir = r.output.substr(0, r.output.size() - 1);
  EXPECT_EQ(dir.rfind(std::filesystem::temp_directory_path().string() + "/specfuse-sandbox-", 0), 0u) << dir;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(CodeSandbox, RunsConcurrentlyFromSeveralThreads) {
  // The child of a multithreaded caller must not wait on threads it does not have (as
  // glibc's setuid would): eight at once all finish well inside their limit.
  std::vector<SandboxRun> runs(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i) {
    threads.emplace_back([&runs, i] { runs[i] = Sandboxed("print(" + std::to_string(i) + ")\n", 4.0); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_TRUE(runs[i].passed) << i << ": " << runs[i].output;
    EXPECT_EQ(runs[i].output, std::to_string(i) + "\n");
  }
}

TEST(ExtractCode, TakesTheFirstFencedBlock) {
  EXPECT_EQ(ExtractCode("Here:\n```python\ndef f():\n    return 1\n```\nMore text\n```\nx\n```"),
            "def f():\n    return 1\n");
  EXPECT_EQ(ExtractCode("```\nprint(1)\n"), "print(1)\n");
  EXPECT_EQ(ExtractCode("def g(): pass\n"), "def g(): pass\n");
}

TEST(RunCodeTests, RunsTheItemsTestsAfterTheAnswersCode) {
  Item item;
  item.task = Task::kCode;
  item.tests = "assert square(3) == 9\n";
  auto good = RunCodeTests(item, "Sure:\n```python\ndef square(x):\n    return x * x\n```");
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->passed) << good->output;
  auto bad = RunCodeTests(item, "```python\ndef square(x):\n    return x + x\n```");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->passed);
}

TEST(RunCodeTests, RunsOnlyTheDefinitionsOfTheAnswer) {
  // As EvalPlus sanitizes: the model's own prints, a wrong assert of its own and a
  // __main__ block are dropped; imports, definitions and constant assignments stay.
  Item item;
  item.task = Task::kCode;
  item.tests = "assert scale([1, 2]) == [3, 6]\n";
  const std::string answer =
      "```python\nfrom typing import List\nFACTOR = 3\n\n"
      "def scale(xs: List[int]) -> List[int]:\n    return [FACTOR * x for x in xs]\n\n"
      "print(scale([1]))\nassert scale([1]) == [4], 'my own test is wrong'\n"
      "if __name__ == '__main__':\n    raise SystemExit(1)\n```";
  auto run = RunCodeTests(item, answer);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->passed) << run->output;
  EXPECT_EQ(run->output, "");
  auto broken = RunCodeTests(item, "```python\ndef scale(xs:\n    return xs\n```");
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->passed);
  EXPECT_NE(broken->output.find("SyntaxError"), std::string::npos) << broken->output;
}

}  // namespace
}  // namespace specfuse::eval
