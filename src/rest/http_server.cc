#include "rest/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "rest/operation_outcome.h"
#include "util/log.h"

namespace ck::rest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpRequest ToHttpRequest(http::request<http::string_body>&& in, const std::string& peer, bool& target_ok) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  target_ok = ParseTarget(in.target(), out.path, out.query);
  out.headers.reserve(8);
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());
  out.peer = peer;
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServerOptions& options, const HttpHandler& handler, asio::thread_pool& blocking)
      : stream_(std::move(socket)), options_(options), handler_(handler), blocking_(blocking) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void Start() { DoRead(); }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::error::eof) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Reply(ErrorResponse(Status(StatusCode::kTooLarge, "the request body is larger than " +
                                                                   std::to_string(options_.max_body_bytes) + " bytes")),
                   false, 11);
    }
    if (ec) return Reply(ErrorResponse(Status::Invalid("malformed HTTP request")), false, 11);

    auto request = parser_->release();
    bool keep_alive = request.keep_alive();
    unsigned version = request.version();
    bool target_ok = true;
    HttpRequest plain = ToHttpRequest(std::move(request), peer_, target_ok);
    if (!target_ok) return Reply(ErrorResponse(Status::Invalid("malformed percent-encoding in the URL")), keep_alive, version);
    // HEAD is GET without the body (RFC 9110): the handler answers it as a GET, Reply drops the body.
    const bool head = plain.method == "HEAD";
    if (!IsBlockingRequest(plain)) return Reply(handler_(plain), keep_alive, version, head);
    // Run on the blocking pool, then continue on this connection's strand.
    asio::post(blocking_, [self = shared_from_this(), plain = std::move(plain), keep_alive, version]() mutable {
      auto response = std::make_shared<HttpResponse>(self->handler_(plain));
      asio::post(self->stream_.get_executor(), [self, response, keep_alive, version] {
        self->Reply(std::move(*response), keep_alive, version);
      });
    });
  }

  void Reply(HttpResponse&& plain, bool keep_alive, unsigned version, bool head = false) {
    const auto status = static_cast<http::status>(plain.status);
    if (head) {
      auto response = std::make_shared<http::response<http::empty_body>>(status, version);
      SetHeaders(*response, plain, keep_alive);
      response->content_length(plain.body.size());
      return Send(std::move(response), keep_alive);
    }
    auto response = std::make_shared<http::response<http::string_body>>(status, version);
    SetHeaders(*response, plain, keep_alive);
    response->body() = std::move(plain.body);
    response->prepare_payload();
    Send(std::move(response), keep_alive);
  }

  template <class Message>
  static void SetHeaders(Message& response, const HttpResponse& plain, bool keep_alive) {
    response.set(http::field::server, "Chartkeeper");
    for (const auto& [name, value] : plain.headers) response.set(name, value);
    response.keep_alive(keep_alive);
  }

  template <class Message>
  void Send(std::shared_ptr<Message> response, bool keep_alive) {
    http::async_write(stream_, *response, [self = shared_from_this(), response, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->Close();
      self->DoRead();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpServerOptions& options_;
  const HttpHandler& handler_;
  asio::thread_pool& blocking_;
  std::string peer_;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(const HttpServerOptions& options, HttpHandler handler)
      : options_(options),
        handler_(std::move(handler)),
        io_(static_cast<int>(options.io_threads)),
        acceptor_(io_),
        blocking_(std::max(1u, options.blocking_threads)) {}

  ~BeastServer() override {
    Stop();
    Wait();
  }

  Status Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return Status::Invalid("cannot listen on '" + options_.host + "': not an IP address");
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    for (unsigned i = 0; i < std::max(1u, options_.io_threads); ++i) {
      threads_.emplace_back([this] { RunLoop(); });
    }
    return Status::Ok();
  }

  std::uint16_t port() const override { return port_; }

  void Stop() override {
    asio::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
  }

  void Wait() override {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    blocking_.join();
  }

 private:
  void RunLoop() {
    while (!io_.stopped()) {
      try {
        io_.run();
      } catch (const std::exception& e) {
        CK_LOG_ERROR("unexpected exception in the HTTP server: {}", e.what());
      }
    }
  }

  void DoAccept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(socket), options_, handler_, blocking_)->Start();
      DoAccept();
    });
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  asio::thread_pool blocking_;
};

}  // namespace

bool IsBlockingRequest(const HttpRequest& request) { return request.method != "GET" && request.method != "HEAD"; }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler) {
  auto server = std::make_unique<BeastServer>(options, std::move(handler));
  CK_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace ck::rest
