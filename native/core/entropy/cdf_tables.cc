#include "entropy/cdf_tables.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>

#include "common/errors.h"
#include "entropy/rans.h"

namespace aic::entropy {

namespace {

constexpr uint32_t kTotal = 1u << kCdfPrecision;
// Latents must stay within +-2^28 (kMaxMagnitude / 4), so that prediction residuals (+-2^29),
// context sums and escape lengths all fit in 32-bit arithmetic.
constexpr int32_t kMaxMagnitude = 1 << 30;

// See the context definition in cdf_tables.h.
inline int contextOf(const int32_t* plane, const int32_t* prev1, const int32_t* prev2, int y, int x, int width) {
  const size_t i = static_cast<size_t>(y) * width + x;
  int32_t left = x > 0 ? std::abs(plane[i - 1]) : 0;
  int32_t top = y > 0 ? std::abs(plane[i - width]) : 0;
  int32_t spectral = (prev1 ? std::abs(prev1[i]) : 0) + (prev2 ? std::abs(prev2[i]) : 0);
  int s = left + top >= 2 ? 2 : static_cast<int>(left + top);  // all values < 2^30: no overflow
  int p = spectral >= 2 ? 2 : static_cast<int>(spectral);
  return 3 * s + p;
}

// LOCO-I median prediction of plane[y][x] from its causal neighbours.
inline int32_t medianPrediction(const int32_t* plane, int y, int x, int width) {
  if (y == 0) return x == 0 ? 0 : plane[x - 1];
  const size_t i = static_cast<size_t>(y) * width + x;
  if (x == 0) return plane[i - width];
  const int32_t a = plane[i - 1], b = plane[i - width], c = plane[i - width - 1];
  if (c >= std::max(a, b)) return std::min(a, b);
  if (c <= std::min(a, b)) return std::max(a, b);
  return a + b - c;
}

// Number of bits of v (v >= 1).
inline int bitLength(uint32_t v) {
  int n = 0;
  while (v) {
    ++n;
    v >>= 1;
  }
  return n;
}

}  // namespace

namespace {

// The tables laid end to end, as the flat constructor takes them.
std::vector<int32_t> offsetsOf(const std::vector<CdfTable>& tables) {
  std::vector<int32_t> out;
  out.reserve(tables.size());
  for (const auto& t : tables) out.push_back(t.offset);
  return out;
}

std::vector<uint32_t> lengthsOf(const std::vector<CdfTable>& tables) {
  std::vector<uint32_t> out;
  out.reserve(tables.size());
  for (const auto& t : tables) out.push_back(static_cast<uint32_t>(t.cdf.size()));
  return out;
}

std::vector<uint32_t> entriesOf(const std::vector<CdfTable>& tables) {
  std::vector<uint32_t> out;
  for (const auto& t : tables) out.insert(out.end(), t.cdf.begin(), t.cdf.end());
  return out;
}

}  // namespace

CdfTableSet::CdfTableSet(int levels, int channels, int contexts, std::vector<CdfTable> tables, std::vector<uint8_t> predicted,
                         std::vector<uint16_t> groups)
    : CdfTableSet(levels, channels, contexts, offsetsOf(tables), lengthsOf(tables), entriesOf(tables), std::move(predicted), std::move(groups)) {}

CdfTableSet::CdfTableSet(int levels, int channels, int contexts, std::vector<int32_t> offsets, const std::vector<uint32_t>& lengths,
                         std::vector<uint32_t> cdfs, std::vector<uint8_t> predicted, std::vector<uint16_t> groups)
    : levels_(levels), channels_(channels), contexts_(contexts), cdfs_(std::move(cdfs)), groups_(std::move(groups)), predicted_(std::move(predicted)) {
  if (predicted_.empty()) predicted_.assign(std::max(channels, 0), 0);
  if (predicted_.size() != static_cast<size_t>(std::max(channels, 0))) {
    throw CoreError(ErrorCode::InvalidArgument, "entropy model: the predicted-channel list must have one entry per channel");
  }
  if (levels < 1 || levels > 255 || channels < 1 || channels > 4096) {
    throw CoreError(ErrorCode::InvalidArgument, "entropy model: levels or channels out of range");
  }
  if (contexts != kContexts) {
    throw CoreError(ErrorCode::InvalidArgument, "entropy model: the coder uses " + std::to_string(kContexts) + " contexts, the model has " + std::to_string(contexts));
  }
  if (groups_.empty()) {
    for (int c = 0; c < channels; ++c) groups_.push_back(static_cast<uint16_t>(c));
  }
  if (groups_.size() != static_cast<size_t>(channels)) throw CoreError(ErrorCode::InvalidArgument, "entropy model: the table-group map must have one entry per channel");
  for (uint16_t g : groups_) groupCount_ = std::max(groupCount_, g + 1);
  size_t expected = static_cast<size_t>(levels) * groupCount_ * contexts;
  if (offsets.size() != expected) {
    throw CoreError(ErrorCode::InvalidArgument, "entropy model: expected " + std::to_string(expected) + " CDF tables (levels x table groups x contexts), got " +
                                                    std::to_string(offsets.size()));
  }
  if (lengths.size() != offsets.size()) throw CoreError(ErrorCode::InvalidArgument, "entropy model: one CDF length per table is needed");
  size_t total = 0;
  for (uint32_t n : lengths) total += n;
  if (total != cdfs_.size()) throw CoreError(ErrorCode::InvalidArgument, "entropy model: the CDF lengths do not add up to the CDF entries given");
  // Each table is checked; its symbols get their place in one array shared by all tables (as
  // their CDF entries share one), filled level by level on first use (prepareLevel()).
  size_t symbols = 0;
  tables_.resize(offsets.size());
  size_t at = 0;
  for (size_t i = 0; i < tables_.size(); ++i) {
    // The message is built only for a table that fails (engine start checks thousands of them).
    auto where = [i] { return "entropy model: CDF table " + std::to_string(i); };
    const size_t n = lengths[i];
    const uint32_t* cdf = cdfs_.data() + at;
    if (n < 3 || n > 4097) throw CoreError(ErrorCode::InvalidArgument, where() + " must have 3 to 4097 entries");
    if (cdf[0] != 0 || cdf[n - 1] != kTotal) throw CoreError(ErrorCode::InvalidArgument, where() + " must run from 0 to 65536");
    for (size_t k = 1; k < n; ++k) {
      if (cdf[k] <= cdf[k - 1]) throw CoreError(ErrorCode::InvalidArgument, where() + " is not strictly increasing at entry " + std::to_string(k));
    }
    if (std::abs(static_cast<int64_t>(offsets[i])) > (1 << 20)) throw CoreError(ErrorCode::InvalidArgument, where() + " has an offset out of range");
    Table& t = tables_[i];
    t.offset = offsets[i];
    t.cdf = {cdf, n};
    t.enc = {nullptr, n - 1};
    at += n;
    symbols += n - 1;
  }
  // Storage only: its pages are touched as levels are prepared.
  enc_.reset(static_cast<EncSymbol*>(::operator new(std::max<size_t>(symbols, 1) * sizeof(EncSymbol))));
  size_t encAt = 0;
  for (Table& t : tables_) {
    t.enc.first = enc_.get() + encAt;
    encAt += t.enc.count;
  }
  levelPrepared_ = std::make_unique<std::once_flag[]>(static_cast<size_t>(levels_));
}

void CdfTableSet::prepareLevel(int level) const {
  std::call_once(levelPrepared_[static_cast<size_t>(level)], [this, level] {
    // A symbol's multiplier and shift depend on its frequency only, and the few thousand distinct
    // frequencies of a level's tables recur across its tens of thousands of symbols, so each is
    // computed once (a division) and looked up after that.
    std::vector<uint64_t> multiplierOf(kTotal + 1, 0);  // by frequency; 0 = not computed yet
    std::vector<uint8_t> shiftOf(kTotal + 1, 0);
    const size_t perLevel = static_cast<size_t>(groupCount_) * contexts_;
    for (size_t i = static_cast<size_t>(level) * perLevel; i < static_cast<size_t>(level + 1) * perLevel; ++i) {
      const Table& t = tables_[i];
      // From 0 to 2^16 and strictly increasing (checked at construction): every frequency is
      // within [1, 2^16].
      EncSymbol* enc = const_cast<EncSymbol*>(t.enc.first);
      for (size_t k = 1; k < t.cdf.size(); ++k) {
        const uint32_t freq = t.cdf[k] - t.cdf[k - 1];
        if (multiplierOf[freq] == 0) {
          const EncSymbol made = EncSymbol::make(0, freq);
          multiplierOf[freq] = made.multiplier;
          shiftOf[freq] = static_cast<uint8_t>(made.shift);
        }
        EncSymbol* e = new (enc + (k - 1)) EncSymbol();
        e->start = t.cdf[k - 1];
        e->freq = freq;
        e->multiplier = multiplierOf[freq];
        e->shift = shiftOf[freq];
      }
    }
  });
}

std::vector<uint8_t> CdfTableSet::encode(const int32_t* symbols, int height, int width, int level, size_t channelStride,
                                         const std::vector<const EncSymbol*>* tail) const {
  if (level < 0 || level >= levels_) throw CoreError(ErrorCode::InvalidArgument, "quality level " + std::to_string(level) + " is out of range");
  prepareLevel(level);
  const size_t plane = static_cast<size_t>(height) * width;
  const size_t stride = channelStride ? channelStride : plane;
  for (int c = 0; c < channels_; ++c) {
    for (size_t i = 0; i < plane; ++i) {
      const int32_t v = symbols[c * stride + i];
      if (v > kMaxMagnitude / 4 || v < -kMaxMagnitude / 4) throw CoreError(ErrorCode::InvalidArgument, "latent value out of range");
    }
  }
  // rANS decodes in the opposite order to encoding, and every context depends only on values
  // the encoder already has, so walk the data backwards: channels from last to first, each in
  // reverse raster order, each item's parts in reverse (see decode() for the forward order).
  RansReverseWriter w;
  if (tail)
    for (auto it = tail->rbegin(); it != tail->rend(); ++it) w.symbol(**it);
  std::vector<int32_t> residual;
  for (int c = channels_ - 1; c >= 0; --c) {
    const int32_t* q = symbols + c * stride;
    const int32_t* prev1 = c >= 1 ? q - stride : nullptr;
    const int32_t* prev2 = c >= 2 ? q - 2 * stride : nullptr;
    // A channel that is zero everywhere (common for high frequencies at low rates) costs one bit
    // and no per-symbol work on either side.
    // (Grids of one position, such as an audio frame's bins, have no flag: the symbol itself
    // codes a zero as cheaply.)
    const bool flagged = plane > 1;
    const bool allZero = flagged && std::all_of(q, q + plane, [](int32_t v) { return v == 0; });
    if (allZero) {
      w.raw(1, 1);
      continue;
    }
    // The plane whose values are coded: the latents, or their prediction residuals.
    const int32_t* p = q;
    if (predicted_[c]) {
      residual.resize(plane);
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) residual[static_cast<size_t>(y) * width + x] = q[static_cast<size_t>(y) * width + x] - medianPrediction(q, y, x, width);
      p = residual.data();
    }
    for (int y = height - 1; y >= 0; --y) {
      for (int x = width - 1; x >= 0; --x) {
        const int32_t v = p[static_cast<size_t>(y) * width + x];
        const Table& t = table(level, c, contextOf(p, prev1, prev2, y, x, width));
        const int escape = t.symbols() - 1;
        const int64_t idx = static_cast<int64_t>(v) - t.offset;
        if (idx >= 0 && idx < escape) {
          w.symbol(t.enc[idx]);
          continue;
        }
        // Beyond the table: escape, direction, 5-bit length n of the distance d >= 1, then the
        // n-1 bits of d below its top bit (written here in reverse).
        const bool above = idx >= escape;
        const uint32_t distance = static_cast<uint32_t>(above ? idx - escape + 1 : -idx);
        const uint32_t n = bitLength(distance);  // 1..30
        if (n > 1) w.rawBits(distance & ((1u << (n - 1)) - 1), static_cast<int>(n - 1));
        w.raw(n, 5);
        w.raw(above ? 1 : 0, 1);
        w.symbol(t.enc[escape]);
      }
    }
    if (flagged) w.raw(0, 1);
  }
  return w.finish();
}

bool CdfTableSet::decode(const uint8_t* data, size_t length, int height, int width, int level, int32_t* symbols, size_t channelStride,
                         const std::function<bool(RansDecoder&)>& tail) const {
  if (level < 0 || level >= levels_) return false;
  RansDecoder dec(data, length);
  if (!dec.ok()) return false;
  const size_t plane = static_cast<size_t>(height) * width;
  const size_t stride = channelStride ? channelStride : plane;
  std::vector<int32_t> residual;
  for (int c = 0; c < channels_; ++c) {
    int32_t* q = symbols + c * stride;
    const int32_t* prev1 = c >= 1 ? q - stride : nullptr;
    const int32_t* prev2 = c >= 2 ? q - 2 * stride : nullptr;
    if (plane > 1 && dec.getBits(1)) {
      std::fill(q, q + plane, 0);
      continue;
    }
    const bool predicted = predicted_[c] != 0;
    if (predicted) residual.assign(plane, 0);
    int32_t* p = predicted ? residual.data() : q;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const Table& t = table(level, c, contextOf(p, prev1, prev2, y, x, width));
        const uint32_t slot = dec.peek(kCdfPrecision);
        // The symbol whose interval holds the slot. Zero is by far the most common value, so
        // try its interval before searching the table.
        int s;
        const int64_t zero = -static_cast<int64_t>(t.offset);
        if (zero >= 0 && zero < t.symbols() - 1 && slot >= t.cdf[zero] && slot < t.cdf[zero + 1]) {
          s = static_cast<int>(zero);
        } else {
          auto it = std::upper_bound(t.cdf.begin(), t.cdf.end(), slot);
          s = static_cast<int>(it - t.cdf.begin()) - 1;
        }
        dec.advance(t.cdf[s], t.cdf[s + 1] - t.cdf[s], kCdfPrecision);
        const int escape = t.symbols() - 1;
        int64_t idx = s;
        if (s == escape) {
          bool above = dec.getBits(1) != 0;
          uint32_t n = dec.getBits(5);
          if (n < 1 || n > 31) return false;
          uint32_t distance = (1u << (n - 1)) | (n > 1 ? dec.getBits(static_cast<int>(n - 1)) : 0);
          idx = above ? static_cast<int64_t>(escape) - 1 + distance : -static_cast<int64_t>(distance);
        }
        int64_t v = idx + t.offset;
        const int64_t limit = predicted ? kMaxMagnitude / 2 : kMaxMagnitude / 4;  // residuals span twice the values
        if (v > limit || v < -limit) return false;
        p[y * width + x] = static_cast<int32_t>(v);
        if (predicted) {
          int64_t value = v + medianPrediction(q, y, x, width);
          if (value > kMaxMagnitude / 4 || value < -kMaxMagnitude / 4) return false;
          q[y * width + x] = static_cast<int32_t>(value);
        }
        if (!dec.ok()) return false;
      }
    }
  }
  if (tail && (!tail(dec) || !dec.ok())) return false;
  return dec.finishedCleanly();
}

}  // namespace aic::entropy
