// Error type of the native core. Every failure the core reports carries a stable code; the
// binding layer turns it into a JS error whose `code` property the TypeScript API maps onto
// AicError. The core itself knows nothing of N-API.
#pragma once

#include <stdexcept>
#include <string>

namespace aic {

enum class ErrorCode {
  InvalidArgument,         // caller passed something malformed (shape, type, size, option)
  ModelNotFound,           // model path does not exist or cannot be read
  ModelInvalid,            // bytes are not a loadable ONNX model (truncated, garbage, unsupported op)
  ModelSignatureMismatch,  // model inputs/outputs differ from what the caller declared
  ProviderUnavailable,     // caller demanded an execution provider strictly and it is missing
  Closed,                  // engine or model used after close()
  InferenceFailed,         // ONNX Runtime failed while running the graph
  OutputMismatch,          // caller-provided output buffer has the wrong size/type/shape
  CorruptPayload,          // a payload that fails its checks: truncated, bad magic, CRC, coded data
  UnsupportedVersion,      // a payload of a bitstream version this build does not read
  ModelMismatch,           // a payload coded by another model than the one decoding it
  LimitExceeded,           // a payload describes more than the decoder's limits allow (docs/api.md, "Decoder limits")
  RuntimeUnavailable,      // the ONNX Runtime library could not be loaded (missing, unreadable, too old)
  ReferenceMissing,        // a predicted frame names a reference frame the decoder does not hold (lost, or never received)
};

// Stable string for an error code; part of the public API (AicError.code).
const char* errorCodeName(ErrorCode code);

class CoreError : public std::runtime_error {
 public:
  CoreError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace aic
