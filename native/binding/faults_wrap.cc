// TEST ONLY: binding.faults.set({ inferenceFailureEvery, slowEvery, slowMs, allocFailureEvery,
// vanishModels, providerLost, allGraphs }), .counts(), .clear(). See native/core/common/faults.h.
#include "faults_wrap.h"

#include <cmath>
#include <string>

#include "common/faults.h"
#include "js_errors.h"

namespace aic::js {

namespace {

uint32_t countField(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return 0;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d < 0 || d > 4294967295.0 || std::floor(d) != d) {
    throwInvalid(env, std::string("faults.") + key + " must be a non-negative integer");
  }
  return static_cast<uint32_t>(d);
}

bool flagField(Napi::Object o, const char* key) { return o.Get(key).ToBoolean().Value(); }

Napi::Value Set(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwInvalid(env, "faults.set() needs a settings object");
  Napi::Object o = info[0].As<Napi::Object>();
  faults::Settings s;
  s.inferenceFailureEvery = countField(env, o, "inferenceFailureEvery");
  s.slowMs = countField(env, o, "slowMs");
  // slowMs alone slows every eligible run.
  s.slowEvery = o.Get("slowEvery").IsUndefined() ? (s.slowMs ? 1 : 0) : countField(env, o, "slowEvery");
  s.allocFailureEvery = countField(env, o, "allocFailureEvery");
  s.vanishModels = flagField(o, "vanishModels");
  s.providerLost = flagField(o, "providerLost");
  s.allGraphs = flagField(o, "allGraphs");
  faults::set(s);
  return env.Undefined();
}

Napi::Value Counts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faults::Counts c = faults::counts();
  Napi::Object o = Napi::Object::New(env);
  o.Set("eligibleRuns", static_cast<double>(c.eligibleRuns));
  o.Set("inferenceFailures", static_cast<double>(c.inferenceFailures));
  o.Set("slowRuns", static_cast<double>(c.slowRuns));
  o.Set("allocFailures", static_cast<double>(c.allocFailures));
  o.Set("vanishedModels", static_cast<double>(c.vanishedModels));
  o.Set("providerLostLoads", static_cast<double>(c.providerLostLoads));
  o.Set("providerLostRuns", static_cast<double>(c.providerLostRuns));
  o.Set("failedRows", static_cast<double>(c.failedRows));
  o.Set("active", faults::active());
  return o;
}

Napi::Value Clear(const Napi::CallbackInfo& info) {
  faults::clear();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object FaultsInit(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("testOnly", true);
  o.Set("set", Napi::Function::New(env, Set, "set"));
  o.Set("counts", Napi::Function::New(env, Counts, "counts"));
  o.Set("clear", Napi::Function::New(env, Clear, "clear"));
  return o;
}

}  // namespace aic::js
