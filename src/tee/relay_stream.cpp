#include "tee/relay_stream.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;

constexpr size_t kRecvChunk = 64u << 10;

std::string OpenSslReason() {
  unsigned long err = ERR_peek_last_error();
  if (err == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(err);
  return reason ? reason : "error " + std::to_string(ERR_GET_REASON(err));
}

// Relay errors as the caller sees them: the relay's own refusals pass through, a relay timeout
// is the request's, anything else is the destination being unavailable.
Status RelayFailure(const Status& s, const std::string& host, const RelayDeadline& deadline, bool connecting) {
  switch (s.code()) {
    case StatusCode::kDeadlineExceeded: return deadline.Exceeded(host);
    case StatusCode::kPermissionDenied:
    case StatusCode::kResourceExhausted:
    case StatusCode::kInvalidArgument: return s;
    default:
      return UnavailableError(connecting ? std::string(s.message())
                                         : "relay to " + host + " failed: " + std::string(s.message()));
  }
}

StatusOr<uint64_t> RelayConnect(ByteRelay& relay, const http1::Url& url, const RelayDeadline& deadline) {
  milliseconds left = deadline.Left();
  if (left.count() <= 0) return deadline.Exceeded(url.host);
  auto conn = relay.Connect(url.host, url.port, left);
  if (!conn.ok()) return RelayFailure(conn.status(), url.host, deadline, /*connecting=*/true);
  return *conn;
}

// ---- Plain ----------------------------------------------------------------------------------

class PlainStream final : public RelayStream {
 public:
  PlainStream(ByteRelay& relay, uint64_t conn, std::string host, const RelayDeadline& deadline)
      : relay_(relay), conn_(conn), host_(std::move(host)), deadline_(deadline) {}
  ~PlainStream() override { relay_.Close(conn_); }
  PlainStream(const PlainStream&) = delete;
  PlainStream& operator=(const PlainStream&) = delete;

  Status Write(std::string_view data) override {
    if (deadline_.Left().count() <= 0) return deadline_.Exceeded(host_);
    Status s = relay_.Send(conn_, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
    return s.ok() ? s : RelayFailure(s, host_, deadline_, false);
  }

  StatusOr<size_t> Read(std::span<char> buf) override {
    milliseconds left = deadline_.Left();
    if (left.count() <= 0) return deadline_.Exceeded(host_);
    auto data = relay_.Recv(conn_, std::min(buf.size(), kRecvChunk), left);
    if (!data.ok()) return RelayFailure(data.status(), host_, deadline_, false);
    size_t n = std::min(data->size(), buf.size());
    std::memcpy(buf.data(), data->data(), n);
    return n;
  }

 private:
  ByteRelay& relay_;
  const uint64_t conn_;
  const std::string host_;
  const RelayDeadline deadline_;
};

// ---- TLS ------------------------------------------------------------------------------------

// One TLS connection over the relay: ciphertext in through rbio, out through wbio.
class TlsStream final : public RelayStream {
 public:
  TlsStream(ByteRelay& relay, uint64_t conn, SSL* ssl, std::string host, const RelayDeadline& deadline)
      : relay_(relay), conn_(conn), ssl_(ssl), host_(std::move(host)), deadline_(deadline) {}
  ~TlsStream() override {
    SSL_free(ssl_);
    relay_.Close(conn_);
  }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Status Handshake() {
    for (;;) {
      ERR_clear_error();
      int rc = SSL_connect(ssl_);
      if (rc == 1) return Flush();
      RETURN_IF_ERROR(Step(rc, "TLS handshake"));
    }
  }

  Status Write(std::string_view data) override {
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

  StatusOr<size_t> Read(std::span<char> buf) override {
    for (;;) {
      ERR_clear_error();
      size_t n = 0;
      int rc = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
      if (rc == 1) return n;
      if (SSL_get_error(ssl_, rc) == SSL_ERROR_ZERO_RETURN) return size_t{0};
      RETURN_IF_ERROR(Step(rc, "reading the response"));
    }
  }

  // Sends close_notify after a complete exchange (best effort: the connection closes anyway).
  void Finish() override {
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
        return UnauthenticatedError("certificate verification failed: certificate does not match host " + host_);
      }
      return UnauthenticatedError("certificate verification failed: " +
                                  std::string(X509_verify_cert_error_string(verify)) + " (host " + host_ + ")");
    }
    if (eof_) return UnavailableError("connection to " + host_ + " closed during " + std::string(what));
    return UnavailableError(std::string(what) + " with " + host_ + " failed: " + OpenSslReason());
  }

  Status Flush() {
    BIO* wbio = SSL_get_wbio(ssl_);
    while (BIO_ctrl_pending(wbio) > 0) {
      std::vector<uint8_t> out(BIO_ctrl_pending(wbio));
      int n = BIO_read(wbio, out.data(), static_cast<int>(out.size()));
      if (n <= 0) break;
      out.resize(static_cast<size_t>(n));
      Status s = relay_.Send(conn_, out);
      if (!s.ok()) return RelayFailure(s, host_, deadline_, false);
    }
    return Status();
  }

  Status Fill() {
    if (eof_) return UnavailableError("connection to " + host_ + " closed");
    milliseconds left = deadline_.Left();
    if (left.count() <= 0) return deadline_.Exceeded(host_);
    auto data = relay_.Recv(conn_, kRecvChunk, left);
    if (!data.ok()) return RelayFailure(data.status(), host_, deadline_, false);
    BIO* rbio = SSL_get_rbio(ssl_);
    if (data->empty()) {
      // Peer closed: from now on the read BIO reports EOF instead of "try again". A close without
      // close_notify is accepted (SSL_OP_IGNORE_UNEXPECTED_EOF); framing decides if it was early.
      eof_ = true;
      BIO_set_mem_eof_return(rbio, 0);
      return Status();
    }
    if (BIO_write(rbio, data->data(), static_cast<int>(data->size())) != static_cast<int>(data->size())) {
      return InternalError("buffering TLS data from " + host_ + " failed");
    }
    return Status();
  }

  ByteRelay& relay_;
  const uint64_t conn_;
  SSL* ssl_;
  const std::string host_;
  const RelayDeadline deadline_;
  bool eof_ = false;
};

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

Status LoadTrustAnchors(X509_STORE* store, const std::string& ca_file, const std::string& ca_pem) {
  if (!ca_file.empty()) {
    ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(ca_file));
    ASSIGN_OR_RETURN(int n, AddPemCerts(store, pem));
    if (n == 0) return InvalidArgumentError("CA file " + ca_file + " holds no certificate");
  }
  if (!ca_pem.empty()) {
    ASSIGN_OR_RETURN(int n, AddPemCerts(store, ca_pem));
    if (n == 0) return InvalidArgumentError("ca_pem holds no certificate");
  }
  if (ca_file.empty() && ca_pem.empty()) {
    // Read once, while the host process is still single-threaded at enclave start-up.
    const char* env = std::getenv(X509_get_default_cert_file_env());  // NOLINT(concurrency-mt-unsafe)
    std::string path = env != nullptr && *env != '\0' ? env : X509_get_default_cert_file();
    ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path));
    ASSIGN_OR_RETURN(int n, AddPemCerts(store, pem));
    if (n == 0) return InvalidArgumentError("system CA bundle " + path + " holds no certificate");
  }
  return Status();
}

}  // namespace

Status RelayDeadline::Exceeded(const std::string& host) const {
  return DeadlineExceededError("request to " + host + " timed out after " + std::to_string(budget.count()) + " ms");
}

WipedString::~WipedString() {
  OPENSSL_cleanse(s_.data(), s_.size());
}

StatusOr<std::unique_ptr<RelayStream>> ConnectPlain(ByteRelay& relay, const http1::Url& url,
                                                    const RelayDeadline& deadline) {
  ASSIGN_OR_RETURN(uint64_t conn, RelayConnect(relay, url, deadline));
  return std::unique_ptr<RelayStream>(std::make_unique<PlainStream>(relay, conn, url.host, deadline));
}

StatusOr<std::unique_ptr<TlsConnector>> TlsConnector::Create(const std::string& ca_file, const std::string& ca_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return InternalError("creating the TLS context failed: " + OpenSslReason());
  std::unique_ptr<TlsConnector> connector(new TlsConnector(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn));
  // Trust anchors are loaded into memory now: once sandboxed, the enclave cannot open files, so
  // nothing may be looked up lazily from a directory (as SSL_CTX_set_default_verify_paths would).
  RETURN_IF_ERROR(LoadTrustAnchors(SSL_CTX_get_cert_store(ctx), ca_file, ca_pem));
  return connector;
}

TlsConnector::~TlsConnector() {
  SSL_CTX_free(ctx_);
}

StatusOr<std::unique_ptr<RelayStream>> TlsConnector::Connect(ByteRelay& relay, const http1::Url& url,
                                                             const RelayDeadline& deadline) const {
  SSL* ssl = SSL_new(ctx_);
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
  auto conn = RelayConnect(relay, url, deadline);
  if (!conn.ok()) {
    SSL_free(ssl);
    return conn.status();
  }
  auto stream = std::make_unique<TlsStream>(relay, *conn, ssl, url.host, deadline);
  RETURN_IF_ERROR(stream->Handshake());
  return std::unique_ptr<RelayStream>(std::move(stream));
}

StatusOr<http1::Response> Exchange(RelayStream& stream, std::string_view request, http1::ResponseReader& reader) {
  RETURN_IF_ERROR(stream.Write(request));
  char buf[16384];
  while (!reader.done()) {
    ASSIGN_OR_RETURN(size_t n, stream.Read(buf));
    if (n == 0) {
      RETURN_IF_ERROR(reader.OnEof());
      break;
    }
    Status s = reader.Add(std::string_view(buf, n));
    OPENSSL_cleanse(buf, n);
    RETURN_IF_ERROR(s);
  }
  stream.Finish();
  return reader.Take();
}

}  // namespace neosl::tee
