#include "tee/tls_relay.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr size_t kRecvChunk = 64u << 10;
constexpr size_t kMaxChunkLine = 4096;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Parses digits already checked to be valid and short enough not to overflow.
uint64_t ParseNumber(std::string_view digits, int base) {
  uint64_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  return n;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

std::string OpenSslReason() {
  unsigned long err = ERR_peek_last_error();
  if (err == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(err);
  return reason ? reason : "error " + std::to_string(ERR_GET_REASON(err));
}

// ---- URL ------------------------------------------------------------------------------------

struct Url {
  std::string host;  // without brackets
  uint16_t port = 443;
  std::string target;  // path and query, "/" at least
  bool ip_literal = false;
  bool ipv6 = false;
};

// Messages never repeat the URL: its path or query may carry a key.
StatusOr<Url> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() || Lower(url.substr(0, kScheme.size())) != kScheme) {
    return InvalidArgumentError("only https:// URLs can be fetched");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  target = target.substr(0, target.find('#'));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("URLs with credentials in the authority are not supported");
  }
  Url out;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("URL has an unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return InvalidArgumentError("URL has a malformed authority");
    if (!after.empty()) port = after.substr(1);
    in6_addr a6;
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1)
      return InvalidArgumentError("URL has a malformed IPv6 address");
    out.ip_literal = out.ipv6 = true;
  } else {
    size_t colon = authority.rfind(':');
    out.host = Lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (out.host.empty()) return InvalidArgumentError("URL has no host");
    for (char c : out.host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        return InvalidArgumentError("URL host has invalid characters");
      }
    }
    in_addr a4;
    out.ip_literal = inet_pton(AF_INET, out.host.c_str(), &a4) == 1;
  }
  if (!port.empty() || authority.ends_with(":")) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
      return InvalidArgumentError("URL has an invalid port");
    }
    uint64_t p = ParseNumber(port, 10);
    if (p < 1 || p > 65535) return InvalidArgumentError("URL has an invalid port");
    out.port = static_cast<uint16_t>(p);
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return InvalidArgumentError("URL path has invalid characters");
  }
  out.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return out;
}

// ---- HTTP/1.1 response ----------------------------------------------------------------------

// Reads one response incrementally: status line and headers, then a body framed by
// Content-Length, chunked transfer coding, or the end of the connection.
class ResponseReader {
 public:
  ResponseReader(std::string host, bool head_request, size_t max_body, size_t max_header)
      : host_(std::move(host)), head_request_(head_request), max_body_(max_body), max_header_(max_header) {}

  bool done() const { return state_ == State::kDone; }
  HttpsResponse Take() { return std::move(response_); }

  Status Add(std::string_view data) {
    in_.append(data);
    return Process();
  }

  Status OnEof() {
    if (state_ == State::kUntilClose) state_ = State::kDone;
    if (state_ != State::kDone)
      return UnavailableError("connection to " + host_ + " closed before the response was complete");
    return Status();
  }

 private:
  enum class State { kHeaders, kFixed, kChunkSize, kChunkData, kChunkEnd, kTrailers, kUntilClose, kDone };

  Status Malformed(std::string_view what) const {
    return UnavailableError("malformed HTTP response from " + host_ + ": " + std::string(what));
  }
  Status TooLarge(size_t n) const {
    return ResourceExhaustedError("response body from " + host_ + " exceeds the limit of " + std::to_string(max_body_) +
                                  " bytes" + (n ? " (declared " + std::to_string(n) + ")" : ""));
  }
  Status AppendBody(std::string_view bytes) {
    if (response_.body.size() + bytes.size() > max_body_) return TooLarge(0);
    response_.body.insert(response_.body.end(), bytes.begin(), bytes.end());
    return Status();
  }

  Status Process() {
    for (;;) {
      switch (state_) {
        case State::kHeaders: {
          size_t end = in_.find("\r\n\r\n");
          if (end == std::string::npos) {
            if (header_bytes_ + in_.size() > max_header_) return HeadersTooLarge();
            return Status();
          }
          header_bytes_ += end + 4;
          if (header_bytes_ > max_header_) return HeadersTooLarge();
          RETURN_IF_ERROR(ParseHead(std::string_view(in_).substr(0, end + 2)));
          in_.erase(0, end + 4);
          break;
        }
        case State::kFixed: {
          size_t n = std::min<size_t>(remaining_, in_.size());
          RETURN_IF_ERROR(AppendBody(std::string_view(in_).substr(0, n)));
          in_.erase(0, n);
          remaining_ -= n;
          if (remaining_ > 0) return Status();
          state_ = State::kDone;
          break;
        }
        case State::kChunkSize: {
          size_t eol = in_.find("\r\n");
          if (eol == std::string::npos)
            return in_.size() > kMaxChunkLine ? Malformed("chunk size line too long") : Status();
          std::string_view digits = Trim(std::string_view(in_).substr(0, std::min(eol, in_.find(';'))));
          if (digits.empty() || digits.size() > 15 || !std::all_of(digits.begin(), digits.end(), IsHexDigit)) {
            return Malformed("bad chunk size");
          }
          remaining_ = ParseNumber(digits, 16);
          in_.erase(0, eol + 2);
          if (remaining_ == 0) {
            state_ = State::kTrailers;
          } else {
            if (response_.body.size() + remaining_ > max_body_) return TooLarge(0);
            state_ = State::kChunkData;
          }
          break;
        }
        case State::kChunkData: {
          size_t n = std::min<size_t>(remaining_, in_.size());
          RETURN_IF_ERROR(AppendBody(std::string_view(in_).substr(0, n)));
          in_.erase(0, n);
          remaining_ -= n;
          if (remaining_ > 0) return Status();
          state_ = State::kChunkEnd;
          break;
        }
        case State::kChunkEnd:
          if (in_.size() < 2) return Status();
          if (in_.compare(0, 2, "\r\n") != 0) return Malformed("chunk not followed by CRLF");
          in_.erase(0, 2);
          state_ = State::kChunkSize;
          break;
        case State::kTrailers: {
          size_t eol = in_.find("\r\n");
          if (eol == std::string::npos) {
            return header_bytes_ + in_.size() > max_header_ ? HeadersTooLarge() : Status();
          }
          header_bytes_ += eol + 2;
          if (header_bytes_ > max_header_) return HeadersTooLarge();
          in_.erase(0, eol + 2);
          if (eol == 0) state_ = State::kDone;  // trailer fields are read and dropped
          break;
        }
        case State::kUntilClose:
          RETURN_IF_ERROR(AppendBody(in_));
          in_.clear();
          return Status();
        case State::kDone:
          in_.clear();  // anything after the response is ignored: we sent Connection: close
          return Status();
      }
    }
  }

  Status HeadersTooLarge() const {
    return ResourceExhaustedError("response headers from " + host_ + " exceed the limit of " +
                                  std::to_string(max_header_) + " bytes");
  }

  // `head` is the status line and header lines, each ending in CRLF.
  Status ParseHead(std::string_view head) {
    size_t eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ' ||
        !std::all_of(status_line.begin() + 9, status_line.begin() + 12, IsDigit) ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
      return Malformed("bad status line");
    }
    int status = static_cast<int>(ParseNumber(status_line.substr(9, 3), 10));
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view rest = head.substr(eol + 2);
    while (!rest.empty()) {
      size_t line_end = rest.find("\r\n");
      std::string_view line = rest.substr(0, line_end);
      rest.remove_prefix(line_end + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return Malformed("bad header line");
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
    }
    if (status >= 100 && status < 200) {
      if (status == 101) return Malformed("unexpected protocol switch");
      return Status();  // interim response (e.g. 103 Early Hints): the final one follows
    }
    response_.status = status;
    response_.headers = std::move(headers);

    std::optional<uint64_t> length;
    bool chunked = false, transfer_coded = false;
    for (const auto& [name, value] : response_.headers) {
      std::string lname = Lower(name);
      if (lname == "transfer-encoding") {
        transfer_coded = true;
        std::string v = Lower(value);
        size_t comma = v.rfind(',');
        chunked =
            Trim(comma == std::string::npos ? std::string_view(v) : std::string_view(v).substr(comma + 1)) == "chunked";
      } else if (lname == "content-length") {
        if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), IsDigit)) {
          return Malformed("bad Content-Length");
        }
        uint64_t n = ParseNumber(value, 10);
        if (length && *length != n) return Malformed("conflicting Content-Length");
        length = n;
      }
    }
    if (head_request_ || status == 204 || status == 304) {
      state_ = State::kDone;
    } else if (transfer_coded) {
      state_ = chunked ? State::kChunkSize : State::kUntilClose;
    } else if (length) {
      if (*length > max_body_) return TooLarge(*length);
      remaining_ = *length;
      state_ = remaining_ == 0 ? State::kDone : State::kFixed;
    } else {
      state_ = State::kUntilClose;
    }
    return Status();
  }

  const std::string host_;
  const bool head_request_;
  const size_t max_body_, max_header_;
  State state_ = State::kHeaders;
  std::string in_;
  size_t header_bytes_ = 0;
  uint64_t remaining_ = 0;
  HttpsResponse response_;
};

// ---- Request --------------------------------------------------------------------------------

// The request in clear; wiped when done, since headers and body may carry secrets.
class WipedString {
 public:
  ~WipedString() { OPENSSL_cleanse(s_.data(), s_.size()); }
  std::string& get() { return s_; }

 private:
  std::string s_;
};

Status BuildRequest(const HttpsRequest& req, const Url& url, std::string& out) {
  if (!IsToken(req.method)) return InvalidArgumentError("invalid HTTP method");
  static constexpr std::string_view kReserved[] = {"host", "content-length", "transfer-encoding", "connection"};
  bool has_user_agent = false;
  for (size_t i = 0; i < req.headers.size(); ++i) {
    const auto& [name, value] = req.headers[i];
    if (!IsToken(name))
      return InvalidArgumentError("request header #" + std::to_string(i + 1) + " has an invalid name");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgumentError("request header #" + std::to_string(i + 1) + " has an invalid value");
    }
    std::string lname = Lower(name);
    for (std::string_view r : kReserved) {
      if (lname == r) return InvalidArgumentError("request header " + lname + " is set by the client");
    }
    has_user_agent |= lname == "user-agent";
  }
  std::string host = url.ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != 443) host += ":" + std::to_string(url.port);
  out.reserve(256 + req.body.size());
  out.append(req.method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
  for (const auto& [name, value] : req.headers) out.append(name).append(": ").append(value).append("\r\n");
  if (!has_user_agent) out.append("User-Agent: neosl-enclave\r\n");
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  }
  out.append("Connection: close\r\n\r\n");
  out.append(req.body.begin(), req.body.end());
  return Status();
}

// ---- CA store -------------------------------------------------------------------------------

StatusOr<int> AddPemCerts(X509_STORE* store, std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return InternalError("out of memory reading CA certificates");
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr);
  if (infos == nullptr) return 0;
  int added = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 != nullptr && X509_STORE_add_cert(store, info->x509) == 1) ++added;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  ERR_clear_error();
  return added;
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read CA file " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// ---- Client ---------------------------------------------------------------------------------

struct EnclaveTlsClient::Impl {
  Impl(TlsClientOptions o, ByteRelay& r) : options(std::move(o)), relay(r) {}
  ~Impl() { SSL_CTX_free(ctx); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  TlsClientOptions options;
  ByteRelay& relay;
  SSL_CTX* ctx = nullptr;  // immutable after Create, so shared by concurrent Fetches
};

namespace {

// One TLS connection over the relay: ciphertext in through rbio, out through wbio.
class TlsSession {
 public:
  TlsSession(ByteRelay& relay, uint64_t conn, SSL* ssl, const Url& url, steady_clock::time_point deadline,
             milliseconds timeout)
      : relay_(relay), conn_(conn), ssl_(ssl), url_(url), deadline_(deadline), timeout_(timeout) {}
  ~TlsSession() {
    SSL_free(ssl_);
    relay_.Close(conn_);
  }
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  Status Handshake() {
    for (;;) {
      ERR_clear_error();
      int rc = SSL_connect(ssl_);
      if (rc == 1) return Flush();
      RETURN_IF_ERROR(Step(rc, "TLS handshake"));
    }
  }

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ERR_clear_error();
      size_t written = 0;
      int rc = SSL_write_ex(ssl_, data.data(), data.size(), &written);
      if (rc == 1) {
        data.remove_prefix(written);
        continue;
      }
      RETURN_IF_ERROR(Step(rc, "sending the request"));
    }
    return Flush();
  }

  // Feeds `reader` until the response is complete.
  Status ReadResponse(ResponseReader& reader) {
    char buf[16384];
    while (!reader.done()) {
      ERR_clear_error();
      size_t n = 0;
      int rc = SSL_read_ex(ssl_, buf, sizeof(buf), &n);
      if (rc == 1) {
        Status s = reader.Add(std::string_view(buf, n));
        OPENSSL_cleanse(buf, n);
        RETURN_IF_ERROR(s);
        continue;
      }
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_ZERO_RETURN) return reader.OnEof();
      RETURN_IF_ERROR(Step(rc, "reading the response"));
    }
    return Status();
  }

  // Sends close_notify after a complete exchange (best effort: the connection closes anyway).
  void Finish() {
    ERR_clear_error();
    if (SSL_shutdown(ssl_) >= 0) (void)Flush();
  }

 private:
  // Handles a non-success return of an SSL call: moves bytes when OpenSSL wants them.
  Status Step(int rc, std::string_view what) {
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) {
      RETURN_IF_ERROR(Flush());
      return Fill();
    }
    if (err == SSL_ERROR_WANT_WRITE) return Flush();
    (void)Flush();  // let an alert reach the server
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        return UnauthenticatedError("certificate verification failed: certificate does not match host " + url_.host);
      }
      return UnauthenticatedError("certificate verification failed: " +
                                  std::string(X509_verify_cert_error_string(verify)) + " (host " + url_.host + ")");
    }
    if (eof_) return UnavailableError("connection to " + url_.host + " closed during " + std::string(what));
    return UnavailableError(std::string(what) + " with " + url_.host + " failed: " + OpenSslReason());
  }

  Status Flush() {
    BIO* wbio = SSL_get_wbio(ssl_);
    while (BIO_ctrl_pending(wbio) > 0) {
      std::vector<uint8_t> out(BIO_ctrl_pending(wbio));
      int n = BIO_read(wbio, out.data(), static_cast<int>(out.size()));
      if (n <= 0) break;
      out.resize(static_cast<size_t>(n));
      Status s = relay_.Send(conn_, out);
      if (!s.ok()) return RelayError(s);
    }
    return Status();
  }

  Status Fill() {
    if (eof_) return UnavailableError("connection to " + url_.host + " closed");
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - steady_clock::now());
    if (left.count() <= 0) return TimedOut();
    auto data = relay_.Recv(conn_, kRecvChunk, left);
    if (!data.ok()) return RelayError(data.status());
    BIO* rbio = SSL_get_rbio(ssl_);
    if (data->empty()) {
      // Peer closed: from now on the read BIO reports EOF instead of "try again". A close without
      // close_notify is accepted (SSL_OP_IGNORE_UNEXPECTED_EOF); framing decides if it was early.
      eof_ = true;
      BIO_set_mem_eof_return(rbio, 0);
      return Status();
    }
    if (BIO_write(rbio, data->data(), static_cast<int>(data->size())) != static_cast<int>(data->size())) {
      return InternalError("buffering TLS data from " + url_.host + " failed");
    }
    return Status();
  }

  Status TimedOut() const {
    return DeadlineExceededError("request to " + url_.host + " timed out after " + std::to_string(timeout_.count()) +
                                 " ms");
  }

  Status RelayError(const Status& s) const {
    switch (s.code()) {
      case StatusCode::kDeadlineExceeded: return TimedOut();
      case StatusCode::kPermissionDenied:
      case StatusCode::kResourceExhausted:
      case StatusCode::kInvalidArgument: return s;
      default: return UnavailableError("relay to " + url_.host + " failed: " + std::string(s.message()));
    }
  }

  ByteRelay& relay_;
  const uint64_t conn_;
  SSL* ssl_;
  const Url& url_;
  const steady_clock::time_point deadline_;
  const milliseconds timeout_;
  bool eof_ = false;
};

}  // namespace

EnclaveTlsClient::EnclaveTlsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnclaveTlsClient::~EnclaveTlsClient() = default;

StatusOr<std::unique_ptr<EnclaveTlsClient>> EnclaveTlsClient::Create(TlsClientOptions options, ByteRelay& relay) {
  auto impl = std::make_unique<Impl>(std::move(options), relay);
  impl->ctx = SSL_CTX_new(TLS_client_method());
  if (impl->ctx == nullptr) return InternalError("creating the TLS context failed: " + OpenSslReason());
  SSL_CTX* ctx = impl->ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn));

  // Trust anchors are loaded into memory now: once sandboxed, the enclave cannot open files, so
  // nothing may be looked up lazily from a directory (as SSL_CTX_set_default_verify_paths would).
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  const TlsClientOptions& o = impl->options;
  if (!o.ca_file.empty()) {
    ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(o.ca_file));
    ASSIGN_OR_RETURN(int n, AddPemCerts(store, pem));
    if (n == 0) return InvalidArgumentError("CA file " + o.ca_file + " holds no certificate");
  }
  if (!o.ca_pem.empty()) {
    ASSIGN_OR_RETURN(int n, AddPemCerts(store, o.ca_pem));
    if (n == 0) return InvalidArgumentError("ca_pem holds no certificate");
  }
  if (o.ca_file.empty() && o.ca_pem.empty()) {
    // Read once, while the host process is still single-threaded at enclave start-up.
    const char* env = std::getenv(X509_get_default_cert_file_env());  // NOLINT(concurrency-mt-unsafe)
    std::string path = env != nullptr && *env != '\0' ? env : X509_get_default_cert_file();
    ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path));
    ASSIGN_OR_RETURN(int n, AddPemCerts(store, pem));
    if (n == 0) return InvalidArgumentError("system CA bundle " + path + " holds no certificate");
  }
  return std::unique_ptr<EnclaveTlsClient>(new EnclaveTlsClient(std::move(impl)));
}

StatusOr<HttpsResponse> EnclaveTlsClient::Fetch(const HttpsRequest& request) {
  const auto deadline = steady_clock::now() + request.timeout;
  ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  WipedString wire;
  RETURN_IF_ERROR(BuildRequest(request, url, wire.get()));

  SSL* ssl = SSL_new(impl_->ctx);
  if (ssl == nullptr) return InternalError("creating a TLS session failed");
  BIO* rbio = BIO_new(BIO_s_mem());  // empty reads say "retry" until EOF is set
  BIO* wbio = BIO_new(BIO_s_mem());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(ssl);
    return InternalError("creating TLS buffers failed");
  }
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_connect_state(ssl);
  bool params_ok = true;
  if (url.ip_literal) {
    params_ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) == 1;
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    params_ok = SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1 && SSL_set1_host(ssl, url.host.c_str()) == 1;
  }
  if (!params_ok) {
    SSL_free(ssl);
    return InvalidArgumentError("cannot verify TLS for host " + url.host);
  }

  auto connect_left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
  auto conn = impl_->relay.Connect(url.host, url.port, std::max(connect_left, milliseconds(1)));
  if (!conn.ok()) {
    SSL_free(ssl);
    switch (conn.status().code()) {
      case StatusCode::kDeadlineExceeded:
        return DeadlineExceededError("request to " + url.host + " timed out after " +
                                     std::to_string(request.timeout.count()) + " ms");
      case StatusCode::kPermissionDenied:
      case StatusCode::kResourceExhausted:
      case StatusCode::kInvalidArgument: return conn.status();
      default: return UnavailableError(std::string(conn.status().message()));
    }
  }

  TlsSession session(impl_->relay, *conn, ssl, url, deadline, request.timeout);
  RETURN_IF_ERROR(session.Handshake());
  RETURN_IF_ERROR(session.WriteAll(wire.get()));
  ResponseReader reader(url.host, request.method == "HEAD", impl_->options.max_response_bytes,
                        impl_->options.max_header_bytes);
  RETURN_IF_ERROR(session.ReadResponse(reader));
  session.Finish();
  return reader.Take();
}

}  // namespace neosl::tee
