#include "audio/high_band.h"

#include <algorithm>
#include <cmath>

#include "audio/fft.h"

namespace aic::audio {

namespace {

constexpr double kPi = 3.14159265358979323846;
// The first band's level less the frame's core level index, and each next band's less the one
// below it: the tables' centres, set by hand (spectra fall with frequency), not fitted.
constexpr int kFirstCentre = -9, kNextCentre = -1;
constexpr uint32_t kFirstRatioQ16 = 52429, kNextRatioQ16 = 39322;  // 0.8, 0.6

std::vector<int> bandsOfBins(int rate, int bands) {
  std::vector<int> of(HighBand::kFft / 2 + 1, -1);
  for (int k = 1; k < HighBand::kFft / 2; ++k) {
    const double hz = static_cast<double>(k) * rate / HighBand::kFft;
    for (int b = 0; b < bands; ++b)
      if (hz >= HighBand::kEdgesHz[b] && hz < HighBand::kEdgesHz[b + 1]) of[static_cast<size_t>(k)] = b;
  }
  return of;
}

std::vector<float> sineWindow(int length) {
  std::vector<float> w(static_cast<size_t>(length));
  for (int i = 0; i < length; ++i) w[static_cast<size_t>(i)] = static_cast<float>(std::sin(kPi * (i + 0.5) / length));
  return w;
}

}  // namespace

int HighBand::bandsAt(int streamRate) {
  if (streamRate <= 16000) return 0;  // the core carries the whole band
  int b = 0;
  while (b < kMaxBands && kEdgesHz[b + 1] <= streamRate / 2) ++b;
  return b;
}

HighBand::HighBand() {
  const int span = kMaxLevel - kMinLevel;
  first_.emplace_back(-2 * span, 2 * span, kFirstCentre, kFirstRatioQ16);
  next_.emplace_back(-span, span, kNextCentre, kNextRatioQ16);
}

void HighBand::appendSymbols(const int32_t* levels, int bands, int reference, std::vector<const entropy::EncSymbol*>& tail) const {
  for (int b = 0; b < bands; ++b) {
    const int d = b == 0 ? levels[0] - reference : levels[b] - levels[b - 1];
    const auto& t = b == 0 ? first_[0] : next_[0];
    tail.push_back(&t.symbol(std::clamp(d, t.lo(), t.hi())));
  }
}

bool HighBand::decodeLevels(entropy::RansDecoder& d, int bands, int reference, int32_t* levels) const {
  for (int b = 0; b < bands; ++b) {
    const int v = b == 0 ? reference + first_[0].decode(d) : levels[b - 1] + next_[0].decode(d);
    if (!d.ok() || v < kMinLevel || v > kMaxLevel) return false;
    levels[b] = v;
  }
  return true;
}

HighBandAnalyser::HighBandAnalyser(int streamRate)
    : rate_(streamRate), n_(streamRate / 50), bands_(HighBand::bandsAt(streamRate)), previous_(static_cast<size_t>(n_), 0.0f),
      window_(sineWindow(2 * n_)), buf_(HighBand::kFft), twiddles_(twiddlesOf(HighBand::kFft)), bandOf_(bandsOfBins(streamRate, bands_)),
      binsIn_(static_cast<size_t>(bands_), 0) {
  for (int b : bandOf_)
    if (b >= 0) ++binsIn_[static_cast<size_t>(b)];
}

void HighBandAnalyser::analyse(const float* frame, int32_t* levels) {
  double windowEnergy = 0;
  std::fill(buf_.begin(), buf_.end(), std::complex<double>(0));
  for (int i = 0; i < 2 * n_; ++i) {
    const float x = i < n_ ? previous_[static_cast<size_t>(i)] : frame[i - n_];
    const double w = window_[static_cast<size_t>(i)];
    buf_[static_cast<size_t>(i)] = x * w;
    windowEnergy += w * w;
  }
  std::copy(frame, frame + n_, previous_.begin());
  fft(buf_, twiddles_);
  std::vector<double> power(static_cast<size_t>(bands_), 0.0);
  for (size_t k = 0; k < bandOf_.size(); ++k)
    if (bandOf_[k] >= 0) power[static_cast<size_t>(bandOf_[k])] += std::norm(buf_[k]);
  for (int b = 0; b < bands_; ++b) {
    const double p = power[static_cast<size_t>(b)] / (windowEnergy * binsIn_[static_cast<size_t>(b)]);
    const double l = p > 0 ? std::nearbyint(std::log2(p)) : HighBand::kMinLevel;
    levels[b] = static_cast<int32_t>(std::clamp(l, static_cast<double>(HighBand::kMinLevel), static_cast<double>(HighBand::kMaxLevel)));
  }
}

HighBandSynthesiser::HighBandSynthesiser(int streamRate, int delay)
    : rate_(streamRate), n_(streamRate / 50), bands_(HighBand::bandsAt(streamRate)), window_(sineWindow(2 * n_)), tail_(static_cast<size_t>(n_), 0.0f),
      delayLine_(static_cast<size_t>(std::max(delay, 0)), 0.0f), buf_(HighBand::kFft), twiddles_(twiddlesOf(HighBand::kFft)),
      bandOf_(bandsOfBins(streamRate, bands_)) {}

void HighBandSynthesiser::synthesise(const int32_t* levels, float gain, uint32_t seed, float* out) {
  std::vector<float> frame(static_cast<size_t>(n_));
  if (levels) {
    std::vector<double> amplitude(static_cast<size_t>(bands_));
    for (int b = 0; b < bands_; ++b) amplitude[static_cast<size_t>(b)] = gain * std::sqrt(HighBand::kFft * std::exp2(static_cast<double>(levels[b])));
    // The inverse FFT as conj(fft(conj(Y))) / n; Y Hermitian, so the output is real.
    std::fill(buf_.begin(), buf_.end(), std::complex<double>(0));
    uint32_t x = seed ? seed : 1u;
    for (size_t k = 0; k < bandOf_.size(); ++k) {
      if (bandOf_[k] < 0) continue;
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const double phase = 2 * kPi * (x >> 8) / 16777216.0;
      const std::complex<double> y = std::polar(amplitude[static_cast<size_t>(bandOf_[k])], phase);
      buf_[k] = std::conj(y);
      buf_[HighBand::kFft - k] = y;
    }
    fft(buf_, twiddles_);
    for (int i = 0; i < 2 * n_; ++i) {
      const double v = buf_[static_cast<size_t>(i)].real() / HighBand::kFft * window_[static_cast<size_t>(i)];
      if (i < n_) frame[static_cast<size_t>(i)] = tail_[static_cast<size_t>(i)] + static_cast<float>(v);
      else tail_[static_cast<size_t>(i - n_)] = static_cast<float>(v);
    }
  } else {
    std::copy(tail_.begin(), tail_.end(), frame.begin());
    std::fill(tail_.begin(), tail_.end(), 0.0f);
  }
  // Through the delay line (a ring of `delay` samples) into the output.
  for (int i = 0; i < n_; ++i) {
    float v = frame[static_cast<size_t>(i)];
    if (!delayLine_.empty()) {
      std::swap(v, delayLine_[delayPos_]);
      delayPos_ = (delayPos_ + 1) % delayLine_.size();
    }
    out[i] += v;
  }
}

}  // namespace aic::audio
