// The neural audio codec: 20 ms frames of 16 kHz mono through a streaming encoder and decoder
// whose state (the previous frame, the overlap buffer) is an explicit input and output of the
// ONNX graphs, kept here per stream and per channel. Streams at 8, 16, 32 or 48 kHz are
// resampled to 16 kHz and back; stereo is coded as two independent channels in one payload.
// A lost frame is concealed by decoding the last frame's latents 3 dB down (again for every frame lost in a row), so that the
// decoder's state stays continuous and only the frame after the loss is disturbed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "format/bitstream.h"
#include "entropy/cdf_tables.h"
#include "runtime/codec_model.h"
#include "image/image_codec.h"  // Timings
#include "audio/resampler.h"
#include "audio/noise_fill.h"
#include "audio/high_band.h"
#include "audio/dtx.h"

namespace aic {

enum class SampleFormat : uint8_t { S16le = 0, F32le = 1 };

// A per-frame level (aic-audio-v2): the index l = round(log2(rms of the latent) / stepLog2),
// clamped to [min, max], is coded as one more symbol after the bins, and the gains are divided by
// (2^(l * stepLog2) / reference)^alpha. Gains fitted to loud speech would otherwise starve a
// quiet talker or a quiet passage of bits; alpha < 1 still lets quiet frames cost less.
struct FrameScale {
  bool enabled = false;
  float alpha = 0.5f, reference = 0.1f, stepLog2 = 0.5f;
  int min = -48, max = 8;
  int index(const float* latent, int bins) const;
  float divisor(int index) const;
};

struct AudioCodecConfig {
  std::string name;
  std::string version;
  int sampleRate = 16000;   // the model's rate
  int frameSamples = 320;   // per 20 ms frame at sampleRate
  int bins = 320;           // latent values per frame
  int levels = 0;
  std::vector<float> gains, inverseGains;  // levels x bins
  FrameScale frameScale;
  std::string encoderFrame, encoderState, encoderLatent, encoderNextState;
  std::string decoderLatent, decoderState, decoderFrame, decoderNextState;
  std::shared_ptr<const entropy::CdfTableSet> tables;  // channels = bins (+ 1 with frameScale), one position
  // Noise fill of zeroed bins and the parametric band above 8 kHz (audio/noise_fill.h,
  // audio/high_band.h), coded after the bins in each channel's stream. Needs frameScale and 320 bins.
  bool spectralFill = false;
  int codedChannels() const { return bins + (frameScale.enabled ? 1 : 0); }
  // A channel's symbols as the encoder hands them around: the coded channels, then (with
  // spectralFill) the noise-fill level of each band and the high band's levels.
  int noiseFillAt() const { return codedChannels(); }
  int highBandAt() const { return codedChannels() + audio::NoiseFill::kBands; }
  // ...then the core bands' power levels a silence descriptor would carry (audio/dtx.h).
  int silenceAt() const { return highBandAt() + audio::HighBand::kMaxBands; }
  int symbolCount() const { return codedChannels() + (spectralFill ? 2 * audio::NoiseFill::kBands + audio::HighBand::kMaxBands : 0); }
};

class AudioCodec {
 public:
  AudioCodec(std::shared_ptr<CodecModel> model, AudioCodecConfig config);
  const AudioCodecConfig& config() const { return config_; }
  uint32_t modelId() const { return modelId_; }
  const CodecModel& model() const { return *model_; }
  // Samples (per channel, at streamRate) by which a stream's decoded output trails its input:
  // one frame of overlap plus the two resamplers' group delays.
  int streamDelay(int streamRate) const;

  // One channel, one frame at the model's rate: updates `state`, returns the symbols to code
  // (the quantised latents, then the frame's level index when the model has one).
  void analyse(const float* frame, std::vector<float>& state, int level, std::vector<int32_t>& symbols) const;
  // Symbols -> dequantised latents (zeroed bins noise-filled with spectralFill, from `seed`:
  // NoiseFill::seedOf()); false when a level index is out of its range (corrupt data).
  bool dequantise(const int32_t* symbols, int level, std::vector<float>& latent, uint32_t seed = 1) const;
  // One channel's coded stream: the coded channels, then with spectralFill the noise-fill levels
  // and the levels of `highBands` bands above 8 kHz. decodeChannel() fills symbolCount() symbols.
  std::vector<uint8_t> encodeChannel(const int32_t* symbols, int level, int highBands) const;
  bool decodeChannel(const uint8_t* data, size_t length, int level, int highBands, int32_t* symbols) const;
  // The symbols of a channel sent as an empty part (a silent side of mid/side stereo): no bins,
  // the smallest frame scale, noise fill and high band off. The encoder gives the side these
  // symbols and the decoder assumes them, so sender and receiver reconstruct the same frame.
  void silentChannelSymbols(int32_t* symbols) const;
  // One channel: latents (already dequantised) -> one frame at the model's rate; updates `state`.
  void synthesise(const std::vector<float>& latent, std::vector<float>& state, float* frame) const;

  // The same for many channels of many streams (audio_batch.h): row r is one channel's frame.
  // With a symbolic batch dimension in both graphs (training/audio/batch_axis.mjs) all rows go
  // through one ONNX Runtime run, which gives each row exactly what a run of its own gives
  // (MatMul rows are independent; test/audio-batching.test.ts holds payloads to it); with a fixed
  // 1 they run one by one.
  struct EncodeRow {
    const float* frame;         // frameSamples at the model's rate
    std::vector<float>* state;  // updated
    int level;
    std::vector<int32_t>* symbols;  // out
  };
  struct DecodeRow {
    const std::vector<float>* latent;  // dequantised
    std::vector<float>* state;         // updated
    float* frame;                      // out: frameSamples at the model's rate
  };
  void analyseRows(const std::vector<EncodeRow>& rows) const;
  void synthesiseRows(const std::vector<DecodeRow>& rows) const;
  bool batched() const { return batched_; }

 private:
  void quantise(const float* latent, int level, std::vector<int32_t>& symbols) const;
  std::shared_ptr<CodecModel> model_;
  audio::NoiseFill noiseFill_;
  audio::HighBand highBand_;
  std::vector<float> stepOf_;  // levels x bins: 1 / gain, a quantiser step in latent units
  AudioCodecConfig config_;
  uint32_t modelId_;
  bool batched_ = false;  // both graphs take any number of rows per run
};

struct AudioFrame {
  const uint8_t* data = nullptr;
  size_t length = 0;
  int sampleRate = 16000;
  int channels = 1;
  SampleFormat format = SampleFormat::S16le;
};

struct AudioEncodeOptions {
  int level = 0;
  // Discontinuous transmission: a frame of background goes out as a silence descriptor (audio/dtx.h;
  // models with spectralFill only, never a stream's first frame).
  bool dtx = false;
  uint32_t sequence = 0;
  uint64_t timestamp = 0;
};

// The sending side of one stream: owns the encoder state of every channel and the resamplers.
class AudioEncoderStream {
 public:
  AudioEncoderStream(std::shared_ptr<const AudioCodec> codec, int sampleRate, int channels);
  // A 20 ms frame (sampleRate / 50 samples per channel, interleaved) -> payload.
  std::vector<uint8_t> encode(const AudioFrame& frame, const AudioEncodeOptions& options, Timings& timings);

  // encode() in its three stages, for a batch of streams (audio_batch.h): check and resample the
  // frame to the model's rate (one vector per channel), analyse every channel's row (with the
  // stream's state, state(ch)), then code the symbols into the payload.
  std::vector<std::vector<float>> prepare(const AudioFrame& frame, const AudioEncodeOptions& options, Timings& timings);
  std::vector<float>& state(int channel) { return state_[static_cast<size_t>(channel)]; }
  int channels() const { return channels_; }
  const AudioCodec& codec() const { return *codec_; }
  // `header`, when given, receives the payload's header (full, whatever the payload carries).
  // With spectralFill it first writes the high band's levels (measured by prepare()) into each
  // channel's symbols, so that the shadow decoder's latentsOfCoded() sees all the payload carries.
  std::vector<uint8_t> finish(std::vector<std::vector<int32_t>>& symbols, const AudioFrame& frame, const AudioEncodeOptions& options, Timings& timings,
                              PayloadHeader* header = nullptr);

 private:
  std::shared_ptr<const AudioCodec> codec_;
  int sampleRate_, channels_;
  std::vector<std::vector<float>> state_;
  std::vector<Resampler> resamplers_;
  std::vector<audio::HighBandAnalyser> highBands_;       // per channel, at 32 and 48 kHz with spectralFill
  std::vector<std::vector<int32_t>> highBandLevels_;     // per channel: the last frame's
  audio::SilenceDetector detector_;
  bool silence_ = false;  // prepare() found the frame to be background and DTX allowed
  bool sideSilent_ = false;  // stereo as mid/side: this frame's side is exactly zero (L = R)
  uint64_t framesEncoded_ = 0;  // the first and every 50th payload carry the full header
  // The compact form's reference: the last frame sent with its timestamp, and how many more are to
  // carry one (the two after a frame whose timestamp broke the compact form's rule).
  bool timed_ = false;
  uint32_t timedSequence_ = 0;
  uint64_t timedTimestamp_ = 0;
  int explicitRun_ = 0;
};

// The receiving side of one stream.
class AudioDecoderStream {
 public:
  explicit AudioDecoderStream(std::shared_ptr<const AudioCodec> codec);
  struct Result {
    PayloadHeader header;
    int sampleRate = 0, channels = 0;
    SampleFormat format = SampleFormat::S16le;
    std::vector<uint8_t> pcm;  // interleaved, in the stream's format
    bool concealed = false;
    bool comfortNoise = false;  // made from a silence descriptor (decoded, or concealed after one)
  };
  Result decode(const uint8_t* payload, size_t length, Timings& timings);
  // A frame that never arrived: conceals it from the last decoded frame. Needs one decoded frame.
  Result conceal(Timings& timings);

  // decode() in its three stages, for a batch of streams (audio_batch.h): parse the payload into
  // dequantised latents (one per channel; the stream's header state advances), synthesise every
  // channel's row (with state(ch)), then resample the rows into the stream's PCM.
  std::vector<std::vector<float>> latentsOf(const uint8_t* payload, size_t length, Timings& timings);
  // latentsOf() for the sender's shadow decoder, from what the encoder just coded (the header and
  // each channel's symbols) instead of parsing the payload: rANS is lossless, so the payload's
  // symbols are these, and the receiver's decode reaches the same latents and the same state
  // (test/audio-batching.test.ts scores what a receiving session plays against the sender's score).
  std::vector<std::vector<float>> latentsOfCoded(const PayloadHeader& header, const std::vector<std::vector<int32_t>>& symbols, Timings& timings);
  std::vector<float>& state(int channel) { return state_[static_cast<size_t>(channel)]; }
  int channels() const { return channels_; }
  const AudioCodec& codec() const { return *codec_; }
  Result output(std::vector<std::vector<float>>& modelRate, Timings& timings);

 private:
  void configure(int sampleRate, int channels, SampleFormat format);
  Result synthesiseAll(const std::vector<std::vector<float>>& latents, Timings& timings);

  std::shared_ptr<const AudioCodec> codec_;
  int sampleRate_ = 0, channels_ = 0;
  SampleFormat format_ = SampleFormat::S16le;
  PayloadHeader last_;
  bool anchored_ = false;  // a full header was seen: short headers' high bits come from last_
  // The last frame that carried its timestamp (full or short form): compact frames' come from it.
  bool timed_ = false;
  uint32_t timedSequence_ = 0;
  uint64_t timedTimestamp_ = 0;
  std::vector<std::vector<float>> state_;
  std::vector<std::vector<float>> lastLatent_;
  std::vector<Resampler> resamplers_;
  // The high band (spectralFill at 32 and 48 kHz): per channel, the synthesiser and the levels of
  // the frame latentsOf() read last; its amplitude halves with every concealed frame, as the core's.
  std::vector<audio::HighBandSynthesiser> highBands_;
  std::vector<std::vector<int32_t>> highBandLevels_;
  float highBandGain_ = 1.0f;
  // After a silence descriptor: comfort noise of its spectrum (per channel, the core bands'
  // levels) for it and every frame concealed after it.
  bool comfortNoise_ = false;
  std::vector<std::vector<int32_t>> comfortLevels_;
  std::vector<std::vector<float>> comfortLatents(uint32_t sequence) const;
  // A silence descriptor's levels read: the frame is comfort noise (then settle()).
  std::vector<std::vector<float>> comfortFrame(const PayloadHeader& h, bool anchor);
  // What every frame read leaves in the stream: its header, its latents (for concealment), the
  // noise seed; `anchor`: a full header, from which short ones extend sequence and timestamp.
  std::vector<std::vector<float>> settle(const PayloadHeader& h, bool anchor, std::vector<std::vector<float>> latents);
  uint32_t frameSeed_ = 1;  // NoiseFill::seedOf(sequence, 0) of the frame last read
  void keepHighBand(const std::vector<std::vector<int32_t>>& symbols);
};

bool supportedAudioRate(int rate);

}  // namespace aic
