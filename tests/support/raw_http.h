#pragma once
// A raw TCP connection for HTTP tests that must send exactly the bytes they mean (framing
// tricks, slow or partial requests) and see exactly what comes back, including nothing.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ck::testing {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;

  // The value of the first header named `name` (case-insensitive), or empty.
  std::string Header(std::string_view name) const {
    std::string lower_head = head;
    std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string key = "\r\n" + std::string(name) + ":";
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    std::size_t at = lower_head.find(key);
    if (at == std::string::npos) return "";
    std::size_t start = at + key.size();
    std::size_t end = head.find("\r\n", start);
    std::string value = head.substr(start, end - start);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    return value;
  }
};

class RawConnection {
 public:
  explicit RawConnection(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`; false if the peer closed.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (a head, then a Content-Length body); nullopt if the connection closed
  // or nothing complete arrived within `timeout`.
  std::optional<RawResponse> ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t head_end;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    RawResponse response;
    response.head = pending_.substr(0, head_end + 2);
    pending_.erase(0, head_end + 4);
    if (response.head.size() < 12) return std::nullopt;
    response.status = std::stoi(response.head.substr(9, 3));
    if (response.status == 100) return response;
    std::string length = response.Header("content-length");
    std::size_t body_size = length.empty() ? 0 : std::stoul(length);
    while (pending_.size() < body_size) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = pending_.substr(0, body_size);
    pending_.erase(0, body_size);
    return response;
  }

  // Whether the peer closed the connection within `timeout` with nothing more sent.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t before = pending_.size();
    while (Fill(deadline)) {
    }
    return closed_ && pending_.size() == before;
  }

  bool closed() const { return closed_; }

 private:
  // Reads what arrives before `deadline`; false on close or timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

}  // namespace ck::testing
