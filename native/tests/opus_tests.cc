// The Opus wrapper of the fallback ladder: round trips at every session rate, mono and stereo;
// the decoded stream trails its input by delaySamples(); mark/rewind give the same packet again;
// bad packets (empty, truncated, garbage, flipped bits, another frame size) are CorruptPayload
// and leave the decoder usable; the per-frame check of the score window flags a muted frame.
#include <cmath>
#include <random>
#include <vector>

#include "audio/audio_metrics.h"
#include "conventional/opus_codec.h"
#include "common/errors.h"
#include "test_harness.h"

using namespace aic;

namespace {

std::vector<float> tone(int rate, int channels, double seconds) {
  std::vector<float> x(static_cast<size_t>(rate * seconds) * channels);
  for (size_t i = 0; i < x.size() / channels; ++i) {
    const double t = static_cast<double>(i) / rate;
    const double env = 0.5 + 0.5 * std::sin(2 * M_PI * 3 * t);
    for (int c = 0; c < channels; ++c) x[i * channels + c] = static_cast<float>(0.3 * env * (std::sin(2 * M_PI * 440 * t) + 0.4 * std::sin(2 * M_PI * 1250 * t + c)));
  }
  return x;
}

// Encodes and decodes x frame by frame at `bitrate`; returns the decoded stream.
std::vector<float> roundTrip(int rate, int channels, const std::vector<float>& x, int bitrate, std::vector<size_t>* sizes = nullptr) {
  opus::Encoder e(rate, channels, opus::Application::Voip);
  opus::Decoder d(rate, channels);
  const size_t frame = static_cast<size_t>(rate / 50) * channels;
  std::vector<float> out;
  for (size_t at = 0; at + frame <= x.size(); at += frame) {
    auto packet = e.encode(x.data() + at, frame, {bitrate, true, opus::Application::Voip});
    if (sizes) sizes->push_back(packet.size());
    auto pcm = d.decode(packet.data(), packet.size());
    CHECK(pcm.size() == frame);
    out.insert(out.end(), pcm.begin(), pcm.end());
  }
  return out;
}

// SNR in dB of channel 0 of y against x delayed by `delay` samples.
double delayedSnr(const std::vector<float>& x, const std::vector<float>& y, int channels, int delay) {
  double s = 0, n = 0;
  const size_t frames = y.size() / channels;
  for (size_t i = static_cast<size_t>(delay) + 2000; i < frames; ++i) {
    const double r = x[(i - delay) * channels], v = y[i * channels];
    s += r * r;
    n += (r - v) * (r - v);
  }
  return 10 * std::log10(s / std::max(n, 1e-20));
}

}  // namespace

TEST(opus_round_trip_every_rate_mono_and_stereo) {
  for (int rate : {8000, 16000, 32000, 48000}) {
    for (int channels : {1, 2}) {
      auto x = tone(rate, channels, 1.0);
      opus::Encoder probe(rate, channels, opus::Application::Voip);
      const int delay = probe.delaySamples();
      CHECK(delay > 0 && delay < rate / 50);
      auto y = roundTrip(rate, channels, x, 64000);
      REQUIRE(y.size() == x.size());
      // Aligned by delaySamples() the output follows the input closely; a sample off it does not.
      const double at = delayedSnr(x, y, channels, delay);
      CHECK(at > 12);
      CHECK(at > delayedSnr(x, y, channels, delay + 3));
    }
  }
}

TEST(opus_bitrate_sets_size) {
  auto x = tone(48000, 1, 1.0);
  std::vector<size_t> lo, hi;
  roundTrip(48000, 1, x, 12000, &lo);
  roundTrip(48000, 1, x, 64000, &hi);
  size_t a = 0, b = 0;
  for (auto v : lo) a += v;
  for (auto v : hi) b += v;
  CHECK(a * 3 < b);
  // CBR: every packet the same size.
  opus::Encoder e(16000, 1, opus::Application::Voip);
  std::vector<size_t> cbr;
  for (size_t at = 0; at + 320 <= 16000; at += 320) cbr.push_back(e.encode(tone(16000, 1, 1.0).data() + at, 320, {32000, false, opus::Application::Voip}).size());
  for (size_t i = 1; i < cbr.size(); ++i) CHECK(cbr[i] == cbr[0]);
}

TEST(opus_mark_and_rewind_repeat_a_frame_exactly) {
  auto x = tone(32000, 2, 0.2);
  opus::Encoder e(32000, 2, opus::Application::Voip);
  const size_t frame = 640 * 2;
  e.encode(x.data(), frame, {24000, true, opus::Application::Voip});
  e.mark();
  auto a = e.encode(x.data() + frame, frame, {24000, true, opus::Application::Voip});
  e.rewind();
  e.encode(x.data() + frame, frame, {96000, true, opus::Application::Voip});
  e.rewind();
  auto b = e.encode(x.data() + frame, frame, {24000, true, opus::Application::Voip});
  CHECK(a == b);
}

TEST(opus_bad_packets_are_corrupt_payload_and_the_decoder_survives) {
  auto x = tone(16000, 1, 0.5);
  opus::Encoder e(16000, 1, opus::Application::Voip);
  opus::Decoder d(16000, 1);
  auto good = e.encode(x.data(), 320, {24000, true, opus::Application::Voip});
  auto corrupt = [&](const std::vector<uint8_t>& p) {
    try {
      d.decode(p.data(), p.size());
      return false;
    } catch (const CoreError& err) {
      return err.code() == ErrorCode::CorruptPayload;
    }
  };
  CHECK(corrupt({}));
  // A packet of two 20 ms frames is not one 20 ms frame.
  std::vector<uint8_t> twoFrames = good;
  twoFrames.insert(twoFrames.end(), good.begin() + 1, good.end());
  twoFrames[0] = static_cast<uint8_t>((good[0] & 0xFC) | 1);  // code 1: two frames of equal size
  CHECK(corrupt(twoFrames));
  std::vector<uint8_t> code3 = {static_cast<uint8_t>(good[0] | 3)};  // code 3 without its count byte
  CHECK(corrupt(code3));
  std::mt19937 rng(7);
  int decodedOrRefused = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> p = good;
    if (trial % 3 == 0) p.resize(1 + rng() % p.size());
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) p[rng() % p.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (trial % 5 == 0) for (auto& v : p) v = static_cast<uint8_t>(rng());
    try {
      auto pcm = d.decode(p.data(), p.size());
      CHECK(pcm.size() == 320);
      for (float v : pcm) CHECK(std::isfinite(v) && std::abs(v) <= 1.0f);
      ++decodedOrRefused;
    } catch (const CoreError& err) {
      CHECK(err.code() == ErrorCode::CorruptPayload);
      ++decodedOrRefused;
    }
  }
  CHECK(decodedOrRefused == 2000);
  // Still decodes good packets.
  auto again = d.decode(good.data(), good.size());
  CHECK(again.size() == 320);
}

TEST(opus_refuses_bad_formats) {
  auto invalid = [](auto fn) {
    try {
      fn();
      return false;
    } catch (const CoreError& err) {
      return err.code() == ErrorCode::InvalidArgument;
    }
  };
  CHECK(invalid([] { opus::Encoder e(44100, 1, opus::Application::Voip); }));
  CHECK(invalid([] { opus::Encoder e(48000, 3, opus::Application::Voip); }));
  CHECK(invalid([] { opus::Decoder d(22050, 1); }));
  CHECK(invalid([] {
    opus::Encoder e(16000, 1, opus::Application::Voip);
    std::vector<float> x(100);
    e.encode(x.data(), x.size(), {});
  }));
}

TEST(score_window_frame_check_flags_a_muted_frame_not_a_faithful_one) {
  const int rate = 16000;
  auto x = tone(rate, 1, 2.0);
  metrics::AudioScoreWindow faithful(rate, 1.0, 0), muted(rate, 1.0, 0);
  double worstFaithful = 0;
  bool flagged = false;
  for (size_t at = 0; at + 320 <= x.size(); at += 320) {
    std::vector<float> noisy(x.begin() + at, x.begin() + at + 320);
    for (auto& v : noisy) v *= 0.97f;  // 0.3 dB
    auto q = faithful.push(x.data() + at, noisy.data(), 320);
    worstFaithful = std::max(worstFaithful, q.worstBandErrorDb);
    CHECK(!q.frameMiss);
    std::vector<float> m(x.begin() + at, x.begin() + at + 320);
    const bool mute = at / 320 == 60;
    if (mute) for (auto& v : m) v *= 0.03f;  // 30 dB quieter
    auto r = muted.push(x.data() + at, m.data(), 320);
    if (mute || at / 320 == 61) flagged = flagged || r.frameMiss;
    // The one-second window barely moves.
    if (mute) CHECK(r.score > 0.3);
  }
  CHECK(worstFaithful < 1);
  CHECK(flagged);
  // mark / rewind: a trial push leaves no trace.
  metrics::AudioScoreWindow w(rate, 1.0, 0);
  w.push(x.data(), x.data(), 320);
  w.mark();
  std::vector<float> zeros(320);
  w.push(x.data() + 320, zeros.data(), 320);
  w.rewind();
  auto a = w.push(x.data() + 320, x.data() + 320, 320);
  CHECK(a.score > 0.999);
}

// Found by native/fuzz/opus_fuzz.cc (regressions/opus/): a loud 32 kHz stereo packet whose 48 kHz
// frame is at full scale; the 48 -> 32 kHz filter rang past it and decode() returned samples
// beyond [-1, 1] (f32le output outside its range). Clamped after resampling now.
TEST(opus_32k_decode_stays_within_full_scale) {
  const std::vector<uint8_t> packet = {0x7c, 0x27, 0xfd, 0x68, 0x2a, 0xfb, 0x0a, 0xd7, 0xe6, 0xe7, 0xd5, 0x7f, 0x69, 0x0c, 0xe5, 0x1c, 0x89, 0x46, 0xb2, 0xde, 0xaf, 0x48, 0x36, 0x0f, 0xde, 0xc0, 0xad, 0x6b, 0xae, 0x60, 0x4e, 0x18, 0x34, 0x79, 0xb1, 0xfa, 0x4c, 0x2c, 0x91, 0x9e, 0x44, 0xe6, 0x1a, 0x59, 0x9f, 0x0f, 0x97, 0xda, 0xdd, 0x86, 0xb7, 0x59, 0x55, 0x3a, 0x33, 0x2f, 0xa8, 0x7a, 0x13, 0x8d, 0x85, 0xe2, 0xcc, 0x7d, 0x19, 0xf2, 0x33, 0x20, 0x12, 0x59, 0x9d, 0xb2, 0x7f, 0xbe, 0x79, 0xc1, 0x4b, 0x94, 0x5f, 0x16, 0x12, 0xd8, 0xbf, 0x2c, 0x7c, 0x50, 0x90, 0x6e, 0x4a};
  opus::Decoder d(32000, 2);
  auto pcm = d.decode(packet.data(), packet.size());
  CHECK(pcm.size() == 640u * 2);
  for (float v : pcm) CHECK(v >= -1.0f && v <= 1.0f);
}
