#include "model_wrap.h"

#include "addon_data.h"
#include "codec_common.h"
#include "convert.h"
#include "job.h"

namespace aic::js {

namespace {

// An ONNX Runtime-owned output lent to JS as a Buffer.
struct LentOutput {
  Ort::Value value;
  int64_t bytes;
};

// Frees the output when JS no longer references the Buffer built over it.
void releaseOutput(Napi::Env env, uint8_t*, LentOutput* lent) {
  Napi::MemoryManagement::AdjustExternalMemory(env, -lent->bytes);
  delete lent;
}

class RunJob : public Job {
 public:
  // Sync runs are zero-copy: tensors are views of the caller's memory, taken after every getter of
  // both maps ran, and no JS runs until runSync() returns. Async runs read copies of the inputs
  // taken now and write caller-provided outputs into native memory, copied into the caller's
  // Buffers in toJs() once their memory is checked to be still there (job.h).
  RunJob(Napi::Env env, std::shared_ptr<CodecModel> model, const Napi::CallbackInfo& info, bool async) : model_(std::move(model)), async_(async) {
    part_ = parsePart(env, info[0]);
    auto inputs = parseTensorMap(env, info[1], "inputs");
    auto outputs = parseTensorMap(env, info[2], "outputs");
    inputs_ = captureTensors(env, inputs, async ? TensorMemory::Copy : TensorMemory::InPlace, *this, nullptr);
    outputs_ = captureTensors(env, outputs, async ? TensorMemory::Staging : TensorMemory::InPlace, *this, &outputObjects_);
  }

  void execute() override { results_ = model_->graph(part_).run(inputs_, outputs_); }

  Napi::Value toJs(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    for (auto& r : results_) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("type", elementTypeName(r.type));
      Napi::Array shape = Napi::Array::New(env, r.shape.size());
      for (size_t i = 0; i < r.shape.size(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(r.shape[i])));
      t.Set("shape", shape);
      if (r.callerProvided) {
        // Hand back the very object the caller gave us; it now holds the result.
        for (size_t i = 0; i < outputs_.size(); ++i) {
          if (outputs_[i].name != r.name) continue;
          if (async_) writeBack(env, outputObjects_[i].Value(), "outputs." + r.name + ".data", static_cast<const uint8_t*>(outputs_[i].data), outputs_[i].byteLength);
          t.Set("data", outputObjects_[i].Value());
        }
      } else if (r.byteLength == 0) {
        t.Set("data", Napi::Buffer<uint8_t>::New(env, 0));
      } else {
        // Wrap ORT's output memory as a Buffer without copying; the Buffer's finalizer frees the
        // Ort::Value. Runtimes that forbid external buffers get a copy instead (NewOrCopy).
        // V8 is told of the memory so that its GC schedules itself as it would for a JS Buffer.
        auto* lent = new LentOutput{std::move(r.value), static_cast<int64_t>(r.byteLength)};
        Napi::MemoryManagement::AdjustExternalMemory(env, lent->bytes);
        t.Set("data", Napi::Buffer<uint8_t>::NewOrCopy(env, static_cast<uint8_t*>(r.data), r.byteLength, releaseOutput, lent));
      }
      out.Set(r.name, t);
    }
    return out;
  }

 private:
  std::shared_ptr<CodecModel> model_;
  bool async_;
  Part part_ = Part::Encoder;
  std::vector<TensorView> inputs_;
  std::vector<TensorView> outputs_;
  std::vector<Napi::ObjectReference> outputObjects_;
  std::vector<OutputTensor> results_;
};

}  // namespace

Napi::Function ModelWrap::Init(Napi::Env env) {
  return DefineClass(env, "Model",
                     {InstanceMethod<&ModelWrap::Run>("run"), InstanceMethod<&ModelWrap::RunSync>("runSync"),
                      InstanceMethod<&ModelWrap::Info>("info"), InstanceMethod<&ModelWrap::Stats>("stats"),
                      InstanceMethod<&ModelWrap::Close>("close"), InstanceAccessor<&ModelWrap::Closed>("closed")});
}

Napi::Object ModelWrap::NewInstance(Napi::Env env, std::shared_ptr<CodecModel> model) {
  auto holder = std::make_unique<std::shared_ptr<CodecModel>>(std::move(model));
  Napi::Object obj = addonData(env).modelConstructor.New({Napi::External<std::shared_ptr<CodecModel>>::New(env, holder.get())});
  return obj;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    throwInvalid(info.Env(), "Model cannot be constructed directly; use engine.loadModel()");
  }
  model_ = *info[0].As<Napi::External<std::shared_ptr<CodecModel>>>().Data();
}

std::shared_ptr<CodecModel> ModelWrap::from(Napi::Env env, Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(env).modelConstructor.Value())) {
    throwInvalid(env, "expected a Model from engine.loadModel()");
  }
  return ModelWrap::Unwrap(value.As<Napi::Object>())->live(env);
}

const std::shared_ptr<CodecModel>& ModelWrap::live(Napi::Env env) const {
  if (!model_) throwError(env, "CLOSED", "this model is closed; load it again with engine.loadModel()");
  return model_;
}

Napi::Value ModelWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<RunJob>(env, live(env), info, true); });
  return runAsync(env, "aic:run", std::move(job));
}

Napi::Value ModelWrap::RunSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<RunJob>(env, live(env), info, false); });
  return runSync(env, std::move(job));
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo& info) { return modelInfoToJs(info.Env(), *live(info.Env())); }

Napi::Value ModelWrap::Stats(const Napi::CallbackInfo& info) { return modelStatsToJs(info.Env(), *live(info.Env())); }

Napi::Value ModelWrap::Close(const Napi::CallbackInfo& info) {
  model_.reset();  // sessions are freed once the last in-flight run lets go of them
  return info.Env().Undefined();
}

Napi::Value ModelWrap::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !model_); }

}  // namespace aic::js
