#include "cli/server_config.h"

#include <charconv>
#include <thread>

namespace ck::cli {

Result<ListenAddress> ParseListenAddress(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Err(Status::Invalid("listen address '" + listen + "' must be host:port"));
  }
  ListenAddress out;
  out.host = listen.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') out.host = out.host.substr(1, out.host.size() - 2);
  std::string_view port = std::string_view(listen).substr(colon + 1);
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) {
    return Err(Status::Invalid("listen address '" + listen + "' has a bad port"));
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

Result<std::optional<rest::TlsFiles>> TlsFilesFrom(const Config& config) {
  if (config.tls_cert.empty() && config.tls_key.empty()) return std::optional<rest::TlsFiles>();
  if (config.tls_cert.empty() || config.tls_key.empty()) {
    return Err(Status::Invalid("TLS needs both tls_cert (the certificate chain) and tls_key (its private key)"));
  }
  return std::optional<rest::TlsFiles>(rest::TlsFiles{.certificate = config.tls_cert, .private_key = config.tls_key});
}

unsigned IoThreads(const Config& config) {
  if (config.threads > 0) return config.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

unsigned ReadThreads(const Config& config) {
  if (config.read_threads > 0) return config.read_threads;
  return std::max(2u, std::thread::hardware_concurrency());
}

bool IsLoopback(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8 written as a dotted quad.
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace ck::cli
