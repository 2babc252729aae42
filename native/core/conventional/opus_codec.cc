#include "conventional/opus_codec.h"

#include <opus.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <cstring>
#include <string>

#include "common/errors.h"

namespace aic::opus {

namespace {

OpusEncoder* enc(std::vector<uint8_t>& s) { return reinterpret_cast<OpusEncoder*>(s.data()); }
OpusDecoder* dec(std::vector<uint8_t>& s) { return reinterpret_cast<OpusDecoder*>(s.data()); }

void checkFormat(int rate, int channels) {
  if (!supportedRate(rate)) throw CoreError(ErrorCode::InvalidArgument, "Opus streams take 8000, 16000, 32000 or 48000 Hz, got " + std::to_string(rate));
  if (channels != 1 && channels != 2) throw CoreError(ErrorCode::InvalidArgument, "Opus streams take 1 or 2 channels, got " + std::to_string(channels));
}

// 32 kHz <-> 48 kHz through 96 kHz with the project's integer-factor resampler.
void to48(std::vector<Resampler>& r, const float* in, size_t frames, int channels, std::vector<float>& out) {
  out.assign(frames * 3 / 2 * channels, 0.0f);
  std::vector<float> mono(frames), up, down;
  for (int c = 0; c < channels; ++c) {
    for (size_t i = 0; i < frames; ++i) mono[i] = in[i * channels + c];
    up.clear();
    down.clear();
    r[2 * c].process(mono.data(), frames, up);
    r[2 * c + 1].process(up.data(), up.size(), down);
    for (size_t i = 0; i < down.size() && i < frames * 3 / 2; ++i) out[i * channels + c] = down[i];
  }
}

void from48(std::vector<Resampler>& r, const float* in, size_t frames, int channels, std::vector<float>& out) {
  out.assign(frames * 2 / 3 * channels, 0.0f);
  std::vector<float> mono(frames), up, down;
  for (int c = 0; c < channels; ++c) {
    for (size_t i = 0; i < frames; ++i) mono[i] = in[i * channels + c];
    up.clear();
    down.clear();
    r[2 * c].process(mono.data(), frames, up);
    r[2 * c + 1].process(up.data(), up.size(), down);
    for (size_t i = 0; i < down.size() && i < frames * 2 / 3; ++i) out[i * channels + c] = down[i];
  }
}

}  // namespace

int coderRate(int streamRate) { return streamRate == 32000 ? 48000 : streamRate; }
bool supportedRate(int rate) { return rate == 8000 || rate == 16000 || rate == 32000 || rate == 48000; }

Encoder::Encoder(int sampleRate, int channels, Application application)
    : rate_(sampleRate), channels_(channels), coderRate_(coderRate(sampleRate)), application_(application) {
  checkFormat(sampleRate, channels);
  state_.resize(static_cast<size_t>(opus_encoder_get_size(channels)));
  reset();
}

Encoder::~Encoder() = default;

void Encoder::reset() {
  const int app = application_ == Application::Voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO;
  if (opus_encoder_init(enc(state_), coderRate_, channels_, app) != OPUS_OK) throw CoreError(ErrorCode::InvalidArgument, "opus_encoder_init failed");
  appliedValid_ = false;
  up_.clear();
  if (rate_ == 32000) {
    for (int c = 0; c < channels_; ++c) {
      up_.emplace_back(3, false);
      up_.emplace_back(2, true);
    }
  }
}

int Encoder::delaySamples() const {
  opus_int32 lookahead = 0;
  opus_encoder_ctl(reinterpret_cast<OpusEncoder*>(const_cast<uint8_t*>(state_.data())), OPUS_GET_LOOKAHEAD(&lookahead));
  if (rate_ != 32000) return lookahead;
  // 32 kHz: the resamplers' group delays (up 3 then down 2 here, up 2 then down 3 in the
  // decoder) plus the lookahead, in 32 kHz samples: 36/3 + 12*2/3 + lookahead*2/3 + 24/3 + 12.
  Resampler u3(3, false), d2(2, true), u2(2, false), d3(3, true);
  const double s48 = u3.delay() / 2.0 + d2.delay() + lookahead + u2.delay() / 2.0;
  return static_cast<int>(std::lround(s48 * 2.0 / 3.0)) + d3.delay();
}

std::vector<uint8_t> Encoder::encode(const float* pcm, size_t samples, const EncoderSettings& s) {
  const size_t frame = static_cast<size_t>(frameSamples());
  if (samples != frame * channels_) throw CoreError(ErrorCode::InvalidArgument, "an Opus frame is 20 ms: " + std::to_string(frame) + " samples per channel");
  if (s.bitrate < 6000 || s.bitrate > 510000) throw CoreError(ErrorCode::InvalidArgument, "Opus bitrate must be 6000..510000 bit/s");
  for (size_t i = 0; i < samples; ++i) {
    if (!std::isfinite(pcm[i])) throw CoreError(ErrorCode::InvalidArgument, "samples must be finite numbers");
  }
  OpusEncoder* e = enc(state_);
  if (!appliedValid_ || applied_.bitrate != s.bitrate) opus_encoder_ctl(e, OPUS_SET_BITRATE(s.bitrate));
  if (!appliedValid_ || applied_.vbr != s.vbr) opus_encoder_ctl(e, OPUS_SET_VBR(s.vbr ? 1 : 0));
  if (!appliedValid_ || applied_.application != s.application) {
    opus_encoder_ctl(e, OPUS_SET_APPLICATION(s.application == Application::Voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO));
  }
  applied_ = s;
  appliedValid_ = true;
  std::vector<float> resampled;
  const float* in = pcm;
  int n = static_cast<int>(frame);
  if (rate_ == 32000) {
    to48(up_, pcm, frame, channels_, resampled);
    in = resampled.data();
    n = coderRate_ / 50;
  }
  std::vector<uint8_t> packet(1275 * 3);
  const int bytes = opus_encode_float(e, in, n, packet.data(), static_cast<opus_int32>(packet.size()));
  if (bytes < 0) throw CoreError(ErrorCode::InvalidArgument, std::string("opus_encode_float: ") + opus_strerror(bytes));
  packet.resize(static_cast<size_t>(bytes));
  return packet;
}

void Encoder::mark() {
  markedState_ = state_;
  markedUp_ = up_;
}

void Encoder::rewind() {
  if (markedState_.empty()) throw CoreError(ErrorCode::InvalidArgument, "Opus encoder: rewind() before mark()");
  state_ = markedState_;
  up_ = markedUp_;
  appliedValid_ = false;
}

Decoder::Decoder(int sampleRate, int channels) : rate_(sampleRate), channels_(channels), coderRate_(coderRate(sampleRate)) {
  checkFormat(sampleRate, channels);
  state_.resize(static_cast<size_t>(opus_decoder_get_size(channels)));
  reset();
}

Decoder::~Decoder() = default;

void Decoder::reset() {
  if (opus_decoder_init(dec(state_), coderRate_, channels_) != OPUS_OK) throw CoreError(ErrorCode::InvalidArgument, "opus_decoder_init failed");
  down_.clear();
  if (rate_ == 32000) {
    for (int c = 0; c < channels_; ++c) {
      down_.emplace_back(2, false);
      down_.emplace_back(3, true);
    }
  }
}

std::vector<float> Decoder::decode(const uint8_t* packet, size_t length) {
  if (packet == nullptr || length == 0) throw CoreError(ErrorCode::CorruptPayload, "empty Opus packet; the payload is corrupt");
  if (length > 1275 * 3) throw CoreError(ErrorCode::CorruptPayload, "Opus packet over 3825 bytes; the payload is corrupt");
  const int frame = coderRate_ / 50;
  const int n = opus_packet_get_nb_samples(packet, static_cast<opus_int32>(length), coderRate_);
  if (n != frame) throw CoreError(ErrorCode::CorruptPayload, n < 0 ? std::string("invalid Opus packet (") + opus_strerror(n) + "); the payload is corrupt" : "Opus packet is not one 20 ms frame; the payload is corrupt");
  std::vector<float> out(static_cast<size_t>(frame) * channels_);
  const std::vector<uint8_t> before(state_);
  const int got = opus_decode_float(dec(state_), packet, static_cast<opus_int32>(length), out.data(), frame, 0);
  if (got != frame) {
    state_ = before;
    throw CoreError(ErrorCode::CorruptPayload, got < 0 ? std::string("Opus packet does not decode (") + opus_strerror(got) + "); the payload is corrupt" : "Opus packet decoded to the wrong length; the payload is corrupt");
  }
  return toStreamRate(out);
}

std::vector<float> Decoder::conceal() {
  const int frame = coderRate_ / 50;
  std::vector<float> out(static_cast<size_t>(frame) * channels_);
  const int got = opus_decode_float(dec(state_), nullptr, 0, out.data(), frame, 0);
  if (got != frame) throw CoreError(ErrorCode::InferenceFailed, std::string("Opus concealment failed (") + opus_strerror(got) + ")");
  return toStreamRate(out);
}

std::vector<float> Decoder::toStreamRate(std::vector<float>& out) {
  for (float& v : out) v = std::isfinite(v) ? std::clamp(v, -1.0f, 1.0f) : 0.0f;
  if (rate_ != 32000) return std::move(out);
  std::vector<float> resampled;
  from48(down_, out.data(), out.size() / static_cast<size_t>(channels_), channels_, resampled);
  // The 48 -> 32 kHz filter rings past full scale on a clipped frame: clamp again after it.
  for (float& v : resampled) v = std::clamp(v, -1.0f, 1.0f);
  return resampled;
}

void Decoder::mark() {
  markedState_ = state_;
  markedDown_ = down_;
}

void Decoder::rewind() {
  if (markedState_.empty()) throw CoreError(ErrorCode::InvalidArgument, "Opus decoder: rewind() before mark()");
  state_ = markedState_;
  down_ = markedDown_;
}

}  // namespace aic::opus
