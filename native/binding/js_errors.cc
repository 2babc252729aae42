#include "js_errors.h"

#include <onnxruntime_cxx_api.h>

#include <new>

#include "common/errors.h"

namespace aic::js {

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

void throwError(Napi::Env env, const std::string& code, const std::string& message) { throw makeError(env, code, message); }

void throwInvalid(Napi::Env env, const std::string& message) { throwError(env, "INVALID_ARGUMENT", message); }

void describeCurrentException(std::string& code, std::string& message) {
  try {
    throw;
  } catch (const CoreError& e) {
    code = errorCodeName(e.code());
    message = e.what();
  } catch (const Ort::Exception& e) {
    code = "INFERENCE_FAILED";
    message = std::string("ONNX Runtime: ") + e.what();
  } catch (const std::bad_alloc&) {
    code = "OUT_OF_MEMORY";
    message = "out of memory while running the native core";
  } catch (const std::exception& e) {
    code = "INTERNAL";
    message = e.what();
  } catch (...) {
    code = "INTERNAL";
    message = "unknown native error";
  }
}

}  // namespace aic::js
