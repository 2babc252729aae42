// JS classes `InterModel` (the residual transform and keyframe inverse of models/aic-inter-v1)
// and `InterStream` (one side of a session's predicted frames: native/core/video/inter_codec.h).
// A stream's jobs run on worker threads one at a time (a mutex), and co-own the stream, so a
// stream collected while a job runs lives until the job ends.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "video/inter_codec.h"

namespace aic::js {

struct LockedInterStream {
  std::mutex mutex;
  std::unique_ptr<video::InterStream> stream;
};

class InterModelWrap : public Napi::ObjectWrap<InterModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit InterModelWrap(const Napi::CallbackInfo& info);
  static const napi_type_tag kTypeTag;
  static std::shared_ptr<const video::InterModel> from(Napi::Env env, Napi::Value value);

 private:
  Napi::Value ModelId(const Napi::CallbackInfo& info);
  std::shared_ptr<const video::InterModel> model_;
};

class InterStreamWrap : public Napi::ObjectWrap<InterStreamWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit InterStreamWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value AdoptKeyframe(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value HasReference(const Napi::CallbackInfo& info);
  Napi::Value ReferenceSequence(const Napi::CallbackInfo& info);
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info);
  Napi::Value KeepReferences(const Napi::CallbackInfo& info);
  Napi::Value HeldReference(const Napi::CallbackInfo& info);
  Napi::Value ReferenceSize(const Napi::CallbackInfo& info);
  Napi::Value HoldsReference(const Napi::CallbackInfo& info);
  std::shared_ptr<LockedInterStream> stream_;
};

}  // namespace aic::js
