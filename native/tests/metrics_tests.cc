#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "common/cpu_features.h"
#include "image/metrics.h"
#include "test_harness.h"

using namespace aic::metrics;

namespace {
std::vector<uint8_t> texture(int w, int h, int ch, unsigned seed) {
  std::vector<uint8_t> img(static_cast<size_t>(w) * h * ch);
  std::mt19937 rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < ch; ++c)
        img[(static_cast<size_t>(y) * w + x) * ch + c] = static_cast<uint8_t>(std::clamp(
            128.0 + 60 * std::sin(x * 0.21 + c) * std::cos(y * 0.17) + static_cast<int>(rng() % 21) - 10, 0.0, 255.0));
  return img;
}
std::vector<uint8_t> noisy(const std::vector<uint8_t>& a, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, sigma);
  auto b = a;
  for (auto& v : b) v = static_cast<uint8_t>(std::clamp(v + n(rng), 0.0, 255.0));
  return b;
}
}  // namespace

TEST(identical_frames_score_perfectly) {
  auto a = texture(200, 180, 3, 1);
  CHECK(psnr(a.data(), a.data(), 200, 180, 3) == 100.0);
  CHECK(std::abs(ssim(a.data(), a.data(), 200, 180, 3) - 1.0) < 1e-9);
  CHECK(std::abs(msssim(a.data(), a.data(), 200, 180, 3) - 1.0) < 1e-9);
}

TEST(psnr_matches_its_definition) {
  std::vector<uint8_t> a(4 * 4 * 3, 100), b(4 * 4 * 3, 100);
  for (size_t i = 0; i < b.size(); i += 2) b[i] = 110;  // half the samples off by 10: MSE 50
  CHECK(std::abs(psnr(a.data(), b.data(), 4, 4, 3) - 10 * std::log10(255.0 * 255.0 / 50.0)) < 1e-9);
  // alpha is ignored
  std::vector<uint8_t> ra(4 * 4 * 4, 100), rb(4 * 4 * 4, 100);
  for (size_t i = 3; i < rb.size(); i += 4) rb[i] = 0;
  CHECK(psnr(ra.data(), rb.data(), 4, 4, 4) == 100.0);
}

TEST(scores_fall_monotonically_with_noise) {
  auto a = texture(192, 192, 3, 2);
  double lastP = 1e9, lastS = 2, lastM = 2;
  for (double sigma : {1.0, 3.0, 8.0, 20.0, 50.0}) {
    auto b = noisy(a, sigma, 9);
    double p = psnr(a.data(), b.data(), 192, 192, 3), s = ssim(a.data(), b.data(), 192, 192, 3), m = msssim(a.data(), b.data(), 192, 192, 3);
    CHECK(p < lastP);
    CHECK(s < lastS);
    CHECK(m < lastM);
    CHECK(s > 0 && s < 1 && m > 0 && m < 1);
    lastP = p;
    lastS = s;
    lastM = m;
  }
}

TEST(ssim_of_a_mean_shift_only_moves_luminance) {
  // A uniform brightness shift keeps structure: SSIM stays high, PSNR drops to the shift's.
  auto a = texture(64, 64, 3, 4);
  auto b = a;
  for (auto& v : b) v = static_cast<uint8_t>(std::min(255, v + 5));
  CHECK(ssim(a.data(), b.data(), 64, 64, 3) > 0.98);
  CHECK(std::abs(psnr(a.data(), b.data(), 64, 64, 3) - 10 * std::log10(255.0 * 255 / 25)) < 0.5);
}

TEST(tiny_frames_are_measured) {
  auto a = texture(5, 3, 3, 5);
  auto b = noisy(a, 10, 1);
  double s = ssim(a.data(), b.data(), 5, 3, 3);
  CHECK(s > 0 && s < 1);
  double m = msssim(a.data(), b.data(), 5, 3, 3);
  CHECK(m > 0 && m <= 1);
}

TEST(worst_tile_finds_a_damaged_block_the_mean_hides) {
  const int w = 320, h = 256;
  auto a = texture(w, h, 3, 7);
  auto b = noisy(a, 2, 8);
  auto clean = rgbScores(a.data(), b.data(), w, h, 3);
  // The same mean as ssim(), and a worst tile close to it on evenly degraded content.
  CHECK(std::abs(clean.ssim - ssim(a.data(), b.data(), w, h, 3)) < 1e-9);
  CHECK(clean.worstTileSsim <= clean.ssim + 1e-9 && clean.worstTileSsim > clean.ssim - 0.05);
  // Wreck one 96x96 block (it covers at least one whole 64-position tile wherever the grid lies).
  for (int y = 64; y < 160; ++y)
    for (int x = 96; x < 192; ++x)
      for (int c = 0; c < 3; ++c) b[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>((x * 37 + y * 91 + c * 53) & 255);
  auto damaged = rgbScores(a.data(), b.data(), w, h, 3);
  CHECK(damaged.ssim > clean.ssim - 0.2);  // the mean moves a little
  CHECK(damaged.worstTileSsim < 0.2);      // the worst tile does not hide it
  // I420: judged on luma.
  std::vector<uint8_t> ya(static_cast<size_t>(w) * h + 2 * (w / 2) * (h / 2), 128), yb = ya;
  for (int i = 0; i < w * h; ++i) ya[i] = yb[i] = a[static_cast<size_t>(i) * 3];
  CHECK(std::abs(i420Scores(ya.data(), yb.data(), w, h).worstTileSsim - 1.0) < 1e-9);
  for (int y = 64; y < 160; ++y)
    for (int x = 96; x < 192; ++x) yb[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>((x * 13 + y * 7) & 255);
  CHECK(i420Scores(ya.data(), yb.data(), w, h).worstTileSsim < 0.3);
}

TEST(worst_tile_of_a_frame_smaller_than_a_tile_is_its_ssim) {
  auto a = texture(40, 30, 3, 3);
  auto b = noisy(a, 8, 4);
  auto s = rgbScores(a.data(), b.data(), 40, 30, 3);
  CHECK(std::abs(s.worstTileSsim - s.ssim) < 1e-6);
}

namespace {
// SSIM of one plane straight from its definition (Wang et al. 2004): an 11x11 Gaussian window
// (sigma 1.5) at every valid position, in double precision, no separable filtering. Slow, and
// only for checking the fast single-precision filter in metrics.cc.
double referencePlaneSsim(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int w, int h, int ch, int c) {
  const int n = 11;
  double k[n], sum = 0;
  for (int i = 0; i < n; ++i) sum += k[i] = std::exp(-((i - 5.0) * (i - 5.0)) / (2 * 1.5 * 1.5));
  for (double& v : k) v /= sum;
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  double total = 0;
  for (int y = 0; y + n <= h; ++y)
    for (int x = 0; x + n <= w; ++x) {
      double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) {
          const double wgt = k[i] * k[j];
          const double va = a[(static_cast<size_t>(y + j) * w + x + i) * ch + c], vb = b[(static_cast<size_t>(y + j) * w + x + i) * ch + c];
          mx += wgt * va;
          my += wgt * vb;
          xx += wgt * va * va;
          yy += wgt * vb * vb;
          xy += wgt * va * vb;
        }
      const double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
      total += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
  return total / ((w - n + 1.0) * (h - n + 1.0));
}
}  // namespace

TEST(ssim_matches_its_definition) {
  // Widths that are and are not multiples of the SIMD width, noise from mild to heavy.
  for (int w : {64, 77}) {
    const int h = 45;
    auto a = texture(w, h, 3, 4);
    for (double sigma : {2.0, 12.0, 40.0}) {
      auto b = noisy(a, sigma, 5);
      double expected = 0;
      for (int c = 0; c < 3; ++c) expected += referencePlaneSsim(a, b, w, h, 3, c) / 3;
      const double got = ssim(a.data(), b.data(), w, h, 3);
      CHECK(std::abs(got - expected) < 2e-5);
      CHECK(std::abs(rgbScores(a.data(), b.data(), w, h, 3).ssim - got) < 1e-12);
    }
  }
}

TEST(ssim_paths_agree_and_plane_scores_match_interleaved_ones) {
  // The AVX2 path (where the CPU has it) against the portable one: the same operations (metrics.cc
  // is built without FMA contraction), so the same scores to the bit. planeScores() on planes
  // equals rgbScores() on the interleaved frame.
  const int w = 203, h = 157;
  auto a = texture(w, h, 3, 11);
  auto b = noisy(a, 9, 12);
  const ImageScores fast = rgbScores(a.data(), b.data(), w, h, 3);
  aic::forceBaselinePaths(true);
  const ImageScores portable = rgbScores(a.data(), b.data(), w, h, 3);
  const ImageScores portableI420 = i420Scores(a.data(), b.data(), w, h);  // any bytes make a frame of planes
  aic::forceBaselinePaths(false);
  CHECK(fast.ssim == portable.ssim);
  CHECK(fast.worstTileSsim == portable.worstTileSsim);
  CHECK(fast.psnr == portable.psnr);
  CHECK(i420Scores(a.data(), b.data(), w, h).ssim == portableI420.ssim);
  std::vector<uint8_t> pa[3], pb[3];
  for (int c = 0; c < 3; ++c) {
    pa[c].resize(static_cast<size_t>(w) * h);
    pb[c].resize(pa[c].size());
    for (size_t i = 0; i < pa[c].size(); ++i) {
      pa[c][i] = a[i * 3 + c];
      pb[c][i] = b[i * 3 + c];
    }
  }
  const PlaneRef ra[3] = {{pa[0].data(), static_cast<size_t>(w), 1}, {pa[1].data(), static_cast<size_t>(w), 1}, {pa[2].data(), static_cast<size_t>(w), 1}};
  const PlaneRef rb[3] = {{pb[0].data(), static_cast<size_t>(w), 1}, {pb[1].data(), static_cast<size_t>(w), 1}, {pb[2].data(), static_cast<size_t>(w), 1}};
  const ImageScores planes = planeScores(ra, rb, w, h);
  CHECK(planes.ssim == fast.ssim);
  CHECK(planes.worstTileSsim == fast.worstTileSsim);
  CHECK(std::abs(planes.psnr - fast.psnr) < 1e-9);
}

TEST(row_scorer_bands_in_any_order_match_plane_scores) {
  // Bands scored out of order, and on two threads, sum to planeScores() of the same planes bit for bit.
  for (const auto [w, h] : {std::pair{200, 120}, std::pair{131, 64}, std::pair{40, 12}}) {
    const auto a = texture(w, h, 3, 5), b = noisy(a, 6, 9);
    std::vector<uint8_t> planes[3];
    for (int c = 0; c < 3; ++c) {
      planes[c].resize(static_cast<size_t>(w) * h);
      for (size_t i = 0; i < planes[c].size(); ++i) planes[c][i] = b[i * 3 + c];
    }
    const PlaneRef src[3] = {{a.data(), static_cast<size_t>(w) * 3, 3}, {a.data() + 1, static_cast<size_t>(w) * 3, 3}, {a.data() + 2, static_cast<size_t>(w) * 3, 3}};
    const PlaneRef rec[3] = {{planes[0].data(), static_cast<size_t>(w), 1}, {planes[1].data(), static_cast<size_t>(w), 1}, {planes[2].data(), static_cast<size_t>(w), 1}};
    const ImageScores whole = planeScores(src, rec, w, h);
    RowScorer r(src, rec, w, h);
    const int oh = r.outputRows();
    CHECK(oh == h - r.window() + 1);
    std::thread other([&] { r.scoreRows(oh / 2, oh); });
    for (int y = oh / 2 - 7; y > -7; y -= 7) r.scoreRows(y, y + 7);
    other.join();
    const ImageScores banded = r.finish();
    CHECK(banded.ssim == whole.ssim);
    CHECK(banded.worstTileSsim == whole.worstTileSsim);
    CHECK(banded.psnr == whole.psnr);
    CHECK(std::abs(whole.ssim - rgbScores(a.data(), b.data(), w, h, 3).ssim) == 0);
  }
}

TEST(i420_score_from_a_banded_luma_matches_i420_scores) {
  // An I420 predicted frame's score: luma by a one-plane RowScorer in bands on two threads, then
  // U and V; bit for bit i420Scores() of the same frames, odd sizes included.
  for (const auto [w, h] : {std::pair{200, 120}, std::pair{131, 65}, std::pair{40, 12}}) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    const size_t n = static_cast<size_t>(w) * h + 2 * static_cast<size_t>(cw) * ch;
    const auto ta = texture(static_cast<int>(n), 1, 1, 3), tb = noisy(ta, 7, 4);
    const PlaneRef ya{ta.data(), static_cast<size_t>(w), 1}, yb{tb.data(), static_cast<size_t>(w), 1};
    RowScorer r(&ya, &yb, 1, w, h);
    const int oh = r.outputRows();
    std::thread other([&] { r.scoreRows(oh / 3, oh); });
    r.scoreRows(0, oh / 3);
    other.join();
    const std::vector<PlaneTotals> luma = r.finishPlanes();
    CHECK(luma.size() == 1);
    const ImageScores banded = i420ScoresWithLuma(luma[0], ta.data(), tb.data(), w, h);
    const ImageScores whole = i420Scores(ta.data(), tb.data(), w, h);
    CHECK(banded.ssim == whole.ssim);
    CHECK(banded.worstTileSsim == whole.worstTileSsim);
    CHECK(banded.psnr == whole.psnr);
    CHECK(whole.ssim < 1 && whole.psnr < 100);
  }
}
