// Module functions over raw frames that run off the JS thread: the quality score of a
// reconstruction (the session scores conventional-codec frames with it) and pixel-format
// conversion (I420 frames reach the conventional codecs as RGB).
#pragma once

#include <napi.h>

namespace aic::js {

Napi::Value ScoreFrame(const Napi::CallbackInfo& info);
Napi::Value ConvertFrame(const Napi::CallbackInfo& info);

}  // namespace aic::js
