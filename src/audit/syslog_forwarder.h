#pragma once
// Forwards the audit trail to a SIEM: each record as an RFC 5424 syslog message (its AuditEvent
// JSON as the message) over TLS with octet-counting framing (RFC 5425, the IHE ATNA transport).
// The trail itself is the durable queue: the forwarder keeps the last sequence number it sent
// in the store ("audit/syslog-sent") and reads on from there, so records made while the
// collector is down (or the server is stopped) are sent when it is back, in order. Delivery is
// at least once: after a crash or a broken connection the records since the last saved
// position are sent again (the collector can drop repeats by the message id, the record's
// sequence number). It looks for new records every second. Backlog: the trail's head minus the
// saved position (`/metrics`).
// Thread safety: Start/Stop from one thread; the forwarder runs on a thread of its own.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "store/resource_store.h"
#include "util/status.h"

namespace ck::audit {

inline constexpr char kSyslogSentKey[] = "audit/syslog-sent";

struct SyslogOptions {
  std::string host;                  // the collector
  std::uint16_t port = 6514;         // RFC 5425's port
  std::filesystem::path ca_file;     // the CAs that may sign the collector's certificate (required)
  std::filesystem::path cert_file;   // this server's client certificate and key (mutual TLS, as ATNA asks); optional
  std::filesystem::path key_file;
  std::string hostname;              // HOSTNAME of the messages (default: this machine's name)
  std::size_t batch = 500;           // records read and sent between saves of the position
};

// "host:port" of audit_syslog, as SyslogOptions. Errors: kInvalid.
Result<SyslogOptions> ParseSyslogTarget(const std::string& target);

// The RFC 5424 message of one record (without the octet count): facility authpriv (10),
// severity notice for a success and warning for a failure, APP-NAME "chartkeeper", MSGID
// "audit", the record's sequence number as an SD-ID parameter, the AuditEvent as the message.
Result<std::string> SyslogMessage(const store::AuditRecord& record, const std::string& hostname);

class SyslogForwarder {
 public:
  // REQUIRES: `store` outlives the forwarder. Errors: kInvalid (no CA file, unreadable files).
  static Result<std::unique_ptr<SyslogForwarder>> Start(store::ResourceStore& store, SyslogOptions options);
  ~SyslogForwarder();  // stops: the position reached is saved

 private:
  SyslogForwarder(store::ResourceStore& store, SyslogOptions options);
  void Run();
  // Sends what follows the saved position, batch after batch; returns when caught up. Errors:
  // the connection's or the store's (the caller reconnects after a pause).
  Status SendBacklog(class SyslogConnection& connection);

  store::ResourceStore& store_;
  const SyslogOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ck::audit
