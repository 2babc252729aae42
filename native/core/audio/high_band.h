// The parametric high band of 32 and 48 kHz streams (aic-audio-v2 2.1.0 and later).
//
// The neural codec runs at 16 kHz, so everything above 8 kHz used to come back as silence (a 48 kHz
// bell was cut at 8.5 kHz and reported a success). Above 8 kHz what speech holds is mostly noise
// (fricatives, breath) and what a listener hears of music there is mostly its envelope; so the
// band is coded parametrically: per 20 ms frame, the power of each band (edges below, up to the
// stream's Nyquist) in 3 dB steps, and the decoder plays noise shaped to those powers. The first
// band starts at 7.2 kHz, not 8: the two resamplers between the stream and the core pass 0.9 of
// the core's Nyquist, so 7.2-8 kHz came back 6-12 dB down (4 LJ Speech clips at 48 kHz, level 2:
// holes 1.0 % with the band from 8 kHz, 0.2 % from 7.2 kHz; LSD 5.30 against 4.99 dB).
// This is band energy with noise fill, not band replication: the training speech (LJ Speech,
// 22.05 kHz) has nothing above 11 kHz to learn from, and a copy of the 4-8 kHz band puts speech's
// harmonics where a fricative has none.
//
// Analysis: a sine window over the previous and the current frame (2N samples, N = rate / 50),
// zero-padded to 2048, FFT; a band's power is the mean of |X(k)|^2 / sum(w^2) over its bins.
// Synthesis: the same bins with random phases and magnitude sqrt(2048 * power), inverse FFT, the
// same sine window, overlap-add with the previous frame's second half: one frame of delay, as the
// core's MDCT has. The core's output also passes the two resamplers, so the decoder delays the
// high band by their group delay as well, and the two bands line up in time.
//
// Coding: the level h = round(log2(power)) of each band, clamped to [-60, 12]; the first band as a
// difference from the frame's core level index (the coefficients' RMS in the same 3 dB steps),
// the others as a difference from the band below, each with a fixed geometric table, after the
// noise-fill levels in the channel's rANS stream.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

#include "entropy/parametric_table.h"

namespace aic::audio {

class HighBand {
 public:
  static constexpr int kMaxBands = 9;
  static constexpr int kEdgesHz[kMaxBands + 1] = {7200, 8000, 9600, 11200, 12800, 14400, 16000, 18000, 20000, 24000};
  static constexpr int kFft = 2048;
  static constexpr int kMinLevel = -60, kMaxLevel = 12;
  // Bands carried at a stream rate: 0 up to 16 kHz, 5 at 32 kHz, 8 at 48 kHz.
  static int bandsAt(int streamRate);

  HighBand();
  // The levels' symbols, in decode order, appended to `tail`.
  void appendSymbols(const int32_t* levels, int bands, int reference, std::vector<const entropy::EncSymbol*>& tail) const;
  bool decodeLevels(entropy::RansDecoder& d, int bands, int reference, int32_t* levels) const;

 private:
  std::vector<entropy::ParametricTable> first_, next_;  // one table each (vectors: no default constructor)
};

// The sending side of one channel: keeps the previous frame.
class HighBandAnalyser {
 public:
  explicit HighBandAnalyser(int streamRate);
  // One frame (rate / 50 samples) -> the level of each band (HighBand::bandsAt(rate) of them).
  void analyse(const float* frame, int32_t* levels);

 private:
  int rate_, n_, bands_;
  std::vector<float> previous_, window_;
  std::vector<std::complex<double>> buf_, twiddles_;
  std::vector<int> bandOf_;  // per FFT bin below Nyquist: its band, or -1
  std::vector<int> binsIn_;  // per band: how many bins
};

// The receiving side of one channel: overlap tail and the delay line that aligns the band with
// the core's output.
class HighBandSynthesiser {
 public:
  // `delay`: samples (at the stream rate) by which the core's output trails what the high band's
  // own one-frame overlap gives, i.e. the two resamplers' group delay.
  HighBandSynthesiser(int streamRate, int delay);
  // Adds one frame of the band (levels of HighBand::bandsAt(rate) bands, each amplitude times
  // `gain`) to `out` (rate / 50 samples). With levels null, adds what is left of earlier frames.
  void synthesise(const int32_t* levels, float gain, uint32_t seed, float* out);

 private:
  int rate_, n_, bands_;
  std::vector<float> window_, tail_, delayLine_;
  size_t delayPos_ = 0;
  std::vector<std::complex<double>> buf_, twiddles_;
  std::vector<int> bandOf_;
};

}  // namespace aic::audio
