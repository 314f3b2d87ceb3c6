#pragma once
// The HTTP/1.1 server: Boost.Beast on Asio, keep-alive. I/O threads (one per core) parse and
// write and run quick handlers (reads) inline; requests that may wait long (writes, which wait
// for their group commit) run on a separate pool of blocking threads, so a waiting write never
// holds up the I/O and enough writes are in flight for group commit to batch them. Bodies over
// the limit are refused with 413 before they are read; malformed HTTP gets 400.
// Thread safety: Start/Stop/Wait from one controlling thread; the handler is called concurrently.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rest/http_message.h"
#include "util/status.h"

namespace ck::rest {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;             // 0: any free port (see HttpServer::port)
  unsigned io_threads = 2;               // I/O threads (also run quick handlers)
  unsigned blocking_threads = 32;        // threads for handlers that may block (see is_blocking)
  std::size_t max_body_bytes = 16u << 20;
  unsigned idle_timeout_seconds = 60;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Whether a request's handler may block for long: by default every method but GET and HEAD.
bool IsBlockingRequest(const HttpRequest& request);

class HttpServer {
 public:
  // Binds and starts serving. Errors: kInvalid (bad host), kUnavailable (cannot bind).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler handler);
  virtual ~HttpServer() = default;

  // The bound port (useful with port 0).
  virtual std::uint16_t port() const = 0;
  // Stops accepting and closes connections; Wait then returns. Safe from a signal handler thread.
  virtual void Stop() = 0;
  // Blocks until Stop.
  virtual void Wait() = 0;
};

}  // namespace ck::rest
