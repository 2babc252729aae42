// Per-environment state of the addon (one per Node.js main thread or worker_thread), so that the
// addon is safe to load in worker threads: constructors live here rather than in statics.
#pragma once

#include <napi.h>

namespace aic::js {

struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference audioEncoderConstructor;
  Napi::FunctionReference audioDecoderConstructor;
  Napi::FunctionReference entropyTablesConstructor;
};

inline AddonData& addonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace aic::js
