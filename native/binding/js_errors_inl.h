#pragma once

namespace aic::js {

template <typename Fn>
auto guard(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    std::string code, message;
    describeCurrentException(code, message);
    throw makeError(env, code, message);
  }
}

}  // namespace aic::js
