// motionSearch(): the C++ motion search (native/core/video/motion_search.h) for benchmarks and tests.
#pragma once

#include <napi.h>

namespace aic::js {

Napi::Value MotionSearch(const Napi::CallbackInfo& info);

}  // namespace aic::js
