#pragma once
// Runs the real chartkeeper binary for black-box tests: `serve` on a free loopback port with a
// given data folder, reading the bound address from its log (kept in a file if asked, for tests
// of what is logged). Kill() sends SIGKILL (crash tests), Stop() SIGTERM; the destructor stops it.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ck::testing {

struct ServerProcessOptions {
  unsigned max_open_files = 0;     // if set, the server's descriptor limit (soft and hard)
  std::filesystem::path log_file;  // if set, the server's log lines are kept here
  bool auth = false;               // authentication on (else the server runs with --auth off)
  std::string listen = "127.0.0.1:0";  // any address that 127.0.0.1 reaches
};

class ServerProcess {
 public:
  ServerProcess(std::filesystem::path data_dir, std::vector<std::string> extra_args = {}, ServerProcessOptions options = {})
      : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)), options_(std::move(options)) {
    Start();
  }
  ~ServerProcess() { Stop(); }

  // A child must not hold the test's stdout: if the test dies without stopping it, ctest would
  // wait for that pipe to close for ever instead of reporting the failure.
  static void DetachStdout() {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      ::close(null);
    }
  }

  void Start() {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      // A test that crashes must not leave its server running (and ctest waiting on the log
      // pipe that the server's drain keeps open).
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      DetachStdout();
      if (options_.max_open_files > 0) {
        rlimit limit{options_.max_open_files, options_.max_open_files};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
      std::vector<std::string> args = {CK_BINARY, "serve", "--listen", options_.listen, "--data", data_dir_.string()};
      if (!options_.auth) args.insert(args.end(), {"--auth", "off"});
      args.insert(args.end(), extra_args_.begin(), extra_args_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    log_ = fdopen(fds[0], "r");
    char line[4096];
    // "listening on http[s]://HOST:PORT/fhir (...)"
    while (std::fgets(line, sizeof line, log_) != nullptr) {
      std::string text(line);
      auto at = text.find("listening on http");
      if (at == std::string::npos) continue;
      auto path = text.find("/fhir", at);
      auto colon = text.rfind(':', path);
      if (path == std::string::npos || colon == std::string::npos || colon < at) continue;
      port_ = static_cast<unsigned short>(std::stoi(text.substr(colon + 1)));
      break;
    }
    if (port_ == 0) throw std::runtime_error("the server did not start");
    // Keep draining the log so the server never blocks on a full pipe.
    drain_ = fork();
    if (drain_ == 0) {
      DetachStdout();
      FILE* keep = options_.log_file.empty() ? nullptr : std::fopen(options_.log_file.c_str(), "a");
      while (std::fgets(line, sizeof line, log_) != nullptr) {
        if (keep != nullptr) {
          std::fputs(line, keep);
          std::fflush(keep);
        }
      }
      if (keep != nullptr) std::fclose(keep);
      _exit(0);
    }
    fclose(log_);
    log_ = nullptr;
  }

  void Kill() { Signal(SIGKILL); }
  void Stop() { Signal(SIGTERM); }

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base() const { return "/fhir"; }

 private:
  void Signal(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    if (drain_ > 0) {
      waitpid(drain_, &status, 0);
      drain_ = 0;
    }
    port_ = 0;
  }

  std::filesystem::path data_dir_;
  std::vector<std::string> extra_args_;
  ServerProcessOptions options_;
  pid_t pid_ = 0;
  pid_t drain_ = 0;
  FILE* log_ = nullptr;
  unsigned short port_ = 0;
};

}  // namespace ck::testing
