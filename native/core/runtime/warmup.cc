#include "runtime/warmup.h"

#include <onnxruntime_cxx_api.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/onnxruntime_library.h"

namespace aic::runtime {
namespace {

std::mutex warmupMutex;
// Never destroyed: a std::thread still joinable when static objects are destroyed would end the
// process with std::terminate. The exit paths join it first (src/native/load.ts, the binding).
std::thread* warmupThread = nullptr;

// Protocol-buffer fields of the ONNX schema (onnx.proto): a length-delimited field and a small
// varint, both with one-byte keys and lengths, which is all this model needs.
void bytesField(std::string& out, int number, const std::string& bytes) {
  out += static_cast<char>((number << 3) | 2);
  out += static_cast<char>(bytes.size());
  out += bytes;
}
void varintField(std::string& out, int number, int value) {
  out += static_cast<char>(number << 3);
  out += static_cast<char>(value);
}

std::string buildIdentityModel() {
  std::string dimension;
  bytesField(dimension, 2, "n");  // TensorShapeProto.Dimension.dim_param: one dimension of any size
  std::string shape;
  bytesField(shape, 1, dimension);  // TensorShapeProto.dim
  std::string tensorType;
  varintField(tensorType, 1, 1);  // TypeProto.Tensor.elem_type = FLOAT
  bytesField(tensorType, 2, shape);  // TypeProto.Tensor.shape
  std::string type;
  bytesField(type, 1, tensorType);  // TypeProto.tensor_type
  std::string input, output;
  bytesField(input, 1, "x");  // ValueInfoProto.name
  bytesField(input, 2, type);
  bytesField(output, 1, "y");
  bytesField(output, 2, type);
  std::string node;
  bytesField(node, 1, "x");         // NodeProto.input
  bytesField(node, 2, "y");         // NodeProto.output
  bytesField(node, 4, "Identity");  // NodeProto.op_type
  std::string graph;
  bytesField(graph, 1, node);     // GraphProto.node
  bytesField(graph, 2, "warmup");  // GraphProto.name
  bytesField(graph, 11, input);   // GraphProto.input
  bytesField(graph, 12, output);  // GraphProto.output
  std::string opset;
  varintField(opset, 2, 13);  // OperatorSetIdProto.version (default domain)
  std::string model;
  varintField(model, 1, 7);  // ModelProto.ir_version
  bytesField(model, 7, graph);
  bytesField(model, 8, opset);
  return model;
}

void warmup() {
  try {
    std::size_t size = 0;
    const char* model = identityModel(&size);
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "aic-warmup");
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(1);  // no pool threads for a graph that never runs
    options.SetInterOpNumThreads(1);
    Ort::Session session(env, model, size, options);
  } catch (...) {
    // The first engine starts ONNX Runtime itself and reports what went wrong.
  }
}

}  // namespace

const char* identityModel(std::size_t* size) {
  static const std::string model = buildIdentityModel();
  *size = model.size();
  return model.data();
}

void startWarmup() {
  std::lock_guard<std::mutex> lock(warmupMutex);
  if (warmupThread || !onnxRuntimeLoaded()) return;
  warmupThread = new std::thread(warmup);
}

void awaitWarmup() {
  std::lock_guard<std::mutex> lock(warmupMutex);
  if (warmupThread && warmupThread->joinable()) warmupThread->join();
}

}  // namespace aic::runtime
