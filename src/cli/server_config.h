#pragma once
// Turns the layered configuration (defaults, TOML file, CHARTKEEPER_* environment, flags) into
// what the server and the store need. Shared by the `serve` and `import` commands.

#include <cstdint>
#include <optional>
#include <string>

#include "rest/tls_context.h"
#include "util/config.h"

namespace ck::cli {

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

// "127.0.0.1:8080", "[::1]:8080". Errors: kInvalid.
Result<ListenAddress> ParseListenAddress(const std::string& listen);
// Whether a listen host is this machine only: 127.0.0.0/8, ::1 or localhost.
bool IsLoopback(std::string_view host);

// The TLS files, if tls_cert and tls_key are set. Errors: kInvalid (only one of them set).
Result<std::optional<rest::TlsFiles>> TlsFilesFrom(const Config& config);

// I/O threads for the HTTP server: the configured number, or one per core.
unsigned IoThreads(const Config& config);
// Read threads: the configured number, or one per core (at least two).
unsigned ReadThreads(const Config& config);

}  // namespace ck::cli
