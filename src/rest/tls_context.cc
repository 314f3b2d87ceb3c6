#include "rest/tls_context.h"

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

namespace ck::rest {
namespace {

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305 only.
// TLS 1.3's own suites are all AEAD and stay at OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL's reason for the last failure, cleared from its queue.
std::string OpensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> LoadTlsContext(const TlsFiles& files) {
  namespace ssl = boost::asio::ssl;
  struct stat key_stat{};
  if (::stat(files.private_key.c_str(), &key_stat) != 0) {
    return Err(Status::Invalid("TLS key " + files.private_key.string() + " cannot be read"));
  }
  if ((key_stat.st_mode & S_IROTH) != 0) {
    return Err(Status::Invalid("TLS key " + files.private_key.string() +
                               " may be read by anyone on this machine; allow only its owner (chmod 600)"));
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Err(Status::Internal("cannot configure TLS").WithDetail(OpensslError()));
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // The key first: a certificate loaded after it drops a key that does not match, which the
  // check below then names as such.
  if (SSL_CTX_use_PrivateKey_file(native, files.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Err(Status::Invalid("TLS key " + files.private_key.string() + " cannot be loaded: " + OpensslError()));
  }
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate.c_str()) != 1) {
    return Err(Status::Invalid("TLS certificate " + files.certificate.string() + " cannot be loaded: " + OpensslError()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Err(Status::Invalid("TLS key " + files.private_key.string() + " does not belong to the certificate " +
                               files.certificate.string()));
  }
  return context;
}

}  // namespace ck::rest
