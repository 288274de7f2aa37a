#include "gateway/auth.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "core/encoding.h"
#include "core/log.h"
#include "gateway/http_types.h"

namespace neosl::gateway {
namespace {

// strerror is not thread-safe; std::generic_category's message is.
std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

constexpr size_t kSecretChars = 52;  // base32 of 32 random bytes

Status Unauthenticated(std::string message) {
  return UnauthenticatedError(std::move(message))
      .WithDetail(ErrorDetail{"AuthenticationError", {}}.Add("scheme", "Bearer"));
}

}  // namespace

bool Principal::admin() const {
  return std::find(roles.begin(), roles.end(), Role::kAdmin) != roles.end();
}

bool Principal::Has(Role role) const {
  for (Role r : roles) {
    if (r == Role::kAdmin || static_cast<int>(r) >= static_cast<int>(role)) return true;
  }
  return false;
}

StatusOr<ApiKeyId> ParseApiKey(std::string_view token) {
  constexpr std::string_view kPrefix = "nsl_";
  if (token.substr(0, kPrefix.size()) != kPrefix) {
    return Unauthenticated("malformed API key: expected nsl_<id>_<secret>");
  }
  std::string_view rest = token.substr(kPrefix.size());
  auto sep = rest.find('_');
  if (sep == std::string_view::npos || !ApiKeyId::IsWellFormed(rest.substr(0, sep)) ||
      rest.size() - sep - 1 != kSecretChars) {
    return Unauthenticated("malformed API key: expected nsl_<id>_<secret>");
  }
  return ApiKeyId(std::string(rest.substr(0, sep)));
}

StatusOr<Principal> Authenticator::Authenticate(std::string_view authorization) const {
  if (authorization.empty()) {
    return Unauthenticated("missing API key: send 'Authorization: Bearer nsl_<id>_<secret>'");
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() || !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return Unauthenticated("the Authorization header must use the Bearer scheme");
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  ASSIGN_OR_RETURN(ApiKeyId id, ParseApiKey(token));

  // Hash before the lookup so an unknown id costs the same as a wrong secret.
  KeyHash presented = hasher_.Hash(token);
  auto found = accounts_.FindForAuth(id);
  if (!found.ok()) {
    return UnavailableError("cannot verify the API key now: the store is unavailable");
  }
  if (!found->has_value() || !ConstantTimeEquals(presented, (*found)->hash)) {
    return Unauthenticated("invalid API key");
  }
  const ApiKeyRecord& record = (*found)->record;
  if (record.revoked_at_ms) return Unauthenticated("API key has been revoked");
  return Principal{record.account_id, record.id, record.roles};
}

StatusOr<SecretBytes> LoadKeyHashSecret(const Config& config, const std::string& data_dir, RandomSource& random) {
  const std::string& inline_secret = config.String("auth.key_hash_secret");
  if (!inline_secret.empty()) {
    if (inline_secret.size() < 32) {
      return InvalidArgumentError("auth.key_hash_secret must be at least 32 characters long");
    }
    return SecretBytes(std::string_view(inline_secret));
  }
  std::string path = config.String("auth.key_hash_secret_file");
  bool default_path = path.empty();
  if (default_path) path = data_dir + "/key-hash.secret";

  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && default_path) {
    uint8_t bytes[32];
    random.Fill(bytes);
    std::string tmp = path + ".tmp";
    int wfd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (wfd < 0) return UnavailableError("cannot create " + tmp + ": " + ErrnoMessage(errno));
    bool ok = write(wfd, bytes, sizeof bytes) == ssize_t(sizeof bytes) && fsync(wfd) == 0;
    close(wfd);
    SecretBytes secret{std::span<const uint8_t>(bytes)};
    OPENSSL_cleanse(bytes, sizeof bytes);
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      unlink(tmp.c_str());
      return UnavailableError("cannot write " + path + ": " + ErrnoMessage(err));
    }
    log::Info("created the API key hashing secret", {{"path", path}});
    return secret;
  }
  if (fd < 0) return UnavailableError("cannot read " + path + ": " + ErrnoMessage(errno));
  struct stat st {};
  if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    log::Warn("key hashing secret file is readable by group or others", {{"path", path}});
  }
  std::vector<uint8_t> buf(4096);
  ssize_t n = read(fd, buf.data(), buf.size());
  close(fd);
  if (n < 32) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return InvalidArgumentError("key hashing secret " + path + " must hold at least 32 bytes");
  }
  SecretBytes secret{std::span<const uint8_t>(buf.data(), size_t(n))};
  OPENSSL_cleanse(buf.data(), buf.size());
  return secret;
}

}  // namespace neosl::gateway
