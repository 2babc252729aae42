#include "runtime/graph.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#ifdef _WIN32
#include <malloc.h>
#endif

#include "common/errors.h"
#include "common/faults.h"

namespace aic {

namespace {

bool isAligned(const void* p, size_t alignment) {
  return alignment <= 1 || reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

// MSVC's C library has no aligned_alloc; its _aligned_malloc needs _aligned_free.
struct FreeDeleter {
#ifdef _WIN32
  void operator()(void* p) const { _aligned_free(p); }
#else
  void operator()(void* p) const { std::free(p); }
#endif
};

// Aligned scratch for the rare input whose view is not aligned to its element size (a Float32
// view at an odd Buffer offset). 64-byte alignment suits every SIMD kernel of ONNX Runtime.
std::unique_ptr<void, FreeDeleter> alignedCopy(const void* src, size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
#ifdef _WIN32
  void* p = _aligned_malloc(rounded == 0 ? 64 : rounded, 64);
#else
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
#endif
  if (!p) throw std::bad_alloc();
  std::memcpy(p, src, bytes);
  return std::unique_ptr<void, FreeDeleter>(p);
}

std::string onnxTypeName(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return "bool";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return "string";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return "uint32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return "uint64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    default: {
      auto et = fromOnnx(t);
      return et ? elementTypeName(*et) : "onnx type " + std::to_string(static_cast<int>(t));
    }
  }
}

const TensorInfo* findInfo(const std::vector<TensorInfo>& list, const std::string& name) {
  for (const auto& info : list) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string namesOf(const std::vector<TensorInfo>& list) {
  std::string s;
  for (const auto& info : list) s += (s.empty() ? "'" : ", '") + info.name + "'";
  return s;
}

// Checks a view against the graph's description of that tensor: type, rank, fixed dims, size.
void checkView(const TensorView& view, const TensorInfo& info, const std::string& what, ErrorCode code) {
  if (!info.type) {
    throw CoreError(ErrorCode::ModelSignatureMismatch, what + " has element type " + info.onnxTypeName + ", which aic cannot exchange");
  }
  if (view.type != *info.type) {
    throw CoreError(code, what + " must be " + elementTypeName(*info.type) + ", got " + elementTypeName(view.type));
  }
  if (view.shape.size() != info.shape.size()) {
    throw CoreError(code, what + " must have rank " + std::to_string(info.shape.size()) + " (model shape " +
                              shapeToString(info.shape) + "), got shape " + shapeToString(view.shape));
  }
  for (size_t i = 0; i < info.shape.size(); ++i) {
    if (info.shape[i] >= 0 && view.shape[i] != info.shape[i]) {
      throw CoreError(code, what + " must have shape " + shapeToString(info.shape) + ", got " + shapeToString(view.shape));
    }
  }
  size_t count = elementCount(view.shape, what);
  if (count == 0) throw CoreError(code, what + " has no elements (shape " + shapeToString(view.shape) + ")");
  size_t expected = count * elementSize(view.type);
  if (view.byteLength != expected) {
    throw CoreError(code, what + " with shape " + shapeToString(view.shape) + " of " + elementTypeName(view.type) + " needs " +
                              std::to_string(expected) + " bytes, the buffer has " + std::to_string(view.byteLength));
  }
  if (view.data == nullptr) throw CoreError(code, what + " has no data");
}

}  // namespace

Graph::Graph(const std::shared_ptr<Engine>& engine, const std::string& label, const ModelSource& source,
             const std::optional<GraphSignature>& declared, const OptimizedGraphCache* cache, bool callingThreadOnly)
    : engine_(engine), label_(label) {
  if (engine->closed()) throw CoreError(ErrorCode::Closed, "the engine is closed; create a new engine to load models");
  if (source.isPath()) {
    std::error_code ec;
    if (source.path.empty()) throw CoreError(ErrorCode::InvalidArgument, label + " model path is empty");
    if (faults::vanishPath()) {
      throw CoreError(ErrorCode::ModelNotFound, label + " model file '" + source.path + "' does not exist or is not a file (injected fault: the file vanished)");
    }
    if (!std::filesystem::is_regular_file(source.path, ec)) {
      throw CoreError(ErrorCode::ModelNotFound, label + " model file '" + source.path + "' does not exist or is not a file");
    }
    std::ifstream probe(source.path, std::ios::binary);
    if (!probe) throw CoreError(ErrorCode::ModelNotFound, label + " model file '" + source.path + "' cannot be read");
  } else if (source.length == 0) {
    throw CoreError(ErrorCode::ModelInvalid, label + " model buffer is empty");
  }

  const EngineOptions& opts = engine->options();
  bool wantCuda = opts.provider != ProviderPreference::Cpu;
  // `optimized`: the bytes are a graph ONNX Runtime optimised before, loaded with optimisation
  // off. `saveTo`: ONNX Runtime writes the graph it optimises there.
  auto create = [&](bool cuda, const ModelSource& from, bool optimized = false, const std::string& saveTo = std::string()) {
    Ort::SessionOptions so = engine->sessionOptions(cuda, provider_, callingThreadOnly);
    if (optimized) so.SetGraphOptimizationLevel(ORT_DISABLE_ALL);
    if (!saveTo.empty()) {
#ifdef _WIN32
      so.SetOptimizedModelFilePath(std::filesystem::u8path(saveTo).wstring().c_str());
#else
      so.SetOptimizedModelFilePath(saveTo.c_str());
#endif
    }
    if (from.isPath()) {
#ifdef _WIN32
      // ORTCHAR_T is wchar_t on Windows; the path arrives as UTF-8.
      session_ = std::make_unique<Ort::Session>(engine->env(), std::filesystem::u8path(from.path).wstring().c_str(), so);
#else
      session_ = std::make_unique<Ort::Session>(engine->env(), from.path.c_str(), so);
#endif
    } else {
      session_ = std::make_unique<Ort::Session>(engine->env(), from.bytes, from.length, so);
    }
  };
  // The optimised-graph cache serves CPU sessions with optimisation on only: what ONNX Runtime
  // optimises for the CPU (NCHWc layouts and all) is what the cache holds, and a CUDA session
  // optimises for its own provider. Never under injected faults, which test the normal path.
  const bool cacheable = cache != nullptr && opts.graphOptimization != GraphOptimization::Disabled &&
                         (!wantCuda || !engine->hasProvider("CUDAExecutionProvider")) && !faults::active();
  if (cacheable && cache->optimized.length > 0 && !cache->optimized.isPath()) {
    try {
      create(wantCuda, cache->optimized, true);
      readSignature();
      if (declared) checkDeclared(*declared);
      optimizedFrom_ = OptimizedFrom::Cache;
    } catch (...) {
      // Whatever is wrong with the cached graph (ONNX Runtime refuses it, its inputs or outputs
      // differ from the declared ones), the source is loaded as if there were no cache.
      session_.reset();
      inputs_.clear();
      outputs_.clear();
      inputNames_.clear();
      outputNames_.clear();
    }
  }
  if (optimizedFrom_ != OptimizedFrom::Cache && cache != nullptr && cache->required) {
    throw CoreError(ErrorCode::ModelInvalid, label + ": " + kOptimizedGraphMissed);
  }
  if (optimizedFrom_ != OptimizedFrom::Cache && cacheable && !cache->saveTo.empty()) {
    try {
      create(wantCuda, source, false, cache->saveTo);
      optimizedFrom_ = OptimizedFrom::Saved;
    } catch (const Ort::Exception&) {
      session_.reset();  // a graph that cannot be saved, or cannot be loaded at all: the normal path says which
    }
  }
  if (optimizedFrom_ == OptimizedFrom::Source) {
    try {
      try {
        if (wantCuda && faults::loseProviderAtLoad()) {
          // Injected: the CUDA device went away before this session could start on it.
          create(false, source);
          provider_.fallbackReason = "the CUDA execution provider was lost (injected fault: device lost)";
        } else {
          create(wantCuda, source);
        }
      } catch (const Ort::Exception& e) {
        if (provider_.provider != "CUDAExecutionProvider") throw;
        // The CUDA provider was appended but the session could not start on it (no driver, no
        // device, missing CUDA libraries): retry on CPU and keep the reason.
        std::string reason = std::string("CUDA session failed: ") + e.what();
        create(false, source);
        provider_.fallbackReason = reason;
      }
    } catch (const Ort::Exception& e) {
      throw CoreError(ErrorCode::ModelInvalid, label + " model could not be loaded by ONNX Runtime: " + e.what());
    }
  }
  if (opts.provider == ProviderPreference::Cuda && opts.strictProvider && !provider_.fallbackReason.empty()) {
    throw CoreError(ErrorCode::ProviderUnavailable,
                    label + ": executionProvider 'cuda' was required (strict) but " + provider_.fallbackReason);
  }
  if (opts.provider == ProviderPreference::Cpu) provider_.fallbackReason.clear();

  if (optimizedFrom_ != OptimizedFrom::Cache) {
    readSignature();
    if (declared) checkDeclared(*declared);
  }
}

void Graph::readSignature() {
  auto describe = [](Ort::TypeInfo typeInfo, std::string name) {
    TensorInfo info;
    info.name = std::move(name);
    if (typeInfo.GetONNXType() != ONNX_TYPE_TENSOR) {
      info.onnxTypeName = "a non-tensor value";
      return info;
    }
    auto tensor = typeInfo.GetTensorTypeAndShapeInfo();
    info.type = fromOnnx(tensor.GetElementType());
    info.onnxTypeName = onnxTypeName(tensor.GetElementType());
    info.shape = tensor.GetShape();
    return info;
  };
  Ort::AllocatorWithDefaultOptions allocator;
  for (size_t i = 0; i < session_->GetInputCount(); ++i) {
    inputs_.push_back(describe(session_->GetInputTypeInfo(i), session_->GetInputNameAllocated(i, allocator).get()));
  }
  for (size_t i = 0; i < session_->GetOutputCount(); ++i) {
    outputs_.push_back(describe(session_->GetOutputTypeInfo(i), session_->GetOutputNameAllocated(i, allocator).get()));
  }
  for (const auto& info : inputs_) inputNames_.push_back(info.name.c_str());
  for (const auto& info : outputs_) outputNames_.push_back(info.name.c_str());
}

void Graph::checkDeclared(const GraphSignature& declared) const {
  auto check = [&](const std::vector<TensorSpec>& specs, const std::vector<TensorInfo>& actual, const char* kind) {
    if (specs.size() != actual.size()) {
      throw CoreError(ErrorCode::ModelSignatureMismatch, label_ + " declares " + std::to_string(specs.size()) + " " + kind +
                                                             "s but the model has " + std::to_string(actual.size()) + " (" +
                                                             namesOf(actual) + ")");
    }
    for (const auto& spec : specs) {
      const TensorInfo* info = findInfo(actual, spec.name);
      std::string what = label_ + " " + kind + " '" + spec.name + "'";
      if (!info) throw CoreError(ErrorCode::ModelSignatureMismatch, what + " is not in the model, which has " + namesOf(actual));
      if (!info->type || *info->type != spec.type) {
        throw CoreError(ErrorCode::ModelSignatureMismatch,
                        what + ": declared " + elementTypeName(spec.type) + ", the model has " + info->onnxTypeName);
      }
      if (spec.rank >= 0 && static_cast<size_t>(spec.rank) != info->shape.size()) {
        throw CoreError(ErrorCode::ModelSignatureMismatch, what + ": declared rank " + std::to_string(spec.rank) +
                                                               ", the model has rank " + std::to_string(info->shape.size()) +
                                                               " " + shapeToString(info->shape));
      }
    }
  };
  check(declared.inputs, inputs_, "input");
  check(declared.outputs, outputs_, "output");
}

std::vector<OutputTensor> Graph::run(const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs) const {
  if (faults::active()) {
    // The rows of this run: the first dimension of its first input (1 for image graphs).
    const uint64_t rows = !inputs.empty() && !inputs[0].shape.empty() && inputs[0].shape[0] > 0 ? static_cast<uint64_t>(inputs[0].shape[0]) : 1;
    faults::beforeRun(label_, provider_.provider == "CUDAExecutionProvider" || engine_->options().provider == ProviderPreference::Cuda, rows);
  }
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeCPU);

  for (const auto& view : inputs) {
    if (!findInfo(inputs_, view.name)) {
      throw CoreError(ErrorCode::InvalidArgument, label_ + " has no input '" + view.name + "'; its inputs are " + namesOf(inputs_));
    }
  }
  std::vector<std::unique_ptr<void, FreeDeleter>> scratch;
  std::vector<Ort::Value> inputValues;
  inputValues.reserve(inputs_.size());
  for (const auto& info : inputs_) {
    const TensorView* view = nullptr;
    for (const auto& v : inputs) {
      if (v.name == info.name) {
        if (view) throw CoreError(ErrorCode::InvalidArgument, label_ + " input '" + info.name + "' is given twice");
        view = &v;
      }
    }
    if (!view) throw CoreError(ErrorCode::InvalidArgument, label_ + " input '" + info.name + "' is missing");
    checkView(*view, info, label_ + " input '" + info.name + "'", ErrorCode::InvalidArgument);
    void* data = view->data;
    if (!isAligned(data, elementSize(view->type))) {
      scratch.push_back(alignedCopy(data, view->byteLength));
      data = scratch.back().get();
      counters_.inputBytesCopied += view->byteLength;
    }
    // The tensor borrows the caller's memory: ONNX Runtime reads the Buffer in place.
    inputValues.push_back(Ort::Value::CreateTensor(cpu, data, view->byteLength, view->shape.data(), view->shape.size(),
                                                   toOnnx(view->type)));
  }

  std::vector<Ort::Value> outputValues;
  outputValues.reserve(outputs_.size());
  std::vector<const TensorView*> callerOutput(outputs_.size(), nullptr);
  for (const auto& view : outputs) {
    if (!findInfo(outputs_, view.name)) {
      throw CoreError(ErrorCode::OutputMismatch, label_ + " has no output '" + view.name + "'; its outputs are " + namesOf(outputs_));
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const TensorInfo& info = outputs_[i];
    for (const auto& v : outputs) {
      if (v.name == info.name) callerOutput[i] = &v;
    }
    const TensorView* view = callerOutput[i];
    if (view) {
      checkView(*view, info, label_ + " output buffer '" + info.name + "'", ErrorCode::OutputMismatch);
      if (isAligned(view->data, elementSize(view->type))) {
        // ONNX Runtime writes the result straight into the caller's Buffer.
        outputValues.push_back(Ort::Value::CreateTensor(cpu, view->data, view->byteLength, view->shape.data(),
                                                        view->shape.size(), toOnnx(view->type)));
        continue;
      }
    }
    outputValues.emplace_back(nullptr);  // ONNX Runtime allocates
  }

  try {
    session_->Run(Ort::RunOptions{nullptr}, inputNames_.data(), inputValues.data(), inputValues.size(), outputNames_.data(),
                  outputValues.data(), outputValues.size());
  } catch (const Ort::Exception& e) {
    bool anyCaller = !outputs.empty();
    std::string msg = e.what();
    // A caller buffer whose shape differs from the computed one on a graph with dynamic output
    // dims can only be detected by ONNX Runtime itself; recognise its wording for that case.
    bool shapeClash = msg.find("pre-allocated") != std::string::npos || msg.find("provided for output") != std::string::npos ||
                      msg.find("re-use") != std::string::npos;
    if (anyCaller && shapeClash) {
      throw CoreError(ErrorCode::OutputMismatch, label_ + ": an output buffer does not fit the result: " + msg);
    }
    throw CoreError(ErrorCode::InferenceFailed, label_ + " inference failed: " + msg);
  }
  counters_.runs++;

  std::vector<OutputTensor> results(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    OutputTensor& out = results[i];
    out.name = outputs_[i].name;
    auto shapeInfo = outputValues[i].GetTensorTypeAndShapeInfo();
    out.shape = shapeInfo.GetShape();
    auto type = fromOnnx(shapeInfo.GetElementType());
    if (!type) throw CoreError(ErrorCode::InferenceFailed, label_ + " output '" + out.name + "' has an unsupported element type");
    out.type = *type;
    out.byteLength = shapeInfo.GetElementCount() * elementSize(out.type);
    const TensorView* view = callerOutput[i];
    if (view) {
      out.callerProvided = true;
      out.data = view->data;
      void* produced = outputValues[i].GetTensorMutableRawData();
      if (produced != view->data) {
        // Misaligned caller buffer: ORT wrote into its own memory; move it across once.
        if (out.byteLength != view->byteLength) {
          throw CoreError(ErrorCode::OutputMismatch, label_ + " output buffer '" + out.name + "' holds " +
                                                         std::to_string(view->byteLength) + " bytes, the result is " +
                                                         std::to_string(out.byteLength));
        }
        std::memcpy(view->data, produced, out.byteLength);
        counters_.outputBytesCopied += out.byteLength;
      }
    } else {
      out.data = out.byteLength ? outputValues[i].GetTensorMutableRawData() : nullptr;
      out.value = std::move(outputValues[i]);
    }
  }
  return results;
}

}  // namespace aic
