#include "image/metrics.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

namespace aic::metrics {

namespace {

constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
constexpr double kC2 = (0.03 * 255) * (0.03 * 255);

struct Plane {
  int w = 0, h = 0;
  std::vector<float> v;
  float at(int x, int y) const { return v[static_cast<size_t>(y) * w + x]; }
};

Plane extract(const uint8_t* p, int w, int h, int channels, int c) {
  Plane out{w, h, std::vector<float>(static_cast<size_t>(w) * h)};
  for (size_t i = 0; i < out.v.size(); ++i) out.v[i] = p[i * channels + c];
  return out;
}

Plane downsample(const Plane& in) {
  Plane out{in.w / 2, in.h / 2, {}};
  out.v.resize(static_cast<size_t>(out.w) * out.h);
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x)
      out.v[static_cast<size_t>(y) * out.w + x] =
          0.25f * (in.at(2 * x, 2 * y) + in.at(2 * x + 1, 2 * y) + in.at(2 * x, 2 * y + 1) + in.at(2 * x + 1, 2 * y + 1));
  return out;
}

std::vector<float> gaussian(int size) {
  std::vector<double> k(size);
  double sum = 0, c = (size - 1) / 2.0;
  for (int i = 0; i < size; ++i) sum += k[i] = std::exp(-((i - c) * (i - c)) / (2 * 1.5 * 1.5));
  std::vector<float> out(size);
  for (int i = 0; i < size; ++i) out[i] = static_cast<float>(k[i] / sum);
  return out;
}

// Mean SSIM and mean contrast-structure term of two planes. This runs on every frame of a
// session (closed-loop rate control), so it is written for speed: single precision, the five
// local statistics filtered separably with the tap loop outside the pixel loop (which the
// compiler vectorises), valid region only. Statistics of 8-bit data stay well within float
// precision (relative error ~1e-7 of 255^2, against the C2 = 58.5 stabiliser).
// With `tiles`, also the mean SSIM of each tile x tile block of window positions (row-major,
// tilesAcross x tilesDown; the last row and column of tiles take the remainder, so every tile is at
// least `tile` positions on a side unless the plane is smaller): how a damaged region that the
// frame's mean hides is found.
struct TileGrid {
  int tile = 0, across = 1, down = 1;
  std::vector<double> sum;
  std::vector<double> count;
};

// The filter loops are written for the compiler to vectorise; on x86-64 Linux an AVX2+FMA clone
// is picked at load time where the CPU has it (about twice the SSE2 baseline's throughput), so the
// portable prebuilt binary does not give that speed away. (Not under the sanitizers: their
// runtime is not up yet when an ifunc resolver runs.)
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define AIC_SIMD_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define AIC_SIMD_CLONES
#endif

// dst[x] = sum over i < taps of k[i] * src[x + i * step], for x < count, where taps is N when N > 0
// (known at compile time: the tap loop unrolls and the position loop vectorises) and n otherwise
// (windows under 11, for planes smaller than that). The taps are summed in order into one
// accumulator per position, as a "dst += k[i] * row" pass per tap would sum them (so the scores do
// not change by a bit), but each position is loaded and stored once instead of once per tap.
// always_inline puts it inside ssimTerms() and so inside its SIMD clone.
#if defined(_MSC_VER)
#define AIC_ALWAYS_INLINE __forceinline
#else
#define AIC_ALWAYS_INLINE inline __attribute__((always_inline))
#endif
template <int N>
AIC_ALWAYS_INLINE void filterTaps(int n, const float* k, const float* src, size_t step, float* dst, int count) {
  const int taps = N > 0 ? N : n;
  for (int x = 0; x < count; ++x) {
    float acc = 0.0f;
    for (int i = 0; i < taps; ++i) acc += k[i] * src[x + i * step];
    dst[x] = acc;
  }
}

AIC_SIMD_CLONES
void ssimTerms(const Plane& a, const Plane& b, double& ssimMean, double& csMean, TileGrid* tiles = nullptr) {
  const int n = std::max(1, std::min({11, a.w, a.h}));
  const auto k = gaussian(n);
  const int w = a.w, h = a.h, ow = w - n + 1, oh = h - n + 1;
  const size_t hsize = static_cast<size_t>(ow) * h;
  // Horizontally filtered x, y, x^2, y^2, xy: five planes of ow x h.
  // Every element is written by the horizontal pass before it is read: no need to zero it.
  std::unique_ptr<float[]> hfStore(new float[5 * hsize]);
  float* hf = hfStore.get();
  std::vector<float> row(5 * static_cast<size_t>(w));
  for (int y = 0; y < h; ++y) {
    const float* pa = &a.v[static_cast<size_t>(y) * w];
    const float* pb = &b.v[static_cast<size_t>(y) * w];
    float *rx = row.data(), *ry = rx + w, *rxx = ry + w, *ryy = rxx + w, *rxy = ryy + w;
    for (int x = 0; x < w; ++x) {
      rx[x] = pa[x];
      ry[x] = pb[x];
      rxx[x] = pa[x] * pa[x];
      ryy[x] = pb[x] * pb[x];
      rxy[x] = pa[x] * pb[x];
    }
    for (int s = 0; s < 5; ++s) {
      const float* src = row.data() + static_cast<size_t>(s) * w;
      float* dst = &hf[s * hsize + static_cast<size_t>(y) * ow];
      if (n == 11) filterTaps<11>(n, k.data(), src, 1, dst, ow);
      else filterTaps<0>(n, k.data(), src, 1, dst, ow);
    }
  }
  std::vector<float> vf(5 * static_cast<size_t>(ow));
  std::vector<float> rowValues(ow), rowCsValues(ow);
  if (tiles) {
    tiles->across = std::max(1, ow / tiles->tile);
    tiles->down = std::max(1, oh / tiles->tile);
    tiles->sum.assign(static_cast<size_t>(tiles->across) * tiles->down, 0.0);
    tiles->count.assign(tiles->sum.size(), 0.0);
  }
  double ssimSum = 0, csSum = 0;
  const float c1 = static_cast<float>(kC1), c2 = static_cast<float>(kC2);
  for (int y = 0; y < oh; ++y) {
    for (int s = 0; s < 5; ++s) {
      float* dst = &vf[static_cast<size_t>(s) * ow];
      const float* src = &hf[s * hsize + static_cast<size_t>(y) * ow];
      if (n == 11) filterTaps<11>(n, k.data(), src, ow, dst, ow);
      else filterTaps<0>(n, k.data(), src, ow, dst, ow);
    }
    const float *mx = vf.data(), *my = mx + ow, *sxx = my + ow, *syy = sxx + ow, *sxy = syy + ow;
    // The row's SSIM map first, in a float loop the compiler vectorises (divisions included), then
    // its sums in double, in the same order as ever.
    float* values = rowValues.data();
    float* csValues = rowCsValues.data();
    for (int x = 0; x < ow; ++x) {
      const float vx = sxx[x] - mx[x] * mx[x], vy = syy[x] - my[x] * my[x], cov = sxy[x] - mx[x] * my[x];
      const float cs = (2 * cov + c2) / (vx + vy + c2);
      csValues[x] = cs;
      values[x] = cs * (2 * mx[x] * my[x] + c1) / (mx[x] * mx[x] + my[x] * my[x] + c1);
    }
    double rowSsim = 0, rowCs = 0;
    for (int x = 0; x < ow; ++x) {
      rowSsim += values[x];
      rowCs += csValues[x];
    }
    if (tiles) {
      // Each tile's run of the row (the last tile takes the remainder), without a division per position.
      const size_t base = static_cast<size_t>(std::min(y / tiles->tile, tiles->down - 1)) * tiles->across;
      for (int t = 0; t < tiles->across; ++t) {
        const int x0 = t * tiles->tile, x1 = t == tiles->across - 1 ? ow : x0 + tiles->tile;
        double& sum = tiles->sum[base + t];
        for (int x = x0; x < x1; ++x) sum += values[x];
        tiles->count[base + t] += x1 - x0;
      }
    }
    ssimSum += rowSsim;
    csSum += rowCs;
  }
  const double count = static_cast<double>(ow) * oh;
  ssimMean = ssimSum / count;
  csMean = csSum / count;
}

Plane planeOf(const uint8_t* p, int w, int h) {
  Plane out{w, h, std::vector<float>(static_cast<size_t>(w) * h)};
  for (size_t i = 0; i < out.v.size(); ++i) out.v[i] = p[i];
  return out;
}

double mse(const uint8_t* a, const uint8_t* b, size_t n) {
  double se = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = double(a[i]) - double(b[i]);
    se += d * d;
  }
  return se / static_cast<double>(n);
}

double psnrOfMse(double m) {
  if (m <= 0) return 100.0;
  return std::min(100.0, 10.0 * std::log10(255.0 * 255.0 / m));
}

}  // namespace

double psnr(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  const size_t pixels = static_cast<size_t>(width) * height;
  // Squared differences of 8-bit samples are integers: summed exactly in 64 bits (a sum in double
  // is exact too, below 2^53, so the result is the same), and the loop vectorises.
  uint64_t se = 0;
  if (channels == 3) {
    for (size_t i = 0; i < pixels * 3; ++i) {
      const int d = int(a[i]) - int(b[i]);
      se += static_cast<uint32_t>(d * d);
    }
  } else {
    for (size_t i = 0; i < pixels; ++i)
      for (int c = 0; c < 3; ++c) {
        const int d = int(a[i * channels + c]) - int(b[i * channels + c]);
        se += static_cast<uint32_t>(d * d);
      }
  }
  return psnrOfMse(static_cast<double>(se) / (pixels * 3.0));
}

namespace {

// SSIM of the R, G and B planes, each optionally with its tile grid. The three planes are
// independent: G and B run on their own threads (the session's closed loop waits on this, and the
// network's thread pool is idle while it runs).
void planeSsims(const uint8_t* a, const uint8_t* b, int width, int height, int channels, double s[3], TileGrid* grids) {
  auto one = [&](int c) {
    double cs;
    ssimTerms(extract(a, width, height, channels, c), extract(b, width, height, channels, c), s[c], cs, grids ? &grids[c] : nullptr);
  };
  if (static_cast<size_t>(width) * height < 64 * 64) {
    for (int c = 0; c < 3; ++c) one(c);
  } else {
    std::thread g(one, 1), bl(one, 2);
    one(0);
    g.join();
    bl.join();
  }
}

}  // namespace

double ssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  double s[3] = {0, 0, 0};
  planeSsims(a, b, width, height, channels, s, nullptr);
  return (s[0] + s[1] + s[2]) / 3.0;
}

double msssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  static const double kWeights[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
  int scales = 1;
  while (scales < 5 && (std::min(width, height) >> scales) >= 11) ++scales;
  double weightSum = 0;
  for (int s = 0; s < scales; ++s) weightSum += kWeights[s];
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    Plane pa = extract(a, width, height, channels, c), pb = extract(b, width, height, channels, c);
    double value = 1;
    for (int s = 0; s < scales; ++s) {
      double ss, cs;
      ssimTerms(pa, pb, ss, cs);
      const double w = kWeights[s] / weightSum;
      // Negative cs (anti-correlated structure) would make the power undefined; clamp at 0.
      value *= std::pow(std::max(0.0, s == scales - 1 ? ss : cs), w);
      if (s + 1 < scales) {
        pa = downsample(pa);
        pb = downsample(pb);
      }
    }
    total += value;
  }
  return total / 3.0;
}

double worstTile(const TileGrid& g) {
  double worst = 1;
  for (size_t i = 0; i < g.sum.size(); ++i)
    if (g.count[i] > 0) worst = std::min(worst, g.sum[i] / g.count[i]);
  return worst;
}

ImageScores i420Scores(const uint8_t* a, const uint8_t* b, int width, int height) {
  const int cw = (width + 1) / 2, chh = (height + 1) / 2;
  const size_t ly = static_cast<size_t>(width) * height, lc = static_cast<size_t>(cw) * chh;
  const uint8_t* planesA[3] = {a, a + ly, a + ly + lc};
  const uint8_t* planesB[3] = {b, b + ly, b + ly + lc};
  const int ws[3] = {width, cw, cw}, hs[3] = {height, chh, chh};
  const double weights[3] = {6.0 / 8, 1.0 / 8, 1.0 / 8};
  ImageScores out;
  double m = 0;
  TileGrid luma;
  luma.tile = kWorstTileSize;
  for (int p = 0; p < 3; ++p) {
    double s, cs;
    // The worst tile is judged on luma, which carries what the eye sees of a damaged block.
    ssimTerms(planeOf(planesA[p], ws[p], hs[p]), planeOf(planesB[p], ws[p], hs[p]), s, cs, p == 0 ? &luma : nullptr);
    out.ssim += weights[p] * s;
    m += weights[p] * mse(planesA[p], planesB[p], static_cast<size_t>(ws[p]) * hs[p]);
  }
  out.psnr = psnrOfMse(m);
  out.worstTileSsim = worstTile(luma);
  return out;
}

ImageScores rgbScores(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  // As ssim(), with each plane's tile grid kept: a tile's score is the mean of its three planes'.
  double s[3] = {0, 0, 0};
  TileGrid g[3];
  for (auto& grid : g) grid.tile = kWorstTileSize;
  planeSsims(a, b, width, height, channels, s, g);
  TileGrid mean = g[0];
  for (size_t i = 0; i < mean.sum.size(); ++i) mean.sum[i] = (g[0].sum[i] + g[1].sum[i] + g[2].sum[i]) / 3;
  return ImageScores{psnr(a, b, width, height, channels), (s[0] + s[1] + s[2]) / 3.0, worstTile(mean)};
}

}  // namespace aic::metrics
