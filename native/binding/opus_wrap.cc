#include "opus_wrap.h"

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "audio_score_wrap.h"
#include "codec_common.h"
#include "job.h"
#include "common/errors.h"

namespace aic::js {

namespace {

enum class Pcm { S16le, F32le };

Pcm parsePcm(Napi::Env env, Napi::Value v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "s16le") return Pcm::S16le;
  if (s == "f32le") return Pcm::F32le;
  throwInvalid(env, "audio format must be 's16le' or 'f32le'");
}

// A decoded sample as the s16le PCM a receiver gets (OpusDecodeJob), and as the try scores it.
int16_t toS16(float v) { return static_cast<int16_t>(std::round(std::max(-1.0f, std::min(1.0f, v)) * 32767.0f)); }

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// encode({ data, format }, { bitrate, vbr, application }) -> { packet, ms }
class OpusEncodeJob : public Job {
 public:
  OpusEncodeJob(Napi::Env env, std::shared_ptr<LockedOpusEncoder> s, const Napi::CallbackInfo& info) : s_(std::move(s)) {
    if (!info[0].IsObject()) throwInvalid(env, "audio frame must be an object { data, format }");
    Napi::Object f = info[0].As<Napi::Object>();
    const Pcm format = parsePcm(env, f.Get("format"));
    // Read after every getter of the frame, so that none can detach the memory before it is copied.
    uint8_t* data;
    size_t length;
    memoryOf(env, f.Get("data"), "frame.data", data, length);
    // Copied (a 20 ms frame is small), so that the caller may reuse its buffer at once.
    if (format == Pcm::F32le) {
      pcm_.resize(length / 4);
      std::memcpy(pcm_.data(), data, pcm_.size() * 4);
    } else {
      pcm_.resize(length / 2);
      for (size_t i = 0; i < pcm_.size(); ++i) {
        int16_t v;
        std::memcpy(&v, data + 2 * i, 2);
        pcm_[i] = static_cast<float>(v) / 32768.0f;
      }
    }
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    settings_.bitrate = intField(env, o, "bitrate", "options", 6000, 510000);
    settings_.vbr = o.Get("vbr").IsUndefined() ? true : o.Get("vbr").ToBoolean().Value();
    Napi::Value app = o.Get("application");
    std::string a = app.IsString() ? app.As<Napi::String>().Utf8Value() : "voip";
    if (a != "voip" && a != "audio") throwInvalid(env, "options.application must be 'voip' or 'audio'");
    settings_.application = a == "voip" ? opus::Application::Voip : opus::Application::Audio;
  }
  void execute() override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    const auto t = std::chrono::steady_clock::now();
    packet_ = s_->stream->encode(pcm_.data(), pcm_.size(), settings_);
    ms_ = msSince(t);
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("packet", lendVector(env, std::move(packet_)));
    o.Set("ms", ms_);
    return o;
  }

 protected:
  const std::vector<uint8_t>& packet() const { return packet_; }
  const std::vector<float>& input() const { return pcm_; }
  int encoderChannels() const { return s_->stream->channels(); }
  void addMs(double ms) { ms_ += ms; }

 private:
  std::shared_ptr<LockedOpusEncoder> s_;
  std::vector<float> pcm_;
  opus::EncoderSettings settings_;
  std::vector<uint8_t> packet_;
  double ms_ = 0;
};

// decode(packet, format) -> { data, ms }
class OpusDecodeJob : public Job {
 public:
  // conceal: a frame for a packet that never arrived (info[0] is then the format).
  OpusDecodeJob(Napi::Env env, std::shared_ptr<LockedOpusDecoder> s, const Napi::CallbackInfo& info, bool conceal = false) : s_(std::move(s)), conceal_(conceal) {
    if (conceal) {
      format_ = parsePcm(env, info[0]);
      return;
    }
    uint8_t* data;
    size_t length;
    memoryOf(env, info[0], "packet", data, length);
    packet_.assign(data, data + length);
    format_ = parsePcm(env, info[1]);
  }
  void execute() override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    const auto t = std::chrono::steady_clock::now();
    std::vector<float> pcm = conceal_ ? s_->stream->conceal() : s_->stream->decode(packet_.data(), packet_.size());
    if (format_ == Pcm::F32le) {
      out_.resize(pcm.size() * 4);
      std::memcpy(out_.data(), pcm.data(), out_.size());
    } else {
      out_.resize(pcm.size() * 2);
      for (size_t i = 0; i < pcm.size(); ++i) {
        const int16_t s = toS16(pcm[i]);
        std::memcpy(out_.data() + 2 * i, &s, 2);
      }
    }
    ms_ = msSince(t);
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", lendVector(env, std::move(out_)));
    o.Set("ms", ms_);
    return o;
  }

 private:
  std::shared_ptr<LockedOpusDecoder> s_;
  bool conceal_ = false;
  std::vector<uint8_t> packet_;
  Pcm format_ = Pcm::S16le;
  std::vector<uint8_t> out_;
  double ms_ = 0;
};

// tryScored(frame, options, shadowDecoder, scoreWindow, pending, exactPrefix)
//   -> { packet, ms, measured, pending }
// One try of the Opus fallback ladder (src/session/audio-fallback.ts) as one job off the JS
// thread: encode at the given rate, decode with the sender's shadow decoder in the frame's format
// (the receiver plays s16le as s16), and push input and output (mono, the output after the
// samples still pending from the last frame) into the score window. `pending` is what the shadow
// decoded past this frame's end (Opus trails the input by less than the window does); the result's
// `pending` is the same after this try. Two hops and two window updates on the JS thread before.
class OpusScoredTryJob : public OpusEncodeJob {
 public:
  OpusScoredTryJob(Napi::Env env, std::shared_ptr<LockedOpusEncoder> s, const Napi::CallbackInfo& info) : OpusEncodeJob(env, std::move(s), info) {
    if (!hasTypeTag(info[2], OpusDecoderWrap::kTypeTag) || !hasTypeTag(info[3], AudioScoreWindowWrap::kTypeTag)) {
      throwInvalid(env, "tryScored() needs the shadow Opus decoder stream and the score window");
    }
    shadow_ = OpusDecoderWrap::Unwrap(info[2].As<Napi::Object>())->stream();
    window_ = AudioScoreWindowWrap::Unwrap(info[3].As<Napi::Object>())->shared();
    auto pending = monoSamples(info, 4, "pending");
    pending_.assign(pending.Data(), pending.Data() + pending.ElementLength());
    exactPrefix_ = static_cast<size_t>(intArg(info, 5, "exactPrefix", 0, 1 << 20));
    s16_ = info[0].As<Napi::Object>().Get("format").As<Napi::String>().Utf8Value() == "s16le";
  }
  void execute() override {
    OpusEncodeJob::execute();
    const int channels = encoderChannels();
    std::vector<float> pcm;
    {
      std::lock_guard<std::mutex> lock(shadow_->mutex);
      const auto t = std::chrono::steady_clock::now();
      pcm = shadow_->stream->decode(packet().data(), packet().size());
      addMs(msSince(t));
    }
    const size_t n = input().size() / static_cast<size_t>(channels);
    std::vector<float> reference(n), joined(pending_);
    joined.reserve(pending_.size() + pcm.size() / static_cast<size_t>(channels));
    for (size_t i = 0; i < n; ++i) {
      float sum = 0;
      for (int c = 0; c < channels; ++c) sum += input()[i * channels + c];
      reference[i] = sum / channels;
    }
    for (size_t i = 0; i + channels <= pcm.size(); i += static_cast<size_t>(channels)) {
      float sum = 0;
      for (int c = 0; c < channels; ++c) {
        float v = pcm[i + c];
        // What the receiver plays: s16le output as OpusDecodeJob writes it.
        if (s16_) v = toS16(v) / 32768.0f;
        sum += v;
      }
      joined.push_back(sum / channels);
    }
    if (joined.size() < n) throw std::logic_error("Opus shadow decoder returned fewer samples than the frame holds");
    if (exactPrefix_ > n) throw CoreError(ErrorCode::InvalidArgument, "exactPrefix must be at most the frame's samples");
    quality_ = window_->pushWithExactPrefix(reference.data(), joined.data(), n, exactPrefix_);
    rest_.assign(joined.begin() + static_cast<std::ptrdiff_t>(n), joined.end());
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = OpusEncodeJob::toJs(env).As<Napi::Object>();
    o.Set("measured", AudioScoreWindowWrap::toJs(env, quality_));
    auto rest = Napi::Float32Array::New(env, rest_.size());
    std::copy(rest_.begin(), rest_.end(), rest.Data());
    o.Set("pending", rest);
    return o;
  }

 private:
  std::shared_ptr<LockedOpusDecoder> shadow_;
  std::shared_ptr<metrics::AudioScoreWindow> window_;
  std::vector<float> pending_, rest_;
  size_t exactPrefix_ = 0;
  bool s16_ = true;
  metrics::AudioQuality quality_;
};

}  // namespace

Napi::Function OpusEncoderWrap::Init(Napi::Env env) {
  return DefineClass(env, "OpusEncoderStream",
                     {InstanceMethod<&OpusEncoderWrap::Encode>("encode"), InstanceMethod<&OpusEncoderWrap::EncodeSync>("encodeSync"),
                      InstanceMethod<&OpusEncoderWrap::Mark>("mark"), InstanceMethod<&OpusEncoderWrap::Rewind>("rewind"),
                      InstanceMethod<&OpusEncoderWrap::Reset>("reset"), InstanceAccessor<&OpusEncoderWrap::DelaySamples>("delaySamples"),
                      InstanceMethod<&OpusEncoderWrap::TryScored>("tryScored")});
}

// new OpusEncoderStream(sampleRate, channels, application: 'voip' | 'audio')
OpusEncoderWrap::OpusEncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OpusEncoderWrap>(info) {
  Napi::Env env = info.Env();
  const int rate = intArg(info, 0, "sampleRate", 1, 384000), channels = intArg(info, 1, "channels", 1, 64);
  std::string a = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "voip";
  if (a != "voip" && a != "audio") throwInvalid(env, "application must be 'voip' or 'audio'");
  s_ = std::make_shared<LockedOpusEncoder>();
  s_->stream = guard(env, [&] { return std::make_unique<opus::Encoder>(rate, channels, a == "voip" ? opus::Application::Voip : opus::Application::Audio); });
}

Napi::Value OpusEncoderWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:opusEncode", guard(env, [&] { return std::make_unique<OpusEncodeJob>(env, s_, info); }));
}
Napi::Value OpusEncoderWrap::TryScored(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:opusTryScored", guard(env, [&] { return std::make_unique<OpusScoredTryJob>(env, s_, info); }));
}
Napi::Value OpusEncoderWrap::EncodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<OpusEncodeJob>(env, s_, info); }));
}
Napi::Value OpusEncoderWrap::Mark(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  guard(info.Env(), [&] { s_->stream->mark(); });
  return info.Env().Undefined();
}
Napi::Value OpusEncoderWrap::Rewind(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  guard(info.Env(), [&] { s_->stream->rewind(); });
  return info.Env().Undefined();
}
Napi::Value OpusEncoderWrap::Reset(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  guard(info.Env(), [&] { s_->stream->reset(); });
  return info.Env().Undefined();
}
Napi::Value OpusEncoderWrap::DelaySamples(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  return Napi::Number::New(info.Env(), s_->stream->delaySamples());
}

Napi::Function OpusDecoderWrap::Init(Napi::Env env) {
  return DefineClass(env, "OpusDecoderStream",
                     {InstanceMethod<&OpusDecoderWrap::Decode>("decode"), InstanceMethod<&OpusDecoderWrap::DecodeSync>("decodeSync"),
                      InstanceMethod<&OpusDecoderWrap::Mark>("mark"), InstanceMethod<&OpusDecoderWrap::Rewind>("rewind"),
                      InstanceMethod<&OpusDecoderWrap::Reset>("reset"), InstanceMethod<&OpusDecoderWrap::Conceal>("conceal")});
}

// new OpusDecoderStream(sampleRate, channels)
OpusDecoderWrap::OpusDecoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OpusDecoderWrap>(info) {
  Napi::Env env = info.Env();
  const int rate = intArg(info, 0, "sampleRate", 1, 384000), channels = intArg(info, 1, "channels", 1, 64);
  s_ = std::make_shared<LockedOpusDecoder>();
  s_->stream = guard(env, [&] { return std::make_unique<opus::Decoder>(rate, channels); });
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

const napi_type_tag OpusDecoderWrap::kTypeTag = {0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL};

Napi::Value OpusDecoderWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:opusDecode", guard(env, [&] { return std::make_unique<OpusDecodeJob>(env, s_, info); }));
}
// conceal(format): libopus's concealment of a frame that never arrived.
Napi::Value OpusDecoderWrap::Conceal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:opusConceal", guard(env, [&] { return std::make_unique<OpusDecodeJob>(env, s_, info, true); }));
}
Napi::Value OpusDecoderWrap::DecodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<OpusDecodeJob>(env, s_, info); }));
}
Napi::Value OpusDecoderWrap::Mark(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  guard(info.Env(), [&] { s_->stream->mark(); });
  return info.Env().Undefined();
}
Napi::Value OpusDecoderWrap::Rewind(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  guard(info.Env(), [&] { s_->stream->rewind(); });
  return info.Env().Undefined();
}
Napi::Value OpusDecoderWrap::Reset(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(s_->mutex);
  guard(info.Env(), [&] { s_->stream->reset(); });
  return info.Env().Undefined();
}

}  // namespace aic::js
