// Turning core failures into JS errors. Every error the addon throws or rejects with carries a
// stable `code` property; src/errors.ts maps it onto AicError.
#pragma once

#include <napi.h>

#include <string>

namespace aic::js {

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message);
[[noreturn]] void throwError(Napi::Env env, const std::string& code, const std::string& message);
[[noreturn]] void throwInvalid(Napi::Env env, const std::string& message);

// Runs `fn`, turning CoreError / Ort::Exception / std::exception into a coded JS exception.
template <typename Fn>
auto guard(Napi::Env env, Fn&& fn) -> decltype(fn());

// The code and message for whatever exception is in flight; used on worker threads, where no
// JS error can be created yet.
void describeCurrentException(std::string& code, std::string& message);

}  // namespace aic::js

#include "js_errors_inl.h"
