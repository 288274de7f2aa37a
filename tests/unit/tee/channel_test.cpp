// The frame channel in process: two Channels on a socketpair, or one Channel and a raw socket
// playing a misbehaving peer.
#include "tee/channel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "tee/enclave_server.h"
#include "tee/host.h"

namespace neosl::tee {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// A one-shot signal between threads, waited on with a deadline.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Counts events and lets a test wait for a number of them.
class Counter {
 public:
  void Add() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++n_;
    }
    cv_.notify_all();
  }
  bool WaitFor(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return n_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

std::pair<int, int> SocketPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {fds[0], fds[1]};
}

v1::EcallRequest Ping(const std::string& payload) {
  v1::EcallRequest request;
  request.mutable_ping()->set_payload(payload);
  return request;
}

v1::EcallResponse Pong(const std::string& payload) {
  v1::EcallResponse response;
  response.set_pong(payload);
  return response;
}

EcallHandler Echo() {
  return [](const v1::EcallRequest& request, Channel&) { return Pong(request.ping().payload()); };
}

std::unique_ptr<Channel> OpenOrDie(int fd, IncomingHandler handler, ChannelOptions options = {}) {
  auto channel = Channel::Open(fd, std::move(handler), options);
  EXPECT_TRUE(channel.ok()) << channel.status().ToString();
  return channel.ok() ? std::move(*channel) : nullptr;
}

// The raw side of a test: reads one frame as the wire format says.
bool ReadFrame(int fd, v1::Frame* frame) {
  auto read_exact = [fd](char* p, size_t n) {
    while (n > 0) {
      ssize_t got = read(fd, p, n);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  };
  unsigned char header[4];
  if (!read_exact(reinterpret_cast<char*>(header), 4)) return false;
  const uint32_t length = header[0] | header[1] << 8 | header[2] << 16 | static_cast<uint32_t>(header[3]) << 24;
  std::string body(length, '\0');
  if (!read_exact(body.data(), length)) return false;
  return frame->ParseFromString(body);
}

void WriteRaw(int fd, const std::string& bytes) {
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::string LengthPrefix(uint32_t length) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

TEST(ChannelTest, RoundTrip) {
  auto [a, b] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto enclave = OpenOrDie(b, {.ecall = Echo()});
  auto response = host->Call(Ping("hello"), 5s);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->pong(), "hello");
}

TEST(ChannelTest, AnErrorAnswerBecomesTheCallersStatus) {
  auto [a, b] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto enclave = OpenOrDie(b, {.ecall = [](const v1::EcallRequest&, Channel&) {
                             return EcallErrorResponse(NotFoundError("no sealed blob labelled x"));
                           }});
  auto response = host->Call(Ping("x"), 5s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "no sealed blob labelled x");
  // The channel itself is fine.
  EXPECT_FALSE(host->closed());
}

TEST(ChannelTest, ARequestWithoutAHandlerIsUnimplemented) {
  auto [a, b] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto enclave = OpenOrDie(b, {.ecall = Echo()});
  v1::OcallRequest request;
  request.mutable_ping()->set_payload("p");
  auto response = enclave->Ocall(request, 5s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnimplemented);
}

TEST(ChannelTest, ManyConcurrentCallsAllGetTheirOwnAnswers) {
  auto [a, b] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto enclave = OpenOrDie(b, {.ecall = Echo()});
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 25;
  std::atomic<int> matched{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const std::string payload = "thread " + std::to_string(t) + " call " + std::to_string(i);
        auto response = host->Call(Ping(payload), 10s);
        if (response.ok() && response->pong() == payload) ++matched;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(matched.load(), kThreads * kCallsPerThread);
  EXPECT_EQ(host->dropped_responses(), 0u);
}

TEST(ChannelTest, AnswersThatArriveOutOfOrderReachTheirCallers) {
  auto [a, b] = SocketPair();
  Gate slow_started;
  Gate release_slow;
  auto host = OpenOrDie(a, {});
  auto enclave = OpenOrDie(b, {.ecall = [&](const v1::EcallRequest& request, Channel&) {
                             if (request.ping().payload() == "slow") {
                               slow_started.Open();
                               release_slow.Wait();
                             }
                             return Pong(request.ping().payload());
                           }});
  auto slow = std::async(std::launch::async, [&] { return host->Call(Ping("slow"), 10s); });
  ASSERT_TRUE(slow_started.Wait());
  auto fast = host->Call(Ping("fast"), 10s);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(fast->pong(), "fast");
  release_slow.Open();
  auto slow_response = slow.get();
  ASSERT_TRUE(slow_response.ok()) << slow_response.status().ToString();
  EXPECT_EQ(slow_response->pong(), "slow");
}

TEST(ChannelTest, AHandlerCanMakeAnOcallWhileServingAnEcall) {
  auto [a, b] = SocketPair();
  // One worker a side: this deadlocks if the reader thread ran handlers or waited on them.
  ChannelOptions one_worker;
  one_worker.workers = 1;
  auto host = OpenOrDie(a,
                        {.ocall =
                             [](const v1::OcallRequest& request, Channel&) {
                               v1::OcallResponse response;
                               response.set_pong("host saw " + request.ping().payload());
                               return response;
                             }},
                        one_worker);
  auto enclave = OpenOrDie(b,
                           {.ecall =
                                [](const v1::EcallRequest& request, Channel& channel) {
                                  v1::OcallRequest ocall;
                                  ocall.mutable_ping()->set_payload(request.ping().payload());
                                  auto answer = channel.Ocall(ocall, 5s);
                                  if (!answer.ok()) return EcallErrorResponse(answer.status());
                                  return Pong(answer->pong());
                                }},
                           one_worker);
  auto response = host->Call(Ping("x"), 5s);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->pong(), "host saw x");
}

TEST(ChannelTest, PeerClosingFailsPendingCallsQuicklyAndLaterCallsAtOnce) {
  auto [a, raw] = SocketPair();
  auto host = OpenOrDie(a, {});
  constexpr int kPending = 3;
  std::vector<std::future<StatusOr<v1::EcallResponse>>> calls;
  calls.reserve(kPending);
  for (int i = 0; i < kPending; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return host->Call(Ping("never answered"), 60s); }));
  }
  // Every call is on the wire before the peer goes away.
  for (int i = 0; i < kPending; ++i) {
    v1::Frame frame;
    ASSERT_TRUE(ReadFrame(raw, &frame));
    EXPECT_TRUE(frame.has_ecall());
  }
  const auto closed_at = SteadyClock::now();
  close(raw);
  for (auto& call : calls) {
    ASSERT_EQ(call.wait_for(10s), std::future_status::ready);
    auto result = call.get();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
    EXPECT_TRUE(StartsWith(result.status().message(), "enclave channel closed")) << result.status().ToString();
  }
  EXPECT_LT(SteadyClock::now() - closed_at, 10s);  // far below the calls' 60 s timeout
  EXPECT_TRUE(host->closed());

  const auto later_at = SteadyClock::now();
  auto later = host->Call(Ping("later"), 60s);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), StatusCode::kUnavailable);
  EXPECT_LT(SteadyClock::now() - later_at, 5s);
}

TEST(ChannelTest, AnOversizeIncomingFrameFailsTheChannel) {
  auto [a, raw] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto call = std::async(std::launch::async, [&] { return host->Call(Ping("p"), 60s); });
  v1::Frame frame;
  ASSERT_TRUE(ReadFrame(raw, &frame));
  WriteRaw(raw, LengthPrefix(static_cast<uint32_t>(kMaxFrameBytes) + 1));
  ASSERT_EQ(call.wait_for(10s), std::future_status::ready);
  auto result = call.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("incoming frame of 16777217 bytes exceeds the 16777216-byte limit"),
            std::string_view::npos)
      << result.status().ToString();
  EXPECT_EQ(host->close_reason().code(), StatusCode::kResourceExhausted);
  // The peer is told: it reads end of stream.
  char byte;
  EXPECT_EQ(read(raw, &byte, 1), 0);
  close(raw);
}

TEST(ChannelTest, AnOversizeRequestIsRefusedAndTheChannelStaysUp) {
  auto [a, b] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto enclave = OpenOrDie(b, {.ecall = Echo()});
  auto big = host->Call(Ping(std::string(kMaxFrameBytes + 1, 'x')), 5s);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("exceeds the 16777216-byte limit"), std::string_view::npos);
  // A frame near the limit still passes.
  const std::string large(kMaxFrameBytes - 64, 'y');
  auto ok = host->Call(Ping(large), 10s);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->pong().size(), large.size());
}

TEST(ChannelTest, AnAnswerTooBigForAFrameComesBackAsAnError) {
  auto [a, b] = SocketPair();
  ChannelOptions small;
  small.max_frame_bytes = 1024;
  auto host = OpenOrDie(a, {}, small);
  auto enclave =
      OpenOrDie(b, {.ecall = [](const v1::EcallRequest&, Channel&) { return Pong(std::string(4096, 'z')); }}, small);
  auto response = host->Call(Ping("small question"), 60s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted) << response.status().ToString();
  EXPECT_FALSE(host->closed());
}

TEST(ChannelTest, AMalformedFrameFailsTheChannel) {
  auto [a, raw] = SocketPair();
  auto host = OpenOrDie(a, {});
  WriteRaw(raw, LengthPrefix(3) + "\xff\xff\xff");
  ASSERT_TRUE(host->WaitClosedFor(10s));
  EXPECT_EQ(host->close_reason().code(), StatusCode::kDataLoss);
  close(raw);
}

TEST(ChannelTest, ATimeoutIsDeadlineExceededAndTheLateAnswerIsDropped) {
  auto [a, b] = SocketPair();
  Gate release;
  auto host = OpenOrDie(a, {});
  // One worker: the late answer is written before the next call's, so it has been dropped by
  // the time the next call returns.
  ChannelOptions one_worker;
  one_worker.workers = 1;
  auto enclave = OpenOrDie(b,
                           {.ecall =
                                [&](const v1::EcallRequest& request, Channel&) {
                                  if (request.ping().payload() == "slow") release.Wait();
                                  return Pong(request.ping().payload());
                                }},
                           one_worker);
  auto slow = host->Call(Ping("slow"), 100ms);
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded);
  release.Open();
  auto next = host->Call(Ping("next"), 10s);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->pong(), "next");
  EXPECT_EQ(host->dropped_responses(), 1u);
  EXPECT_FALSE(host->closed());
}

TEST(ChannelTest, CloseFailsPendingCallsAndThePeerSeesEndOfStream) {
  auto [a, raw] = SocketPair();
  auto host = OpenOrDie(a, {});
  auto call = std::async(std::launch::async, [&] { return host->Call(Ping("p"), 60s); });
  v1::Frame frame;
  ASSERT_TRUE(ReadFrame(raw, &frame));
  host->Close();
  ASSERT_EQ(call.wait_for(10s), std::future_status::ready);
  auto result = call.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  char byte;
  EXPECT_EQ(read(raw, &byte, 1), 0);
  host->Close();  // idempotent
  close(raw);
}

TEST(ChannelTest, LogLinesReachTheHostWithoutWaiting) {
  auto [a, b] = SocketPair();
  std::mutex mu;
  std::vector<v1::LogLine> lines;
  Counter received;
  auto host = OpenOrDie(a, {.ocall = [&](const v1::OcallRequest& request, Channel&) {
                          if (request.has_log()) {
                            std::lock_guard<std::mutex> lock(mu);
                            lines.push_back(request.log());
                          }
                          received.Add();
                          return v1::OcallResponse();
                        }});
  auto enclave = OpenOrDie(b, {.ecall = Echo()});
  OcallLogSink sink(*enclave);
  EXPECT_TRUE(sink.Warn("sealed state loaded", {{"labels", "3"}}));
  ASSERT_TRUE(received.WaitFor(1));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].level(), "warn");
  EXPECT_EQ(lines[0].message(), "sealed state loaded");
  EXPECT_EQ(lines[0].fields().at("labels"), "3");
}

TEST(ChannelTest, OpenRefusesWhatIsNotAStreamSocket) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  auto channel = Channel::Open(pipe_fds[0], {});
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), StatusCode::kInvalidArgument);
  close(pipe_fds[1]);

  int dgram[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram), 0);
  auto datagram = Channel::Open(dgram[0], {});
  ASSERT_FALSE(datagram.ok());
  EXPECT_EQ(datagram.status().code(), StatusCode::kInvalidArgument);
  close(dgram[1]);
}

TEST(ChannelTest, StatusesCrossTheBoundaryWithTheirCanonicalCodes) {
  v1::Status proto;
  StatusToProto(PermissionDeniedError("test commands are disabled"), &proto);
  EXPECT_EQ(proto.code(), 7);
  Status back = StatusFromProto(proto);
  EXPECT_EQ(back.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(back.message(), "test commands are disabled");

  proto.set_code(0);
  EXPECT_TRUE(StatusFromProto(proto).ok());
  proto.set_code(99);
  EXPECT_EQ(StatusFromProto(proto).code(), StatusCode::kUnknown);
}

// A ByteRelay that echoes what is sent on each connection, standing in for SocketRelay.
class EchoRelay final : public ByteRelay {
 public:
  StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds) override {
    if (host == "10.0.0.1") return PermissionDeniedError("destination 10.0.0.1 is a private address");
    std::lock_guard<std::mutex> lock(mu_);
    last_port_ = port;
    buffers_[next_id_] = {};
    return next_id_++;
  }
  Status Send(uint64_t conn, std::span<const uint8_t> data) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = buffers_.find(conn);
    if (it == buffers_.end()) return NotFoundError("no connection " + std::to_string(conn));
    it->second.insert(it->second.end(), data.begin(), data.end());
    return Status::Ok();
  }
  StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = buffers_.find(conn);
    if (it == buffers_.end()) return NotFoundError("no connection " + std::to_string(conn));
    if (it->second.empty()) return DeadlineExceededError("nothing to read");
    const size_t n = std::min(max_bytes, it->second.size());
    std::vector<uint8_t> out(it->second.begin(), it->second.begin() + static_cast<std::ptrdiff_t>(n));
    it->second.erase(it->second.begin(), it->second.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  void Close(uint64_t conn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      buffers_.erase(conn);
    }
    closed_.Add();
  }
  uint16_t last_port() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_port_;
  }
  Counter& closed() { return closed_; }

 private:
  std::mutex mu_;
  uint64_t next_id_ = 1;
  uint16_t last_port_ = 0;
  std::map<uint64_t, std::vector<uint8_t>> buffers_;
  Counter closed_;
};

TEST(RelayOverChannelTest, TheEnclavesRelayCallsReachTheHostsRelay) {
  auto [a, b] = SocketPair();
  auto relay = std::make_shared<EchoRelay>();
  auto host = OpenOrDie(a, {.ocall = RelayOcallHandler(relay)});
  auto enclave = OpenOrDie(b, {.ecall = Echo()});
  OcallByteRelay proxy(*enclave);

  auto conn = proxy.Connect("example.org", 443, 2s);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(relay->last_port(), 443);
  const std::vector<uint8_t> hello = {0x16, 0x03, 0x01, 0x00, 0x05};
  ASSERT_TRUE(proxy.Send(*conn, hello).ok());
  auto first = proxy.Recv(*conn, 3, 2s);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, std::vector<uint8_t>(hello.begin(), hello.begin() + 3));
  auto rest = proxy.Recv(*conn, 100, 2s);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, std::vector<uint8_t>(hello.begin() + 3, hello.end()));

  // The host relay's errors reach the enclave with their codes.
  auto nothing = proxy.Recv(*conn, 100, 2s);
  EXPECT_EQ(nothing.status().code(), StatusCode::kDeadlineExceeded);
  auto denied = proxy.Connect("10.0.0.1", 80, 2s);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.status().message(), "destination 10.0.0.1 is a private address");

  proxy.Close(*conn);
  ASSERT_TRUE(relay->closed().WaitFor(1));
  EXPECT_EQ(proxy.Send(*conn, hello).code(), StatusCode::kNotFound);
}

TEST(RelayOverChannelTest, TheHostRefusesAPortOutOfRange) {
  auto [a, b] = SocketPair();
  auto host = OpenOrDie(a, {.ocall = RelayOcallHandler(std::make_shared<EchoRelay>())});
  auto enclave = OpenOrDie(b, {});
  v1::OcallRequest request;
  request.mutable_connect()->set_host("example.org");
  request.mutable_connect()->set_port(70000);
  auto response = enclave->Ocall(request, 2s);
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  v1::OcallRequest log;
  log.mutable_log()->set_message("not for the relay");
  EXPECT_EQ(enclave->Ocall(log, 2s).status().code(), StatusCode::kUnimplemented);
}

TEST(EnclaveServerTest, ParsesTheChannelFdFlag) {
  const char* spaced[] = {"neosl", "enclave", "--channel-fd", "3"};
  auto fd = ParseChannelFd(4, spaced);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*fd, 3);
  const char* joined[] = {"neosl", "--channel-fd=7"};
  ASSERT_TRUE(ParseChannelFd(2, joined).ok());
  EXPECT_EQ(*ParseChannelFd(2, joined), 7);
  const char* missing[] = {"neosl", "enclave"};
  EXPECT_EQ(ParseChannelFd(2, missing).status().code(), StatusCode::kInvalidArgument);
  const char* bad[] = {"neosl", "--channel-fd", "3x"};
  EXPECT_EQ(ParseChannelFd(3, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(EnclaveServerTest, ReturnsWhenTheHostCloses) {
  auto [a, b] = SocketPair();
  auto server = std::async(std::launch::async, [fd = b] { return RunEnclaveServer(fd, Echo()); });
  auto host = OpenOrDie(a, {});
  auto response = host->Call(Ping("up"), 5s);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  host->Close();
  ASSERT_EQ(server.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(server.get(), 0);
}

}  // namespace
}  // namespace neosl::tee
