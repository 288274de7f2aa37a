// The OpenSSL ECDSA P-256 peer of the crypto benches (neo_bench_crypto, vrf_bench): an EVP_PKEY
// generated once and a digest fetched once, so that each operation pays only what any EVP caller
// pays (init + one-shot sign or verify).
#pragma once

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

namespace neosl::bench {

struct OpenSslKey {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  OpenSslKey() {
    if (pkey == nullptr || sha256 == nullptr || ctx == nullptr) {
      std::fprintf(stderr, "bench: cannot set up the OpenSSL P-256 key\n");
      std::abort();
    }
  }
  ~OpenSslKey() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(sha256);
    EVP_PKEY_free(pkey);
  }
  OpenSslKey(const OpenSslKey&) = delete;
  OpenSslKey& operator=(const OpenSslKey&) = delete;
};

}  // namespace neosl::bench
