#include "apps/neosl/backup_archive.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <system_error>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/encoding.h"

namespace neosl::backup {
namespace {

constexpr size_t kBlock = 512;
constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kMaxManifestBytes = 16 << 20;
constexpr uint64_t kMaxOctalSize = 077777777777ULL;  // 11 octal digits: 8 GiB - 1

// Offsets of the ustar header fields (POSIX.1-1988, "ustar Interchange Format").
constexpr size_t kName = 0, kNameLen = 100;
constexpr size_t kMode = 100, kUid = 108, kGid = 116, kSize = 124, kMtime = 136, kChksum = 148;
constexpr size_t kType = 156, kLinkname = 157, kMagic = 257, kDevMajor = 329, kDevMinor = 337;
constexpr size_t kPrefix = 345, kPrefixLen = 155;

using Block = std::array<uint8_t, kBlock>;

// The magic "ustar" NUL and the version "00", 8 bytes at kMagic: POSIX ustar, as GNU tar
// writes it with --format=ustar.
constexpr std::array<uint8_t, 8> kUstar = {'u', 's', 't', 'a', 'r', 0, '0', '0'};

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

void PutOctal(Block& b, size_t at, size_t width, uint64_t value) {
  // width-1 digits and a NUL, zero-filled, as GNU tar writes them.
  for (size_t i = width - 1; i-- > 0;) {
    b[at + i] = uint8_t('0' + (value & 7));
    value >>= 3;
  }
  b[at + width - 1] = 0;
}

unsigned Checksum(const Block& b) {
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= kChksum && i < kChksum + 8) ? ' ' : b[i];
  return sum;
}

bool AllZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t c) { return c == 0; });
}

// Digits, then NUL or space padding to the end of the field; nothing else.
std::optional<uint64_t> ParseOctal(const Block& b, size_t at, size_t width) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < width && b[at + i] >= '0' && b[at + i] <= '7'; ++i) {
    if (v > (UINT64_MAX >> 3)) return std::nullopt;
    v = (v << 3) | uint64_t(b[at + i] - '0');
  }
  if (i == 0) return std::nullopt;
  for (; i < width; ++i) {
    if (b[at + i] != 0 && b[at + i] != ' ') return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> ParseSize(const Block& b) {
  if ((b[kSize] & 0x80) == 0) return ParseOctal(b, kSize, 12);
  // GNU base-256: the high bit set, the rest a big-endian two's-complement number (ours are
  // positive and below 2^63).
  if (b[kSize] != 0x80 || b[kSize + 1] != 0 || b[kSize + 2] != 0 || b[kSize + 3] != 0) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 4; i < 12; ++i) v = (v << 8) | b[kSize + i];
  if (v > uint64_t(INT64_MAX) || v <= kMaxOctalSize) return std::nullopt;  // only where octal cannot
  return v;
}

uint64_t Padding(uint64_t size) {
  return (kBlock - size % kBlock) % kBlock;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

Status CheckName(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("a member name is empty");
  if (name.size() > kNameLen) return InvalidArgumentError("member name is longer than 100 bytes: " + std::string(name));
  if (name.front() == '/') return InvalidArgumentError("member name is an absolute path: " + std::string(name));
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view part =
        name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return InvalidArgumentError("member name has an empty path component: " + std::string(name));
    if (part == "." || part == "..") {
      return InvalidArgumentError("member name has a '" + std::string(part) + "' component: " + std::string(name));
    }
    if (!std::all_of(part.begin(), part.end(), IsNameChar)) {
      // The name may hold control characters: say what is wrong without echoing it.
      return InvalidArgumentError("member name has a character outside [A-Za-z0-9._-/]");
    }
    if (slash == std::string_view::npos) return Status();
    start = slash + 1;
  }
}

// Reads an fd in large chunks, counting what it hands out.
class Reader {
 public:
  // Not zero-filled: only what read(2) put there is ever handed out (and wiped).
  explicit Reader(int fd) : fd_(fd), buf_(new uint8_t[kChunk]) {}
  ~Reader() { OPENSSL_cleanse(buf_.get(), filled_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Up to out.size() bytes; fewer only at the end of the file.
  StatusOr<size_t> Read(std::span<uint8_t> out) {
    size_t got = 0;
    while (got < out.size()) {
      if (pos_ == end_) {
        RETURN_IF_ERROR(Fill());
        if (end_ == 0) break;
      }
      size_t n = std::min(out.size() - got, end_ - pos_);
      std::memcpy(out.data() + got, buf_.get() + pos_, n);
      pos_ += n;
      got += n;
    }
    offset_ += got;
    return got;
  }

  uint64_t offset() const { return offset_; }

 private:
  Status Fill() {
    pos_ = end_ = 0;
    while (true) {
      ssize_t n = ::read(fd_, buf_.get(), kChunk);
      if (n >= 0) {
        end_ = size_t(n);
        filled_ = std::max(filled_, end_);
        return Status();
      }
      if (errno != EINTR) return UnavailableError("cannot read the archive: " + ErrnoMessage(errno));
    }
  }

  int fd_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t pos_ = 0, end_ = 0;
  size_t filled_ = 0;  // how much of buf_ ever held archive bytes (to wipe)
  uint64_t offset_ = 0;
};

Status Truncated(const std::string& where) {
  return DataLossError("the archive is truncated: it ends " + where);
}

}  // namespace

Status ValidateMemberName(std::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  if (name == kManifestName || name == kTrailerName) {
    return InvalidArgumentError("member name is reserved for the archive itself: " + std::string(name));
  }
  return Status();
}

// ---- SHA-256 ----

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  // Allocation failure leaves ctx_ null; EVP_Digest* then fail and HexDigest says so.
  if (ctx_ != nullptr) EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256Stream::Update(std::span<const uint8_t> data) {
  if (ctx_ != nullptr) EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::string Sha256Stream::HexDigest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  std::array<uint8_t, 32> digest{};
  unsigned len = 0;
  bool ok = copy != nullptr && ctx_ != nullptr && EVP_MD_CTX_copy_ex(copy, ctx_) == 1 &&
            EVP_DigestFinal_ex(copy, digest.data(), &len) == 1 && len == digest.size();
  EVP_MD_CTX_free(copy);
  return ok ? HexEncode(digest) : std::string("(sha-256 unavailable)");
}

// ---- Writer ----

Status ArchiveWriter::Write(std::span<const uint8_t> data, bool covered) {
  if (covered) covered_.Update(data);
  whole_.Update(data);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return UnavailableError("cannot write the archive: " + ErrnoMessage(n < 0 ? errno : EIO));
    done += size_t(n);
  }
  written_ += data.size();
  return Status();
}

Status ArchiveWriter::Pad(uint64_t size) {
  static const Block kZero{};
  return Write(std::span(kZero).first(Padding(size)));
}

Status ArchiveWriter::Header(const std::string& name, uint32_t mode, uint64_t size, int64_t mtime) {
  Block b{};
  std::memcpy(b.data() + kName, name.data(), name.size());
  PutOctal(b, kMode, 8, mode & 07777);
  PutOctal(b, kUid, 8, 0);
  PutOctal(b, kGid, 8, 0);
  if (size <= kMaxOctalSize) {
    PutOctal(b, kSize, 12, size);
  } else {
    b[kSize] = 0x80;
    for (size_t i = 0; i < 8; ++i) b[kSize + 11 - i] = uint8_t(size >> (8 * i));
  }
  PutOctal(b, kMtime, 12, uint64_t(std::max<int64_t>(0, mtime)));
  b[kType] = '0';
  std::copy(kUstar.begin(), kUstar.end(), b.begin() + kMagic);
  PutOctal(b, kDevMajor, 8, 0);
  PutOctal(b, kDevMinor, 8, 0);
  std::snprintf(reinterpret_cast<char*>(b.data() + kChksum), 8, "%06o", Checksum(b));
  b[kChksum + 7] = ' ';
  return Write(b, name != kTrailerName);
}

Status ArchiveWriter::AddFile(const std::string& name, std::string_view kind, uint32_t mode, int in, uint64_t size) {
  RETURN_IF_ERROR(ValidateMemberName(name));
  if (mtime_ == 0) mtime_ = int64_t(std::time(nullptr));
  RETURN_IF_ERROR(Header(name, mode, size, mtime_));
  Sha256Stream sha;
  std::vector<uint8_t> buf(size_t(std::clamp<uint64_t>(size, 1, kChunk)));
  uint64_t left = size;
  Status status;
  while (status.ok()) {
    ssize_t n = ::read(in, buf.data(), size_t(std::min<uint64_t>(buf.size(), std::max<uint64_t>(left, 1))));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = UnavailableError("cannot read " + name + ": " + ErrnoMessage(errno));
    } else if (n == 0 && left > 0) {
      status = FailedPreconditionError(name + " became shorter while it was read");
    } else if (n > 0 && left == 0) {
      status = FailedPreconditionError(name + " grew while it was read");
    } else if (n == 0) {
      break;
    } else {
      sha.Update(std::span(buf).first(size_t(n)));
      status = Write(std::span(buf).first(size_t(n)));
      left -= uint64_t(n);
    }
  }
  OPENSSL_cleanse(buf.data(), buf.size());  // it held a key file's bytes, perhaps
  RETURN_IF_ERROR(status);
  RETURN_IF_ERROR(Pad(size));
  members_.push_back(Member{name, std::string(kind), size, mode & 07777, sha.HexDigest()});
  return Status();
}

Status ArchiveWriter::AddBytes(const std::string& name, std::string_view kind, uint32_t mode,
                               std::span<const uint8_t> data) {
  RETURN_IF_ERROR(ValidateMemberName(name));
  if (mtime_ == 0) mtime_ = int64_t(std::time(nullptr));
  RETURN_IF_ERROR(Header(name, mode, data.size(), mtime_));
  Sha256Stream sha;
  sha.Update(data);
  RETURN_IF_ERROR(Write(data));
  RETURN_IF_ERROR(Pad(data.size()));
  members_.push_back(Member{name, std::string(kind), data.size(), mode & 07777, sha.HexDigest()});
  return Status();
}

Status ArchiveWriter::Finish(Manifest manifest) {
  if (mtime_ == 0) mtime_ = int64_t(std::time(nullptr));
  manifest.members = members_;
  const std::string text = ManifestToJson(manifest);
  RETURN_IF_ERROR(Header(std::string(kManifestName), 0600, text.size(), mtime_));
  RETURN_IF_ERROR(Write(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  RETURN_IF_ERROR(Pad(text.size()));
  const std::string trailer = "sha256 " + covered_.HexDigest() + "\n";
  RETURN_IF_ERROR(Header(std::string(kTrailerName), 0600, trailer.size(), mtime_));
  RETURN_IF_ERROR(Write(std::span(reinterpret_cast<const uint8_t*>(trailer.data()), trailer.size()), false));
  RETURN_IF_ERROR(Pad(trailer.size()));
  static const std::array<uint8_t, 2 * kBlock> kEnd{};
  return Write(kEnd, false);
}

// ---- Reader ----

namespace {

struct Entry {
  std::string name;
  uint32_t mode = 0;
  uint64_t size = 0;
};

StatusOr<Entry> ParseHeader(const Block& b, uint64_t offset) {
  const std::string at = "the tar header at byte " + std::to_string(offset);
  // Exactly as written ("%06o", NUL, space): the checksum field is the one part of a header its
  // own sum leaves out, and the trailer's header is not under the trailer's hash either.
  auto sum = ParseOctal(b, kChksum, 6);
  if (!sum || b[kChksum + 6] != 0 || b[kChksum + 7] != ' ' || *sum != Checksum(b)) {
    return DataLossError(at + " is corrupt (its checksum does not match)");
  }
  if (!std::equal(kUstar.begin(), kUstar.end(), b.begin() + kMagic)) {
    return InvalidArgumentError(at + " is not a ustar header (this is not a neosl backup)");
  }
  const auto* name_begin = reinterpret_cast<const char*>(b.data() + kName);
  Entry e;
  e.name.assign(name_begin, strnlen(name_begin, kNameLen));
  if (!AllZero(std::span(b).subspan(kName + e.name.size(), kNameLen - e.name.size())) ||
      !AllZero(std::span(b).subspan(kPrefix, kPrefixLen))) {
    return InvalidArgumentError(at + ": the name field is not in the form neosl writes");
  }
  RETURN_IF_ERROR(CheckName(e.name).Annotate(at));
  if (b[kType] != '0') {
    return InvalidArgumentError(at + ": member " + e.name +
                                " is not a regular file (links, directories and devices are refused)");
  }
  if (!AllZero(std::span(b).subspan(kLinkname, kNameLen))) return InvalidArgumentError(at + ": has a link name");
  auto mode = ParseOctal(b, kMode, 8);
  auto size = ParseSize(b);
  if (!mode || *mode > 07777 || !size) return InvalidArgumentError(at + ": mode or size is not a valid number");
  e.mode = uint32_t(*mode);
  e.size = *size;
  return e;
}

// Reads `size` bytes of an entry and its padding, hashing them (and passing them to `sink`).
Status ReadBody(Reader& in, const Entry& e, Sha256Stream& covered, Sha256Stream* member, MemberSink* sink,
                std::string* keep) {
  std::vector<uint8_t> buf(size_t(std::min<uint64_t>(e.size, kChunk)));
  uint64_t left = e.size;
  Status status;
  while (left > 0 && status.ok()) {
    auto chunk = std::span(buf).first(size_t(std::min<uint64_t>(left, buf.size())));
    auto got = in.Read(chunk);
    if (!got.ok()) {
      status = got.status();
    } else if (*got < chunk.size()) {
      status = Truncated("inside member " + e.name + " (" + std::to_string(e.size - left + *got) + " of " +
                         std::to_string(e.size) + " bytes)");
    } else {
      covered.Update(chunk);
      if (member != nullptr) member->Update(chunk);
      if (keep != nullptr) keep->append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      if (sink != nullptr) status = sink->Data(chunk);
      left -= chunk.size();
    }
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  RETURN_IF_ERROR(status);
  Block pad{};
  auto padding = std::span(pad).first(Padding(e.size));
  ASSIGN_OR_RETURN(size_t got, in.Read(padding));
  if (got < padding.size()) return Truncated("in the padding after member " + e.name);
  if (!AllZero(padding)) return DataLossError("the padding after member " + e.name + " is not zero (corrupt)");
  covered.Update(padding);
  return Status();
}

}  // namespace

StatusOr<Manifest> ReadArchive(int fd, MemberSink* sink) {
  Reader in(fd);
  Sha256Stream covered;
  std::vector<Member> seen;
  std::string manifest_text;
  bool have_manifest = false;
  bool trailer_matches = false;
  while (true) {
    Block b{};
    const uint64_t offset = in.offset();
    ASSIGN_OR_RETURN(size_t got, in.Read(b));
    if (got == 0) {
      return Truncated(have_manifest ? "after its manifest, before its trailer"
                                     : "after " + std::to_string(seen.size()) + " members, before its manifest");
    }
    if (got < kBlock) return Truncated("inside a tar header at byte " + std::to_string(offset));
    if (AllZero(b)) {
      return DataLossError("the archive ends (a zero block at byte " + std::to_string(offset) + ") before its " +
                           (have_manifest ? "trailer" : "manifest") + ": it is truncated or corrupt");
    }
    ASSIGN_OR_RETURN(Entry e, ParseHeader(b, offset));
    if (e.name == kTrailerName) {
      if (!have_manifest) return DataLossError("the archive has a trailer but no manifest before it");
      if (e.size > 128) return DataLossError("the archive's trailer is too large");
      std::string trailer;
      Sha256Stream ignored;
      RETURN_IF_ERROR(ReadBody(in, e, ignored, nullptr, nullptr, &trailer));
      trailer_matches = trailer == "sha256 " + covered.HexDigest() + "\n";
      break;
    }
    covered.Update(b);
    if (have_manifest) return DataLossError("the archive has an entry after its manifest: " + e.name);
    if (e.name == kManifestName) {
      if (e.size > kMaxManifestBytes) return DataLossError("the archive's manifest is implausibly large");
      RETURN_IF_ERROR(ReadBody(in, e, covered, nullptr, nullptr, &manifest_text));
      have_manifest = true;
      continue;
    }
    for (const Member& m : seen) {
      if (m.name == e.name) return InvalidArgumentError("the archive holds member " + e.name + " twice");
    }
    Member member{e.name, "", e.size, e.mode, ""};
    if (sink != nullptr) RETURN_IF_ERROR(sink->Begin(member));
    Sha256Stream sha;
    RETURN_IF_ERROR(ReadBody(in, e, covered, &sha, sink, nullptr));
    if (sink != nullptr) RETURN_IF_ERROR(sink->End());
    member.sha256 = sha.HexDigest();
    seen.push_back(std::move(member));
  }
  // The end: two zero blocks, then nothing.
  std::array<uint8_t, 2 * kBlock + 1> end{};
  ASSIGN_OR_RETURN(size_t end_bytes, in.Read(end));

  // The most specific finding first: which member, then the manifest, then the rest.
  auto manifest = ManifestFromJson(manifest_text);
  if (!manifest.ok()) {
    if (manifest.status().code() == StatusCode::kFailedPrecondition && trailer_matches) return manifest.status();
    return DataLossError("the archive's manifest is corrupt: " + std::string(manifest.status().message()));
  }
  if (manifest->members.size() != seen.size()) {
    return DataLossError("the manifest lists " + std::to_string(manifest->members.size()) +
                         " members but the archive holds " + std::to_string(seen.size()));
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    const Member& want = manifest->members[i];
    const Member& have = seen[i];
    if (want.name != have.name) {
      return DataLossError("member " + std::to_string(i) + " is " + have.name + " but the manifest says " + want.name);
    }
    if (want.size != have.size || want.mode != have.mode) {
      return DataLossError("member " + have.name + ": its size or mode differs from the manifest");
    }
    if (want.sha256 != have.sha256) {
      return DataLossError("member " + have.name +
                           ": its SHA-256 does not match the manifest (the archive is corrupt)");
    }
  }
  if (!trailer_matches) {
    return DataLossError("the archive is corrupt: its SHA-256 does not match the one in its trailer");
  }
  if (end_bytes < 2 * kBlock) return Truncated("inside its end-of-archive marker");
  if (!AllZero(std::span(end).first(2 * kBlock))) return DataLossError("the end-of-archive marker is not zero");
  if (end_bytes > 2 * kBlock) return DataLossError("the archive has data after its end-of-archive marker");
  return manifest;
}

}  // namespace neosl::backup
