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
// - Spectral holes, over the whole band (50 Hz to Nyquist, unlike the mel measures, which stop
//   at 8 kHz): the same 25 ms Hann frames, bin power P(k) = |X(k)|^2 / sum(w^2) (white noise of
//   variance s^2 has E[P] = s^2; 10 log10 P is dBFS). A bin of an active frame is audible when the
//   reference's power there is within 60 dB of that frame's loudest bin and over -90 dBFS; it is
//   a hole when the decoded power is 30 dB or more under the reference's. holeFraction = holes /
//   audible bins. In audioQuality() a frame is active when its reference power is within 40 dB of
//   the clip's loudest frame; bench/audio-measures.mjs computes the same measure in JS.
#pragma once

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace aic::metrics {

struct AudioQuality {
  double siSnrDb = 0;
  double logMelDistanceDb = 0;
  double score = 0;
  // AudioScoreWindow: the share of the window's mel frames that are foreground (0 in a pause).
  double activeFraction = 1;
  // AudioScoreWindow, the per-frame check: the largest difference in dB, over 8 bands of the
  // mel range and the mel frames this push completed, between the band energy of the decoded
  // audio and of its input (0 when nothing audible was completed). frameMiss: it is over
  // kBandToleranceDb, i.e. this push damaged the audio (a muted beep, a dropout, a click,
  // clipping) whatever the window's score says.
  double worstBandErrorDb = 0;
  // The share of audible time-frequency bins the decoded audio leaves 30 dB or more under the
  // reference (see above): over the clip in audioQuality(); in AudioScoreWindow, the per-frame
  // check over the foreground mel frames this push completed (0 when none). Over
  // kHoleTolerance the push is a frame miss too: a reconstruction whose audible bins are mostly
  // empty (a band the codec does not carry) is not a success whatever the score says.
  double holeFraction = 0;
  // The band loss of the same frames (audible bins in one-third-octave bands left 30 dB or more
  // under as a whole; see HoleCount). Reported; the window judges it pooled (windowBandLoss).
  double bandLoss = 0;
  bool frameMiss = false;
  // AudioScoreWindow: the hole fraction pooled over the window's foreground frames (what the
  // receiver played in the last second). windowHoleMiss: the window's band loss is over
  // kWindowBandLossTolerance (a neural frame then misses; a conventional frame, which cannot undo
  // what was already played, is judged by its own holeFraction).
  double windowHoleFraction = 0;
  // AudioScoreWindow: the band loss pooled the same way (see HoleCount); over
  // kWindowBandLossTolerance the stream's band is not being carried: windowHoleMiss.
  double windowBandLoss = 0;
  bool windowHoleMiss = false;
};

// Counts of the hole measure over some frames.
// lostBand: audible bins in lost bands (band loss): one-third-octave bands from 50 Hz
// (band b holds 50 * 2^(b/3) <= f < 50 * 2^((b+1)/3)); a band of a frame is lost when the decoded
// power summed over its audible bins is 30 dB or more under the reference's.
struct HoleCount {
  size_t audible = 0, holes = 0, lostBand = 0;
  double fraction() const { return audible ? static_cast<double>(holes) / static_cast<double>(audible) : 0.0; }
  double bandLoss() const { return audible ? static_cast<double>(lostBand) / static_cast<double>(audible) : 0.0; }
  void add(const HoleCount& o) {
    audible += o.audible;
    holes += o.holes;
    lostBand += o.lostBand;
  }
};
// Adds one frame's bins (power spectra of the reference and the decoded audio, bins lo..hi at
// `binHz` Hz per bin). bandOf: each bin's band, precomputed (MelAnalyser::holeBands()), instead
// of a log2 per bin.
void countHoles(const double* refPower, const double* decPower, size_t lo, size_t hi, double binHz, HoleCount& count, const int* bandOf = nullptr);

AudioQuality audioQuality(const float* reference, const float* decoded, size_t samples, int sampleRate);

// The mel analysis behind the log-mel distance: one 25 ms frame -> 40 band powers.
class MelAnalyser {
 public:
  static constexpr int kBands = 40;
  explicit MelAnalyser(int sampleRate);
  size_t window() const { return win_; }
  size_t hop() const { return hop_; }
  // Band powers of the frame starting at x (zero-padded past `available` samples); with `power`,
  // also its bin powers |X(k)|^2 / sum(w^2) for k = 0..nfft/2 (powerBins() values).
  void frame(const float* x, size_t available, double* bands, double* power = nullptr);
  // frame() of two whole frames (a reference and its decoded output) with one FFT: the second
  // signal rides in the imaginary part and the two spectra are separated by symmetry. Identical
  // frames take one ordinary frame() and a copy, so that they stay bit-identical.
  void framePair(const float* x, const float* y, double* bandsX, double* powerX, double* bandsY, double* powerY);
  size_t powerBins() const { return nfft_ / 2 + 1; }
  // The bins of the hole measure: from 50 Hz to Nyquist.
  size_t lowBin() const { return lowBin_; }
  double binHz() const { return static_cast<double>(sampleRate_) / static_cast<double>(nfft_); }
  // The hole measure's band of each bin, for countHoles() (powerBins() values).
  const int* holeBands() const { return holeBand_.data(); }

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
  std::vector<double> normX_, normY_;  // framePair()'s separated spectra
  std::vector<std::complex<double>> twiddles_;  // fft()'s, per stage
  std::vector<int> holeBand_;
};

// The same measures over the last `windowSeconds` of a stream, updated as 20 ms frames arrive:
// each push() analyses only the new mel frames, so a session can score every frame it sends.
// `delaySamples` is how far the decoded stream trails the reference (the codec's delay); the
// reference is taken as silence before the stream starts, as the codec does. Unlike the one-shot
// audioQuality(), which judges a whole clip relative to its own loudest moment, a live window
// must not judge room noise during a pause as if it were the signal: only foreground mel frames
// count, those over -55 dBFS (RMS 1.8e-3) and at least 20 dB over the stream's noise floor (the
// 20th percentile of its frame levels over the last 5 s); the threshold never rises above
// -35 dBFS, so steady loud content always counts.
// Besides the window's score, every push judges its own new audio (the per-frame check): the
// mel bands grouped into 8 bands of 5, each band's energy in the decoded audio against the
// input's, in dB, with a floor 30 dB under the louder of the two frames (so that bands far
// under the frame's content do not count) and only in mel frames where input or output is over
// the window's foreground threshold. The largest difference is worstBandErrorDb; over
// kBandToleranceDb the push is a frame miss. The same frames' spectral holes (over the whole
// band, in the mel frames whose reference is foreground) are the push's holeFraction; over
// kHoleTolerance the push is a frame miss as well.
// A window with no foreground frame is a pause: it scores 1 while the output stays under
// -50 dBFS (or within 6 dB of the reference), and by how much louder it is otherwise. With
// under 200 ms of foreground the two distances are blended by the foreground's share of 200 ms
// (a syllable's onset alone is too little to judge a stream by).
class AudioScoreWindow {
 public:
  static constexpr double kQuietFrameRms = 1.78e-3;
  static constexpr double kQuietDecodedRms = 3.16e-3;
  static constexpr int kMinForegroundFrames = 20;
  static constexpr double kBandToleranceDb = 10.0;
  static constexpr double kHoleTolerance = 0.4;
  static constexpr double kWindowBandLossTolerance = 0.2;
  static constexpr int kCheckBands = 8;
  AudioScoreWindow(int sampleRate, double windowSeconds, size_t delaySamples);
  // Appends n reference (input) and n decoded (output) samples; returns the window's measures.
  AudioQuality push(const float* reference, const float* decoded, size_t n);
  // Appends n reference samples that the receiver gets exactly (a lossless frame): the decoded
  // stream continues with the reference, aligned.
  AudioQuality pushExact(const float* reference, size_t n);
  // push() where the first `exactPrefix` decoded samples are what the receiver got exactly (the
  // gap a switch between codecs of different delays leaves is counted as exact, as pushExact
  // counts lossless frames): those samples are taken from the aligned reference.
  AudioQuality pushWithExactPrefix(const float* reference, const float* decoded, size_t n, size_t exactPrefix);
  // Saves the window's state / goes back to it (a session scores a trial setting: mark, push,
  // rewind, push, rewind ...). mark() is O(1): the window only appends samples, mel frames and
  // levels at the back and retires them from the front, so a mark records where the ends were
  // and keeps what it would need from being freed. rewind() leaves the mark in place (it can
  // rewind again). The mark holds for kMaxPushesAfterMark pushes since mark() or the last
  // rewind(); one more push drops it (so that a mark never rewound cannot pin memory), and
  // rewind() then throws as it does before any mark().
  static constexpr int kMaxPushesAfterMark = 64;
  void mark();
  void rewind();

 private:
  AudioQuality update(bool judge);
  void append(const float* reference, const float* decoded, size_t n, size_t exactPrefix);
  void notePush();
  struct Sums;
  double windowSiSnr(size_t from, size_t to, const Sums& w) const;
  // Items appended at the back and retired from the front, addressed by their index in the whole
  // stream; retired items stay in `items` until compact() frees them in bulk (amortised O(1) per
  // item, and no erase() of the whole window per push).
  template <class T>
  struct Trail {
    std::vector<T> items;
    size_t base = 0;   // stream index of items[0]
    size_t front = 0;  // first live item
    size_t end() const { return base + items.size(); }
    T& operator[](size_t i) { return items[i - base]; }
    const T& operator[](size_t i) const { return items[i - base]; }
    void truncate(size_t e) { items.resize(e - base); }
    // Frees the items before `keep` (<= front) once they are at least as many as those after.
    void compact(size_t keep) {
      const size_t dead = keep - base;
      if (dead > 0 && dead >= items.size() - dead) {
        items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(dead));
        base = keep;
      }
    }
  };
  struct Frame {
    std::array<double, MelAnalyser::kBands> ref, dec;
    // 10 log10 of each band, once per frame: the window's log-mel distance floors them with
    // max(10 log10 x, 10 log10 floor), which is 10 log10 max(x, floor) (log10 is monotone;
    // log10(0) = -inf loses to any floor), instead of ~8000 log10 calls per push.
    std::array<double, MelAnalyser::kBands> refDb, decDb;
    double refRms = 0, decRms = 0;
    double refEnergy = 0;  // sum of the reference bands, in band order
    HoleCount holes;
  };
  // Sums over kBlock aligned samples (x: reference, y: decoded), in double: the window's SI-SNR
  // and RMS come from whole blocks plus its partial first and last block.
  static constexpr size_t kBlock = 256;
  struct Sums {
    double x = 0, y = 0, xx = 0, yy = 0, xy = 0;
    void add(const Sums& o) {
      x += o.x;
      y += o.y;
      xx += o.xx;
      yy += o.yy;
      xy += o.xy;
    }
  };
  Sums sumsOf(size_t from, size_t to) const;
  MelAnalyser mel_;
  std::vector<double> refPower_, decPower_;
  size_t delay_, windowSamples_ = 0, windowFrames_ = 0;
  // Aligned: ref_[i] is what dec_[i] should be (stream indices; ref_ runs `delay` samples
  // ahead). Both share one front.
  Trail<float> ref_, dec_;
  size_t next_ = 0;  // stream index of the next mel frame's start
  Trail<Frame> frames_;
  Trail<double> levels_;  // reference RMS of the mel frames of the last 5 s
  Trail<Sums> blocks_;    // block k: aligned samples [k kBlock, (k + 1) kBlock)
  size_t lastDiff_ = 0;   // 1 + the last aligned index where dec_ differs from ref_ (0: none)
  size_t levelFrames_ = 0;
  std::vector<double> levelScratch_;
  std::vector<const Frame*> foreground_;
  struct Marked {
    bool valid = false;
    int pushes = 0;  // since mark() or the last rewind()
    size_t refEnd = 0, decEnd = 0, sampleFront = 0, next = 0;
    size_t framesEnd = 0, framesFront = 0, levelsEnd = 0, levelsFront = 0, blocksEnd = 0, lastDiff = 0;
  } marked_;
};

}  // namespace aic::metrics
