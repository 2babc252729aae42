// Entry point of the native module: registers the Engine and Model classes and a few constants.
#include <napi.h>

#include "runtime/engine.h"
#include "runtime/gpu_utilization.h"
#include "runtime/onnxruntime_library.h"
#include "runtime/warmup.h"
#include "format/crc32c.h"
#include "js_errors.h"
#include "addon_data.h"
#include "audio_codec_wrap.h"
#include "audio_score_wrap.h"
#include "codec_common.h"
#include "engine_wrap.h"
#include "faults_wrap.h"
#include "files.h"
#include "image_codec_wrap.h"
#include "inter_codec_wrap.h"
#include "metrics_wrap.h"
#include "model_wrap.h"
#include "motion_wrap.h"
#include "opus_wrap.h"
#include "pixels_wrap.h"

namespace {

Napi::Object libraryObject(Napi::Env env, const aic::runtime::OnnxRuntimeLibrary& lib) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", lib.path);
  o.Set("version", lib.version);
  return o;
}

// loadOnnxRuntime(path): runs this process on the ONNX Runtime at `path` (once; see
// runtime/onnxruntime_library.h). src/native/onnxruntime.ts picks the file before any engine starts.
// startWarmup(): ONNX Runtime's one-time work on a thread of its own (runtime/warmup.h), right
// after the library is chosen; awaitWarmup() waits for it (the process must before it exits).
Napi::Value StartWarmup(const Napi::CallbackInfo& info) {
  aic::runtime::startWarmup();
  return info.Env().Undefined();
}
Napi::Value AwaitWarmup(const Napi::CallbackInfo& info) {
  aic::runtime::awaitWarmup();
  return info.Env().Undefined();
}

// crc32c(bytes): the CRC-32C of an ArrayBufferView, synchronous (SSE4.2: megabytes in a fraction
// of a millisecond); what closes the engine's cache entries (src/cache-check.ts).
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) aic::js::throwInvalid(env, "crc32c(bytes) needs an ArrayBufferView");
  return aic::js::guard(env, [&] {
    uint8_t* data = nullptr;
    size_t length = 0;
    aic::js::memoryOf(env, info[0], "crc32c(bytes)", data, length);
    return Napi::Number::New(env, aic::crc32c(data, length));
  });
}

Napi::Value LoadOnnxRuntime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) aic::js::throwInvalid(env, "loadOnnxRuntime(path) needs the library's path");
  std::string path = info[0].As<Napi::String>();
  return aic::js::guard(env, [&] { return libraryObject(env, aic::runtime::loadOnnxRuntime(path)); });
}

// onnxRuntime(): the library in use, or null before one is loaded.
Napi::Value OnnxRuntimeInUse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!aic::runtime::onnxRuntimeLoaded()) return env.Null();
  return libraryObject(env, aic::runtime::onnxRuntime());
}

// ortVersion is read lazily: reading it loads the default ONNX Runtime when none is loaded yet.
Napi::Value OrtVersion(const Napi::CallbackInfo& info) {
  return aic::js::guard(info.Env(), [&] { return Napi::String::New(info.Env(), aic::Engine::ortVersion()); });
}

// cpuSignature: the processor's features as the optimised-graph cache keys them (engine.h).
Napi::Value CpuSignature(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), aic::Engine::cpuSignature()); }

// gpuUtilization(index): NVML's utilisation percent of that GPU, or null without NVML.
Napi::Value GpuUtilization(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) aic::js::throwInvalid(env, "gpuUtilization(index) needs a device index");
  int percent = aic::runtime::gpuUtilizationPercent(info[0].As<Napi::Number>().Int32Value());
  return percent < 0 ? env.Null() : Napi::Number::New(env, percent);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new aic::js::AddonData();
  env.SetInstanceData(data);
  data->modelConstructor = Napi::Persistent(aic::js::ModelWrap::Init(env));
  exports.Set("Engine", aic::js::EngineWrap::Init(env));
  exports.Set("Model", data->modelConstructor.Value());
  exports.Set("ImageCodec", aic::js::ImageCodecWrap::Init(env));
  exports.Set("InterModel", aic::js::InterModelWrap::Init(env));
  exports.Set("InterStream", aic::js::InterStreamWrap::Init(env));
  exports.Set("AudioCodec", aic::js::AudioCodecWrap::Init(env));
  data->audioEncoderConstructor = Napi::Persistent(aic::js::AudioEncoderWrap::Init(env));
  // For its static encodeAndScoreBatch() (src/audio-batcher.ts); instances come from createEncoder().
  exports.Set("AudioEncoderStream", data->audioEncoderConstructor.Value());
  data->audioDecoderConstructor = Napi::Persistent(aic::js::AudioDecoderWrap::Init(env));
  data->entropyTablesConstructor = Napi::Persistent(aic::js::EntropyTablesWrap::Init(env));
  exports.Set("AudioScoreWindow", aic::js::AudioScoreWindowWrap::Init(env));
  exports.Set("OpusEncoderStream", aic::js::OpusEncoderWrap::Init(env));
  exports.Set("OpusDecoderStream", aic::js::OpusDecoderWrap::Init(env));
  exports.Set("parsePayloadHeader", Napi::Function::New(env, aic::js::ParsePayloadHeader, "parsePayloadHeader"));
  exports.Set("packPayload", Napi::Function::New(env, aic::js::PackPayload, "packPayload"));
  exports.Set("i420Metrics", Napi::Function::New(env, aic::js::I420Metrics, "i420Metrics"));
  exports.Set("imageMetrics", Napi::Function::New(env, aic::js::ImageMetrics, "imageMetrics"));
  exports.Set("scoreFrame", Napi::Function::New(env, aic::js::ScoreFrame, "scoreFrame"));
  exports.Set("convertFrame", Napi::Function::New(env, aic::js::ConvertFrame, "convertFrame"));
  exports.Set("audioMetrics", Napi::Function::New(env, aic::js::AudioMetrics, "audioMetrics"));
  // Internal: the motion search of the coming inter-frame path, for bench/motion-search.mjs.
  exports.Set("motionSearch", Napi::Function::New(env, aic::js::MotionSearch, "motionSearch"));
  // TEST ONLY (native/core/common/faults.h): the fault injector of bench/faults.mjs and test/faults.test.ts.
  exports.Set("faults", aic::js::FaultsInit(env));
  exports.Set("readFile", Napi::Function::New(env, aic::js::ReadFile, "readFile"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("loadOnnxRuntime", Napi::Function::New(env, LoadOnnxRuntime, "loadOnnxRuntime"));
  exports.Set("startWarmup", Napi::Function::New(env, StartWarmup, "startWarmup"));
  exports.Set("awaitWarmup", Napi::Function::New(env, AwaitWarmup, "awaitWarmup"));
  // A worker thread's addon instance going away must not leave the warm-up running unowned.
  napi_add_env_cleanup_hook(env, [](void*) { aic::runtime::awaitWarmup(); }, nullptr);
  exports.Set("gpuUtilization", Napi::Function::New(env, GpuUtilization, "gpuUtilization"));
  exports.Set("onnxRuntime", Napi::Function::New(env, OnnxRuntimeInUse, "onnxRuntime"));
  exports.Set("onnxRuntimeFileName", Napi::String::New(env, aic::runtime::onnxRuntimeFileName()));
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor<OrtVersion>("ortVersion", napi_enumerable));
  exports.Set("ortApiVersion", Napi::Number::New(env, aic::Engine::apiVersion()));
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor<CpuSignature>("cpuSignature", napi_enumerable));
  return exports;
}

}  // namespace

NODE_API_MODULE(aic, Init)
