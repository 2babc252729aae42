#include "audio/audio_metrics.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "common/errors.h"

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

}  // namespace

// 25 ms Hann frames, FFT to the next power of two, 40 triangular mel bands from 50 Hz to
// min(8 kHz, Nyquist). The band weights are computed once per analyser (sparse per FFT bin).
MelAnalyser::MelAnalyser(int sampleRate) : sampleRate_(sampleRate) {
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

void MelAnalyser::frame(const float* x, size_t available, double* bands, double* power) {
  std::fill(buf_.begin(), buf_.end(), 0.0);
  for (size_t i = 0; i < win_ && i < available; ++i) buf_[i] = x[i] * window_[i];
  fft(buf_);
  std::fill(bands, bands + kBands, 0.0);
  for (const auto& w : weights_) bands[w.band] += w.weight * std::norm(buf_[w.bin]);
  if (power) {
    for (size_t k = 0; k <= nfft_ / 2; ++k) power[k] = std::norm(buf_[k]) / windowPower_;
  }
}

namespace {
constexpr double kAudibleRange = 1e-6;   // 60 dB under the frame's loudest reference bin
constexpr double kAudibleFloor = 1e-9;   // -90 dBFS
constexpr double kHoleDepth = 1e-3;      // 30 dB under the reference
}  // namespace

void countHoles(const double* refPower, const double* decPower, size_t lo, size_t hi, double binHz, HoleCount& count) {
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

namespace {

// Mel band energies (linear power) per frame: [frames][bands]. Frames cover the signal; the last
// one is zero-padded.
std::vector<std::vector<double>> melSpectrogram(const float* x, size_t n, int sampleRate) {
  MelAnalyser mel(sampleRate);
  std::vector<std::vector<double>> out;
  for (size_t start = 0; start < n || start == 0; start += mel.hop()) {
    std::vector<double> bands(MelAnalyser::kBands);
    mel.frame(x + start, n - start, bands.data());
    out.push_back(std::move(bands));
    if (start + mel.window() >= n) break;
  }
  return out;
}

// The log-mel distance of frames (ref, dec: [frames][bands]); samples of the decoded signal for
// the silent-reference case.
double logMelDistance(const std::vector<const double*>& ref, const std::vector<const double*>& dec, const float* decoded, size_t samples) {
  const int bands = MelAnalyser::kBands;
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

}  // namespace

namespace {

// The clip's hole fraction: whole frames only (start + window <= samples), active when the
// reference's power over the measure's bins is within 40 dB of its loudest frame.
HoleCount holesOf(const float* reference, const float* decoded, size_t samples, int sampleRate) {
  MelAnalyser mel(sampleRate);
  const size_t bins = mel.powerBins(), lo = mel.lowBin(), hi = bins - 1;
  std::vector<std::vector<double>> ref, dec;
  std::vector<double> energy, bands(MelAnalyser::kBands);
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
    countHoles(ref[f].data(), dec[f].data(), lo, hi, mel.binHz(), count);
  }
  return count;
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

AudioScoreWindow::AudioScoreWindow(int sampleRate, double windowSeconds, size_t delaySamples)
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

AudioQuality AudioScoreWindow::push(const float* reference, const float* decoded, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  ref_.insert(ref_.end(), reference, reference + n);
  dec_.insert(dec_.end(), decoded, decoded + n);
  return update(true);
}

AudioQuality AudioScoreWindow::pushWithExactPrefix(const float* reference, const float* decoded, size_t n, size_t exactPrefix) {
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

void AudioScoreWindow::mark() {
  marked_.valid = true;
  marked_.ref = ref_;
  marked_.dec = dec_;
  marked_.next = next_;
  marked_.frames = frames_;
  marked_.levels = levels_;
}

void AudioScoreWindow::rewind() {
  if (!marked_.valid) throw CoreError(ErrorCode::InvalidArgument, "score window: rewind() before mark()");
  ref_ = marked_.ref;
  dec_ = marked_.dec;
  next_ = marked_.next;
  frames_ = marked_.frames;
  levels_ = marked_.levels;
}

AudioQuality AudioScoreWindow::pushExact(const float* reference, size_t n) {
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

AudioQuality AudioScoreWindow::update(bool judge) {
  // Aligned pairs: ref_[i] is what dec_[i] should be. New mel frames wherever a whole window fits.
  const size_t win = mel_.window(), hop = mel_.hop();
  const size_t firstNew = frames_.size();
  std::vector<double> newDecRms;
  while (next_ + win <= dec_.size()) {
    Frame f;
    mel_.frame(ref_.data() + next_, win, f.ref.data(), refPower_.data());
    mel_.frame(dec_.data() + next_, win, f.dec.data(), decPower_.data());
    countHoles(refPower_.data(), decPower_.data(), mel_.lowBin(), mel_.powerBins() - 1, mel_.binHz(), f.holes);
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
    constexpr int per = MelAnalyser::kBands / kCheckBands;
    const size_t count = std::min(added, frames_.size());
    HoleCount holes;
    for (size_t k = 0; k < count; ++k) {
      const Frame& f = frames_[frames_.size() - count + k];
      const double decRms = newDecRms[newDecRms.size() - count + k];
      if (f.refRms >= threshold) holes.add(f.holes);
      if (std::max(f.refRms, decRms) < threshold) continue;
      double rb[kCheckBands] = {}, db[kCheckBands] = {}, rt = 0, dt = 0;
      for (int b = 0; b < MelAnalyser::kBands; ++b) {
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

}  // namespace aic::metrics
