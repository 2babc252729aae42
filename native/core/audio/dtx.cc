#include "audio/dtx.h"

#include <algorithm>
#include <cmath>

#include "audio/high_band.h"
#include "audio/noise_fill.h"

namespace aic::audio {

bool SilenceDetector::background(const float* mono, size_t n) {
  double e = 0;
  for (size_t i = 0; i < n; ++i) e += static_cast<double>(mono[i]) * mono[i];
  const double db = 10.0 * std::log10(e / static_cast<double>(std::max<size_t>(n, 1)) + 1e-12);
  if (!started_) {
    started_ = true;
    floorDb_ = db;
  }
  floorDb_ = db < floorDb_ ? db : std::min(db, floorDb_ + 0.06);
  if (db > floorDb_ + 9.0) hangover_ = kHangover;
  else if (hangover_ > 0) --hangover_;
  return hangover_ == 0 && db < floorDb_ + 6.0 && db < -45.0;
}

size_t SilenceDescriptor::size(int highBands) {
  const size_t core = 1 + (NoiseFill::kBands + 1) / 2;
  return highBands > 0 ? core + 1 + static_cast<size_t>(highBands + 1) / 2 : core;
}

void SilenceDescriptor::coreLevels(const float* latent, int32_t* out) {
  for (int b = 0; b < NoiseFill::kBands; ++b) {
    double e = 0;
    const int lo = NoiseFill::kEdges[b], hi = NoiseFill::kEdges[b + 1];
    for (int k = lo; k < hi; ++k) e += std::isfinite(latent[k]) ? static_cast<double>(latent[k]) * latent[k] : 0.0;
    e /= hi - lo;
    out[b] = e > 0 ? static_cast<int32_t>(std::clamp(std::nearbyint(std::log2(e)), -100.0, 20.0)) : kNone;
  }
}

namespace {

// One group: a byte with the loudest level + 128, then 4-bit steps under it, two per byte (low
// nibble first), 15 for nothing (or more than 42 dB under); an odd count pads with 15.
void writeGroup(int32_t* levels, int count, int lowest, std::vector<uint8_t>& out) {
  int top = lowest;
  bool any = false;
  for (int i = 0; i < count; ++i)
    if (levels[i] != SilenceDescriptor::kNone) {
      top = any ? std::max(top, static_cast<int>(levels[i])) : static_cast<int>(levels[i]);
      any = true;
    }
  out.push_back(static_cast<uint8_t>(top + 128));
  for (int i = 0; i < count; i += 2) {
    uint8_t byte = 0;
    for (int j = 0; j < 2; ++j) {
      int nibble = 15;
      if (i + j < count && levels[i + j] != SilenceDescriptor::kNone && top - levels[i + j] <= 14) nibble = top - levels[i + j];
      if (i + j < count) levels[i + j] = nibble == 15 ? SilenceDescriptor::kNone : top - nibble;
      byte = static_cast<uint8_t>(byte | (nibble << (4 * j)));
    }
    out.push_back(byte);
  }
}

bool readGroup(const uint8_t*& p, int count, int lowest, int highest, int32_t* levels) {
  const int top = static_cast<int>(*p++) - 128;
  if (top < lowest || top > highest) return false;
  for (int i = 0; i < count; i += 2) {
    const uint8_t byte = *p++;
    for (int j = 0; j < 2; ++j) {
      const int nibble = (byte >> (4 * j)) & 15;
      if (i + j >= count) {
        if (nibble != 15) return false;  // padding is 15
        continue;
      }
      levels[i + j] = nibble == 15 ? SilenceDescriptor::kNone : top - nibble;
    }
  }
  return true;
}

}  // namespace

void SilenceDescriptor::write(int32_t* core, int32_t* high, int highBands, std::vector<uint8_t>& out) {
  writeGroup(core, NoiseFill::kBands, -100, out);
  if (highBands == 0) return;
  writeGroup(high, highBands, HighBand::kMinLevel, out);
  for (int b = 0; b < highBands; ++b) high[b] = std::max(high[b], static_cast<int32_t>(HighBand::kMinLevel));  // nothing: the floor
}

bool SilenceDescriptor::read(const uint8_t* data, size_t length, int highBands, int32_t* core, int32_t* high) {
  if (length != size(highBands)) return false;
  const uint8_t* p = data;
  if (!readGroup(p, NoiseFill::kBands, -100, 20, core)) return false;
  if (highBands == 0) return true;
  if (!readGroup(p, highBands, HighBand::kMinLevel, HighBand::kMaxLevel, high)) return false;
  for (int b = 0; b < highBands; ++b) high[b] = std::max(high[b], static_cast<int32_t>(HighBand::kMinLevel));
  return true;
}

void SilenceDescriptor::comfortNoise(const int32_t* core, uint32_t seed, float* latent) {
  uint32_t x = seed ? seed : 1u;
  for (int b = 0; b < NoiseFill::kBands; ++b) {
    const float a = core[b] == kNone ? 0.0f : static_cast<float>(std::sqrt(std::exp2(static_cast<double>(core[b]))));
    for (int k = NoiseFill::kEdges[b]; k < NoiseFill::kEdges[b + 1]; ++k) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      latent[k] = (x & 0x80000000u) ? -a : a;
    }
  }
}

}  // namespace aic::audio
