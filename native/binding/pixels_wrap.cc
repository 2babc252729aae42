#include "pixels_wrap.h"

#include <string>
#include <vector>

#include "image/metrics.h"
#include "image/yuv.h"
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

// Both jobs read copies of the caller's frames taken at call time (job.h).
class ScoreJob : public Job {
 public:
  ScoreJob(std::vector<uint8_t> a, std::vector<uint8_t> b, int w, int h, Format f) : a_(std::move(a)), b_(std::move(b)), w_(w), h_(h), f_(f) {}
  void execute() override {
    s_ = f_ == Format::I420 ? metrics::i420Scores(a_.data(), b_.data(), w_, h_) : metrics::rgbScores(a_.data(), b_.data(), w_, h_, f_ == Format::Rgba ? 4 : 3);
  }
  Napi::Value toJs(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("psnr", s_.psnr);
    o.Set("ssim", s_.ssim);
    o.Set("worstTileSsim", s_.worstTileSsim);
    return o;
  }

 private:
  std::vector<uint8_t> a_, b_;
  int w_, h_;
  Format f_;
  metrics::ImageScores s_;
};

class ConvertJob : public Job {
 public:
  ConvertJob(std::vector<uint8_t> src, int w, int h, Format from, Format to) : bytes_(std::move(src)), w_(w), h_(h), from_(from), to_(to) {}
  void execute() override {
    const uint8_t* src_ = bytes_.data();
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
  std::vector<uint8_t> bytes_;
  int w_, h_;
  Format from_, to_;
  std::vector<uint8_t> out_;
};

}  // namespace

// scoreFrame(a, b, width, height, format) -> Promise<{ psnr, ssim, worstTileSsim }> (native/core/image/metrics.h)
Napi::Value ScoreFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = intArg(info, 2, "width", 1, 65535), h = intArg(info, 3, "height", 1, 65535);
  const Format f = formatArg(env, info[4], "format");
  auto a = copyOf(env, info[0], "a");
  auto b = copyOf(env, info[1], "b");
  const size_t need = frameSize(f, w, h);
  if (a.size() != need || b.size() != need) throwInvalid(env, "both frames must hold " + std::to_string(need) + " bytes");
  return runAsync(env, "aic.scoreFrame", std::make_unique<ScoreJob>(std::move(a), std::move(b), w, h, f));
}

// convertFrame(frame, width, height, from, to) -> Promise<Buffer> (BT.601 limited range for I420)
Napi::Value ConvertFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = intArg(info, 1, "width", 1, 65535), h = intArg(info, 2, "height", 1, 65535);
  const Format from = formatArg(env, info[3], "from"), to = formatArg(env, info[4], "to");
  auto src = copyOf(env, info[0], "frame");
  if (src.size() != frameSize(from, w, h)) throwInvalid(env, "the frame must hold " + std::to_string(frameSize(from, w, h)) + " bytes");
  if (from == to) throwInvalid(env, "convertFrame() needs two different formats");
  return runAsync(env, "aic.convertFrame", std::make_unique<ConvertJob>(std::move(src), w, h, from, to));
}

}  // namespace aic::js
