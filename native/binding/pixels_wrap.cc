#include "pixels_wrap.h"

#include <string>
#include <vector>

#include "../core/metrics.h"
#include "../core/yuv.h"
#include "codec_common.h"
#include "job.h"

namespace aic::js {

namespace {

enum class Format { Rgb24, Rgba, I420 };

Format formatArg(Napi::Env env, Napi::Value v, const char* what) {
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "rgb24") return Format::Rgb24;
  if (s == "rgba") return Format::Rgba;
  if (s == "i420") return Format::I420;
  throwInvalid(env, std::string(what) + " must be 'rgb24', 'rgba' or 'i420'");
  return Format::Rgb24;
}

size_t frameSize(Format f, int w, int h) {
  if (f == Format::I420) return yuv::i420Size(w, h);
  return static_cast<size_t>(w) * h * (f == Format::Rgba ? 4 : 3);
}

class ScoreJob : public Job {
 public:
  ScoreJob(const uint8_t* a, const uint8_t* b, int w, int h, Format f) : a_(a), b_(b), w_(w), h_(h), f_(f) {}
  void execute() override {
    s_ = f_ == Format::I420 ? metrics::i420Scores(a_, b_, w_, h_) : metrics::rgbScores(a_, b_, w_, h_, f_ == Format::Rgba ? 4 : 3);
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("psnr", s_.psnr);
    o.Set("ssim", s_.ssim);
    o.Set("worstTileSsim", s_.worstTileSsim);
    return o;
  }

 private:
  const uint8_t *a_, *b_;
  int w_, h_;
  Format f_;
  metrics::ImageScores s_;
};

class ConvertJob : public Job {
 public:
  ConvertJob(const uint8_t* src, int w, int h, Format from, Format to) : src_(src), w_(w), h_(h), from_(from), to_(to) {}
  void execute() override {
    out_.resize(frameSize(to_, w_, h_));
    if (from_ == Format::I420) {
      yuv::i420ToRgb(src_, w_, h_, out_.data(), to_ == Format::Rgba ? 4 : 3);
    } else if (to_ == Format::I420) {
      yuv::rgbToI420(src_, from_ == Format::Rgba ? 4 : 3, w_, h_, out_.data());
    } else {
      // rgb24 <-> rgba: alpha dropped, or set opaque.
      const int ci = from_ == Format::Rgba ? 4 : 3, co = to_ == Format::Rgba ? 4 : 3;
      const size_t n = static_cast<size_t>(w_) * h_;
      for (size_t i = 0; i < n; ++i) {
        for (int c = 0; c < 3; ++c) out_[i * co + c] = src_[i * ci + c];
        if (co == 4) out_[i * 4 + 3] = 255;
      }
    }
  }
  Napi::Value toJs(Napi::Env env) override { return lendVector(env, std::move(out_)); }

 private:
  const uint8_t* src_;
  int w_, h_;
  Format from_, to_;
  std::vector<uint8_t> out_;
};

}  // namespace

// scoreFrame(a, b, width, height, format) -> Promise<{ psnr, ssim, worstTileSsim }> (native/core/metrics.h)
Napi::Value ScoreFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *a, *b;
  size_t la, lb;
  memoryOf(env, info[0], "a", a, la);
  memoryOf(env, info[1], "b", b, lb);
  const int w = intArg(info, 2, "width", 1, 65535), h = intArg(info, 3, "height", 1, 65535);
  const Format f = formatArg(env, info[4], "format");
  const size_t need = frameSize(f, w, h);
  if (la != need || lb != need) throwInvalid(env, "both frames must hold " + std::to_string(need) + " bytes");
  auto job = std::make_unique<ScoreJob>(a, b, w, h, f);
  job->pin(info[0]);
  job->pin(info[1]);
  return runAsync(env, "aic.scoreFrame", std::move(job));
}

// convertFrame(frame, width, height, from, to) -> Promise<Buffer> (BT.601 limited range for I420)
Napi::Value ConvertFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* src;
  size_t length;
  memoryOf(env, info[0], "frame", src, length);
  const int w = intArg(info, 1, "width", 1, 65535), h = intArg(info, 2, "height", 1, 65535);
  const Format from = formatArg(env, info[3], "from"), to = formatArg(env, info[4], "to");
  if (length != frameSize(from, w, h)) throwInvalid(env, "the frame must hold " + std::to_string(frameSize(from, w, h)) + " bytes");
  if (from == to) throwInvalid(env, "convertFrame() needs two different formats");
  auto job = std::make_unique<ConvertJob>(src, w, h, from, to);
  job->pin(info[0]);
  return runAsync(env, "aic.convertFrame", std::move(job));
}

}  // namespace aic::js
