#pragma once
// The server's TLS configuration: a certificate chain and private key (PEM files) made into an
// Asio SSL context that speaks TLS 1.2 and 1.3 only, with forward-secret AEAD cipher suites
// (Mozilla's "intermediate" profile less the finite-field DHE suites), no renegotiation and no
// compression. Loaded at start and again on SIGHUP (HttpServer::ReloadTls): a reload that fails
// leaves the old context serving.

#include <filesystem>
#include <memory>

#include "util/status.h"

namespace boost::asio::ssl {
class context;
}

namespace ck::rest {

struct TlsFiles {
  std::filesystem::path certificate;  // the server's certificate, then any intermediates
  std::filesystem::path private_key;  // its key; refused if anyone but the owner and group may read it
};

// Errors: kInvalid (a file missing, unreadable, not PEM, world-readable, or a key that does
// not belong to the certificate).
Result<std::shared_ptr<boost::asio::ssl::context>> LoadTlsContext(const TlsFiles& files);

}  // namespace ck::rest
