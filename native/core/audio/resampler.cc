#include "audio/resampler.h"

#include <algorithm>
#include <cmath>

namespace aic {

namespace {

double besselI0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 30; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

}  // namespace

Resampler::Resampler(int factor, bool down) : factor_(factor), down_(down) {
  if (factor_ > 1) {
    const int taps = 24 * factor_ + 1;
    const double cutoff = 0.45 / factor_;  // cycles per high-rate sample, under the low Nyquist
    const double beta = 8.0;
    kernel_.resize(taps);
    double sum = 0;
    for (int i = 0; i < taps; ++i) {
      const double n = i - (taps - 1) / 2.0;
      const double sinc = n == 0 ? 2 * cutoff : std::sin(2 * M_PI * cutoff * n) / (M_PI * n);
      const double r = 2.0 * i / (taps - 1) - 1.0;
      const double w = besselI0(beta * std::sqrt(std::max(0.0, 1 - r * r))) / besselI0(beta);
      kernel_[i] = static_cast<float>(sinc * w);
      sum += kernel_[i];
    }
    for (auto& k : kernel_) k = static_cast<float>(k / sum * (down_ ? 1.0 : factor_));
  }
  reset();
}

void Resampler::reset() { history_.assign(kernel_.empty() ? 0 : kernel_.size() - 1, 0.0f); }

int Resampler::delay() const { return factor_ > 1 ? static_cast<int>((kernel_.size() - 1) / 2 / (down_ ? factor_ : 1)) : 0; }

void Resampler::process(const float* in, size_t n, std::vector<float>& out) {
  if (factor_ == 1) {
    out.insert(out.end(), in, in + n);
    return;
  }
  const size_t taps = kernel_.size();
  // The high-rate signal: history then the new samples (zero-stuffed when upsampling).
  std::vector<float> x(history_);
  if (down_) {
    x.insert(x.end(), in, in + n);
  } else {
    for (size_t i = 0; i < n; ++i) {
      x.push_back(in[i]);
      for (int z = 1; z < factor_; ++z) x.push_back(0.0f);
    }
  }
  const size_t produced = x.size() - (taps - 1);
  for (size_t i = 0; i < produced; i += (down_ ? factor_ : 1)) {
    float acc = 0;
    for (size_t k = 0; k < taps; ++k) acc += kernel_[k] * x[i + k];
    out.push_back(acc);
  }
  history_.assign(x.end() - static_cast<long>(taps - 1), x.end());
}

}  // namespace aic
