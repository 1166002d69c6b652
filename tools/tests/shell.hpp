// Runs a command line as a user would, for the tests of the real binaries: its exit status
// (128 + the signal when one ended it) and its stdout and stderr together.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace ipcv::testing_shell {

struct Outcome {
  int status = -1;
  std::string out; ///< stdout and stderr together
};

inline Outcome shell(const std::string &cmd) {
  Outcome o;
  std::FILE *p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr)
    return o;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    o.out.append(buf.data(), n);
  const int st = ::pclose(p);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return o;
}

} // namespace ipcv::testing_shell
