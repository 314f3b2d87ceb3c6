#pragma once
// Runs the chartkeeper binary (CK_BINARY), or another command line (openssl, curl), as a user
// would, for tests of its commands: the exit code and everything it printed (stdout and stderr).

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace ck::testing {

struct CommandRun {
  int exit_code;
  std::string output;
};

// A shell command line (as `sh -c`), its standard error merged into what it printed.
inline CommandRun RunShell(const std::string& command_line) {
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

// `chartkeeper <subcommand> --data <data> 'arg'...`, with standard input from the file `input`
// (none: the test's own).
inline CommandRun RunChartkeeper(const std::string& subcommand, const std::filesystem::path& data,
                                 const std::vector<std::string>& args, const std::filesystem::path& input = {}) {
  std::string command = std::string(CK_BINARY) + " " + subcommand + " --data " + data.string();
  for (const auto& arg : args) command += " '" + arg + "'";
  if (!input.empty()) command += " < '" + input.string() + "'";
  return RunShell(command);
}

}  // namespace ck::testing
