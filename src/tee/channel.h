// The ECALL boundary: one full-duplex connection between the host and its enclave over a connected
// SOCK_STREAM socket (a socketpair), carrying proto/enclave.proto Frames both ways.
//
// Wire format, per frame:
//
//   u32 little-endian length ‖ serialized neosl.tee.v1.Frame   (length ≤ max_frame_bytes, 16 MiB)
//
// A frame that claims more than the limit cannot be skipped safely, so the channel fails: every
// pending call fails UNAVAILABLE "enclave channel closed: …" and later calls fail at once.
//
// Each side sends requests (the host ECALLs, the enclave OCALLs) with ids it picks and matches the
// peer's responses by id, so many calls are in flight at once and may complete in any order. One
// reader thread parses frames and never runs handlers: requests from the peer run on a worker
// pool, so a handler may itself make a call across the channel (an OCALL while serving an ECALL).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "enclave.pb.h"

namespace neosl::tee {

class Channel;

// Serves one ECALL (enclave side). The Channel& lets the handler make OCALLs while it runs.
using EcallHandler = std::function<v1::EcallResponse(const v1::EcallRequest&, Channel&)>;
// Serves one OCALL (host side).
using OcallHandler = std::function<v1::OcallResponse(const v1::OcallRequest&, Channel&)>;

// What this side answers. A request with no handler is answered UNIMPLEMENTED.
struct IncomingHandler {
  EcallHandler ecall;  // set on the enclave side
  OcallHandler ocall;  // set on the host side
};

inline constexpr size_t kMaxFrameBytes = 16u << 20;

struct ChannelOptions {
  // Threads that run the IncomingHandler; at least 1.
  int workers = 4;
  // Largest serialized Frame accepted or sent.
  size_t max_frame_bytes = kMaxFrameBytes;
  // How long a response may wait to be written before it is dropped (the peer then times out).
  std::chrono::milliseconds write_timeout{5000};
  // Requests this says yes to are served on the reader thread itself, skipping the hand-off to
  // a worker (two thread wake-ups fewer per call). Only for handlers that never block and never
  // make a call back over this channel (that would deadlock the reader); unset: none.
  std::function<bool(const v1::Frame&)> serve_on_reader;
  // Run by a worker thread after each request it served has been answered: work that can wait
  // until the caller has its answer (preparing for the next request); unset: none.
  std::function<void()> after_serve;
};

// Canonical status ⇄ neosl.tee.v1.Status. Unknown code numbers become UNKNOWN.
Status StatusFromProto(const v1::Status& status);
void StatusToProto(const Status& status, v1::Status* out);
// A response carrying only an error status.
v1::EcallResponse EcallErrorResponse(const Status& status);
v1::OcallResponse OcallErrorResponse(const Status& status);

class Channel {
 public:
  // Takes ownership of `fd` (a connected SOCK_STREAM socket), also when it fails.
  static StatusOr<std::unique_ptr<Channel>> Open(int fd, IncomingHandler handler, ChannelOptions options = {});

  // Closes the channel; must not run on one of this channel's worker threads.
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Host → enclave. Returns the response when its status is OK and the status as the error
  // otherwise. Transport errors: UNAVAILABLE "enclave channel closed…" when the channel is or
  // becomes closed, DEADLINE_EXCEEDED when no answer came in time (a late answer is dropped),
  // RESOURCE_EXHAUSTED when the request is bigger than the frame limit. Thread-safe.
  StatusOr<v1::EcallResponse> Call(const v1::EcallRequest& request, std::chrono::milliseconds timeout);
  // Enclave → host, with the same rules.
  StatusOr<v1::OcallResponse> Ocall(const v1::OcallRequest& request, std::chrono::milliseconds timeout);
  // Sends an OCALL without waiting for its answer (log lines); the answer is dropped when it comes.
  // Fails only when the request cannot be written within `write_timeout`.
  Status OcallNoWait(const v1::OcallRequest& request, std::chrono::milliseconds write_timeout);

  // Fails every pending call and ends the connection now (the peer sees end of stream), without
  // waiting for handlers; Close() (or the destructor) still releases the threads and the fd.
  void Shutdown();
  // Fails every pending call, stops the reader and waits for running handlers to return, then
  // closes the fd. The peer sees end of stream. Idempotent; must not be called from a handler.
  void Close();

  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // Why the channel closed (OK while it is open).
  Status close_reason() const;
  // Blocks until the channel closes (peer gone, fd error, protocol error or Close()).
  void WaitClosed() const;
  bool WaitClosedFor(std::chrono::milliseconds timeout) const;

  // Responses that arrived for no pending call (after a timeout, or answers to OcallNoWait).
  uint64_t dropped_responses() const { return dropped_responses_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> in_flight_{0};  // calls of this side waiting for their answer

  struct Pending {
    std::condition_variable cv;
    // Written under mu_; also read without it by a caller that spins briefly before blocking.
    std::atomic<bool> done{false};
    Status error;
    v1::Frame frame;
  };

  Channel(int fd, IncomingHandler handler, ChannelOptions options);
  void Start();

  StatusOr<v1::Frame> RoundTrip(v1::Frame frame, std::chrono::milliseconds timeout);
  Status WriteFrame(const v1::Frame& frame, std::chrono::steady_clock::time_point deadline);
  bool AcquireWriter(std::chrono::steady_clock::time_point deadline);
  void ReleaseWriter();
  void ReadLoop();
  void Dispatch(v1::Frame frame);
  void Serve(const v1::Frame& request);
  void WorkerLoop();
  void Fail(Status reason);

  const IncomingHandler handler_;
  const ChannelOptions options_;
  const int fd_;
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> dropped_responses_{0};

  mutable std::mutex mu_;  // pending_, close_reason_
  mutable std::condition_variable closed_cv_;
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;
  Status close_reason_;

  // One frame at a time on the wire: writing_ under write_mu_, rather than a std::timed_mutex, so
  // a writer can give up at its deadline (and ThreadSanitizer understands the waiting).
  std::mutex write_mu_;
  std::condition_variable write_cv_;

  std::mutex queue_mu_;  // queue_, stopping_
  std::condition_variable queue_cv_;
  std::deque<v1::Frame> queue_;  // requests from the peer, waiting for a worker

  std::mutex close_mu_;  // serialises Close()
  std::thread reader_;
  std::vector<std::thread> workers_;

  bool writing_ = false;    // under write_mu_
  bool fd_closed_ = false;  // set by Close() under write_mu_
  bool stopping_ = false;   // under queue_mu_
};

}  // namespace neosl::tee
