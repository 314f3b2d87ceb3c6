// Access-token checks on one core (issue 10's benchmark): a full check (ES256 signature, claims,
// client) and a check of a token the server verified before (remembered until it expires).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "access/access_control.h"
#include "store/sqlite/sqlite_store.h"
#include "util/crypto.h"
#include "util/log.h"

namespace {

using namespace ck;

struct Fixture {
  Fixture() {
    InitLogging("warn");
    dir = std::filesystem::temp_directory_path() / ("ck-token-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    store = std::move(*store::sqlite::OpenSqliteStore({.data_dir = dir, .clock = &clock}));
    access::Client client;
    client.id = "ck-bench";
    client.kind = access::ClientKind::kBackend;
    client.secret_hash = Sha256Hex("secret");
    client.scope = "system/*.rs";
    client.roles = {"integration"};
    (void)access::AccountDirectory(*store).AddClient(client);
    control = std::move(*access::AccessControl::Open(*store, clock, access::AccessPolicy::Defaults(), {.base_url = "http://bench"}));
  }
  ~Fixture() {
    control.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  std::string NewToken() {
    return "Bearer " + control->Token({.grant_type = "client_credentials", .basic_client_id = "ck-bench", .basic_secret = "secret"})
                           ->access_token;
  }

  SystemClock clock;
  std::filesystem::path dir;
  std::unique_ptr<store::ResourceStore> store;
  std::unique_ptr<access::AccessControl> control;
};

Fixture& TheFixture() {
  static Fixture fixture;
  return fixture;
}

// Each check a new token: the signature is verified every time.
void BM_AuthenticateNewToken(benchmark::State& state) {
  Fixture& f = TheFixture();
  std::vector<std::string> tokens;
  for (int i = 0; i < 2000; ++i) tokens.push_back(f.NewToken());
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == tokens.size()) {
      state.PauseTiming();
      tokens.clear();
      for (int i = 0; i < 2000; ++i) tokens.push_back(f.NewToken());
      next = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(f.control->Authenticate(tokens[next++]));
  }
  state.counters["checks/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AuthenticateNewToken);

// The same token again, as a client sends it with each request.
void BM_AuthenticateRememberedToken(benchmark::State& state) {
  Fixture& f = TheFixture();
  const std::string token = f.NewToken();
  for (auto _ : state) benchmark::DoNotOptimize(f.control->Authenticate(token));
  state.counters["checks/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AuthenticateRememberedToken);

}  // namespace

BENCHMARK_MAIN();
