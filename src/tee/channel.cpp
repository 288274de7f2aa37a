#include "tee/channel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <poll.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include <sys/socket.h>
#include <sys/stat.h>

namespace neosl::tee {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kHeaderBytes = 4;
// How long a caller waits for its answer awake before it sleeps on the condition variable.
constexpr std::chrono::microseconds kSpinBeforeSleeping{50};
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr int kLastCanonicalCode = static_cast<int>(StatusCode::kUnauthenticated);

// Deadlines far in the future would overflow time_point arithmetic.
SteadyClock::time_point DeadlineAfter(std::chrono::milliseconds timeout) {
  constexpr auto kMax = std::chrono::hours(24 * 365);
  if (timeout < std::chrono::milliseconds::zero()) timeout = std::chrono::milliseconds::zero();
  if (timeout > kMax) timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kMax);
  return SteadyClock::now() + timeout;
}

int MillisUntil(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left, std::numeric_limits<int>::max()));
}

std::string ErrnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof(buf));
}

uint32_t ReadLe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 | static_cast<uint32_t>(u[2]) << 16 |
         static_cast<uint32_t>(u[3]) << 24;
}

void WriteLe32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

Status ClosedError(const Status& reason) {
  std::string message = "enclave channel closed";
  if (!reason.ok() && !reason.message().empty()) {
    message += ": ";
    message += reason.message();
  }
  return UnavailableError(std::move(message));
}

}  // namespace

Status StatusFromProto(const v1::Status& status) {
  if (status.code() == 0) return Status::Ok();
  if (status.code() < 0 || status.code() > kLastCanonicalCode) {
    return UnknownError("status code " + std::to_string(status.code()) + ": " + status.message());
  }
  return Status(static_cast<StatusCode>(status.code()), status.message());
}

void StatusToProto(const Status& status, v1::Status* out) {
  out->set_code(static_cast<int32_t>(status.code()));
  out->set_message(std::string(status.message()));
}

v1::EcallResponse EcallErrorResponse(const Status& status) {
  v1::EcallResponse response;
  StatusToProto(status.ok() ? InternalError("error response built from an OK status") : status,
                response.mutable_status());
  return response;
}

v1::OcallResponse OcallErrorResponse(const Status& status) {
  v1::OcallResponse response;
  StatusToProto(status.ok() ? InternalError("error response built from an OK status") : status,
                response.mutable_status());
  return response;
}

StatusOr<std::unique_ptr<Channel>> Channel::Open(int fd, IncomingHandler handler, ChannelOptions options) {
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    return InvalidArgumentError("enclave channel: fd " + std::to_string(fd) + " is not open");
  }
  if (!S_ISSOCK(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError("enclave channel: fd " + std::to_string(fd) + " is not a socket");
  }
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    ::close(fd);
    return InvalidArgumentError("enclave channel: fd " + std::to_string(fd) + " is not a stream socket");
  }
  if (options.workers < 1) {
    ::close(fd);
    return InvalidArgumentError("enclave channel: workers must be at least 1");
  }
  if (options.max_frame_bytes == 0 || options.max_frame_bytes > std::numeric_limits<uint32_t>::max()) {
    ::close(fd);
    return InvalidArgumentError("enclave channel: max_frame_bytes must be between 1 and 2^32-1");
  }
  std::unique_ptr<Channel> channel(new Channel(fd, std::move(handler), std::move(options)));
  channel->Start();
  return channel;
}

Channel::Channel(int fd, IncomingHandler handler, ChannelOptions options)
    : handler_(std::move(handler)), options_(std::move(options)), fd_(fd) {}

void Channel::Start() {
  workers_.reserve(static_cast<size_t>(options_.workers));
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  reader_ = std::thread([this] { ReadLoop(); });
}

Channel::~Channel() {
  Close();
}

void Channel::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  Fail(CancelledError("closed by this side"));
  const auto self = std::this_thread::get_id();
  if (reader_.joinable() && reader_.get_id() != self) reader_.join();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
    queue_.clear();
  }
  queue_cv_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable() && worker.get_id() != self) worker.join();
  }
  if (!fd_closed_) {
    // A writer may be inside send() until it sees closed_; wait for it to leave before the fd
    // number can be reused.
    std::unique_lock<std::mutex> write_lock(write_mu_);
    write_cv_.wait(write_lock, [&] { return !writing_; });
    writing_ = true;  // and none may start
    std::lock_guard<std::mutex> lock(mu_);
    ::close(fd_);
    fd_closed_ = true;
  }
}

void Channel::Shutdown() {
  Fail(UnavailableError("shut down by this side"));
}

Status Channel::close_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return close_reason_;
}

void Channel::WaitClosed() const {
  std::unique_lock<std::mutex> lock(mu_);
  closed_cv_.wait(lock, [&] { return closed(); });
}

bool Channel::WaitClosedFor(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return closed_cv_.wait_until(lock, DeadlineAfter(timeout), [&] { return closed(); });
}

void Channel::Fail(Status reason) {
  std::map<uint64_t, std::shared_ptr<Pending>> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed()) return;
    close_reason_ = std::move(reason);
    closed_.store(true, std::memory_order_release);
    pending.swap(pending_);
    const Status error = ClosedError(close_reason_);
    for (auto& [id, call] : pending) {
      call->error = error;
      call->done = true;
      call->cv.notify_all();
    }
    // Wakes the reader (recv returns 0) and any writer, and tells the peer we are gone. Under mu_,
    // so Close() cannot have closed the fd (and its number been reused) by now.
    ::shutdown(fd_, SHUT_RDWR);
  }
  closed_cv_.notify_all();
}

StatusOr<v1::EcallResponse> Channel::Call(const v1::EcallRequest& request, std::chrono::milliseconds timeout) {
  v1::Frame frame;
  *frame.mutable_ecall() = request;
  ASSIGN_OR_RETURN(v1::Frame answer, RoundTrip(std::move(frame), timeout));
  if (!answer.has_ecall_response()) return InternalError("enclave channel: an ECALL was answered with another message");
  v1::EcallResponse* response = answer.mutable_ecall_response();
  if (response->has_status() && response->status().code() != 0) return StatusFromProto(response->status());
  return std::move(*response);
}

StatusOr<v1::OcallResponse> Channel::Ocall(const v1::OcallRequest& request, std::chrono::milliseconds timeout) {
  v1::Frame frame;
  *frame.mutable_ocall() = request;
  ASSIGN_OR_RETURN(v1::Frame answer, RoundTrip(std::move(frame), timeout));
  if (!answer.has_ocall_response()) return InternalError("enclave channel: an OCALL was answered with another message");
  v1::OcallResponse* response = answer.mutable_ocall_response();
  if (response->has_status() && response->status().code() != 0) return StatusFromProto(response->status());
  return std::move(*response);
}

Status Channel::OcallNoWait(const v1::OcallRequest& request, std::chrono::milliseconds write_timeout) {
  if (closed()) return ClosedError(close_reason());
  v1::Frame frame;
  frame.set_id(next_id_.fetch_add(1, std::memory_order_relaxed));
  *frame.mutable_ocall() = request;
  return WriteFrame(frame, DeadlineAfter(write_timeout));
}

StatusOr<v1::Frame> Channel::RoundTrip(v1::Frame frame, std::chrono::milliseconds timeout) {
  const auto deadline = DeadlineAfter(timeout);
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  frame.set_id(id);
  auto call = std::make_shared<Pending>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed()) return ClosedError(close_reason_);
    pending_.emplace(id, call);
  }
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { n.fetch_sub(1, std::memory_order_relaxed); }
  } in_flight{in_flight_};
  Status written = WriteFrame(frame, deadline);
  if (written.ok() && in_flight_.load(std::memory_order_relaxed) == 1) {
    // A lone call's answer comes back within tens of microseconds: wait for it awake rather
    // than pay for sleeping on the condition variable and being woken. With several calls in
    // flight the cores are better spent serving them, so those sleep at once.
    const auto spin_until = SteadyClock::now() + kSpinBeforeSleeping;
    while (!call->done.load(std::memory_order_acquire) && SteadyClock::now() < spin_until) std::this_thread::yield();
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!written.ok()) {
    pending_.erase(id);
    return written;
  }
  if (!call->cv.wait_until(lock, deadline, [&] { return call->done.load(); })) {
    pending_.erase(id);
    return DeadlineExceededError("enclave call got no answer within " + std::to_string(timeout.count()) + " ms");
  }
  if (!call->error.ok()) return call->error;
  return std::move(call->frame);
}

Status Channel::WriteFrame(const v1::Frame& frame, SteadyClock::time_point deadline) {
  const size_t size = frame.ByteSizeLong();
  if (size > options_.max_frame_bytes) {
    return ResourceExhaustedError("enclave channel: frame of " + std::to_string(size) + " bytes exceeds the " +
                                  std::to_string(options_.max_frame_bytes) + "-byte limit");
  }
  std::string wire(kHeaderBytes + size, '\0');
  WriteLe32(wire.data(), static_cast<uint32_t>(size));
  if (!frame.SerializeToArray(wire.data() + kHeaderBytes, static_cast<int>(size))) {
    return InternalError("enclave channel: could not serialize a frame");
  }

  if (!AcquireWriter(deadline)) {
    if (closed()) return ClosedError(close_reason());
    return DeadlineExceededError("enclave channel: timed out waiting to write");
  }
  struct Release {
    Channel* channel;
    ~Release() { channel->ReleaseWriter(); }
  } release{this};
  size_t offset = 0;
  while (offset < wire.size()) {
    if (closed()) return ClosedError(close_reason());
    ssize_t n = ::send(fd_, wire.data() + offset, wire.size() - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      offset += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Before the first byte the caller's deadline applies; once a frame has started it must be
      // finished (or the channel fails), since a half-written frame would desynchronise the peer.
      const int wait_ms = offset == 0 ? MillisUntil(deadline) : 100;
      pollfd pfd{fd_, POLLOUT, 0};
      int ready = ::poll(&pfd, 1, wait_ms);
      if (ready == 0 && offset == 0) return DeadlineExceededError("enclave channel: timed out waiting to write");
      continue;
    }
    const int err = n < 0 ? errno : EPIPE;
    Fail(UnavailableError("write failed: " + ErrnoText(err)));
    return ClosedError(close_reason());
  }
  return Status::Ok();
}

bool Channel::AcquireWriter(SteadyClock::time_point deadline) {
  std::unique_lock<std::mutex> lock(write_mu_);
  if (!write_cv_.wait_until(lock, deadline, [&] { return !writing_ || fd_closed_; })) return false;
  if (fd_closed_) return false;
  writing_ = true;
  return true;
}

void Channel::ReleaseWriter() {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    writing_ = false;
  }
  write_cv_.notify_all();
}

void Channel::ReadLoop() {
  std::vector<char> buf(kReadChunk);
  size_t start = 0;  // first unread byte
  size_t end = 0;    // one past the last received byte
  Status reason;
  while (reason.ok()) {
    // Parse every complete frame in the buffer.
    size_t need = kHeaderBytes;
    while (end - start >= kHeaderBytes) {
      const uint32_t length = ReadLe32(buf.data() + start);
      if (length > options_.max_frame_bytes) {
        reason = ResourceExhaustedError("incoming frame of " + std::to_string(length) + " bytes exceeds the " +
                                        std::to_string(options_.max_frame_bytes) + "-byte limit");
        break;
      }
      if (end - start - kHeaderBytes < length) {
        need = kHeaderBytes + length;
        break;
      }
      v1::Frame frame;
      if (!frame.ParseFromArray(buf.data() + start + kHeaderBytes, static_cast<int>(length))) {
        reason = DataLossError("malformed frame from the peer");
        break;
      }
      start += kHeaderBytes + length;
      if (frame.body_case() == v1::Frame::BODY_NOT_SET) {
        reason = DataLossError("frame without a body from the peer");
        break;
      }
      Dispatch(std::move(frame));
    }
    if (!reason.ok()) break;

    // Make room: move the unread tail to the front, and grow for a large frame.
    if (start == end) {
      start = end = 0;
      if (buf.size() > 4 * kReadChunk) {
        buf.assign(kReadChunk, '\0');
        buf.shrink_to_fit();
      }
    } else if (buf.size() - start < need || buf.size() - end < kReadChunk / 4) {
      std::memmove(buf.data(), buf.data() + start, end - start);
      end -= start;
      start = 0;
    }
    if (buf.size() < need) buf.resize(need);

    ssize_t n = ::recv(fd_, buf.data() + end, buf.size() - end, 0);
    if (n > 0) {
      end += static_cast<size_t>(n);
    } else if (n == 0) {
      reason = UnavailableError(closed() ? "" : "the peer closed the connection");
    } else if (errno != EINTR) {
      reason = UnavailableError("read failed: " + ErrnoText(errno));
    }
  }
  Fail(std::move(reason));
}

void Channel::Dispatch(v1::Frame frame) {
  if (frame.has_ecall_response() || frame.has_ocall_response()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(frame.id());
    if (it == pending_.end()) {
      dropped_responses_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::shared_ptr<Pending> call = std::move(it->second);
    pending_.erase(it);
    call->frame = std::move(frame);
    call->done = true;
    call->cv.notify_all();
    return;
  }
  if (options_.serve_on_reader && options_.serve_on_reader(frame)) {
    Serve(frame);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return;
    queue_.push_back(std::move(frame));
  }
  queue_cv_.notify_one();
}

void Channel::WorkerLoop() {
  while (true) {
    v1::Frame request;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      request = std::move(queue_.front());
      queue_.pop_front();
    }
    Serve(request);
    if (options_.after_serve) options_.after_serve();
  }
}

void Channel::Serve(const v1::Frame& request) {
  v1::Frame answer;
  answer.set_id(request.id());
  // Handlers report errors in the response; an exception is a bug, answered without its text
  // (which could carry data the handler held).
  if (request.has_ecall()) {
    v1::EcallResponse* response = answer.mutable_ecall_response();
    if (!handler_.ecall) {
      *response = EcallErrorResponse(UnimplementedError("this side of the enclave channel serves no ECALLs"));
    } else {
      try {
        *response = handler_.ecall(request.ecall(), *this);
      } catch (...) {
        *response = EcallErrorResponse(InternalError("the ECALL handler failed"));
      }
    }
  } else {
    v1::OcallResponse* response = answer.mutable_ocall_response();
    if (!handler_.ocall) {
      *response = OcallErrorResponse(UnimplementedError("this side of the enclave channel serves no OCALLs"));
    } else {
      try {
        *response = handler_.ocall(request.ocall(), *this);
      } catch (...) {
        *response = OcallErrorResponse(InternalError("the OCALL handler failed"));
      }
    }
  }
  const auto deadline = DeadlineAfter(options_.write_timeout);
  Status written = WriteFrame(answer, deadline);
  if (written.code() == StatusCode::kResourceExhausted) {
    // The answer is too big for a frame: say so rather than leave the caller to time out.
    v1::Frame error;
    error.set_id(request.id());
    if (request.has_ecall()) {
      *error.mutable_ecall_response() = EcallErrorResponse(written);
    } else {
      *error.mutable_ocall_response() = OcallErrorResponse(written);
    }
    written = WriteFrame(error, deadline);
  }
  // Otherwise a failure means the channel closed or the peer stopped reading; the caller times out.
  (void)written;
}

}  // namespace neosl::tee
