// Helpers shared by the codec bindings: reading config fields and memory, lending native
// vectors to JS, timings and payload headers as JS objects, entropy tables from a config.
#include "codec_common.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "addon_data.h"
#include "job.h"

namespace aic::js {

int intField(Napi::Env env, Napi::Object o, const char* key, const std::string& what, int lo, int hi) {
  Napi::Value v = o.Get(key);
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) {
    throwInvalid(env, what + "." + key + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int>(d);
}

double numberField(Napi::Env env, Napi::Object o, const char* key, const std::string& what) {
  Napi::Value v = o.Get(key);
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d)) throwInvalid(env, what + "." + key + " must be a finite number");
  return d;
}

std::string stringField(Napi::Env env, Napi::Object o, const char* key, const std::string& what) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throwInvalid(env, what + "." + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

View viewOf(Napi::Env env, Napi::Value v, const std::string& what) {
  napi_value buffer = nullptr;
  void* data = nullptr;
  size_t length = 0, offset = 0;
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t count = 0;
    if (napi_get_typedarray_info(env, v, &type, &count, &data, &buffer, &offset) != napi_ok) throwInvalid(env, what + " could not be read as a TypedArray");
    length = v.As<Napi::TypedArray>().ByteLength();
  } else if (v.IsDataView()) {
    if (napi_get_dataview_info(env, v, &length, &data, &buffer, &offset) != napi_ok) throwInvalid(env, what + " could not be read as a DataView");
  } else {
    throwInvalid(env, what + " must be a Buffer, TypedArray or DataView");
  }
  bool detached = false;
  if (buffer != nullptr && napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok) detached = false;
  if (detached) {
    throwInvalid(env, what + "'s ArrayBuffer is detached (transferred or detached); keep the memory of a call's Buffers alive and untouched until the call settles");
  }
  if (length == 0 || data == nullptr) return {};
  return {static_cast<uint8_t*>(data), length};
}

std::vector<uint8_t> copyOf(Napi::Env env, Napi::Value v, const std::string& what) {
  const View view = viewOf(env, v, what);
  return std::vector<uint8_t>(view.data, view.data + view.length);
}

void writeBack(Napi::Env env, Napi::Value out, const std::string& what, const uint8_t* bytes, size_t length) {
  const View now = viewOf(env, out, what);
  if (now.length != length) {
    throwInvalid(env, what + " was resized while the call ran (" + std::to_string(length) + " bytes when the call started, " + std::to_string(now.length) +
                          " now); keep a call's output Buffer untouched until the call settles");
  }
  if (length) std::memcpy(now.data, bytes, length);
}

void memoryOf(Napi::Env env, Napi::Value v, const std::string& what, uint8_t*& data, size_t& length) {
  const View view = viewOf(env, v, what);
  data = view.data;
  length = view.length;
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
    case CodecKind::WebP: return "webp";
    case CodecKind::Jpeg: return "jpeg";
    case CodecKind::Opus: return "opus";
    case CodecKind::Predicted: return "predicted";
  }
  return "stored";
}

}  // namespace

Napi::Object payloadHeaderToJs(Napi::Env env, const PayloadHeader& h) {
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

TableSource readTables(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts) {
  TableSource source;
  source.levels = levels;
  source.channels = channels;
  source.contexts = contexts;
  // Whole arrays, one copy each (all the JS thread does); build() splits them into tables.
  source.offsets = typedArrayCopy<int32_t>(env, o.Get("tableOffsets"), napi_int32_array, what + ".tableOffsets");
  source.lengths = typedArrayCopy<uint32_t>(env, o.Get("tableLengths"), napi_uint32_array, what + ".tableLengths");
  source.cdfs = typedArrayCopy<uint32_t>(env, o.Get("cdfs"), napi_uint32_array, what + ".cdfs");
  if (source.offsets.size() != source.lengths.size()) throwInvalid(env, what + ": tableOffsets and tableLengths differ in length");
  size_t at = 0;
  for (uint32_t length : source.lengths) {
    if (length > source.cdfs.size() - at) throwInvalid(env, what + ": cdfs is shorter than tableLengths say");
    at += length;
  }
  if (at != source.cdfs.size()) throwInvalid(env, what + ": cdfs is longer than tableLengths say");
  if (!o.Get("predictedChannels").IsUndefined()) source.predicted = typedArrayCopy<uint8_t>(env, o.Get("predictedChannels"), napi_uint8_array, what + ".predictedChannels");
  if (!o.Get("tableGroups").IsUndefined()) source.groups = typedArrayCopy<uint16_t>(env, o.Get("tableGroups"), napi_uint16_array, what + ".tableGroups");
  return source;
}

std::shared_ptr<const entropy::CdfTableSet> TableSource::build() {
  return std::make_shared<entropy::CdfTableSet>(levels, channels, contexts, std::move(offsets), lengths, std::move(cdfs), std::move(predicted), std::move(groups));
}

std::shared_ptr<const entropy::CdfTableSet> parseTables(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts) {
  return readTables(env, o, what, levels, channels, contexts).build();
}

std::shared_ptr<const entropy::CdfTableSet> tablesOf(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts) {
  Napi::Value prepared = o.Get("entropyTables");
  if (prepared.IsUndefined()) return parseTables(env, o, what, levels, channels, contexts);
  if (!prepared.IsObject() || !prepared.As<Napi::Object>().InstanceOf(addonData(env).entropyTablesConstructor.Value())) {
    throwInvalid(env, what + ".entropyTables must be an EntropyTables from prepareTables()");
  }
  const auto& tables = EntropyTablesWrap::Unwrap(prepared.As<Napi::Object>())->tables();
  if (tables->levels() != levels || tables->channels() != channels || tables->contexts() != contexts) {
    throwInvalid(env, what + ".entropyTables were prepared for " + std::to_string(tables->levels()) + " levels x " + std::to_string(tables->channels()) +
                          " channels x " + std::to_string(tables->contexts()) + " contexts, the config has " + std::to_string(levels) + " x " +
                          std::to_string(channels) + " x " + std::to_string(contexts));
  }
  return tables;
}

namespace {

class PrepareTablesJob : public Job {
 public:
  explicit PrepareTablesJob(TableSource&& source) : source_(std::move(source)) {}
  void execute() override { tables_ = source_.build(); }
  Napi::Value toJs(Napi::Env env) override {
    auto holder = std::make_unique<std::shared_ptr<const entropy::CdfTableSet>>(std::move(tables_));
    return addonData(env).entropyTablesConstructor.New({Napi::External<std::shared_ptr<const entropy::CdfTableSet>>::New(env, holder.get())});
  }

 private:
  TableSource source_;
  std::shared_ptr<const entropy::CdfTableSet> tables_;
};

}  // namespace

Napi::Value prepareTables(Napi::Env env, TableSource&& source) {
  return runAsync(env, "aic:prepareTables", std::make_unique<PrepareTablesJob>(std::move(source)));
}

Napi::Function EntropyTablesWrap::Init(Napi::Env env) { return DefineClass(env, "EntropyTables", {}); }

EntropyTablesWrap::EntropyTablesWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EntropyTablesWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    throwInvalid(info.Env(), "EntropyTables cannot be constructed directly; use ImageCodec.prepareTables() or AudioCodec.prepareTables()");
  }
  tables_ = *info[0].As<Napi::External<std::shared_ptr<const entropy::CdfTableSet>>>().Data();
}

Napi::Float32Array monoSamples(const Napi::CallbackInfo& info, int i, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throwInvalid(info.Env(), std::string(what) + " must be a Float32Array of mono samples");
  }
  viewOf(info.Env(), info[i], what);  // refuses a detached one
  return info[i].As<Napi::Float32Array>();
}

Napi::Object audioQualityToJs(Napi::Env env, double siSnrDb, double logMelDistanceDb, double score) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("siSnrDb", siSnrDb);
  o.Set("logMelDistanceDb", logMelDistanceDb);
  o.Set("score", score);
  return o;
}

uint64_t timestampField(Napi::Env env, Napi::Object o, const std::string& what, uint64_t fallback) {
  Napi::Value ts = o.Get("timestamp");
  if (ts.IsUndefined()) return fallback;
  const double d = ts.IsNumber() ? ts.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 9007199254740991.0)) throwInvalid(env, what + ".timestamp must be a non-negative number of microseconds");
  return static_cast<uint64_t>(d);
}

int intArg(const Napi::CallbackInfo& info, int i, const char* what, int lo, int hi) {
  const double d = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) {
    throwInvalid(info.Env(), std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int>(d);
}

// { data, width, height, format } -> frame, over a copy of data that `job` owns (taken now, so
// that nothing the caller does to its buffer later reaches the worker).
void parseImageFrame(Napi::Env env, Napi::Value v, ImageFrame& frame, Job& job) {
  if (!v.IsObject()) throwInvalid(env, "frame must be an object { data, width, height, format }");
  Napi::Object f = v.As<Napi::Object>();
  auto bytes = copyOf(env, f.Get("data"), "frame.data");
  frame.length = bytes.size();
  frame.data = job.own(std::move(bytes));
  frame.width = intField(env, f, "width", "frame", 1, ImageCodec::kMaxDimension);
  frame.height = intField(env, f, "height", "frame", 1, ImageCodec::kMaxDimension);
  std::string format = stringField(env, f, "format", "frame");
  if (format == "rgb24") frame.format = PixelFormat::Rgb24;
  else if (format == "rgba") frame.format = PixelFormat::Rgba;
  else if (format == "i420") frame.format = PixelFormat::I420;
  else throwInvalid(env, "frame.format must be 'rgb24', 'rgba' or 'i420', got '" + format + "'");
}

Napi::Object decodedImageToJs(Napi::Env env, ImageDecodeResult& result, Napi::Value output) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", output.IsEmpty() ? lendVector(env, std::move(result.pixels)) : output);
  o.Set("width", result.width);
  o.Set("height", result.height);
  o.Set("format", formatName(result.format));
  o.Set("header", payloadHeaderToJs(env, result.header));
  o.Set("timings", timingsToJs(env, result.timings));
  return o;
}

}  // namespace aic::js
