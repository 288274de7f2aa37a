#!/usr/bin/env bash
# The devchain's throughput and block-time overhead, with its peers measured in the same run
# (see bench/devchain_bench.cpp):
#
#   bench/devchain.sh [transactions=4000] [client threads=4]
#
# Builds devchain_bench (Release, the default preset) and runs it. Figures go to stdout; record
# them in docs/benchmarks.md with the machine they came from.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cmake --preset default >/dev/null
cmake --build build --target devchain_bench -j"$(nproc)" >/dev/null
exec build/bench/devchain_bench "${1:-4000}" "${2:-4}"
