#include "tee/http1.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <arpa/inet.h>

namespace neosl::tee::http1 {
namespace {

constexpr size_t kMaxChunkLine = 4096;

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

bool IsControl(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
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

// ---- URL ------------------------------------------------------------------------------------

// Characters a request target may not carry raw (RFC 3986), percent-encoded as browsers do.
// Existing escapes are left alone.
std::string EncodeTarget(std::string_view target) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(target.size());
  for (char c : target) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 0x80 || std::string_view(" \"<>\\^`{|}").find(c) != std::string_view::npos) {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status ValidateHostName(std::string_view host) {
  if (host.empty()) return InvalidArgumentError("URL has no host");
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return InvalidArgumentError("URL host has invalid characters (international names must be given in punycode)");
    }
  }
  std::string_view name = host;
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);  // a fully qualified name
  if (name.size() > 253) return InvalidArgumentError("URL host name is too long");
  std::string_view last;
  for (size_t start = 0;;) {
    size_t dot = name.find('.', start);
    last = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (last.empty() || last.size() > 63) return InvalidArgumentError("URL host has an empty or over-long label");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // A name ending in a number is an IPv4 address (as WHATWG URLs read it); only the dotted-quad
  // form is taken, so "2130706433" or "0x7f.1" cannot stand for 127.0.0.1.
  bool numeric = std::all_of(last.begin(), last.end(), IsDigit) ||
                 (last.size() > 1 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X'));
  if (numeric) {
    in_addr a4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) {
      return InvalidArgumentError("URL host is not a valid IPv4 address");
    }
  }
  return Status();
}

// Parses the authority and target of an absolute URL whose scheme is already known.
StatusOr<Url> ParseAfterScheme(bool https, std::string_view rest) {
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  target = target.substr(0, target.find('#'));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("URLs with credentials in the authority are not supported");
  }
  Url out;
  out.https = https;
  out.port = out.DefaultPort();
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("URL has an unterminated IPv6 address");
    out.host = Lower(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return InvalidArgumentError("URL has a malformed authority");
    if (!after.empty()) {
      has_port = true;
      port = after.substr(1);
    }
    in6_addr a6;
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) {
      return InvalidArgumentError("URL has a malformed IPv6 address");
    }
    out.ip_literal = out.ipv6 = true;
  } else {
    size_t colon = authority.rfind(':');
    out.host = Lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    RETURN_IF_ERROR(ValidateHostName(out.host));
    in_addr a4;
    out.ip_literal = inet_pton(AF_INET, out.host.c_str(), &a4) == 1;
  }
  if (has_port) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
      return InvalidArgumentError("URL has an invalid port");
    }
    uint64_t p = ParseNumber(port, 10);
    if (p < 1 || p > 65535) return InvalidArgumentError("URL has an invalid port");
    out.port = static_cast<uint16_t>(p);
  }
  out.target = EncodeTarget(target);
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

// RFC 3986 section 5.2.4.
std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  auto pop = [&out] {
    size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./") || in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      pop();
    } else if (in == "/..") {
      in = "/";
      pop();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      out.append(in.substr(0, next));
      in.remove_prefix(next == std::string_view::npos ? in.size() : next);
    }
  }
  return out;
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

bool IsRedirectStatus(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string Url::Authority() const {
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != DefaultPort()) out += ":" + std::to_string(port);
  return out;
}

std::string Url::Origin() const {
  return (https ? "https://" : "http://") + Authority();
}

std::string Url::Spec() const {
  return Origin() + target;
}

StatusOr<Url> ParseUrl(std::string_view url) {
  if (std::any_of(url.begin(), url.end(), IsControl)) return InvalidArgumentError("URL has control characters");
  size_t sep = url.find("://");
  std::string scheme = sep == std::string_view::npos ? std::string() : Lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https")
    return InvalidArgumentError("only http:// and https:// URLs can be fetched");
  return ParseAfterScheme(scheme == "https", url.substr(sep + 3));
}

StatusOr<Url> ResolveReference(const Url& base, std::string_view reference) {
  reference = reference.substr(0, reference.find('#'));
  if (std::any_of(reference.begin(), reference.end(), IsControl)) {
    return InvalidArgumentError("URL has control characters");
  }
  size_t colon = reference.find(':');
  if (colon != std::string_view::npos && colon < reference.find_first_of("/?") && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(reference[0])) &&
      std::all_of(reference.begin(), reference.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      })) {
    return ParseUrl(reference);  // absolute
  }
  if (reference.starts_with("//")) return ParseAfterScheme(base.https, reference.substr(2));

  std::string_view base_target = base.target;
  size_t base_q = base_target.find('?');
  std::string_view base_path = base_target.substr(0, base_q);
  size_t q = reference.find('?');
  std::string_view path = reference.substr(0, q);
  std::string target;
  if (path.empty()) {
    target = std::string(base_path);
    target += q != std::string_view::npos
                  ? reference.substr(q)
                  : (base_q == std::string_view::npos ? std::string_view() : base_target.substr(base_q));
  } else {
    if (path.front() == '/') {
      target = RemoveDotSegments(path);
    } else {
      std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
      merged += path;
      target = RemoveDotSegments(merged);
    }
    if (q != std::string_view::npos) target += reference.substr(q);
  }
  Url out = base;
  out.target = EncodeTarget(target);
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

// ---- Request --------------------------------------------------------------------------------

Status ValidateHeaders(const Headers& headers) {
  static constexpr std::string_view kReserved[] = {"host", "content-length", "transfer-encoding", "connection"};
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    if (!IsToken(name)) {
      return InvalidArgumentError("request header #" + std::to_string(i + 1) + " has an invalid name");
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgumentError("request header #" + std::to_string(i + 1) + " has an invalid value");
    }
    std::string lname = Lower(name);
    for (std::string_view r : kReserved) {
      if (lname == r) return InvalidArgumentError("request header " + lname + " is set by the client");
    }
  }
  return Status();
}

Status WriteRequest(std::string_view method, const Url& url, const Headers& headers, std::span<const uint8_t> body,
                    std::string_view user_agent, std::string& out) {
  if (!IsToken(method)) return InvalidArgumentError("invalid HTTP method");
  bool has_user_agent =
      std::any_of(headers.begin(), headers.end(), [](const auto& h) { return Lower(h.first) == "user-agent"; });
  out.reserve(out.size() + 256 + body.size());
  out.append(method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ").append(url.Authority());
  out.append("\r\n");
  for (const auto& [name, value] : headers) out.append(name).append(": ").append(value).append("\r\n");
  if (!has_user_agent && !user_agent.empty()) out.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("Connection: close\r\n\r\n");
  out.append(body.begin(), body.end());
  return Status();
}

// ---- Response -------------------------------------------------------------------------------

ResponseReader::ResponseReader(std::string host, ReaderOptions options) : host_(std::move(host)), options_(options) {}

Status ResponseReader::Add(std::string_view data) {
  in_.append(data);
  return Process();
}

Status ResponseReader::OnEof() {
  if (state_ == State::kUntilClose) state_ = State::kDone;
  if (state_ != State::kDone) {
    return UnavailableError("connection to " + host_ + " closed before the response was complete");
  }
  return Status();
}

Status ResponseReader::Malformed(std::string_view what) const {
  return UnavailableError("malformed HTTP response from " + host_ + ": " + std::string(what));
}

Status ResponseReader::BodyTooLarge() const {
  return ResourceExhaustedError("response body over " + std::to_string(options_.max_body_bytes) + " bytes from " +
                                host_);
}

Status ResponseReader::HeadersTooLarge() const {
  return ResourceExhaustedError("response headers over " + std::to_string(options_.max_header_bytes) + " bytes from " +
                                host_);
}

Status ResponseReader::AppendBody(std::string_view bytes) {
  if (response_.body.size() + bytes.size() > options_.max_body_bytes) return BodyTooLarge();
  response_.body.insert(response_.body.end(), bytes.begin(), bytes.end());
  return Status();
}

Status ResponseReader::Process() {
  for (;;) {
    switch (state_) {
      case State::kHeaders: {
        size_t end = in_.find("\r\n\r\n");
        if (end == std::string::npos) {
          return header_bytes_ + in_.size() > options_.max_header_bytes ? HeadersTooLarge() : Status();
        }
        header_bytes_ += end + 4;
        if (header_bytes_ > options_.max_header_bytes) return HeadersTooLarge();
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
        if (eol == std::string::npos) {
          return in_.size() > kMaxChunkLine ? Malformed("chunk size line too long") : Status();
        }
        std::string_view digits = Trim(std::string_view(in_).substr(0, std::min(eol, in_.find(';'))));
        if (digits.empty() || digits.size() > 15 || !std::all_of(digits.begin(), digits.end(), IsHexDigit)) {
          return Malformed("bad chunk size");
        }
        remaining_ = ParseNumber(digits, 16);
        in_.erase(0, eol + 2);
        if (remaining_ == 0) {
          state_ = State::kTrailers;
        } else {
          if (response_.body.size() + remaining_ > options_.max_body_bytes) return BodyTooLarge();
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
          return header_bytes_ + in_.size() > options_.max_header_bytes ? HeadersTooLarge() : Status();
        }
        header_bytes_ += eol + 2;
        if (header_bytes_ > options_.max_header_bytes) return HeadersTooLarge();
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

// `head` is the status line and header lines, each ending in CRLF.
Status ResponseReader::ParseHead(std::string_view head) {
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ' ||
      !std::all_of(status_line.begin() + 9, status_line.begin() + 12, IsDigit) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return Malformed("bad status line");
  }
  std::string_view reason = status_line.size() > 12 ? status_line.substr(13) : std::string_view();
  if (std::any_of(reason.begin(), reason.end(), [](char c) { return IsControl(c) && c != '\t'; })) {
    return Malformed("bad status line");
  }
  int status = static_cast<int>(ParseNumber(status_line.substr(9, 3), 10));
  Headers headers;
  std::string_view rest = head.substr(eol + 2);
  while (!rest.empty()) {
    size_t line_end = rest.find("\r\n");
    std::string_view line = rest.substr(0, line_end);
    rest.remove_prefix(line_end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return Malformed("bad header line");
    std::string_view value = Trim(line.substr(colon + 1));
    if (value.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
      return Malformed("bad header value");
    }
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  if (status >= 100 && status < 200) {
    if (status == 101) return Malformed("unexpected protocol switch");
    return Status();  // interim response (e.g. 103 Early Hints): the final one follows
  }
  response_.status = status;
  response_.reason = std::string(reason);
  response_.headers = std::move(headers);
  return StartBody();
}

Status ResponseReader::StartBody() {
  std::optional<uint64_t> length;
  bool chunked = false, transfer_coded = false, location = false;
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
    } else if (lname == "location") {
      location = true;
    }
  }
  const int status = response_.status;
  if (options_.head_request || status == 204 || status == 304 ||
      (options_.skip_redirect_body && location && IsRedirectStatus(status))) {
    state_ = State::kDone;
  } else if (transfer_coded) {
    state_ = chunked ? State::kChunkSize : State::kUntilClose;
  } else if (length) {
    if (*length > options_.max_body_bytes) return BodyTooLarge();
    remaining_ = *length;
    state_ = remaining_ == 0 ? State::kDone : State::kFixed;
  } else {
    state_ = State::kUntilClose;
  }
  return Status();
}

}  // namespace neosl::tee::http1
