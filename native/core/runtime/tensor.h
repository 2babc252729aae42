// Plain descriptions of tensors as the core sees them: element types, declared signatures and
// borrowed views over caller memory. A TensorView never owns its bytes; whoever creates one keeps
// the memory alive for as long as the core may read or write it (the binding layer holds a
// reference to the JS Buffer for the lifetime of the async work).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace aic {

enum class ElementType { Float32, Float16, Uint8, Int8, Uint16, Int16, Int32, Int64 };

size_t elementSize(ElementType type);
const char* elementTypeName(ElementType type);
// Parses "float32", "uint8", ...; nullopt for an unknown name.
std::optional<ElementType> parseElementType(const std::string& name);
ONNXTensorElementDataType toOnnx(ElementType type);
// nullopt for ONNX element types the core does not exchange with callers (string, bool, ...).
std::optional<ElementType> fromOnnx(ONNXTensorElementDataType type);

// What a caller declares a graph input or output to be. rank < 0 means "any rank".
struct TensorSpec {
  std::string name;
  ElementType type = ElementType::Float32;
  int rank = -1;
};

// What the model file says about one of its inputs or outputs. -1 in shape is a dynamic dim.
struct TensorInfo {
  std::string name;
  std::optional<ElementType> type;  // nullopt: an element type we do not support
  std::string onnxTypeName;         // for messages when `type` is nullopt
  std::vector<int64_t> shape;
};

// A borrowed view over caller memory.
struct TensorView {
  std::string name;
  ElementType type = ElementType::Float32;
  std::vector<int64_t> shape;
  void* data = nullptr;
  size_t byteLength = 0;
};

// Number of elements of a shape; throws CoreError(InvalidArgument) on a negative dim or overflow.
size_t elementCount(const std::vector<int64_t>& shape, const std::string& what);
std::string shapeToString(const std::vector<int64_t>& shape);

}  // namespace aic
