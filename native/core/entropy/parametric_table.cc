#include "entropy/parametric_table.h"

#include <algorithm>
#include <stdexcept>

#include "entropy/cdf_tables.h"

namespace aic::entropy {

ParametricTable::ParametricTable(int lo, int hi, int centre, uint32_t ratioQ16) : lo_(lo), hi_(hi) {
  if (hi < lo || centre < lo || centre > hi || hi - lo + 1 > 4096 || ratioQ16 < 1 || ratioQ16 > 65535)
    throw std::invalid_argument("parametric table: bad range, centre or ratio");
  const size_t n = static_cast<size_t>(hi - lo + 1);
  // Weights by distance from the centre: w(0) = 2^24, w(d + 1) = w(d) * ratio >> 16, at least 1.
  const int maxDistance = std::max(centre - lo, hi - centre);
  std::vector<uint64_t> byDistance(static_cast<size_t>(maxDistance) + 1);
  uint64_t w = 1ull << 24;
  for (auto& b : byDistance) {
    b = std::max<uint64_t>(w, 1);
    w = (w * ratioQ16) >> 16;
  }
  std::vector<uint64_t> weight(n);
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = std::abs(static_cast<int>(i) + lo - centre);
    weight[i] = byDistance[static_cast<size_t>(d)];
    total += weight[i];
  }
  // Every value gets 1, the rest of 2^16 shared in proportion (rounded down); what rounding left
  // over goes to the centre.
  const uint64_t spare = (1ull << kCdfPrecision) - n;
  std::vector<uint32_t> freq(n);
  uint64_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    freq[i] = static_cast<uint32_t>(1 + weight[i] * spare / total);
    used += freq[i];
  }
  freq[static_cast<size_t>(centre - lo)] += static_cast<uint32_t>((1ull << kCdfPrecision) - used);
  cdf_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) cdf_[i + 1] = cdf_[i] + freq[i];
  enc_.reserve(n);
  for (size_t i = 0; i < n; ++i) enc_.push_back(EncSymbol::make(cdf_[i], freq[i]));
}

int ParametricTable::decode(RansDecoder& d) const {
  const uint32_t slot = d.peek(kCdfPrecision);
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), slot);
  const size_t s = static_cast<size_t>(it - cdf_.begin()) - 1;
  d.advance(cdf_[s], cdf_[s + 1] - cdf_[s], kCdfPrecision);
  return lo_ + static_cast<int>(s);
}

}  // namespace aic::entropy
