#include "audit/syslog_forwarder.h"

#include <poll.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <charconv>
#include <optional>

#include "audit/audit_entry.h"
#include "util/log.h"
#include "util/time.h"

namespace ck::audit {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One TLS connection to the collector (blocking; the forwarder's own thread).
class SyslogConnection {
 public:
  explicit SyslogConnection(const SyslogOptions& options) : options_(options), tls_(asio::ssl::context::tls_client) {}

  Status Connect() {
    boost::system::error_code ec;
    tls_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                     asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    tls_.load_verify_file(options_.ca_file.string(), ec);
    if (ec) return Status::Invalid("audit_syslog_ca: cannot read " + options_.ca_file.string());
    if (!options_.cert_file.empty()) {
      tls_.use_certificate_chain_file(options_.cert_file.string(), ec);
      if (!ec) tls_.use_private_key_file(options_.key_file.string(), asio::ssl::context::pem, ec);
      if (ec) return Status::Invalid("audit_syslog_cert / audit_syslog_key: cannot use them");
    }
    tls_.set_verify_mode(asio::ssl::verify_peer);
    stream_.emplace(io_, tls_);
    SSL_set_tlsext_host_name(stream_->native_handle(), options_.host.c_str());
    stream_->set_verify_callback(asio::ssl::host_name_verification(options_.host));
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (!ec) asio::connect(stream_->next_layer(), endpoints, ec);
    if (!ec) stream_->handshake(asio::ssl::stream_base::client, ec);
    if (ec) return Status::Unavailable("the syslog collector " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
    return Status::Ok();
  }

  // Sends `frames` (octet-counted messages). Errors: kUnavailable, also when the collector has
  // closed the connection (without this check the first batch after a collector's restart would
  // go into the closed socket's buffer and be lost).
  Status Send(const std::string& frames) {
    pollfd peer{stream_->next_layer().native_handle(), POLLRDHUP, 0};
    if (::poll(&peer, 1, 0) > 0 && (peer.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
      return Status::Unavailable("the syslog collector closed the connection");
    }
    boost::system::error_code ec;
    asio::write(*stream_, asio::buffer(frames), ec);
    if (ec) return Status::Unavailable("sending to the syslog collector: " + ec.message());
    return Status::Ok();
  }

 private:
  const SyslogOptions& options_;
  asio::io_context io_;
  asio::ssl::context tls_;
  std::optional<asio::ssl::stream<tcp::socket>> stream_;
};

Result<SyslogOptions> ParseSyslogTarget(const std::string& target) {
  SyslogOptions options;
  const std::size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0) return Err(Status::Invalid("audit_syslog: give host:port, such as siem.example.org:6514"));
  options.host = target.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') options.host = options.host.substr(1, options.host.size() - 2);
  const std::string port = target.substr(colon + 1);
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), options.port);
  if (error != std::errc() || end != port.data() + port.size() || options.port == 0) return Err(Status::Invalid("audit_syslog: bad port"));
  return options;
}

Result<std::string> SyslogMessage(const store::AuditRecord& record, const std::string& hostname) {
  CK_ASSIGN_OR_RETURN(AuditEntry entry, ParseAuditContent(record.content));
  CK_ASSIGN_OR_RETURN(std::string event, AuditEventJson(record));
  constexpr int kAuthpriv = 10;
  const int severity = entry.outcome == 0 ? 5 : 4;
  return "<" + std::to_string(kAuthpriv * 8 + severity) + ">1 " + FormatInstant(record.time) + " " + hostname + " chartkeeper " +
         std::to_string(::getpid()) + " audit [chartkeeper@32473 seq=\"" + std::to_string(record.sequence) + "\"] " + event;
}

Result<std::unique_ptr<SyslogForwarder>> SyslogForwarder::Start(store::ResourceStore& store, SyslogOptions options) {
  if (options.ca_file.empty()) return Err(Status::Invalid("audit_syslog needs audit_syslog_ca: the CAs that sign the collector's certificate"));
  if (options.cert_file.empty() != options.key_file.empty()) return Err(Status::Invalid("give both audit_syslog_cert and audit_syslog_key, or neither"));
  if (options.hostname.empty()) {
    char name[256] = {};
    options.hostname = ::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0' ? name : "-";
  }
  std::unique_ptr<SyslogForwarder> forwarder(new SyslogForwarder(store, std::move(options)));
  forwarder->thread_ = std::thread([raw = forwarder.get()] { raw->Run(); });
  return forwarder;
}

SyslogForwarder::SyslogForwarder(store::ResourceStore& store, SyslogOptions options) : store_(store), options_(std::move(options)) {}

SyslogForwarder::~SyslogForwarder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SyslogForwarder::Run() {
  constexpr int kMaxBackoffSeconds = 8;  // a collector back is found within seconds
  int backoff = 1;
  std::optional<SyslogConnection> connection;
  bool warned = false;
  while (true) {
    Status sent = Status::Ok();
    if (!connection) {
      connection.emplace(options_);
      sent = connection->Connect();
    }
    if (sent.ok()) sent = SendBacklog(*connection);
    if (sent.ok()) {
      backoff = 1;
      if (warned) CK_LOG_INFO("audit syslog: the collector is back; the backlog was sent");
      warned = false;
    } else {
      connection.reset();
      if (!warned) CK_LOG_WARN("audit syslog: {}; records are kept and sent when it is back", sent.ToString());
      warned = true;
    }
    std::unique_lock lock(mu_);
    const auto pause = sent.ok() ? std::chrono::seconds(1) : std::chrono::seconds(backoff);
    wake_.wait_for(lock, pause, [this] { return stopping_; });
    if (!sent.ok()) backoff = std::min(backoff * 2, kMaxBackoffSeconds);
    if (stopping_) return;
  }
}

Status SyslogForwarder::SendBacklog(SyslogConnection& connection) {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Status::Ok();
    }
    CK_ASSIGN_OR_RETURN(std::optional<std::string> saved, store_.ReadMeta(kSyslogSentKey));
    const std::int64_t sent = saved ? std::atoll(saved->c_str()) : 0;
    CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> records, store_.ReadAudit(sent + 1, options_.batch));
    if (records.empty()) return Status::Ok();
    std::string frames;
    for (const store::AuditRecord& record : records) {
      CK_ASSIGN_OR_RETURN(std::string message, SyslogMessage(record, options_.hostname));
      frames += std::to_string(message.size()) + " " + message;
    }
    CK_RETURN_IF_ERROR(connection.Send(frames));
    const std::string reached = std::to_string(records.back().sequence);
    CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) { return txn.WriteMeta(kSyslogSentKey, reached); }));
  }
}

}  // namespace ck::audit
