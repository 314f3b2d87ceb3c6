// TLS, black-box, with the tools an operator would use (openssl and curl from Debian): the server
// speaks TLS 1.2 and 1.3 and nothing older, only forward-secret AEAD suites, sends HSTS, takes a
// new certificate on SIGHUP (keeping the old one when the new files are bad), and refuses to
// start with plain HTTP off loopback or with key files that are wrong.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/chartkeeper_command.h"
#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::RunShell;

// A self-signed P-256 certificate for 127.0.0.1 with common name `name`, written as
// <name>.crt and <name>.key (mode 600) in `dir`.
void MakeCertificate(const std::filesystem::path& dir, const std::string& name) {
  auto run = RunShell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" + name +
                      " -addext subjectAltName=IP:127.0.0.1 -keyout " + (dir / (name + ".key")).string() + " -out " +
                      (dir / (name + ".crt")).string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::filesystem::permissions(dir / (name + ".key"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeCertificate(dir_.path(), "alpha");
    MakeCertificate(dir_.path(), "beta");
    std::filesystem::copy_file(dir_.path() / "alpha.crt", cert_);
    std::filesystem::copy_file(dir_.path() / "alpha.key", key_);
    server_ = std::make_unique<testing::ServerProcess>(
        dir_.path() / "var", std::vector<std::string>{"--tls-cert", cert_.string(), "--tls-key", key_.string()},
        testing::ServerProcessOptions{.log_file = log_});
  }

  std::string Url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(server_->port()) + path; }

  // `openssl s_client` against the server with `options`; its output (handshake details or why
  // it failed).
  testing::CommandRun Handshake(const std::string& options) const {
    return RunShell("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) + " " + options);
  }

  // The common name of the certificate the server presents now.
  std::string PresentedName() const {
    auto run = Handshake("-CAfile " + (dir_.path() / "alpha.crt").string());
    auto at = run.output.find("subject=CN = ");
    if (at == std::string::npos) return "";
    return run.output.substr(at + 13, run.output.find('\n', at) - at - 13);
  }

  // Sends SIGHUP and waits until the server has logged what it did about it (the `count`th time).
  void Reload(int count) {
    ASSERT_EQ(kill(server_->pid(), SIGHUP), 0);
    for (int i = 0; i < 600; ++i) {
      std::string log = ReadFile(log_);
      std::size_t seen = 0;
      for (std::size_t at = log.find("received SIGHUP"); at != std::string::npos; at = log.find("received SIGHUP", at + 1)) ++seen;
      if (seen >= static_cast<std::size_t>(count)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the server did not log the reload";
  }

  testing::TempDir dir_;
  std::filesystem::path cert_ = dir_.path() / "server.crt";
  std::filesystem::path key_ = dir_.path() / "server.key";
  std::filesystem::path log_ = dir_.path() / "server.log";
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(TlsTest, CurlConnectsWithTls12AndTls13AndEveryAnswerCarriesHsts) {
  for (std::string version : {"--tlsv1.2 --tls-max 1.2", "--tlsv1.3"}) {
    auto run = RunShell("curl -sS -D - -o /dev/null --cacert " + cert_.string() + " " + version + " " + Url("/fhir/metadata"));
    ASSERT_EQ(run.exit_code, 0) << version << ": " << run.output;
    EXPECT_TRUE(run.output.starts_with("HTTP/1.1 200")) << run.output;
    EXPECT_NE(run.output.find("Strict-Transport-Security: max-age=31536000; includeSubDomains"), std::string::npos) << run.output;
  }
}

TEST_F(TlsTest, OpensslNegotiatesOnlyTls12OrTls13) {
  auto tls13 = Handshake("-tls1_3");
  EXPECT_NE(tls13.output.find("New, TLSv1.3, Cipher is TLS_"), std::string::npos) << tls13.output;
  auto tls12 = Handshake("-tls1_2");
  EXPECT_NE(tls12.output.find("New, TLSv1.2, Cipher is ECDHE-ECDSA-"), std::string::npos) << tls12.output;
  // The client is told to offer the old versions (security level 0 allows them); the server
  // answers with a protocol_version alert.
  for (std::string old : {"-tls1", "-tls1_1"}) {
    auto run = Handshake(old + " -cipher DEFAULT@SECLEVEL=0");
    EXPECT_NE(run.output.find("alert protocol version"), std::string::npos) << old << ": " << run.output;
    EXPECT_EQ(run.output.find("Cipher is ECDHE"), std::string::npos) << run.output;
  }
}

TEST_F(TlsTest, SuitesWithoutForwardSecrecyOrWithoutAeadAreRefused) {
  for (std::string suite : {"AES128-SHA", "AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384"}) {
    auto run = Handshake("-tls1_2 -cipher " + suite);
    EXPECT_NE(run.output.find("alert handshake failure"), std::string::npos) << suite << ": " << run.output;
  }
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortGetsNoAnswer) {
  testing::RawConnection connection(server_->port());
  ASSERT_TRUE(connection.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(connection.ReadResponse(std::chrono::seconds(20)).has_value());
  EXPECT_TRUE(connection.closed());
}

TEST_F(TlsTest, AClientThatNeverHandshakesIsDisconnected) {
  testing::RawConnection connection(server_->port());
  // header_timeout_seconds (10) bounds the handshake; the wait here only bounds the test.
  EXPECT_TRUE(connection.ClosedWithin(std::chrono::seconds(60)));
}

TEST_F(TlsTest, SighupLoadsTheNewCertificateAndKeepsTheOldOneWhenTheNewFilesAreBad) {
  EXPECT_EQ(PresentedName(), "alpha");
  std::filesystem::copy_file(dir_.path() / "beta.crt", cert_, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir_.path() / "beta.key", key_, std::filesystem::copy_options::overwrite_existing);
  Reload(1);
  EXPECT_EQ(PresentedName(), "beta");

  // A key that does not belong to the certificate: refused, beta keeps serving.
  std::filesystem::copy_file(dir_.path() / "alpha.crt", cert_, std::filesystem::copy_options::overwrite_existing);
  Reload(2);
  EXPECT_NE(ReadFile(log_).find("does not belong to the certificate " + cert_.string() + "; still serving the previous certificate"),
            std::string::npos);
  EXPECT_EQ(PresentedName(), "beta");
  auto run = RunShell("curl -sS -o /dev/null -w '%{http_code}' --cacert " + (dir_.path() / "beta.crt").string() + " " + Url("/healthz"));
  EXPECT_EQ(run.output, "200");
}

class TlsStartTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeCertificate(dir_.path(), "alpha"); }

  // `serve` with `args`; it fails at start (so the command returns) in every case below.
  testing::CommandRun Serve(std::vector<std::string> args) {
    args.insert(args.end(), {"--auth", "off"});
    return testing::RunChartkeeper("serve", dir_.path() / "var", args);
  }

  testing::TempDir dir_;
};

TEST_F(TlsStartTest, PlainHttpOffLoopbackIsRefusedUnlessAskedFor) {
  auto run = testing::RunChartkeeper("serve", dir_.path() / "var", {"--listen", "0.0.0.0:0"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("without TLS would send health data in the clear"), std::string::npos) << run.output;

  testing::ServerProcess insecure(
      dir_.path() / "var", {"--insecure-http"},
      testing::ServerProcessOptions{.log_file = dir_.path() / "insecure.log", .auth = true, .listen = "0.0.0.0:0"});
  testing::RawConnection connection(insecure.port());
  ASSERT_TRUE(connection.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = connection.ReadResponse();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->Header("strict-transport-security"), "");
  insecure.Stop();
  EXPECT_NE(ReadFile(dir_.path() / "insecure.log").find("insecure_http = true: serving http://0.0.0.0:"), std::string::npos);
}

TEST_F(TlsStartTest, AuthOffIsRefusedOffLoopbackEvenWithTls) {
  auto run = Serve({"--listen", "0.0.0.0:0", "--tls-cert", (dir_.path() / "alpha.crt").string(), "--tls-key",
                    (dir_.path() / "alpha.key").string()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("auth = off works only on a loopback address"), std::string::npos) << run.output;
}

TEST_F(TlsStartTest, BadKeyFilesAreRefusedAtStart) {
  const std::string cert = (dir_.path() / "alpha.crt").string();
  const std::string key = (dir_.path() / "alpha.key").string();
  auto only_cert = Serve({"--tls-cert", cert});
  EXPECT_EQ(only_cert.exit_code, 1);
  EXPECT_NE(only_cert.output.find("TLS needs both tls_cert"), std::string::npos) << only_cert.output;

  auto missing = Serve({"--tls-cert", cert, "--tls-key", key + ".missing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("cannot be read"), std::string::npos) << missing.output;

  auto not_a_certificate = Serve({"--tls-cert", key, "--tls-key", key});
  EXPECT_EQ(not_a_certificate.exit_code, 1);
  EXPECT_NE(not_a_certificate.output.find("TLS certificate " + key + " cannot be loaded"), std::string::npos)
      << not_a_certificate.output;

  std::filesystem::permissions(key, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
  auto readable = Serve({"--tls-cert", cert, "--tls-key", key});
  EXPECT_EQ(readable.exit_code, 1);
  EXPECT_NE(readable.output.find("may be read by anyone on this machine"), std::string::npos) << readable.output;
}

}  // namespace
}  // namespace ck
