// I420 conversion and the fast SSIM against a plain double-precision reference.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "image/metrics.h"
#include "image/yuv.h"
#include "test_harness.h"

using namespace aic;

namespace {

std::vector<uint8_t> smoothRgb(int w, int h, unsigned seed) {
  std::vector<uint8_t> img(static_cast<size_t>(w) * h * 3);
  std::mt19937 rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img[(static_cast<size_t>(y) * w + x) * 3 + c] =
            static_cast<uint8_t>(std::clamp(120.0 + 80 * std::sin(x * 0.05 + c) * std::cos(y * 0.04 - c) + static_cast<int>(rng() % 7) - 3, 0.0, 255.0));
  return img;
}

// SSIM of one plane, written the obvious way (11x11 Gaussian sigma 1.5, valid positions, doubles).
double referenceSsim(const uint8_t* a, const uint8_t* b, int w, int h, int stride, int c) {
  double k[11], sum = 0;
  for (int i = 0; i < 11; ++i) sum += k[i] = std::exp(-((i - 5.0) * (i - 5.0)) / (2 * 1.5 * 1.5));
  for (double& v : k) v /= sum;
  const double c1 = 6.5025, c2 = 58.5225;
  double total = 0;
  int count = 0;
  for (int y = 0; y + 11 <= h; ++y)
    for (int x = 0; x + 11 <= w; ++x) {
      double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (int j = 0; j < 11; ++j)
        for (int i = 0; i < 11; ++i) {
          const double wt = k[i] * k[j];
          const double va = a[(static_cast<size_t>(y + j) * w + x + i) * stride + c], vb = b[(static_cast<size_t>(y + j) * w + x + i) * stride + c];
          mx += wt * va;
          my += wt * vb;
          sxx += wt * va * va;
          syy += wt * vb * vb;
          sxy += wt * va * vb;
        }
      const double vx = sxx - mx * mx, vy = syy - my * my, cov = sxy - mx * my;
      total += (2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      ++count;
    }
  return total / count;
}

}  // namespace

TEST(fast_ssim_matches_the_reference_definition) {
  const int w = 67, h = 45;
  auto a = smoothRgb(w, h, 3);
  auto b = a;
  std::mt19937 rng(9);
  std::normal_distribution<double> n(0, 9);
  for (auto& v : b) v = static_cast<uint8_t>(std::clamp(v + n(rng), 0.0, 255.0));
  double ref = 0;
  for (int c = 0; c < 3; ++c) ref += referenceSsim(a.data(), b.data(), w, h, 3, c) / 3;
  const double fast = metrics::ssim(a.data(), b.data(), w, h, 3);
  CHECK(std::abs(fast - ref) < 2e-5);
  CHECK(fast < 0.95);
}

TEST(i420_round_trip_is_close_and_sized) {
  CHECK(yuv::i420Size(4, 4) == 24);
  CHECK(yuv::i420Size(5, 3) == 15 + 2 * 3 * 2);
  const int w = 33, h = 17;  // odd sizes: edge chroma blocks are partial
  auto rgb = smoothRgb(w, h, 5);
  std::vector<uint8_t> i420(yuv::i420Size(w, h)), back(rgb.size());
  yuv::rgbToI420(rgb.data(), 3, w, h, i420.data());
  for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i) CHECK(i420[i] >= 16 && i420[i] <= 235);
  yuv::i420ToRgb(i420.data(), w, h, back.data(), 3);
  // Chroma is subsampled, so colours move a little; a smooth image stays close.
  CHECK(metrics::psnr(rgb.data(), back.data(), w, h, 3) > 30);
  // Grey maps to Y = 16 + 219 * v / 255 and neutral chroma.
  std::vector<uint8_t> grey(4 * 4 * 3, 128), g420(yuv::i420Size(4, 4));
  yuv::rgbToI420(grey.data(), 3, 4, 4, g420.data());
  CHECK(std::abs(g420[0] - 126) <= 1);
  CHECK(g420[16] == 128 && g420[20] == 128);
}

TEST(i420_scores_weight_luma) {
  const int w = 64, h = 48;
  auto rgb = smoothRgb(w, h, 7);
  std::vector<uint8_t> a(yuv::i420Size(w, h));
  yuv::rgbToI420(rgb.data(), 3, w, h, a.data());
  auto s = metrics::i420Scores(a.data(), a.data(), w, h);
  CHECK(s.psnr == 100.0 && std::abs(s.ssim - 1.0) < 1e-9);
  // The same noise costs more SSIM on luma than on one chroma plane.
  auto lumaNoise = a, chromaNoise = a;
  std::mt19937 rng(1);
  for (size_t i = 0; i < static_cast<size_t>(w) * h / 4; ++i) {
    lumaNoise[rng() % (w * h)] ^= 0x20;
    chromaNoise[w * h + rng() % (w * h / 4)] ^= 0x20;
  }
  CHECK(metrics::i420Scores(a.data(), lumaNoise.data(), w, h).ssim < metrics::i420Scores(a.data(), chromaNoise.data(), w, h).ssim);
}

TEST(fixed_point_i420_conversions_agree_with_the_float_ones_and_round_trip) {
  // Every Y, U, V combination's RGB within one code value of the float conversion.
  const int w = 2, h = 2;
  std::vector<uint8_t> frame(yuv::i420Size(w, h));
  std::vector<uint8_t> r(4), g(4), b(4), rgb(12);
  uint8_t* planes[3] = {r.data(), g.data(), b.data()};
  int worst = 0;
  for (int y = 0; y < 256; y += 3)
    for (int u = 0; u < 256; u += 5)
      for (int v = 0; v < 256; v += 5) {
        std::fill(frame.begin(), frame.begin() + 4, static_cast<uint8_t>(y));
        frame[4] = static_cast<uint8_t>(u);
        frame[5] = static_cast<uint8_t>(v);
        yuv::i420ToRgbPlanesFixed(frame.data(), w, h, planes);
        yuv::i420ToRgb(frame.data(), w, h, rgb.data(), 3);
        worst = std::max({worst, std::abs(r[0] - rgb[0]), std::abs(g[0] - rgb[1]), std::abs(b[0] - rgb[2])});
      }
  CHECK(worst <= 1);
  // RGB planes -> I420 within one code value of the float path, odd sizes included.
  const int W = 37, H = 21;
  auto img = smoothRgb(W, H, 11);
  std::vector<uint8_t> pr(W * H), pg(W * H), pb(W * H);
  for (int i = 0; i < W * H; ++i) {
    pr[i] = img[3 * i];
    pg[i] = img[3 * i + 1];
    pb[i] = img[3 * i + 2];
  }
  const uint8_t* src[3] = {pr.data(), pg.data(), pb.data()};
  std::vector<uint8_t> fixed(yuv::i420Size(W, H)), flt(yuv::i420Size(W, H));
  yuv::rgbPlanesToI420Fixed(src, W, H, fixed.data());
  yuv::rgbToI420(img.data(), 3, W, H, flt.data());
  int worst420 = 0;
  for (size_t i = 0; i < fixed.size(); ++i) worst420 = std::max(worst420, std::abs(fixed[i] - flt[i]));
  CHECK(worst420 <= 1);
  // I420 -> RGB -> I420 comes back within a code value or two (clamping and rounding only; the
  // chroma of a 2x2 block is the mean of its pixels' chroma, which is the sample itself).
  std::vector<uint8_t> qr(W * H), qg(W * H), qb(W * H), again(fixed.size());
  uint8_t* q[3] = {qr.data(), qg.data(), qb.data()};
  yuv::i420ToRgbPlanesFixed(fixed.data(), W, H, q);
  const uint8_t* qc[3] = {qr.data(), qg.data(), qb.data()};
  yuv::rgbPlanesToI420Fixed(qc, W, H, again.data());
  int drift = 0;
  for (size_t i = 0; i < fixed.size(); ++i) drift = std::max(drift, std::abs(fixed[i] - again[i]));
  CHECK(drift <= 2);
  CHECK(metrics::i420Scores(fixed.data(), again.data(), W, H).psnr > 45);
  // Smooth chroma: luma exact as before, each 2x2 block's mean colour close to its sample on a
  // smooth image, and no 2x2 steps (neighbouring pixels of one block differ less than nearest's).
  yuv::i420ToRgbPlanesSmooth(fixed.data(), W, H, q);
  yuv::rgbPlanesToI420Fixed(qc, W, H, again.data());
  CHECK(metrics::i420Scores(fixed.data(), again.data(), W, H).psnr > 40);
  for (int i = 0; i < W * H; ++i) CHECK(std::abs(fixed[i] - again[i]) <= 2);
  // A flat frame stays flat, whatever its edges.
  std::vector<uint8_t> flat(yuv::i420Size(W, H), 90);
  yuv::i420ToRgbPlanesFixed(flat.data(), W, H, q);
  const std::vector<uint8_t> nearest = qr;
  yuv::i420ToRgbPlanesSmooth(flat.data(), W, H, q);
  CHECK(nearest == qr);
}
