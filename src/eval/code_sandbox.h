// Runs untrusted Python (a model's code and a benchmark's tests) in a sandboxed child:
// its own temporary directory (the only writable place), new network (no interfaces but a
// down loopback), mount and PID namespaces, a dropped user, CPU, memory, file-size,
// process and open-file limits, and a wall-clock timeout after which the whole PID
// namespace is killed. Programs that hang, fork or allocate without bound end as failed
// runs, never as a stuck caller. Thread-safe: runs may proceed concurrently.
#pragma once

#include <string>

#include "specfuse/status.h"

namespace specfuse::eval {

struct SandboxLimits {
  double wall_seconds = 10;
  int cpu_seconds = 10;
  long long memory_bytes = 1LL << 30;     // address space
  long long file_bytes = 16LL << 20;      // largest file the program may write
  int processes = 32;                     // RLIMIT_NPROC of the sandbox user
};

struct SandboxRun {
  bool passed = false;     // exited with status 0
  bool timed_out = false;  // killed at the wall-clock limit
  int exit_code = -1;      // when it exited
  int signal = 0;          // when a signal ended it
  std::string output;      // the last 2 KiB of its stdout and stderr
  double wall_ms = 0;
};

// Runs `program` with the sandbox's Python (SPECFUSE_PYTHON, else /usr/bin/python3, else PATH's) as
// `python3 -I -B program.py` in a fresh directory, removed afterwards. Errors (never a
// failed program): no Python found, or the namespaces cannot be made (as root, or where
// unprivileged user namespaces are allowed): code is then not run at all.
Result<SandboxRun> RunSandboxedPython(const std::string& program, const SandboxLimits& limits = {});

}  // namespace specfuse::eval
