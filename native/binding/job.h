// A unit of native work that can run either on a libuv worker thread (returning a Promise) or
// inline (the *Sync variants), so both paths share one implementation.
//
// execute() runs without the JS thread: it must touch no Napi value. toJs() runs on the JS
// thread after execute() succeeded.
//
// Caller memory (docs/native-core.md): pinning a JS object keeps the object, not its memory; a
// Buffer's ArrayBuffer can be detached, transferred or shrunk while a worker runs, and N-API
// gives no way to share ownership of its backing store. So a job that runs on a worker reads only
// memory it owns or co-owns: inputs are copied at call time (own()), or shared when the memory is
// the addon's own (keep(): a readFile() Buffer, files.h), results are written into native memory
// and copied into a caller's output view in toJs() after re-checking it (writeBack()). Only the
// *Sync variants, during which no JS runs, may read or write caller memory in place.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "js_errors.h"

namespace aic::js {

class Job {
 public:
  virtual ~Job() = default;
  virtual void execute() = 0;
  virtual Napi::Value toJs(Napi::Env env) = 0;
  void pin(Napi::Value value) {
    if (value.IsObject()) pins_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }
  // Keeps `bytes` for the job's lifetime and returns their (stable) address.
  uint8_t* own(std::vector<uint8_t>&& bytes) {
    owned_.push_back(std::make_unique<std::vector<uint8_t>>(std::move(bytes)));
    return owned_.back()->empty() ? nullptr : owned_.back()->data();
  }
  // Keeps native memory shared with JS (a readFile() Buffer, files.h) alive for the job's lifetime.
  void keep(std::shared_ptr<const void> shared) { kept_.push_back(std::move(shared)); }

 private:
  std::vector<Napi::ObjectReference> pins_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_;
  std::vector<std::shared_ptr<const void>> kept_;
};

// Runs a job on the libuv thread pool and settles a Promise with its result.
class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, const char* resourceName, std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env, resourceName), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      job_->execute();
    } catch (...) {
      describeCurrentException(code_, message_);
      SetError(message_);
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(job_->toJs(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      std::string code, message;
      describeCurrentException(code, message);
      deferred_.Reject(makeError(env, code, message).Value());
    }
  }
  void OnError(const Napi::Error&) override { deferred_.Reject(makeError(Env(), code_, message_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Job> job_;
  std::string code_;
  std::string message_;
};

inline Napi::Value runAsync(Napi::Env env, const char* name, std::unique_ptr<Job> job) {
  auto* worker = new JobWorker(env, name, std::move(job));
  Napi::Promise promise = worker->promise();
  worker->Queue();  // the worker deletes itself after settling
  return promise;
}

inline Napi::Value runSync(Napi::Env env, std::unique_ptr<Job> job) {
  guard(env, [&] { job->execute(); });
  return guard(env, [&] { return job->toJs(env); });
}

}  // namespace aic::js
