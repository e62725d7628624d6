#include "eval/code_sandbox.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace specfuse::eval {

namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;

// SPECFUSE_PYTHON, else the system's /usr/bin/python3 (an interpreter under a user's
// home, such as a pyenv shim, is not readable by the sandbox user), else PATH's.
std::string FindPython() {
  if (const char* p = std::getenv("SPECFUSE_PYTHON"); p && *p) return p;
  if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/python3";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Everything the child needs, prepared before clone: after it only system calls run.
struct ChildPlan {
  std::string dir, python, program_path, output_path;
  std::vector<std::string> env_strings;
  std::vector<char*> argv, envp;
  bool as_root = false;
  uid_t outer_uid = 0;
  gid_t outer_gid = 0;
  SandboxLimits limits;
  int report_fd = -1;  // the child writes one byte naming the step that failed
};

bool WriteFile(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == static_cast<ssize_t>(strlen(text));
}

long MountSetattr(const char* path, unsigned flags, uint64_t set, uint64_t clear) {
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = set;
  attr.attr_clr = clear;
  return syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr);
}

void SetLimit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit r = {soft, hard};
  setrlimit(resource, &r);
}

// Reports the failed step and its errno to the parent.
[[noreturn]] void ChildFail(const ChildPlan& p, char step) {
  const int report[2] = {step, errno};
  if (write(p.report_fd, report, sizeof report) < 0) {
  }
  _exit(127);
}

// In the child (PID 1 of its namespace): map the user, make every mount read-only but
// the directory, drop to the sandbox user, set limits, exec Python.
[[noreturn]] void ChildMain(const ChildPlan& p) {
  if (!p.as_root) {
    char map[64];
    if (!WriteFile("/proc/self/setgroups", "deny")) ChildFail(p, 'u');
    snprintf(map, sizeof map, "0 %u 1", p.outer_uid);
    if (!WriteFile("/proc/self/uid_map", map)) ChildFail(p, 'u');
    snprintf(map, sizeof map, "0 %u 1", p.outer_gid);
    if (!WriteFile("/proc/self/gid_map", map)) ChildFail(p, 'u');
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ChildFail(p, 'm');
  if (mount(p.dir.c_str(), p.dir.c_str(), nullptr, MS_BIND, nullptr) != 0) ChildFail(p, 'm');
  if (MountSetattr("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0) != 0) ChildFail(p, 'r');
  if (MountSetattr(p.dir.c_str(), 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, MOUNT_ATTR_RDONLY) != 0) {
    ChildFail(p, 'r');
  }
  if (chdir(p.dir.c_str()) != 0) ChildFail(p, 'd');
  if (p.as_root) {
    // Raw system calls: glibc's setuid() in a process it believes multithreaded waits for
    // every other thread to follow, and the child has none.
    if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, kNobody, kNobody, kNobody) != 0 ||
        syscall(SYS_setresuid, kNobody, kNobody, kNobody) != 0) {
      ChildFail(p, 's');
    }
  }
  SetLimit(RLIMIT_CPU, p.limits.cpu_seconds, p.limits.cpu_seconds + 1);
  SetLimit(RLIMIT_AS, p.limits.memory_bytes, p.limits.memory_bytes);
  SetLimit(RLIMIT_FSIZE, p.limits.file_bytes, p.limits.file_bytes);
  SetLimit(RLIMIT_NPROC, p.limits.processes, p.limits.processes);
  SetLimit(RLIMIT_NOFILE, 256, 256);
  SetLimit(RLIMIT_CORE, 0, 0);
  int in = open("/dev/null", O_RDONLY);
  int out = open(p.output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) ChildFail(p, 'o');
  execve(p.python.c_str(), p.argv.data(), p.envp.data());
  ChildFail(p, 'e');
}

std::string StepName(char step) {
  switch (step) {
    case 'u': return "map the user into a new user namespace";
    case 'm': return "make a private mount namespace";
    case 'r': return "make the file system read-only";
    case 'd': return "enter the sandbox directory";
    case 's': return "drop to the sandbox user";
    case 'o': return "open the output file";
    case 'e': return "start Python";
    default: return "set up the sandbox";
  }
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  std::string s = b.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace

Result<SandboxRun> RunSandboxedPython(const std::string& program, const SandboxLimits& limits) {
  ChildPlan p;
  p.python = FindPython();
  if (p.python.empty()) {
    return Status::Error(ErrorCode::kUnavailable, "no python3 on PATH to run code tests (or set SPECFUSE_PYTHON)");
  }
  std::string templ = (fs::temp_directory_path() / "specfuse-sandbox-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    return Status::Error(ErrorCode::kInternal, std::string("cannot make a sandbox directory: ") + strerror(errno));
  }
  p.dir = templ;
  p.program_path = p.dir + "/program.py";
  p.output_path = p.dir + "/output.txt";
  { std::ofstream(p.program_path, std::ios::binary) << program; }
  p.as_root = geteuid() == 0;
  p.outer_uid = geteuid();
  p.outer_gid = getegid();
  p.limits = limits;
  if (p.as_root && chown(p.dir.c_str(), kNobody, kNobody) != 0) {
    fs::remove_all(p.dir);
    return Status::Error(ErrorCode::kInternal, "cannot hand the sandbox directory to the sandbox user");
  }
  p.env_strings = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + p.dir, "TMPDIR=" + p.dir,
                   "LANG=C.UTF-8", "PYTHONHASHSEED=0"};
  for (auto& e : p.env_strings) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  static const char* kArgs[] = {"python3", "-I", "-B", "program.py"};
  for (const char* a : kArgs) p.argv.push_back(const_cast<char*>(a));
  p.argv.push_back(nullptr);

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    fs::remove_all(p.dir);
    return Status::Error(ErrorCode::kInternal, "cannot make a pipe for the sandbox");
  }
  p.report_fd = report[1];
  unsigned long flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD;
  if (!p.as_root) flags |= CLONE_NEWUSER;
  const auto t0 = std::chrono::steady_clock::now();
  // A fork-like clone: the child runs only system calls until execve.
  const long pid = syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
  if (pid == 0) ChildMain(p);
  close(report[1]);
  if (pid < 0) {
    const int err = errno;
    close(report[0]);
    fs::remove_all(p.dir);
    return Status::Error(ErrorCode::kUnavailable,
                         std::string("cannot isolate code tests in new namespaces (") + strerror(err) +
                             "); run as root or allow unprivileged user namespaces; code is not run "
                             "without them");
  }
  SandboxRun run;
  int status = 0;
  const auto deadline = t0 + std::chrono::duration<double>(limits.wall_seconds);
  while (true) {
    const pid_t done = waitpid(static_cast<pid_t>(pid), &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(static_cast<pid_t>(pid), SIGKILL);  // PID 1 of the namespace: all of it dies
      waitpid(static_cast<pid_t>(pid), &status, 0);
      run.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  run.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  int failure[2] = {0, 0};
  const bool setup_failed = read(report[0], failure, sizeof failure) == sizeof failure;
  close(report[0]);
  run.output = Tail(p.output_path, 2048);
  std::error_code ec;
  fs::remove_all(p.dir, ec);
  if (setup_failed) {
    return Status::Error(ErrorCode::kUnavailable, "the code sandbox could not " +
                                                      StepName(static_cast<char>(failure[0])) + " (" +
                                                      strerror(failure[1]) + "); code is not run without it");
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  run.passed = !run.timed_out && WIFEXITED(status) && run.exit_code == 0;
  return run;
}

}  // namespace specfuse::eval
