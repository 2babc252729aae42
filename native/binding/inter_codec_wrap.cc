#include "inter_codec_wrap.h"

#include <cmath>
#include <cstdio>

#include "codec_common.h"
#include "common/errors.h"
#include "image_codec_wrap.h"
#include "job.h"

namespace aic::js {

namespace {

// A stream is driven by one session, which awaits each call: a second call while one runs is the
// caller's bug, reported instead of blocking the JS thread on the lock.
std::unique_lock<std::mutex> lockNow(Napi::Env env, LockedInterStream& s) {
  std::unique_lock<std::mutex> lock(s.mutex, std::try_to_lock);
  if (!lock.owns_lock()) throwInvalid(env, "inter stream is busy: await its previous call first");
  return lock;
}

// An optional number option within [lo, hi], into `out` when given (the encoder's tuning options).
void optionalFloat(Napi::Env env, Napi::Object o, const char* key, const std::string& what, double lo, double hi, float& out) {
  if (o.Get(key).IsUndefined()) return;
  const double v = numberField(env, o, key, what);
  if (!(v >= lo && v <= hi)) {
    char range[64];
    std::snprintf(range, sizeof(range), " must be between %g and %g", lo, hi);
    throwInvalid(env, what + "." + key + range);
  }
  out = static_cast<float>(v);
}

template <typename T>
std::vector<T> exactArray(Napi::Env env, Napi::Object o, const char* key, napi_typedarray_type type, size_t count, const std::string& what) {
  std::vector<T> v = typedArrayCopy<T>(env, o.Get(key), type, what + "." + key);
  if (v.size() != count) throwInvalid(env, what + "." + key + " must hold " + std::to_string(count) + " values");
  return v;
}

class EncodeJob : public Job {
 public:
  EncodeJob(Napi::Env env, std::shared_ptr<LockedInterStream> stream, const Napi::CallbackInfo& info) : stream_(std::move(stream)) {
    parseImageFrame(env, info[0], frame_, *this);
    if (!info[1].IsObject()) throwInvalid(env, "encode() options must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    const std::string what = "options";
    options_.qp = intField(env, o, "qp", what, 0, kMaxPredictedQp);
    options_.sequence = static_cast<uint32_t>(intField(env, o, "sequence", what, 0, 2147483647));
    options_.timestamp = timestampField(env, o, what, 0);
    const std::string type = o.Get("frameType").IsString() ? o.Get("frameType").As<Napi::String>().Utf8Value() : "video";
    if (type == "video") options_.frameType = FrameType::Video;
    else if (type == "screen") options_.frameType = FrameType::Screen;
    else throwInvalid(env, "options.frameType must be 'video' or 'screen'");
    options_.score = o.Get("score").IsUndefined() ? true : o.Get("score").ToBoolean().Value();
    if (!o.Get("aim").IsUndefined()) options_.aim = numberField(env, o, "aim", what);
    if (!o.Get("tileAim").IsUndefined()) options_.tileAim = numberField(env, o, "tileAim", what);
    if (!o.Get("maxPasses").IsUndefined()) options_.maxPasses = intField(env, o, "maxPasses", what, 1, 16);
    if (!o.Get("minQp").IsUndefined()) options_.minQp = intField(env, o, "minQp", what, 0, kMaxPredictedQp);
    if (!o.Get("maxQp").IsUndefined()) options_.maxQp = intField(env, o, "maxQp", what, 0, kMaxPredictedQp);
    if (!o.Get("reference").IsUndefined()) {
      options_.againstSequence = true;
      options_.referenceSequence = static_cast<uint32_t>(intField(env, o, "reference", what, 0, 2147483647));
    }
    options_.compact = o.Get("compact").ToBoolean().Value();
    // decimation: [luma, chroma] thresholds (0: off), for tuning (training/video/tune_decimation.mjs).
    if (!o.Get("decimation").IsUndefined()) {
      Napi::Value d = o.Get("decimation");
      if (!d.IsArray() || d.As<Napi::Array>().Length() != 2) throwInvalid(env, "options.decimation must be [luma, chroma] thresholds");
      Napi::Object a = d.As<Napi::Object>();
      options_.decimateLuma = intField(env, a, "0", what + ".decimation", 0, 64);
      options_.decimateChroma = intField(env, a, "1", what + ".decimation", 0, 64);
    }
    // For tuning (training/video/tune_rd.mjs): the rate-distortion decisions' lambda factor (0: off),
    // the inter quantiser's deadzone, the motion search's vector weight as a factor of the luma
    // step (0: its fixed weight).
    optionalFloat(env, o, "rdLambda", what, 0, 4, options_.rdLambda);
    optionalFloat(env, o, "interDeadzone", what, 0.05, 0.5, options_.interDeadzone);
    optionalFloat(env, o, "motionLambda", what, 0, 16, options_.motionLambda);
    if (!o.Get("maxBytes").IsUndefined()) {
      const double m = numberField(env, o, "maxBytes", what);
      if (m < 0 || std::floor(m) != m) throwInvalid(env, "options.maxBytes must be a non-negative integer (0: no limit)");
      options_.maxBytes = static_cast<size_t>(m);
    }
  }
  void execute() override {
    std::unique_lock<std::mutex> lock(stream_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) throw CoreError(ErrorCode::InvalidArgument, "inter stream is busy: await its previous call first");
    result_ = stream_->stream->encode(frame_, options_);
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("payload", lendVector(env, std::move(result_.payload)));
    o.Set("qp", result_.qp);
    o.Set("scored", result_.scored);
    o.Set("ssim", result_.ssim);
    o.Set("psnr", result_.psnr);
    o.Set("worstTileSsim", result_.worstTileSsim);
    o.Set("skipped", result_.skipped);
    o.Set("inter", result_.inter);
    o.Set("intra", result_.intra);
    Napi::Array passes = Napi::Array::New(env, result_.passes.size());
    for (size_t i = 0; i < result_.passes.size(); ++i) {
      const auto& p = result_.passes[i];
      Napi::Object po = Napi::Object::New(env);
      po.Set("qp", p.qp);
      po.Set("bytes", static_cast<double>(p.bytes));
      po.Set("ssim", p.ssim);
      po.Set("psnr", p.psnr);
      po.Set("worstTileSsim", p.worstTileSsim);
      po.Set("ms", p.ms);
      passes.Set(static_cast<uint32_t>(i), po);
    }
    o.Set("passes", passes);
    o.Set("timings", timingsToJs(env, result_.timings));
    return o;
  }

 private:
  std::shared_ptr<LockedInterStream> stream_;
  ImageFrame frame_;
  video::PredictedEncodeOptions options_;
  video::PredictedEncodeResult result_;
};

// decode(payload, output?): as the image codec's decode job (payload copied now; an output view
// re-checked and written on the JS thread).
class DecodeJob : public Job {
 public:
  DecodeJob(Napi::Env env, std::shared_ptr<LockedInterStream> stream, const Napi::CallbackInfo& info) : stream_(std::move(stream)) {
    payload_ = copyOf(env, info[0], "payload");
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
      const View out = viewOf(env, info[1], "output");
      staging_.resize(out.length);
      hasOutput_ = true;
      output_ = Napi::Persistent(info[1].As<Napi::Object>());
    }
  }
  void execute() override {
    std::unique_lock<std::mutex> lock(stream_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) throw CoreError(ErrorCode::InvalidArgument, "inter stream is busy: await its previous call first");
    static uint8_t none = 0;
    uint8_t* out = hasOutput_ ? (staging_.empty() ? &none : staging_.data()) : nullptr;
    result_ = stream_->stream->decode(payload_.data(), payload_.size(), out, staging_.size());
  }
  Napi::Value toJs(Napi::Env env) override {
    if (hasOutput_) writeBack(env, output_.Value(), "output", staging_.data(), staging_.size());
    return decodedImageToJs(env, result_, hasOutput_ ? output_.Value() : Napi::Value());
  }

 private:
  std::shared_ptr<LockedInterStream> stream_;
  std::vector<uint8_t> payload_;
  bool hasOutput_ = false;
  std::vector<uint8_t> staging_;
  Napi::ObjectReference output_;
  ImageDecodeResult result_;
};

}  // namespace

const napi_type_tag InterModelWrap::kTypeTag = {0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

Napi::Function InterModelWrap::Init(Napi::Env env) {
  return DefineClass(env, "InterModel", {InstanceAccessor<&InterModelWrap::ModelId>("modelId")});
}

// new InterModel({ name, version, vertical, horizontal (Int32Array 3 x 64), scan (Uint8Array 3 x 64),
//   keyframeWeights (Int16Array n x n), keyframeBias (Int32Array n), keyframeGains (Int32Array levels x n),
//   levels, coefficients, block })
InterModelWrap::InterModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<InterModelWrap>(info) {
  Napi::Env env = info.Env();
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  if (!info[0].IsObject()) throwInvalid(env, "inter model config must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  const std::string what = "inter model config";
  video::InterModelConfig c;
  c.name = stringField(env, o, "name", what);
  c.version = stringField(env, o, "version", what);
  const auto vertical = exactArray<int32_t>(env, o, "vertical", napi_int32_array, 3 * video::kCoefficients, what);
  const auto horizontal = exactArray<int32_t>(env, o, "horizontal", napi_int32_array, 3 * video::kCoefficients, what);
  const auto scan = exactArray<uint8_t>(env, o, "scan", napi_uint8_array, 3 * video::kCoefficients, what);
  for (int ch = 0; ch < 3; ++ch)
    for (int i = 0; i < video::kCoefficients; ++i) {
      const int32_t v = vertical[ch * 64 + i], h = horizontal[ch * 64 + i];
      // Entries of an orthonormal matrix at 2^12: anything larger is not one (and could overflow the inverse).
      if (std::abs(v) > 4096 || std::abs(h) > 4096) throwInvalid(env, what + ": transform entries must lie in -4096..4096");
      c.transform.channels[ch].vertical[i] = v;
      c.transform.channels[ch].horizontal[i] = h;
      c.scan[ch][i] = scan[ch * 64 + i];
    }
  auto& k = c.keyframe;
  k.levels = intField(env, o, "levels", what, 1, 255);
  k.coefficients = intField(env, o, "coefficients", what, 3, 3 * 64 * 64);
  k.block = intField(env, o, "block", what, 1, 64);
  const size_t n = static_cast<size_t>(k.coefficients);
  k.weights = exactArray<int16_t>(env, o, "keyframeWeights", napi_int16_array, n * n, what);
  k.bias = exactArray<int32_t>(env, o, "keyframeBias", napi_int32_array, n, what);
  k.gains16 = exactArray<int32_t>(env, o, "keyframeGains", napi_int32_array, n * static_cast<size_t>(k.levels), what);
  model_ = guard(env, [&] { return std::make_shared<const video::InterModel>(std::move(c)); });
}

std::shared_ptr<const video::InterModel> InterModelWrap::from(Napi::Env env, Napi::Value value) {
  if (!hasTypeTag(value, kTypeTag)) throwInvalid(env, "expected an InterModel");
  return Napi::ObjectWrap<InterModelWrap>::Unwrap(value.As<Napi::Object>())->model_;
}

Napi::Value InterModelWrap::ModelId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), model_->modelId()); }

Napi::Function InterStreamWrap::Init(Napi::Env env) {
  return DefineClass(env, "InterStream",
                     {InstanceMethod<&InterStreamWrap::AdoptKeyframe>("adoptKeyframe"), InstanceMethod<&InterStreamWrap::Reset>("reset"),
                      InstanceMethod<&InterStreamWrap::HasReference>("hasReference"), InstanceAccessor<&InterStreamWrap::ReferenceSequence>("referenceSequence"),
                      InstanceAccessor<&InterStreamWrap::HeldReference>("heldReference"), InstanceAccessor<&InterStreamWrap::ReferenceSize>("referenceSize"),
                      InstanceMethod<&InterStreamWrap::Encode>("encode"), InstanceMethod<&InterStreamWrap::Commit>("commit"),
                      InstanceMethod<&InterStreamWrap::Decode>("decode"), InstanceMethod<&InterStreamWrap::MemoryBytes>("memoryBytes"),
                      InstanceMethod<&InterStreamWrap::KeepReferences>("keepReferences"), InstanceMethod<&InterStreamWrap::HoldsReference>("holdsReference")});
}

// new InterStream(interModel, imageCodec)
InterStreamWrap::InterStreamWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<InterStreamWrap>(info) {
  Napi::Env env = info.Env();
  auto model = InterModelWrap::from(env, info[0]);
  auto image = ImageCodecWrap::from(env, info[1]);
  stream_ = std::make_shared<LockedInterStream>();
  stream_->stream = guard(env, [&] { return std::make_unique<video::InterStream>(model, image); });
}

Napi::Value InterStreamWrap::AdoptKeyframe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lock = lockNow(env, *stream_);
  uint8_t* data = nullptr;
  size_t length = 0;
  memoryOf(env, info[0], "payload", data, length);
  guard(env, [&] {
    stream_->stream->adoptKeyframe(data, length);
    return 0;
  });
  return env.Undefined();
}

Napi::Value InterStreamWrap::Reset(const Napi::CallbackInfo& info) {
  auto lock = lockNow(info.Env(), *stream_);
  stream_->stream->reset();
  return info.Env().Undefined();
}

Napi::Value InterStreamWrap::HasReference(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = intArg(info, 0, "width", 1, ImageCodec::kMaxDimension), h = intArg(info, 1, "height", 1, ImageCodec::kMaxDimension);
  auto lock = lockNow(env, *stream_);
  return Napi::Boolean::New(env, stream_->stream->hasReference(w, h));
}

Napi::Value InterStreamWrap::KeepReferences(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int n = intArg(info, 0, "count", 0, 64);
  auto lock = lockNow(env, *stream_);
  stream_->stream->keepReferences(n);
  return env.Undefined();
}

Napi::Value InterStreamWrap::HoldsReference(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int seq = intArg(info, 0, "sequence", 0, 2147483647);
  const int w = intArg(info, 1, "width", 1, ImageCodec::kMaxDimension), h = intArg(info, 2, "height", 1, ImageCodec::kMaxDimension);
  auto lock = lockNow(env, *stream_);
  return Napi::Boolean::New(env, stream_->stream->holdsReference(static_cast<uint32_t>(seq), w, h));
}

Napi::Value InterStreamWrap::ReferenceSequence(const Napi::CallbackInfo& info) {
  auto lock = lockNow(info.Env(), *stream_);
  return Napi::Number::New(info.Env(), stream_->stream->referenceSequence());
}

Napi::Value InterStreamWrap::HeldReference(const Napi::CallbackInfo& info) {
  auto lock = lockNow(info.Env(), *stream_);
  if (!stream_->stream->holdsAnyReference()) return info.Env().Null();
  return Napi::Number::New(info.Env(), stream_->stream->referenceSequence());
}

// { width, height } of the held reference, or null: what a compact predicted frame decodes to.
Napi::Value InterStreamWrap::ReferenceSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lock = lockNow(env, *stream_);
  if (!stream_->stream->holdsAnyReference()) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", stream_->stream->referenceWidth());
  o.Set("height", stream_->stream->referenceHeight());
  return o;
}

Napi::Value InterStreamWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:interEncode", guard(env, [&] { return std::make_unique<EncodeJob>(env, stream_, info); }));
}

Napi::Value InterStreamWrap::Commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lock = lockNow(env, *stream_);
  guard(env, [&] {
    stream_->stream->commit();
    return 0;
  });
  return env.Undefined();
}

Napi::Value InterStreamWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runAsync(env, "aic:interDecode", guard(env, [&] { return std::make_unique<DecodeJob>(env, stream_, info); }));
}

Napi::Value InterStreamWrap::MemoryBytes(const Napi::CallbackInfo& info) {
  auto lock = lockNow(info.Env(), *stream_);
  return Napi::Number::New(info.Env(), static_cast<double>(stream_->stream->memoryBytes()));
}

}  // namespace aic::js
