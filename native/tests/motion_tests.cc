// Motion search (native/core/video/motion_search.h): the SIMD SAD against the plain sum, known
// integer and quarter-pixel motion recovered exactly, the fast search against the exhaustive one,
// the edges, and the options' checks.
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "test_harness.h"
#include "video/motion_search.h"

using namespace aic;
using namespace aic::video;

namespace {

// A textured luma frame with a natural image's spectrum (two octaves of smoothly interpolated
// random values, every 16 and every 4 pixels): detail everywhere, but little energy near the
// Nyquist frequency, as a camera's optics leave it (on pure high-frequency patterns any search
// finds aliased matches, and so does a real encoder).
std::vector<uint8_t> texture(int w, int h, unsigned seed) {
  std::mt19937 rng(seed);
  auto octave = [&](int cell) {
    const int gw = w / cell + 3, gh = h / cell + 3;
    std::vector<double> g(static_cast<size_t>(gw) * gh);
    for (auto& v : g) v = static_cast<double>(rng() % 2001) / 1000.0 - 1.0;
    std::vector<double> out(static_cast<size_t>(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double fx = static_cast<double>(x) / cell, fy = static_cast<double>(y) / cell;
        const int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
        // Smoothstep weights: continuous slopes, so the field has no creases.
        const double tx = fx - ix, ty = fy - iy, sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty);
        auto at = [&](int i, int j) { return g[static_cast<size_t>(j) * gw + i]; };
        out[static_cast<size_t>(y) * w + x] = (1 - sx) * (1 - sy) * at(ix, iy) + sx * (1 - sy) * at(ix + 1, iy) + (1 - sx) * sy * at(ix, iy + 1) + sx * sy * at(ix + 1, iy + 1);
      }
    return out;
  };
  const auto coarse = octave(16), fine = octave(4);
  std::vector<uint8_t> p(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(std::clamp(128 + 80 * coarse[i] + 35 * fine[i], 0.0, 255.0));
  return p;
}

Plane plane(const std::vector<uint8_t>& p, int w, int h) { return {p.data(), w, h, w}; }

}  // namespace

TEST(motion_sad_matches_the_plain_sum) {
  std::mt19937 rng(7);
  std::vector<uint8_t> a(64 * 40), b(64 * 40);
  for (auto& v : a) v = static_cast<uint8_t>(rng());
  for (auto& v : b) v = static_cast<uint8_t>(rng());
  for (int w : {16, 8, 5, 13, 33, 48, 60})
    for (int h : {16, 8, 3}) {
      uint32_t plain = 0;
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) plain += static_cast<uint32_t>(std::abs(a[static_cast<size_t>(r) * 64 + c + 3] - b[static_cast<size_t>(r + 1) * 64 + c]));
      CHECK(sad(a.data() + 3, 64, b.data() + 64, 64, w, h) == plain);
    }
}

TEST(motion_median_predictor) {
  CHECK((medianVector({1, 9}, {5, -3}, {3, 4}) == MotionVector{3, 4}));
  CHECK((medianVector({-8, 0}, {-8, 0}, {12, 2}) == MotionVector{-8, 0}));
}

TEST(motion_recovers_integer_translation) {
  const int w = 160, h = 96;
  const auto ref = texture(w, h, 1);
  for (auto [dx, dy] : {std::pair{3, -2}, std::pair{-7, 5}, std::pair{12, 0}, std::pair{0, 0}}) {
    // cur(x, y) = ref(x + dx, y + dy)
    std::vector<uint8_t> cur(ref.size());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) cur[static_cast<size_t>(y) * w + x] = ref[static_cast<size_t>(std::clamp(y + dy, 0, h - 1)) * w + std::clamp(x + dx, 0, w - 1)];
    const MotionField f = searchMotion(plane(ref, w, h), plane(cur, w, h), {});
    int exact = 0, interior = 0;
    for (int by = 1; by + 1 < f.blocksY; ++by)
      for (int bx = 1; bx + 1 < f.blocksX; ++bx) {
        ++interior;
        const size_t i = static_cast<size_t>(by) * f.blocksX + bx;
        if (f.vectors[i] == MotionVector{static_cast<int16_t>(4 * dx), static_cast<int16_t>(4 * dy)} && f.sad[i] == 0) ++exact;
        else std::cerr << "    int (" << dx << "," << dy << ") block " << bx << "," << by << ": " << f.vectors[i].dx << "," << f.vectors[i].dy << " sad " << f.sad[i] << "\n";
      }
    CHECK(exact == interior);
  }
}

TEST(motion_recovers_quarter_pixel_translation) {
  const int w = 128, h = 96;
  const auto ref = texture(w, h, 2);
  const Plane rp = plane(ref, w, h);
  for (auto [dx, dy] : {std::pair{5, -3}, std::pair{-6, 2}, std::pair{1, 1}}) {
    // cur = ref moved by (dx, dy) quarter pixels, made with the predictor itself.
    std::vector<uint8_t> cur(ref.size());
    predictBlock(rp, 0, 0, 64, 64, {static_cast<int16_t>(dx), static_cast<int16_t>(dy)}, cur.data(), w);
    predictBlock(rp, 64, 0, 64, 64, {static_cast<int16_t>(dx), static_cast<int16_t>(dy)}, cur.data() + 64, w);
    predictBlock(rp, 0, 64, 64, 32, {static_cast<int16_t>(dx), static_cast<int16_t>(dy)}, cur.data() + 64 * w, w);
    predictBlock(rp, 64, 64, 64, 32, {static_cast<int16_t>(dx), static_cast<int16_t>(dy)}, cur.data() + 64 * w + 64, w);
    const MotionField f = searchMotion(rp, plane(cur, w, h), {});
    int exact = 0, interior = 0;
    for (int by = 1; by + 1 < f.blocksY; ++by)
      for (int bx = 1; bx + 1 < f.blocksX; ++bx) {
        ++interior;
        const size_t i = static_cast<size_t>(by) * f.blocksX + bx;
        if (f.vectors[i] == MotionVector{static_cast<int16_t>(dx), static_cast<int16_t>(dy)} && f.sad[i] == 0) ++exact;
        else std::cerr << "    qpel (" << dx << "," << dy << ") block " << bx << "," << by << ": " << f.vectors[i].dx << "," << f.vectors[i].dy << " sad " << f.sad[i] << "\n";
      }
    CHECK(exact == interior);
  }
}

TEST(motion_fast_search_is_close_to_exhaustive) {
  // Two real-like frames: texture under a smooth, varying motion field (a zoom and a pan).
  const int w = 192, h = 128;
  const auto ref = texture(w, h, 3);
  std::vector<uint8_t> cur(ref.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double sx = 96 + (x - 96) * 0.97 + 4.5, sy = 64 + (y - 64) * 0.97 - 2.25;
      const int x0 = std::clamp(static_cast<int>(std::floor(sx)), 0, w - 2), y0 = std::clamp(static_cast<int>(std::floor(sy)), 0, h - 2);
      const double fx = std::clamp(sx - x0, 0.0, 1.0), fy = std::clamp(sy - y0, 0.0, 1.0);
      auto px = [&](int xx, int yy) { return static_cast<double>(ref[static_cast<size_t>(yy) * w + xx]); };
      cur[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(std::lround((1 - fx) * (1 - fy) * px(x0, y0) + fx * (1 - fy) * px(x0 + 1, y0) + (1 - fx) * fy * px(x0, y0 + 1) + fx * fy * px(x0 + 1, y0 + 1)));
    }
  MotionSearchOptions o;
  o.range = 16;
  const MotionField fast = searchMotion(plane(ref, w, h), plane(cur, w, h), o);
  const MotionField full = searchMotionExhaustive(plane(ref, w, h), plane(cur, w, h), o);
  uint64_t sFast = 0, sFull = 0, sZero = 0;
  for (size_t i = 0; i < fast.sad.size(); ++i) {
    sFast += fast.sad[i];
    sFull += full.sad[i];
  }
  for (size_t i = 0; i < ref.size(); ++i) sZero += static_cast<uint64_t>(std::abs(ref[i] - cur[i]));
  // The fast search stays within 10 % of the exhaustive one's residual, at a small fraction of its positions.
  CHECK(sFast * 10 <= sFull * 11);
  CHECK(fast.evaluated * 10 < full.evaluated);
  // And motion compensation removes most of the frame difference.
  CHECK(sFast * 4 < sZero);
}

TEST(motion_edges_and_partial_blocks) {
  // 37 x 21: partial blocks at the right and bottom; vectors pointing off the frame read the edge.
  const int w = 37, h = 21;
  const auto ref = texture(w, h, 4);
  std::vector<uint8_t> cur(ref.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) cur[static_cast<size_t>(y) * w + x] = ref[static_cast<size_t>(std::clamp(y - 3, 0, h - 1)) * w + std::clamp(x + 5, 0, w - 1)];
  MotionSearchOptions o;
  o.blockSize = 8;
  o.range = 8;
  const MotionField f = searchMotion(plane(ref, w, h), plane(cur, w, h), o);
  CHECK(f.blocksX == 5);
  CHECK(f.blocksY == 3);
  for (const MotionVector& v : f.vectors) CHECK(std::abs(v.dx) <= 32 && std::abs(v.dy) <= 32);
}

TEST(motion_refuses_bad_options) {
  const auto ref = texture(32, 32, 5);
  MotionSearchOptions o;
  o.blockSize = 12;
  CHECK_THROWS_CODE(searchMotion(plane(ref, 32, 32), plane(ref, 32, 32), o), ErrorCode::InvalidArgument);
  o.blockSize = 16;
  o.range = 0;
  CHECK_THROWS_CODE(searchMotion(plane(ref, 32, 32), plane(ref, 32, 32), o), ErrorCode::InvalidArgument);
  o.range = 8;
  CHECK_THROWS_CODE(searchMotion(plane(ref, 32, 32), plane(ref, 16, 16), o), ErrorCode::InvalidArgument);
}

TEST(motion_interpolation_matches_the_bilinear_definition) {
  // The SIMD rows against the formula, every quarter-pixel phase, widths around the 8-wide step.
  std::mt19937 rng(21);
  std::vector<uint8_t> src(40 * 40);
  for (auto& v : src) v = static_cast<uint8_t>(rng());
  uint8_t out[16 * 16];
  bool same = true;
  for (int fy = 0; fy < 4; ++fy)
    for (int fx = 0; fx < 4; ++fx)
      for (int w : {1, 5, 8, 9, 15, 16})
        for (int h : {1, 7, 16}) {
          interpolateBlock(src.data() + 41, 40, fx, fy, w, h, out, 16);
          for (int r = 0; r < h; ++r)
            for (int c = 0; c < w; ++c) {
              const uint8_t* a = src.data() + 41 + r * 40 + c;
              const int v = ((4 - fx) * (4 - fy) * a[0] + fx * (4 - fy) * a[1] + (4 - fx) * fy * a[40] + fx * fy * a[41] + 8) >> 4;
              same &= out[r * 16 + c] == v;
            }
        }
  CHECK(same);
}

TEST(motion_field_does_not_depend_on_who_searched_the_slices) {
  // A frame of 16x16 blocks big enough to be split into two slices (>= 256 blocks): searched
  // alone (the bottom slice on a helper) and by four callers at once (the helper busy, slices run
  // by their callers), the field is the same.
  const int w = 320, h = 224;
  const auto ref = texture(w, h, 7);
  std::vector<uint8_t> cur(ref.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) cur[static_cast<size_t>(y) * w + x] = ref[static_cast<size_t>(std::min(h - 1, y + 3)) * w + std::min(w - 1, x + 5)];
  MotionSearchOptions o;
  const MotionField alone = searchMotion(plane(ref, w, h), plane(cur, w, h), o);
  CHECK(alone.vectors.size() >= 256);
  std::vector<MotionField> fields(4);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) callers.emplace_back([&, c] { fields[c] = searchMotion(plane(ref, w, h), plane(cur, w, h), o); });
  for (auto& t : callers) t.join();
  for (const auto& f : fields) {
    CHECK(f.vectors == alone.vectors);
    CHECK(f.sad == alone.sad);
    CHECK(f.evaluated == alone.evaluated);
  }
}
