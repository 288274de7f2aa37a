// Small pieces every benchmark program here shares.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace neosl::bench {

// The p-quantile (0 ≤ p ≤ 1) of `v` by nearest rank; 0 for no samples.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace neosl::bench
