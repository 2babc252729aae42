#pragma once

namespace aic::js {

template <typename Fn>
auto guard(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error& e) {
    // An error without a code is a JS exception raised while reading an argument (a throwing
    // getter, a revoked Proxy): a caller mistake, reported as INVALID_ARGUMENT.
    Napi::Value code = e.Value().IsObject() ? e.Value().Get("code") : Napi::Value();
    if (code.IsString()) throw;
    throw makeError(env, "INVALID_ARGUMENT", "an argument could not be read: " + e.Message());
  } catch (...) {
    std::string code, message;
    describeCurrentException(code, message);
    throw makeError(env, code, message);
  }
}

}  // namespace aic::js
