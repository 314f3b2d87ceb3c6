// Black-box specification of the server under hostile clients: the real binary on a loopback
// port, spoken to with raw socket writes where the exact bytes matter. One test per defect
// found by the outside probe (framing tricks, protocol details, log forging, encoded slashes,
// connection floods, descriptor exhaustion, shutdown during a write storm).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "support/compression.h"
#include "support/json.h"
#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::RawConnection;
using testing::RawResponse;
using namespace std::chrono_literals;

constexpr char kPatient[] = R"({"resourceType":"Patient","name":[{"family":"Example"}]})";

std::string Post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

std::string Gzip(const std::string& text) { return testing::Compress(text, 31); }

// CPU seconds the process has used (user + system), from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stol(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU the process uses over one second of wall time.
double CpuOverOneSecond(pid_t pid) {
  double before = CpuSeconds(pid);
  std::this_thread::sleep_for(1s);
  return CpuSeconds(pid) - before;
}

class HardeningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    log_ = dir_->path() / "server.log";
    server_ = new testing::ServerProcess(dir_->path() / "data", {"--max-body-bytes", "1000000"}, {.log_file = log_});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // Sends `request` on a fresh connection and reads one answer.
  static RawResponse Exchange(const std::string& request) {
    RawConnection connection(server_->port());
    EXPECT_TRUE(connection.Send(request));
    auto response = connection.ReadResponse();
    EXPECT_TRUE(response) << "no answer to: " << request.substr(0, 200);
    return response.value_or(RawResponse{});
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::filesystem::path log_;
  static inline testing::ServerProcess* server_ = nullptr;
};

// The defect: "Transfer-Encoding: chunked, identity" was taken as "no body", and the body was
// answered as a second request on the same connection.
TEST_F(HardeningTest, ATransferEncodingThatDoesNotEndInChunkedIsRefusedAndNothingIsSmuggled) {
  const std::string smuggled = Get("/fhir/metadata");
  for (const char* coding : {"chunked, identity", "identity", "xchunked", "gzip, chunked", "chunked, chunked"}) {
    RawConnection connection(server_->port());
    ASSERT_TRUE(connection.Send("POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\n"
                                "Transfer-Encoding: " + std::string(coding) + "\r\n\r\n" + smuggled));
    auto answer = connection.ReadResponse();
    ASSERT_TRUE(answer) << coding;
    EXPECT_EQ(answer->status, std::string(coding) == "gzip, chunked" ? 501 : 400) << coding;
    EXPECT_TRUE(connection.ClosedWithin(5s)) << coding << ": a second answer means the body was read as a request";
  }
  RawConnection both(server_->port());
  ASSERT_TRUE(both.Send("POST /fhir/Patient HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_EQ(both.ReadResponse()->status, 400);
  EXPECT_TRUE(both.ClosedWithin(5s));
}

TEST_F(HardeningTest, AChunkedBodyIsRead) {
  std::string body = kPatient;
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  RawResponse answer = Exchange("POST /fhir/Patient HTTP/1.1\r\nHost: a\r\nContent-Type: application/fhir+json\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n" + std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
  EXPECT_EQ(answer.status, 201) << answer.body;
}

TEST_F(HardeningTest, ProtocolLimitsAnswerWithTheirOwnStatus) {
  EXPECT_EQ(Exchange(Get("/fhir/Patient?x=" + std::string(100'000, 'a'))).status, 414);
  EXPECT_EQ(Exchange(Get("/fhir/metadata", "X-Big: " + std::string(100'000, 'a') + "\r\n")).status, 431);
  std::string many;
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Exchange(Get("/fhir/metadata", many)).status, 431);
}

TEST_F(HardeningTest, HostMustBeThereOnceAndValid) {
  EXPECT_EQ(Exchange("GET /fhir/metadata HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(Exchange("GET /fhir/metadata HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400);
  EXPECT_EQ(Exchange("GET /fhir/metadata HTTP/1.1\r\nHost: a/b\r\n\r\n").status, 400);
  EXPECT_EQ(Exchange("GET /fhir/metadata HTTP/1.1\r\nHost: localhost:8080\r\n\r\n").status, 200);
}

TEST_F(HardeningTest, AcceptsAnAbsoluteFormTarget) {
  RawResponse answer = Exchange("GET http://127.0.0.1:" + std::to_string(server_->port()) +
                                "/fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.body.find("CapabilityStatement"), std::string::npos);
}

// The defect: curl waited a second for a 100 Continue that never came before every large upload.
TEST_F(HardeningTest, AnswersExpectContinueBeforeTheBodyIsSent) {
  RawConnection connection(server_->port());
  std::string body = kPatient;
  ASSERT_TRUE(connection.Send("POST /fhir/Patient HTTP/1.1\r\nHost: a\r\nContent-Type: application/fhir+json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n"));
  auto go_on = connection.ReadResponse(5s);
  ASSERT_TRUE(go_on);
  EXPECT_EQ(go_on->status, 100);
  ASSERT_TRUE(connection.Send(body));
  auto created = connection.ReadResponse();
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(Exchange(Post("/fhir/Patient", kPatient, "Expect: the-moon\r\n")).status, 417);
}

TEST_F(HardeningTest, DecodesGzipBodiesAndRefusesCodingsItCannotRead) {
  RawResponse created = Exchange(Post("/fhir/Patient", Gzip(kPatient), "Content-Encoding: gzip\r\n"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find("\"family\":\"Example\""), std::string::npos);
  // The defect: a body labelled br was stored as if it were plain.
  EXPECT_EQ(Exchange(Post("/fhir/Patient", kPatient, "Content-Encoding: br\r\n")).status, 415);
  std::string bomb = Gzip(R"({"resourceType":"Patient","text":")" + std::string(5'000'000, 'a') + "\"}");
  EXPECT_EQ(Exchange(Post("/fhir/Patient", bomb, "Content-Encoding: gzip\r\n")).status, 413);
}

TEST_F(HardeningTest, ErrorBodiesAreValidUtf8WhateverTheUrlHeld) {
  RawResponse answer = Exchange(Get("/fhir/%FF%FEPatient/x"));
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.body.find('\xFF'), std::string::npos);
  EXPECT_NE(answer.body.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD in its place
}

// The defect: /fhir/Patient%2F<id> was decoded before routing and served the record.
TEST_F(HardeningTest, AnEncodedSlashStaysInsideItsSegment) {
  RawResponse created = Exchange(Post("/fhir/Patient", kPatient));
  ASSERT_EQ(created.status, 201);
  std::string id = testing::ParseJson(created.body)["id"].GetString();
  EXPECT_EQ(Exchange(Get("/fhir/Patient/" + id)).status, 200);
  EXPECT_EQ(Exchange(Get("/fhir/Patient%2F" + id)).status, 404);
  EXPECT_EQ(Exchange(Get("/fhir/Patient/" + id + "%2F_history")).status, 400);
}

TEST_F(HardeningTest, AMalformedIdIsABadRequestNotANotFound) {
  EXPECT_EQ(Exchange(Get("/fhir/Patient/a$b")).status, 400);
  EXPECT_EQ(Exchange(Get("/fhir/Patient/" + std::string(65, 'a'))).status, 400);
  EXPECT_EQ(Exchange(Get("/fhir/Patient/" + std::string(64, 'a'))).status, 404);
  EXPECT_EQ(Exchange(Get("/fhir/Patient/a$b/_history/1")).status, 400);
}

TEST_F(HardeningTest, AnswersCarryDateNoSniffAndNoStore) {
  RawResponse answer = Exchange(Get("/fhir/metadata"));
  EXPECT_FALSE(answer.Header("date").empty());
  EXPECT_EQ(answer.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(answer.Header("cache-control"), "no-store");
}

// The defect: a %0a in the path wrote a line of the client's choosing into the request log.
TEST_F(HardeningTest, APathCannotForgeALogLine) {
  EXPECT_EQ(Exchange(Get("/fhir/Patient/x%0a2026-01-01T00:00:00.000Z%20info%20FORGED")).status, 400);
  EXPECT_EQ(Exchange(Get("/fhir/healthz%0d%0aFORGED")).status, 404);
  // A last request marks the end: once its line is in the log, the lines before it are too (the
  // log is flushed every second).
  EXPECT_EQ(Exchange(Get("/log-forging-test-end")).status, 404);
  auto marked = [](const std::string& line) { return line.find("path=/log-forging-test-end") != std::string::npos; };
  std::vector<std::string> lines;
  for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
    std::ifstream log(log_);
    lines.clear();
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    if (std::any_of(lines.begin(), lines.end(), marked)) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(std::any_of(lines.begin(), lines.end(), marked));
  for (const std::string& line : lines) {
    EXPECT_FALSE(line.starts_with("2026-01-01T00:00:00.000Z")) << line;
    EXPECT_FALSE(line.starts_with("FORGED")) << line;
  }
}

// The defect: 1,100 idle connections locked every other client out and the accept loop spun
// at a full core.
TEST(ConnectionFloodTest, PastTheCapAClientIsServedOrRefusedCleanlyAndTheServerRestsAfterwards) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path(), {"--max-connections", "100"});
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 300; ++i) flood.push_back(std::make_unique<RawConnection>(server.port()));
  RawConnection health(server.port());
  ASSERT_TRUE(health.Send(Get("/healthz")));
  auto healthy = health.ReadResponse();
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  RawConnection client(server.port());
  ASSERT_TRUE(client.Send(Get("/fhir/metadata")));
  auto answer = client.ReadResponse();
  if (answer) {
    EXPECT_TRUE(answer->status == 200 || answer->status == 503) << answer->status;
  } else {
    EXPECT_TRUE(client.closed());  // refused by closing, never left hanging
  }
  flood.clear();
  std::this_thread::sleep_for(200ms);
  EXPECT_LT(CpuOverOneSecond(server.pid()), 0.3);
  RawConnection after(server.port());
  ASSERT_TRUE(after.Send(Get("/fhir/metadata")));
  EXPECT_EQ(after.ReadResponse()->status, 200);
}

TEST(ConnectionFloodTest, OutOfDescriptorsTheAcceptLoopBacksOffAndRecovers) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path(), {"--threads", "1"}, {.max_open_files = 64});
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 200; ++i) flood.push_back(std::make_unique<RawConnection>(server.port()));
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(CpuOverOneSecond(server.pid()), 0.5);  // not spinning on accept
  flood.clear();
  std::this_thread::sleep_for(1s);
  RawConnection health(server.port());
  ASSERT_TRUE(health.Send(Get("/healthz")));
  auto answer = health.ReadResponse();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
}

// The defect: SIGTERM during a write storm left committed writes without an answer.
TEST(ShutdownTest, EveryWriteStoredDuringAShutdownWasAnswered) {
  testing::TempDir dir;
  std::atomic<int> acknowledged{0};
  {
    testing::ServerProcess server(dir.path() / "data", {}, {.log_file = dir.path() / "server.log"});
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 16; ++t) {
      writers.emplace_back([&, port = server.port()] {
        RawConnection connection(port);
        while (!stop) {
          if (!connection.Send(Post("/fhir/Basic", R"({"resourceType":"Basic","code":{"text":"storm"}})"))) return;
          auto answer = connection.ReadResponse();
          if (!answer) return;
          if (answer->status == 201) ++acknowledged;
          if (answer->Header("connection") == "close") return;
        }
      });
    }
    std::this_thread::sleep_for(1500ms);
    server.Stop();  // SIGTERM, and waits for the process to exit
    stop = true;
    for (auto& writer : writers) writer.join();
  }
  ASSERT_GT(acknowledged.load(), 0);
  // Every connection finished: none was left for the drain timeout to cut.
  std::ifstream log(dir.path() / "server.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("shutting down"), std::string::npos);
  EXPECT_EQ(text.find("still in flight"), std::string::npos);
  testing::ServerProcess restarted(dir.path() / "data");
  RawConnection connection(restarted.port());
  ASSERT_TRUE(connection.Send(Get("/fhir/Basic/_history?_count=1&_total=accurate")));
  auto history = connection.ReadResponse();
  ASSERT_TRUE(history);
  EXPECT_EQ(testing::ParseJson(history->body)["total"].GetInt(), acknowledged.load());
}

}  // namespace
}  // namespace ck
