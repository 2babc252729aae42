// The conventional audio codec of the fallback ladder: libopus behind a small C++ interface.
// One encoder or decoder per stream (Opus carries state from packet to packet); 20 ms frames;
// 8, 16, 32 or 48 kHz (Opus takes 8/12/16/24/48 kHz: 32 kHz streams are coded by a 48 kHz
// encoder after resampling, so every supported session rate works); mono or stereo; VBR or CBR
// at a settable bitrate. Samples are interleaved float in [-1, 1].
//
// Encoder and decoder states are flat blocks of memory (libopus keeps offsets, not pointers, in
// them), so a state can be saved and restored by copying: the session tries a setting on a copy
// and keeps the one that reaches the floor.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "audio/resampler.h"

namespace aic::opus {

enum class Application { Voip, Audio };

struct EncoderSettings {
  int bitrate = 24000;  // bit/s
  bool vbr = true;
  Application application = Application::Voip;
};

// The rate the Opus coder runs at for a stream rate (32 kHz -> 48 kHz, else the stream rate).
int coderRate(int streamRate);
bool supportedRate(int streamRate);

class Encoder {
 public:
  Encoder(int sampleRate, int channels, Application application);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  int sampleRate() const { return rate_; }
  int channels() const { return channels_; }
  int frameSamples() const { return rate_ / 50; }
  // Samples per channel (at the stream rate) by which a decoded stream trails its input.
  int delaySamples() const;
  // One 20 ms frame (frameSamples() x channels interleaved floats) -> one Opus packet.
  std::vector<uint8_t> encode(const float* pcm, size_t samples, const EncoderSettings& settings);
  void reset();
  // Saves the whole state (libopus's and the resamplers') and goes back to it: a session tries
  // a setting, and rewinds to try another when it misses the floor.
  void mark();
  void rewind();

 private:
  int rate_, channels_, coderRate_;
  Application application_;
  std::vector<uint8_t> state_;  // the OpusEncoder, a flat block
  std::vector<Resampler> up_;   // 32 -> 48 kHz per channel (32 kHz streams only)
  std::vector<uint8_t> markedState_;
  std::vector<Resampler> markedUp_;
  EncoderSettings applied_{};
  bool appliedValid_ = false;
};

class Decoder {
 public:
  Decoder(int sampleRate, int channels);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  int sampleRate() const { return rate_; }
  int channels() const { return channels_; }
  // One packet -> exactly one 20 ms frame (rate / 50 samples per channel, interleaved); a packet
  // that is not a valid 20 ms Opus packet throws CoreError(CorruptPayload) and leaves the state.
  std::vector<float> decode(const uint8_t* packet, size_t length);
  // A frame for a packet that never arrived: libopus's own concealment (pitch-based for speech).
  std::vector<float> conceal();
  void reset();
  void mark();
  void rewind();

 private:
  // A decoded frame at the coder's rate -> the stream's: finite, clamped, resampled for 32 kHz.
  std::vector<float> toStreamRate(std::vector<float>& out);
  int rate_, channels_, coderRate_;
  std::vector<uint8_t> state_;
  std::vector<Resampler> down_;  // 48 -> 32 kHz per channel (32 kHz streams only)
  std::vector<uint8_t> markedState_;
  std::vector<Resampler> markedDown_;
};

}  // namespace aic::opus
