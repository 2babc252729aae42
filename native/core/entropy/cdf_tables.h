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
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "entropy/rans.h"

namespace aic::entropy {

constexpr int kCdfPrecision = 16;
constexpr int kContexts = 9;

// A table as a caller hands it over (the tests, the fuzzers): its offset and CDF entries.
struct CdfTable {
  int32_t offset = 0;
  std::vector<uint32_t> cdf;  // n + 1 entries, cdf[0] = 0, cdf[n] = 2^16, strictly increasing
  int symbols() const { return static_cast<int>(cdf.size()) - 1; }
};

// Read-only entries laid out contiguously (a table's part of CdfTableSet's arrays).
template <typename T>
struct Entries {
  const T* first = nullptr;
  size_t count = 0;
  size_t size() const { return count; }
  const T& operator[](size_t i) const { return first[i]; }
  const T* begin() const { return first; }
  const T* end() const { return first + count; }
};

class CdfTableSet {
 public:
  // A table of the set: its CDF entries and its n symbols prepared for the encoder, both parts of
  // the set's arrays. The symbols of a level are prepared when encode() first codes at that level
  // (a decoder never needs them; engine start does not wait for them).
  struct Table {
    int32_t offset = 0;
    Entries<uint32_t> cdf;
    Entries<EncSymbol> enc;
    int symbols() const { return static_cast<int>(cdf.size()) - 1; }
  };

  // Validates and adopts the tables: levels * groups * kContexts of them, level-major, where
  // `groups` maps each channel to the table group it is coded with (channels with the same
  // statistics, e.g. neighbouring audio bins, share tables). Without a map every channel is its
  // own group. Throws CoreError(InvalidArgument) naming the first bad table.
  CdfTableSet(int levels, int channels, int contexts, std::vector<CdfTable> tables, std::vector<uint8_t> predicted = {},
              std::vector<uint16_t> groups = {});
  // The same from the tables laid end to end: table i has offset offsets[i] and the
  // lengths[i] CDF entries that follow the previous tables' in `cdfs` (a codec config's arrays).
  CdfTableSet(int levels, int channels, int contexts, std::vector<int32_t> offsets, const std::vector<uint32_t>& lengths,
              std::vector<uint32_t> cdfs, std::vector<uint8_t> predicted = {}, std::vector<uint16_t> groups = {});
  CdfTableSet(const CdfTableSet&) = delete;
  CdfTableSet& operator=(const CdfTableSet&) = delete;

  int levels() const { return levels_; }
  int channels() const { return channels_; }
  int contexts() const { return contexts_; }
  int groups() const { return groupCount_; }
  const Table& table(int level, int channel, int context) const {
    return tables_[(static_cast<size_t>(level) * groupCount_ + groups_[channel]) * contexts_ + context];
  }

  // Codes latents laid out [channels][height][width] at a level. Values must fit in +-2^28.
  // `channelStride` (default height * width) lets a horizontal band of a larger grid be coded on
  // its own: the band's first row is then treated as the top of the frame.
  // `tail`, when given: prepared symbols of other tables, in decode order, coded after the
  // latents in the same stream (side information such as the audio codec's noise-fill levels;
  // one stream has one 4-byte flush, which at 50 frames/s is 1.6 kbit/s saved per stream).
  std::vector<uint8_t> encode(const int32_t* symbols, int height, int width, int level, size_t channelStride = 0,
                              const std::vector<const EncSymbol*>* tail = nullptr) const;
  // Decodes into `symbols`; false when the stream is corrupt (out of bytes, trailing bytes,
  // wrong final state, or an impossible escape). `tail`, when given, reads the encoder's tail
  // after the latents (it may look at the decoded `symbols`) and returns false on corrupt data.
  bool decode(const uint8_t* data, size_t length, int height, int width, int level, int32_t* symbols, size_t channelStride = 0,
              const std::function<bool(RansDecoder&)>& tail = nullptr) const;

 private:
  // Fills the prepared symbols of a level's tables, once (thread-safe; encode() calls it).
  void prepareLevel(int level) const;

  int levels_, channels_, contexts_, groupCount_ = 0;
  std::vector<Table> tables_;
  std::vector<uint32_t> cdfs_;     // every table's CDF entries, one table after another
  // Every table's prepared symbols, one table after another: storage for one per symbol, each
  // level's filled by prepareLevel().
  struct FreeStorage {
    void operator()(EncSymbol* p) const { ::operator delete(p); }
  };
  std::unique_ptr<EncSymbol, FreeStorage> enc_;
  std::unique_ptr<std::once_flag[]> levelPrepared_;
  std::vector<uint16_t> groups_;  // per channel: its table group
  std::vector<uint8_t> predicted_;  // per channel: 1 = coded as a median-prediction residual
};

}  // namespace aic::entropy
