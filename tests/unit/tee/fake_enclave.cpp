// A minimal enclave for host_test: serves pings and TestCommands through RunEnclaveServer.
//
//   test.echo "list-fds"   → the open descriptors, "0 1 2 3"
//   test.sleep_ms          → answers after that long (work that takes time)
//   test.crash             → dies by SIGABRT mid-call (after sleep_ms)
//   test.ocall_echo        → an OCALL ping to the host with `echo`; answers the host's pong
//   --exit-at-once         → exits with code 3 before serving (a child that keeps dying)
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <thread>

#include <sys/resource.h>

#include "tee/enclave_server.h"

namespace {

using neosl::tee::Channel;
namespace v1 = neosl::tee::v1;

std::string ListFds() {
  std::string out;
  for (int fd = 0; fd < 1024; ++fd) {
    if (fcntl(fd, F_GETFD) == -1) continue;
    if (!out.empty()) out += ' ';
    out += std::to_string(fd);
  }
  return out;
}

v1::EcallResponse Serve(const v1::EcallRequest& request, Channel& channel) {
  v1::EcallResponse response;
  if (request.has_ping()) {
    response.set_pong(request.ping().payload());
    return response;
  }
  if (!request.has_test()) return neosl::tee::EcallErrorResponse(neosl::UnimplementedError("fake enclave"));
  const v1::TestCommand& test = request.test();
  if (test.sleep_ms() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(test.sleep_ms()));
  if (test.crash()) std::abort();
  if (test.ocall_echo()) {
    v1::OcallRequest ocall;
    ocall.mutable_ping()->set_payload(test.echo());
    auto pong = channel.Ocall(ocall, std::chrono::seconds(5));
    if (!pong.ok()) return neosl::tee::EcallErrorResponse(pong.status());
    response.set_test(pong->pong());
    return response;
  }
  if (test.echo() == "list-fds") {
    response.set_test(ListFds());
    return response;
  }
  response.set_test(test.echo());
  return response;
}

}  // namespace

int main(int argc, char** argv) {
  // A crash here is a test, not a bug worth a core file.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--exit-at-once") return 3;
  }
  auto fd = neosl::tee::ParseChannelFd(argc, argv);
  if (!fd.ok()) return 2;
  neosl::tee::ChannelOptions options;
  options.workers = 8;
  return neosl::tee::RunEnclaveServer(*fd, Serve, options);
}
