// Helpers shared by the image and audio codec bindings (defined in image_codec_wrap.cc).
#pragma once

#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "js_errors.h"

#include "format/bitstream.h"
#include "entropy/cdf_tables.h"
#include "image/image_codec.h"

namespace aic::js {

// Caller memory (docs/native-core.md, "Caller memory"). The bytes of an ArrayBufferView (Buffer,
// TypedArray, DataView) over an ArrayBuffer or a SharedArrayBuffer, read on the JS thread; a
// detached buffer is INVALID_ARGUMENT. A view is valid only until JS runs again (a getter, the
// end of the call): async jobs take a copy (copyOf) and write results back with writeBack().
struct View {
  uint8_t* data = nullptr;
  size_t length = 0;
};
View viewOf(Napi::Env env, Napi::Value v, const std::string& what);
// A native copy of a view's bytes, taken now: what an async job reads.
std::vector<uint8_t> copyOf(Napi::Env env, Napi::Value v, const std::string& what);
// Copies a job's result into the caller's `out` view on the JS thread, after checking that it is
// still attached and still `length` bytes long (else INVALID_ARGUMENT).
void writeBack(Napi::Env env, Napi::Value out, const std::string& what, const uint8_t* bytes, size_t length);
// viewOf() as (data, length), for synchronous use only.
void memoryOf(Napi::Env env, Napi::Value v, const std::string& what, uint8_t*& data, size_t& length);
Napi::Value lendVector(Napi::Env env, std::vector<uint8_t>&& bytes);
Napi::Object timingsToJs(Napi::Env env, const Timings& t);
Napi::Object payloadHeaderToJs(Napi::Env env, const PayloadHeader& h);
class Job;
// { data, width, height, format } -> frame, over a copy of data that `job` owns (taken now, so
// that nothing the caller does to its buffer later reaches the worker). Shared by the image
// codec's and the inter stream's jobs.
void parseImageFrame(Napi::Env env, Napi::Value v, ImageFrame& frame, Job& job);
// A decoded image as JS: { data, width, height, format, header, timings }; `output` (the
// caller's buffer, already written) is data when given, else the pixels are lent.
Napi::Object decodedImageToJs(Napi::Env env, ImageDecodeResult& result, Napi::Value output);
// info[i] as a Float32Array of mono samples, else INVALID_ARGUMENT naming `what`.
// Whether `v` is an object tagged with `tag` at construction (napi_type_tag_object): checked
// before Unwrap(), which would read any other object's internal field as if it were the class's.
inline bool hasTypeTag(Napi::Value v, const napi_type_tag& tag) { return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&tag); }
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
  const View view = viewOf(env, v, what);
  std::vector<T> out(view.length / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), view.data, out.size() * sizeof(T));
  return out;
}
// The entropy tables of a codec config ({ tableOffsets, tableLengths, cdfs, predictedChannels?,
// tableGroups? }), copied out of its typed arrays on the JS thread (whole arrays, checked to agree
// with each other); build() hands them to a CdfTableSet, which checks the tables and prepares them
// for the encoder, on whichever thread calls it.
struct TableSource {
  int levels = 0;
  int channels = 0;
  int contexts = 0;
  std::vector<int32_t> offsets;
  std::vector<uint32_t> lengths;
  std::vector<uint32_t> cdfs;
  std::vector<uint8_t> predicted;
  std::vector<uint16_t> groups;
  std::shared_ptr<const entropy::CdfTableSet> build();
};
TableSource readTables(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts);
// { tableOffsets, tableLengths, cdfs, predictedChannels? } of a codec config -> validated tables.
std::shared_ptr<const entropy::CdfTableSet> parseTables(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts);
// The tables a codec constructor uses: config.entropyTables when set (an EntropyTables object
// from ImageCodec/AudioCodec.prepareTables(), checked to have these dimensions), else parsed
// from the config's arrays now (parseTables).
std::shared_ptr<const entropy::CdfTableSet> tablesOf(Napi::Env env, Napi::Object o, const std::string& what, int levels, int channels, int contexts);
// A Promise of an EntropyTables object: `source` built on a libuv worker thread (engine start
// builds the codecs' tables while ONNX Runtime creates their sessions).
Napi::Value prepareTables(Napi::Env env, TableSource&& source);

// JS class `EntropyTables`: built tables, opaque to JS (constructed only by prepareTables()).
class EntropyTablesWrap : public Napi::ObjectWrap<EntropyTablesWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit EntropyTablesWrap(const Napi::CallbackInfo& info);
  const std::shared_ptr<const entropy::CdfTableSet>& tables() const { return tables_; }

 private:
  std::shared_ptr<const entropy::CdfTableSet> tables_;
};

}  // namespace aic::js
