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
  // Threads that run reads needing the database (searches, history, vread, uncached reads);
  // caps the reads in flight so slow ones never hold up the I/O threads. 0 means one per core
  // (at least two): more than the cores share them by time slices, which stretches every
  // search's tail (p99 of a patient's Observations by code, 16 clients on 2 cores: 6.5 ms with 2
  // threads, 18 ms with 8). Default 0.
  unsigned read_threads = 0;
  // Largest request body accepted, in bytes, also once decompressed; larger bodies get 413.
  // Default 16 MiB.
  std::size_t max_body_bytes = 16u << 20;
  // Longest request target (URL) accepted, in bytes; longer ones get 414. Default 16 KiB.
  std::size_t max_url_bytes = 16u << 10;
  // Largest request head (request line and header fields), in bytes; larger gets 431 (or 414
  // when the URL alone is too long). Default 64 KiB.
  std::size_t max_header_bytes = 64u << 10;
  // Most header fields in one request; more get 431. Default 100.
  unsigned max_header_fields = 100;
  // Most connections served at once; past it /healthz still answers and other requests get 503.
  // 0: as many as the process's descriptor limit (raised to its hard limit) allows, less 128.
  // Default 0.
  unsigned max_connections = 0;
  // Seconds a new connection has to send its request head (and each request its head); past it
  // 408 and the connection is closed. Default 10.
  unsigned header_timeout_seconds = 10;
  // Seconds a keep-alive connection may wait for its next request. Default 60.
  unsigned idle_timeout_seconds = 60;
  // Seconds to receive a whole request, body included. Default 60.
  unsigned request_timeout_seconds = 60;
  // Seconds to send a whole response. Default 60.
  unsigned write_timeout_seconds = 60;
  // Seconds a shutdown waits for requests in flight to be answered. Default 30.
  unsigned drain_timeout_seconds = 30;
  // Milliseconds a database read may run before it is stopped (400 too-costly). Default 10000.
  unsigned query_time_limit_ms = 10'000;
  // Deepest JSON nesting accepted; deeper bodies get 400. Default 64.
  unsigned max_json_depth = 64;
  // Most problems reported for one resource; the answer's last issue says more may follow.
  // Default 100.
  unsigned max_issues = 100;
  // What a resource claiming (meta.profile) a profile this server does not hold gets: "warn"
  // (stored, with a warning) or "error" (refused, 422). Default warn.
  std::string unknown_profiles = "warn";
  // What a write through the REST API whose resource breaks a constraint, binding or profile
  // gets: "strict" (refused, 422) or "lenient" (stored, its errors recorded beside the version
  // and listed by the quality report). Malformed FHIR JSON is refused either way. Default strict.
  std::string rest_validation = "strict";
  // The same for `chartkeeper import`, which also knows "structure": only the structure is
  // checked (for reloading data this server validated before); nothing is recorded. Default strict.
  std::string import_validation = "strict";
  // FHIR packages (.tgz implementation guides, such as US Core) whose profiles, value sets and
  // code systems are loaded at start (as `chartkeeper package load` does), skipped when the same
  // content was loaded before. A comma-separated list, or a TOML array of strings. Default none.
  std::vector<std::filesystem::path> packages;
  // The IANA time zone ("Europe/Berlin") in which a date or time written without a zone is
  // placed, for the search index and search values alike (search/search_zone.h); a change
  // reindexes the stored resources at the next start. Checked when the records open. Default UTC.
  std::string search_time_zone = "UTC";
  // Memory for the cache of current versions, in MiB; 0 disables it. Default 256.
  unsigned cache_mb = 256;
  // Memory for the database page cache of the read threads, in MiB, shared among them: the
  // index and record pages searches touch stay in memory. Default 256.
  unsigned page_cache_mb = 256;
  // Largest page a history or search returns. Default 1000.
  unsigned max_page_size = 1000;
  // Most entries a transaction or batch Bundle may hold (its bytes are bounded by
  // max_body_bytes). Default 20000.
  std::size_t max_bundle_entries = 20000;
  // Most resources one conditional delete (DELETE [type]?[search]) removes; more matches are 412
  // and nothing is deleted. Default 1 (single deletes).
  std::size_t max_conditional_deletes = 1;
  // Referential integrity of REST writes: "true" refuses (409) a write whose reference names a
  // resource of this server that does not exist, and a delete of a resource current resources
  // refer to; "false" lets both through. Import never checks. Default "true".
  std::string referential_integrity = "true";
  // Authentication of the REST API: "on" (every request but the capability statement, the
  // OAuth2 endpoints, /healthz and /metrics needs a bearer token) or "off" (anyone who reaches
  // the port may do anything: only on a loopback address, for development and tests). Default on.
  std::string auth = "on";
  // TLS: the server's certificate chain and private key (PEM files; the key readable by its
  // owner only). Both set: HTTPS only, TLS 1.2 and 1.3, reloaded on SIGHUP. Default none.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  // Plain HTTP on an address other than loopback: "false" refuses to start without TLS there
  // (health data must not cross a network in the clear); "true" starts with a warning, for a
  // server behind a TLS-terminating proxy on a trusted network. The flag --insecure-http alone
  // means true. Default false.
  std::string insecure_http = "false";
  // Minutes an access token lives: for backend services (client_credentials) and for users
  // signed in through an app. Defaults 5 and 60.
  unsigned backend_token_minutes = 5;
  unsigned user_token_minutes = 60;
  // Minutes a user's sign-in (an online_access refresh token) may lie unused before it ends:
  // automatic logoff. Default 15.
  unsigned session_idle_minutes = 15;
  // Minutes emergency access (break the glass) lasts once granted. Default 60.
  unsigned break_glass_minutes = 60;
  // Encryption at rest (docs/design/encryption.md). encryption: "on" (a new data folder is
  // encrypted; an unencrypted one is refused) or "off" (a new folder is made in the clear; an
  // encrypted one is refused). The key-encryption key (64 hex digits) comes from the
  // environment variable CHARTKEEPER_ENCRYPTION_KEY if set, else from what encryption_key_command
  // prints (run by /bin/sh, for a KMS or an HSM), else from encryption_key_file (readable by its
  // owner only; made at first start when absent; default next to the data folder,
  // "<data>-encryption-key"). Defaults: on, none, "<data>-encryption-key".
  std::string encryption = "on";
  std::string encryption_key_command;
  std::filesystem::path encryption_key_file;
  // The audit trail (docs/design/audit.md). audit_key: the Ed25519 key file that signs its
  // checkpoints, kept outside the data folder; made at first start when absent. Default: next to
  // the data folder, "<data>-audit-key.pem". audit: "off" records nothing, allowed only with
  // auth = off on loopback (benchmarks of the trail's cost). audit_checkpoint_every: records
  // between signed checkpoints (default 1000). disclosures_exclude: purposes of use (v3
  // ActReason: TREAT, HPAYMT, HOPERAT...) a disclosures report leaves out unless asked
  // otherwise, comma-separated; default none (every access shown).
  std::filesystem::path audit_key;
  std::string audit = "on";
  std::size_t audit_checkpoint_every = 1000;
  std::string disclosures_exclude;
  // Forwarding of the audit trail to a SIEM (audit/syslog_forwarder.h): audit_syslog "host:port"
  // of an RFC 5425 collector (syslog over TLS; empty: off); audit_syslog_ca, the CAs that sign its
  // certificate (required); audit_syslog_cert and audit_syslog_key, a client certificate for
  // mutual TLS (optional).
  std::string audit_syslog;
  std::filesystem::path audit_syslog_ca;
  std::filesystem::path audit_syslog_cert;
  std::filesystem::path audit_syslog_key;
  // A TOML file of role policies (access/access_policy.h) replacing or adding to the shipped
  // roles. Default none: the shipped roles as documented.
  std::filesystem::path access_policy;
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
