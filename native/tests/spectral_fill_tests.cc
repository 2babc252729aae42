// Unit tests of the audio codec's spectral fill: the parametric tables, the noise-fill levels and
// the high band's analysis and synthesis (audio/noise_fill.h, audio/high_band.h).
#include <cmath>
#include <random>
#include <vector>

#include "audio/dtx.h"
#include "audio/high_band.h"
#include "audio/noise_fill.h"
#include "entropy/parametric_table.h"
#include "entropy/rans.h"
#include "test_harness.h"

using namespace aic;

TEST(parametric_table_sums_to_2_16_and_peaks_at_the_centre) {
  entropy::ParametricTable t(-120, 120, -9, 52429);
  uint64_t total = 0;
  for (int v = t.lo(); v <= t.hi(); ++v) {
    CHECK(t.frequency(v) >= 1);
    total += t.frequency(v);
  }
  CHECK((total) == (65536u));
  CHECK(t.frequency(-9) > t.frequency(-8));
  CHECK(t.frequency(-8) > t.frequency(-7));
  CHECK(t.frequency(-10) > t.frequency(-11));
  // Built from integers: the same frequencies every time (docs/bitstream.md gives them).
  entropy::ParametricTable u(0, 7, 3, 22938);
  CHECK((u.frequency(3)) == (32037u));
  CHECK((u.frequency(0) + u.frequency(1) + u.frequency(2) + u.frequency(3) + u.frequency(4) + u.frequency(5) + u.frequency(6) + u.frequency(7)) == (65536u));
}

TEST(parametric_table_values_round_trip_through_rans) {
  entropy::ParametricTable t(-40, 40, 0, 39322);
  std::mt19937 rng(5);
  std::vector<int> values;
  entropy::RansEncoder e;
  for (int i = 0; i < 500; ++i) {
    int v = static_cast<int>(rng() % 81) - 40;
    if (i % 3) v /= 8;
    values.push_back(v);
    e.put(t.symbol(v));
  }
  auto bytes = e.finish();
  entropy::RansDecoder d(bytes.data(), bytes.size());
  for (int v : values) CHECK((t.decode(d)) == (v));
  CHECK(d.finishedCleanly());
}

TEST(noise_fill_levels_follow_the_rms_of_the_zeroed_bins) {
  std::vector<float> scaled(audio::NoiseFill::kBins, 0.0f);
  std::vector<int32_t> symbols(audio::NoiseFill::kBins, 0);
  // Band 0: every bin +-0.25 (level 1: 0.35 / sqrt 2); band 1: +-0.044 (level 6); band 2: nearly
  // silent (off); band 3: all coded (not filled).
  for (int k = 0; k < 16; ++k) scaled[k] = (k & 1) ? 0.25f : -0.25f;
  for (int k = 16; k < 32; ++k) scaled[k] = 0.044f;
  for (int k = 32; k < 48; ++k) scaled[k] = 1e-4f;
  for (int k = 48; k < 64; ++k) symbols[k] = 1 + (k & 1);
  int32_t levels[audio::NoiseFill::kBands];
  audio::NoiseFill::levels(scaled.data(), symbols.data(), levels);
  CHECK((levels[0]) == (1));
  CHECK((levels[1]) == (6));
  CHECK((levels[2]) == (audio::NoiseFill::kOff));
  CHECK((levels[3]) == (audio::NoiseFill::kOff));
  // The fill puts +-rms * step into the zeroed bins only, the same for the same seed.
  std::vector<float> steps(audio::NoiseFill::kBins, 2.0f), a(audio::NoiseFill::kBins, 9.0f), b(audio::NoiseFill::kBins, 9.0f);
  for (int k = 0; k < audio::NoiseFill::kBins; ++k)
    if (symbols[k] == 0) a[k] = b[k] = 0.0f;
  audio::NoiseFill::fill(symbols.data(), levels, steps.data(), 77, a.data());
  audio::NoiseFill::fill(symbols.data(), levels, steps.data(), 77, b.data());
  CHECK(a == b);
  CHECK(std::fabs(std::fabs(a[3]) - 2.0f * audio::NoiseFill::rmsOf(1)) < 1e-6f);
  CHECK(std::fabs(std::fabs(a[20]) - 2.0f * audio::NoiseFill::rmsOf(6)) < 1e-6f);
  CHECK((a[40]) == (0.0f));  // off
  CHECK((a[50]) == (9.0f));  // coded bins untouched
  int positive = 0;
  for (int k = 0; k < 16; ++k) positive += a[k] > 0;
  CHECK(positive > 3 && positive < 13);  // random signs
}

TEST(noise_fill_levels_round_trip_and_skip_bands_without_zeros) {
  audio::NoiseFill nf;
  std::vector<int32_t> symbols(audio::NoiseFill::kBins, 0);
  for (int k = 0; k < 64; ++k) symbols[k] = 3;  // bands 0-3: no zeros, nothing coded for them
  const int32_t off = audio::NoiseFill::kOff;
  int32_t levels[audio::NoiseFill::kBands] = {off, off, off, off, 0, 2, 3, 5, 14, off, 4};
  std::vector<const entropy::EncSymbol*> tail;
  nf.appendSymbols(symbols.data(), levels, tail);
  CHECK((tail.size()) == (7u));
  entropy::RansEncoder e;
  for (auto* s : tail) e.put(*s);
  auto bytes = e.finish();
  entropy::RansDecoder d(bytes.data(), bytes.size());
  int32_t back[audio::NoiseFill::kBands];
  CHECK(nf.decodeLevels(d, symbols.data(), back));
  for (int b = 0; b < audio::NoiseFill::kBands; ++b) CHECK((back[b]) == (levels[b]));
  CHECK(d.finishedCleanly());
}

// White noise through the analyser and the synthesiser: the synthesised band has the input's
// power in every band (within the 3 dB steps' +-1.5 dB).
TEST(high_band_synthesis_matches_the_band_powers_it_was_given) {
  for (int rate : {32000, 48000}) {
    const int n = rate / 50, bands = audio::HighBand::bandsAt(rate);
    CHECK((bands) == (rate == 48000 ? 9 : 6));
    audio::HighBandAnalyser analyser(rate);
    audio::HighBandSynthesiser synth(rate, 37);
    std::mt19937 rng(3);
    std::normal_distribution<float> g(0.0f, 0.1f);
    std::vector<float> out, in;
    for (int f = 0; f < 60; ++f) {
      std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n), 0.0f);
      for (auto& v : x) v = g(rng);
      int32_t levels[audio::HighBand::kMaxBands];
      analyser.analyse(x.data(), levels);
      // White noise of variance 0.01: each band's power density is 0.01, log2 = -6.6 -> -7.
      for (int b = 0; b < bands; ++b) CHECK(levels[b] >= -8 && levels[b] <= -6);
      synth.synthesise(levels, 1.0f, 1000u + static_cast<uint32_t>(f), y.data());
      out.insert(out.end(), y.begin(), y.end());
    }
    // Variance of the output against the input's share above 7.2 kHz: (1 - 14400 / rate) * 0.01.
    double v = 0;
    for (size_t i = static_cast<size_t>(4 * n); i < out.size(); ++i) v += static_cast<double>(out[i]) * out[i];
    v /= static_cast<double>(out.size() - static_cast<size_t>(4 * n));
    const double expected = (1.0 - 14400.0 / rate) * 0.01;
    CHECK(std::fabs(10 * std::log10(v / expected)) < 1.6);
  }
  CHECK((audio::HighBand::bandsAt(16000)) == (0));
  CHECK((audio::HighBand::bandsAt(8000)) == (0));
}

TEST(high_band_levels_round_trip_and_refuse_out_of_range_values) {
  audio::HighBand hb;
  int32_t levels[audio::HighBand::kMaxBands] = {-12, -14, -15, -15, -20, -60, -60, 12, 11};
  std::vector<const entropy::EncSymbol*> tail;
  hb.appendSymbols(levels, 9, -3, tail);
  entropy::RansEncoder e;
  for (auto* s : tail) e.put(*s);
  auto bytes = e.finish();
  entropy::RansDecoder d(bytes.data(), bytes.size());
  int32_t back[audio::HighBand::kMaxBands];
  CHECK(hb.decodeLevels(d, 9, -3, back));
  for (int b = 0; b < 9; ++b) CHECK((back[b]) == (levels[b]));
  // A reference that puts the first band under the floor: corrupt.
  entropy::RansDecoder d2(bytes.data(), bytes.size());
  CHECK(!hb.decodeLevels(d2, 9, -60, back));
}

TEST(silence_detector_finds_the_room_between_words) {
  audio::SilenceDetector d;
  std::mt19937 rng(9);
  std::normal_distribution<float> room(0.0f, 0.002f);  // about -54 dBFS
  const int n = 320;
  int background = 0, frames = 0, speechBackground = 0;
  for (int f = 0; f < 300; ++f) {
    const bool talking = (f / 50) % 2 == 1;  // 1 s of room, 1 s of "speech", ...
    std::vector<float> x(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) x[static_cast<size_t>(i)] = room(rng) + (talking ? 0.2f * std::sin(0.05f * (f * n + i)) : 0.0f);
    const bool b = d.background(x.data(), x.size());
    if (talking) speechBackground += b;
    else if (f % 50 >= 25) {  // past the 500 ms hangover
      ++frames;
      background += b;
    }
  }
  CHECK((speechBackground) == (0));
  CHECK(background > frames * 9 / 10);
  // Loud stationary sound is never background, however long it lasts.
  audio::SilenceDetector loud;
  int loudBackground = 0;
  for (int f = 0; f < 500; ++f) {
    std::vector<float> x(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) x[static_cast<size_t>(i)] = 0.1f * std::sin(0.03f * (f * n + i));
    loudBackground += loud.background(x.data(), x.size());
  }
  CHECK((loudBackground) == (0));
}

TEST(silence_descriptor_round_trips_levels_within_its_range) {
  int32_t core[audio::NoiseFill::kBands] = {-10, -12, -20, -25, -24, -30, -40, -52, -53, audio::SilenceDescriptor::kNone, -90};
  int32_t high[audio::HighBand::kMaxBands] = {-20, -22, -30, -31, -33, -40, -60, -60, -60};
  std::vector<uint8_t> bytes;
  audio::SilenceDescriptor::write(core, high, 9, bytes);
  CHECK((bytes.size()) == (audio::SilenceDescriptor::size(9)));
  CHECK((bytes.size()) == (13u));
  CHECK((audio::SilenceDescriptor::size(0)) == (7u));
  // write() leaves what the receiver reads: levels more than 14 steps (42 dB) under the loudest
  // are nothing.
  CHECK((core[0]) == (-10));
  CHECK((core[4]) == (-24));  // 14 steps under: kept
  CHECK((core[5]) == (audio::SilenceDescriptor::kNone));
  CHECK((core[10]) == (audio::SilenceDescriptor::kNone));
  CHECK((high[4]) == (-33));  // 13 steps under -20: kept
  CHECK((high[5]) == (audio::HighBand::kMinLevel));  // 20 under: nothing, played at the floor
  int32_t c2[audio::NoiseFill::kBands], h2[audio::HighBand::kMaxBands];
  CHECK(audio::SilenceDescriptor::read(bytes.data(), bytes.size(), 9, c2, h2));
  for (int b = 0; b < audio::NoiseFill::kBands; ++b) CHECK((c2[b]) == (core[b]));
  for (int b = 0; b < 9; ++b) CHECK((h2[b]) == (high[b]));
  // The wrong size, a level out of range or padding that is not 15: corrupt.
  CHECK(!audio::SilenceDescriptor::read(bytes.data(), bytes.size() - 1, 9, c2, h2));
  CHECK(!audio::SilenceDescriptor::read(bytes.data(), bytes.size(), 6, c2, h2));
  auto bad = bytes;
  bad[0] = 200;  // the loudest level +72
  CHECK(!audio::SilenceDescriptor::read(bad.data(), bad.size(), 9, c2, h2));
  bad = bytes;
  bad[6] &= 0x0F;  // the 12th nibble is padding
  CHECK(!audio::SilenceDescriptor::read(bad.data(), bad.size(), 9, c2, h2));
  // Comfort noise: each band at its level, random signs.
  std::vector<float> latent(audio::NoiseFill::kBins);
  audio::SilenceDescriptor::comfortNoise(c2, 5, latent.data());
  CHECK(std::fabs(std::fabs(latent[3]) - std::sqrt(std::exp2(-10.0f))) < 1e-6f);
  CHECK((latent[250]) == (0.0f));  // band 9: nothing
}
