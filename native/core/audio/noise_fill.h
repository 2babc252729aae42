// Noise fill of the audio codec's zeroed bins (aic-audio-v2 2.1.0 and later).
//
// At low rates most of an MDCT frame quantises to zero, and a zeroed bin played back as silence is
// a spectral hole: on unseen speech at 16 kbit/s about 41 % of the audible time-frequency bins came
// back 30 dB or more under the original. What a listener needs of those bins is their energy, not
// their waveform, so for each band of the frame that has zeroed bins the encoder sends, in 3 dB
// steps, the RMS of what those bins held (in the quantiser's units, where one step is 1, so it
// lies under 0.5), and the decoder puts random signs of that magnitude into them. Which bins are
// zero is known to both sides from the coded symbols; the signs come from a generator seeded by
// the frame's sequence number and channel, so the sender's shadow decoder and the receiver make
// the same frame. Levels are coded in the same rANS stream as the bins, after them, with fixed
// geometric tables (entropy/parametric_table.h) conditioned on the previous band's level.
#pragma once

#include <cstdint>
#include <vector>

#include "entropy/parametric_table.h"

namespace aic::audio {

class NoiseFill {
 public:
  // Bands of the 320 bins of a 16 kHz frame (25 Hz each): 400 Hz wide up to 1.6 kHz, then wider.
  static constexpr int kBins = 320;
  static constexpr int kBands = 11;
  static constexpr int kEdges[kBands + 1] = {0, 16, 32, 48, 64, 96, 128, 160, 192, 240, 288, 320};
  // A band is filled (and its level coded) when it has at least this many zeroed bins.
  // (8: as good on every measure as 2 on 6 LJ Speech clips, and 0.1-0.2 kbit/s cheaper.)
  static constexpr int kMinZeros = 8;
  // Level v = 0..14: what the zeroed bins held had an RMS near 0.35 * 2^(-v/2) steps (3 dB apart);
  // v = 15: not filled (more than 43.5 dB under a step, or the band was silent). The decoder plays
  // rmsOf(v), 3 dB under that. (On 6 LJ Speech clips at 16 kHz a range to 19.5 dB left 19.4 % of
  // the audible bins as holes at level 0 and 4.8 % at level 2; to 31.5 dB, 4.2 % and 1.0 %; to
  // 43.5 dB, 0.8 % and 0.1 %, and no more bits: the wider table's cheaper "off" paid for it.)
  static constexpr int kOff = 15;
  static float rmsOf(int level);

  NoiseFill();
  // Encoder: the level of every band (kOff where the band is not filled) from the values before
  // rounding (`scaled`, in steps) and the rounded symbols.
  static void levels(const float* scaled, const int32_t* symbols, int32_t* out);
  // The coded levels' symbols, in decode order, appended to `tail` (bands not filled are skipped).
  void appendSymbols(const int32_t* symbols, const int32_t* levels, std::vector<const entropy::EncSymbol*>& tail) const;
  // Decoder: reads the levels of the bands that `symbols` leaves with zeros (kOff elsewhere).
  bool decodeLevels(entropy::RansDecoder& d, const int32_t* symbols, int32_t* levels) const;
  // Fills the zeroed bins of a dequantised frame: latent[k] = +-rms(level) * stepOf[k], where
  // stepOf[k] is the size of bin k's quantiser step in latent units.
  static void fill(const int32_t* symbols, const int32_t* levels, const float* stepOf, uint32_t seed, float* latent);
  // The seed of a frame's generator: its sequence number and channel, mixed.
  static uint32_t seedOf(uint32_t sequence, int channel);

 private:
  static bool filled(const int32_t* symbols, int band);
  std::vector<entropy::ParametricTable> tables_;  // by the previous band's level (first band: kFirstContext)
  static constexpr int kFirstContext = 3;
};

}  // namespace aic::audio
