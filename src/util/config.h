#pragma once
// Server configuration: one struct, filled from (lowest to highest precedence) built-in
// defaults, a TOML file, CHARTKEEPER_* environment variables, and command-line flags.
// Every option states its default here; the README documents the same table.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ck {

struct Config {
  // Address and port the HTTP server listens on. Port 0 picks a free port. Default 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";
  // Folder holding the database and other state. Created if missing. Default ./var.
  std::filesystem::path data_dir = "var";
  // I/O threads, which also serve reads; 0 means one per core. Default 0.
  unsigned threads = 0;
  // Threads that run writes (each waits for its group commit); caps the writes in flight.
  // Default 64.
  unsigned write_threads = 64;
  // Largest request body accepted, in bytes; larger bodies get 413. Default 16 MiB.
  std::size_t max_body_bytes = 16u << 20;
  // Deepest JSON nesting accepted; deeper bodies get 400. Default 64.
  unsigned max_json_depth = 64;
  // Most problems reported for one resource; the answer's last issue says more may follow.
  // Default 100.
  unsigned max_issues = 100;
  // Memory for the cache of current versions, in MiB; 0 disables it. Default 256.
  unsigned cache_mb = 256;
  // Largest page a history or search returns. Default 1000.
  unsigned max_page_size = 1000;
  // Log level: trace, debug, info, warn, error, off. Default info.
  std::string log_level = "info";
  // Base URL clients see, used in Location headers and bundle links. Default: derived from
  // listen, http://<listen>/fhir.
  std::string base_url;

  std::string BaseUrl() const;
};

// The keys a config file, environment (CHARTKEEPER_<KEY upper-cased>) or flag can set.
// Unknown keys and malformed values are errors (kInvalid) naming the key.
Status ApplyConfigValue(Config& config, const std::string& key, const std::string& value);

// Every key ApplyConfigValue knows, in the order of the README's table.
std::vector<std::string_view> ConfigKeys();

// Reads a TOML file of `key = value` lines (keys as in ApplyConfigValue).
Status ApplyConfigFile(Config& config, const std::filesystem::path& file);

// Applies every CHARTKEEPER_<KEY> variable found in `environment`.
Status ApplyConfigEnvironment(Config& config, const std::map<std::string, std::string>& environment);

// The process environment as a map (for ApplyConfigEnvironment).
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace ck
