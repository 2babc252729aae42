#include "audio/audio_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <complex>
#include <vector>

#include "audio/fft.h"
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

// The one-third-octave band of the hole measure that bin k falls in (see HoleCount).
int holeBandOf(size_t k, double binHz) { return static_cast<int>(std::floor(3.0 * std::log2(static_cast<double>(k) * binHz / 50.0))); }

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
  twiddles_ = audio::twiddlesOf(nfft_);
  holeBand_.assign(nfft_ / 2 + 1, 0);
  for (size_t k = 1; k <= nfft_ / 2; ++k) holeBand_[k] = holeBandOf(k, binHz());
}

void MelAnalyser::frame(const float* x, size_t available, double* bands, double* power) {
  std::fill(buf_.begin(), buf_.end(), 0.0);
  for (size_t i = 0; i < win_ && i < available; ++i) buf_[i] = x[i] * window_[i];
  audio::fft(buf_, twiddles_);
  std::fill(bands, bands + kBands, 0.0);
  for (const auto& w : weights_) bands[w.band] += w.weight * std::norm(buf_[w.bin]);
  if (power) {
    for (size_t k = 0; k <= nfft_ / 2; ++k) power[k] = std::norm(buf_[k]) / windowPower_;
  }
}

void MelAnalyser::framePair(const float* x, const float* y, double* bandsX, double* powerX, double* bandsY, double* powerY) {
  if (std::memcmp(x, y, win_ * sizeof(float)) == 0) {
    frame(x, win_, bandsX, powerX);
    std::copy(bandsX, bandsX + kBands, bandsY);
    std::copy(powerX, powerX + powerBins(), powerY);
    return;
  }
  std::fill(buf_.begin(), buf_.end(), 0.0);
  for (size_t i = 0; i < win_; ++i) buf_[i] = {x[i] * window_[i], y[i] * window_[i]};
  audio::fft(buf_, twiddles_);
  // For real x and y with z = x + iy: X(k) = (Z(k) + conj Z(N-k)) / 2, Y(k) = (Z(k) - conj Z(N-k)) / 2i,
  // so |X(k)|^2 = |Z(k) + conj Z(N-k)|^2 / 4 and |Y(k)|^2 = |Z(k) - conj Z(N-k)|^2 / 4.
  const size_t half = nfft_ / 2;
  normX_.resize(half + 1);
  normY_.resize(half + 1);
  for (size_t k = 0; k <= half; ++k) {
    const std::complex<double> z = buf_[k], c = std::conj(buf_[(nfft_ - k) % nfft_]);
    normX_[k] = std::norm(z + c) * 0.25;
    normY_[k] = std::norm(z - c) * 0.25;
  }
  std::fill(bandsX, bandsX + kBands, 0.0);
  std::fill(bandsY, bandsY + kBands, 0.0);
  for (const auto& w : weights_) {
    bandsX[w.band] += w.weight * normX_[w.bin];
    bandsY[w.band] += w.weight * normY_[w.bin];
  }
  for (size_t k = 0; k <= half; ++k) {
    powerX[k] = normX_[k] / windowPower_;
    powerY[k] = normY_[k] / windowPower_;
  }
}

namespace {
constexpr double kAudibleRange = 1e-6;   // 60 dB under the frame's loudest reference bin
constexpr double kAudibleFloor = 1e-9;   // -90 dBFS
constexpr double kHoleDepth = 1e-3;      // 30 dB under the reference
}  // namespace

void countHoles(const double* refPower, const double* decPower, size_t lo, size_t hi, double binHz, HoleCount& count, const int* bandOf) {
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
    const int b = bandOf ? bandOf[k] : holeBandOf(k, binHz);
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
    countHoles(ref[f].data(), dec[f].data(), lo, hi, mel.binHz(), count, mel.holeBands());
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
  ref_.items.assign(delay_, 0.0f);
}

AudioQuality AudioScoreWindow::push(const float* reference, const float* decoded, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  notePush();
  append(reference, decoded, n, 0);
  return update(true);
}

AudioQuality AudioScoreWindow::pushWithExactPrefix(const float* reference, const float* decoded, size_t n, size_t exactPrefix) {
  if (exactPrefix > n) throw CoreError(ErrorCode::InvalidArgument, "exactPrefix must be at most the number of samples");
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(decoded[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  notePush();
  append(reference, decoded, n, exactPrefix);
  return update(true);
}

AudioQuality AudioScoreWindow::pushExact(const float* reference, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(reference[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  notePush();
  append(reference, nullptr, n, 0);
  return update(false);
}

// A push counts against the mark (called after the arguments are checked: a push that throws
// changes nothing).
void AudioScoreWindow::notePush() {
  if (marked_.valid && ++marked_.pushes > kMaxPushesAfterMark) marked_.valid = false;
}

// Appends n reference samples and n decoded ones (decoded == nullptr: all exact; else the first
// exactPrefix are exact), and the sums of the blocks this completes.
void AudioScoreWindow::append(const float* reference, const float* decoded, size_t n, size_t exactPrefix) {
  const size_t at = dec_.end();
  ref_.items.insert(ref_.items.end(), reference, reference + n);
  dec_.items.resize(dec_.items.size() + n);
  // ref_ runs `delay` samples ahead of dec_, so the samples that align are already there.
  const float* r = ref_.items.data() + (at - ref_.base);
  float* d = dec_.items.data() + (at - dec_.base);
  const size_t exact = decoded ? exactPrefix : n;
  std::copy(r, r + exact, d);
  for (size_t i = exact; i < n; ++i) {
    d[i] = decoded[i];
    if (d[i] != r[i]) lastDiff_ = at + i + 1;
  }
  while ((blocks_.end() + 1) * kBlock <= dec_.end()) {
    const size_t k = blocks_.end();
    blocks_.items.push_back(sumsOf(k * kBlock, (k + 1) * kBlock));
  }
}

AudioScoreWindow::Sums AudioScoreWindow::sumsOf(size_t from, size_t to) const {
  Sums s;
  if (from >= to) return s;
  const float* x = &ref_[from];
  const float* y = &dec_[from];
  for (size_t i = 0; i < to - from; ++i) {
    const double a = x[i], b = y[i];
    s.x += a;
    s.y += b;
    s.xx += a * a;
    s.yy += b * b;
    s.xy += a * b;
  }
  return s;
}

// O(1): the window only appends at the back and retires at the front (retired items stay until
// compact(), which keeps those of a valid mark), so the mark is where the ends and fronts were.
void AudioScoreWindow::mark() {
  marked_.valid = true;
  marked_.pushes = 0;
  marked_.refEnd = ref_.end();
  marked_.decEnd = dec_.end();
  marked_.sampleFront = dec_.front;
  marked_.next = next_;
  marked_.framesEnd = frames_.end();
  marked_.framesFront = frames_.front;
  marked_.levelsEnd = levels_.end();
  marked_.levelsFront = levels_.front;
  marked_.blocksEnd = blocks_.end();
  marked_.lastDiff = lastDiff_;
}

void AudioScoreWindow::rewind() {
  if (!marked_.valid) throw CoreError(ErrorCode::InvalidArgument, "score window: rewind() before mark()");
  ref_.truncate(marked_.refEnd);
  dec_.truncate(marked_.decEnd);
  ref_.front = dec_.front = marked_.sampleFront;
  next_ = marked_.next;
  frames_.truncate(marked_.framesEnd);
  frames_.front = marked_.framesFront;
  levels_.truncate(marked_.levelsEnd);
  levels_.front = marked_.levelsFront;
  blocks_.truncate(marked_.blocksEnd);
  lastDiff_ = marked_.lastDiff;
  marked_.pushes = 0;
}

// SI-SNR of the aligned samples [from, to) from their sums: with mean removal,
// xx = Sxx - Sx^2/n (and yy, xy alike), alpha = xy / xx, |s_t|^2 = alpha^2 xx and
// |e|^2 = yy - alpha xy. The sums carry a rounding error of a few ulp of Sxx, Syy; |e|^2 is
// stationary in alpha, so its error is about eps (|y| + |alpha| |x|)^2. Where that could matter
// (|e|^2 within 1e-6 of that bound, i.e. over ~60 dB, where e could even come out negative; or a
// reference that is mostly its mean) the three passes of siSnr() decide, as before. Identical
// windows are known without them (lastDiff_) and score exactly 100.
double AudioScoreWindow::windowSiSnr(size_t from, size_t to, const Sums& w) const {
  const double n = static_cast<double>(to - from);
  const double xx = w.xx - w.x * w.x / n, yy = w.yy - w.y * w.y / n, xy = w.xy - w.x * w.y / n;
  if (xx > 1e-6 * w.xx && xx > 1e-15) {
    if (lastDiff_ <= from) return 100.0;
    const double alpha = xy / xx;
    const double st = alpha * alpha * xx, e = yy - alpha * xy;
    const double bound = std::sqrt(w.yy) + std::abs(alpha) * std::sqrt(w.xx);
    if (e > 1e-6 * bound * bound) {
      if (e <= 1e-20 * std::max(st, 1e-20)) return 100.0;
      return std::clamp(10.0 * std::log10(std::max(st, 1e-30) / e), -50.0, 100.0);
    }
  }
  return siSnr(&ref_[from], &dec_[from], to - from);
}

AudioQuality AudioScoreWindow::update(bool judge) {
  // Aligned pairs: ref_[i] is what dec_[i] should be. New mel frames wherever a whole window fits.
  const size_t win = mel_.window(), hop = mel_.hop();
  const size_t firstNew = frames_.end();
  while (next_ + win <= dec_.end()) {
    frames_.items.emplace_back();
    Frame& f = frames_.items.back();
    const float* r = &ref_[next_];
    const float* d = &dec_[next_];
    mel_.framePair(r, d, f.ref.data(), refPower_.data(), f.dec.data(), decPower_.data());
    countHoles(refPower_.data(), decPower_.data(), mel_.lowBin(), mel_.powerBins() - 1, mel_.binHz(), f.holes, mel_.holeBands());
    double e = 0, ed = 0;
    for (size_t i = 0; i < win; ++i) {
      e += double(r[i]) * r[i];
      ed += double(d[i]) * d[i];
    }
    f.refRms = std::sqrt(e / win);
    f.decRms = std::sqrt(ed / win);
    for (int b = 0; b < MelAnalyser::kBands; ++b) {
      f.refEnergy += f.ref[b];
      f.refDb[b] = 10 * std::log10(f.ref[b]);
      f.decDb[b] = 10 * std::log10(f.dec[b]);
    }
    if (f.refRms > 1e-6) levels_.items.push_back(f.refRms);  // digital silence says nothing of the room
    if (levels_.end() - levels_.front > levelFrames_) ++levels_.front;
    next_ += hop;
  }
  const size_t added = frames_.end() - firstNew;
  if (frames_.end() - frames_.front > windowFrames_) frames_.front = frames_.end() - windowFrames_;
  // Keep the samples of the window (for SI-SNR) and those the next frames still need.
  {
    const size_t live = dec_.end() - dec_.front;
    const size_t keepFrom = std::min(next_ - dec_.front, live > windowSamples_ ? live - windowSamples_ : 0);
    dec_.front += keepFrom;
    ref_.front = dec_.front;
  }
  // Free retired items in bulk, but not those a valid mark can still rewind to.
  {
    const bool pin = marked_.valid;
    const size_t keep = pin ? std::min(dec_.front, marked_.sampleFront) : dec_.front;
    ref_.compact(keep);
    dec_.compact(keep);
    blocks_.compact(std::max(blocks_.base, keep / kBlock));
    frames_.compact(pin ? std::min(frames_.front, marked_.framesFront) : frames_.front);
    levels_.compact(pin ? std::min(levels_.front, marked_.levelsFront) : levels_.front);
  }
  const size_t m = std::min(dec_.end() - dec_.front, windowSamples_);
  const size_t from = dec_.end() - m, to = dec_.end();
  // The window's sums: its partial first and last blocks sample by sample, whole blocks from blocks_.
  Sums w;
  {
    const size_t fullFrom = (from + kBlock - 1) / kBlock, fullTo = to / kBlock;
    if (fullFrom >= fullTo) {
      w = sumsOf(from, to);
    } else {
      w = sumsOf(from, fullFrom * kBlock);
      for (size_t k = fullFrom; k < fullTo; ++k) w.add(blocks_[k]);
      w.add(sumsOf(fullTo * kBlock, to));
    }
  }
  AudioQuality q;
  const double er = w.xx, ed = w.yy;
  const double rmsRef = std::sqrt(er / std::max<size_t>(1, m)), rmsDec = std::sqrt(ed / std::max<size_t>(1, m));
  // Only foreground frames count: over -55 dBFS and 20 dB over the stream's noise floor, the
  // threshold capped at -35 dBFS.
  // The noise floor is the 20th percentile of the frame levels (a minimum would follow single
  // dips of a fluctuating background).
  double noiseFloor = 1.0;
  if (levels_.end() > levels_.front) {
    levelScratch_.assign(levels_.items.begin() + static_cast<std::ptrdiff_t>(levels_.front - levels_.base), levels_.items.end());
    auto& l = levelScratch_;
    std::nth_element(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(l.size() / 5), l.end());
    noiseFloor = l[l.size() / 5];
  }
  const double threshold = std::max(kQuietFrameRms, std::min(noiseFloor * 10.0, 0.0178));
  foreground_.clear();
  HoleCount windowHoles;
  for (size_t i = frames_.front; i < frames_.end(); ++i) {
    const Frame& f = frames_[i];
    if (f.refRms < threshold) continue;
    foreground_.push_back(&f);
    windowHoles.add(f.holes);
  }
  const size_t windowFrames = frames_.end() - frames_.front;
  q.windowHoleFraction = windowHoles.fraction();
  q.windowBandLoss = windowHoles.bandLoss();
  q.windowHoleMiss = judge && q.windowBandLoss > kWindowBandLossTolerance;
  // The pause rule: fine while the output stays quiet too (under -50 dBFS, or at most 6 dB over
  // the reference); louder, the excess in dB is the distance.
  const double allowed = std::max(kQuietDecodedRms, 2 * rmsRef);
  const double pauseDistance = rmsDec <= allowed ? 0 : 10 * std::log10(rmsDec / allowed);
  // Under 200 ms of foreground the spectral distance rests on too little: blend it in by weight.
  const double weight = std::min(1.0, static_cast<double>(foreground_.size()) / kMinForegroundFrames);
  q.activeFraction = windowFrames == 0 ? 0 : static_cast<double>(foreground_.size()) / windowFrames;
  q.siSnrDb = m == 0 || rmsRef < threshold ? 100 : windowSiSnr(from, to, w);
  // The log-mel distance of the foreground frames (as logMelDistance(), from the frames' log bands).
  double distance = 0;
  if (!foreground_.empty()) {
    const int bands = MelAnalyser::kBands;
    double peakBand = 0, maxFrame = foreground_[0]->refEnergy;
    for (const Frame* f : foreground_) {
      for (int b = 0; b < bands; ++b) peakBand = std::max(peakBand, f->ref[b]);
      maxFrame = std::max(maxFrame, f->refEnergy);
    }
    if (maxFrame <= 0) {
      // A silent reference: identical silence scores 1; anything audible scores by its level.
      const double rmsDb = 10 * std::log10(ed / std::max<size_t>(1, m) + 1e-12);
      distance = std::max(0.0, rmsDb + 90.0) / 3.0;
    } else {
      const double floorDb = 10 * std::log10(peakBand * 1e-5);  // 50 dB under the loudest band
      double sum = 0;
      size_t counted = 0;
      for (const Frame* f : foreground_) {
        if (f->refEnergy < maxFrame * 1e-5) continue;  // more than 50 dB under the loudest frame
        double se = 0;
        for (int b = 0; b < bands; ++b) {
          const double dd = std::max(f->refDb[b], floorDb) - std::max(f->decDb[b], floorDb);
          se += dd * dd;
        }
        sum += std::sqrt(se / bands);
        ++counted;
      }
      distance = counted ? sum / counted : 0;
    }
  }
  q.logMelDistanceDb = (1 - weight) * pauseDistance + (foreground_.empty() ? 0 : weight * distance);
  q.score = scoreOf(q.logMelDistanceDb);
  // The per-frame check over the mel frames this push completed.
  if (judge) {
    constexpr int per = MelAnalyser::kBands / kCheckBands;
    const size_t count = std::min(added, windowFrames);
    HoleCount holes;
    for (size_t k = 0; k < count; ++k) {
      const Frame& f = frames_[frames_.end() - count + k];
      if (f.refRms >= threshold) holes.add(f.holes);
      if (std::max(f.refRms, f.decRms) < threshold) continue;
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
