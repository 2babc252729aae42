// Helpers shared by the image and audio codec bindings (defined in image_codec_wrap.cc).
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "js_errors.h"

#include "../core/bitstream.h"
#include "../core/cdf_tables.h"
#include "../core/image_codec.h"

namespace aic::js {

void memoryOf(Napi::Env env, Napi::Value v, const std::string& what, uint8_t*& data, size_t& length);
Napi::Value lendVector(Napi::Env env, std::vector<uint8_t>&& bytes);
Napi::Object timingsToJs(Napi::Env env, const Timings& t);
Napi::Object payloadHeaderToJs(Napi::Env env, const PayloadHeader& h);
// info[i] as a Float32Array of mono samples, else INVALID_ARGUMENT naming `what`.
Napi::Float32Array monoSamples(const Napi::CallbackInfo& info, int i, const char* what);
// The measures of an audio comparison as { siSnrDb, logMelDistanceDb, score }.
Napi::Object audioQualityToJs(Napi::Env env, double siSnrDb, double logMelDistanceDb, double score);
// o.timestamp in microseconds (a non-negative safe integer), or `fallback` when absent.
uint64_t timestampField(Napi::Env env, Napi::Object o, const std::string& what, uint64_t fallback);
// info[i] as an integer in [lo, hi], else INVALID_ARGUMENT naming `what`.
int intArg(const Napi::CallbackInfo& info, int i, const char* what, int lo, int hi);
int intField(Napi::Env env, Napi::Object o, const char* key, const std::string& what, int lo, int hi);
// A finite number field (range checks are the core's).
double numberField(Napi::Env env, Napi::Object o, const char* key, const std::string& what);
std::string stringField(Napi::Env env, Napi::Object o, const char* key, const std::string& what);
template <typename T>
std::vector<T> typedArrayCopy(Napi::Env env, Napi::Value v, napi_typedarray_type type, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throwInvalid(env, what + " has the wrong array type");
  auto ta = v.As<Napi::TypedArray>();
  const T* p = reinterpret_cast<const T*>(static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
  return std::vector<T>(p, p + ta.ElementLength());
}
// { tableOffsets, tableLengths, cdfs, predictedChannels? } of a codec config -> validated tables.
std::shared_ptr<const entropy::CdfTableSet> parseTables(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts);

}  // namespace aic::js
