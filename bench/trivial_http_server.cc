// The ceiling for HTTP benchmarks: Chartkeeper's own HTTP server (Beast) with a handler that
// answers every request with a fixed 1 KB JSON body and does nothing else. Prints its port.
#include <csignal>
#include <cstdio>
#include <thread>

#include "rest/http_server.h"

int main() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  const std::string body = "{\"resourceType\":\"Basic\",\"text\":\"" + std::string(990, 'x') + "\"}";
  // Answered inline on the I/O threads, as Chartkeeper answers a cached read.
  auto answer = [&](const ck::rest::HttpRequest&) {
    ck::rest::HttpResponse response;
    response.body = body;
    response.With("Content-Type", "application/fhir+json");
    return response;
  };
  auto server = ck::rest::HttpServer::Start(
      {.host = "127.0.0.1", .port = 0, .io_threads = std::max(1u, std::thread::hardware_concurrency())},
      {.handle_inline = [&](const ck::rest::HttpRequest& request) { return std::optional(answer(request)); }, .handle = answer});
  if (!server) return 1;
  std::printf("listening on http://127.0.0.1:%u/\n", (*server)->port());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  (*server)->Stop();
  (*server)->Wait();
  return 0;
}
