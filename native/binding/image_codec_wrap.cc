#include "image_codec_wrap.h"

#include <cmath>

#include "../core/audio_metrics.h"
#include "../core/metrics.h"
#include "codec_common.h"
#include "convert.h"
#include "job.h"
#include "model_wrap.h"

namespace aic::js {

namespace {
Napi::Object headerToJs(Napi::Env env, const PayloadHeader& h);
}  // namespace

Napi::Object payloadHeaderToJs(Napi::Env env, const PayloadHeader& h) { return headerToJs(env, h); }

int intField(Napi::Env env, Napi::Object o, const char* key, const std::string& what, int lo, int hi) {
  Napi::Value v = o.Get(key);
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) {
    throwInvalid(env, what + "." + key + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int>(d);
}

std::string stringField(Napi::Env env, Napi::Object o, const char* key, const std::string& what) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throwInvalid(env, what + "." + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// Memory of an ArrayBufferView, without copying.
void memoryOf(Napi::Env env, Napi::Value v, const std::string& what, uint8_t*& data, size_t& length) {
  if (!v.IsTypedArray() && !v.IsDataView()) throwInvalid(env, what + " must be a Buffer or TypedArray");
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    length = ta.ByteLength();
  } else {
    auto dv = v.As<Napi::DataView>();
    data = static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    length = dv.ByteLength();
  }
}

// Lends a std::vector's memory to JS as a Buffer; the vector is freed with the Buffer.
Napi::Value lendVector(Napi::Env env, std::vector<uint8_t>&& bytes) {
  if (bytes.empty()) return Napi::Buffer<uint8_t>::New(env, 0);
  auto* owned = new std::vector<uint8_t>(std::move(bytes));
  const int64_t size = static_cast<int64_t>(owned->size());
  Napi::MemoryManagement::AdjustExternalMemory(env, size);
  return Napi::Buffer<uint8_t>::NewOrCopy(env, owned->data(), owned->size(), [size](Napi::Env e, uint8_t*, std::vector<uint8_t>* v) {
    Napi::MemoryManagement::AdjustExternalMemory(e, -size);
    delete v;
  }, owned);
}

Napi::Object timingsToJs(Napi::Env env, const Timings& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("preprocessMs", t.preprocessMs);
  o.Set("inferenceMs", t.inferenceMs);
  o.Set("postprocessMs", t.postprocessMs);
  o.Set("totalMs", t.preprocessMs + t.inferenceMs + t.postprocessMs);
  return o;
}

namespace {

const char* frameTypeName(FrameType t) {
  switch (t) {
    case FrameType::Video: return "video";
    case FrameType::Audio: return "audio";
    case FrameType::Screen: return "screen";
    case FrameType::Data: return "data";
  }
  return "video";
}

const char* codecName(CodecKind c) {
  switch (c) {
    case CodecKind::NeuralImage: return "neural-image";
    case CodecKind::NeuralAudio: return "neural-audio";
    case CodecKind::Deflate: return "deflate";
    case CodecKind::Stored: return "stored";
  }
  return "stored";
}

Napi::Object headerToJs(Napi::Env env, const PayloadHeader& h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", h.version);
  o.Set("frameType", frameTypeName(h.frameType));
  o.Set("codec", codecName(h.codec));
  o.Set("keyframe", (h.flags & kFlagKeyframe) != 0);
  o.Set("fallback", (h.flags & kFlagFallback) != 0);
  o.Set("qualityLevel", h.qualityLevel);
  o.Set("format", h.format);
  o.Set("modelId", static_cast<double>(h.modelId));
  o.Set("sequence", static_cast<double>(h.sequence));
  o.Set("dim0", static_cast<double>(h.dim0));
  o.Set("dim1", static_cast<double>(h.dim1));
  o.Set("timestamp", static_cast<double>(h.timestamp));
  return o;
}

FrameType parseFrameType(Napi::Env env, Napi::Value v) {
  if (v.IsUndefined()) return FrameType::Video;
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "video") return FrameType::Video;
  if (s == "screen") return FrameType::Screen;
  throwInvalid(env, "image frames are of type 'video' or 'screen'");
}

class EncodeJob : public Job {
 public:
  EncodeJob(Napi::Env env, std::shared_ptr<const ImageCodec> codec, const Napi::CallbackInfo& info) : codec_(std::move(codec)) {
    if (!info[0].IsObject()) throwInvalid(env, "frame must be an object { data, width, height, format }");
    Napi::Object f = info[0].As<Napi::Object>();
    uint8_t* data;
    memoryOf(env, f.Get("data"), "frame.data", data, frame_.length);
    frame_.data = data;
    pin(f.Get("data"));
    frame_.width = intField(env, f, "width", "frame", 1, ImageCodec::kMaxDimension);
    frame_.height = intField(env, f, "height", "frame", 1, ImageCodec::kMaxDimension);
    std::string format = stringField(env, f, "format", "frame");
    if (format == "rgb24") frame_.format = PixelFormat::Rgb24;
    else if (format == "rgba") frame_.format = PixelFormat::Rgba;
    else throwInvalid(env, "frame.format must be 'rgb24' or 'rgba', got '" + format + "'");
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    options_.level = intField(env, o, "level", "options", 0, 254);
    if (!o.Get("sequence").IsUndefined()) options_.sequence = static_cast<uint32_t>(intField(env, o, "sequence", "options", 0, 2147483647));
    if (!o.Get("keyframe").IsUndefined()) options_.keyframe = o.Get("keyframe").ToBoolean().Value();
    options_.frameType = parseFrameType(env, o.Get("frameType"));
    Napi::Value ts = o.Get("timestamp");
    if (!ts.IsUndefined()) {
      double d = ts.IsNumber() ? ts.As<Napi::Number>().DoubleValue() : -1;
      if (!std::isfinite(d) || d < 0 || d > 9007199254740991.0) throwInvalid(env, "options.timestamp must be a non-negative number of microseconds");
      options_.timestamp = static_cast<uint64_t>(d);
    }
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

class DecodeJob : public Job {
 public:
  DecodeJob(Napi::Env env, std::shared_ptr<const ImageCodec> codec, const Napi::CallbackInfo& info) : codec_(std::move(codec)) {
    memoryOf(env, info[0], "payload", payload_, payloadLength_);
    pin(info[0]);
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
      memoryOf(env, info[1], "output", out_, outLength_);
      pin(info[1]);
      output_ = Napi::Persistent(info[1].As<Napi::Object>());
    }
  }
  void execute() override { result_ = codec_->decode(payload_, payloadLength_, out_, outLength_); }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", out_ ? output_.Value() : lendVector(env, std::move(result_.pixels)));
    o.Set("width", result_.width);
    o.Set("height", result_.height);
    o.Set("format", result_.format == PixelFormat::Rgba ? "rgba" : "rgb24");
    o.Set("header", headerToJs(env, result_.header));
    o.Set("timings", timingsToJs(env, result_.timings));
    return o;
  }

 private:
  std::shared_ptr<const ImageCodec> codec_;
  uint8_t* payload_ = nullptr;
  size_t payloadLength_ = 0;
  uint8_t* out_ = nullptr;
  size_t outLength_ = 0;
  Napi::ObjectReference output_;
  ImageDecodeResult result_;
};

}  // namespace

std::shared_ptr<const entropy::CdfTableSet> parseTables(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts) {
  auto offsets = typedArrayCopy<int32_t>(env, o.Get("tableOffsets"), napi_int32_array, what + ".tableOffsets");
  auto lengths = typedArrayCopy<uint32_t>(env, o.Get("tableLengths"), napi_uint32_array, what + ".tableLengths");
  auto cdfs = typedArrayCopy<uint32_t>(env, o.Get("cdfs"), napi_uint32_array, what + ".cdfs");
  if (offsets.size() != lengths.size()) throwInvalid(env, what + ": tableOffsets and tableLengths differ in length");
  std::vector<entropy::CdfTable> tables(offsets.size());
  size_t at = 0;
  for (size_t i = 0; i < tables.size(); ++i) {
    if (lengths[i] > cdfs.size() - at) throwInvalid(env, what + ": cdfs is shorter than tableLengths say");
    tables[i].offset = offsets[i];
    tables[i].cdf.assign(cdfs.begin() + at, cdfs.begin() + at + lengths[i]);
    at += lengths[i];
  }
  if (at != cdfs.size()) throwInvalid(env, what + ": cdfs is longer than tableLengths say");
  std::vector<uint8_t> predicted;
  if (!o.Get("predictedChannels").IsUndefined()) predicted = typedArrayCopy<uint8_t>(env, o.Get("predictedChannels"), napi_uint8_array, what + ".predictedChannels");
  return std::make_shared<entropy::CdfTableSet>(levels, channels, contexts, std::move(tables), std::move(predicted));
}

Napi::Function ImageCodecWrap::Init(Napi::Env env) {
  return DefineClass(env, "ImageCodec",
                     {InstanceMethod<&ImageCodecWrap::Encode>("encode"), InstanceMethod<&ImageCodecWrap::EncodeSync>("encodeSync"),
                      InstanceMethod<&ImageCodecWrap::Decode>("decode"), InstanceMethod<&ImageCodecWrap::DecodeSync>("decodeSync"),
                      InstanceAccessor<&ImageCodecWrap::ModelId>("modelId")});
}

ImageCodecWrap::ImageCodecWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ImageCodecWrap>(info) {
  Napi::Env env = info.Env();
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
    c.tables = parseTables(env, o, what, c.levels, c.latentChannels, contexts);
    return std::make_shared<const ImageCodec>(model, std::move(c));
  });
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

Napi::Value ImageCodecWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<DecodeJob>(env, codec_, info); });
  return runAsync(env, "aic:imageDecode", std::move(job));
}

Napi::Value ImageCodecWrap::DecodeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return runSync(env, guard(env, [&] { return std::make_unique<DecodeJob>(env, codec_, info); }));
}

Napi::Value ImageCodecWrap::ModelId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), codec_->modelId()); }

Napi::Value ParsePayloadHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* data;
  size_t length;
  memoryOf(env, info[0], "payload", data, length);
  return guard(env, [&] { return headerToJs(env, parsePayload(data, length).header); });
}

// metrics(a, b, width, height, channels) -> { psnr, ssim, msssim }
Napi::Value ImageMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *a, *b;
  size_t la, lb;
  memoryOf(env, info[0], "a", a, la);
  memoryOf(env, info[1], "b", b, lb);
  auto num = [&](int i, const char* what, int lo, int hi) {
    double d = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) throwInvalid(env, std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(d);
  };
  int w = num(2, "width", 1, 65535), h = num(3, "height", 1, 65535), ch = num(4, "channels", 3, 4);
  size_t need = static_cast<size_t>(w) * h * ch;
  if (la != need || lb != need) throwInvalid(env, "both images must hold width*height*channels = " + std::to_string(need) + " bytes");
  Napi::Object o = Napi::Object::New(env);
  o.Set("psnr", metrics::psnr(a, b, w, h, ch));
  o.Set("ssim", metrics::ssim(a, b, w, h, ch));
  o.Set("msssim", metrics::msssim(a, b, w, h, ch));
  return o;
}

}  // namespace aic::js

namespace aic::js {

// audioMetrics(reference: Float32Array, decoded: Float32Array, sampleRate) -> { siSnrDb, logMelDistanceDb, score }
Napi::Value AudioMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto samples = [&](int i, const char* what) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throwInvalid(env, std::string(what) + " must be a Float32Array of mono samples");
    }
    return info[i].As<Napi::Float32Array>();
  };
  auto ref = samples(0, "reference");
  auto dec = samples(1, "decoded");
  if (ref.ElementLength() != dec.ElementLength()) throwInvalid(env, "reference and decoded must have the same number of samples");
  double rate = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  if (!std::isfinite(rate) || std::floor(rate) != rate) throwInvalid(env, "sampleRate must be an integer number of Hz");
  auto q = guard(env, [&] { return metrics::audioQuality(ref.Data(), dec.Data(), ref.ElementLength(), static_cast<int>(rate)); });
  Napi::Object o = Napi::Object::New(env);
  o.Set("siSnrDb", q.siSnrDb);
  o.Set("logMelDistanceDb", q.logMelDistanceDb);
  o.Set("score", q.score);
  return o;
}

}  // namespace aic::js
