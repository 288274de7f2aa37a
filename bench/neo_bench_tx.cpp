// Transaction codec throughput on a typical signed transfer: a GAS transfer with one
// CalledByEntry signer and a single-signature witness (248 bytes, signed by neon-core 5.10.1).
//   build/bench/neo_bench --benchmark_filter=Transaction
#include <cstdlib>

#include <benchmark/benchmark.h>

#include "core/encoding.h"
#include "neo/transaction.h"

namespace {

constexpr char kSignedTransfer[] =
    "0087d612008f390f000000000012c7120000000000404b4c00014f887f31384daff57199f9d6557eef240a2ad25a01005a0b0200e1f505"
    "0c1400000000000000000000000000000000000000000c144f887f31384daff57199f9d6557eef240a2ad25a14c01f0c087472616e7366"
    "65720c14cf76e28bd0062c4a478ee35561011319f3cfa4d241627d5b5201420c409670def475aa8717948e5897547aff9430770e1887ec"
    "ce0bf6f93e7e62ed926674556d0b7ca1788165421ffdf07baa359ef69d9fa1ba0f21e7cc1a4c76782998280c210317595a739cfe90ea90"
    "b6392814bcdebcd4c920cb149d0ac2d88676f1b0894fba4156e7b327";

const std::vector<uint8_t>& TransferBytes() {
  static const std::vector<uint8_t> bytes = [] {
    auto b = neosl::HexDecode(kSignedTransfer);
    if (!b) std::abort();  // a broken constant in this file
    return *b;
  }();
  return bytes;
}

// Decode parses and checks every field and computes the hash (SHA-256 of the unsigned part).
void BM_DecodeAndHashTransaction(benchmark::State& state) {
  const auto& bytes = TransferBytes();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark loop idiom
    auto tx = neosl::neo::Transaction::Decode(bytes);
    benchmark::DoNotOptimize(tx.ok() ? tx->hash().bytes()[0] : 0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodeAndHashTransaction);

void BM_EncodeTransaction(benchmark::State& state) {
  auto tx = neosl::neo::Transaction::Decode(TransferBytes());
  if (!tx.ok()) {
    state.SkipWithError("fixture does not decode");
    return;
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark loop idiom
    auto bytes = tx->Encode();
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TransferBytes().size()));
}
BENCHMARK(BM_EncodeTransaction);

}  // namespace
