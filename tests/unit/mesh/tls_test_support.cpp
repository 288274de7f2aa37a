#include "unit/mesh/tls_test_support.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "neosl/echo/v1/echo.grpc.pb.h"
#include "support/temp_dir.h"
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace neosl::mesh::testing {

struct EchoServer::Service final : public neosl::echo::v1::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const neosl::echo::v1::EchoRequest* request,
                                 neosl::echo::v1::EchoResponse* response) override {
    response->set_message(request->message());
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    if (auth) {
      response->set_caller(PeerIdentity(*auth));
      response->set_instance(PeerCertificateFingerprint(*auth));
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

EchoServer::EchoServer() : service_(std::make_unique<Service>()) {}

EchoServer::~EchoServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

std::unique_ptr<EchoServer> EchoServer::Start(const std::shared_ptr<grpc::ServerCredentials>& creds) {
  std::unique_ptr<EchoServer> s(new EchoServer());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", creds, &s->port_);
  builder.RegisterService(s->service_.get());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) return nullptr;
  return s;
}

std::shared_ptr<grpc::Channel> FreshChannel(const std::string& address,
                                            const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                            const std::string& server_identity) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetSslTargetNameOverride(server_identity);
  return grpc::CreateCustomChannel(address, creds, args);
}

EchoResult CallEcho(const std::shared_ptr<grpc::Channel>& channel, const std::string& message) {
  auto stub = neosl::echo::v1::Echo::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  neosl::echo::v1::EchoRequest request;
  request.set_message(message);
  neosl::echo::v1::EchoResponse response;
  EchoResult out;
  out.status = stub->Echo(&context, request, &response);
  if (out.status.ok()) {
    EXPECT_EQ(response.message(), message);
    out.caller = response.caller();
    out.caller_fingerprint = response.instance();
    if (auto auth = context.auth_context()) out.server_fingerprint = PeerCertificateFingerprint(*auth);
  }
  return out;
}

std::shared_ptr<grpc::ChannelCredentials> CredentialsWithoutCertificate(const std::string& ca_file) {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(ca_file, 1);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  options.set_verify_server_certs(true);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

IdentityFiles WriteIssued(CertificateAuthority& ca, const std::string& dir, const std::string& identity,
                          std::chrono::seconds validity) {
  IdentityFiles files{dir, identity};
  auto cert = ca.Issue(identity, validity);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  if (!cert.ok()) return files;
  Status s = WriteIdentityFiles(files, *cert, ca.ca_cert_pem(), ca.crl_pem());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return files;
}

std::string FingerprintOfFile(const std::string& cert_file) {
  auto info = InspectCertificate(neosl::testing::ReadFile(cert_file));
  return info.ok() ? info->sha256_hex : "";
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace neosl::mesh::testing
