#include "apps/neosl/vrf_cli.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <openssl/crypto.h>

#include "core/encoding.h"
#include "core/secret.h"
#include "crypto/ecvrf.h"
#include "crypto/p256.h"

namespace neosl::app {
namespace {

namespace json = boost::json;
namespace ecvrf = crypto::ecvrf;

constexpr int kInvalidProof = 1;
constexpr int kBadInput = 2;

struct VrfFlags {
  std::string key, public_key, alpha, proof;
};

int BadInput(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "neosl vrf %.*s: %.*s\n", int(command.size()), command.data(), int(message.size()),
               message.data());
  return kBadInput;
}

void Print(const json::object& out) {
  std::printf("%s\n", json::serialize(out).c_str());
}

std::optional<std::vector<uint8_t>> DecodeHexFlag(std::string_view command, std::string_view flag,
                                                  const std::string& hex, int& rc) {
  auto bytes = HexDecode(hex);
  if (!bytes) rc = BadInput(command, std::string(flag) + ": not valid hex (an even number of 0-9a-fA-F)");
  return bytes;
}

int Prove(const VrfFlags& f) {
  int rc = 0;
  auto alpha = DecodeHexFlag("prove", "--alpha", f.alpha, rc);
  if (!alpha) return rc;
  auto key_bytes = DecodeHexFlag("prove", "--key", f.key, rc);
  if (!key_bytes) return rc;
  const SecretBytes secret(*key_bytes);
  OPENSSL_cleanse(key_bytes->data(), key_bytes->size());
  auto key = crypto::PrivateKey::FromBytes(secret.bytes());  // its errors never contain the key
  if (!key.ok()) return BadInput("prove", "--key: " + std::string(key.status().message()));

  const ecvrf::Proof pi = ecvrf::Prove(*key, *alpha);
  auto beta = ecvrf::ProofToHash(pi);
  if (!beta.ok()) return BadInput("prove", beta.status().message());  // unreachable: our own proof
  Print({{"proof", HexEncode(pi)},
         {"output", HexEncode(*beta)},
         {"public_key", HexEncode(key->public_key().Compressed())}});
  return 0;
}

int Verify(const VrfFlags& f) {
  int rc = 0;
  auto public_key = DecodeHexFlag("verify", "--public-key", f.public_key, rc);
  if (!public_key) return rc;
  auto alpha = DecodeHexFlag("verify", "--alpha", f.alpha, rc);
  if (!alpha) return rc;
  auto proof = DecodeHexFlag("verify", "--proof", f.proof, rc);
  if (!proof) return rc;

  // Well-formed hex that is not a key or a proof is an answer, not a usage error: RFC 9381's
  // verifier outputs INVALID for it, and so do we.
  auto beta = ecvrf::Verify(*public_key, *proof, *alpha);
  if (!beta.ok()) {
    const std::string reason(beta.status().message());
    Print({{"valid", false}, {"reason", reason}});
    std::fprintf(stderr, "neosl vrf verify: %s\n", reason.c_str());
    return kInvalidProof;
  }
  Print({{"valid", true}, {"output", HexEncode(*beta)}});
  return 0;
}

}  // namespace

std::function<int()> AddVrfCommands(CLI::App& app) {
  auto f = std::make_shared<VrfFlags>();
  auto* vrf = app.add_subcommand("vrf", "Verifiable random function: ECVRF-P256-SHA256-TAI (RFC 9381)");
  vrf->require_subcommand(1);

  auto* prove = vrf->add_subcommand("prove", "Prove: the proof and output for an input under a P-256 key");
  prove
      ->add_option("--key", f->key,
                   "the secret key: 32-byte P-256 scalar in hex (visible to other local users in the process list)")
      ->required();
  prove->add_option("--alpha", f->alpha, "the input, hex (may be empty)")->required();

  auto* verify = vrf->add_subcommand("verify", "Verify a proof; exit 0 with the output if it is valid, 1 if not");
  verify->add_option("--public-key", f->public_key, "the public key: 33-byte compressed P-256 point in hex")
      ->required();
  verify->add_option("--alpha", f->alpha, "the input, hex (may be empty)")->required();
  verify->add_option("--proof", f->proof, "the 81-byte proof in hex")->required();

  return [=]() -> int {
    if (prove->parsed()) return Prove(*f);
    if (verify->parsed()) return Verify(*f);
    return -1;
  };
}

}  // namespace neosl::app
