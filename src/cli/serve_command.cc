#include "cli/serve_command.h"

#include <atomic>
#include <csignal>
#include <chrono>

#include <iostream>

#include "access/access_control.h"
#include "audit/syslog_forwarder.h"
#include "cli/audited_store.h"
#include "cli/first_start.h"
#include "cli/offline_records.h"
#include "cli/server_config.h"
#include "fhir/definitions.h"
#include "records/record_service.h"
#include "rest/fhir_api.h"
#include "rest/http_server.h"
#include "rest/operation_outcome.h"
#include "store/sqlite/sqlite_store.h"
#include "util/log.h"
#include "util/text.h"

namespace ck::cli {

int RunServe(const Config& config) {
  // Block the signals before any thread starts, so only sigwait below receives them: SIGINT
  // and SIGTERM stop, SIGHUP reloads the TLS certificate.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto fail = [](const Status& status) {
    CK_LOG_ERROR("cannot start: {}", status.ToString());
    FlushLogs();
    return 1;
  };
  auto listen = ParseListenAddress(config.listen);
  if (!listen) return fail(listen.error());
  const bool auth = config.auth == "on";
  if (!auth && !IsLoopback(listen->host)) {
    return fail(Status::Invalid("auth = off works only on a loopback address (127.0.0.1, ::1, localhost), not on " + listen->host));
  }
  auto tls = TlsFilesFrom(config);
  if (!tls) return fail(tls.error());
  const bool insecure_http = !*tls && !IsLoopback(listen->host);
  if (insecure_http && config.insecure_http != "true") {
    return fail(Status::Invalid("serving " + listen->host +
                                " without TLS would send health data in the clear: give tls_cert and tls_key (or, behind a "
                                "TLS-terminating proxy on a trusted network, --insecure-http)"));
  }
  access::AccessPolicy policy = access::AccessPolicy::Defaults();
  if (!config.access_policy.empty()) {
    auto loaded = access::AccessPolicy::FromFile(config.access_policy);
    if (!loaded) return fail(loaded.error());
    policy = std::move(*loaded);
  }

  auto load_started = std::chrono::steady_clock::now();
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  CK_LOG_INFO("loaded FHIR R4 definitions: {} resource types, {} search parameters in {:.1f} ms",
              definitions.ResourceTypes().size(), definitions.SearchParameters().size(),
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_started).count());

  const bool audit_on = config.audit == "on";
  if (!audit_on && (auth || !IsLoopback(listen->host))) {
    return fail(Status::Invalid("audit = off works only with auth = off on a loopback address (to measure the trail's cost)"));
  }
  SystemClock clock;
  auto opened = OpenAuditedStore(config, {.clock = &clock,
                                          .cache_bytes = std::size_t{config.cache_mb} << 20,
                                          .reader_cache_bytes = (std::size_t{config.page_cache_mb} << 20) / ReadThreads(config),
                                          .query_time_limit = std::chrono::milliseconds(config.query_time_limit_ms)});
  if (!opened) return fail(opened.error());
  std::unique_ptr<store::ResourceStore> store_owner = std::move(opened->store);
  store::ResourceStore* const store = store_owner.get();
  audit::AuditTrail trail(definitions, *store);
  auto options = RecordOptionsFrom(config);
  if (!options) return fail(options.error());
  if (audit_on) options->audit_trail = &trail;
  records::RecordService records(definitions, *store, std::move(*options));
  if (Status prepared = PrepareRecords(config, records); !prepared.ok()) return fail(prepared);
  records.search_parameters().StartBackground();  // custom search parameters' reindex jobs, online

  // The API needs the base URL, which needs the bound port: bind first, answer 503 until the
  // API exists.
  std::unique_ptr<rest::FhirApi> api;
  std::atomic<rest::FhirApi*> ready{nullptr};
  auto server = rest::HttpServer::Start(
      {.host = listen->host,
       .port = listen->port,
       .io_threads = IoThreads(config),
       .read_threads = ReadThreads(config),
       .write_threads = std::max(1u, config.write_threads),
       .max_body_bytes = config.max_body_bytes,
       .max_target_bytes = config.max_url_bytes,
       .max_header_bytes = config.max_header_bytes,
       .max_header_fields = config.max_header_fields,
       .max_connections = config.max_connections,
       .header_timeout_seconds = config.header_timeout_seconds,
       .idle_timeout_seconds = config.idle_timeout_seconds,
       .request_timeout_seconds = config.request_timeout_seconds,
       .write_timeout_seconds = config.write_timeout_seconds,
       .drain_timeout_seconds = config.drain_timeout_seconds,
       .tls = *tls},
      {.handle_inline = [&ready](const rest::HttpRequest& request) -> std::optional<rest::HttpResponse> {
         rest::FhirApi* api = ready.load();
         return api != nullptr ? api->HandleInline(request) : rest::ErrorResponse(Status::Unavailable("starting up"));
       },
       .handle = [&ready](const rest::HttpRequest& request) {
         rest::FhirApi* api = ready.load();
         return api != nullptr ? api->Handle(request) : rest::ErrorResponse(Status::Unavailable("starting up"));
       }});
  if (!server) return fail(server.error());
  const std::string bound_host = listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host;
  const std::string bound_url = std::string(*tls ? "https://" : "http://") + bound_host + ":" + std::to_string((*server)->port()) + "/fhir";
  const std::string base_url = config.base_url.empty() ? bound_url : config.base_url;
  // The server's root (issuer of its tokens, home of /auth): the base URL without /fhir.
  const std::string root_url = base_url.ends_with("/fhir") ? base_url.substr(0, base_url.size() - 5) : base_url;
  std::unique_ptr<access::AccessControl> access_control;
  if (auth) {
    if (Status made = CreateFirstAccounts(*store, clock, root_url, std::cout); !made.ok()) return fail(made);
    constexpr Millis kMinute = 60 * 1000;
    auto access_opened = access::AccessControl::Open(*store, clock, std::move(policy),
                                              {.base_url = root_url,
                                               .user_token_lifetime = std::max(1u, config.user_token_minutes) * kMinute,
                                               .backend_token_lifetime = std::max(1u, config.backend_token_minutes) * kMinute,
                                               .session_idle = std::max(1u, config.session_idle_minutes) * kMinute,
                                               .break_glass_lifetime = std::max(1u, config.break_glass_minutes) * kMinute});
    if (!access_opened) return fail(access_opened.error());
    access_control = std::move(*access_opened);
  }
  std::unique_ptr<audit::SyslogForwarder> forwarder;
  if (!config.audit_syslog.empty()) {
    auto target = audit::ParseSyslogTarget(config.audit_syslog);
    if (!target) return fail(target.error());
    target->ca_file = config.audit_syslog_ca;
    target->cert_file = config.audit_syslog_cert;
    target->key_file = config.audit_syslog_key;
    auto started = audit::SyslogForwarder::Start(*store, std::move(*target));
    if (!started) return fail(started.error());
    forwarder = std::move(*started);
  }
  std::vector<std::string> exclusions;
  for (std::string_view code : Split(config.disclosures_exclude, ',')) {
    if (!TrimSpaces(code).empty()) exclusions.emplace_back(TrimSpaces(code));
  }
  api = std::make_unique<rest::FhirApi>(records, definitions, *store,
                                        rest::FhirApiOptions{.base_url = base_url,
                                                             .max_page_size = config.max_page_size,
                                                             .max_bundle_entries = config.max_bundle_entries,
                                                             .validation = ValidationPolicyFrom(config.rest_validation),
                                                             .referential_integrity = config.referential_integrity == "true",
                                                             .access = access_control.get(),
                                                             .disclosure_exclusions = std::move(exclusions),
                                                             .audit_syslog = forwarder != nullptr});
  ready = api.get();
  // The configuration in force is recorded at each start (a change shows between two starts).
  if (audit_on) {
    audit::AuditEntry started = CommandEntry("security", "server-start", 'E');
    started.detail = "listen " + bound_url + ", base_url " + base_url + ", auth " + config.auth + ", tls " + (*tls ? "on" : "off") +
                     ", rest_validation " + config.rest_validation + ", referential_integrity " + config.referential_integrity +
                     ", access_policy " + (config.access_policy.empty() ? "shipped" : config.access_policy.string()) +
                     ", audit_syslog " + (config.audit_syslog.empty() ? "off" : config.audit_syslog);
    if (Status recorded = trail.RecordNow(std::move(started)); !recorded.ok()) return fail(recorded);
  }
  CK_LOG_INFO("listening on {} (base URL {}, data in {}, {} I/O threads, {} read threads, {} write threads, at most {} connections)",
              bound_url, base_url, config.data_dir.string(), IoThreads(config), ReadThreads(config), config.write_threads,
              (*server)->max_connections());
  if (insecure_http) {
    CK_LOG_WARN("insecure_http = true: serving {} without TLS; requests, tokens and records cross the network in the clear", bound_url);
  }
  if (!auth) {
    CK_LOG_WARN("auth = off: no authentication; anyone who reaches {} may read and change every record (development only)", base_url);
  }
  if (audit_on) {
    CK_LOG_INFO("audit trail on; its checkpoints are signed with {}{}", AuditKeyPath(config).string(),
                forwarder ? "; forwarded to " + config.audit_syslog : "");
  } else {
    CK_LOG_WARN("audit = off: nothing is recorded in the audit trail (benchmarks only)");
  }
  if (config.referential_integrity == "false") {
    CK_LOG_WARN("referential_integrity = false: writes may refer to resources that do not exist, and deletes may leave references dangling");
  }
  if (config.rest_validation == "lenient") {
    CK_LOG_WARN("rest_validation = lenient: resources that break validation rules are stored, their errors recorded");
  }
  FlushLogs();

  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    if (!*tls) {
      CK_LOG_INFO("received SIGHUP: nothing to reload (no TLS)");
    } else if (Status reloaded = (*server)->ReloadTls(); reloaded.ok()) {
      CK_LOG_INFO("received SIGHUP: reloaded the TLS certificate {} for new connections", (*tls)->certificate.string());
    } else {
      CK_LOG_ERROR("received SIGHUP: {}; still serving the previous certificate", reloaded.ToString());
    }
    FlushLogs();
  }
  CK_LOG_INFO("received signal {}, shutting down: answering the requests in flight", signal);
  api->Shutdown();
  (*server)->Stop();
  (*server)->Wait();
  if (audit_on) {
    if (Status recorded = trail.RecordNow(CommandEntry("security", "server-stop", 'E')); !recorded.ok()) {
      CK_LOG_ERROR("the audit trail could not record the shutdown: {}", recorded.ToString());
    }
  }
  CK_LOG_INFO("stopped");
  FlushLogs();
  return 0;
}

}  // namespace ck::cli
