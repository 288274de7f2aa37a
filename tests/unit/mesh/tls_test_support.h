// Shared by the mesh TLS tests: a real gRPC Echo server over loopback and fresh-channel calls.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "mesh/ca.h"
#include "mesh/tls.h"
#include <grpcpp/grpcpp.h>

namespace neosl::mesh::testing {

// A callback-API Echo server on 127.0.0.1:0. Its answers carry what the mesh authenticated:
// `caller` is PeerIdentity of the call and `instance` the caller's certificate fingerprint.
class EchoServer {
 public:
  static std::unique_ptr<EchoServer> Start(const std::shared_ptr<grpc::ServerCredentials>& creds);
  ~EchoServer();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  EchoServer();
  struct Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

struct EchoResult {
  grpc::Status status;
  std::string caller;              // the server's view of our identity
  std::string caller_fingerprint;  // the server's view of our certificate
  std::string server_fingerprint;  // our view of the server's certificate
};

// A channel of its own (local subchannel pool), so it makes a new TLS handshake instead of
// reusing a connection another channel opened. It sends `server_identity` as the TLS SNI, as mesh
// clients should (an IP address as SNI makes the gRPC server log "No match found for server
// name" on every handshake).
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& address,
                                            const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                            const std::string& server_identity = "echo");
EchoResult CallEcho(const std::shared_ptr<grpc::Channel>& channel, const std::string& message = "ping");

// TLS channel credentials that trust `ca_file` but present no certificate and skip our
// verifier: what an outsider without a mesh certificate can do.
std::shared_ptr<grpc::ChannelCredentials> CredentialsWithoutCertificate(const std::string& ca_file);

// Issues `identity` from `ca` and writes it (with ca.crt and crl.pem) into `dir`.
IdentityFiles WriteIssued(CertificateAuthority& ca, const std::string& dir, const std::string& identity,
                          std::chrono::seconds validity = std::chrono::hours(24));

std::string FingerprintOfFile(const std::string& cert_file);

// Polls `condition` every 20 ms for up to `limit`; true once it holds. For waiting on a state
// change another thread makes, never as a sleep standing in for synchronisation.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit = std::chrono::seconds(20));

}  // namespace neosl::mesh::testing
