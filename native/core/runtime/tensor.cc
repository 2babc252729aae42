#include "runtime/tensor.h"

#include <limits>

#include "common/errors.h"

namespace aic {

size_t elementSize(ElementType type) {
  switch (type) {
    case ElementType::Float32: return 4;
    case ElementType::Float16: return 2;
    case ElementType::Uint8: return 1;
    case ElementType::Int8: return 1;
    case ElementType::Uint16: return 2;
    case ElementType::Int16: return 2;
    case ElementType::Int32: return 4;
    case ElementType::Int64: return 8;
  }
  return 1;
}

const char* elementTypeName(ElementType type) {
  switch (type) {
    case ElementType::Float32: return "float32";
    case ElementType::Float16: return "float16";
    case ElementType::Uint8: return "uint8";
    case ElementType::Int8: return "int8";
    case ElementType::Uint16: return "uint16";
    case ElementType::Int16: return "int16";
    case ElementType::Int32: return "int32";
    case ElementType::Int64: return "int64";
  }
  return "unknown";
}

std::optional<ElementType> parseElementType(const std::string& name) {
  static const ElementType all[] = {ElementType::Float32, ElementType::Float16, ElementType::Uint8,
                                    ElementType::Int8,    ElementType::Uint16,  ElementType::Int16,
                                    ElementType::Int32,   ElementType::Int64};
  for (ElementType t : all) {
    if (name == elementTypeName(t)) return t;
  }
  return std::nullopt;
}

ONNXTensorElementDataType toOnnx(ElementType type) {
  switch (type) {
    case ElementType::Float32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case ElementType::Float16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case ElementType::Uint8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case ElementType::Int8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case ElementType::Uint16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
    case ElementType::Int16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case ElementType::Int32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case ElementType::Int64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

std::optional<ElementType> fromOnnx(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return ElementType::Float32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return ElementType::Float16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return ElementType::Uint8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return ElementType::Int8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return ElementType::Uint16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return ElementType::Int16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return ElementType::Int32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return ElementType::Int64;
    default: return std::nullopt;
  }
}

size_t elementCount(const std::vector<int64_t>& shape, const std::string& what) {
  size_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) throw CoreError(ErrorCode::InvalidArgument, what + ": shape " + shapeToString(shape) + " has a negative dimension");
    if (d != 0 && count > std::numeric_limits<size_t>::max() / static_cast<size_t>(d)) {
      throw CoreError(ErrorCode::InvalidArgument, what + ": shape " + shapeToString(shape) + " is too large");
    }
    count *= static_cast<size_t>(d);
  }
  return count;
}

std::string shapeToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace aic
