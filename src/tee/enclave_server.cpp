#include "tee/enclave_server.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>

#include "tee/keys.h"

namespace neosl::tee {
namespace {

constexpr size_t kMaxDepositAccountBytes = 64;

bool IsDepositAccountChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Timeouts sent to the host fit its uint32 milliseconds with room to spare.
constexpr int64_t kMaxTimeoutMs = int64_t{24} * 3600 * 1000;

StatusOr<int> ParseFdNumber(std::string_view text) {
  int fd = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
  if (ec != std::errc() || end != text.data() + text.size() || fd < 0) {
    return InvalidArgumentError(std::string(kChannelFdFlag) + " needs a file descriptor number, got \"" +
                                std::string(text) + "\"");
  }
  return fd;
}

}  // namespace

StatusOr<int> ParseChannelFd(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == kChannelFdFlag) {
      if (i + 1 >= argc) return InvalidArgumentError(std::string(kChannelFdFlag) + " needs a value");
      return ParseFdNumber(argv[i + 1]);
    }
    if (arg.size() > kChannelFdFlag.size() && arg.starts_with(kChannelFdFlag) && arg[kChannelFdFlag.size()] == '=') {
      return ParseFdNumber(arg.substr(kChannelFdFlag.size() + 1));
    }
  }
  return InvalidArgumentError("missing " + std::string(kChannelFdFlag) + ": the enclave is started by neosl serve");
}

int RunEnclaveServer(int channel_fd, EcallHandler handler, ChannelOptions options) {
  IncomingHandler incoming;
  incoming.ecall = std::move(handler);
  auto channel = Channel::Open(channel_fd, std::move(incoming), options);
  if (!channel.ok()) {
    // No channel means no host to log to; stderr is all the enclave has.
    std::fprintf(stderr, "enclave: %s\n", channel.status().ToString().c_str());
    return 2;
  }
  (*channel)->WaitClosed();
  (*channel)->Close();
  return 0;
}

v1::EcallResponse ServeDepositKey(const crypto::PrivateKey& neo, const v1::DepositKeyRequest& request) {
  const std::string& account = request.account();
  if (account.empty() || account.size() > kMaxDepositAccountBytes ||
      !std::all_of(account.begin(), account.end(), IsDepositAccountChar)) {
    // The account is not echoed: it came from the host and is not known to be printable.
    return EcallErrorResponse(InvalidArgumentError("deposit_key: the account must be 1 to " +
                                                   std::to_string(kMaxDepositAccountBytes) +
                                                   " bytes of letters, digits, '_' and '-'"));
  }
  const auto key = DeriveDepositKey(neo, account).public_key().Compressed();
  v1::EcallResponse response;
  response.set_deposit_key(std::string(key.begin(), key.end()));
  return response;
}

bool OcallLogSink::Write(log::Level level, std::string_view message, Fields fields) const {
  v1::OcallRequest request;
  v1::LogLine* line = request.mutable_log();
  line->set_level(std::string(log::LevelName(level)));
  line->set_message(std::string(message));
  for (const auto& [key, value] : fields) (*line->mutable_fields())[std::string(key)] = std::string(value);
  return channel_.OcallNoWait(request, write_timeout_).ok();
}

StatusOr<uint64_t> OcallByteRelay::Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  v1::OcallRequest request;
  v1::NetConnect* connect = request.mutable_connect();
  connect->set_host(host);
  connect->set_port(port);
  connect->set_timeout_ms(static_cast<uint32_t>(std::clamp<int64_t>(timeout.count(), 0, kMaxTimeoutMs)));
  ASSIGN_OR_RETURN(v1::OcallResponse response, channel_.Ocall(request, timeout + options_.slack));
  if (response.result_case() != v1::OcallResponse::kConn)
    return InternalError("the host answered connect without an id");
  return response.conn();
}

Status OcallByteRelay::Send(uint64_t conn, std::span<const uint8_t> data) {
  v1::OcallRequest request;
  v1::NetSend* send = request.mutable_send();
  send->set_conn(conn);
  send->set_data(data.data(), data.size());
  return channel_.Ocall(request, options_.send_timeout).status();
}

StatusOr<std::vector<uint8_t>> OcallByteRelay::Recv(uint64_t conn, size_t max_bytes,
                                                    std::chrono::milliseconds timeout) {
  v1::OcallRequest request;
  v1::NetRecv* recv = request.mutable_recv();
  recv->set_conn(conn);
  recv->set_max_bytes(static_cast<uint32_t>(std::min<size_t>(max_bytes, std::numeric_limits<uint32_t>::max())));
  recv->set_timeout_ms(static_cast<uint32_t>(std::clamp<int64_t>(timeout.count(), 0, kMaxTimeoutMs)));
  ASSIGN_OR_RETURN(v1::OcallResponse response, channel_.Ocall(request, timeout + options_.slack));
  const std::string& data = response.data();
  if (data.size() > max_bytes) return InternalError("the host returned more bytes than asked for");
  return std::vector<uint8_t>(data.begin(), data.end());
}

void OcallByteRelay::Close(uint64_t conn) {
  v1::OcallRequest request;
  request.mutable_close()->set_conn(conn);
  // Nothing to do with the answer: closing is idempotent and unknown ids are ignored.
  (void)channel_.OcallNoWait(request, std::chrono::milliseconds(1000));
}

}  // namespace neosl::tee
