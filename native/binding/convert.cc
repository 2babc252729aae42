#include "convert.h"

#include <cmath>
#include <limits>

#include "codec_common.h"
#include "files.h"

namespace aic::js {

namespace {

Napi::Object requireObject(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsObject() || value.IsArray()) throwInvalid(env, what + " must be an object");
  return value.As<Napi::Object>();
}

std::optional<int64_t> optionalInt(Napi::Env env, Napi::Object obj, const char* key, const std::string& what, int64_t lo,
                                   int64_t hi) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return std::nullopt;
  if (!v.IsNumber()) throwInvalid(env, what + "." + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    throwInvalid(env, what + "." + key + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int64_t>(d);
}

std::optional<bool> optionalBool(Napi::Env env, Napi::Object obj, const char* key, const std::string& what) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return std::nullopt;
  if (!v.IsBoolean()) throwInvalid(env, what + "." + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::optional<std::string> optionalString(Napi::Env env, Napi::Object obj, const char* key, const std::string& what) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return std::nullopt;
  if (!v.IsString()) throwInvalid(env, what + "." + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

ElementType parseType(Napi::Env env, Napi::Value v, const std::string& what) {
  if (!v.IsString()) throwInvalid(env, what + ".type must be a string such as 'float32' or 'uint8'");
  auto t = parseElementType(v.As<Napi::String>().Utf8Value());
  if (!t) throwInvalid(env, what + ".type '" + v.As<Napi::String>().Utf8Value() + "' is not one of float32, float16, uint8, int8, uint16, int16, int32, int64");
  return *t;
}

std::vector<TensorSpec> parseSpecs(Napi::Env env, Napi::Value value, const std::string& what) {
  std::vector<TensorSpec> specs;
  if (!value.IsArray()) throwInvalid(env, what + " must be an array of { name, type, rank }");
  Napi::Array arr = value.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    std::string item = what + "[" + std::to_string(i) + "]";
    Napi::Object o = requireObject(env, arr.Get(i), item);
    TensorSpec spec;
    auto name = optionalString(env, o, "name", item);
    if (!name || name->empty()) throwInvalid(env, item + ".name must be a non-empty string");
    spec.name = *name;
    spec.type = parseType(env, o.Get("type"), item);
    spec.rank = static_cast<int>(optionalInt(env, o, "rank", item, 0, 16).value_or(-1));
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::optional<GraphSignature> parseGraphSignature(Napi::Env env, Napi::Value value, const std::string& what) {
  if (value.IsUndefined()) return std::nullopt;
  Napi::Object o = requireObject(env, value, what);
  GraphSignature sig;
  sig.inputs = parseSpecs(env, o.Get("inputs"), what + ".inputs");
  sig.outputs = parseSpecs(env, o.Get("outputs"), what + ".outputs");
  return sig;
}

ModelSource parseSource(Napi::Env env, Napi::Value value, const std::string& what, Job& job) {
  ModelSource src;
  if (value.IsString()) {
    src.path = value.As<Napi::String>().Utf8Value();
    if (src.path.empty()) throwInvalid(env, what + " path is empty");
    return src;
  }
  if (value.IsTypedArray() || value.IsDataView()) {
    // The engine's own reads of its model files (readFile(), files.h) are shared, not copied.
    const View view = viewOf(env, value, what);
    if (auto shared = view.length ? sharedBytes(env, view.data, view.length) : nullptr) {
      job.keep(shared);
      src.bytes = view.data;
      src.length = view.length;
      return src;
    }
    // Copied now: loading runs on a worker, and the caller may drop or detach its Buffer meanwhile.
    auto bytes = copyOf(env, value, what);
    src.length = bytes.size();
    src.bytes = job.own(std::move(bytes));
    if (src.length == 0) {
      static const uint8_t empty = 0;
      src.bytes = &empty;  // non-null marks "from bytes"; the core rejects length 0
    }
    return src;
  }
  throwInvalid(env, what + " must be a file path or a Buffer holding an ONNX model");
}

Napi::Array shapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array arr = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(shape[i])));
  return arr;
}

Napi::Array tensorInfosToJs(Napi::Env env, const std::vector<TensorInfo>& infos) {
  Napi::Array arr = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", infos[i].name);
    o.Set("type", infos[i].type ? std::string(elementTypeName(*infos[i].type)) : infos[i].onnxTypeName);
    o.Set("shape", shapeToJs(env, infos[i].shape));
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

Napi::Object graphInfoToJs(Napi::Env env, const Graph& graph) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("provider", graph.provider().provider);
  o.Set("fallbackReason", graph.provider().fallbackReason.empty() ? env.Null() : Napi::String::New(env, graph.provider().fallbackReason));
  o.Set("inputs", tensorInfosToJs(env, graph.inputs()));
  o.Set("outputs", tensorInfosToJs(env, graph.outputs()));
  switch (graph.optimizedFrom()) {
    case OptimizedFrom::Source: o.Set("optimizedGraph", env.Null()); break;
    case OptimizedFrom::Saved: o.Set("optimizedGraph", "saved"); break;
    case OptimizedFrom::Cache: o.Set("optimizedGraph", "cache"); break;
  }
  return o;
}

const char* providerName(ProviderPreference p) {
  switch (p) {
    case ProviderPreference::Cpu: return "cpu";
    case ProviderPreference::Cuda: return "cuda";
    case ProviderPreference::Auto: return "auto";
  }
  return "auto";
}

const char* optimizationName(GraphOptimization g) {
  switch (g) {
    case GraphOptimization::Disabled: return "disabled";
    case GraphOptimization::Basic: return "basic";
    case GraphOptimization::Extended: return "extended";
    case GraphOptimization::All: return "all";
  }
  return "all";
}

}  // namespace

EngineOptions parseEngineOptions(Napi::Env env, Napi::Value value) {
  EngineOptions opts;
  if (value.IsUndefined() || value.IsNull()) return opts;
  const std::string what = "engine options";
  Napi::Object o = requireObject(env, value, what);
  if (auto v = optionalInt(env, o, "intraOpThreads", what, 0, 256)) opts.intraOpThreads = static_cast<int>(*v);
  if (auto v = optionalInt(env, o, "interOpThreads", what, 1, 256)) opts.interOpThreads = static_cast<int>(*v);
  if (auto v = optionalBool(env, o, "allowSpinning", what)) opts.allowSpinning = *v;
  if (auto v = optionalBool(env, o, "strictProvider", what)) opts.strictProvider = *v;
  if (auto v = optionalInt(env, o, "cudaDeviceId", what, 0, 64)) opts.cudaDeviceId = static_cast<int>(*v);
  if (auto v = optionalInt(env, o, "logSeverity", what, 0, 4)) opts.logSeverity = static_cast<int>(*v);
  if (auto v = optionalString(env, o, "executionProvider", what)) {
    if (*v == "cpu") opts.provider = ProviderPreference::Cpu;
    else if (*v == "cuda") opts.provider = ProviderPreference::Cuda;
    else if (*v == "auto") opts.provider = ProviderPreference::Auto;
    else throwInvalid(env, what + ".executionProvider must be 'cpu', 'cuda' or 'auto', got '" + *v + "'");
  }
  if (auto v = optionalString(env, o, "graphOptimization", what)) {
    if (*v == "disabled") opts.graphOptimization = GraphOptimization::Disabled;
    else if (*v == "basic") opts.graphOptimization = GraphOptimization::Basic;
    else if (*v == "extended") opts.graphOptimization = GraphOptimization::Extended;
    else if (*v == "all") opts.graphOptimization = GraphOptimization::All;
    else throwInvalid(env, what + ".graphOptimization must be 'disabled', 'basic', 'extended' or 'all', got '" + *v + "'");
  }
  return opts;
}

ModelLoadRequest parseLoadRequest(Napi::Env env, Napi::Value value, Job& job) {
  const std::string what = "model";
  Napi::Object o = requireObject(env, value, what);
  ModelLoadRequest req;
  auto name = optionalString(env, o, "name", what);
  if (!name) throwInvalid(env, "model.name must be a string");
  req.name = *name;
  req.encoder = parseSource(env, o.Get("encoder"), "model.encoder", job);
  req.decoder = parseSource(env, o.Get("decoder"), "model.decoder", job);
  Napi::Value sig = o.Get("signature");
  if (!sig.IsUndefined()) {
    Napi::Object s = requireObject(env, sig, "model.signature");
    req.encoderSignature = parseGraphSignature(env, s.Get("encoder"), "model.signature.encoder");
    req.decoderSignature = parseGraphSignature(env, s.Get("decoder"), "model.signature.decoder");
  }
  if (auto v = optionalBool(env, o, "callingThreadOnly", what)) req.callingThreadOnly = *v;
  return req;
}

void parseGraphCaches(Napi::Env env, Napi::Value value, ModelLoadRequest& req, Job& job) {
  if (value.IsUndefined()) return;
  Napi::Object o = requireObject(env, value, "graph cache");
  for (const char* part : {"encoder", "decoder"}) {
    Napi::Value v = o.Get(part);
    if (v.IsUndefined()) continue;
    const std::string what = std::string("graph cache.") + part;
    Napi::Object g = requireObject(env, v, what);
    OptimizedGraphCache cache;
    Napi::Value optimized = g.Get("optimized");
    if (!optimized.IsUndefined()) {
      if (!optimized.IsTypedArray() && !optimized.IsDataView()) throwInvalid(env, what + ".optimized must be a Buffer");
      cache.optimized = parseSource(env, optimized, what + ".optimized", job);
    }
    auto saveTo = optionalString(env, g, "saveTo", what);
    if (saveTo) cache.saveTo = *saveTo;
    cache.required = g.Get("required").ToBoolean().Value();
    (std::string(part) == "encoder" ? req.encoderCache : req.decoderCache) = std::move(cache);
  }
}

std::vector<PendingTensor> parseTensorMap(Napi::Env env, Napi::Value value, const std::string& what) {
  std::vector<PendingTensor> tensors;
  if (value.IsUndefined() || value.IsNull()) return tensors;
  Napi::Object map = requireObject(env, value, what);
  Napi::Array keys = map.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string name = keys.Get(i).ToString().Utf8Value();
    std::string item = what + "." + name;
    Napi::Object t = requireObject(env, map.Get(name), item);
    PendingTensor p;
    p.what = item;
    TensorView& view = p.view;
    view.name = name;
    view.type = parseType(env, t.Get("type"), item);
    Napi::Value shape = t.Get("shape");
    if (!shape.IsArray()) throwInvalid(env, item + ".shape must be an array of non-negative integers");
    Napi::Array dims = shape.As<Napi::Array>();
    if (dims.Length() > 16) throwInvalid(env, item + ".shape has more than 16 dimensions");
    for (uint32_t d = 0; d < dims.Length(); ++d) {
      Napi::Value dim = dims.Get(d);
      double x = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1;
      if (!std::isfinite(x) || x < 0 || std::floor(x) != x || x > static_cast<double>(std::numeric_limits<int32_t>::max())) {
        throwInvalid(env, item + ".shape[" + std::to_string(d) + "] must be a non-negative integer");
      }
      view.shape.push_back(static_cast<int64_t>(x));
    }
    p.data = t.Get("data");
    if (!p.data.IsTypedArray() && !p.data.IsDataView()) throwInvalid(env, item + ".data must be a Buffer, TypedArray or DataView");
    tensors.push_back(std::move(p));
  }
  return tensors;
}

std::vector<TensorView> captureTensors(Napi::Env env, std::vector<PendingTensor>& tensors, TensorMemory memory, Job& job,
                                       std::vector<Napi::ObjectReference>* objects) {
  std::vector<TensorView> views;
  for (auto& p : tensors) {
    TensorView view = std::move(p.view);
    if (memory == TensorMemory::InPlace) {
      const View v = viewOf(env, p.data, p.what + ".data");
      view.data = v.data;
      view.byteLength = v.length;
    } else {
      std::vector<uint8_t> bytes = memory == TensorMemory::Copy ? copyOf(env, p.data, p.what + ".data") : std::vector<uint8_t>(viewOf(env, p.data, p.what + ".data").length);
      view.byteLength = bytes.size();
      view.data = job.own(std::move(bytes));
    }
    job.pin(p.data);
    if (objects) objects->push_back(Napi::Persistent(p.data.As<Napi::Object>()));
    views.push_back(std::move(view));
  }
  return views;
}

Part parsePart(Napi::Env env, Napi::Value value) {
  std::string s = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (s == "encoder") return Part::Encoder;
  if (s == "decoder") return Part::Decoder;
  throwInvalid(env, "part must be 'encoder' or 'decoder'");
}

Napi::Object engineInfoToJs(Napi::Env env, const Engine& engine) {
  Napi::Object o = Napi::Object::New(env);
  const EngineOptions& opts = engine.options();
  o.Set("ortVersion", Engine::ortVersion());
  o.Set("ortApiVersion", Engine::apiVersion());
  Napi::Array providers = Napi::Array::New(env, engine.availableProviders().size());
  for (size_t i = 0; i < engine.availableProviders().size(); ++i) providers.Set(static_cast<uint32_t>(i), engine.availableProviders()[i]);
  o.Set("availableProviders", providers);
  o.Set("requestedProvider", providerName(opts.provider));
  o.Set("strictProvider", opts.strictProvider);
  o.Set("intraOpThreads", engine.intraOpThreads());
  o.Set("interOpThreads", opts.interOpThreads);
  o.Set("allowSpinning", opts.allowSpinning);
  o.Set("graphOptimization", optimizationName(opts.graphOptimization));
  o.Set("closed", engine.closed());
  return o;
}

Napi::Object modelInfoToJs(Napi::Env env, const CodecModel& model) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", model.name());
  o.Set("encoder", graphInfoToJs(env, model.graph(Part::Encoder)));
  o.Set("decoder", graphInfoToJs(env, model.graph(Part::Decoder)));
  return o;
}

Napi::Object modelStatsToJs(Napi::Env env, const CodecModel& model) {
  Napi::Object o = Napi::Object::New(env);
  const CopyCounters& e = model.graph(Part::Encoder).counters();
  const CopyCounters& d = model.graph(Part::Decoder).counters();
  o.Set("encoderRuns", static_cast<double>(e.runs.load()));
  o.Set("decoderRuns", static_cast<double>(d.runs.load()));
  o.Set("inputBytesCopied", static_cast<double>(e.inputBytesCopied.load() + d.inputBytesCopied.load()));
  o.Set("outputBytesCopied", static_cast<double>(e.outputBytesCopied.load() + d.outputBytesCopied.load()));
  return o;
}

}  // namespace aic::js
