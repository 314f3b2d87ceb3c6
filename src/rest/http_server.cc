#include "rest/http_server.h"

#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "rest/content_coding.h"
#include "rest/http_framing.h"
#include "rest/operation_outcome.h"
#include "util/log.h"
#include "util/text.h"
#include "util/time.h"

namespace ck::rest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;
using Clock = std::chrono::steady_clock;

// Descriptors kept back from connections: database files and readers, logs, and the overflow
// connections that answer /healthz and 503 past the cap.
constexpr std::size_t kReservedDescriptors = 128;
constexpr int kMaxOverflowConnections = 32;
constexpr auto kOverflowTimeout = std::chrono::seconds(2);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// Raises the soft descriptor limit to the hard one; returns the soft limit in force.
std::size_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(limit.rlim_cur);
}

// RFC 9110 6.6.1: a server with a clock sends Date. Formatted once per second per thread.
const std::string& DateNow() {
  thread_local Millis second = -1;
  thread_local std::string text;
  Millis now = SystemClock().Now() / 1000;
  if (now != second) {
    second = now;
    text = FormatHttpDate(now * 1000);
  }
  return text;
}

// What the server needs of a connection of either kind (plain or TLS), to drain and evict.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Posted at shutdown, or to make room past the connection cap: a connection waiting for its
  // next request is closed; one in the middle of a request finishes it first.
  virtual void CloseIfIdle() = 0;
  // From any thread: claims an idle connection for closing (then post CloseIfIdle); false if it
  // is busy. The session's own strand claims it for a request the same way (ReadHeader).
  virtual bool TryEvict() = 0;
  virtual asio::any_io_executor executor() = 0;
};

// What every session shares with the server: constant after construction, or atomic, or
// guarded by sessions_mu.
struct Shared {
  Shared(const HttpServerOptions& options, HttpHandlers handlers)
      : options(options),
        handlers(std::move(handlers)),
        io(static_cast<int>(std::max(1u, options.io_threads))),
        read_pool(std::max(1u, options.read_threads)),
        write_pool(std::max(1u, options.write_threads)) {}

  const HttpServerOptions options;
  const HttpHandlers handlers;
  std::size_t max_connections = 0;
  asio::io_context io;
  asio::thread_pool read_pool;
  asio::thread_pool write_pool;
  std::atomic<std::size_t> connections{0};
  std::atomic<int> overflow{0};
  std::atomic<bool> draining{false};
  std::mutex sessions_mu;
  std::unordered_set<SessionBase*> sessions;  // guarded by sessions_mu: live sessions, for draining
  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls;  // guarded by tls_mu: for new connections; null: plain HTTP

  std::shared_ptr<asio::ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mu);
    return tls;
  }

  void Remove(SessionBase* session) {
    std::lock_guard lock(sessions_mu);
    sessions.erase(session);
    if (draining && sessions.empty()) io.stop();
  }

  // Closes one connection that is waiting for a request, to make room for a new one; false if
  // every connection is in the middle of a request.
  bool EvictIdle();
};

// One connection; Stream is tcp::socket or TlsStream. `tls` (the context a TlsStream was made
// with, null for plain) outlives the stream.
template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  template <class... StreamArgs>
  Session(Shared& shared, bool overflow, std::shared_ptr<asio::ssl::context> tls, StreamArgs&&... stream_args)
      : tls_(std::move(tls)),
        socket_(std::forward<StreamArgs>(stream_args)...),
        timer_(socket_.get_executor()),
        shared_(shared),
        overflow_(overflow) {
    beast::error_code ec;
    auto endpoint = beast::get_lowest_layer(socket_).remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
    beast::get_lowest_layer(socket_).set_option(tcp::no_delay(true), ec);
    if (overflow_) {
      ++shared_.overflow;
    } else {
      ++shared_.connections;
    }
  }

  ~Session() {
    if (overflow_) {
      --shared_.overflow;
    } else {
      --shared_.connections;
    }
    shared_.Remove(this);
  }

  void Start() {
    {
      std::lock_guard lock(shared_.sessions_mu);
      shared_.sessions.insert(this);
    }
    asio::dispatch(socket_.get_executor(), [self = Self()] { self->Handshake(); });
  }

  void CloseIfIdle() override {
    if (state_ == State::kWaiting || state_ == State::kEvicted) Close();
  }
  bool TryEvict() override {
    if (overflow_) return false;  // its place is not one of the max_connections
    State expected = State::kWaiting;
    return state_.compare_exchange_strong(expected, State::kEvicted);
  }

  asio::any_io_executor executor() override { return socket_.get_executor(); }

 private:
  enum class State { kWaiting, kReading, kBusy, kEvicted };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  // TLS: the handshake, within the time a new connection has for its request head.
  void Handshake() {
    if constexpr (kTls) {
      auto wait = overflow_ ? Clock::duration(kOverflowTimeout) : std::chrono::seconds(options().header_timeout_seconds);
      Arm(Clock::now() + wait);
      socket_.async_handshake(asio::ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec || self->closed_) return self->Close();
        self->WaitForRequest(true);
      });
    } else {
      WaitForRequest(true);
    }
  }

  const HttpServerOptions& options() const { return shared_.options; }

  // Waits for the first byte of the next request: within header_timeout on a new connection,
  // idle_timeout between keep-alive requests.
  void WaitForRequest(bool first) {
    state_ = State::kWaiting;
    if (shared_.draining) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // pipelined bytes are here already
    auto wait = overflow_ ? Clock::duration(kOverflowTimeout)
                          : std::chrono::seconds(first ? options().header_timeout_seconds : options().idle_timeout_seconds);
    Arm(Clock::now() + wait);
    socket_.async_read_some(buffer_.prepare(4096), [self = Self()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec || n == 0) return self->Close();
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    // A read that completed with data after the connection was closed (a drain or an eviction
    // got there first) must not start a request: its answer could never be sent.
    if (closed_) return;
    State expected = State::kWaiting;
    if (!state_.compare_exchange_strong(expected, State::kReading)) return Close();  // evicted
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    request_deadline_ = Clock::now() + std::chrono::seconds(options().request_timeout_seconds);
    Arm(Clock::now() + (overflow_ ? Clock::duration(kOverflowTimeout) : std::chrono::seconds(options().header_timeout_seconds)));
    http::async_read_header(socket_, buffer_, *parser_, [self = Self()](beast::error_code ec, std::size_t) {
      self->OnHeader(ec);
    });
  }

  // A read of the request that failed, timed out or found the connection closed: answers
  // (408, 413, 414, 431, 400) or closes, and returns true; false if the request goes on.
  bool ReadFailed(const beast::error_code& ec, std::string_view what, unsigned budget_seconds) {
    if (closed_) return true;
    if (timed_out_) {
      Refuse(Status(StatusCode::kRequestTimeout,
                    std::string(what) + " did not arrive within " + std::to_string(budget_seconds) + " s"));
    } else if (!ec) {
      return false;
    } else if (ec == http::error::header_limit) {
      Refuse(HeaderLimitStatus());
    } else if (ec == http::error::body_limit) {
      Refuse(BodyLimitStatus());
    } else if (IsDisconnect(ec)) {
      Close();
    } else {
      Refuse(Status::Invalid("malformed HTTP request: " + ec.message()));
    }
    return true;
  }

  void OnHeader(beast::error_code ec) {
    if (ReadFailed(ec, "the request head", options().header_timeout_seconds)) return;

    const auto& head = parser_->get();
    version_ = head.version();
    RequestHead plain{head.method_string(), head.target(), head.version(), {}};
    for (const auto& field : head) plain.fields.emplace_back(field.name_string(), field.value());
    FramingDecision framing =
        CheckFraming(plain, {.max_target_bytes = options().max_target_bytes, .max_header_fields = options().max_header_fields});
    if (!framing.status.ok()) return Refuse(framing.status);
    target_ = std::move(framing.target);
    if (overflow_ && !(target_ == "/healthz" && (head.method() == http::verb::get || head.method() == http::verb::head))) {
      return Refuse(Status::Unavailable("the server has too many open connections; retry shortly"));
    }
    if (framing.expect_continue && !parser_->is_done()) return SendContinue();
    ReadBody();
  }

  // RFC 9110 10.1.1: the client waits for this before it sends the body.
  void SendContinue() {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    Arm(Clock::now() + std::chrono::seconds(options().write_timeout_seconds));
    asio::async_write(socket_, asio::buffer(kContinue), [self = Self()](beast::error_code ec, std::size_t) {
      if (ec) return self->Close();
      self->ReadBody();
    });
  }

  void ReadBody() {
    Arm(request_deadline_);
    http::async_read(socket_, buffer_, *parser_, [self = Self()](beast::error_code ec, std::size_t) {
      self->OnBody(ec);
    });
  }

  void OnBody(beast::error_code ec) {
    if (ReadFailed(ec, "the request", options().request_timeout_seconds)) return;

    auto message = parser_->release();
    const bool keep_alive = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.peer = peer_;
    request.headers.reserve(8);
    for (const auto& field : message) {
      request.headers.emplace_back(ToLowerAscii(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    if (!ParseTarget(target_, request)) {
      return Reply(ErrorResponse(Status::Invalid("malformed percent-encoding in the URL")), keep_alive);
    }
    Status decoded = DecodeContentCoding(request.Header("content-encoding"), options().max_body_bytes, request.body);
    if (!decoded.ok()) return Reply(ErrorResponse(decoded), keep_alive);
    Dispatch(std::move(request), keep_alive);
  }

  // Inline answers on this I/O thread; everything that may block on a pool, then back here.
  void Dispatch(HttpRequest request, bool keep_alive) {
    state_ = State::kBusy;
    Disarm();  // the handler has its own budgets
    const bool head = request.method == "HEAD";
    const bool read = head || request.method == "GET";
    if (read) {
      std::optional<HttpResponse> answer = Guarded([&] { return shared_.handlers.handle_inline(request); });
      if (answer) return Reply(std::move(*answer), keep_alive, head);
    }
    asio::post(read ? shared_.read_pool : shared_.write_pool,
               [self = Self(), request = std::move(request), keep_alive, head]() mutable {
                 auto response = std::make_shared<HttpResponse>(
                     *self->Guarded([&] { return std::optional(self->shared_.handlers.handle(request)); }));
                 asio::post(self->socket_.get_executor(), [self, response, keep_alive, head] {
                   self->Reply(std::move(*response), keep_alive, head);
                 });
               });
  }

  // A handler that throws anything is answered with 500, never ends the process.
  template <typename Handler>
  static std::optional<HttpResponse> Guarded(Handler&& handler) {
    try {
      return handler();
    } catch (const std::exception& e) {
      return ErrorResponse(Status::Internal("unexpected error").WithDetail(e.what()));
    } catch (...) {
      return ErrorResponse(Status::Internal("unexpected error").WithDetail("an exception that is not a std::exception"));
    }
  }

  // An error found before the body was read: answered, then the connection is closed (the
  // unread body must never be taken for the next request).
  void Refuse(const Status& status) {
    state_ = State::kBusy;
    Reply(ErrorResponse(status), false);
  }

  void Reply(HttpResponse&& plain, bool keep_alive, bool head = false) {
    if (plain.release) {
      auto release = std::move(plain.release);
      plain.release = nullptr;
      auto held = std::make_shared<HttpResponse>(std::move(plain));
      return release([self = Self(), held, keep_alive, head](Status status) {
        asio::post(self->socket_.get_executor(), [self, held, keep_alive, head, status = std::move(status)] {
          self->Reply(status.ok() ? std::move(*held) : ErrorResponse(status), keep_alive, head);
        });
      });
    }
    keep_alive = keep_alive && !shared_.draining && !overflow_;  // an overflow connection answers once
    const auto status = static_cast<http::status>(plain.status);
    if (head) {
      auto response = std::make_shared<http::response<http::empty_body>>(status, version_);
      SetHeaders(*response, plain, keep_alive);
      response->content_length(plain.body.size());
      return Send(std::move(response), keep_alive);
    }
    auto response = std::make_shared<http::response<http::string_body>>(status, version_);
    SetHeaders(*response, plain, keep_alive);
    response->body() = std::move(plain.body);
    response->prepare_payload();
    Send(std::move(response), keep_alive);
  }

  // Every answer: Date (RFC 9110 6.6.1), no MIME sniffing, no caching unless the handler says
  // otherwise (answers carry health data), and over TLS, HSTS (RFC 6797): a year, subdomains
  // included.
  template <class Message>
  static void SetHeaders(Message& response, const HttpResponse& plain, bool keep_alive) {
    response.set(http::field::server, "Chartkeeper");
    if constexpr (kTls) response.set(http::field::strict_transport_security, "max-age=31536000; includeSubDomains");
    response.set(http::field::date, DateNow());
    response.set("X-Content-Type-Options", "nosniff");
    response.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : plain.headers) response.set(name, value);
    response.keep_alive(keep_alive);
  }

  template <class Message>
  void Send(std::shared_ptr<Message> response, bool keep_alive) {
    Arm(Clock::now() + std::chrono::seconds(options().write_timeout_seconds));
    http::async_write(socket_, *response, [self = Self(), response, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->Close();
      self->WaitForRequest(false);
    });
  }

  Status HeaderLimitStatus() const {
    // The parser takes the request line first: past the limit without one, the URL is what is
    // too long.
    if (parser_->get().target().empty()) {
      return Status(StatusCode::kUriTooLong, "the URL is longer than " + std::to_string(options().max_target_bytes) + " bytes");
    }
    return Status(StatusCode::kHeadersTooLarge,
                  "the request headers are larger than " + std::to_string(options().max_header_bytes) + " bytes");
  }

  Status BodyLimitStatus() const {
    return Status(StatusCode::kTooLarge, "the request body is larger than " + std::to_string(options().max_body_bytes) + " bytes");
  }

  static bool IsDisconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
           ec == asio::error::eof || ec == http::error::partial_message || ec == asio::ssl::error::stream_truncated;
  }

  // Deadlines: past `deadline` the socket's operations are cancelled and timed_out_ says why
  // (Beast's own stream timeouts would close the socket, leaving no way to answer 408).
  void Arm(Clock::time_point deadline) {
    timed_out_ = false;
    timer_.expires_at(deadline);
    timer_.async_wait([self = Self(), epoch = ++timer_epoch_](beast::error_code ec) {
      if (ec || epoch != self->timer_epoch_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(self->socket_).cancel(ignored);
    });
  }
  void Disarm() {
    ++timer_epoch_;
    timer_.cancel();
  }

  void Close() {
    Disarm();  // always: a deadline left armed would keep the session, and a drain, waiting
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(socket_).shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(socket_).close(ignored);
  }

  const std::shared_ptr<asio::ssl::context> tls_;
  Stream socket_;
  asio::steady_timer timer_;  // on the socket's strand
  std::uint64_t timer_epoch_ = 0;
  bool timed_out_ = false;
  Shared& shared_;
  const bool overflow_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
  std::string target_;
  unsigned version_ = 11;
  std::atomic<State> state_{State::kWaiting};
  bool closed_ = false;
  Clock::time_point request_deadline_;
};

bool Shared::EvictIdle() {
  std::lock_guard lock(sessions_mu);
  for (SessionBase* session : sessions) {
    if (!session->TryEvict()) continue;
    std::weak_ptr<SessionBase> weak = session->weak_from_this();
    asio::post(session->executor(), [weak] {
      if (auto live = weak.lock()) live->CloseIfIdle();
    });
    return true;
  }
  return false;
}

class BeastServer final : public HttpServer {
 public:
  BeastServer(const HttpServerOptions& options, HttpHandlers handlers)
      : shared_(options, std::move(handlers)),
        work_(shared_.io.get_executor()),
        acceptor_(asio::make_strand(shared_.io)),
        accept_timer_(acceptor_.get_executor()),
        drain_timer_(asio::make_strand(shared_.io)) {}

  ~BeastServer() override {
    Stop();
    Wait();
  }

  Status Listen() {
    const HttpServerOptions& options = shared_.options;
    std::size_t descriptors = RaiseDescriptorLimit();
    std::size_t room = descriptors > 2 * kReservedDescriptors ? descriptors - kReservedDescriptors : descriptors / 2;
    shared_.max_connections = options.max_connections == 0 ? room : std::min(options.max_connections, room);
    if (options.max_connections > room) {
      CK_LOG_WARN("max_connections {} is more than {} descriptors allow; serving at most {}", options.max_connections,
                  descriptors, room);
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(options.host, ec);
    if (ec) return Status::Invalid("cannot listen on '" + options.host + "': not an IP address");
    tcp::endpoint endpoint(address, options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    if (options.tls) CK_RETURN_IF_ERROR(ReloadTls());
    asio::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
    for (unsigned i = 0; i < std::max(1u, options.io_threads); ++i) {
      threads_.emplace_back([this] { RunLoop(); });
    }
    return Status::Ok();
  }

  std::uint16_t port() const override { return port_; }

  Status ReloadTls() override {
    if (!shared_.options.tls) return Status::Invalid("the server was started without TLS");
    CK_ASSIGN_OR_RETURN(auto context, LoadTlsContext(*shared_.options.tls));
    std::lock_guard lock(shared_.tls_mu);
    shared_.tls = std::move(context);
    return Status::Ok();
  }
  std::size_t max_connections() const override { return shared_.max_connections; }

  void Stop() override {
    if (shared_.draining.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      accept_timer_.cancel();
    });
    std::lock_guard lock(shared_.sessions_mu);
    if (shared_.sessions.empty()) {
      shared_.io.stop();
      return;
    }
    for (SessionBase* session : shared_.sessions) {
      std::weak_ptr<SessionBase> weak = session->weak_from_this();
      asio::post(session->executor(), [weak] {
        if (auto live = weak.lock()) live->CloseIfIdle();
      });
    }
    asio::post(drain_timer_.get_executor(), [this] {
      drain_timer_.expires_after(std::chrono::seconds(shared_.options.drain_timeout_seconds));
      drain_timer_.async_wait([this](beast::error_code ec) {
        if (ec) return;
        CK_LOG_WARN("shutdown: requests still in flight after {} s; closing", shared_.options.drain_timeout_seconds);
        shared_.io.stop();
      });
    });
  }

  void Wait() override {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    shared_.read_pool.join();
    shared_.write_pool.join();
  }

 private:
  void RunLoop() {
    while (!shared_.io.stopped()) {
      try {
        shared_.io.run();
      } catch (const std::exception& e) {
        CK_LOG_ERROR("unexpected exception in the HTTP server: {}", e.what());
      } catch (...) {
        CK_LOG_ERROR("unexpected exception in the HTTP server (not a std::exception)");
      }
    }
  }

  // Runs on the acceptor's strand.
  void DoAccept() {
    acceptor_.async_accept(asio::make_strand(shared_.io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || shared_.draining) return;
      if (ec) return AcceptFailed(ec);
      if (accept_failing_) {
        CK_LOG_INFO("accepting connections again");
        accept_failing_ = false;
      }
      // At the cap, an idle connection (waiting for a request, as a flood's are) makes room;
      // only when every connection is busy is the new one refused.
      const bool at_cap = shared_.connections >= shared_.max_connections;
      const bool overflow = at_cap && !shared_.EvictIdle();
      if (at_cap != at_cap_) {
        at_cap_ = at_cap;
        if (at_cap) {
          CK_LOG_WARN("{} connections open, the limit: closing idle ones for new ones, refusing with 503 when all are busy",
                      shared_.max_connections);
        }
      }
      // Past the overflow too, the socket closes here: a clean refusal, and the backlog keeps draining.
      if (!overflow || shared_.overflow < kMaxOverflowConnections) StartSession(std::move(socket), overflow);
      DoAccept();
    });
  }

  void StartSession(tcp::socket socket, bool overflow) {
    if (auto tls = shared_.CurrentTls()) {
      auto& context = *tls;
      std::make_shared<Session<TlsStream>>(shared_, overflow, std::move(tls), std::move(socket), context)->Start();
    } else {
      std::make_shared<Session<tcp::socket>>(shared_, overflow, nullptr, std::move(socket))->Start();
    }
  }

  // Out of descriptors (or memory): retrying at once would spin; wait, log once per episode.
  void AcceptFailed(const beast::error_code& ec) {
    if (!accept_failing_) {
      CK_LOG_WARN("cannot accept connections: {}; retrying every {} ms", ec.message(), kAcceptBackoff.count());
      accept_failing_ = true;
    }
    accept_timer_.expires_after(kAcceptBackoff);
    accept_timer_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !shared_.draining) DoAccept();
    });
  }

  Shared shared_;
  // Keeps io running while every connection waits on a pool (as during a drain, when nothing
  // else is pending): run() returning for lack of work would stop it and drop their answers.
  // Only Stop's io.stop() ends it.
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;  // on the acceptor's strand
  asio::steady_timer drain_timer_;
  bool accept_failing_ = false;      // acceptor strand only
  bool at_cap_ = false;              // acceptor strand only
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandlers handlers) {
  auto server = std::make_unique<BeastServer>(options, std::move(handlers));
  CK_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace ck::rest
