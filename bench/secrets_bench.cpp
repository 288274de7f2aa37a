// Secret reads inside the enclave, with their peer measured in the same run:
//   - SecretProvider::Get of a 256-byte secret: the first read of an invocation (AES-256-GCM
//     decrypt plus a locked page for the value) and a cached read; p50 / p99 and reads per
//     second (target: a read under 50 µs at the median);
//   - SecretVault::Decrypt alone (no locked page);
//   - peer: raw OpenSSL AES-256-GCM decrypt of the same size and AAD (EVP, one reused context);
//   - optionally the secret_seal ECALL round trip through the real enclave (needs build/neosl).
// Usage: secrets_bench [path to neosl, or - to skip the enclave] [seconds per run = 2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include <openssl/evp.h>

#include "bench_util.h"
#include "core/random.h"
#include "tee/host.h"
#include "tee/secret_vault.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

using neosl::bench::Percentile;

struct Result {
  double p50 = 0, p99 = 0, per_second = 0;
  size_t n = 0;
};

// Times `op` (after `prepare`, untimed) repeatedly for `seconds`.
template <typename Prepare, typename Op>
Result Measure(double seconds, Prepare prepare, Op op) {
  for (int i = 0; i < 1000; ++i) {  // warm up
    prepare();
    if (!op()) std::abort();
  }
  std::vector<double> us;
  us.reserve(1 << 20);
  double busy = 0;
  const auto until = Steady::now() + std::chrono::duration<double>(seconds);
  while (Steady::now() < until) {
    prepare();
    const auto t0 = Steady::now();
    if (!op()) std::abort();
    const double d = std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
    us.push_back(d);
    busy += d;
  }
  return {Percentile(us, 0.5), Percentile(us, 0.99), static_cast<double>(us.size()) / (busy / 1e6), us.size()};
}

// Per second: one over the mean time of one operation (the untimed preparation left out).
void Print(const char* what, const Result& r, const char* unit = "reads") {
  std::printf("%-44s p50 %7.2f us  p99 %7.2f us  %10.0f %s/s (%zu)\n", what, r.p50, r.p99, r.per_second, unit, r.n);
}

// secret_seal through the real enclave, one caller.
void EnclaveRoundTrip(const std::string& binary, double seconds) {
  const auto dir = std::filesystem::temp_directory_path() / ("neosl-secrets-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "sealed");
  tee::EnclaveHostOptions o;
  o.binary = std::filesystem::absolute(binary).string();
  o.args = {"enclave",
            "--sealed-dir",
            (dir / "sealed").string(),
            "--platform-secret",
            (dir / "platform.secret").string(),
            "--seal-policy",
            "measurement",
            "--test-commands"};
  auto host = tee::EnclaveHost::Start(o);
  if (!host.ok() || !(*host)->WaitReady(std::chrono::seconds(20))) {
    std::printf("secret_seal ECALL: skipped (the enclave at %s did not start)\n", binary.c_str());
  } else {
    tee::v1::EcallRequest req;
    req.mutable_secret_seal()->set_account("acc-bench");
    req.mutable_secret_seal()->set_name("API_KEY");
    req.mutable_secret_seal()->set_version(1);
    req.mutable_secret_seal()->set_plaintext(std::string(256, 'v'));
    Result r = Measure(
        seconds, [] {}, [&] { return (*host)->Call(req, std::chrono::seconds(5)).ok(); });
    Print("secret_seal ECALL round trip (256 B):", r, "calls");
    // What an invocation with one secret adds: the ciphertext handed in with the ECALL, a
    // provider made for it, the value decrypted on read (secret_read answers its digest).
    auto sealed = (*host)->Call(req, std::chrono::seconds(5));
    if (sealed.ok()) {
      tee::v1::EcallRequest read;
      auto* secrets = read.mutable_test()->mutable_secret_read()->mutable_secrets();
      secrets->set_account("acc-bench");
      auto* s = secrets->add_secrets();
      s->set_name("API_KEY");
      s->set_version(1);
      s->set_ciphertext(sealed->secret_ciphertext());
      read.mutable_test()->mutable_secret_read()->add_names("API_KEY");
      Result rr = Measure(
          seconds, [] {}, [&] { return (*host)->Call(read, std::chrono::seconds(5)).ok(); });
      Print("invocation secrets ECALL + first read (256 B):", rr, "calls");
    }
    (*host)->Stop();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string binary =
      argc > 1 ? argv[1] : (std::filesystem::path(argv[0]).parent_path().parent_path() / "neosl").string();
  const double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 2.0;
  std::printf("secrets bench: 256-byte secret, %.0f s per run\n\n", seconds);

  SecretBytes key(std::vector<uint8_t>(32, 0x42));
  auto vault = tee::SecretVault::Create(std::move(key));
  if (!vault.ok()) return 1;
  const std::vector<uint8_t> value(256, 0x61);
  const std::string account = "acc-0123456789abcdef", name = "OPENAI_API_KEY";
  auto ct = vault->Encrypt(account, name, 1, value);
  if (!ct.ok()) return 1;

  tee::SecretProvider provider(*vault, account);
  if (!provider.Grant(name, 1, *ct).ok()) return 1;
  const Result first = Measure(
      seconds, [&] { provider.Wipe(); }, [&] { return provider.Get(name).ok(); });
  const Result cached = Measure(
      seconds, [] {}, [&] { return provider.Get(name).ok(); });
  const Result decrypt = Measure(
      seconds, [] {}, [&] { return vault->Decrypt(account, name, 1, *ct).ok(); });

  // Peer: the same decryption straight through EVP, with an AAD of the same size.
  const std::vector<uint8_t> raw_key(32, 0x42), nonce(ct->begin(), ct->begin() + 12);
  const std::vector<uint8_t> aad(15 + 4 + account.size() + 4 + name.size() + 4, 0x01);
  std::vector<uint8_t> raw_ct(value.size()), tag(16), out(value.size());
  {
    EVP_CIPHER_CTX* e = EVP_CIPHER_CTX_new();
    int len = 0;
    bool ok = EVP_EncryptInit_ex(e, EVP_aes_256_gcm(), nullptr, raw_key.data(), nonce.data()) == 1 &&
              EVP_EncryptUpdate(e, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
              EVP_EncryptUpdate(e, raw_ct.data(), &len, value.data(), static_cast<int>(value.size())) == 1 &&
              EVP_EncryptFinal_ex(e, raw_ct.data() + len, &len) == 1 &&
              EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
    EVP_CIPHER_CTX_free(e);
    if (!ok) return 1;
  }
  EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const Result raw = Measure(
      seconds, [] {},
      [&] {
        int len = 0;
        return EVP_DecryptInit_ex2(ctx, gcm, raw_key.data(), nonce.data(), nullptr) == 1 &&
               EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
               EVP_DecryptUpdate(ctx, out.data(), &len, raw_ct.data(), static_cast<int>(raw_ct.size())) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
               EVP_DecryptFinal_ex(ctx, out.data() + len, &len) == 1;
      });
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(gcm);

  Print("SecretProvider::Get, first read (decrypt):", first);
  Print("SecretProvider::Get, cached:", cached);
  Print("SecretVault::Decrypt:", decrypt);
  Print("peer: raw OpenSSL AES-256-GCM decrypt:", raw);
  std::printf("\nfirst read / raw decrypt (p50): %.1fx; Decrypt / raw decrypt (p50): %.1fx\n", first.p50 / raw.p50,
              decrypt.p50 / raw.p50);
  std::printf("target: a read under 50 us at the median: %s (first read p50 %.2f us)\n\n",
              first.p50 < 50 ? "met" : "MISSED", first.p50);

  if (binary != "-") EnclaveRoundTrip(binary, seconds);
  return 0;
}
