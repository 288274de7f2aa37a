#include "tee/keys.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/ecies.h"
#include "crypto/hash.h"
#include "unit/crypto/test_util.h"

namespace neosl::tee {
namespace {

using crypto::testing::Hex;
using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "neosl-keys-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Measurement M(uint8_t fill) {
  Measurement m{};
  m.fill(fill);
  return m;
}

SecretBytes PlatformSecret() {
  return SecretBytes(std::vector<uint8_t>(32, 0x5a));
}

const crypto::PrivateKey& Signer() {
  static const crypto::PrivateKey key = [] {
    DeterministicRandom random(99);
    return crypto::PrivateKey::Generate(random);
  }();
  return key;
}

Sealer SignedSealer(const Measurement& m, uint32_t svn) {
  auto s = SigStruct::Sign(Signer(), m, svn);
  EXPECT_TRUE(s.ok());
  return Sealer(PlatformSecret(), m, *s);
}

std::string AllPrivateHex(const EnclaveKeys& k) {
  return Hex(k.neo.bytes().bytes()) + Hex(k.vrf.bytes().bytes()) + Hex(k.report.bytes().bytes()) +
         Hex(k.ecies.bytes().bytes());
}

TEST(EnclaveKeysTest, SerializeParseRoundTrip) {
  const EnclaveKeys keys = EnclaveKeys::Generate(SecureRandom::Instance());
  const SecretBytes record = keys.Serialize();
  ASSERT_EQ(record.size(), 129u);
  EXPECT_EQ(record.bytes()[0], 0x01);
  auto back = EnclaveKeys::Parse(record.bytes());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(AllPrivateHex(*back), AllPrivateHex(keys));
  EXPECT_EQ(back->Public(), keys.Public());
  // Four distinct keys.
  const PublicKeys pub = keys.Public();
  EXPECT_NE(pub.neo, pub.vrf);
  EXPECT_NE(pub.vrf, pub.report);
  EXPECT_NE(pub.report, pub.ecies);
}

TEST(EnclaveKeysTest, ParseRejectsMalformedRecordsWithoutEchoingThem) {
  const EnclaveKeys keys = EnclaveKeys::Generate(SecureRandom::Instance());
  const SecretBytes serialized = keys.Serialize();
  std::vector<uint8_t> record(serialized.bytes().begin(), serialized.bytes().end());
  EXPECT_EQ(EnclaveKeys::Parse(std::span(record).first(128)).status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> v2 = record;
  v2[0] = 0x02;
  EXPECT_EQ(EnclaveKeys::Parse(v2).status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> zero_vrf = record;
  std::fill(zero_vrf.begin() + 33, zero_vrf.begin() + 65, 0);
  auto bad = EnclaveKeys::Parse(zero_vrf);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("vrf"));
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr(Hex(keys.neo.bytes().bytes()))));
}

TEST(PublicKeysTest, JsonAndCanonicalForm) {
  const EnclaveKeys keys = EnclaveKeys::Generate(SecureRandom::Instance());
  const PublicKeys pub = keys.Public();
  const boost::json::object json = pub.ToJson();
  ASSERT_EQ(json.size(), 4u);
  EXPECT_EQ(json.at("neo").as_string(), Hex(pub.neo.Compressed()));
  EXPECT_EQ(json.at("ecies").as_string(), Hex(pub.ecies.Compressed()));
  auto back = PublicKeys::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, pub);

  const std::vector<uint8_t> canonical = pub.Canonical();
  ASSERT_EQ(canonical.size(), 132u);
  EXPECT_EQ(Hex(canonical), Hex(pub.neo.Compressed()) + Hex(pub.vrf.Compressed()) + Hex(pub.report.Compressed()) +
                                Hex(pub.ecies.Compressed()));

  boost::json::object missing = json;
  missing.erase("vrf");
  EXPECT_EQ(PublicKeys::FromJson(missing).status().code(), StatusCode::kInvalidArgument);
  boost::json::object extra = json;
  extra["other"] = "x";
  EXPECT_EQ(PublicKeys::FromJson(extra).status().code(), StatusCode::kInvalidArgument);
  boost::json::object uncompressed = json;
  uncompressed["neo"] = Hex(pub.neo.Uncompressed());
  EXPECT_EQ(PublicKeys::FromJson(uncompressed).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyStoreTest, CreatedOnceThenTheSameKeysOnEveryStart) {
  TempDir dir;
  const std::string sealed_dir = dir.path() + "/sealed";
  const Sealer sealer(PlatformSecret(), M(0x01), std::nullopt);
  auto first = KeyStore::LoadOrCreate(sealer, SealPolicy::kMeasurement, sealed_dir, SecureRandom::Instance());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string path = sealed_dir + "/keys.sealed";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const std::vector<uint8_t> on_disk = ReadAll(path);
  // Private keys are never on disk in the clear.
  EXPECT_THAT(Hex(on_disk), Not(HasSubstr(Hex(first->neo.bytes().bytes()))));

  // A restart (a new Sealer from the same secret and measurement) loads the same keys and leaves
  // the file as it was.
  const Sealer restarted(PlatformSecret(), M(0x01), std::nullopt);
  auto second = KeyStore::LoadOrCreate(restarted, SealPolicy::kMeasurement, sealed_dir, SecureRandom::Instance());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(AllPrivateHex(*second), AllPrivateHex(*first));
  EXPECT_EQ(ReadAll(path), on_disk);
}

TEST(KeyStoreTest, UnsealableFileIsAnErrorAndLeftUntouched) {
  TempDir dir;
  const Sealer old_build(PlatformSecret(), M(0x01), std::nullopt);
  ASSERT_TRUE(KeyStore::LoadOrCreate(old_build, SealPolicy::kMeasurement, dir.path(), SecureRandom::Instance()).ok());
  const std::string path = dir.path() + "/keys.sealed";
  const std::vector<uint8_t> before = ReadAll(path);

  const Sealer new_build(PlatformSecret(), M(0x02), std::nullopt);
  auto loaded = KeyStore::LoadOrCreate(new_build, SealPolicy::kMeasurement, dir.path(), SecureRandom::Instance());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("sealed to enclave measurement " + MeasurementHex(M(1))));
  EXPECT_EQ(ReadAll(path), before);

  std::vector<uint8_t> tampered = before;
  tampered.back() ^= 1;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(tampered.data()), static_cast<std::streamsize>(tampered.size()));
  }
  auto corrupt = KeyStore::LoadOrCreate(old_build, SealPolicy::kMeasurement, dir.path(), SecureRandom::Instance());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(corrupt.status().message()), HasSubstr("tampered"));
  EXPECT_EQ(ReadAll(path), tampered);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);  // nothing else written
}

TEST(KeyStoreTest, SwitchingToTheSignerPolicyResealsSoRebuildsKeepTheKeys) {
  TempDir dir;
  const std::string path = dir.path() + "/keys.sealed";
  const Sealer build_a = SignedSealer(M(0xa0), 1);
  auto original = KeyStore::LoadOrCreate(build_a, SealPolicy::kMeasurement, dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(original.ok());

  auto switched = KeyStore::LoadOrCreate(build_a, SealPolicy::kSigner, dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(switched.ok()) << switched.status().ToString();
  EXPECT_EQ(AllPrivateHex(*switched), AllPrivateHex(*original));
  auto header = ParseSealedHeader(ReadAll(path));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->policy, SealPolicy::kSigner);

  // A rebuild: new measurement, same signer. Same keys.
  const Sealer build_b = SignedSealer(M(0xb0), 1);
  auto rebuilt = KeyStore::LoadOrCreate(build_b, SealPolicy::kSigner, dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(AllPrivateHex(*rebuilt), AllPrivateHex(*original));

  // And back to the measurement policy, now bound to build B.
  auto back = KeyStore::LoadOrCreate(build_b, SealPolicy::kMeasurement, dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(back.ok());
  header = ParseSealedHeader(ReadAll(path));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->policy, SealPolicy::kMeasurement);
  EXPECT_EQ(header->identity, M(0xb0));
}

TEST(KeyStoreTest, UpgradeResealsAtTheNewVersionAndOldVersionsAreLockedOut) {
  TempDir dir;
  const std::string path = dir.path() + "/keys.sealed";
  const Sealer v1 = SignedSealer(M(0x01), 1);
  auto original = KeyStore::LoadOrCreate(v1, SealPolicy::kSigner, dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(original.ok()) << original.status().ToString();

  const Sealer v2 = SignedSealer(M(0x02), 2);
  auto upgraded = KeyStore::LoadOrCreate(v2, SealPolicy::kSigner, dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ(AllPrivateHex(*upgraded), AllPrivateHex(*original));
  auto header = ParseSealedHeader(ReadAll(path));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->isv_svn, 2u);

  auto downgraded = KeyStore::LoadOrCreate(v1, SealPolicy::kSigner, dir.path(), SecureRandom::Instance());
  EXPECT_EQ(downgraded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(downgraded.status().message()), HasSubstr("refusing to downgrade"));
}

TEST(KeyStoreTest, SignerPolicyWithoutASigStructWritesNothing) {
  TempDir dir;
  const Sealer unsigned_build(PlatformSecret(), M(0x01), std::nullopt);
  auto keys =
      KeyStore::LoadOrCreate(unsigned_build, SealPolicy::kSigner, dir.path() + "/sealed", SecureRandom::Instance());
  EXPECT_EQ(keys.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/sealed"));
}

TEST(MigrationTest, RoundTripToTheNewEnclavesEphemeralKey) {
  const EnclaveKeys keys = EnclaveKeys::Generate(SecureRandom::Instance());
  const crypto::PrivateKey ephemeral = crypto::PrivateKey::Generate(SecureRandom::Instance());
  auto blob = ExportForMigration(keys, ephemeral.public_key());
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  EXPECT_THAT(Hex(*blob), Not(HasSubstr(Hex(keys.neo.bytes().bytes()))));
  auto imported = ImportMigration(ephemeral, *blob);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(AllPrivateHex(*imported), AllPrivateHex(keys));

  // Only the intended recipient can import, and only a migration blob.
  const crypto::PrivateKey other = crypto::PrivateKey::Generate(SecureRandom::Instance());
  EXPECT_EQ(ImportMigration(other, *blob).status().code(), StatusCode::kDataLoss);
  auto secret_blob = crypto::EciesEncrypt(ephemeral.public_key(), keys.Serialize().bytes(),
                                          crypto::AsBytes("neosl-secret-v1"), SecureRandom::Instance());
  ASSERT_TRUE(secret_blob.ok());
  EXPECT_EQ(ImportMigration(ephemeral, *secret_blob).status().code(), StatusCode::kDataLoss);
}

TEST(MigrationTest, MigratedKeysSealUnderTheNewMeasurement) {
  TempDir old_dir, new_dir;
  const Sealer old_build(PlatformSecret(), M(0x01), std::nullopt);
  auto old_keys = KeyStore::LoadOrCreate(old_build, SealPolicy::kMeasurement, old_dir.path(), SecureRandom::Instance());
  ASSERT_TRUE(old_keys.ok());

  const crypto::PrivateKey ephemeral = crypto::PrivateKey::Generate(SecureRandom::Instance());
  auto blob = ExportForMigration(*old_keys, ephemeral.public_key());
  ASSERT_TRUE(blob.ok());
  auto imported = ImportMigration(ephemeral, *blob);
  ASSERT_TRUE(imported.ok());

  const Sealer new_build(PlatformSecret(), M(0x02), std::nullopt);
  auto sealed =
      new_build.Seal(SealPolicy::kMeasurement, imported->Serialize().bytes(), kKeysSealLabel, SecureRandom::Instance());
  ASSERT_TRUE(sealed.ok());
  auto record = new_build.Unseal(*sealed, kKeysSealLabel);
  ASSERT_TRUE(record.ok());
  auto reparsed = EnclaveKeys::Parse(record->bytes());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->Public(), old_keys->Public());
}

}  // namespace
}  // namespace neosl::tee
