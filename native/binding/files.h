// Files read natively for engine start (docs/native-core.md, "Engine start"): readFile(path)
// reads a whole file on a libuv worker thread into native memory and lends it to JS as a Buffer.
// A model load given such a Buffer (or a view into one) shares that memory instead of copying it:
// the load holds a reference, so the bytes stay alive whatever JS does with the Buffer. Only the
// engine's own reads of its model files go through here; JS treats those Buffers as read-only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace aic::js {

Napi::Value ReadFile(const Napi::CallbackInfo& info);

// A file's bytes as readFile() read them.
struct FileBytes {
  std::unique_ptr<uint8_t[]> data;
  size_t size = 0;
};

// The native memory behind `data .. data + length` when it lies within a Buffer from readFile()
// still alive, else null. JS thread only.
std::shared_ptr<const FileBytes> sharedBytes(Napi::Env env, const uint8_t* data, size_t length);

}  // namespace aic::js
