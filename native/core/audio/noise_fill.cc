#include "audio/noise_fill.h"

#include <algorithm>
#include <cmath>

namespace aic::audio {

namespace {
// The ratio of the level tables. On 6 LJ Speech clips at 16 kHz (bench/eval-audio.mjs --audio
// ../shared/data/speech/ljspeech --limit 6 --rates 16000) level 0 spent 8.3 kbit/s with 0.35 and
// 7.8 with 0.65; the levels and so the audio are the same either way.
constexpr uint32_t kLevelRatioQ16 = 42598;  // 0.65
}  // namespace

// Played 3 dB under what was measured: on 6 LJ Speech clips (the run above) better than the
// measured RMS at every level (level 0: score 0.673 against 0.614, LSD 8.12 against 8.97 dB,
// STOI 0.938 against 0.935), and than 6 dB under on the score and STOI (0.644, 0.937).
float NoiseFill::rmsOf(int level) { return 0.25f * std::exp2(-0.5f * static_cast<float>(level)); }

NoiseFill::NoiseFill() {
  for (int c = 0; c <= kOff; ++c) tables_.emplace_back(0, kOff, c, kLevelRatioQ16);
}

bool NoiseFill::filled(const int32_t* symbols, int band) {
  int zeros = 0;
  for (int k = kEdges[band]; k < kEdges[band + 1]; ++k) zeros += symbols[k] == 0;
  return zeros >= kMinZeros;
}

void NoiseFill::levels(const float* scaled, const int32_t* symbols, int32_t* out) {
  for (int b = 0; b < kBands; ++b) {
    if (!filled(symbols, b)) {
      out[b] = kOff;
      continue;
    }
    // The RMS of the zeroed bins away from coded ones: a coded peak's neighbours hold its leakage
    // (a tone spreads over a few MDCT bins), and counting them put noise between the harmonics of
    // a quiet voice at the level of the peaks' skirts (a 24 dB quieter synthetic voice scored 0.82
    // against 0.99 for the loud copy; test/audio-codec.test.ts; on 6 LJ Speech clips, level 0:
    // score 0.655 counting all zeroed bins, 0.673 this way). When every zeroed bin touches a coded
    // one, all of them count.
    double energy[2] = {0, 0};
    int zeros[2] = {0, 0};
    for (int k = kEdges[b]; k < kEdges[b + 1]; ++k) {
      if (symbols[k] != 0) continue;
      const double v = std::isfinite(scaled[k]) ? scaled[k] : 0.0;
      const bool isolated = (k == 0 || symbols[k - 1] == 0) && (k == kBins - 1 || symbols[k + 1] == 0);
      energy[isolated] += v * v;
      ++zeros[isolated];
    }
    const double rms = zeros[1] >= 2 ? std::sqrt(energy[1] / zeros[1]) : std::sqrt((energy[0] + energy[1]) / (zeros[0] + zeros[1]));
    // Nearest 3 dB step under 0.35; below the last step's lower half-step, no fill.
    const double v = rms > 0 ? 2.0 * std::log2(0.35 / rms) : 1e9;
    out[b] = v >= kOff - 0.5 ? kOff : static_cast<int32_t>(std::clamp(std::nearbyint(v), 0.0, static_cast<double>(kOff - 1)));
  }
}

void NoiseFill::appendSymbols(const int32_t* symbols, const int32_t* levels, std::vector<const entropy::EncSymbol*>& tail) const {
  int context = kFirstContext;
  for (int b = 0; b < kBands; ++b) {
    if (!filled(symbols, b)) continue;
    tail.push_back(&tables_[static_cast<size_t>(context)].symbol(levels[b]));
    context = levels[b];
  }
}

bool NoiseFill::decodeLevels(entropy::RansDecoder& d, const int32_t* symbols, int32_t* levels) const {
  int context = kFirstContext;
  for (int b = 0; b < kBands; ++b) {
    if (!filled(symbols, b)) {
      levels[b] = kOff;
      continue;
    }
    levels[b] = tables_[static_cast<size_t>(context)].decode(d);
    context = levels[b];
    if (!d.ok()) return false;
  }
  return true;
}

uint32_t NoiseFill::seedOf(uint32_t sequence, int channel) {
  uint32_t x = sequence * 0x9E3779B1u ^ (static_cast<uint32_t>(channel) + 1u) * 0x85EBCA77u;
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  return x ? x : 1u;
}

void NoiseFill::fill(const int32_t* symbols, const int32_t* levels, const float* stepOf, uint32_t seed, float* latent) {
  uint32_t x = seed ? seed : 1u;  // xorshift32: one bit of it per filled bin
  for (int b = 0; b < kBands; ++b) {
    if (levels[b] >= kOff) continue;
    const float rms = rmsOf(levels[b]);
    for (int k = kEdges[b]; k < kEdges[b + 1]; ++k) {
      if (symbols[k] != 0) continue;
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      latent[k] = ((x & 0x80000000u) ? -rms : rms) * stepOf[k];
    }
  }
}

}  // namespace aic::audio
