#include "image_codec_wrap.h"

#include <cmath>

#include "image/image_search.h"
#include "codec_common.h"
#include "convert.h"
#include "job.h"
#include "model_wrap.h"

namespace aic::js {

namespace {

FrameType parseFrameType(Napi::Env env, Napi::Value v) {
  if (v.IsUndefined()) return FrameType::Video;
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "video") return FrameType::Video;
  if (s == "screen") return FrameType::Screen;
  throwInvalid(env, "image frames are of type 'video' or 'screen'");
}

// Header options shared by encode() and compress(): sequence, keyframe, frameType, timestamp.
void parseHeaderOptions(Napi::Env env, Napi::Object o, ImageEncodeOptions& options) {
  if (!o.Get("sequence").IsUndefined()) options.sequence = static_cast<uint32_t>(intField(env, o, "sequence", "options", 0, 2147483647));
  if (!o.Get("keyframe").IsUndefined()) options.keyframe = o.Get("keyframe").ToBoolean().Value();
  options.frameType = parseFrameType(env, o.Get("frameType"));
  options.timestamp = timestampField(env, o, "options", options.timestamp);
}

class EncodeJob : public Job {
 public:
  EncodeJob(Napi::Env env, std::shared_ptr<const ImageCodec> codec, const Napi::CallbackInfo& info) : codec_(std::move(codec)) {
    parseImageFrame(env, info[0], frame_, *this);
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    options_.level = intField(env, o, "level", "options", 0, 254);
    parseHeaderOptions(env, o, options_);
  }
  void execute() override { result_ = codec_->encode(frame_, options_); }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("payload", lendVector(env, std::move(result_.payload)));
    o.Set("timings", timingsToJs(env, result_.timings));
    return o;
  }

 private:
  std::shared_ptr<const ImageCodec> codec_;
  ImageFrame frame_;
  ImageEncodeOptions options_;
  ImageEncodeResult result_;
};

// compress(frame, { startLevel, aim, maxPasses, probeDown, verify, ...header }) -> the level
// search of native/core/image/image_search.h on a worker thread.
class SearchJob : public Job {
 public:
  SearchJob(Napi::Env env, std::shared_ptr<const ImageCodec> codec, const Napi::CallbackInfo& info) : codec_(std::move(codec)) {
    parseImageFrame(env, info[0], frame_, *this);
    if (!info[1].IsObject()) throwInvalid(env, "compress() options must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    options_.startLevel = intField(env, o, "startLevel", "options", 0, 254);
    Napi::Value aim = o.Get("aim");
    options_.aim = aim.IsNumber() ? aim.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(options_.aim)) throwInvalid(env, "options.aim must be a finite score");
    options_.maxPasses = intField(env, o, "maxPasses", "options", 1, 256);
    options_.probeDown = o.Get("probeDown").ToBoolean().Value();
    options_.bisect = o.Get("bisect").ToBoolean().Value();
    options_.hinted = o.Get("hinted").ToBoolean().Value();
    Napi::Value maxBytes = o.Get("maxBytes");
    if (!maxBytes.IsUndefined()) {
      const double m = maxBytes.IsNumber() ? maxBytes.As<Napi::Number>().DoubleValue() : NAN;
      if (!std::isfinite(m) || m < 0 || std::floor(m) != m) throwInvalid(env, "options.maxBytes must be a non-negative integer (0: no limit)");
      options_.maxBytes = static_cast<size_t>(m);
    }
    Napi::Value tileAim = o.Get("tileAim");
    options_.tileAim = tileAim.IsUndefined() ? 0 : tileAim.IsNumber() ? tileAim.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(options_.tileAim)) throwInvalid(env, "options.tileAim must be a finite score");
    options_.verify = o.Get("verify").IsUndefined() ? true : o.Get("verify").ToBoolean().Value();
    parseHeaderOptions(env, o, options_.header);
  }
  void execute() override { result_ = searchImage(*codec_, frame_, options_); }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("payload", lendVector(env, std::move(result_.payload)));
    o.Set("level", result_.level);
    o.Set("verified", result_.verified);
    o.Set("aimMet", result_.aimMet);
    o.Set("ssim", result_.ssim);
    o.Set("psnr", result_.psnr);
    o.Set("worstTileSsim", result_.worstTileSsim);
    Napi::Array passes = Napi::Array::New(env, result_.passes.size());
    for (size_t i = 0; i < result_.passes.size(); ++i) {
      const auto& p = result_.passes[i];
      Napi::Object po = Napi::Object::New(env);
      po.Set("level", p.level);
      po.Set("bytes", static_cast<double>(p.bytes));
      po.Set("ssim", p.ssim);
      po.Set("psnr", p.psnr);
      po.Set("worstTileSsim", p.worstTileSsim);
      po.Set("decodeMs", p.decodeMs);
      po.Set("scoreMs", p.scoreMs);
      passes.Set(static_cast<uint32_t>(i), po);
    }
    o.Set("passes", passes);
    o.Set("timings", timingsToJs(env, result_.timings));
    return o;
  }

 private:
  std::shared_ptr<const ImageCodec> codec_;
  ImageFrame frame_;
  ImageSearchOptions options_;
  ImageSearchResult result_;
};

// decode(payload, output?): the payload is copied at call time. An async decode writes into
// native memory and copies into `output` on the JS thread once done (after checking that output
// is still attached and of its size); a sync one writes into `output` in place.
class DecodeJob : public Job {
 public:
  DecodeJob(Napi::Env env, std::shared_ptr<const ImageCodec> codec, const Napi::CallbackInfo& info, bool async) : codec_(std::move(codec)), async_(async) {
    payload_ = copyOf(env, info[0], "payload");
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
      const View out = viewOf(env, info[1], "output");
      outLength_ = out.length;
      if (async_) {
        staging_.resize(outLength_);
        out_ = staging_.data();
      } else {
        out_ = out.data;
      }
      hasOutput_ = true;
      output_ = Napi::Persistent(info[1].As<Napi::Object>());
    }
  }
  void execute() override {
    // A zero-length output has no address; the core is given a non-null one so that it still
    // reports the size mismatch.
    static uint8_t none = 0;
    uint8_t* out = hasOutput_ && out_ == nullptr ? &none : out_;
    result_ = codec_->decode(payload_.data(), payload_.size(), out, outLength_);
  }
  Napi::Value toJs(Napi::Env env) override {
    if (hasOutput_ && async_) writeBack(env, output_.Value(), "output", staging_.data(), staging_.size());
    return decodedImageToJs(env, result_, hasOutput_ ? output_.Value() : Napi::Value());
  }

 private:
  std::shared_ptr<const ImageCodec> codec_;
  bool async_;
  std::vector<uint8_t> payload_;
  bool hasOutput_ = false;
  uint8_t* out_ = nullptr;
  size_t outLength_ = 0;
  std::vector<uint8_t> staging_;
  Napi::ObjectReference output_;
  ImageDecodeResult result_;
};

}  // namespace

Napi::Function ImageCodecWrap::Init(Napi::Env env) {
  return DefineClass(env, "ImageCodec",
                     {InstanceMethod<&ImageCodecWrap::Encode>("encode"), InstanceMethod<&ImageCodecWrap::EncodeSync>("encodeSync"),
                      InstanceMethod<&ImageCodecWrap::Compress>("compress"), InstanceMethod<&ImageCodecWrap::CompressSync>("compressSync"),
                      InstanceMethod<&ImageCodecWrap::Decode>("decode"), InstanceMethod<&ImageCodecWrap::DecodeSync>("decodeSync"),
                      InstanceAccessor<&ImageCodecWrap::ModelId>("modelId"), StaticMethod<&ImageCodecWrap::PrepareTables>("prepareTables")});
}

const napi_type_tag ImageCodecWrap::kTypeTag = {0x7c159e3a4b2f8d61ULL, 0x0de4a9f3c8b71e25ULL};

std::shared_ptr<const ImageCodec> ImageCodecWrap::from(Napi::Env env, Napi::Value value) {
  if (!hasTypeTag(value, kTypeTag)) throwInvalid(env, "expected an ImageCodec");
  return Napi::ObjectWrap<ImageCodecWrap>::Unwrap(value.As<Napi::Object>())->codec_;
}

ImageCodecWrap::ImageCodecWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ImageCodecWrap>(info) {
  Napi::Env env = info.Env();
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  auto model = ModelWrap::from(env, info[0]);
  if (!info[1].IsObject()) throwInvalid(env, "image codec config must be an object");
  Napi::Object o = info[1].As<Napi::Object>();
  const std::string what = "image codec config";
  ImageCodecConfig c;
  c.name = stringField(env, o, "name", what);
  c.version = stringField(env, o, "version", what);
  c.latentChannels = intField(env, o, "latentChannels", what, 1, 4096);
  c.downsample = intField(env, o, "downsample", what, 1, 256);
  c.paddingMultiple = intField(env, o, "paddingMultiple", what, 1, 1024);
  c.levels = intField(env, o, "levels", what, 1, 255);
  const int contexts = intField(env, o, "contexts", what, 1, 64);
  c.gains = typedArrayCopy<float>(env, o.Get("gains"), napi_float32_array, what + ".gains");
  c.inverseGains = typedArrayCopy<float>(env, o.Get("inverseGains"), napi_float32_array, what + ".inverseGains");
  c.roundingOffsets = typedArrayCopy<float>(env, o.Get("roundingOffsets"), napi_float32_array, what + ".roundingOffsets");
  c.encoderInput = stringField(env, o, "encoderInput", what);
  c.encoderOutput = stringField(env, o, "encoderOutput", what);
  c.decoderInput = stringField(env, o, "decoderInput", what);
  c.decoderOutput = stringField(env, o, "decoderOutput", what);
  codec_ = guard(env, [&] {
    c.tables = tablesOf(env, o, what, c.levels, c.latentChannels, contexts);
    return std::make_shared<const ImageCodec>(model, std::move(c));
  });
}

// prepareTables(config): the config's entropy tables built on a worker thread, for the
// constructor's config.entropyTables (read with the same fields and checks as the constructor).
Napi::Value ImageCodecWrap::PrepareTables(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwInvalid(env, "image codec config must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  const std::string what = "image codec config";
  const int levels = intField(env, o, "levels", what, 1, 255);
  const int channels = intField(env, o, "latentChannels", what, 1, 4096);
  const int contexts = intField(env, o, "contexts", what, 1, 64);
  return prepareTables(env, readTables(env, o, what, levels, channels, contexts));
}

Napi::Value ImageCodecWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<EncodeJob>(env, codec_, info); });
  return runAsync(env, "aic:imageEncode", std::move(job));
}

Napi::Value ImageCodecWrap::EncodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<EncodeJob>(env, codec_, info); }));
}

Napi::Value ImageCodecWrap::Compress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<SearchJob>(env, codec_, info); });
  return runAsync(env, "aic:imageCompress", std::move(job));
}

Napi::Value ImageCodecWrap::CompressSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<SearchJob>(env, codec_, info); }));
}

Napi::Value ImageCodecWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<DecodeJob>(env, codec_, info, true); });
  return runAsync(env, "aic:imageDecode", std::move(job));
}

Napi::Value ImageCodecWrap::DecodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<DecodeJob>(env, codec_, info, false); }));
}

Napi::Value ImageCodecWrap::ModelId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), codec_->modelId()); }

}  // namespace aic::js

