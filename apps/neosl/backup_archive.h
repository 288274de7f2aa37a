// The backup archive of `neosl backup` / `neosl restore`: a POSIX tar (ustar) file, so that an
// operator can list or unpack it with `tar` in an emergency, written and read only in the strict
// subset below so that every byte of it is checked.
//
// Layout, in this order (each entry a 512-byte ustar header, then its bytes padded with zeros to
// a multiple of 512):
//   <member> …            the backed-up files, regular files only ('0'), relative names
//   neosl-backup.json     the manifest: format version, neosl version, store driver, schema
//                         version, created_at, and for every member its name, kind, size, mode
//                         and SHA-256 (ManifestToJson below)
//   neosl-backup.sha256   "sha256 <64 hex>\n": the SHA-256 of every archive byte before this
//                         entry's header, so that no byte of headers, padding or manifest can
//                         change unnoticed
//   two zero blocks       the end of the archive; nothing may follow them
//
// The manifest comes last so that the writer streams each member once; the reader therefore
// checks the whole file before it trusts anything in it (ReadArchive). Sizes over ustar's 8 GiB
// octal limit use the GNU base-256 size field, which GNU tar and bsdtar read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/types.h>

#include "core/status.h"

namespace neosl::backup {

inline constexpr int kFormatVersion = 1;
inline constexpr std::string_view kFormatName = "neosl-backup";
inline constexpr std::string_view kManifestName = "neosl-backup.json";
inline constexpr std::string_view kTrailerName = "neosl-backup.sha256";

// What a member is, which tells restore how to put it back.
inline constexpr std::string_view kKindFile = "file";               // copied as is
inline constexpr std::string_view kKindSqlite = "sqlite";           // a SQLite database snapshot
inline constexpr std::string_view kKindPostgres = "postgres-dump";  // pg_dump --format=custom

struct Member {
  std::string name;  // relative to the data directory, '/'-separated
  std::string kind;
  uint64_t size = 0;
  uint32_t mode = 0600;  // permission bits only
  std::string sha256;    // lowercase hex
};

struct Manifest {
  int format_version = kFormatVersion;
  std::string neosl_version;
  std::string store_driver;  // "sqlite" | "postgres"
  int64_t schema_version = 0;
  int64_t created_at_ms = 0;
  bool with_devchain = false;
  std::vector<Member> members;
  // What was deliberately left out, for the operator: {what, why}.
  std::vector<std::pair<std::string, std::string>> not_included;
};

std::string ManifestToJson(const Manifest& manifest);
// Strict: every field present with its type; INVALID_ARGUMENT names the field otherwise.
// A format version newer than kFormatVersion is FAILED_PRECONDITION.
StatusOr<Manifest> ManifestFromJson(std::string_view json);

// A member name must be relative and stay inside the directory it is restored into: non-empty,
// at most 100 bytes, of [A-Za-z0-9._-] components separated by single '/', none of them "." or
// "..", and not one of the archive's own names. INVALID_ARGUMENT says which rule it breaks.
Status ValidateMemberName(std::string_view name);

// A running SHA-256 (OpenSSL EVP), for streams too large to hold in memory.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::span<const uint8_t> data);
  // Lowercase hex of everything so far; the stream can go on afterwards.
  std::string HexDigest() const;

 private:
  EVP_MD_CTX* ctx_;
};

// Writes an archive to `fd` (not owned; positioned at its start). Members first, then Finish.
class ArchiveWriter {
 public:
  explicit ArchiveWriter(int fd) : fd_(fd) {}

  // Streams exactly `size` bytes read from `in` (not owned) as member `name`; a file that turns
  // out shorter or longer than `size` is FAILED_PRECONDITION (it changed while being read).
  Status AddFile(const std::string& name, std::string_view kind, uint32_t mode, int in, uint64_t size);
  Status AddBytes(const std::string& name, std::string_view kind, uint32_t mode, std::span<const uint8_t> data);
  // Writes the manifest (`manifest` with the members added so far), the trailer and the end.
  Status Finish(Manifest manifest);

  uint64_t bytes_written() const { return written_; }
  // SHA-256 of the whole file, once Finish has succeeded.
  std::string FileSha256() const { return whole_.HexDigest(); }
  const std::vector<Member>& members() const { return members_; }

 private:
  Status Header(const std::string& name, uint32_t mode, uint64_t size, int64_t mtime);
  Status Write(std::span<const uint8_t> data, bool covered = true);
  Status Pad(uint64_t size);

  int fd_;
  uint64_t written_ = 0;
  int64_t mtime_ = 0;
  Sha256Stream covered_;  // everything before the trailer's header
  Sha256Stream whole_;    // the file
  std::vector<Member> members_;
};

// Receives the members' bytes while ReadArchive checks them (restore's second pass).
class MemberSink {
 public:
  virtual ~MemberSink() = default;
  virtual Status Begin(const Member& header) = 0;  // name, mode and size from the tar header
  virtual Status Data(std::span<const uint8_t> chunk) = 0;
  virtual Status End() = 0;
};

// Reads the archive in `fd` from its start to its end and checks all of it: every header
// (checksum, fields, names), the zero padding, every member against the manifest (name, order,
// size, mode, SHA-256), the trailer's SHA-256, the end marker and that nothing follows. Returns
// the manifest only if everything holds. A truncated or altered file is DATA_LOSS naming what is
// wrong; one that is not a neosl backup at all is INVALID_ARGUMENT; a read error UNAVAILABLE.
// With a `sink`, each member's bytes are handed to it as they are read (before the manifest,
// which comes last, has been checked: the caller must discard them if this fails).
StatusOr<Manifest> ReadArchive(int fd, MemberSink* sink = nullptr);

}  // namespace neosl::backup
