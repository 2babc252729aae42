#include "audio_codec_wrap.h"

#include <algorithm>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#endif
#include <cmath>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>

#include "addon_data.h"
#include "audio/audio_batch.h"
#include "common/errors.h"
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
  o.Set("comfortNoise", r.comfortNoise);
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
    options_.dtx = o.Get("dtx").ToBoolean().Value();
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

 private:
  std::shared_ptr<LockedEncoder> s_;
  AudioFrame frame_;
  AudioEncodeOptions options_;
  Timings timings_;
  std::vector<uint8_t> payload_;
};

// Lowers the calling thread's scheduling priority (nice +4) for its lifetime, then restores it.
// Linux only (a thread's nice value is its own there); elsewhere it does nothing. Going back up
// needs CAP_SYS_NICE or an RLIMIT_NICE that allows it: without either, the thread (a libuv pool
// thread) stays 4 lower from its first batch on, and is not lowered again. Either way the event
// loop's thread keeps its priority over the pool's.
class BackgroundPriority {
 public:
  BackgroundPriority() {
#if defined(__linux__)
    if (stuck()) return;
    tid_ = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int before = getpriority(PRIO_PROCESS, tid_);
    if (errno == 0 && setpriority(PRIO_PROCESS, tid_, std::min(19, before + 4)) == 0) {
      before_ = before;
      changed_ = true;
    }
#endif
  }
  ~BackgroundPriority() {
#if defined(__linux__)
    if (changed_ && setpriority(PRIO_PROCESS, tid_, before_) != 0) stuck() = true;
#endif
  }
  BackgroundPriority(const BackgroundPriority&) = delete;
  BackgroundPriority& operator=(const BackgroundPriority&) = delete;

 private:
#if defined(__linux__)
  static bool& stuck() {
    thread_local bool lowered = false;  // lowered before and could not be raised back
    return lowered;
  }
  id_t tid_ = 0;
  int before_ = 0;
  bool changed_ = false;
#endif
};

// The steps of many sending sessions as one job (AudioEncoderStream.encodeAndScoreBatch, used by
// src/audio-batcher.ts). Inputs and results cross N-API as flat typed arrays instead of one object
// per frame: at hundreds of streams, property reads and object creation on the JS thread cost more
// than the codec. An item's failure (its input rejected here, its coding failing) is its own.
class AudioStepBatchJob : public Job {
 public:
  static constexpr int kParams = 10;   // offset, length, sampleRate, channels, format, level, sequence, timestamp, exact, dtx
  static constexpr int kResults = 20;  // see toJs()

  AudioStepBatchJob(Napi::Env env, const Napi::CallbackInfo& info) {
    if (!info[0].IsArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
      throwInvalid(env, "encodeAndScoreBatch(streams, pcm, params) needs an array and two typed arrays");
    }
    Napi::Array streams = info[0].As<Napi::Array>();
    auto pcmView = info[1].As<Napi::TypedArray>();
    auto paramView = info[2].As<Napi::TypedArray>();
    if (pcmView.TypedArrayType() != napi_uint8_array || paramView.TypedArrayType() != napi_float64_array) {
      throwInvalid(env, "encodeAndScoreBatch(): pcm must be a Uint8Array and params a Float64Array");
    }
    const size_t n = streams.Length() / 3;
    constexpr size_t kMaxItems = 4096;
    if (n == 0 || n > kMaxItems || streams.Length() != n * 3 || paramView.ElementLength() != n * kParams) {
      throwInvalid(env, "encodeAndScoreBatch(): 1 to 4096 items, three streams and ten params each");
    }
    // The worker reads a copy taken now (job.h: caller memory).
    auto pcmBytes = copyOf(env, info[1], "pcm");
    const uint8_t* pcm = own(std::move(pcmBytes));
    const size_t pcmLength = pcmView.ByteLength();
    const double* p = info[2].As<Napi::Float64Array>().Data();
    items_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      Item& it = items_[i];
      const double* q = p + i * kParams;
      try {
        Napi::Value e = streams.Get(static_cast<uint32_t>(i * 3)), d = streams.Get(static_cast<uint32_t>(i * 3 + 1)), w = streams.Get(static_cast<uint32_t>(i * 3 + 2));
        if (!hasTypeTag(e, AudioEncoderWrap::kTypeTag) || !hasTypeTag(d, AudioDecoderWrap::kTypeTag) || !hasTypeTag(w, AudioScoreWindowWrap::kTypeTag)) {
          throw aic::CoreError(aic::ErrorCode::InvalidArgument, "encodeAndScoreBatch(): an item's streams must be an audio encoder stream, its shadow decoder and its score window");
        }
        it.encoder = AudioEncoderWrap::Unwrap(e.As<Napi::Object>())->stream;
        it.shadow = AudioDecoderWrap::Unwrap(d.As<Napi::Object>())->stream;
        it.window = AudioScoreWindowWrap::Unwrap(w.As<Napi::Object>())->shared();
        // The shadow runs the encoder's model (its rows go through the encoder codec's decoder graph).
        if (&it.shadow->stream->codec() != &it.encoder->stream->codec()) {
          throw aic::CoreError(aic::ErrorCode::InvalidArgument, "encodeAndScoreBatch(): an item's shadow decoder belongs to another audio codec than its encoder");
        }
        const double offset = integral(q[0], 0, static_cast<double>(pcmLength)), length = integral(q[1], 0, static_cast<double>(pcmLength));
        if (offset + length > static_cast<double>(pcmLength)) throw aic::CoreError(aic::ErrorCode::InvalidArgument, "encodeAndScoreBatch(): an item's bytes lie outside pcm");
        it.frame.data = pcm + static_cast<size_t>(offset);
        it.frame.length = static_cast<size_t>(length);
        it.frame.sampleRate = static_cast<int>(integral(q[2], 1, 384000));
        it.frame.channels = static_cast<int>(integral(q[3], 1, 64));
        it.frame.format = integral(q[4], 0, 1) == 1 ? SampleFormat::F32le : SampleFormat::S16le;
        it.options.level = static_cast<int>(integral(q[5], 0, 254));
        it.options.sequence = static_cast<uint32_t>(integral(q[6], 0, 2147483647));
        it.options.timestamp = static_cast<uint64_t>(integral(q[7], 0, 9007199254740991.0));
        it.exact = q[8] != 0;
        it.options.dtx = q[9] != 0;
      } catch (...) {
        describeCurrentException(it.code, it.message);
      }
    }
    // A stream twice in one batch would be coded twice at once: the later item fails.
    std::set<const void*> seen;
    for (Item& it : items_) {
      if (!it.code.empty()) continue;
      const void* keys[] = {it.encoder.get(), it.shadow.get(), it.window.get()};
      bool twice = false;
      for (const void* k : keys) twice = !seen.insert(k).second || twice;
      if (twice) {
        it.code = "INVALID_ARGUMENT";
        it.message = "encodeAndScoreBatch(): a stream appears in two items of one batch";
      }
    }
  }

  void execute() override {
    // Under the event loop: a batch runs at a lower priority than the JS thread while it runs, so
    // that on a machine whose cores the lanes fill, the event loop is not the one waiting for a
    // core (its delay is what every other socket and timer of the server sees).
    const BackgroundPriority background;
    // Every stream of the batch locked at once, in address order, so that two lanes can never
    // wait on each other (the sessions hand a stream one frame at a time anyway).
    std::vector<std::mutex*> mutexes;
    for (const Item& it : items_) {
      if (!it.code.empty()) continue;
      mutexes.push_back(&it.encoder->mutex);
      mutexes.push_back(&it.shadow->mutex);
    }
    std::sort(mutexes.begin(), mutexes.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(mutexes.size());
    for (std::mutex* m : mutexes) locks.emplace_back(*m);
    // The steps of each codec (one, as src/audio-batcher.ts batches per codec) in one call.
    std::vector<size_t> pending;
    for (size_t i = 0; i < items_.size(); ++i)
      if (items_[i].code.empty()) pending.push_back(i);
    while (!pending.empty()) {
      const AudioCodec& codec = items_[pending[0]].encoder->stream->codec();
      std::vector<size_t> group, rest;
      for (size_t i : pending) (&items_[i].encoder->stream->codec() == &codec ? group : rest).push_back(i);
      std::vector<AudioStep> steps(group.size());
      for (size_t k = 0; k < group.size(); ++k) {
        Item& it = items_[group[k]];
        steps[k].encoder = it.encoder->stream.get();
        steps[k].shadow = it.shadow->stream.get();
        steps[k].window = it.window.get();
        steps[k].frame = it.frame;
        steps[k].options = it.options;
        steps[k].exact = it.exact;
      }
      runAudioSteps(codec, steps);
      for (size_t k = 0; k < group.size(); ++k) {
        Item& it = items_[group[k]];
        AudioStep& st = steps[k];
        if (st.error) {
          try {
            std::rethrow_exception(st.error);
          } catch (...) {
            describeCurrentException(it.code, it.message);
          }
          continue;
        }
        it.payload = std::move(st.payload);
        it.timings = st.timings;
        it.decodeTimings = st.decodeTimings;
        it.quality = st.quality;
      }
      pending.swap(rest);
    }
    locks.clear();
    for (Item& it : items_) {
      // The JS objects keep their own references; the job lets go of the streams now.
      it.encoder.reset();
      it.shadow.reset();
      it.window.reset();
    }
  }

  // { payloads: Buffer (every item's payload, in order), results: Float64Array (kResults per item:
  //   payload offset, payload length, encode pre/inference/post ms, decode pre/inference/post ms,
  //   score, siSnrDb, logMelDistanceDb, activeFraction, worstBandErrorDb, holeFraction, bandLoss,
  //   windowHoleFraction, windowBandLoss, windowHoleMiss, frameMiss, failed),
  //   errors: null, or an array with an Error (with its code) at each failed item }
  Napi::Value toJs(Napi::Env env) override {
    size_t total = 0;
    for (const Item& it : items_) total += it.payload.size();
    std::vector<uint8_t> payloads;
    payloads.reserve(total);
    auto results = Napi::Float64Array::New(env, items_.size() * kResults);
    Napi::Value errors = env.Null();
    for (size_t i = 0; i < items_.size(); ++i) {
      const Item& it = items_[i];
      double* r = results.Data() + i * kResults;
      const metrics::AudioQuality& m = it.quality;
      const double values[kResults] = {static_cast<double>(payloads.size()), static_cast<double>(it.payload.size()),
                                       it.timings.preprocessMs, it.timings.inferenceMs, it.timings.postprocessMs,
                                       it.decodeTimings.preprocessMs, it.decodeTimings.inferenceMs, it.decodeTimings.postprocessMs,
                                       m.score, m.siSnrDb, m.logMelDistanceDb, m.activeFraction, m.worstBandErrorDb, m.holeFraction, m.bandLoss,
                                       m.windowHoleFraction, m.windowBandLoss, m.windowHoleMiss ? 1.0 : 0.0, m.frameMiss ? 1.0 : 0.0,
                                       it.code.empty() ? 0.0 : 1.0};
      std::copy(values, values + kResults, r);
      payloads.insert(payloads.end(), it.payload.begin(), it.payload.end());
      if (!it.code.empty()) {
        if (errors.IsNull()) errors = Napi::Array::New(env, items_.size());
        errors.As<Napi::Array>().Set(static_cast<uint32_t>(i), makeError(env, it.code, it.message).Value());
      }
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("payloads", lendVector(env, std::move(payloads)));
    o.Set("results", results);
    o.Set("errors", errors);
    return o;
  }

 private:
  struct Item {
    std::shared_ptr<LockedEncoder> encoder;
    std::shared_ptr<LockedDecoder> shadow;
    std::shared_ptr<metrics::AudioScoreWindow> window;
    AudioFrame frame;
    AudioEncodeOptions options;
    bool exact = false;
    std::vector<uint8_t> payload;
    Timings timings, decodeTimings;
    metrics::AudioQuality quality;
    std::string code, message;
  };
  // An integer in [lo, hi], else INVALID_ARGUMENT (the item fails, the others go on).
  static double integral(double v, double lo, double hi) {
    if (!std::isfinite(v) || std::floor(v) != v || v < lo || v > hi) throw aic::CoreError(aic::ErrorCode::InvalidArgument, "encodeAndScoreBatch(): an item's params are out of range");
    return v;
  }
  std::vector<Item> items_;
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
  Napi::Value sf = o.Get("spectralFill");
  if (!sf.IsUndefined()) {
    if (!sf.IsBoolean()) throwInvalid(env, what + ".spectralFill must be a boolean");
    c.spectralFill = sf.As<Napi::Boolean>().Value();
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
                      StaticMethod<&AudioEncoderWrap::EncodeAndScoreBatch>("encodeAndScoreBatch")});
}

const napi_type_tag AudioEncoderWrap::kTypeTag = {0x2b7e151628aed2a6ULL, 0xabf7158809cf4f3cULL};
const napi_type_tag AudioDecoderWrap::kTypeTag = {0x3243f6a8885a308dULL, 0x313198a2e0370734ULL};

AudioEncoderWrap::AudioEncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioEncoderWrap>(info) {
  if (!info[0].IsExternal()) throwInvalid(info.Env(), "use audioCodec.createEncoder()");
  stream = *info[0].As<Napi::External<std::shared_ptr<LockedEncoder>>>().Data();
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

Napi::Value AudioEncoderWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:audioEncode", guard(env, [&] { return std::make_unique<EncodeJob>(env, stream, info); }));
}

// encodeAndScoreBatch(streams, pcm, params) -> Promise<{ payloads, results, errors }>
// streams: [encoder, shadowDecoder, scoreWindow] per item, flat; pcm: every item's frame bytes;
// params: Float64Array, nine per item (AudioStepBatchJob). The frames of many sessions in one job
// on one worker thread: a 20 ms audio frame's native work is a fraction of a millisecond, so one
// thread hand-off, one wake-up and one completion callback per frame cost as much as the work.
Napi::Value AudioEncoderWrap::EncodeAndScoreBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:audioEncodeScoreBatch", guard(env, [&] { return std::make_unique<AudioStepBatchJob>(env, info); }));
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
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
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
