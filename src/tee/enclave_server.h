// The enclave side of the ECALL boundary: the child's main loop and logging through the host.
//
//   int main(int argc, char** argv) {   // `neosl enclave … --channel-fd N`
//     auto fd = tee::ParseChannelFd(argc, argv);
//     if (!fd.ok()) return 2;
//     return tee::RunEnclaveServer(*fd, [&](const v1::EcallRequest& r, tee::Channel& ch) { … });
//   }
#pragma once

#include <chrono>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "core/log.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "tee/channel.h"
#include "tee/tls_relay.h"

namespace neosl::tee {

// The flag EnclaveHost passes to its child, followed by the fd number of the child's channel end.
inline constexpr std::string_view kChannelFdFlag = "--channel-fd";

// Finds `--channel-fd N` (or `--channel-fd=N`) among the arguments.
StatusOr<int> ParseChannelFd(int argc, const char* const* argv);

// Serves ECALLs on `channel_fd` until the channel closes (the host went away or closed it), then
// waits for running handlers and returns 0. Returns 2 if the fd is not a usable channel.
int RunEnclaveServer(int channel_fd, EcallHandler handler, ChannelOptions options = {});

// The deposit_key ECALL (the gas bank's deposit addresses): answers `deposit_key`, the compressed
// public key of DeriveDepositKey(neo, account) (tee/keys.h). INVALID_ARGUMENT unless the account
// is 1..64 bytes of [A-Za-z0-9_-], the alphabet of the platform's ids: the account becomes HKDF
// info, and a narrow alphabet keeps odd bytes (and whatever a log would make of them) out.
v1::EcallResponse ServeDepositKey(const crypto::PrivateKey& neo, const v1::DepositKeyRequest& request);

// Log lines from inside the enclave, sent to the host as LogLine OCALLs without waiting for an
// answer (the enclave has no files). A line that cannot be written within the timeout is dropped.
// Never pass a secret or key as a message or field.
class OcallLogSink {
 public:
  using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  explicit OcallLogSink(Channel& channel, std::chrono::milliseconds write_timeout = std::chrono::milliseconds(100))
      : channel_(channel), write_timeout_(write_timeout) {}

  // False when the line was dropped.
  bool Write(log::Level level, std::string_view message, Fields fields = {}) const;
  bool Debug(std::string_view message, Fields fields = {}) const { return Write(log::Level::kDebug, message, fields); }
  bool Info(std::string_view message, Fields fields = {}) const { return Write(log::Level::kInfo, message, fields); }
  bool Warn(std::string_view message, Fields fields = {}) const { return Write(log::Level::kWarn, message, fields); }
  bool Error(std::string_view message, Fields fields = {}) const { return Write(log::Level::kError, message, fields); }

 private:
  Channel& channel_;
  std::chrono::milliseconds write_timeout_;
};

// The enclave's ByteRelay: every operation is an OCALL (NetConnect, NetSend, NetRecv, NetClose)
// answered by the host's relay (RelayOcallHandler in host.h). Hand it to EnclaveTlsClient; the
// bytes it carries are TLS records, never clear text. Thread-safe.
class OcallByteRelay final : public ByteRelay {
 public:
  struct Options {
    // Added to connect and recv timeouts for the round trip through the host.
    std::chrono::milliseconds slack{5000};
    // How long a send may take (the host's relay has its own limit, 30 s by default).
    std::chrono::milliseconds send_timeout{35000};
  };

  explicit OcallByteRelay(Channel& channel) : OcallByteRelay(channel, Options{}) {}
  OcallByteRelay(Channel& channel, Options options) : channel_(channel), options_(options) {}

  StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) override;
  Status Send(uint64_t conn, std::span<const uint8_t> data) override;
  StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, std::chrono::milliseconds timeout) override;
  void Close(uint64_t conn) override;

 private:
  Channel& channel_;
  const Options options_;
};

}  // namespace neosl::tee
