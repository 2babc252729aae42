// A static 16-bit table whose frequencies follow a two-sided geometric shape around a centre:
// P(v) proportional to ratio^|v - centre| over the values lo..hi. It codes side information that
// has no trained tables (the audio codec's noise-fill and high-band levels, audio/noise_fill.h,
// audio/high_band.h) inside the same rANS stream as the latents, so it costs no stream flush of its
// own. Built with integers only (docs/bitstream.md gives the construction), so that a second
// decoder builds the same frequencies on any machine.
#pragma once

#include <cstdint>
#include <vector>

#include "entropy/rans.h"

namespace aic::entropy {

class ParametricTable {
 public:
  // ratioQ16: the ratio in 1/65536 (1..65535). Throws std::invalid_argument on an empty range, a
  // centre outside it or more than 4096 values.
  ParametricTable(int lo, int hi, int centre, uint32_t ratioQ16);
  int lo() const { return lo_; }
  int hi() const { return hi_; }
  // v is clamped into lo..hi by the caller; the prepared symbol of v.
  const EncSymbol& symbol(int v) const { return enc_[static_cast<size_t>(v - lo_)]; }
  // Reads one value; the decoder's ok() says whether the stream held it.
  int decode(RansDecoder& d) const;
  uint32_t frequency(int v) const { return cdf_[static_cast<size_t>(v - lo_) + 1] - cdf_[static_cast<size_t>(v - lo_)]; }

 private:
  int lo_, hi_;
  std::vector<uint32_t> cdf_;  // hi - lo + 2 entries, cdf_[0] = 0, last = 2^16
  std::vector<EncSymbol> enc_;
};

}  // namespace aic::entropy
