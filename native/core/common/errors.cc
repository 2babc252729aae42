#include "common/errors.h"

namespace aic {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::ModelNotFound: return "MODEL_NOT_FOUND";
    case ErrorCode::ModelInvalid: return "MODEL_INVALID";
    case ErrorCode::ModelSignatureMismatch: return "MODEL_SIGNATURE_MISMATCH";
    case ErrorCode::ProviderUnavailable: return "PROVIDER_UNAVAILABLE";
    case ErrorCode::Closed: return "CLOSED";
    case ErrorCode::InferenceFailed: return "INFERENCE_FAILED";
    case ErrorCode::OutputMismatch: return "OUTPUT_MISMATCH";
    case ErrorCode::CorruptPayload: return "CORRUPT_PAYLOAD";
    case ErrorCode::UnsupportedVersion: return "UNSUPPORTED_VERSION";
    case ErrorCode::ModelMismatch: return "MODEL_MISMATCH";
    case ErrorCode::LimitExceeded: return "LIMIT_EXCEEDED";
    case ErrorCode::RuntimeUnavailable: return "NATIVE_UNAVAILABLE";
    case ErrorCode::ReferenceMissing: return "REFERENCE_MISSING";
  }
  return "INTERNAL";
}

}  // namespace aic
