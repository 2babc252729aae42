// Static fixed-point CDF tables of a codec model's entropy model, and the coding of quantised
// latents with them.
//
// One table per (quality level, latent channel, context). A table covers the symbol values
// [offset, offset + n - 2]; its last symbol is the escape, after which the value is sent as raw
// bits (a direction bit, a 5-bit length, then the bits of the distance). Every frequency is >= 1,
// so any value can be coded.
//
// Latents are coded channel by channel, each channel in raster order. The context of a latent
// (9 of them) combines what the decoder already has:
//   spatial  s = min(2, |left| + |top|)              (same channel, 0 beyond the edge)
//   spectral p = min(2, |prev1| + |prev2|)           (same position in the two previous channels)
//   context  = 3 * s + p
// With channels ordered by energy (the KLT order of the default model), the previous channels
// tell whether a block is busy, which is what JPEG's end-of-block code exploits. On grids of more
// than one position, each channel starts with one raw bit: 1 when the whole channel is zero (and
// nothing more is coded for it).
//
// Channels marked "predicted" (the block averages of the default model, which vary smoothly
// across the frame, as JPEG's DC does) are coded as the residual of the LOCO-I median predictor
// from the left (a), top (b) and top-left (c) values: min(a,b) if c >= max(a,b), max(a,b) if
// c <= min(a,b), else a + b - c; the left value on the first row, the top value in the first
// column, 0 at the origin. Their spatial context uses the neighbours' residuals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "entropy/rans.h"

namespace aic::entropy {

constexpr int kCdfPrecision = 16;
constexpr int kContexts = 9;

struct CdfTable {
  int32_t offset = 0;
  std::vector<uint32_t> cdf;  // n + 1 entries, cdf[0] = 0, cdf[n] = 2^16, strictly increasing
  std::vector<EncSymbol> enc; // the n symbols prepared for the encoder (filled by CdfTableSet)
  int symbols() const { return static_cast<int>(cdf.size()) - 1; }
};

class CdfTableSet {
 public:
  // Validates and adopts the tables: levels * groups * kContexts of them, level-major, where
  // `groups` maps each channel to the table group it is coded with (channels with the same
  // statistics, e.g. neighbouring audio bins, share tables). Without a map every channel is its
  // own group. Throws CoreError(InvalidArgument) naming the first bad table.
  CdfTableSet(int levels, int channels, int contexts, std::vector<CdfTable> tables, std::vector<uint8_t> predicted = {},
              std::vector<uint16_t> groups = {});

  int levels() const { return levels_; }
  int channels() const { return channels_; }
  int contexts() const { return contexts_; }
  int groups() const { return groupCount_; }
  const CdfTable& table(int level, int channel, int context) const {
    return tables_[(static_cast<size_t>(level) * groupCount_ + groups_[channel]) * contexts_ + context];
  }

  // Codes latents laid out [channels][height][width] at a level. Values must fit in +-2^28.
  // `channelStride` (default height * width) lets a horizontal band of a larger grid be coded on
  // its own: the band's first row is then treated as the top of the frame.
  std::vector<uint8_t> encode(const int32_t* symbols, int height, int width, int level, size_t channelStride = 0) const;
  // Decodes into `symbols`; false when the stream is corrupt (out of bytes, trailing bytes,
  // wrong final state, or an impossible escape).
  bool decode(const uint8_t* data, size_t length, int height, int width, int level, int32_t* symbols, size_t channelStride = 0) const;

 private:
  int levels_, channels_, contexts_, groupCount_ = 0;
  std::vector<CdfTable> tables_;
  std::vector<uint16_t> groups_;  // per channel: its table group
  std::vector<uint8_t> predicted_;  // per channel: 1 = coded as a median-prediction residual
};

}  // namespace aic::entropy
