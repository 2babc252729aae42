// Audio quality measures of a decoded signal against its reference (mono float samples in
// [-1, 1] at one sample rate), computed on the real reconstruction.
//
// - SI-SNR (dB): scale-invariant signal-to-noise ratio (Le Roux et al. 2019) after removing each
//   signal's mean: s_t = <y,x> x / |x|^2, e = y - s_t, SI-SNR = 10 log10(|s_t|^2 / |e|^2), capped
//   to [-50, 100] dB (100 for identical signals).
// - Log-mel distance (dB): 25 ms Hann frames every 10 ms, a power spectrum, 40 triangular mel
//   bands from 50 Hz to min(8 kHz, Nyquist) (the band that carries speech), 10 log10 of each band
//   with a floor 50 dB under the reference's loudest band; the distance is the RMS over bands of
//   the difference, averaged over the frames in which the reference is within 50 dB of its
//   loudest frame (silence does not count, and dropping silence does not cost anything).
// - Score in [0, 1]: 1 / (1 + (D / 4 dB)^2). 1 for identical signals, 0.8 at D = 2 dB, 0.5 at
//   D = 4 dB; strictly decreasing in D, so monotone in any distortion that moves the spectrum.
#pragma once

#include <cstddef>

namespace aic::metrics {

struct AudioQuality {
  double siSnrDb = 0;
  double logMelDistanceDb = 0;
  double score = 0;
};

AudioQuality audioQuality(const float* reference, const float* decoded, size_t samples, int sampleRate);

}  // namespace aic::metrics
