// The audio score against known degradations: noise at several SNRs, low-pass filtering,
// clipping and a dropped frame each lower it, monotonically in their strength.
#include <cmath>
#include <random>
#include <vector>

#include "audio/audio_metrics.h"
#include "common/errors.h"
#include "test_harness.h"

using namespace aic::metrics;

namespace {
// Two seconds of a speech-like signal: a gliding harmonic tone with a syllable envelope.
std::vector<float> speechLike(int rate) {
  std::vector<float> x(static_cast<size_t>(rate) * 2);
  double phase = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double t = static_cast<double>(i) / rate;
    double f0 = 140 + 40 * std::sin(2 * M_PI * 0.7 * t);
    phase += 2 * M_PI * f0 / rate;
    double env = std::pow(std::sin(M_PI * std::fmod(t * 4, 1.0)), 2);
    double v = 0;
    for (int h = 1; h <= 20; ++h) v += std::sin(h * phase) / h;
    x[i] = static_cast<float>(0.3 * env * v);
  }
  return x;
}
std::vector<float> withNoise(const std::vector<float>& x, double snrDb, unsigned seed) {
  double p = 0;
  for (float v : x) p += v * v;
  p /= x.size();
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, std::sqrt(p / std::pow(10, snrDb / 10)));
  auto y = x;
  for (auto& v : y) v += static_cast<float>(n(rng));
  return y;
}
std::vector<float> lowPass(const std::vector<float>& x, double cutoff, int rate) {
  // a cascade of one-pole filters, enough to remove the band above the cutoff
  auto y = x;
  double a = std::exp(-2 * M_PI * cutoff / rate);
  for (int pass = 0; pass < 4; ++pass) {
    double s = 0;
    for (auto& v : y) v = static_cast<float>(s = (1 - a) * v + a * s);
  }
  return y;
}
}  // namespace

TEST(identical_audio_scores_one) {
  auto x = speechLike(16000);
  auto q = audioQuality(x.data(), x.data(), x.size(), 16000);
  CHECK(q.siSnrDb == 100.0);
  CHECK(q.logMelDistanceDb == 0.0);
  CHECK(q.score == 1.0);
}

TEST(audio_score_falls_with_noise) {
  auto x = speechLike(16000);
  double last = 1.0, lastSnr = 1e9;
  for (double snr : {40.0, 30.0, 20.0, 10.0, 0.0}) {
    auto y = withNoise(x, snr, 3);
    auto q = audioQuality(x.data(), y.data(), x.size(), 16000);
    CHECK(q.score < last);
    CHECK(q.siSnrDb < lastSnr);
    CHECK(std::abs(q.siSnrDb - snr) < 1.0);  // SI-SNR of white noise is its SNR
    last = q.score;
    lastSnr = q.siSnrDb;
  }
}

TEST(audio_score_falls_with_low_pass_clipping_and_drops) {
  const int rate = 16000;
  auto x = speechLike(rate);
  double last = 1.0;
  for (double cutoff : {6000.0, 3000.0, 1500.0, 700.0}) {
    auto y = lowPass(x, cutoff, rate);
    double s = audioQuality(x.data(), y.data(), x.size(), rate).score;
    CHECK(s < last);
    last = s;
  }
  last = 1.0;
  for (float limit : {0.25f, 0.15f, 0.08f, 0.03f}) {
    auto y = x;
    for (auto& v : y) v = std::clamp(v, -limit, limit);
    double s = audioQuality(x.data(), y.data(), x.size(), rate).score;
    CHECK(s < last);
    last = s;
  }
  // a dropped 20 ms frame (zeros) in the middle of a syllable
  auto y = x;
  for (size_t i = rate / 8; i < rate / 8 + rate / 50; ++i) y[i] = 0;
  auto one = audioQuality(x.data(), y.data(), x.size(), rate);
  for (size_t i = rate / 8 * 5; i < rate / 8 * 5 + rate / 50; ++i) y[i] = 0;
  auto two = audioQuality(x.data(), y.data(), x.size(), rate);
  CHECK(one.score < 1.0);
  CHECK(two.score < one.score);
  CHECK(two.siSnrDb < one.siSnrDb);
}

TEST(audio_score_works_at_48k_and_refuses_bad_input) {
  auto x = speechLike(48000);
  auto y = withNoise(x, 20, 5);
  auto q = audioQuality(x.data(), y.data(), x.size(), 48000);
  CHECK(q.score > 0 && q.score < 1);
  CHECK_THROWS_CODE(audioQuality(x.data(), y.data(), 0, 48000), aic::ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(audioQuality(x.data(), y.data(), x.size(), 100), aic::ErrorCode::InvalidArgument);
  y[10] = NAN;
  CHECK_THROWS_CODE(audioQuality(x.data(), y.data(), x.size(), 48000), aic::ErrorCode::InvalidArgument);
}

// The streaming window: fed 20 ms at a time with the decoded stream trailing by a delay, it
// aligns the two, matches the one-shot score of the same span, and keeps silence silent.
TEST(streaming_window_aligns_and_matches_the_one_shot_score) {
  const int rate = 16000, n = 320, delay = 320 + 24;
  auto x = speechLike(rate);
  auto noisy = withNoise(x, 15, 4);
  // The decoded stream is the noisy signal, `delay` samples late (zeros first).
  std::vector<float> late(x.size(), 0.0f);
  for (size_t i = delay; i < x.size(); ++i) late[i] = noisy[i - delay];
  AudioScoreWindow exact(rate, 1.0, delay), window(rate, 1.0, delay);
  AudioQuality q, same;
  for (size_t at = 0; at + n <= x.size(); at += n) {
    q = window.push(&x[at], &late[at], n);
    std::vector<float> shifted(n);
    for (int i = 0; i < n; ++i) shifted[i] = at + i >= static_cast<size_t>(delay) ? x[at + i - delay] : 0.0f;
    same = exact.push(&x[at], shifted.data(), n);
  }
  // The last second of the stream, aligned by hand.
  const size_t end = x.size() - x.size() % n - delay, start = end - rate;
  auto ref = std::vector<float>(x.begin() + start, x.begin() + end);
  auto dec = std::vector<float>(noisy.begin() + start, noisy.begin() + end);
  AudioQuality oneShot = audioQuality(ref.data(), dec.data(), ref.size(), rate);
  CHECK(std::abs(q.score - oneShot.score) < 0.03);
  CHECK(std::abs(q.siSnrDb - oneShot.siSnrDb) < 0.5);
  CHECK(q.score < 0.95);
  CHECK(same.score > 0.999);  // a perfectly delayed copy is perfect once aligned
  // Silence reproduced as near-silence scores 1; reproduced loudly it does not.
  std::vector<float> zero(n, 0.0f), hiss(n), loud(n);
  std::mt19937 rng(2);
  std::normal_distribution<float> g(0, 1);
  for (int i = 0; i < n; ++i) {
    hiss[i] = 1e-3f * g(rng);
    loud[i] = 0.05f * g(rng);
  }
  AudioScoreWindow quiet(rate, 0.5, 0), noisyOut(rate, 0.5, 0);
  for (int k = 0; k < 30; ++k) {
    q = quiet.push(zero.data(), hiss.data(), n);
    same = noisyOut.push(zero.data(), loud.data(), n);
  }
  CHECK(q.score == 1.0);
  CHECK(same.score < 0.5);
}

namespace {
std::vector<float> whiteNoise(size_t n, double rms, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, rms);
  std::vector<float> x(n);
  for (auto& v : x) v = static_cast<float>(g(rng));
  return x;
}
// Zero-phase windowed-sinc (Blackman, 1023 taps) band-stop: removes lo..hi Hz (hi = Nyquist: a
// low-pass at lo). Over 70 dB of stop-band rejection, a transition of about 0.004 x rate.
std::vector<float> bandStop(const std::vector<float>& x, double lo, double hi, int rate) {
  const int taps = 1023, c = taps / 2;
  std::vector<double> h(taps);
  auto lowPassTap = [&](double fc, int t) { return t == 0 ? 2 * fc / rate : std::sin(2 * M_PI * fc / rate * t) / (M_PI * t); };
  for (int i = 0; i < taps; ++i) {
    const int t = i - c;
    const double w = 0.42 - 0.5 * std::cos(2 * M_PI * i / (taps - 1)) + 0.08 * std::cos(4 * M_PI * i / (taps - 1));
    // pass below lo and above hi: delta - (lowpass(hi) - lowpass(lo))
    const double band = (hi >= rate / 2.0 ? (t == 0 ? 1.0 : 0.0) : lowPassTap(hi, t)) - lowPassTap(lo, t);
    h[i] = w * ((t == 0 ? 1.0 : 0.0) - band);
  }
  std::vector<float> y(x.size());
  for (size_t n = 0; n < x.size(); ++n) {
    double a = 0;
    for (int i = 0; i < taps; ++i) {
      const long k = static_cast<long>(n) + i - c;
      if (k >= 0 && k < static_cast<long>(x.size())) a += h[i] * x[k];
    }
    y[n] = static_cast<float>(a);
  }
  return y;
}
}  // namespace

// The spectral-hole measure: none for a faithful copy or noise added on top; for a flat spectrum
// with a band removed, about the band's share of the bins (50 Hz to Nyquist).
TEST(hole_fraction_counts_removed_bands) {
  const int rate = 48000;
  auto x = whiteNoise(rate, 0.1, 11);
  CHECK(audioQuality(x.data(), x.data(), x.size(), rate).holeFraction == 0.0);
  CHECK(audioQuality(x.data(), withNoise(x, 10, 2).data(), x.size(), rate).holeFraction < 0.001);
  const double span = rate / 2.0 - 50;
  auto lp8 = bandStop(x, 8000, rate / 2.0, rate);
  const double h8 = audioQuality(x.data(), lp8.data(), x.size(), rate).holeFraction;
  CHECK(std::abs(h8 - (rate / 2.0 - 8000) / span) < 0.02);
  auto notch = bandStop(x, 2000, 6000, rate);
  const auto qn = audioQuality(x.data(), notch.data(), x.size(), rate);
  CHECK(std::abs(qn.holeFraction - 4000 / span) < 0.02);
  // Band loss: at least the one-third-octave bands clear of the filter's transitions (2.54-5.08 kHz).
  CHECK(qn.bandLoss > (5080 - 2540) / span - 0.01);
  CHECK(qn.bandLoss <= qn.holeFraction);
  // Deeper cuts leave more holes; a level change under 30 dB leaves none.
  auto lp4 = bandStop(x, 4000, rate / 2.0, rate);
  CHECK(audioQuality(x.data(), lp4.data(), x.size(), rate).holeFraction > h8);
  auto quieter = x;
  for (auto& v : quieter) v *= 0.05f;  // -26 dB
  CHECK(audioQuality(x.data(), quieter.data(), x.size(), rate).holeFraction == 0.0);
}

// The window's per-frame check sees the band above 8 kHz a 16 kHz codec leaves out of a 48 kHz
// stream, which the mel measures (50 Hz to 8 kHz) cannot: such frames are misses.
TEST(score_window_flags_a_missing_high_band) {
  const int rate = 48000, n = 960;
  auto x = whiteNoise(2 * rate, 0.05, 12);
  auto lp = bandStop(x, 8000, rate / 2.0, rate);
  AudioScoreWindow faithful(rate, 1.0, 0), limited(rate, 1.0, 0);
  AudioQuality a, b;
  int misses = 0, pushes = 0;
  for (size_t at = 0; at + n <= x.size(); at += n) {
    a = faithful.push(&x[at], &x[at], n);
    b = limited.push(&x[at], &lp[at], n);
    CHECK(!a.frameMiss);
    CHECK(a.holeFraction == 0.0);
    if (at >= static_cast<size_t>(rate) / 10) {
      ++pushes;
      misses += b.frameMiss ? 1 : 0;
      CHECK(b.holeFraction > AudioScoreWindow::kHoleTolerance);
    }
  }
  CHECK(misses == pushes);
  // Pooled over the last second, the whole band above 8 kHz (two thirds of the bins) is band loss.
  CHECK(b.windowBandLoss > 0.6);
  CHECK(b.windowHoleMiss);
  CHECK(!a.windowHoleMiss);
  CHECK(a.windowBandLoss == 0.0);
  CHECK(b.score > 0.99);  // the mel score alone calls it perfect
  CHECK(b.worstBandErrorDb < 1.0);
}
