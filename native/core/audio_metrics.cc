#include "audio_metrics.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "errors.h"

namespace aic::metrics {

namespace {

constexpr double kPi = 3.14159265358979323846;

double siSnr(const float* x, const float* y, size_t n) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double xy = 0, xx = 0;
  for (size_t i = 0; i < n; ++i) {
    xy += (x[i] - mx) * (y[i] - my);
    xx += (x[i] - mx) * (x[i] - mx);
  }
  if (xx <= 1e-20) return 0;  // a silent reference has no signal to compare against
  const double alpha = xy / xx;
  double st = 0, e = 0;
  for (size_t i = 0; i < n; ++i) {
    double s = alpha * (x[i] - mx);
    double d = (y[i] - my) - s;
    st += s * s;
    e += d * d;
  }
  if (e <= 1e-20 * std::max(st, 1e-20)) return 100.0;
  return std::clamp(10.0 * std::log10(std::max(st, 1e-30) / e), -50.0, 100.0);
}

// In-place iterative radix-2 FFT (size a power of two).
void fft(std::vector<std::complex<double>>& a) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2 * kPi / static_cast<double>(len);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    for (size_t i = 0; i < n; i += len) {
      std::complex<double> w(1);
      for (size_t k = 0; k < len / 2; ++k) {
        auto u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= wl;
      }
    }
  }
}

double hzToMel(double f) { return 2595.0 * std::log10(1.0 + f / 700.0); }
double melToHz(double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); }

// Mel band energies (linear power) per frame: [frames][bands].
std::vector<std::vector<double>> melSpectrogram(const float* x, size_t n, int sampleRate) {
  const size_t win = static_cast<size_t>(std::lround(0.025 * sampleRate));
  const size_t hop = static_cast<size_t>(std::lround(0.010 * sampleRate));
  size_t nfft = 1;
  while (nfft < win) nfft <<= 1;
  const int bands = 40;
  const double fmax = std::min(8000.0, sampleRate / 2.0), fmin = 50.0;
  std::vector<double> edges(bands + 2);
  for (int b = 0; b < bands + 2; ++b) edges[b] = melToHz(hzToMel(fmin) + (hzToMel(fmax) - hzToMel(fmin)) * b / (bands + 1));
  std::vector<double> window(win);
  for (size_t i = 0; i < win; ++i) window[i] = 0.5 - 0.5 * std::cos(2 * kPi * i / win);
  std::vector<std::vector<double>> out;
  std::vector<std::complex<double>> buf(nfft);
  // Frames cover the signal; the last one is zero-padded.
  for (size_t start = 0; start < n || start == 0; start += hop) {
    std::fill(buf.begin(), buf.end(), 0.0);
    for (size_t i = 0; i < win && start + i < n; ++i) buf[i] = x[start + i] * window[i];
    fft(buf);
    std::vector<double> mel(bands, 0.0);
    for (size_t k = 1; k <= nfft / 2; ++k) {
      const double f = static_cast<double>(k) * sampleRate / nfft, p = std::norm(buf[k]);
      for (int b = 0; b < bands; ++b) {
        if (f <= edges[b] || f >= edges[b + 2]) continue;
        double w = f < edges[b + 1] ? (f - edges[b]) / (edges[b + 1] - edges[b]) : (edges[b + 2] - f) / (edges[b + 2] - edges[b + 1]);
        mel[b] += w * p;
      }
    }
    out.push_back(std::move(mel));
    if (start + win >= n) break;
  }
  return out;
}

}  // namespace

AudioQuality audioQuality(const float* reference, const float* decoded, size_t samples, int sampleRate) {
  if (sampleRate < 4000 || sampleRate > 384000) throw CoreError(ErrorCode::InvalidArgument, "sample rate must be 4000..384000 Hz");
  AudioQuality q;
  if (samples == 0) throw CoreError(ErrorCode::InvalidArgument, "no samples to compare");
  for (size_t i = 0; i < samples; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  q.siSnrDb = siSnr(reference, decoded, samples);
  auto ref = melSpectrogram(reference, samples, sampleRate);
  auto dec = melSpectrogram(decoded, samples, sampleRate);
  double peakBand = 0;
  std::vector<double> frameEnergy(ref.size());
  for (size_t f = 0; f < ref.size(); ++f) {
    for (double v : ref[f]) {
      peakBand = std::max(peakBand, v);
      frameEnergy[f] += v;
    }
  }
  const double maxFrame = *std::max_element(frameEnergy.begin(), frameEnergy.end());
  if (maxFrame <= 0) {
    // A silent reference: identical silence scores 1; anything audible scores by its level.
    double e = 0;
    for (size_t i = 0; i < samples; ++i) e += double(decoded[i]) * decoded[i];
    double rmsDb = 10 * std::log10(e / samples + 1e-12);
    q.logMelDistanceDb = std::max(0.0, rmsDb + 90.0) / 3.0;
  } else {
    const double floor = peakBand * 1e-5;  // 50 dB under the loudest band
    double sum = 0;
    size_t counted = 0;
    for (size_t f = 0; f < ref.size(); ++f) {
      if (frameEnergy[f] < maxFrame * 1e-5) continue;  // more than 50 dB under the loudest frame
      double se = 0;
      for (size_t b = 0; b < ref[f].size(); ++b) {
        double d = 10 * std::log10(std::max(ref[f][b], floor)) - 10 * std::log10(std::max(dec[f][b], floor));
        se += d * d;
      }
      sum += std::sqrt(se / ref[f].size());
      ++counted;
    }
    q.logMelDistanceDb = counted ? sum / counted : 0;
  }
  const double r = q.logMelDistanceDb / 4.0;
  q.score = 1.0 / (1.0 + r * r);
  return q;
}

}  // namespace aic::metrics
