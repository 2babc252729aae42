// TEST ONLY: the native core's fault injector (native/core/common/faults.h) as `binding.faults`.
// Not part of the public API: src/ never exposes it; bench/faults.mjs and test/faults.test.ts use it.
#pragma once

#include <napi.h>

namespace aic::js {

// { set(settings), counts(), clear() }
Napi::Object FaultsInit(Napi::Env env);

}  // namespace aic::js
