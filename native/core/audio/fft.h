// A radix-2 complex FFT on doubles, shared by the audio measures (audio_metrics.cc) and the
// parametric high band (high_band.cc). Double precision: the measures compare spectra 30 dB and
// more apart, and the high band's energies are rounded to 3 dB steps, so neither is sensitive to
// the last bits, but both should give the same numbers wherever they run.
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

namespace aic::audio {

// The twiddle factors of fft() for every stage (len = 2, 4, .. n: w_k, k < len / 2, at
// len / 2 - 1 + k).
std::vector<std::complex<double>> twiddlesOf(size_t n);

// In-place iterative radix-2 forward FFT (no scaling); a.size() is a power of two and the
// size twiddlesOf() was given.
void fft(std::vector<std::complex<double>>& a, const std::vector<std::complex<double>>& twiddles);

}  // namespace aic::audio
