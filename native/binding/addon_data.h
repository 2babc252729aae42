// Per-environment state of the addon (one per Node.js main thread or worker_thread), so that the
// addon is safe to load in worker threads: constructors live here rather than in statics.
#pragma once

#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace aic::js {

struct FileBytes;  // files.h

struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference audioEncoderConstructor;
  Napi::FunctionReference audioDecoderConstructor;
  Napi::FunctionReference entropyTablesConstructor;
  // Buffers lent by readFile() (files.h), by the address of their native memory.
  std::map<const uint8_t*, std::weak_ptr<const FileBytes>> sharedFiles;
};

inline AddonData& addonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace aic::js
