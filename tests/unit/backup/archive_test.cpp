// The backup archive format (apps/neosl/backup_archive.h): a round trip, that tar itself reads
// it, that every flipped byte and every truncation is refused, and that names which could
// escape the restore directory are refused on both sides.
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "apps/neosl/backup_archive.h"
#include "crypto/hash.h"
#include "support/temp_dir.h"

namespace neosl::backup {
namespace {

using ::testing::HasSubstr;

// An anonymous in-memory file: the archive code works on file descriptors.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("archive", MFD_CLOEXEC)) {}
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  int fd() const { return fd_; }

  std::string Contents() const {
    std::string out(size_t(::lseek(fd_, 0, SEEK_END)), '\0');
    EXPECT_EQ(::pread(fd_, out.data(), out.size(), 0), ssize_t(out.size()));
    return out;
  }
  void Set(const std::string& bytes) {
    ASSERT_EQ(::ftruncate(fd_, 0), 0);
    ASSERT_EQ(::pwrite(fd_, bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));
    ::lseek(fd_, 0, SEEK_SET);
  }

 private:
  int fd_;
};

struct Recorded {
  Member header;
  std::string bytes;
};

class RecordingSink final : public MemberSink {
 public:
  Status Begin(const Member& header) override {
    members.push_back({header, ""});
    return Status();
  }
  Status Data(std::span<const uint8_t> chunk) override {
    members.back().bytes.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return Status();
  }
  Status End() override { return Status(); }
  std::vector<Recorded> members;
};

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + 7) & 0xff);
  return s;
}

Manifest SampleManifest() {
  Manifest m;
  m.neosl_version = "0.1.0";
  m.store_driver = "sqlite";
  m.schema_version = 12;
  m.created_at_ms = 1'700'000'000'123;
  m.with_devchain = true;
  m.not_included = {{"registry/", "leases"}};
  return m;
}

// An archive of three members: a database-like blob read from a file, an empty file and a key
// of exactly one block.
std::string SampleArchive() {
  MemFile out;
  ArchiveWriter w(out.fd());
  MemFile db;
  const std::string db_bytes = Pattern(1500);
  db.Set(db_bytes);
  EXPECT_TRUE(w.AddFile("neosl.db", kKindSqlite, 0600, db.fd(), db_bytes.size()).ok());
  EXPECT_TRUE(w.AddBytes("mesh/empty", kKindFile, 0644, {}).ok());
  EXPECT_TRUE(w.AddBytes("enclave/keys.sealed", kKindFile, 0600, Bytes(Pattern(512))).ok());
  Status s = w.Finish(SampleManifest());
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::string bytes = out.Contents();
  EXPECT_EQ(bytes.size(), w.bytes_written());
  auto digest = crypto::Sha256(Bytes(bytes));
  std::string hex;
  for (uint8_t b : digest) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  EXPECT_EQ(w.FileSha256(), hex);
  return bytes;
}

StatusOr<Manifest> Read(const std::string& bytes, MemberSink* sink = nullptr) {
  MemFile in;
  in.Set(bytes);
  return ReadArchive(in.fd(), sink);
}

TEST(BackupArchive, RoundTripsMembersAndManifest) {
  const std::string archive = SampleArchive();
  EXPECT_EQ(archive.size() % 512, 0u);
  RecordingSink sink;
  auto m = Read(archive, &sink);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->neosl_version, "0.1.0");
  EXPECT_EQ(m->store_driver, "sqlite");
  EXPECT_EQ(m->schema_version, 12);
  EXPECT_EQ(m->created_at_ms, 1'700'000'000'123);
  EXPECT_TRUE(m->with_devchain);
  ASSERT_EQ(m->not_included.size(), 1u);
  EXPECT_EQ(m->not_included[0].first, "registry/");
  ASSERT_EQ(m->members.size(), 3u);
  EXPECT_EQ(m->members[0].name, "neosl.db");
  EXPECT_EQ(m->members[0].kind, "sqlite");
  EXPECT_EQ(m->members[1].mode, 0644u);
  EXPECT_EQ(m->members[2].size, 512u);
  ASSERT_EQ(sink.members.size(), 3u);
  EXPECT_EQ(sink.members[0].bytes, Pattern(1500));
  EXPECT_EQ(sink.members[1].bytes, "");
  EXPECT_EQ(sink.members[2].bytes, Pattern(512));
  EXPECT_EQ(sink.members[2].header.mode, 0600u);
  EXPECT_THAT(archive, HasSubstr("\"created_at\":\"2023-11-14T22:13:20.123Z\""));
}

TEST(BackupArchive, TarReadsIt) {
  if (::access("/bin/tar", X_OK) != 0) GTEST_SKIP() << "no /bin/tar";
  testing::TempDir dir;
  testing::WriteFile(dir.File("b.tar"), SampleArchive());
  const std::string cmd = "cd " + dir.path() + " && /bin/tar -xf b.tar 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256];
  std::string out;
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << out;
  EXPECT_EQ(testing::ReadFile(dir.File("neosl.db")), Pattern(1500));
  EXPECT_EQ(testing::ReadFile(dir.File("enclave/keys.sealed")), Pattern(512));
  EXPECT_THAT(testing::ReadFile(dir.File("neosl-backup.json")), HasSubstr("\"format\":\"neosl-backup\""));
}

TEST(BackupArchive, EveryFlippedByteIsRefused) {
  const std::string archive = SampleArchive();
  for (size_t i = 0; i < archive.size(); ++i) {
    std::string bad = archive;
    bad[i] = char(bad[i] ^ 0x20);
    auto m = Read(bad);
    ASSERT_FALSE(m.ok()) << "a flip at byte " << i << " went unnoticed";
  }
}

TEST(BackupArchive, EveryTruncationIsRefused) {
  const std::string archive = SampleArchive();
  for (size_t n = 0; n < archive.size(); ++n) {
    auto m = Read(archive.substr(0, n));
    ASSERT_FALSE(m.ok()) << "cut at " << n;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << n << ": " << m.status().ToString();
  }
  auto cut = Read(archive.substr(0, 1000));
  EXPECT_THAT(cut.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(cut.status().message(), HasSubstr("neosl.db"));
}

TEST(BackupArchive, ABadChecksumNamesTheMember) {
  std::string archive = SampleArchive();
  // The second block is the first member's data.
  archive[512 + 10] = char(archive[512 + 10] ^ 1);
  auto m = Read(archive);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(m.status().message(), HasSubstr("member neosl.db: its SHA-256 does not match the manifest"));
}

TEST(BackupArchive, DataAfterTheEndIsRefused) {
  auto m = Read(SampleArchive() + std::string(1, '\0'));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("after its end-of-archive marker"));
}

TEST(BackupArchive, ANewerFormatIsRefusedAsSuch) {
  MemFile out;
  ArchiveWriter w(out.fd());
  ASSERT_TRUE(w.AddBytes("neosl.db", kKindSqlite, 0600, Bytes("x")).ok());
  Manifest m = SampleManifest();
  m.format_version = kFormatVersion + 1;
  ASSERT_TRUE(w.Finish(m).ok());
  auto read = Read(out.Contents());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(read.status().message(), HasSubstr("newer than this binary reads"));
}

TEST(BackupArchive, AFileThatChangesSizeWhileReadIsRefused) {
  MemFile out, src;
  src.Set("short");
  ArchiveWriter w(out.fd());
  Status s = w.AddFile("admin.key", kKindFile, 0600, src.fd(), 100);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("shorter"));
}

TEST(BackupArchive, NamesThatCouldEscapeAreRefused) {
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a/", "a\\b", "a\nb",
                          "neosl-backup.json", "neosl-backup.sha256"}) {
    EXPECT_FALSE(ValidateMemberName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateMemberName(std::string(101, 'a')).ok());
  for (const char* good : {"neosl.db", "enclave/keys.sealed", "mesh/gateway.key", "devchain/chain.db", "a-b_c.d"}) {
    EXPECT_TRUE(ValidateMemberName(good).ok()) << good;
  }
  MemFile out;
  ArchiveWriter w(out.fd());
  EXPECT_EQ(w.AddBytes("../x", kKindFile, 0600, Bytes("x")).code(), StatusCode::kInvalidArgument);
}

// Rewrites the name (and type) of the first member's header, with a correct tar checksum, as a
// hostile archive would: the reader must refuse it on the name alone.
std::string WithFirstHeader(std::string archive, const std::string& name, char type = '0') {
  std::fill(archive.begin(), archive.begin() + 100, '\0');
  std::copy(name.begin(), name.end(), archive.begin());
  archive[156] = type;
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : uint8_t(archive[i]);
  std::snprintf(archive.data() + 148, 8, "%06o", sum);
  archive[155] = ' ';
  return archive;
}

TEST(BackupArchive, HostileMemberNamesAndTypesAreRefusedOnRead) {
  const std::string archive = SampleArchive();
  ASSERT_TRUE(Read(WithFirstHeader(archive, "neosl.db")).ok());  // the rewrite itself is sound
  for (const char* bad : {"../x", "/etc/cron.d/x", "a/../../x", "a//b"}) {
    auto m = Read(WithFirstHeader(archive, bad));
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << bad << ": " << m.status().ToString();
    EXPECT_THAT(m.status().message(), HasSubstr("member name")) << bad;
  }
  for (char type : {'1', '2', '5', '\0'}) {
    auto m = Read(WithFirstHeader(archive, "neosl.db", type));
    ASSERT_FALSE(m.ok()) << int(type);
    EXPECT_THAT(m.status().message(), HasSubstr("not a regular file"));
  }
  // Writing nothing to a sink before the name is refused: a hostile name never reaches it.
  RecordingSink sink;
  ASSERT_FALSE(Read(WithFirstHeader(archive, "../x"), &sink).ok());
  EXPECT_TRUE(sink.members.empty());
}

}  // namespace
}  // namespace neosl::backup
