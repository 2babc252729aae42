#include "audio_codec_wrap.h"

#include <cstring>
#include <stdexcept>

#include "addon_data.h"
#include "audio_score_wrap.h"
#include "codec_common.h"
#include "job.h"
#include "model_wrap.h"

namespace aic::js {

namespace {

SampleFormat parseSampleFormat(Napi::Env env, Napi::Value v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "s16le") return SampleFormat::S16le;
  if (s == "f32le") return SampleFormat::F32le;
  throwInvalid(env, "audio format must be 's16le' or 'f32le'");
}

Napi::Object decodedToJs(Napi::Env env, AudioDecoderStream::Result& r, const Timings& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", lendVector(env, std::move(r.pcm)));
  o.Set("sampleRate", r.sampleRate);
  o.Set("channels", r.channels);
  o.Set("format", r.format == SampleFormat::F32le ? "f32le" : "s16le");
  o.Set("concealed", r.concealed);
  o.Set("header", payloadHeaderToJs(env, r.header));
  o.Set("timings", timingsToJs(env, t));
  return o;
}

class EncodeJob : public Job {
 public:
  EncodeJob(Napi::Env env, std::shared_ptr<LockedEncoder> s, const Napi::CallbackInfo& info) : s_(std::move(s)) {
    if (!info[0].IsObject()) throwInvalid(env, "audio frame must be an object { data, sampleRate, channels, format }");
    Napi::Object f = info[0].As<Napi::Object>();
    auto bytes = copyOf(env, f.Get("data"), "frame.data");  // the worker reads a copy taken now
    frame_.length = bytes.size();
    frame_.data = own(std::move(bytes));
    frame_.sampleRate = intField(env, f, "sampleRate", "frame", 1, 384000);
    frame_.channels = intField(env, f, "channels", "frame", 1, 64);
    frame_.format = parseSampleFormat(env, f.Get("format"));
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    options_.level = intField(env, o, "level", "options", 0, 254);
    if (!o.Get("sequence").IsUndefined()) options_.sequence = static_cast<uint32_t>(intField(env, o, "sequence", "options", 0, 2147483647));
    options_.timestamp = timestampField(env, o, "options", options_.timestamp);
  }
  void execute() override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    payload_ = s_->stream->encode(frame_, options_, timings_);
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("payload", lendVector(env, std::move(payload_)));
    o.Set("timings", timingsToJs(env, timings_));
    return o;
  }

 protected:
  std::shared_ptr<LockedEncoder> s_;
  AudioFrame frame_;
  AudioEncodeOptions options_;
  Timings timings_;
  std::vector<uint8_t> payload_;
};

// Mono float samples of interleaved PCM (the score window measures mono).
std::vector<float> monoOf(const uint8_t* data, size_t length, SampleFormat format, int channels) {
  const size_t width = format == SampleFormat::F32le ? 4 : 2;
  const size_t n = length / width / static_cast<size_t>(channels);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    float sum = 0;
    for (int c = 0; c < channels; ++c) {
      const uint8_t* p = data + (i * channels + c) * width;
      if (format == SampleFormat::F32le) {
        float v;
        std::memcpy(&v, p, 4);
        sum += v;
      } else {
        int16_t v;
        std::memcpy(&v, p, 2);
        sum += v / 32768.0f;
      }
    }
    out[i] = sum / channels;
  }
  return out;
}

// The whole per-frame work of a sending audio session in one job off the JS thread: encode,
// decode the payload with the sender's shadow decoder exactly as the receiver will, and push
// input and output into the score window (after a mark, so the caller can rewind a miss).
class EncodeScoreJob : public EncodeJob {
 public:
  EncodeScoreJob(Napi::Env env, std::shared_ptr<LockedEncoder> s, const Napi::CallbackInfo& info) : EncodeJob(env, std::move(s), info) {
    if (!info[2].IsObject() || !info[3].IsObject()) throwInvalid(env, "encodeAndScore() needs the shadow decoder stream and the score window");
    shadow_ = AudioDecoderWrap::Unwrap(info[2].As<Napi::Object>())->stream;
    window_ = AudioScoreWindowWrap::Unwrap(info[3].As<Napi::Object>())->window();
    pin(info[2]);
    pin(info[3]);
    exact_ = info[4].ToBoolean().Value();
  }
  void execute() override {
    EncodeJob::execute();
    AudioDecoderStream::Result decoded;
    {
      std::lock_guard<std::mutex> lock(shadow_->mutex);
      decoded = shadow_->stream->decode(payload_.data(), payload_.size(), decodeTimings_);
    }
    const auto reference = monoOf(frame_.data, frame_.length, frame_.format, frame_.channels);
    window_->mark();
    if (exact_) {
      quality_ = window_->pushExact(reference.data(), reference.size());
    } else {
      const auto output = monoOf(decoded.pcm.data(), decoded.pcm.size(), decoded.format, decoded.channels);
      if (output.size() != reference.size()) throw std::logic_error("shadow decoder returned a frame of another length");
      quality_ = window_->pushWithExactPrefix(reference.data(), output.data(), reference.size(), 0);
    }
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("payload", lendVector(env, std::move(payload_)));
    o.Set("timings", timingsToJs(env, timings_));
    o.Set("decodeTimings", timingsToJs(env, decodeTimings_));
    o.Set("measured", AudioScoreWindowWrap::toJs(env, quality_));
    return o;
  }

 private:
  std::shared_ptr<LockedDecoder> shadow_;
  metrics::AudioScoreWindow* window_ = nullptr;
  bool exact_ = false;
  Timings decodeTimings_;
  metrics::AudioQuality quality_;
};

class DecodeJob : public Job {
 public:
  // A null payload conceals a lost frame.
  DecodeJob(Napi::Env env, std::shared_ptr<LockedDecoder> s, Napi::Value payload) : s_(std::move(s)) {
    if (!payload.IsUndefined()) {
      payload_ = copyOf(env, payload, "payload");
      conceal_ = false;
    }
  }
  void execute() override {
    std::lock_guard<std::mutex> lock(s_->mutex);
    result_ = conceal_ ? s_->stream->conceal(timings_) : s_->stream->decode(payload_.data(), payload_.size(), timings_);
  }
  Napi::Value toJs(Napi::Env env) override { return decodedToJs(env, result_, timings_); }

 private:
  std::shared_ptr<LockedDecoder> s_;
  std::vector<uint8_t> payload_;
  bool conceal_ = true;
  Timings timings_;
  AudioDecoderStream::Result result_;
};

}  // namespace

Napi::Function AudioCodecWrap::Init(Napi::Env env) {
  return DefineClass(env, "AudioCodec",
                     {InstanceMethod<&AudioCodecWrap::CreateEncoder>("createEncoder"), InstanceMethod<&AudioCodecWrap::CreateDecoder>("createDecoder"),
                      InstanceMethod<&AudioCodecWrap::DelaySamples>("delaySamples"),
                      InstanceAccessor<&AudioCodecWrap::ModelId>("modelId"), StaticMethod<&AudioCodecWrap::PrepareTables>("prepareTables")});
}

AudioCodecWrap::AudioCodecWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioCodecWrap>(info) {
  Napi::Env env = info.Env();
  auto model = ModelWrap::from(env, info[0]);
  if (!info[1].IsObject()) throwInvalid(env, "audio codec config must be an object");
  Napi::Object o = info[1].As<Napi::Object>();
  const std::string what = "audio codec config";
  AudioCodecConfig c;
  c.name = stringField(env, o, "name", what);
  c.version = stringField(env, o, "version", what);
  c.sampleRate = intField(env, o, "sampleRate", what, 8000, 48000);
  c.frameSamples = intField(env, o, "frameSamples", what, 1, 4800);
  c.bins = intField(env, o, "bins", what, 1, 4096);
  c.levels = intField(env, o, "levels", what, 1, 255);
  const int contexts = intField(env, o, "contexts", what, 1, 64);
  c.gains = typedArrayCopy<float>(env, o.Get("gains"), napi_float32_array, what + ".gains");
  c.inverseGains = typedArrayCopy<float>(env, o.Get("inverseGains"), napi_float32_array, what + ".inverseGains");
  c.encoderFrame = stringField(env, o, "encoderFrame", what);
  c.encoderState = stringField(env, o, "encoderState", what);
  c.encoderLatent = stringField(env, o, "encoderLatent", what);
  c.encoderNextState = stringField(env, o, "encoderNextState", what);
  c.decoderLatent = stringField(env, o, "decoderLatent", what);
  c.decoderState = stringField(env, o, "decoderState", what);
  c.decoderFrame = stringField(env, o, "decoderFrame", what);
  c.decoderNextState = stringField(env, o, "decoderNextState", what);
  Napi::Value fs = o.Get("frameScale");
  if (!fs.IsUndefined()) {
    if (!fs.IsObject()) throwInvalid(env, what + ".frameScale must be an object");
    Napi::Object f = fs.As<Napi::Object>();
    c.frameScale.enabled = true;
    c.frameScale.alpha = numberField(env, f, "alpha", what + ".frameScale");
    c.frameScale.reference = numberField(env, f, "reference", what + ".frameScale");
    c.frameScale.stepLog2 = numberField(env, f, "stepLog2", what + ".frameScale");
    c.frameScale.min = intField(env, f, "min", what + ".frameScale", -1024, 1024);
    c.frameScale.max = intField(env, f, "max", what + ".frameScale", -1024, 1024);
  }
  codec_ = guard(env, [&] {
    c.tables = tablesOf(env, o, what, c.levels, c.codedChannels(), contexts);
    return std::make_shared<const AudioCodec>(model, std::move(c));
  });
}

// prepareTables(config): the config's entropy tables built on a worker thread, for the
// constructor's config.entropyTables (the bins, plus the level index with a frameScale).
Napi::Value AudioCodecWrap::PrepareTables(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwInvalid(env, "audio codec config must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  const std::string what = "audio codec config";
  const int bins = intField(env, o, "bins", what, 1, 4096);
  const int levels = intField(env, o, "levels", what, 1, 255);
  const int contexts = intField(env, o, "contexts", what, 1, 64);
  const int channels = bins + (o.Get("frameScale").IsUndefined() ? 0 : 1);
  return prepareTables(env, readTables(env, o, what, levels, channels, contexts));
}

Napi::Value AudioCodecWrap::CreateEncoder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto s = std::make_shared<LockedEncoder>();
  int rate = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  int channels = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  s->stream = guard(env, [&] { return std::make_unique<AudioEncoderStream>(codec_, rate, channels); });
  auto* holder = new std::shared_ptr<LockedEncoder>(s);
  auto ext = Napi::External<std::shared_ptr<LockedEncoder>>::New(env, holder, [](Napi::Env, std::shared_ptr<LockedEncoder>* p) { delete p; });
  return addonData(env).audioEncoderConstructor.New({ext});
}

Napi::Value AudioCodecWrap::CreateDecoder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto s = std::make_shared<LockedDecoder>();
  s->stream = std::make_unique<AudioDecoderStream>(codec_);
  auto* holder = new std::shared_ptr<LockedDecoder>(s);
  auto ext = Napi::External<std::shared_ptr<LockedDecoder>>::New(env, holder, [](Napi::Env, std::shared_ptr<LockedDecoder>* p) { delete p; });
  return addonData(env).audioDecoderConstructor.New({ext});
}

Napi::Value AudioCodecWrap::DelaySamples(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double rate = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  return Napi::Number::New(env, guard(env, [&] { return codec_->streamDelay(static_cast<int>(rate)); }));
}

Napi::Value AudioCodecWrap::ModelId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), codec_->modelId()); }

Napi::Function AudioEncoderWrap::Init(Napi::Env env) {
  return DefineClass(env, "AudioEncoderStream",
                     {InstanceMethod<&AudioEncoderWrap::Encode>("encode"), InstanceMethod<&AudioEncoderWrap::EncodeSync>("encodeSync"),
                      InstanceMethod<&AudioEncoderWrap::EncodeAndScore>("encodeAndScore")});
}

AudioEncoderWrap::AudioEncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioEncoderWrap>(info) {
  if (!info[0].IsExternal()) throwInvalid(info.Env(), "use audioCodec.createEncoder()");
  stream = *info[0].As<Napi::External<std::shared_ptr<LockedEncoder>>>().Data();
}

Napi::Value AudioEncoderWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:audioEncode", guard(env, [&] { return std::make_unique<EncodeJob>(env, stream, info); }));
}

// encodeAndScore(frame, options, shadowDecoder, scoreWindow, exact) -> Promise<{ payload, timings, decodeTimings, measured }>
Napi::Value AudioEncoderWrap::EncodeAndScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:audioEncodeScore", guard(env, [&] { return std::make_unique<EncodeScoreJob>(env, stream, info); }));
}

Napi::Value AudioEncoderWrap::EncodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<EncodeJob>(env, stream, info); }));
}

Napi::Function AudioDecoderWrap::Init(Napi::Env env) {
  return DefineClass(env, "AudioDecoderStream",
                     {InstanceMethod<&AudioDecoderWrap::Decode>("decode"), InstanceMethod<&AudioDecoderWrap::DecodeSync>("decodeSync"),
                      InstanceMethod<&AudioDecoderWrap::Conceal>("conceal"), InstanceMethod<&AudioDecoderWrap::ConcealSync>("concealSync")});
}

AudioDecoderWrap::AudioDecoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioDecoderWrap>(info) {
  if (!info[0].IsExternal()) throwInvalid(info.Env(), "use audioCodec.createDecoder()");
  stream = *info[0].As<Napi::External<std::shared_ptr<LockedDecoder>>>().Data();
}

Napi::Value AudioDecoderWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:audioDecode", guard(env, [&] { return std::make_unique<DecodeJob>(env, stream, info[0]); }));
}

Napi::Value AudioDecoderWrap::DecodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<DecodeJob>(env, stream, info[0]); }));
}

Napi::Value AudioDecoderWrap::Conceal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:audioConceal", std::make_unique<DecodeJob>(env, stream, env.Undefined()));
}

Napi::Value AudioDecoderWrap::ConcealSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, std::make_unique<DecodeJob>(env, stream, env.Undefined()));
}

}  // namespace aic::js
