#include "motion_wrap.h"

#include "codec_common.h"
#include "video/motion_search.h"

namespace aic::js {

// motionSearch(reference, current, width, height, { blockSize, range, subpel, lambda, exhaustive })
//   -> { blocksX, blocksY, blockSize, vectors: Int16Array [dx, dy, ...] (quarter pixels), sad: Uint32Array, evaluated }
// Synchronous, on 8-bit luma planes of width*height bytes: the benchmark measures the search itself.
Napi::Value MotionSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *ref, *cur;
  size_t lr, lc;
  memoryOf(env, info[0], "reference", ref, lr);
  memoryOf(env, info[1], "current", cur, lc);
  const int w = intArg(info, 2, "width", 1, 16384), h = intArg(info, 3, "height", 1, 16384);
  const size_t need = static_cast<size_t>(w) * h;
  if (lr != need || lc != need) throwInvalid(env, "reference and current must hold width*height = " + std::to_string(need) + " bytes of luma");
  video::MotionSearchOptions o;
  bool exhaustive = false;
  if (info.Length() > 4 && info[4].IsObject()) {
    Napi::Object opts = info[4].As<Napi::Object>();
    auto num = [&](const char* key, int& out) {
      Napi::Value v = opts.Get(key);
      if (v.IsUndefined()) return;
      if (!v.IsNumber()) throwInvalid(env, std::string("options.") + key + " must be a number");
      out = v.As<Napi::Number>().Int32Value();
    };
    num("blockSize", o.blockSize);
    num("range", o.range);
    num("lambda", o.lambda);
    if (opts.Get("subpel").IsBoolean()) o.subpel = opts.Get("subpel").As<Napi::Boolean>();
    if (opts.Get("exhaustive").IsBoolean()) exhaustive = opts.Get("exhaustive").As<Napi::Boolean>();
  }
  return guard(env, [&] {
    const video::Plane rp{ref, w, h, w}, cp{cur, w, h, w};
    const video::MotionField f = exhaustive ? video::searchMotionExhaustive(rp, cp, o) : video::searchMotion(rp, cp, o);
    Napi::Object out = Napi::Object::New(env);
    out.Set("blocksX", f.blocksX);
    out.Set("blocksY", f.blocksY);
    out.Set("blockSize", f.blockSize);
    Napi::Int16Array mv = Napi::Int16Array::New(env, f.vectors.size() * 2);
    for (size_t i = 0; i < f.vectors.size(); ++i) {
      mv[2 * i] = f.vectors[i].dx;
      mv[2 * i + 1] = f.vectors[i].dy;
    }
    Napi::Uint32Array sad = Napi::Uint32Array::New(env, f.sad.size());
    for (size_t i = 0; i < f.sad.size(); ++i) sad[i] = f.sad[i];
    out.Set("vectors", mv);
    out.Set("sad", sad);
    out.Set("evaluated", static_cast<double>(f.evaluated));
    return out;
  });
}

}  // namespace aic::js
