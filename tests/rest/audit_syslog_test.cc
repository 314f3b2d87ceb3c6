// Forwarding the audit trail to a SIEM, black-box: a syslog-over-TLS collector on loopback
// (RFC 5425 framing) receives every record, in order, including those made while it was down.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A syslog collector over TLS: reads octet-counted messages and keeps each one's sequence
// number (the SD parameter seq="N").
class Collector {
 public:
  Collector(const std::filesystem::path& cert, const std::filesystem::path& key, unsigned short port)
      : tls_(asio::ssl::context::tls_server), acceptor_(io_) {
    tls_.use_certificate_chain_file(cert.string());
    tls_.use_private_key_file(key.string(), asio::ssl::context::pem);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  // Goes down as a collector does: the listening socket and every connection closed (so the
  // port is free for the next one), then the thread stopped.
  ~Collector() {
    std::promise<void> closed;
    asio::post(io_, [this, &closed] {
      acceptor_.close();
      for (const auto& session : sessions_) {
        if (auto open = session.lock()) open->stream.lowest_layer().close();
      }
      closed.set_value();
    });
    closed.get_future().wait();
    io_.stop();
    thread_.join();
  }
  std::vector<std::int64_t> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::string LastMessage() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket socket, asio::ssl::context& tls, Collector& collector) : stream(std::move(socket), tls), owner(collector) {}
    void Start() {
      stream.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->ReadLength();
      });
    }
    void ReadLength() {
      asio::async_read_until(stream, buffer, ' ', [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec) return;
        std::string length(asio::buffers_begin(self->buffer.data()), asio::buffers_begin(self->buffer.data()) + n - 1);
        self->buffer.consume(n);
        self->ReadMessage(std::stoul(length));
      });
    }
    void ReadMessage(std::size_t length) {
      const std::size_t have = buffer.size();
      asio::async_read(stream, buffer, asio::transfer_exactly(length > have ? length - have : 0),
                       [self = shared_from_this(), length](boost::system::error_code ec, std::size_t) {
                         if (ec) return;
                         std::string message(asio::buffers_begin(self->buffer.data()), asio::buffers_begin(self->buffer.data()) + length);
                         self->buffer.consume(length);
                         self->owner.Keep(message);
                         self->ReadLength();
                       });
    }
    asio::ssl::stream<tcp::socket> stream;
    asio::streambuf buffer;
    Collector& owner;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto session = std::make_shared<Session>(std::move(socket), tls_, *this);
      sessions_.push_back(session);
      session->Start();
      Accept();
    });
  }
  void Keep(const std::string& message) {
    const std::size_t at = message.find("seq=\"");
    std::lock_guard lock(mu_);
    if (at != std::string::npos) received_.push_back(std::stoll(message.substr(at + 5)));
    last_ = message;
  }

  asio::io_context io_;
  asio::ssl::context tls_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::vector<std::int64_t> received_;  // guarded by mu_
  std::string last_;                    // guarded by mu_
  std::vector<std::weak_ptr<Session>> sessions_;  // the collector's thread only
  std::thread thread_;
};

// Whether every sequence number first..last arrived (repeats allowed: delivery is at least once).
bool AllArrived(const std::vector<std::int64_t>& received, std::int64_t first, std::int64_t last) {
  std::set<std::int64_t> seen(received.begin(), received.end());
  for (std::int64_t n = first; n <= last; ++n) {
    if (!seen.contains(n)) return false;
  }
  return true;
}

unsigned short FreePort() {
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

std::int64_t AuditRecords(testing::HttpClient& client) {
  const std::string metrics = client.Get("/metrics").body;
  const std::size_t at = metrics.find("\nchartkeeper_audit_records ");
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + 27));
}

TEST(AuditSyslogTest, TheCollectorGetsEveryRecordAlsoThoseMadeWhileItWasDown) {
  testing::TempDir dir;
  auto made = testing::RunShell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=siem "
                                "-addext subjectAltName=IP:127.0.0.1 -keyout " + (dir.path() / "siem.key").string() + " -out " +
                                (dir.path() / "siem.crt").string());
  ASSERT_EQ(made.exit_code, 0) << made.output;
  // The collector starts after the server: the test's processes forked meanwhile (the server's
  // log drain) would otherwise hold its sockets open after it goes down.
  const unsigned short port = FreePort();
  testing::ServerProcess server(dir.path() / "data", {"--audit-syslog", "127.0.0.1:" + std::to_string(port), "--audit-syslog-ca",
                                                      (dir.path() / "siem.crt").string()});
  auto collector = std::make_unique<Collector>(dir.path() / "siem.crt", dir.path() / "siem.key", port);
  testing::HttpClient client(server.port());
  ASSERT_EQ(client.Put("/fhir/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Get("/fhir/Patient/p1").status, 200);
  // Waits until records first..(the trail's last now) reached `c`; returns that last.
  auto wait_for = [&](Collector& c, std::int64_t first) {
    const std::int64_t last = AuditRecords(client);
    for (int tries = 0; tries < 600 && !AllArrived(c.Received(), first, last); ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  };
  const std::int64_t first_part = wait_for(*collector, 1);
  ASSERT_GE(first_part, 21);
  EXPECT_TRUE(AllArrived(collector->Received(), 1, first_part));
  const std::string message = collector->LastMessage();
  EXPECT_EQ(message.rfind("<85>1 ", 0), 0u) << message;  // authpriv.notice, syslog version 1
  EXPECT_NE(message.find(" chartkeeper "), std::string::npos);
  EXPECT_NE(message.find(R"({"resourceType":"AuditEvent")"), std::string::npos);

  collector.reset();  // the SIEM goes down
  for (int i = 0; i < 10; ++i) ASSERT_EQ(client.Get("/fhir/Patient/p1").status, 200);
  const std::string metrics = client.Get("/metrics").body;
  EXPECT_NE(metrics.find("chartkeeper_audit_syslog_backlog "), std::string::npos);
  EXPECT_EQ(metrics.find("chartkeeper_audit_syslog_backlog 0\n"), std::string::npos) << "records wait while it is down";

  collector = std::make_unique<Collector>(dir.path() / "siem.crt", dir.path() / "siem.key", port);  // back, same address
  const std::int64_t all = wait_for(*collector, first_part + 1);
  ASSERT_GE(all, first_part + 10);
  // The records made while it was down arrive, in order.
  std::vector<std::int64_t> received = collector->Received();
  EXPECT_TRUE(AllArrived(received, first_part + 1, all));
  EXPECT_TRUE(std::is_sorted(received.begin(), received.end()));
}

TEST(AuditSyslogTest, ForwardingNeedsTheCollectorsCa) {
  testing::TempDir dir;
  auto run = testing::RunChartkeeper("serve", dir.path(), {"--auth", "off", "--listen", "127.0.0.1:0", "--audit-syslog", "127.0.0.1:6514"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("audit_syslog_ca"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ck
