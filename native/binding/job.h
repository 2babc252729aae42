// A unit of native work that can run either on a libuv worker thread (returning a Promise) or
// inline (the *Sync variants), so both paths share one implementation.
//
// execute() runs without the JS thread: it must touch no Napi value. toJs() runs on the JS
// thread after execute() succeeded. JS objects the work reads or writes in place (input and
// output Buffers) are pinned in `pins` until the job is destroyed on the JS thread, so the
// garbage collector cannot free memory that native code is still using.
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

 private:
  std::vector<Napi::ObjectReference> pins_;
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
