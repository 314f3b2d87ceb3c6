#pragma once
// A small synchronous HTTP/1.1 client for black-box tests (Boost.Beast), keeping its connection
// alive between requests and reconnecting when the server closed it.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <optional>
#include <string>

namespace ck::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(unsigned short port) : port_(port) {}

  HttpResult Request(const std::string& method, const std::string& target, const std::string& body = "",
                     std::map<std::string, std::string> headers = {}) {
    namespace http = boost::beast::http;
    if (!stream_) Connect();
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!body.empty() && !headers.contains("Content-Type")) request.set(http::field::content_type, "application/fhir+json");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    boost::beast::error_code ec;
    http::write(*stream_, request, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    if (method == "HEAD") parser.skip(true);
    if (!ec) http::read(*stream_, buffer_, parser, ec);
    if (ec) {  // the server closed a kept-alive connection: retry once on a new one
      Connect();
      http::write(*stream_, request);
      http::response_parser<http::string_body> retry;
      retry.body_limit(1u << 30);
      http::read(*stream_, buffer_, retry);
      return ToResult(retry.release());
    }
    auto response = parser.release();
    HttpResult result = ToResult(std::move(response));
    if (result.Header("connection") == "close") stream_.reset();
    return result;
  }

  HttpResult Get(const std::string& target, std::map<std::string, std::string> headers = {}) {
    return Request("GET", target, "", std::move(headers));
  }
  HttpResult Post(const std::string& target, const std::string& body, std::map<std::string, std::string> headers = {}) {
    return Request("POST", target, body, std::move(headers));
  }
  HttpResult Put(const std::string& target, const std::string& body, std::map<std::string, std::string> headers = {}) {
    return Request("PUT", target, body, std::move(headers));
  }
  HttpResult Delete(const std::string& target, std::map<std::string, std::string> headers = {}) {
    return Request("DELETE", target, "", std::move(headers));
  }

 private:
  static HttpResult ToResult(boost::beast::http::response<boost::beast::http::string_body>&& response) {
    HttpResult result;
    result.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(field.value());
    }
    result.body = std::move(response.body());
    return result;
  }

  void Connect() {
    stream_.emplace(io_);
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port_);
    stream_->connect(endpoint);
    buffer_.clear();
  }

  unsigned short port_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace ck::testing
