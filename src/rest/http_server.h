#pragma once
// The HTTP/1.1 server: Boost.Beast on Asio, keep-alive, hardened for hostile clients.
//
// Threads: I/O threads (one per core) parse, write, and run only answers that cannot block
// (handlers.handle_inline: fixed answers, cached reads). Every other GET or HEAD runs on a
// bounded read pool, every other method on the write pool (writes wait for their group commit,
// so enough must be in flight to batch). A slow query never holds up an I/O thread.
//
// Limits (docs/design/http_framing.md): each request head is checked against the framing rules
// (rest/http_framing.h) before its body is read; bodies over the limit get 413 before they are
// read, and after gzip/deflate decoding too; a request line over the limit gets 414, headers 431.
// Time budgets are separate: a connection's first request (and each one's head) must arrive
// within header_timeout (else 408), an idle keep-alive connection is closed after idle_timeout,
// a whole request must be read within request_timeout, a response written within write_timeout;
// none runs while the handler works.
//
// Connections: the soft descriptor limit is raised to the hard limit at start; at most
// max_connections are served. At the cap a connection waiting for a request is closed to make
// room for the new one; when all are busy, a small overflow is still accepted to answer /healthz
// and refuse the rest with 503. So a flood of idle connections neither locks everyone out nor
// spins the accept loop (accept failures back off).
//
// TLS: with options.tls every connection starts with a TLS handshake (within header_timeout),
// TLS 1.2 or 1.3 only (rest/tls_context.h), and every answer carries Strict-Transport-Security.
// ReloadTls loads the files again for new connections; those open keep theirs.
//
// Shutdown: Stop stops accepting, closes idle connections, lets requests in flight finish and
// be answered (Connection: close), and ends after at most drain_timeout.
// Thread safety: Start/Stop/Wait from one controlling thread; handlers are called concurrently.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rest/http_message.h"
#include "rest/tls_context.h"
#include "util/status.h"

namespace ck::rest {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;             // 0: any free port (see HttpServer::port)
  unsigned io_threads = 2;               // I/O threads (also run inline answers)
  unsigned read_threads = 8;             // threads for GET/HEAD answers that need the database
  unsigned write_threads = 32;           // threads for every other method
  std::size_t max_body_bytes = 16u << 20;
  std::size_t max_target_bytes = 16u << 10;   // longer request targets get 414
  std::size_t max_header_bytes = 64u << 10;   // request line and headers together; past it 414/431
  std::size_t max_header_fields = 100;        // more header fields get 431
  std::size_t max_connections = 0;            // 0: as many as descriptors allow, less a reserve
  unsigned header_timeout_seconds = 10;
  unsigned idle_timeout_seconds = 60;
  unsigned request_timeout_seconds = 60;
  unsigned write_timeout_seconds = 60;
  unsigned drain_timeout_seconds = 30;
  std::optional<TlsFiles> tls;                // if set, HTTPS only
};

struct HttpHandlers {
  // Answers a GET or HEAD on the I/O thread if that needs no blocking; nullopt hands it to
  // `handle` on the read pool. HEAD is answered like GET; the server drops the body.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> handle_inline;
  // Answers any request; may block.
  std::function<HttpResponse(const HttpRequest&)> handle;
};

class HttpServer {
 public:
  // Binds and starts serving. Errors: kInvalid (bad host), kUnavailable (cannot bind).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandlers handlers);
  virtual ~HttpServer() = default;

  // The bound port (useful with port 0).
  virtual std::uint16_t port() const = 0;
  // The connection cap in force (options.max_connections, or what the descriptors allow).
  virtual std::size_t max_connections() const = 0;
  // Loads options.tls's files again; new connections use them, open ones keep the old ones.
  // Errors: as LoadTlsContext (the old certificate keeps serving); kInvalid without options.tls.
  virtual Status ReloadTls() = 0;
  // Stops accepting and drains (see above); Wait then returns. Safe from any thread.
  virtual void Stop() = 0;
  // Blocks until the server has drained after Stop.
  virtual void Wait() = 0;
};

}  // namespace ck::rest
