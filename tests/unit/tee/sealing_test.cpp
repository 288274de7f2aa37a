#include "tee/sealing.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/hash.h"
#include "tee/measurement.h"
#include "unit/crypto/test_util.h"

namespace neosl::tee {
namespace {

using crypto::testing::Bytes;
using crypto::testing::Hex;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "neosl-sealing-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::span<const uint8_t> data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

Measurement M(uint8_t fill) {
  Measurement m{};
  m.fill(fill);
  return m;
}

SecretBytes PlatformSecret(uint8_t fill = 0x5a) {
  return SecretBytes(std::vector<uint8_t>(32, fill));
}

crypto::PrivateKey SignerKey(uint64_t seed) {
  DeterministicRandom random(seed);
  return crypto::PrivateKey::Generate(random);
}

SigStruct Signed(const crypto::PrivateKey& signer, const Measurement& m, uint32_t svn) {
  auto s = SigStruct::Sign(signer, m, svn);
  EXPECT_TRUE(s.ok());
  return *s;
}

std::string Message(const Status& s) {
  return std::string(s.message());
}

// --- measurement -------------------------------------------------------------------------------

TEST(MeasurementTest, FileMeasurementIsSha256OfItsBytes) {
  TempDir dir;
  std::vector<uint8_t> data(200'000);  // several read chunks
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + (i >> 8));
  const std::string path = dir.path() + "/program";
  WriteFile(path, data);
  auto m = MeasureFile(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, crypto::Sha256(data));

  WriteFile(path, {});
  auto empty = MeasureFile(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(MeasurementHex(*empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MeasurementTest, MissingFileIsNotFoundAndNamed) {
  auto m = MeasureFile("/nonexistent/neosl-enclave");
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(Message(m.status()), HasSubstr("/nonexistent/neosl-enclave"));
}

TEST(MeasurementTest, SelfIsTheRunningExecutable) {
  auto self = MeasureSelf();
  auto exe = MeasureFile(std::filesystem::read_symlink("/proc/self/exe").string());
  ASSERT_TRUE(self.ok() && exe.ok());
  EXPECT_EQ(*self, *exe);
  EXPECT_NE(*self, Measurement{});
}

TEST(MeasurementTest, HexRoundTripAndStrictParse) {
  Measurement m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i * 9);
  auto back = ParseMeasurementHex(MeasurementHex(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, m);
  EXPECT_EQ(ParseMeasurementHex(std::string(62, 'a')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMeasurementHex(std::string(66, 'a')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMeasurementHex(std::string(63, 'a') + "g").status().code(), StatusCode::kInvalidArgument);
}

// --- sigstruct ---------------------------------------------------------------------------------

TEST(SigStructTest, SignVerifyAndEveryFieldIsCovered) {
  const auto signer = SignerKey(1);
  const SigStruct s = Signed(signer, M(0x11), 3);
  EXPECT_TRUE(s.Verify().ok());
  EXPECT_EQ(s.SignerId(), crypto::Sha256(signer.public_key().Compressed()));

  SigStruct other_measurement = s;
  other_measurement.measurement[0] ^= 1;
  EXPECT_EQ(other_measurement.Verify().code(), StatusCode::kUnauthenticated);
  SigStruct other_svn = s;
  other_svn.isv_svn = 4;
  EXPECT_FALSE(other_svn.Verify().ok());
  SigStruct other_sig = s;
  other_sig.signature[10] ^= 0x40;
  EXPECT_FALSE(other_sig.Verify().ok());
  SigStruct other_signer = s;
  other_signer.signer = SignerKey(2).public_key();
  EXPECT_FALSE(other_signer.Verify().ok());
}

TEST(SigStructTest, EncodeDecodeRoundTrip) {
  const SigStruct s = Signed(SignerKey(1), M(0x22), 4000000000u);
  const std::string json = s.Encode();
  EXPECT_THAT(json, HasSubstr("\"isv_svn\":4000000000"));
  EXPECT_THAT(json, HasSubstr("\"measurement\":\"" + MeasurementHex(M(0x22)) + "\""));
  auto back = SigStruct::Decode(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->signer, s.signer);
  EXPECT_EQ(back->measurement, s.measurement);
  EXPECT_EQ(back->isv_svn, s.isv_svn);
  EXPECT_EQ(back->signature, s.signature);
  EXPECT_TRUE(back->Verify().ok());
  EXPECT_EQ(back->Encode(), json);
}

TEST(SigStructTest, DecodeRejectsMalformed) {
  const SigStruct s = Signed(SignerKey(1), M(0xab), 1);
  const std::string signer = Hex(s.signer.Compressed());
  const std::string m = MeasurementHex(s.measurement);
  const std::string sig = Hex(s.signature);
  auto make = [&](const std::string& svn, const std::string& extra = "") {
    return "{\"signer\":\"" + signer + "\",\"measurement\":\"" + m + "\",\"isv_svn\":" + svn + ",\"signature\":\"" +
           sig + "\"" + extra + "}";
  };
  ASSERT_TRUE(SigStruct::Decode(make("1")).ok());
  EXPECT_EQ(SigStruct::Decode(make("-1")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SigStruct::Decode(make("4294967296")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SigStruct::Decode(make("1.5")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SigStruct::Decode(make("\"1\"")).status().code(), StatusCode::kInvalidArgument);
  auto extra = SigStruct::Decode(make("1", ",\"note\":\"x\""));
  EXPECT_EQ(extra.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(extra.status()), HasSubstr("note"));
  EXPECT_EQ(SigStruct::Decode("{\"signer\":\"" + signer + "\"}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SigStruct::Decode("[]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SigStruct::Decode("{").status().code(), StatusCode::kInvalidArgument);
  std::string upper = make("1");
  const auto at = upper.find(m);
  for (size_t i = at; i < at + m.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  ASSERT_NE(upper, make("1"));  // the measurement M(0xab) has letters
  EXPECT_EQ(SigStruct::Decode(upper).status().code(), StatusCode::kInvalidArgument);
}

// --- sealing -----------------------------------------------------------------------------------

TEST(SealerTest, RoundTripUnderBothPolicies) {
  const auto signer = SignerKey(1);
  const Sealer sealer(PlatformSecret(), M(0x01), Signed(signer, M(0x01), 1));
  for (SealPolicy policy : {SealPolicy::kMeasurement, SealPolicy::kSigner}) {
    auto blob = sealer.Seal(policy, Bytes("state"), "label", SecureRandom::Instance());
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();
    EXPECT_EQ(blob->size(), kSealedHeaderSize + 5 + 16);
    EXPECT_EQ(Hex(std::span(*blob).first(8)), Hex(Bytes("NSLSEAL1")));
    auto header = ParseSealedHeader(*blob);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->policy, policy);
    EXPECT_EQ(header->identity, policy == SealPolicy::kMeasurement ? M(0x01) : SignerIdOf(signer.public_key()));
    EXPECT_EQ(header->isv_svn, policy == SealPolicy::kMeasurement ? 0u : 1u);
    auto opened = sealer.Unseal(*blob, "label");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(Hex(opened->bytes()), Hex(Bytes("state")));
  }
}

TEST(SealerTest, AnotherMeasurementCannotUnseal) {
  const Sealer old_build(PlatformSecret(), M(0xaa), std::nullopt);
  const Sealer new_build(PlatformSecret(), M(0xbb), std::nullopt);
  auto blob = old_build.Seal(SealPolicy::kMeasurement, Bytes("state"), "keys", SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  auto opened = new_build.Unseal(*blob, "keys");
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(opened.status()), "sealed to enclave measurement " + MeasurementHex(M(0xaa)) +
                                          ", this enclave is " + MeasurementHex(M(0xbb)) +
                                          ": seal to the signer or migrate (neosl enclave migrate)");
}

TEST(SealerTest, SignerPolicySurvivesARebuild) {
  const auto signer = SignerKey(1);
  const Sealer old_build(PlatformSecret(), M(0xaa), Signed(signer, M(0xaa), 1));
  const Sealer new_build(PlatformSecret(), M(0xbb), Signed(signer, M(0xbb), 1));
  const Sealer upgraded(PlatformSecret(), M(0xcc), Signed(signer, M(0xcc), 2));
  auto blob = old_build.Seal(SealPolicy::kSigner, Bytes("state"), "keys", SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  for (const Sealer* s : {&new_build, &upgraded}) {
    auto opened = s->Unseal(*blob, "keys");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(Hex(opened->bytes()), Hex(Bytes("state")));
  }
}

TEST(SealerTest, DowngradeIsRefused) {
  const auto signer = SignerKey(1);
  const Sealer v2(PlatformSecret(), M(0xaa), Signed(signer, M(0xaa), 2));
  const Sealer v1(PlatformSecret(), M(0xbb), Signed(signer, M(0xbb), 1));
  auto blob = v2.Seal(SealPolicy::kSigner, Bytes("state"), "keys", SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  auto opened = v1.Unseal(*blob, "keys");
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(opened.status()), "sealed by security version 2, this enclave is version 1: refusing to downgrade");
}

TEST(SealerTest, AnotherSignerCannotUnsealAndBothAreNamed) {
  const Sealer ours(PlatformSecret(), M(0xaa), Signed(SignerKey(1), M(0xaa), 1));
  const Sealer theirs(PlatformSecret(), M(0xaa), Signed(SignerKey(2), M(0xaa), 1));
  auto blob = ours.Seal(SealPolicy::kSigner, Bytes("state"), "keys", SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  auto opened = theirs.Unseal(*blob, "keys");
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(opened.status()), HasSubstr(MeasurementHex(SignerIdOf(SignerKey(1).public_key()))));
  EXPECT_THAT(Message(opened.status()), HasSubstr(MeasurementHex(SignerIdOf(SignerKey(2).public_key()))));

  const Sealer unsigned_build(PlatformSecret(), M(0xaa), std::nullopt);
  auto no_sig = unsigned_build.Unseal(*blob, "keys");
  EXPECT_EQ(no_sig.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(no_sig.status()), HasSubstr("no sigstruct"));
}

TEST(SealerTest, SignerSealingNeedsAValidSigStructForThisMeasurement) {
  const auto signer = SignerKey(1);
  const Sealer none(PlatformSecret(), M(0x01), std::nullopt);
  const Sealer wrong_measurement(PlatformSecret(), M(0x01), Signed(signer, M(0x02), 1));
  SigStruct forged = Signed(signer, M(0x01), 1);
  forged.isv_svn = 9;
  const Sealer bad_signature(PlatformSecret(), M(0x01), forged);
  for (const Sealer* s : {&none, &wrong_measurement, &bad_signature}) {
    EXPECT_EQ(s->SignerStatus().code(), StatusCode::kFailedPrecondition);
    EXPECT_FALSE(s->sigstruct().has_value());
    auto blob = s->Seal(SealPolicy::kSigner, Bytes("state"), "keys", SecureRandom::Instance());
    EXPECT_EQ(blob.status().code(), StatusCode::kFailedPrecondition);
    // The measurement policy still works.
    EXPECT_TRUE(s->Seal(SealPolicy::kMeasurement, Bytes("state"), "keys", SecureRandom::Instance()).ok());
  }
  EXPECT_THAT(Message(wrong_measurement.SignerStatus()), HasSubstr(MeasurementHex(M(0x02))));
  EXPECT_TRUE(Sealer(PlatformSecret(), M(0x01), Signed(signer, M(0x01), 1)).SignerStatus().ok());
}

TEST(SealerTest, TamperedBlobIsDataLoss) {
  const auto signer = SignerKey(1);
  const Sealer sealer(PlatformSecret(), M(0x01), Signed(signer, M(0x01), 5));
  for (SealPolicy policy : {SealPolicy::kMeasurement, SealPolicy::kSigner}) {
    auto blob = sealer.Seal(policy, Bytes("some sealed state"), "keys", SecureRandom::Instance());
    ASSERT_TRUE(blob.ok());
    for (size_t i = 0; i < blob->size(); ++i) {
      std::vector<uint8_t> tampered = *blob;
      tampered[i] ^= 0x01;
      auto opened = sealer.Unseal(tampered, "keys");
      ASSERT_FALSE(opened.ok()) << "byte " << i;
      const bool identity = i >= 9 && i < 41;
      // Raising the isv_svn of a signer blob reads as a downgrade attempt; lowering it, as tamper.
      const bool raised_svn = policy == SealPolicy::kSigner && i >= 41 && i < 44;
      if (identity || raised_svn) {
        EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition) << "byte " << i;
      } else {
        EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << "byte " << i << ": " << opened.status().ToString();
      }
    }
    std::vector<uint8_t> ciphertext_flip = *blob;
    ciphertext_flip[kSealedHeaderSize] ^= 0x80;
    EXPECT_THAT(Message(sealer.Unseal(ciphertext_flip, "keys").status()),
                HasSubstr("sealed state is corrupt or was tampered with"));
    for (size_t len = 0; len < blob->size(); ++len) {
      EXPECT_EQ(sealer.Unseal(std::span(*blob).first(len), "keys").status().code(), StatusCode::kDataLoss) << len;
    }
  }
}

TEST(SealerTest, WrongLabelOrPlatformSecretIsDataLoss) {
  const Sealer sealer(PlatformSecret(0x01), M(0x01), std::nullopt);
  const Sealer other_platform(PlatformSecret(0x02), M(0x01), std::nullopt);
  auto blob = sealer.Seal(SealPolicy::kMeasurement, Bytes("state"), "keys", SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(sealer.Unseal(*blob, "secrets").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(sealer.Unseal(*blob, "").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(other_platform.Unseal(*blob, "keys").status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(sealer.Unseal(*blob, "keys").ok());
}

// --- platform secret ---------------------------------------------------------------------------

TEST(PlatformSecretTest, CreatedOnce0600AndReadBack) {
  TempDir dir;
  const std::string path = dir.path() + "/state/platform.secret";  // parent made on demand
  auto first = LoadOrCreatePlatformSecret(path, SecureRandom::Instance());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 32u);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(dir.path() + "/state"), 0700u);
  EXPECT_EQ(std::filesystem::file_size(path), 32u);
  auto second = LoadOrCreatePlatformSecret(path, SecureRandom::Instance());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Hex(first->bytes()), Hex(second->bytes()));
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path() + "/state"), {}), 1);
}

TEST(PlatformSecretTest, RefusedWhenGroupOrWorldCanReadIt) {
  TempDir dir;
  const std::string path = dir.path() + "/platform.secret";
  ASSERT_TRUE(LoadOrCreatePlatformSecret(path, SecureRandom::Instance()).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = LoadOrCreatePlatformSecret(path, SecureRandom::Instance());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(loaded.status()), HasSubstr(path));
  EXPECT_THAT(Message(loaded.status()), HasSubstr("0644"));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(LoadOrCreatePlatformSecret(path, SecureRandom::Instance()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(PlatformSecretTest, RefusedWhenTheWrongSizeOrASymlink) {
  TempDir dir;
  const std::string path = dir.path() + "/platform.secret";
  WriteFile(path, std::vector<uint8_t>(31, 1));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto short_file = LoadOrCreatePlatformSecret(path, SecureRandom::Instance());
  EXPECT_EQ(short_file.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(short_file.status()), HasSubstr(path));
  EXPECT_THAT(Message(short_file.status()), HasSubstr("31 bytes"));
  EXPECT_EQ(std::filesystem::file_size(path), 31u);  // not replaced

  const std::string link = dir.path() + "/link.secret";
  std::filesystem::create_symlink(path, link);
  EXPECT_EQ(LoadOrCreatePlatformSecret(link, SecureRandom::Instance()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(PlatformSecretTest, RacingStartsAgreeOnOneSecret) {
  TempDir dir;
  const std::string path = dir.path() + "/platform.secret";
  constexpr int kThreads = 4;
  std::vector<std::string> seen(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto s = LoadOrCreatePlatformSecret(path, SecureRandom::Instance());
      seen[t] = s.ok() ? Hex(s->bytes()) : s.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen[0].size(), 64u) << seen[0];
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]);
}

}  // namespace
}  // namespace neosl::tee
