// The incremental AudioScoreWindow against the one it replaced: a copy of the old window (full
// copies on mark(), three passes for SI-SNR, log10 of every band of every frame per push, its own
// copy of the old mel analysis) is the oracle, and random streams (speech-like tones, silence,
// noise, clipping, DC, muted bands, near-lossless and exact frames) with random interleavings
// of push / pushExact / pushWithExactPrefix / mark / rewind must give the same measures, to
// floating-point rounding.
#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <random>
#include <vector>

#include "audio/audio_metrics.h"
#include "common/errors.h"
#include "test_harness.h"

// ---- The oracle: audio_metrics.cc at 52b69ea, renamed ----------------------------------------
namespace aic::reference {

using aic::CoreError;
using aic::ErrorCode;
using aic::metrics::AudioQuality;
using aic::metrics::HoleCount;

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


class ReferenceMel {
 public:
  static constexpr int kBands = 40;
  explicit ReferenceMel(int sampleRate);
  size_t window() const { return win_; }
  size_t hop() const { return hop_; }
  // Band powers of the frame starting at x (zero-padded past `available` samples); with `power`,
  // also its bin powers |X(k)|^2 / sum(w^2) for k = 0..nfft/2 (powerBins() values).
  void frame(const float* x, size_t available, double* bands, double* power = nullptr);
  size_t powerBins() const { return nfft_ / 2 + 1; }
  // The bins of the hole measure: from 50 Hz to Nyquist.
  size_t lowBin() const { return lowBin_; }
  double binHz() const { return static_cast<double>(sampleRate_) / static_cast<double>(nfft_); }

 private:
  struct Weight {
    uint32_t bin, band;
    double weight;
  };
  int sampleRate_;
  size_t win_, hop_, nfft_, lowBin_ = 1;
  double windowPower_ = 1;
  std::vector<double> window_;
  std::vector<Weight> weights_;
  std::vector<std::complex<double>> buf_;
};

ReferenceMel::ReferenceMel(int sampleRate) : sampleRate_(sampleRate) {
  win_ = static_cast<size_t>(std::lround(0.025 * sampleRate));
  hop_ = static_cast<size_t>(std::lround(0.010 * sampleRate));
  nfft_ = 1;
  while (nfft_ < win_) nfft_ <<= 1;
  const double fmax = std::min(8000.0, sampleRate / 2.0), fmin = 50.0;
  std::vector<double> edges(kBands + 2);
  for (int b = 0; b < kBands + 2; ++b) edges[b] = melToHz(hzToMel(fmin) + (hzToMel(fmax) - hzToMel(fmin)) * b / (kBands + 1));
  window_.resize(win_);
  windowPower_ = 0;
  for (size_t i = 0; i < win_; ++i) {
    window_[i] = 0.5 - 0.5 * std::cos(2 * kPi * i / win_);
    windowPower_ += window_[i] * window_[i];
  }
  lowBin_ = std::max<size_t>(1, static_cast<size_t>(std::ceil(50.0 * nfft_ / sampleRate)));
  for (size_t k = 1; k <= nfft_ / 2; ++k) {
    const double f = static_cast<double>(k) * sampleRate / nfft_;
    for (int b = 0; b < kBands; ++b) {
      if (f <= edges[b] || f >= edges[b + 2]) continue;
      const double w = f < edges[b + 1] ? (f - edges[b]) / (edges[b + 1] - edges[b]) : (edges[b + 2] - f) / (edges[b + 2] - edges[b + 1]);
      weights_.push_back({static_cast<uint32_t>(k), static_cast<uint32_t>(b), w});
    }
  }
  buf_.resize(nfft_);
}

void ReferenceMel::frame(const float* x, size_t available, double* bands, double* power) {
  std::fill(buf_.begin(), buf_.end(), 0.0);
  for (size_t i = 0; i < win_ && i < available; ++i) buf_[i] = x[i] * window_[i];
  fft(buf_);
  std::fill(bands, bands + kBands, 0.0);
  for (const auto& w : weights_) bands[w.band] += w.weight * std::norm(buf_[w.bin]);
  if (power) {
    for (size_t k = 0; k <= nfft_ / 2; ++k) power[k] = std::norm(buf_[k]) / windowPower_;
  }
}


constexpr double kAudibleRange = 1e-6;   // 60 dB under the frame's loudest reference bin
constexpr double kAudibleFloor = 1e-9;   // -90 dBFS
constexpr double kHoleDepth = 1e-3;      // 30 dB under the reference

void referenceCountHoles(const double* refPower, const double* decPower, size_t lo, size_t hi, double binHz, aic::metrics::HoleCount& count) {
  double peak = 0;
  for (size_t k = lo; k <= hi; ++k) peak = std::max(peak, refPower[k]);
  const double audible = std::max(kAudibleFloor, peak * kAudibleRange);
  // Bands in order of frequency: accumulate a band's audible bins, settle it when the next begins.
  int band = -1;
  size_t bandBins = 0;
  double bandRef = 0, bandDec = 0;
  auto settle = [&] {
    if (bandBins > 0 && bandDec <= bandRef * kHoleDepth) count.lostBand += bandBins;
    bandBins = 0;
    bandRef = bandDec = 0;
  };
  for (size_t k = lo; k <= hi; ++k) {
    const int b = static_cast<int>(std::floor(3.0 * std::log2(static_cast<double>(k) * binHz / 50.0)));
    if (b != band) {
      settle();
      band = b;
    }
    if (refPower[k] < audible) continue;
    ++count.audible;
    if (decPower[k] <= refPower[k] * kHoleDepth) ++count.holes;
    ++bandBins;
    bandRef += refPower[k];
    bandDec += decPower[k];
  }
  settle();
}


// The log-mel distance of frames (ref, dec: [frames][bands]); samples of the decoded signal for
// the silent-reference case.
double logMelDistance(const std::vector<const double*>& ref, const std::vector<const double*>& dec, const float* decoded, size_t samples) {
  const int bands = ReferenceMel::kBands;
  double peakBand = 0;
  std::vector<double> frameEnergy(ref.size());
  for (size_t f = 0; f < ref.size(); ++f) {
    for (int b = 0; b < bands; ++b) {
      peakBand = std::max(peakBand, ref[f][b]);
      frameEnergy[f] += ref[f][b];
    }
  }
  const double maxFrame = frameEnergy.empty() ? 0 : *std::max_element(frameEnergy.begin(), frameEnergy.end());
  if (maxFrame <= 0) {
    // A silent reference: identical silence scores 1; anything audible scores by its level.
    double e = 0;
    for (size_t i = 0; i < samples; ++i) e += double(decoded[i]) * decoded[i];
    double rmsDb = 10 * std::log10(e / std::max<size_t>(1, samples) + 1e-12);
    return std::max(0.0, rmsDb + 90.0) / 3.0;
  }
  const double floor = peakBand * 1e-5;  // 50 dB under the loudest band
  double sum = 0;
  size_t counted = 0;
  for (size_t f = 0; f < ref.size(); ++f) {
    if (frameEnergy[f] < maxFrame * 1e-5) continue;  // more than 50 dB under the loudest frame
    double se = 0;
    for (int b = 0; b < bands; ++b) {
      double d = 10 * std::log10(std::max(ref[f][b], floor)) - 10 * std::log10(std::max(dec[f][b], floor));
      se += d * d;
    }
    sum += std::sqrt(se / bands);
    ++counted;
  }
  return counted ? sum / counted : 0;
}

double scoreOf(double distanceDb) {
  const double r = distanceDb / 4.0;
  return 1.0 / (1.0 + r * r);
}


class ReferenceScoreWindow {
 public:
  static constexpr double kQuietFrameRms = 1.78e-3;
  static constexpr double kQuietDecodedRms = 3.16e-3;
  static constexpr int kMinForegroundFrames = 20;
  static constexpr double kBandToleranceDb = 10.0;
  static constexpr double kHoleTolerance = 0.4;
  static constexpr double kWindowBandLossTolerance = 0.2;
  static constexpr int kCheckBands = 8;
  ReferenceScoreWindow(int sampleRate, double windowSeconds, size_t delaySamples);
  // Appends n reference (input) and n decoded (output) samples; returns the window's measures.
  AudioQuality push(const float* reference, const float* decoded, size_t n);
  // Appends n reference samples that the receiver gets exactly (a lossless frame): the decoded
  // stream continues with the reference, aligned.
  AudioQuality pushExact(const float* reference, size_t n);
  // push() where the first `exactPrefix` decoded samples are what the receiver got exactly (the
  // gap a switch between codecs of different delays leaves is counted as exact, as pushExact
  // counts lossless frames): those samples are taken from the aligned reference.
  AudioQuality pushWithExactPrefix(const float* reference, const float* decoded, size_t n, size_t exactPrefix);
  // Saves the window's whole state / goes back to it (a session scores a trial setting).
  void mark();
  void rewind();

 private:
  AudioQuality update(bool judge);
  struct Frame {
    std::array<double, ReferenceMel::kBands> ref, dec;
    double refRms = 0;
    HoleCount holes;
  };
  ReferenceMel mel_;
  std::vector<double> refPower_, decPower_;
  size_t delay_, windowSamples_ = 0, windowFrames_ = 0;
  std::vector<float> ref_, dec_;  // aligned: ref_[i] is what dec_[i] should be
  size_t next_ = 0;               // start of the next mel frame in ref_/dec_
  std::deque<Frame> frames_;
  std::deque<double> levels_;  // reference RMS of the mel frames of the last 5 s
  size_t levelFrames_ = 0;
  struct Marked {
    bool valid = false;
    std::vector<float> ref, dec;
    size_t next = 0;
    std::deque<Frame> frames;
    std::deque<double> levels;
  } marked_;
};

ReferenceScoreWindow::ReferenceScoreWindow(int sampleRate, double windowSeconds, size_t delaySamples)
    : mel_(sampleRate), refPower_(mel_.powerBins()), decPower_(mel_.powerBins()), delay_(delaySamples) {
  if (sampleRate < 4000 || sampleRate > 384000) throw CoreError(ErrorCode::InvalidArgument, "sample rate must be 4000..384000 Hz");
  if (!(windowSeconds >= 0.05 && windowSeconds <= 10)) throw CoreError(ErrorCode::InvalidArgument, "score window must be 0.05..10 s");
  if (delaySamples > static_cast<size_t>(sampleRate)) throw CoreError(ErrorCode::InvalidArgument, "delay must be at most one second");
  windowSamples_ = static_cast<size_t>(std::lround(windowSeconds * sampleRate));
  windowFrames_ = std::max<size_t>(1, windowSamples_ / mel_.hop());
  levelFrames_ = static_cast<size_t>(5 * sampleRate) / mel_.hop();
  // Before the stream the codec assumes silence: the reference starts `delay` samples of zeros early.
  ref_.assign(delay_, 0.0f);
}

AudioQuality ReferenceScoreWindow::push(const float* reference, const float* decoded, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  ref_.insert(ref_.end(), reference, reference + n);
  dec_.insert(dec_.end(), decoded, decoded + n);
  return update(true);
}

AudioQuality ReferenceScoreWindow::pushWithExactPrefix(const float* reference, const float* decoded, size_t n, size_t exactPrefix) {
  if (exactPrefix > n) throw CoreError(ErrorCode::InvalidArgument, "exactPrefix must be at most the number of samples");
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  ref_.insert(ref_.end(), reference, reference + n);
  const size_t at = dec_.size();
  dec_.insert(dec_.end(), decoded, decoded + n);
  std::copy(ref_.begin() + static_cast<std::ptrdiff_t>(at), ref_.begin() + static_cast<std::ptrdiff_t>(at + exactPrefix), dec_.begin() + static_cast<std::ptrdiff_t>(at));
  return update(true);
}

void ReferenceScoreWindow::mark() {
  marked_.valid = true;
  marked_.ref = ref_;
  marked_.dec = dec_;
  marked_.next = next_;
  marked_.frames = frames_;
  marked_.levels = levels_;
}

void ReferenceScoreWindow::rewind() {
  if (!marked_.valid) throw CoreError(ErrorCode::InvalidArgument, "score window: rewind() before mark()");
  ref_ = marked_.ref;
  dec_ = marked_.dec;
  next_ = marked_.next;
  frames_ = marked_.frames;
  levels_ = marked_.levels;
}

AudioQuality ReferenceScoreWindow::pushExact(const float* reference, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  ref_.insert(ref_.end(), reference, reference + n);
  // ref_ runs `delay` samples ahead of dec_, so the samples that align are already there.
  const size_t at = dec_.size();
  dec_.resize(at + n);
  std::copy(ref_.begin() + static_cast<std::ptrdiff_t>(at), ref_.begin() + static_cast<std::ptrdiff_t>(at + n), dec_.begin() + static_cast<std::ptrdiff_t>(at));
  return update(false);
}

AudioQuality ReferenceScoreWindow::update(bool judge) {
  // Aligned pairs: ref_[i] is what dec_[i] should be. New mel frames wherever a whole window fits.
  const size_t win = mel_.window(), hop = mel_.hop();
  const size_t firstNew = frames_.size();
  std::vector<double> newDecRms;
  while (next_ + win <= dec_.size()) {
    Frame f;
    mel_.frame(ref_.data() + next_, win, f.ref.data(), refPower_.data());
    mel_.frame(dec_.data() + next_, win, f.dec.data(), decPower_.data());
    referenceCountHoles(refPower_.data(), decPower_.data(), mel_.lowBin(), mel_.powerBins() - 1, mel_.binHz(), f.holes);
    double e = 0, ed = 0;
    for (size_t i = 0; i < win; ++i) {
      e += double(ref_[next_ + i]) * ref_[next_ + i];
      ed += double(dec_[next_ + i]) * dec_[next_ + i];
    }
    f.refRms = std::sqrt(e / win);
    newDecRms.push_back(std::sqrt(ed / win));
    frames_.push_back(f);
    if (f.refRms > 1e-6) levels_.push_back(f.refRms);  // digital silence says nothing of the room
    if (levels_.size() > levelFrames_) levels_.pop_front();
    next_ += hop;
  }
  const size_t added = frames_.size() - firstNew;
  while (frames_.size() > windowFrames_) frames_.pop_front();
  // Keep the samples of the window (for SI-SNR) and those the next frames still need.
  const size_t keepFrom = std::min(next_, dec_.size() > windowSamples_ ? dec_.size() - windowSamples_ : 0);
  if (keepFrom > 0) {
    ref_.erase(ref_.begin(), ref_.begin() + static_cast<std::ptrdiff_t>(keepFrom));
    dec_.erase(dec_.begin(), dec_.begin() + static_cast<std::ptrdiff_t>(keepFrom));
    next_ -= keepFrom;
  }
  const size_t m = std::min(dec_.size(), windowSamples_);
  const float* r = ref_.data() + (dec_.size() - m);
  const float* d = dec_.data() + (dec_.size() - m);
  AudioQuality q;
  double er = 0, ed = 0;
  for (size_t i = 0; i < m; ++i) {
    er += double(r[i]) * r[i];
    ed += double(d[i]) * d[i];
  }
  const double rmsRef = std::sqrt(er / std::max<size_t>(1, m)), rmsDec = std::sqrt(ed / std::max<size_t>(1, m));
  // Only foreground frames count: over -55 dBFS and 20 dB over the stream's noise floor, the
  // threshold capped at -35 dBFS.
  // The noise floor is the 20th percentile of the frame levels (a minimum would follow single
  // dips of a fluctuating background).
  double noiseFloor = 1.0;
  if (!levels_.empty()) {
    std::vector<double> l(levels_.begin(), levels_.end());
    std::nth_element(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(l.size() / 5), l.end());
    noiseFloor = l[l.size() / 5];
  }
  const double threshold = std::max(kQuietFrameRms, std::min(noiseFloor * 10.0, 0.0178));
  std::vector<const double*> rp, dp;
  HoleCount windowHoles;
  for (const auto& f : frames_) {
    if (f.refRms < threshold) continue;
    rp.push_back(f.ref.data());
    dp.push_back(f.dec.data());
    windowHoles.add(f.holes);
  }
  q.windowHoleFraction = windowHoles.fraction();
  q.windowBandLoss = windowHoles.bandLoss();
  q.windowHoleMiss = judge && q.windowBandLoss > kWindowBandLossTolerance;
  // The pause rule: fine while the output stays quiet too (under -50 dBFS, or at most 6 dB over
  // the reference); louder, the excess in dB is the distance.
  const double allowed = std::max(kQuietDecodedRms, 2 * rmsRef);
  const double pauseDistance = rmsDec <= allowed ? 0 : 10 * std::log10(rmsDec / allowed);
  // Under 200 ms of foreground the spectral distance rests on too little: blend it in by weight.
  const double weight = std::min(1.0, static_cast<double>(rp.size()) / kMinForegroundFrames);
  q.activeFraction = frames_.empty() ? 0 : static_cast<double>(rp.size()) / frames_.size();
  q.siSnrDb = m == 0 || rmsRef < threshold ? 100 : siSnr(r, d, m);
  q.logMelDistanceDb = (1 - weight) * pauseDistance + (rp.empty() ? 0 : weight * logMelDistance(rp, dp, d, m));
  q.score = scoreOf(q.logMelDistanceDb);
  // The per-frame check over the mel frames this push completed.
  if (judge) {
    constexpr int per = ReferenceMel::kBands / kCheckBands;
    const size_t count = std::min(added, frames_.size());
    HoleCount holes;
    for (size_t k = 0; k < count; ++k) {
      const Frame& f = frames_[frames_.size() - count + k];
      const double decRms = newDecRms[newDecRms.size() - count + k];
      if (f.refRms >= threshold) holes.add(f.holes);
      if (std::max(f.refRms, decRms) < threshold) continue;
      double rb[kCheckBands] = {}, db[kCheckBands] = {}, rt = 0, dt = 0;
      for (int b = 0; b < ReferenceMel::kBands; ++b) {
        rb[b / per] += f.ref[b];
        db[b / per] += f.dec[b];
        rt += f.ref[b];
        dt += f.dec[b];
      }
      const double floor = std::max(rt, dt) * 1e-3 + 1e-12;  // 30 dB under the louder frame
      for (int g = 0; g < kCheckBands; ++g) {
        const double err = std::abs(10 * std::log10((db[g] + floor) / (rb[g] + floor)));
        q.worstBandErrorDb = std::max(q.worstBandErrorDb, err);
      }
    }
    q.holeFraction = holes.fraction();
    q.bandLoss = holes.bandLoss();
    q.frameMiss = q.worstBandErrorDb > kBandToleranceDb || q.holeFraction > kHoleTolerance;
  }
  return q;
}


// Mel band energies (linear power) per frame: [frames][bands]. Frames cover the signal; the last
// one is zero-padded.
std::vector<std::vector<double>> melSpectrogram(const float* x, size_t n, int sampleRate) {
  ReferenceMel mel(sampleRate);
  std::vector<std::vector<double>> out;
  for (size_t start = 0; start < n || start == 0; start += mel.hop()) {
    std::vector<double> bands(ReferenceMel::kBands);
    mel.frame(x + start, n - start, bands.data());
    out.push_back(std::move(bands));
    if (start + mel.window() >= n) break;
  }
  return out;
}

// The clip's hole fraction: whole frames only (start + window <= samples), active when the
// reference's power over the measure's bins is within 40 dB of its loudest frame.
HoleCount holesOf(const float* reference, const float* decoded, size_t samples, int sampleRate) {
  ReferenceMel mel(sampleRate);
  const size_t bins = mel.powerBins(), lo = mel.lowBin(), hi = bins - 1;
  std::vector<std::vector<double>> ref, dec;
  std::vector<double> energy, bands(ReferenceMel::kBands);
  for (size_t start = 0; start + mel.window() <= samples; start += mel.hop()) {
    ref.emplace_back(bins);
    dec.emplace_back(bins);
    mel.frame(reference + start, mel.window(), bands.data(), ref.back().data());
    mel.frame(decoded + start, mel.window(), bands.data(), dec.back().data());
    double e = 0;
    for (size_t k = lo; k <= hi; ++k) e += ref.back()[k];
    energy.push_back(e);
  }
  const double loudest = energy.empty() ? 0 : *std::max_element(energy.begin(), energy.end());
  HoleCount count;
  for (size_t f = 0; f < ref.size(); ++f) {
    if (loudest <= 0 || energy[f] < loudest * 1e-4) continue;
    referenceCountHoles(ref[f].data(), dec[f].data(), lo, hi, mel.binHz(), count);
  }
  return count;
}

AudioQuality referenceAudioQuality(const float* reference, const float* decoded, size_t samples, int sampleRate) {
  if (sampleRate < 4000 || sampleRate > 384000) throw CoreError(ErrorCode::InvalidArgument, "sample rate must be 4000..384000 Hz");
  AudioQuality q;
  if (samples == 0) throw CoreError(ErrorCode::InvalidArgument, "no samples to compare");
  for (size_t i = 0; i < samples; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  q.siSnrDb = siSnr(reference, decoded, samples);
  auto ref = melSpectrogram(reference, samples, sampleRate);
  auto dec = melSpectrogram(decoded, samples, sampleRate);
  std::vector<const double*> rp, dp;
  for (size_t f = 0; f < ref.size(); ++f) {
    rp.push_back(ref[f].data());
    dp.push_back(dec[f].data());
  }
  q.logMelDistanceDb = logMelDistance(rp, dp, decoded, samples);
  q.score = scoreOf(q.logMelDistanceDb);
  const HoleCount holes = holesOf(reference, decoded, samples, sampleRate);
  q.holeFraction = holes.fraction();
  q.bandLoss = holes.bandLoss();
  return q;
}

}  // namespace
}  // namespace aic::reference

using aic::metrics::AudioQuality;
using aic::metrics::AudioScoreWindow;
using aic::reference::ReferenceScoreWindow;

namespace {

// A reference stream of segments: speech-like tones (gliding harmonics under a syllable
// envelope), digital silence, room noise, loud noise, clipped speech, a DC offset under speech,
// pure DC.
std::vector<float> referenceStream(int rate, size_t samples, std::mt19937& rng) {
  std::vector<float> x(samples);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> g(0, 1);
  size_t at = 0;
  double phase = 0;
  while (at < samples) {
    const size_t len = std::min(samples - at, static_cast<size_t>(rate * (0.05 + 0.6 * u(rng))));
    const int kind = static_cast<int>(u(rng) * 8);
    const double f0 = 90 + 200 * u(rng), level = 0.02 + 0.5 * u(rng), noise = std::pow(10.0, -5 + 3 * u(rng));
    const int harmonics = 3 + static_cast<int>(u(rng) * 30);
    for (size_t i = 0; i < len; ++i) {
      const double t = static_cast<double>(i) / rate;
      double v = 0;
      if (kind <= 2 || kind == 5 || kind == 6) {
        phase += 2 * M_PI * (f0 + 30 * std::sin(2 * M_PI * 1.3 * t)) / rate;
        const double env = std::pow(std::sin(M_PI * std::fmod(t * 4, 1.0)), 2);
        for (int h = 1; h <= harmonics && h * f0 < rate / 2.0; ++h) v += std::sin(h * phase) / h;
        v = level * env * v + noise * g(rng);
        if (kind == 5) v = std::clamp(4 * v, -0.3, 0.3);  // clipping
        if (kind == 6) v += 0.2;                          // a DC offset under speech
      } else if (kind == 3) {
        v = 0;  // digital silence
      } else if (kind == 4) {
        v = noise * g(rng);  // room noise
      } else if (kind == 7) {
        v = u(rng) < 0.5 ? 0.3 * g(rng) : 0.05;  // loud noise, or pure DC
      }
      x[at + i] = static_cast<float>(std::clamp(v, -1.0, 1.0));
    }
    at += len;
  }
  return x;
}

// One decoded version of the whole stream, trailing it by `delay`: per segment exact, noisy at
// some SNR, near lossless (-70..-110 dB of noise: SI-SNR over 60 dB), low-passed (the high
// band muted), dropped out, louder, or clipped.
// With `nearLossless`, only exact and near-lossless segments (-60..-130 dB of noise), so that whole
// windows score over 60 dB (where the incremental SI-SNR defers to three passes).
std::vector<float> decodedStream(const std::vector<float>& x, int rate, size_t delay, std::mt19937& rng, bool nearLossless = false) {
  std::vector<float> y(x.size(), 0.0f);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> g(0, 1);
  size_t at = delay;
  double lp = 0;
  while (at < y.size()) {
    const size_t len = std::min(y.size() - at, static_cast<size_t>(rate * (0.02 + 0.4 * u(rng))));
    const int kind = nearLossless ? (u(rng) < 0.3 ? 0 : 2) : static_cast<int>(u(rng) * 8);
    const double snr = std::pow(10.0, -(kind == 2 ? (nearLossless ? 3 + 3.5 * u(rng) : 3.5 + 2 * u(rng)) : 0.5 + 2.5 * u(rng)));
    const double a = std::exp(-2 * M_PI * (500 + 3000 * u(rng)) / rate);
    for (size_t i = 0; i < len; ++i) {
      const double v = x[at + i - delay];
      double w = v;
      switch (kind) {
        case 0: break;                                  // exact
        case 1: w = v + snr * 0.1 * g(rng); break;      // noise
        case 2: w = v * (1 + snr * g(rng)); break;      // near lossless
        case 3: w = lp = (1 - a) * v + a * lp; break;   // low-pass: a muted high band
        case 4: w = 0; break;                           // a dropout
        case 5: w = 1.7 * v; break;                     // louder
        case 6: w = std::clamp(3 * v, -0.2, 0.2); break;
        default: w = v + 0.01 * g(rng); break;
      }
      y[at + i] = static_cast<float>(std::clamp(w, -1.0, 1.0));
    }
    at += len;
  }
  return y;
}

struct Diff {
  double siSnr = 0, distance = 0, score = 0, exact = 0, worstBand = 0;
  size_t compared = 0, capped = 0, high = 0, rewinds = 0, marks = 0, throwsChecked = 0;
};

void compare(const AudioQuality& a, const AudioQuality& b, Diff& d, bool& ok) {
  const double ds = std::abs(a.siSnrDb - b.siSnrDb);
  const double dd = std::abs(a.logMelDistanceDb - b.logMelDistanceDb) / std::max(1.0, std::abs(b.logMelDistanceDb));
  const double dq = std::abs(a.score - b.score);
  // Shares of counted frames and bins: exact. The worst band error (dB) to rounding: the window
  // takes a frame's two spectra from one FFT (MelAnalyser::framePair), the oracle from two.
  const double de = std::max({std::abs(a.activeFraction - b.activeFraction), std::abs(a.holeFraction - b.holeFraction),
                              std::abs(a.bandLoss - b.bandLoss), std::abs(a.windowHoleFraction - b.windowHoleFraction), std::abs(a.windowBandLoss - b.windowBandLoss)});
  const double dw = std::abs(a.worstBandErrorDb - b.worstBandErrorDb);
  d.worstBand = std::max(d.worstBand, dw);
  d.siSnr = std::max(d.siSnr, ds);
  d.distance = std::max(d.distance, dd);
  d.score = std::max(d.score, dq);
  d.exact = std::max(d.exact, de);
  ++d.compared;
  if (b.siSnrDb == 100.0 || b.siSnrDb == -50.0) ++d.capped;
  else if (b.siSnrDb > 50) ++d.high;
  const bool same = ds < 1e-6 && dd < 1e-9 && dq < 1e-9 && de < 1e-12 && dw < 1e-9 && a.frameMiss == b.frameMiss && a.windowHoleMiss == b.windowHoleMiss;
  if (!same && ok) {
    std::fprintf(stderr, "  first mismatch (push %zu): siSnr %.12g vs %.12g, distance %.12g vs %.12g, score %.12g vs %.12g, active %g vs %g, worst %g vs %g, holes %g vs %g, miss %d/%d vs %d/%d\n", d.compared,
                 a.siSnrDb, b.siSnrDb, a.logMelDistanceDb, b.logMelDistanceDb, a.score, b.score, a.activeFraction, b.activeFraction, a.worstBandErrorDb, b.worstBandErrorDb, a.holeFraction,
                 b.holeFraction, a.frameMiss, a.windowHoleMiss, b.frameMiss, b.windowHoleMiss);
    ok = false;
  }
}

// One random session on one configuration: returns false at the first measure that differs.
bool runSession(int rate, size_t delay, double seconds, unsigned seed, Diff& d) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  // Over 5 s, so that the noise floor's 5 s of levels fills and retires (and a rewind restores it).
  const size_t total = static_cast<size_t>(rate) * 7;
  const auto x = referenceStream(rate, total, rng);
  // Three decoded versions: the trials a session scores before it keeps one.
  std::vector<std::vector<float>> ys;
  for (int k = 0; k < 3; ++k) ys.push_back(decodedStream(x, rate, delay, rng, k == 2));
  const size_t frameSizes[] = {static_cast<size_t>(rate / 50), static_cast<size_t>(rate / 50), static_cast<size_t>(rate * 3 / 50), 160, 441, 1};
  AudioScoreWindow w(rate, seconds, delay);
  ReferenceScoreWindow r(rate, seconds, delay);
  bool ok = true, marked = false;
  size_t at = 0, markedAt = 0, sinceMark = 0;
  while (at < total && ok) {
    const double op = u(rng);
    if (op < 0.12) {
      w.mark();
      r.mark();
      marked = true;
      markedAt = at;
      sinceMark = 0;
      ++d.marks;
      continue;
    }
    if (op < 0.24 && marked) {
      w.rewind();
      r.rewind();
      at = markedAt;  // the trial is undone: the same input comes again
      sinceMark = 0;
      ++d.rewinds;
      continue;
    }
    size_t n = frameSizes[static_cast<size_t>(u(rng) * 6)];
    if (u(rng) < 0.03) n = static_cast<size_t>(u(rng) * 3000);
    if (u(rng) < 0.01) n = 0;
    n = std::min(n, total - at);
    // Mostly one version for a stretch (whole windows of it), sometimes another (a trial).
    const auto& y = ys[u(rng) < 0.8 ? (at / static_cast<size_t>(rate * 2)) % 3 : static_cast<size_t>(u(rng) * 3)];
    const float* xr = x.data() + at;
    const float* yd = y.data() + at;
    AudioQuality a, b;
    const double kind = u(rng);
    if (kind < 0.01 && n > 0) {
      // A non-finite sample: both refuse it and change nothing.
      std::vector<float> bad(yd, yd + n);
      bad[n / 2] = std::numeric_limits<float>::quiet_NaN();
      bool thrownW = false, thrownR = false;
      try { w.push(xr, bad.data(), n); } catch (const aic::CoreError&) { thrownW = true; }
      try { r.push(xr, bad.data(), n); } catch (const aic::CoreError&) { thrownR = true; }
      CHECK(thrownW && thrownR);
      ++d.throwsChecked;
      continue;
    }
    if (kind < 0.6) {
      a = w.push(xr, yd, n);
      b = r.push(xr, yd, n);
    } else if (kind < 0.8) {
      a = w.pushExact(xr, n);
      b = r.pushExact(xr, n);
    } else {
      const size_t prefix = u(rng) < 0.3 ? n : static_cast<size_t>(u(rng) * (n + 1));
      a = w.pushWithExactPrefix(xr, yd, n, std::min(prefix, n));
      b = r.pushWithExactPrefix(xr, yd, n, std::min(prefix, n));
    }
    at += n;
    // The oracle's mark holds for ever; keep within the new one's bound.
    if (marked && ++sinceMark >= AudioScoreWindow::kMaxPushesAfterMark) marked = false;
    compare(a, b, d, ok);
  }
  return ok;
}

}  // namespace

TEST(score_window_matches_the_full_recompute_on_random_streams) {
  Diff d;
  unsigned seed = 1;
  for (int rate : {8000, 16000, 48000}) {
    for (size_t delay : {size_t{0}, size_t{320}, size_t{77}, static_cast<size_t>(rate / 2 + 13)}) {
      for (double seconds : {0.5, 1.0}) {
        const bool ok = runSession(rate, delay, seconds, seed++, d);
        if (!ok) std::fprintf(stderr, "  at %d Hz, delay %zu, %.1f s window, seed %u\n", rate, delay, seconds, seed - 1);
        CHECK(ok);
      }
    }
  }
  std::fprintf(stderr, "  %zu pushes compared (%zu marks, %zu rewinds, %zu refused; SI-SNR capped %zu, over 50 dB %zu): max |dSiSnr| %.3g dB, rel |dDistance| %.3g, |dScore| %.3g, |dWorstBand| %.3g dB, others %.3g\n",
               d.compared, d.marks, d.rewinds, d.throwsChecked, d.capped, d.high, d.siSnr, d.distance, d.score, d.worstBand, d.exact);
  CHECK(d.rewinds > 100);
  CHECK(d.high > 10);  // the near-lossless path (where the sums defer to three passes) is exercised
}

// The one-shot measure shares the mel analysis and the hole count (now with a twiddle table and a
// band table): the same numbers as before, exactly.
TEST(one_shot_audio_quality_matches_the_old_one) {
  unsigned seed = 100;
  for (int rate : {8000, 16000, 44100, 48000}) {
    for (int k = 0; k < 3; ++k) {
      std::mt19937 rng(seed++);
      const auto x = referenceStream(rate, static_cast<size_t>(rate) * 2 + 37 * k, rng);
      const auto y = decodedStream(x, rate, 0, rng, k == 2);
      const auto a = aic::metrics::audioQuality(x.data(), y.data(), x.size(), rate);
      const auto b = aic::reference::referenceAudioQuality(x.data(), y.data(), x.size(), rate);
      CHECK(a.siSnrDb == b.siSnrDb);
      CHECK(a.logMelDistanceDb == b.logMelDistanceDb);
      CHECK(a.score == b.score);
      CHECK(a.holeFraction == b.holeFraction);
      CHECK(a.bandLoss == b.bandLoss);
    }
  }
}

TEST(score_window_mark_holds_for_64_pushes) {
  const int rate = 16000;
  std::mt19937 rng(7);
  const auto x = referenceStream(rate, rate * 4, rng);
  const auto y = decodedStream(x, rate, 320, rng);
  AudioScoreWindow w(rate, 1.0, 320);
  ReferenceScoreWindow r(rate, 1.0, 320);
  CHECK_THROWS_CODE(w.rewind(), aic::ErrorCode::InvalidArgument);
  const size_t f = 320;
  for (size_t i = 0; i < 20; ++i) {
    w.push(x.data() + i * f, y.data() + i * f, f);
    r.push(x.data() + i * f, y.data() + i * f, f);
  }
  // 64 pushes after mark(): rewind() still goes back (twice, and again after 64 more).
  w.mark();
  r.mark();
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 20; i < 84; ++i) w.push(x.data() + i * f, y.data() + i * f, f);
    w.rewind();
  }
  r.rewind();
  const auto a = w.push(x.data() + 20 * f, y.data() + 20 * f, f), b = r.push(x.data() + 20 * f, y.data() + 20 * f, f);
  CHECK(a.score == b.score);
  CHECK(std::abs(a.siSnrDb - b.siSnrDb) < 1e-6);
  // 65: the mark is dropped, and rewind() throws as before any mark().
  w.mark();
  for (size_t i = 21; i < 86; ++i) w.push(x.data() + i * f, y.data() + i * f, f);
  CHECK_THROWS_CODE(w.rewind(), aic::ErrorCode::InvalidArgument);
  // A new mark works again.
  w.mark();
  w.push(x.data() + 86 * f, y.data() + 86 * f, f);
  w.rewind();
}
