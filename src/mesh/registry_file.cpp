// The file backend: several processes on one machine share <dir>/<service>/<instance>.json.
//
// Each file holds the endpoint JSON plus "expires_ms" (wall-clock Unix ms at which the entry
// stops being live) and "lease" (a random token naming the registration that wrote it). The
// owner rewrites its file every keepalive interval; a process that dies stops doing so and its
// entry expires. Writes go through a temporary file and rename(2), so readers never see half a
// file; they are not fsynced because entries are worthless after a reboot anyway.
//
// Writers, and readers removing expired entries, hold flock(2) on <dir>/<service>/.lock so that a
// check-then-write (is this still my entry? is it still expired?) cannot interleave with another
// process's write.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

#include <sys/file.h>

#include "core/log.h"
#include "mesh/registry.h"
#include "mesh/registry_internal.h"

namespace neosl::mesh {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

std::string Errno(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::error_code(errno, std::generic_category()).message();
}

// An exclusive flock on a service directory's lock file, released on destruction.
class ServiceLock {
 public:
  static StatusOr<ServiceLock> Acquire(const std::string& service_dir) {
    std::error_code ec;
    fs::create_directories(service_dir, ec);
    if (ec) return UnavailableError("registry: create " + service_dir + ": " + ec.message());
    std::string path = service_dir + "/.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return UnavailableError("registry: " + Errno("open", path));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        Status s = UnavailableError("registry: " + Errno("flock", path));
        ::close(fd);
        return s;
      }
    }
    return ServiceLock(fd);
  }
  ServiceLock(ServiceLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ServiceLock& operator=(ServiceLock&&) = delete;
  ServiceLock(const ServiceLock&) = delete;
  ServiceLock& operator=(const ServiceLock&) = delete;
  ~ServiceLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit ServiceLock(int fd) : fd_(fd) {}
  int fd_;
};

struct StoredEntry {
  Endpoint endpoint;
  int64_t expires_ms = 0;
  std::string lease;
};

StatusOr<std::string> ReadWhole(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(path + " does not exist");
    return UnavailableError("registry: " + Errno("open", path));
  }
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = UnavailableError("registry: " + Errno("read", path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) {
      ::close(fd);
      return InvalidArgumentError(path + " is larger than 1 MiB");
    }
  }
  ::close(fd);
  return out;
}

// NOT_FOUND if the file is gone, INVALID_ARGUMENT if it is not a well-formed entry.
StatusOr<StoredEntry> ReadEntry(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadWhole(path));
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return InvalidArgumentError("not a JSON object");
  const json::object& object = value.get_object();
  StoredEntry entry;
  ASSIGN_OR_RETURN(entry.endpoint, internal::EndpointFromObject(object));
  const json::value* expires = object.if_contains("expires_ms");
  if (!expires || !expires->is_int64()) return InvalidArgumentError("\"expires_ms\" must be an integer");
  entry.expires_ms = expires->get_int64();
  if (const json::value* lease = object.if_contains("lease"); lease && lease->is_string()) {
    entry.lease = std::string(lease->get_string());
  }
  return entry;
}

Status WriteAtomic(const std::string& dir, const std::string& path, std::string_view content) {
  static std::atomic<uint64_t> counter{0};
  // A dot name that does not end in .json: readers skip it while it is being written.
  std::string tmp = dir + "/.tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) + ".part";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("registry: " + Errno("create", tmp));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = UnavailableError("registry: " + Errno("write", tmp));
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = UnavailableError("registry: " + Errno("write", path));
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

struct FileShared {
  FileShared(std::string d, RegistryOptions o, const Clock& c) : dir(std::move(d)), options(o), clock(c) {}

  std::string dir;
  RegistryOptions options;
  const Clock& clock;
  std::mutex warned_mu;
  std::set<std::string> warned;  // malformed files already reported, by path, size and mtime

  std::string ServiceDir(std::string_view service) const { return dir + "/" + std::string(service); }
  std::string Location(std::string_view service) const { return ServiceDir(service); }
  std::string EntryPath(std::string_view service, std::string_view instance) const {
    return ServiceDir(service) + "/" + std::string(instance) + ".json";
  }

  Status WriteEntry(const Endpoint& endpoint, const std::string& lease) const {
    json::object object = internal::EndpointToObject(endpoint);
    object["expires_ms"] = clock.NowUnixMillis() + options.lease_ttl.count();
    object["lease"] = lease;
    return WriteAtomic(ServiceDir(endpoint.service), EntryPath(endpoint.service, endpoint.instance),
                       json::serialize(object));
  }

  // Logs a malformed file once per version of it, not on every poll.
  void WarnMalformed(const fs::directory_entry& file, const Status& why) {
    std::error_code ec;
    auto size = file.file_size(ec);
    auto mtime = file.last_write_time(ec).time_since_epoch().count();
    std::string key = file.path().string() + "|" + std::to_string(size) + "|" + std::to_string(mtime);
    {
      std::lock_guard lock(warned_mu);
      if (!warned.insert(key).second) return;
      if (warned.size() > 10000) warned.clear();
    }
    log::Warn("registry: skipping malformed entry", {{"file", file.path().string()}, {"error", why.ToString()}});
  }

  void RemoveIfExpired(std::string_view service, const std::string& path, const std::string& lease) const {
    StatusOr<ServiceLock> lock = ServiceLock::Acquire(ServiceDir(service));
    if (!lock.ok()) return;
    // Re-read under the lock: the owner may have renewed it since we looked.
    StatusOr<StoredEntry> again = ReadEntry(path);
    if (again.ok() && again->lease == lease && again->expires_ms <= clock.NowUnixMillis()) ::unlink(path.c_str());
  }

  StatusOr<std::vector<Endpoint>> Resolve(std::string_view service) {
    RETURN_IF_ERROR(internal::ValidateName("service", service));
    std::vector<Endpoint> live;
    std::string service_dir = ServiceDir(service);
    std::error_code ec;
    fs::directory_iterator it(service_dir, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return live;
      return UnavailableError("registry: list " + service_dir + ": " + ec.message());
    }
    int64_t now = clock.NowUnixMillis();
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return UnavailableError("registry: list " + service_dir + ": " + ec.message());
      const fs::directory_entry& file = *it;
      std::string name = file.path().filename().string();
      if (name.starts_with(".")) {
        RemoveStaleTemp(file);
        continue;
      }
      if (!name.ends_with(".json")) continue;
      std::string instance = name.substr(0, name.size() - 5);
      StatusOr<StoredEntry> entry = ReadEntry(file.path().string());
      if (!entry.ok() && entry.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      if (entry.ok() && (entry->endpoint.service != service || entry->endpoint.instance != instance)) {
        entry = InvalidArgumentError("service or instance does not match the file's place");
      }
      if (!entry.ok()) {
        WarnMalformed(file, entry.status());
        continue;
      }
      if (entry->expires_ms <= now) {
        RemoveIfExpired(service, file.path().string(), entry->lease);
        continue;
      }
      live.push_back(std::move(entry->endpoint));
    }
    std::sort(live.begin(), live.end(), [](const Endpoint& a, const Endpoint& b) { return a.instance < b.instance; });
    return live;
  }

  // A writer killed between create and rename leaves its temporary file behind.
  void RemoveStaleTemp(const fs::directory_entry& file) const {
    if (!file.path().filename().string().starts_with(".tmp.")) return;
    std::error_code ec;
    auto mtime = file.last_write_time(ec);
    if (ec) return;
    auto age = fs::file_time_type::clock::now() - mtime;
    if (age > std::max<fs::file_time_type::duration>(std::chrono::minutes(1), options.lease_ttl * 2)) {
      fs::remove(file.path(), ec);
    }
  }
};

class FileRegistration final : public Registration {
 public:
  FileRegistration(std::shared_ptr<FileShared> shared, Endpoint endpoint)
      : shared_(std::move(shared)), endpoint_(std::move(endpoint)), lease_(internal::NewLeaseToken()) {}
  ~FileRegistration() override { (void)Close(); }
  FileRegistration(const FileRegistration&) = delete;
  FileRegistration& operator=(const FileRegistration&) = delete;

  // Writes the entry, replacing whatever registration of the instance was there.
  Status Start() {
    {
      ASSIGN_OR_RETURN(ServiceLock lock, ServiceLock::Acquire(shared_->ServiceDir(endpoint_.service)));
      RETURN_IF_ERROR(shared_->WriteEntry(endpoint_, lease_));
    }
    keepalive_ = std::thread([this] { KeepAlive(); });
    return Status::Ok();
  }

  Status SetHealthy(bool healthy) override {
    std::lock_guard lock(mu_);
    if (closed_) return FailedPreconditionError("registration of " + endpoint_.instance + " is closed");
    bool before = endpoint_.healthy;
    endpoint_.healthy = healthy;
    Status s = RenewLocked();
    if (!s.ok()) endpoint_.healthy = before;
    return s;
  }

  Status Close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return Status::Ok();
      closed_ = true;
    }
    cv_.notify_all();
    if (keepalive_.joinable()) keepalive_.join();
    if (superseded_) return Status::Ok();
    ASSIGN_OR_RETURN(ServiceLock lock, ServiceLock::Acquire(shared_->ServiceDir(endpoint_.service)));
    std::string path = shared_->EntryPath(endpoint_.service, endpoint_.instance);
    StatusOr<StoredEntry> current = ReadEntry(path);
    if (current.ok() && current->lease == lease_ && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return UnavailableError("registry: " + Errno("remove", path));
    }
    return Status::Ok();
  }

 private:
  // Rewrites the entry with a fresh expiry unless another registration of the instance has
  // replaced it (then FAILED_PRECONDITION, and this one stops renewing). Requires mu_.
  Status RenewLocked() {
    if (superseded_) return FailedPreconditionError("instance " + endpoint_.instance + " was registered again");
    ASSIGN_OR_RETURN(ServiceLock lock, ServiceLock::Acquire(shared_->ServiceDir(endpoint_.service)));
    StatusOr<StoredEntry> current = ReadEntry(shared_->EntryPath(endpoint_.service, endpoint_.instance));
    // A missing entry (expired and removed while we were stalled) or a malformed one is ours to
    // rewrite; a live entry of another lease is not.
    if (current.ok() && current->lease != lease_ && current->expires_ms > shared_->clock.NowUnixMillis()) {
      superseded_ = true;
      return FailedPreconditionError("instance " + endpoint_.instance + " was registered again");
    }
    return shared_->WriteEntry(endpoint_, lease_);
  }

  void KeepAlive() {
    std::unique_lock lock(mu_);
    bool failing = false;
    while (!closed_ && !superseded_) {
      if (cv_.wait_for(lock, shared_->options.keepalive_interval, [this] { return closed_; })) break;
      Status s = RenewLocked();
      internal::LogRenewal(endpoint_, "file", s, superseded_, &failing);
    }
  }

  std::shared_ptr<FileShared> shared_;
  std::mutex mu_;
  std::condition_variable cv_;
  Endpoint endpoint_;
  const std::string lease_;
  bool closed_ = false;
  bool superseded_ = false;
  std::thread keepalive_;
};

}  // namespace

StatusOr<std::unique_ptr<Registry>> NewFileRegistry(std::string dir, RegistryOptions options, const Clock& clock) {
  ASSIGN_OR_RETURN(options, internal::NormalizeOptions(options));
  if (dir.empty()) return InvalidArgumentError("file registry: directory must not be empty");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FailedPreconditionError("file registry: create " + dir + ": " + ec.message());
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return FailedPreconditionError("file registry: " + Errno("cannot write to", dir));
  }
  auto shared = std::make_shared<FileShared>(std::move(dir), options, clock);
  return std::unique_ptr<Registry>(
      std::make_unique<internal::PollingRegistry<FileShared, FileRegistration>>(std::move(shared), "file"));
}

}  // namespace neosl::mesh
