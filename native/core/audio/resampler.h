// Streaming integer-factor resampling between the audio codec's 16 kHz and 32 or 48 kHz input:
// a windowed-sinc (Kaiser, beta 8) low-pass of 24 taps per phase, with the history kept between
// calls so that a stream of 20 ms frames resamples exactly as the whole signal would.
#pragma once

#include <cstddef>
#include <vector>

namespace aic {

class Resampler {
 public:
  // factor > 1: `down` keeps every factor-th sample after low-pass; otherwise it inserts
  // factor-1 zeros between samples and low-passes (gain compensated). factor 1 copies.
  Resampler(int factor, bool down);
  // Appends the resampled `in` to `out`. Down: in.size() must be a multiple of factor.
  void process(const float* in, size_t n, std::vector<float>& out);
  void reset();
  // Group delay in output samples.
  int delay() const;

 private:
  int factor_;
  bool down_;
  std::vector<float> kernel_;
  std::vector<float> history_;  // last kernel-1 input samples (at the high rate for down)
};

}  // namespace aic
