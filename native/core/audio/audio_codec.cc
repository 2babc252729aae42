#include "audio/audio_codec.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "common/errors.h"

namespace aic {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

const OutputTensor& outputNamed(const std::vector<OutputTensor>& outs, const std::string& name, size_t count) {
  for (const auto& o : outs)
    if (o.name == name) {
      if (o.byteLength != count * sizeof(float)) throw CoreError(ErrorCode::InferenceFailed, "audio graph output '" + name + "' has the wrong size");
      return o;
    }
  throw CoreError(ErrorCode::InferenceFailed, "audio graph has no output '" + name + "'");
}

// A concealed frame's amplitude against the frame before it (-3 dB).
constexpr float kConcealGain = 0.7071f;

// A full header on a stream's first frame and every 50th after it (once a second): a receiver
// that missed the first learns the high bits of the sequence number and timestamp from it.
constexpr uint32_t kFullHeaderInterval = 50;

// The value whose low `bits` bits are `low` closest to `last` (RTP-style extension).
uint64_t extendFrom(uint64_t last, uint64_t low, int bits) {
  const uint64_t span = 1ull << bits;
  uint64_t c = (last & ~(span - 1)) | low;
  const int64_t diff = static_cast<int64_t>(c - last);
  if (diff > static_cast<int64_t>(span / 2) && c >= span) c -= span;
  else if (diff < -static_cast<int64_t>(span / 2)) c += span;
  return c;
}

// Resampling between a stream rate and the model's 16 kHz: down when the stream is faster.
Resampler towardsModel(int streamRate, int modelRate) {
  return streamRate >= modelRate ? Resampler(streamRate / modelRate, true) : Resampler(modelRate / streamRate, false);
}
Resampler fromModel(int streamRate, int modelRate) {
  return streamRate >= modelRate ? Resampler(streamRate / modelRate, false) : Resampler(modelRate / streamRate, true);
}

// Left and right -> mid (L + R) / 2 and side (L - R) / 2, in place; fromMidSide() inverts it.
void midSide(std::vector<float>& a, std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    const float l = a[i], r = b[i];
    a[i] = 0.5f * (l + r);
    b[i] = 0.5f * (l - r);
  }
}
void fromMidSide(std::vector<float>& a, std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    const float m = a[i], s = b[i];
    a[i] = m + s;
    b[i] = m - s;
  }
}

}  // namespace

int AudioCodec::streamDelay(int streamRate) const {
  if (!supportedAudioRate(streamRate)) throw CoreError(ErrorCode::InvalidArgument, "unsupported audio sample rate " + std::to_string(streamRate));
  const int modelRate = config_.sampleRate;
  // towardsModel's delay is counted in model-rate samples, fromModel's in stream-rate samples.
  const double in = towardsModel(streamRate, modelRate).delay() * (static_cast<double>(streamRate) / modelRate);
  return streamRate / 50 + static_cast<int>(std::lround(in)) + fromModel(streamRate, modelRate).delay();
}

int FrameScale::index(const float* latent, int bins) const {
  double energy = 0;
  for (int k = 0; k < bins; ++k) energy += static_cast<double>(latent[k]) * latent[k];
  const double rms = std::sqrt(energy / bins);
  if (!(rms > 1e-30)) return min;  // silence (or a NaN from a broken graph): the lowest level
  return static_cast<int>(std::clamp(std::nearbyint(std::log2(rms) / stepLog2), static_cast<double>(min), static_cast<double>(max)));
}

float FrameScale::divisor(int index) const {
  return static_cast<float>(std::pow(std::exp2(static_cast<double>(index) * stepLog2) / reference, static_cast<double>(alpha)));
}

bool supportedAudioRate(int rate) { return rate == 8000 || rate == 16000 || rate == 32000 || rate == 48000; }

AudioCodec::AudioCodec(std::shared_ptr<CodecModel> model, AudioCodecConfig config) : model_(std::move(model)), config_(std::move(config)) {
  const auto& c = config_;
  if (c.sampleRate != 16000 || c.frameSamples != 320) throw CoreError(ErrorCode::InvalidArgument, "audio codec: this build runs 16 kHz models with 320-sample (20 ms) frames");
  if (c.bins < 1 || c.levels < 1 || c.levels > 255) throw CoreError(ErrorCode::InvalidArgument, "audio codec: bins and levels must be positive");
  const size_t n = static_cast<size_t>(c.levels) * c.bins;
  if (c.gains.size() != n || c.inverseGains.size() != n) throw CoreError(ErrorCode::InvalidArgument, "audio codec: gains need levels x bins values");
  for (size_t i = 0; i < n; ++i)
    if (!(c.gains[i] > 0) || !(c.inverseGains[i] > 0) || !std::isfinite(c.gains[i]) || !std::isfinite(c.inverseGains[i]))
      throw CoreError(ErrorCode::InvalidArgument, "audio codec: gains must be finite and positive");
  const auto& f = c.frameScale;
  if (f.enabled && (!(f.alpha > 0 && f.alpha <= 1) || !(f.reference > 0) || !(f.stepLog2 > 0) || !std::isfinite(f.reference) || !std::isfinite(f.stepLog2) || f.min > f.max))
    throw CoreError(ErrorCode::InvalidArgument, "audio codec: frameScale needs alpha in (0, 1], positive reference and stepLog2, min <= max");
  if (!c.tables || c.tables->levels() != c.levels || c.tables->channels() != c.codedChannels())
    throw CoreError(ErrorCode::InvalidArgument, "audio codec: entropy tables do not match levels x coded channels");
  if (c.spectralFill && (!f.enabled || c.bins != audio::NoiseFill::kBins))
    throw CoreError(ErrorCode::InvalidArgument, "audio codec: spectralFill needs a frameScale and 320 bins (20 ms at 16 kHz)");
  stepOf_.resize(n);
  for (size_t i = 0; i < n; ++i) stepOf_[i] = 1.0f / c.gains[i];
  modelId_ = aic::modelId(c.name, c.version);
  // Rows in one run when every input and output of both graphs has a symbolic first dimension.
  auto symbolicRows = [](const Graph& g) {
    auto symbolic = [](const std::vector<TensorInfo>& ts) {
      return !ts.empty() && std::all_of(ts.begin(), ts.end(), [](const TensorInfo& t) { return !t.shape.empty() && t.shape[0] < 0; });
    };
    return symbolic(g.inputs()) && symbolic(g.outputs());
  };
  batched_ = symbolicRows(model_->graph(Part::Encoder)) && symbolicRows(model_->graph(Part::Decoder));
}

void AudioCodec::analyse(const float* frame, std::vector<float>& state, int level, std::vector<int32_t>& symbols) const {
  const auto& c = config_;
  std::vector<float> in(frame, frame + c.frameSamples);
  TensorView f{c.encoderFrame, ElementType::Float32, {1, c.frameSamples}, in.data(), in.size() * sizeof(float)};
  TensorView s{c.encoderState, ElementType::Float32, {1, c.frameSamples}, state.data(), state.size() * sizeof(float)};
  auto outs = model_->graph(Part::Encoder).run({f, s}, {});
  const float* latent = static_cast<const float*>(outputNamed(outs, c.encoderLatent, c.bins).data);
  const float* next = static_cast<const float*>(outputNamed(outs, c.encoderNextState, c.frameSamples).data);
  std::copy(next, next + c.frameSamples, state.begin());
  quantise(latent, level, symbols);
}

void AudioCodec::analyseRows(const std::vector<EncodeRow>& rows) const {
  const auto& c = config_;
  if (rows.empty()) return;
  if (!batched_ || rows.size() == 1) {
    for (const auto& r : rows) analyse(r.frame, *r.state, r.level, *r.symbols);
    return;
  }
  const size_t n = rows.size(), fs = static_cast<size_t>(c.frameSamples);
  std::vector<float> in(n * fs), st(n * fs);
  for (size_t i = 0; i < n; ++i) {
    std::copy(rows[i].frame, rows[i].frame + fs, in.begin() + static_cast<std::ptrdiff_t>(i * fs));
    std::copy(rows[i].state->begin(), rows[i].state->end(), st.begin() + static_cast<std::ptrdiff_t>(i * fs));
  }
  const int64_t rowsN = static_cast<int64_t>(n);
  TensorView f{c.encoderFrame, ElementType::Float32, {rowsN, c.frameSamples}, in.data(), in.size() * sizeof(float)};
  TensorView s{c.encoderState, ElementType::Float32, {rowsN, c.frameSamples}, st.data(), st.size() * sizeof(float)};
  auto outs = model_->graph(Part::Encoder).run({f, s}, {});
  const float* latent = static_cast<const float*>(outputNamed(outs, c.encoderLatent, n * c.bins).data);
  const float* next = static_cast<const float*>(outputNamed(outs, c.encoderNextState, n * fs).data);
  for (size_t i = 0; i < n; ++i) {
    std::copy(next + i * fs, next + (i + 1) * fs, rows[i].state->begin());
    quantise(latent + i * c.bins, rows[i].level, *rows[i].symbols);
  }
}

void AudioCodec::quantise(const float* latent, int level, std::vector<int32_t>& symbols) const {
  const auto& c = config_;
  symbols.assign(c.symbolCount(), 0);
  const float* g = &c.gains[static_cast<size_t>(level) * c.bins];
  float scale = 1.0f;
  if (c.frameScale.enabled) {
    const int index = c.frameScale.index(latent, c.bins);
    symbols[c.bins] = index;
    scale = 1.0f / c.frameScale.divisor(index);
  }
  float scaled[audio::NoiseFill::kBins];
  for (int k = 0; k < c.bins; ++k) {
    const float u = latent[k] * scale * g[k];
    if (c.spectralFill) scaled[k] = u;
    float v = std::nearbyint(u);
    if (!std::isfinite(v)) v = 0;
    symbols[k] = static_cast<int32_t>(std::clamp(v, -1048576.0f, 1048576.0f));
  }
  if (c.spectralFill) {
    audio::NoiseFill::levels(scaled, symbols.data(), symbols.data() + c.noiseFillAt());
    audio::SilenceDescriptor::coreLevels(latent, symbols.data() + c.silenceAt());
  }
}

std::vector<uint8_t> AudioCodec::encodeChannel(const int32_t* symbols, int level, int highBands) const {
  const auto& c = config_;
  if (!c.spectralFill) return c.tables->encode(symbols, 1, 1, level);
  std::vector<const entropy::EncSymbol*> tail;
  noiseFill_.appendSymbols(symbols, symbols + c.noiseFillAt(), tail);
  highBand_.appendSymbols(symbols + c.highBandAt(), highBands, symbols[c.bins], tail);
  return c.tables->encode(symbols, 1, 1, level, 0, &tail);
}

bool AudioCodec::decodeChannel(const uint8_t* data, size_t length, int level, int highBands, int32_t* symbols) const {
  const auto& c = config_;
  if (!c.spectralFill) return c.tables->decode(data, length, 1, 1, level, symbols);
  std::fill(symbols + c.codedChannels(), symbols + c.symbolCount(), 0);
  return c.tables->decode(data, length, 1, 1, level, symbols, 0, [&](entropy::RansDecoder& d) {
    return noiseFill_.decodeLevels(d, symbols, symbols + c.noiseFillAt()) && highBand_.decodeLevels(d, highBands, symbols[c.bins], symbols + c.highBandAt());
  });
}

void AudioCodec::silentChannelSymbols(int32_t* symbols) const {
  const auto& c = config_;
  std::fill(symbols, symbols + c.symbolCount(), 0);
  if (c.frameScale.enabled) symbols[c.bins] = c.frameScale.min;
  if (!c.spectralFill) return;
  std::fill(symbols + c.noiseFillAt(), symbols + c.noiseFillAt() + audio::NoiseFill::kBands, audio::NoiseFill::kOff);
  std::fill(symbols + c.highBandAt(), symbols + c.highBandAt() + audio::HighBand::kMaxBands, audio::HighBand::kMinLevel);
}

bool AudioCodec::dequantise(const int32_t* symbols, int level, std::vector<float>& latent, uint32_t seed) const {
  const auto& c = config_;
  float scale = 1.0f;
  if (c.frameScale.enabled) {
    const int index = symbols[c.bins];
    if (index < c.frameScale.min || index > c.frameScale.max) return false;
    scale = c.frameScale.divisor(index);
  }
  const float* ig = &c.inverseGains[static_cast<size_t>(level) * c.bins];
  latent.resize(c.bins);
  for (int k = 0; k < c.bins; ++k) latent[k] = symbols[k] * ig[k] * scale;
  if (c.spectralFill) {
    float step[audio::NoiseFill::kBins];
    const float* s = &stepOf_[static_cast<size_t>(level) * c.bins];
    for (int k = 0; k < c.bins; ++k) step[k] = s[k] * scale;
    audio::NoiseFill::fill(symbols, symbols + c.noiseFillAt(), step, seed, latent.data());
  }
  return true;
}

void AudioCodec::synthesise(const std::vector<float>& latent, std::vector<float>& state, float* frame) const {
  const auto& c = config_;
  std::vector<float> l(latent);
  TensorView lv{c.decoderLatent, ElementType::Float32, {1, c.bins}, l.data(), l.size() * sizeof(float)};
  TensorView sv{c.decoderState, ElementType::Float32, {1, c.frameSamples}, state.data(), state.size() * sizeof(float)};
  auto outs = model_->graph(Part::Decoder).run({lv, sv}, {});
  const float* out = static_cast<const float*>(outputNamed(outs, c.decoderFrame, c.frameSamples).data);
  const float* next = static_cast<const float*>(outputNamed(outs, c.decoderNextState, c.frameSamples).data);
  std::copy(out, out + c.frameSamples, frame);
  std::copy(next, next + c.frameSamples, state.begin());
}

void AudioCodec::synthesiseRows(const std::vector<DecodeRow>& rows) const {
  const auto& c = config_;
  if (rows.empty()) return;
  if (!batched_ || rows.size() == 1) {
    for (const auto& r : rows) synthesise(*r.latent, *r.state, r.frame);
    return;
  }
  const size_t n = rows.size(), fs = static_cast<size_t>(c.frameSamples), bins = static_cast<size_t>(c.bins);
  std::vector<float> l(n * bins), st(n * fs);
  for (size_t i = 0; i < n; ++i) {
    if (rows[i].latent->size() != bins) throw std::logic_error("audio decoder row has the wrong latent size");
    std::copy(rows[i].latent->begin(), rows[i].latent->end(), l.begin() + static_cast<std::ptrdiff_t>(i * bins));
    std::copy(rows[i].state->begin(), rows[i].state->end(), st.begin() + static_cast<std::ptrdiff_t>(i * fs));
  }
  const int64_t rowsN = static_cast<int64_t>(n);
  TensorView lv{c.decoderLatent, ElementType::Float32, {rowsN, c.bins}, l.data(), l.size() * sizeof(float)};
  TensorView sv{c.decoderState, ElementType::Float32, {rowsN, c.frameSamples}, st.data(), st.size() * sizeof(float)};
  auto outs = model_->graph(Part::Decoder).run({lv, sv}, {});
  const float* out = static_cast<const float*>(outputNamed(outs, c.decoderFrame, n * fs).data);
  const float* next = static_cast<const float*>(outputNamed(outs, c.decoderNextState, n * fs).data);
  for (size_t i = 0; i < n; ++i) {
    std::copy(out + i * fs, out + (i + 1) * fs, rows[i].frame);
    std::copy(next + i * fs, next + (i + 1) * fs, rows[i].state->begin());
  }
}

AudioEncoderStream::AudioEncoderStream(std::shared_ptr<const AudioCodec> codec, int sampleRate, int channels)
    : codec_(std::move(codec)), sampleRate_(sampleRate), channels_(channels) {
  if (!supportedAudioRate(sampleRate)) throw CoreError(ErrorCode::InvalidArgument, "audio sample rate " + std::to_string(sampleRate) + " Hz is not supported; use 8000, 16000, 32000 or 48000");
  if (channels < 1 || channels > 2) throw CoreError(ErrorCode::InvalidArgument, "audio must have 1 or 2 channels, got " + std::to_string(channels));
  for (int ch = 0; ch < channels; ++ch) {
    state_.emplace_back(codec_->config().frameSamples, 0.0f);
    resamplers_.push_back(towardsModel(sampleRate, codec_->config().sampleRate));
    if (codec_->config().spectralFill && audio::HighBand::bandsAt(sampleRate) > 0) highBands_.emplace_back(sampleRate);
  }
  highBandLevels_.assign(channels, std::vector<int32_t>(audio::HighBand::kMaxBands, audio::HighBand::kMinLevel));
}

std::vector<uint8_t> AudioEncoderStream::encode(const AudioFrame& frame, const AudioEncodeOptions& options, Timings& timings) {
  auto modelRate = prepare(frame, options, timings);
  auto t1 = Clock::now();
  std::vector<std::vector<int32_t>> symbols(channels_);
  for (int ch = 0; ch < channels_; ++ch) codec_->analyse(modelRate[ch].data(), state_[ch], options.level, symbols[ch]);
  timings.inferenceMs = msSince(t1);
  return finish(symbols, frame, options, timings);
}

std::vector<std::vector<float>> AudioEncoderStream::prepare(const AudioFrame& frame, const AudioEncodeOptions& options, Timings& timings) {
  const auto& c = codec_->config();
  if (frame.sampleRate != sampleRate_ || frame.channels != channels_) {
    throw CoreError(ErrorCode::InvalidArgument, "this audio stream is " + std::to_string(sampleRate_) + " Hz x " + std::to_string(channels_) +
                                                    " channels; a frame of another format needs its own stream");
  }
  if (options.level < 0 || options.level >= c.levels) throw CoreError(ErrorCode::InvalidArgument, "quality level " + std::to_string(options.level) + " is out of range 0.." + std::to_string(c.levels - 1));
  const size_t perChannel = static_cast<size_t>(sampleRate_ / 50);
  const size_t bytesPerSample = frame.format == SampleFormat::F32le ? 4 : 2;
  const size_t expected = perChannel * channels_ * bytesPerSample;
  if (frame.data == nullptr || frame.length != expected) {
    throw CoreError(ErrorCode::InvalidArgument, "a 20 ms frame of " + std::to_string(sampleRate_) + " Hz x " + std::to_string(channels_) + (bytesPerSample == 4 ? " f32le" : " s16le") +
                                                    " needs " + std::to_string(expected) + " bytes, got " + std::to_string(frame.length));
  }
  auto t0 = Clock::now();
  std::vector<std::vector<float>> modelRate(channels_);
  std::vector<float> mono(c.spectralFill ? perChannel : 0, 0.0f);
  std::vector<std::vector<float>> input(channels_, std::vector<float>(perChannel));
  for (int ch = 0; ch < channels_; ++ch) {
    std::vector<float>& x = input[ch];
    for (size_t i = 0; i < perChannel; ++i) {
      const uint8_t* p = frame.data + (i * channels_ + ch) * bytesPerSample;
      float v;
      if (bytesPerSample == 4) {
        std::memcpy(&v, p, 4);
        if (!std::isfinite(v)) throw CoreError(ErrorCode::InvalidArgument, "audio samples must be finite numbers (found NaN or infinity)");
        v = std::clamp(v, -1.0f, 1.0f);
      } else {
        int16_t s;
        std::memcpy(&s, p, 2);
        v = s / 32768.0f;
      }
      x[i] = v;
    }
  }
  // Stereo of a spectral-fill model is coded as mid and side (docs/bitstream.md): the channels of
  // most stereo are close, and their difference quantises mostly to zero.
  sideSilent_ = false;
  if (channels_ == 2 && c.spectralFill) {
    midSide(input[0], input[1]);
    sideSilent_ = std::all_of(input[1].begin(), input[1].end(), [](float v) { return v == 0.0f; });
  }
  for (int ch = 0; ch < channels_; ++ch) {
    std::vector<float>& x = input[ch];
    resamplers_[ch].process(x.data(), x.size(), modelRate[ch]);
    if (!highBands_.empty()) highBands_[ch].analyse(x.data(), highBandLevels_[ch].data());
    for (size_t i = 0; i < mono.size(); ++i) mono[i] += x[i] / static_cast<float>(channels_);
  }
  // The detector follows every frame (its noise floor needs the speech too); a stream's first
  // frame is never a descriptor (the receiver has nothing to continue from).
  const bool background = c.spectralFill && detector_.background(mono.data(), mono.size());
  silence_ = options.dtx && background && framesEncoded_ > 0;
  timings.preprocessMs = msSince(t0);
  return modelRate;
}

std::vector<uint8_t> AudioEncoderStream::finish(std::vector<std::vector<int32_t>>& symbols, const AudioFrame& frame, const AudioEncodeOptions& options, Timings& timings,
                                                PayloadHeader* header) {
  const auto& c = codec_->config();
  const size_t perChannel = static_cast<size_t>(sampleRate_ / 50);
  auto t2 = Clock::now();
  std::vector<uint8_t> body;
  std::vector<std::vector<uint8_t>> coded(channels_);
  const int highBands = c.spectralFill ? audio::HighBand::bandsAt(sampleRate_) : 0;
  for (int ch = 0; ch < channels_; ++ch) {
    if (symbols[ch].size() != static_cast<size_t>(c.symbolCount())) throw std::logic_error("audio encoder: a channel's symbols have the wrong count");
    if (highBands) std::copy(highBandLevels_[ch].begin(), highBandLevels_[ch].begin() + highBands, symbols[ch].begin() + c.highBandAt());
    if (silence_) audio::SilenceDescriptor::write(symbols[ch].data() + c.silenceAt(), symbols[ch].data() + c.highBandAt(), highBands, coded[ch]);
    else if (ch == 1 && sideSilent_) {
      // A silent side: an empty part, and the symbols the decoder assumes for one (the shadow
      // decoder then reconstructs what the receiver will).
      codec_->silentChannelSymbols(symbols[ch].data());
      coded[ch].clear();
    }
    else coded[ch] = codec_->encodeChannel(symbols[ch].data(), options.level, highBands);
  }
  appendParts(body, coded);
  PayloadHeader h;
  h.frameType = FrameType::Audio;
  h.codec = CodecKind::NeuralAudio;
  h.flags = static_cast<uint8_t>((options.sequence == 0 ? kFlagKeyframe : 0) | (silence_ ? kFlagSilence : 0));
  h.qualityLevel = static_cast<uint8_t>(options.level);
  h.format = static_cast<uint8_t>(frame.format);
  h.modelId = codec_->modelId();
  h.sequence = options.sequence;
  h.dim0 = static_cast<uint32_t>(sampleRate_);
  h.dim1 = (static_cast<uint32_t>(channels_) << 16) | static_cast<uint32_t>(perChannel);
  h.timestamp = options.timestamp;
  // Counted per stream, not by sequence number: a session numbers all its frames, audio or not.
  const bool full = framesEncoded_++ % kFullHeaderInterval == 0;
  // The compact form when the receiver can derive the timestamp: it advanced 20 ms per sequence
  // number since the last frame sent with one (a live stream's clock), or stayed put (none given).
  uint64_t step = 1;  // 1: follows neither rule
  if (timed_) {
    const int64_t frames = static_cast<int32_t>(options.sequence - timedSequence_);
    if (frames > 0 && options.timestamp == timedTimestamp_ + kCompactAudioStepUs * static_cast<uint64_t>(frames)) step = kCompactAudioStepUs;
    else if (options.timestamp == timedTimestamp_) step = 0;
  }
  const bool compact = !full && step != 1 && explicitRun_ == 0 && options.level <= 7;
  std::vector<uint8_t> payload;
  if (full) payload = writePayload(h, body.data(), body.size());
  else if (compact) payload = writeCompactAudioPayload(h, body.data(), body.size(), step);
  else payload = writeShortAudioPayload(h, body.data(), body.size());
  if (!compact) {
    // A frame with its timestamp: the next compact frames count from it. When it broke the rules,
    // the next two carry theirs as well (one of them may be lost).
    if (timed_ && step == 1) explicitRun_ = 2;
    else if (explicitRun_ > 0) --explicitRun_;
    timed_ = true;
    timedSequence_ = options.sequence;
    timedTimestamp_ = options.timestamp;
  }
  if (header) *header = h;
  timings.postprocessMs = msSince(t2);
  return payload;
}

AudioDecoderStream::AudioDecoderStream(std::shared_ptr<const AudioCodec> codec) : codec_(std::move(codec)) {}

void AudioDecoderStream::configure(int sampleRate, int channels, SampleFormat format) {
  if (sampleRate == sampleRate_ && channels == channels_ && format == format_) return;
  sampleRate_ = sampleRate;
  channels_ = channels;
  format_ = format;
  const auto& c = codec_->config();
  state_.assign(channels, std::vector<float>(c.frameSamples, 0.0f));
  lastLatent_.assign(channels, std::vector<float>(c.bins, 0.0f));
  resamplers_.clear();
  for (int ch = 0; ch < channels; ++ch) resamplers_.push_back(fromModel(sampleRate, c.sampleRate));
  highBands_.clear();
  if (c.spectralFill && audio::HighBand::bandsAt(sampleRate) > 0) {
    // The core's output trails its input by one frame (the overlap, which the high band has too)
    // plus the resamplers' delay, which the high band makes up in a delay line.
    const int delay = codec_->streamDelay(sampleRate) - sampleRate / 50;
    for (int ch = 0; ch < channels; ++ch) highBands_.emplace_back(sampleRate, delay);
  }
  highBandLevels_.assign(channels, std::vector<int32_t>(audio::HighBand::kMaxBands, audio::HighBand::kMinLevel));
  highBandGain_ = 1.0f;
  comfortNoise_ = false;
  comfortLevels_.assign(channels, std::vector<int32_t>(audio::NoiseFill::kBands, audio::SilenceDescriptor::kNone));
}

std::vector<std::vector<float>> AudioDecoderStream::comfortLatents(uint32_t sequence) const {
  std::vector<std::vector<float>> latents(channels_, std::vector<float>(codec_->config().bins, 0.0f));
  for (int ch = 0; ch < channels_; ++ch) audio::SilenceDescriptor::comfortNoise(comfortLevels_[ch].data(), audio::NoiseFill::seedOf(sequence, ch), latents[ch].data());
  return latents;
}

void AudioDecoderStream::keepHighBand(const std::vector<std::vector<int32_t>>& symbols) {
  const auto& c = codec_->config();
  highBandGain_ = 1.0f;
  if (highBands_.empty()) return;
  const int bands = audio::HighBand::bandsAt(sampleRate_);
  for (int ch = 0; ch < channels_; ++ch)
    std::copy(symbols[ch].begin() + c.highBandAt(), symbols[ch].begin() + c.highBandAt() + bands, highBandLevels_[ch].begin());
}

std::vector<std::vector<float>> AudioDecoderStream::latentsOf(const uint8_t* payload, size_t length, Timings& timings) {
  const auto& c = codec_->config();
  auto t0 = Clock::now();
  ParsedPayload parsed = parsePayload(payload, length);
  PayloadHeader& h = parsed.header;
  if (h.codec != CodecKind::NeuralAudio) throw CoreError(ErrorCode::InvalidArgument, "payload is not a neural audio payload");
  const bool otherModel = parsed.shortAudio ? parsed.modelTag != modelTag(codec_->modelId()) : h.modelId != codec_->modelId();
  if (otherModel) throw CoreError(ErrorCode::ModelMismatch, "payload was coded by another model than '" + c.name + "@" + c.version + "'; decode it with the model that coded it");
  if (parsed.shortAudio) {
    if (!shortAudioCrcMatches(payload, length, codec_->modelId())) throw CoreError(ErrorCode::CorruptPayload, "payload CRC mismatch: the bytes were altered in transit");
    h.modelId = codec_->modelId();
    if (anchored_) {
      h.sequence = static_cast<uint32_t>(extendFrom(last_.sequence, h.sequence, 16));
      if (!parsed.compactAudio) h.timestamp = extendFrom(last_.timestamp, h.timestamp, 32);
    }
    if (parsed.compactAudio) {
      // From the last frame that carried its timestamp (0 before there was one).
      const int64_t frames = static_cast<int32_t>(h.sequence - timedSequence_);
      const int64_t t = static_cast<int64_t>(timedTimestamp_) + static_cast<int64_t>(parsed.compactStep) * frames;
      h.timestamp = timed_ && t > 0 ? static_cast<uint64_t>(t) : 0;
    }
  }
  if (!parsed.compactAudio) {
    timed_ = true;
    timedSequence_ = h.sequence;
    timedTimestamp_ = h.timestamp;
  }
  const int rate = static_cast<int>(h.dim0), channels = static_cast<int>(h.dim1 >> 16);
  const size_t perChannel = h.dim1 & 0xFFFF;
  if (!supportedAudioRate(rate) || channels < 1 || channels > 2 || perChannel != static_cast<size_t>(rate / 50) || h.format > 1) {
    throw CoreError(ErrorCode::CorruptPayload, "payload header describes an impossible audio frame");  // parsePayload() refuses these already
  }
  if (h.qualityLevel >= c.levels) {
    throw CoreError(ErrorCode::CorruptPayload, "payload header field quality level is " + std::to_string(h.qualityLevel) + " (allowed: 0.." + std::to_string(c.levels - 1) +
                                                   ", the model's levels); the payload is corrupt");
  }
  configure(rate, channels, static_cast<SampleFormat>(h.format));
  // One coded stream per channel.
  const auto parts = splitParts(parsed.body, parsed.bodyLength, channels, "audio channel");
  const int highBands = c.spectralFill ? audio::HighBand::bandsAt(rate) : 0;
  if (h.flags & kFlagSilence) {
    if (!c.spectralFill) throw CoreError(ErrorCode::CorruptPayload, "payload is a silence descriptor, which this model does not have; the payload is corrupt");
    for (int ch = 0; ch < channels; ++ch) {
      if (!audio::SilenceDescriptor::read(parts[ch].first, parts[ch].second, highBands, comfortLevels_[ch].data(), highBandLevels_[ch].data()))
        throw CoreError(ErrorCode::CorruptPayload, "audio payload's silence descriptor does not parse; the payload is corrupt");
    }
    timings.preprocessMs = msSince(t0);
    return comfortFrame(h, !parsed.shortAudio);
  }
  comfortNoise_ = false;
  std::vector<std::vector<float>> latents(channels, std::vector<float>(c.bins));
  std::vector<std::vector<int32_t>> symbols(channels, std::vector<int32_t>(c.symbolCount()));
  for (int ch = 0; ch < channels; ++ch) {
    if (ch == 1 && channels == 2 && c.spectralFill && parts[ch].second == 0) {
      codec_->silentChannelSymbols(symbols[ch].data());  // a silent side (stereo as mid/side, L = R)
    } else if (!codec_->decodeChannel(parts[ch].first, parts[ch].second, h.qualityLevel, highBands, symbols[ch].data())) {
      throw CoreError(ErrorCode::CorruptPayload, "audio payload's coded data does not decode; the payload is corrupt");
    }
    if (!codec_->dequantise(symbols[ch].data(), h.qualityLevel, latents[ch], audio::NoiseFill::seedOf(h.sequence, ch)))
      throw CoreError(ErrorCode::CorruptPayload, "audio payload's coded data does not decode; the payload is corrupt");
  }
  keepHighBand(symbols);
  timings.preprocessMs = msSince(t0);
  return settle(h, !parsed.shortAudio, std::move(latents));
}

std::vector<std::vector<float>> AudioDecoderStream::latentsOfCoded(const PayloadHeader& h, const std::vector<std::vector<int32_t>>& symbols, Timings& timings) {
  const auto& c = codec_->config();
  auto t0 = Clock::now();
  const int rate = static_cast<int>(h.dim0), channels = static_cast<int>(h.dim1 >> 16);
  if (h.codec != CodecKind::NeuralAudio || h.modelId != codec_->modelId() || !supportedAudioRate(rate) || channels < 1 || channels > 2 ||
      symbols.size() != static_cast<size_t>(channels) || h.qualityLevel >= c.levels || h.format > 1) {
    throw std::logic_error("latentsOfCoded(): the header and symbols are not those of this model's payload");
  }
  configure(rate, channels, static_cast<SampleFormat>(h.format));
  if (h.flags & kFlagSilence) {
    // What finish() wrote: the descriptor's levels as the receiver reads them back.
    const int bands = audio::HighBand::bandsAt(rate);
    for (int ch = 0; ch < channels; ++ch) {
      if (symbols[ch].size() != static_cast<size_t>(c.symbolCount())) throw std::logic_error("latentsOfCoded(): symbols out of the model's range");
      std::copy(symbols[ch].begin() + c.silenceAt(), symbols[ch].begin() + c.silenceAt() + audio::NoiseFill::kBands, comfortLevels_[ch].begin());
      std::copy(symbols[ch].begin() + c.highBandAt(), symbols[ch].begin() + c.highBandAt() + bands, highBandLevels_[ch].begin());
    }
    timings.preprocessMs = msSince(t0);
    return comfortFrame(h, true);
  }
  comfortNoise_ = false;
  std::vector<std::vector<float>> latents(channels, std::vector<float>(c.bins));
  for (int ch = 0; ch < channels; ++ch) {
    if (symbols[ch].size() != static_cast<size_t>(c.symbolCount()) ||
        !codec_->dequantise(symbols[ch].data(), h.qualityLevel, latents[ch], audio::NoiseFill::seedOf(h.sequence, ch))) {
      throw std::logic_error("latentsOfCoded(): symbols out of the model's range");
    }
  }
  keepHighBand(symbols);
  timings.preprocessMs = msSince(t0);
  return settle(h, true, std::move(latents));
}

std::vector<std::vector<float>> AudioDecoderStream::comfortFrame(const PayloadHeader& h, bool anchor) {
  comfortNoise_ = true;
  highBandGain_ = 1.0f;
  return settle(h, anchor, comfortLatents(h.sequence));
}

std::vector<std::vector<float>> AudioDecoderStream::settle(const PayloadHeader& h, bool anchor, std::vector<std::vector<float>> latents) {
  frameSeed_ = audio::NoiseFill::seedOf(h.sequence, 0);
  last_ = h;
  anchored_ = anchored_ || anchor;
  lastLatent_ = latents;
  return latents;
}

AudioDecoderStream::Result AudioDecoderStream::decode(const uint8_t* payload, size_t length, Timings& timings) {
  const auto latents = latentsOf(payload, length, timings);
  return synthesiseAll(latents, timings);
}

AudioDecoderStream::Result AudioDecoderStream::conceal(Timings& timings) {
  if (channels_ == 0) throw CoreError(ErrorCode::InvalidArgument, "nothing to conceal from: no audio frame of this stream was decoded yet");
  timings.preprocessMs = 0;
  frameSeed_ = audio::NoiseFill::seedOf(last_.sequence + 1, 0);
  if (comfortNoise_) {
    // In a silence run the sender sends one descriptor in N: more comfort noise, not a fade.
    lastLatent_ = comfortLatents(last_.sequence + 1);
  } else {
    // The last frame's coefficients again, 3 dB down for every frame lost in a row. Halving them
    // (v1 and 2.0.0) emptied the spectrum too soon: on 4 LJ Speech clips at level 4
    // (bench/audio-loss.mjs --audio ../shared/data/speech/ljspeech --limit 4) STOI 0.931 -> 0.933
    // at 20 % random loss and 0.822 -> 0.843 with 20 % in bursts (LSD 6.23 -> 6.06 dB there, 5.54
    // -> 5.58 at 20 % random). Random signs above 1 or 2 kHz (a noise substitution) were no better
    // on VCTK, where this was first tried.
    for (auto& l : lastLatent_)
      for (auto& v : l) v *= kConcealGain;
    highBandGain_ *= kConcealGain;
  }
  Result r = synthesiseAll(lastLatent_, timings);
  r.concealed = true;
  r.header.sequence = ++last_.sequence;
  return r;
}

AudioDecoderStream::Result AudioDecoderStream::synthesiseAll(const std::vector<std::vector<float>>& latents, Timings& timings) {
  const auto& c = codec_->config();
  auto t1 = Clock::now();
  std::vector<std::vector<float>> modelRate(channels_, std::vector<float>(c.frameSamples));
  for (int ch = 0; ch < channels_; ++ch) codec_->synthesise(latents[ch], state_[ch], modelRate[ch].data());
  timings.inferenceMs = msSince(t1);
  return output(modelRate, timings);
}

AudioDecoderStream::Result AudioDecoderStream::output(std::vector<std::vector<float>>& modelRate, Timings& timings) {
  auto t2 = Clock::now();
  Result r;
  r.header = last_;
  r.comfortNoise = comfortNoise_;
  r.sampleRate = sampleRate_;
  r.channels = channels_;
  r.format = format_;
  const size_t perChannel = static_cast<size_t>(sampleRate_ / 50);
  const size_t bps = format_ == SampleFormat::F32le ? 4 : 2;
  r.pcm.resize(perChannel * channels_ * bps);
  std::vector<std::vector<float>> outs(channels_);
  for (int ch = 0; ch < channels_; ++ch) {
    std::vector<float>& out = outs[ch];
    resamplers_[ch].process(modelRate[ch].data(), modelRate[ch].size(), out);
    out.resize(perChannel, 0.0f);
    if (!highBands_.empty()) highBands_[ch].synthesise(highBandLevels_[ch].data(), highBandGain_, frameSeed_ + static_cast<uint32_t>(ch) * 0x9E3779B9u, out.data());
  }
  if (channels_ == 2 && codec_->config().spectralFill) fromMidSide(outs[0], outs[1]);
  for (int ch = 0; ch < channels_; ++ch) {
    const std::vector<float>& out = outs[ch];
    for (size_t i = 0; i < perChannel; ++i) {
      float v = std::clamp(out[i], -1.0f, 1.0f);
      uint8_t* p = r.pcm.data() + (i * channels_ + ch) * bps;
      if (bps == 4) {
        std::memcpy(p, &v, 4);
      } else {
        int16_t s = static_cast<int16_t>(std::lround(v * 32767.0f));
        std::memcpy(p, &s, 2);
      }
    }
  }
  timings.postprocessMs = msSince(t2);
  return r;
}

}  // namespace aic
