#include "image/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/cpu_features.h"
#include "common/helper_threads.h"

namespace aic::metrics {

namespace {

constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
constexpr double kC2 = (0.03 * 255) * (0.03 * 255);

// A float plane: MS-SSIM's downsampled scales.
struct Plane {
  int w = 0, h = 0;
  std::vector<float> v;
  float at(int x, int y) const { return v[static_cast<size_t>(y) * w + x]; }
};

// What the SSIM filter reads: 8-bit samples (any pixel and row stride: a channel of an
// interleaved frame, or a plane) or a float plane.
struct Source {
  int w = 0, h = 0;
  const uint8_t* bytes = nullptr;
  size_t rowStride = 0;
  int pixelStride = 1;
  const float* floats = nullptr;
};

Source sourceOf(const PlaneRef& p, int w, int h) { return Source{w, h, p.data, p.rowStride, p.pixelStride, nullptr}; }
Source sourceOf(const Plane& p) { return Source{p.w, p.h, nullptr, 0, 1, p.v.data()}; }

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

// The SSIM map of one plane, row by row: each output row's sum of SSIM and of the
// contrast-structure term, and its sums over each tile column's run (the last tile column takes
// the remainder). Rows are summed afterwards in row order, so a frame's score does not depend on
// how its rows were shared between threads.
struct MapRows {
  int ow = 0, oh = 0, tile = 0, across = 1, down = 1;
  bool withCs = false;                  // the contrast-structure term too (MS-SSIM's scales)
  std::vector<double> ssim, cs, tiles;  // oh; oh; oh x across (with tiles only)
  void shape(int w, int h, int n, int tileSize, bool contrastStructure) {
    withCs = contrastStructure;
    ow = w - n + 1;
    oh = h - n + 1;
    tile = tileSize;
    ssim.assign(oh, 0.0);
    cs.assign(oh, 0.0);
    if (tile > 0) {
      across = std::max(1, ow / tile);
      down = std::max(1, oh / tile);
      tiles.assign(static_cast<size_t>(oh) * across, 0.0);
    }
  }
};

#if defined(_MSC_VER)
#define AIC_ALWAYS_INLINE __forceinline
#define AIC_NO_ALIAS_LOOP
#else
#define AIC_ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__clang__)
// Clang takes the __restrict on dst alone (its pragma warns where a loop, the runtime-tap one or
// any under -O1, is not vectorised at all).
#define AIC_NO_ALIAS_LOOP
#else
#define AIC_NO_ALIAS_LOOP _Pragma("GCC ivdep")
#endif
#endif

// dst[x] = sum over i < taps of k[i] * src[i][x], for x < count, with the window's symmetry used
// (k[i] == k[taps - 1 - i]: the Gaussian is computed from (i - c)^2), so half the multiplies. taps
// is N when N > 0 (known at compile time: the tap loop unrolls and the position loop vectorises)
// and n otherwise (windows under 11, for planes smaller than that). src[i] = base + i * step for
// the horizontal pass (step 1), or the ring's row pointers for the vertical one.
template <int N>
AIC_ALWAYS_INLINE void filterTaps(int n, const float* k, const float* const* src, float* __restrict dst, int count) {
  const int taps = N > 0 ? N : n;
  const int half = taps / 2;
  // dst never overlaps a source row; saying so (__restrict, and GCC's ivdep) lets the loop
  // vectorise without run-time overlap checks (eleven rows are more than GCC will check, and it
  // fell back to scalar code).
  AIC_NO_ALIAS_LOOP
  for (int x = 0; x < count; ++x) {
    float acc = (taps & 1) ? k[half] * src[half][x] : 0.0f;
    for (int i = 0; i < half; ++i) acc += k[i] * (src[i][x] + src[taps - 1 - i][x]);
    dst[x] = acc;
  }
}

// The sum of v[from..to) in double: four running sums (positions mod 4), added in a fixed order.
AIC_ALWAYS_INLINE double sumOf(const float* v, int from, int to) {
  double s[4] = {0, 0, 0, 0};
  int x = from;
  for (; x + 4 <= to; x += 4)
    for (int j = 0; j < 4; ++j) s[j] += v[x + j];
  for (; x < to; ++x) s[0] += v[x];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

template <int N>
AIC_ALWAYS_INLINE void filterRow(int n, const float* k, const float* row, float* dst, int count) {
  const float* src[N > 0 ? N : 11];
  const int taps = N > 0 ? N : n;
  for (int i = 0; i < taps; ++i) src[i] = row + i;
  filterTaps<N>(n, k, src, dst, count);
}

// Columns [x0, x0 + count) of row y of a source, as floats.
AIC_ALWAYS_INLINE void loadRowRange(const Source& s, int y, int x0, int count, float* out) {
  if (s.floats) {
    const float* r = s.floats + static_cast<size_t>(y) * s.w + x0;
    for (int x = 0; x < count; ++x) out[x] = r[x];
    return;
  }
  const uint8_t* r = s.bytes + static_cast<size_t>(y) * s.rowStride;
  if (s.pixelStride == 1) {
    r += x0;
    for (int x = 0; x < count; ++x) out[x] = r[x];
  } else {
    r += static_cast<size_t>(x0) * s.pixelStride;
    for (int x = 0; x < count; ++x) out[x] = r[static_cast<size_t>(x) * s.pixelStride];
  }
}

// Output columns per strip: the ring of one strip (n x 5 x 128 floats, 28 KiB) stays in L1,
// where a ring the frame's width (138 KiB at 640) ran from L2 and the vertical pass waited on it.
constexpr int kStripColumns = 128;

// A run of output rows of one plane, top down: the filter state of every strip (its ring of
// horizontally filtered input rows) carries from one call to the next, so a thread that follows a
// reconstruction row by row filters each input row once however small its steps.
struct MapCursor {
  int origin = 0;   // first input row fed to the rings
  int next = -1;    // next output row expected; -1: fresh
  int sw = 0, iw = 0, strips = 0, n = 0, ow = 0;
  std::unique_ptr<float[]> store;
  size_t valueRows = 0;  // rows of the values buffers
  float* rows = nullptr;   // 5 x iw: x, y, x^2, y^2, xy of the input row
  float* rings = nullptr;  // strips x n slots x 5 x sw
  float* vf = nullptr;     // 5 x sw: the output row's statistics
  std::unique_ptr<float[]> values;  // valueRows x ow: SSIM map, then contrast-structure term
  void shape(int n_, int ow_) {
    if (store && n_ == n && ow_ == ow) return;
    n = n_;
    ow = ow_;
    sw = std::min(kStripColumns, ow);
    iw = sw + n - 1;
    strips = (ow + sw - 1) / sw;
    store.reset(new float[static_cast<size_t>(5) * iw + static_cast<size_t>(strips) * n * 5 * sw + 5 * static_cast<size_t>(sw)]);
    rows = store.get();
    rings = rows + static_cast<size_t>(5) * iw;
    vf = rings + static_cast<size_t>(strips) * n * 5 * sw;
    next = -1;
  }
};

// Output rows [y0, y1) of a plane's SSIM map, continuing the cursor's run when y0 is where it
// stopped. The five local statistics (x, y, x^2, y^2, xy) are filtered separably, one vertical
// strip of kStripColumns output columns at a time: each input row horizontally once into the
// strip's ring of the last n rows, each output row vertically from the ring, and its SSIM map into
// the call's map. Then each row's sums, in the order of a whole row. Every output goes through the
// same operations in the same order whatever the strip, call or thread, so the score does not
// depend on how the work was split. Single precision: statistics of 8-bit data stay well within
// it (relative error ~1e-7 of 255^2, against the C2 = 58.5 stabiliser); row sums in double.
template <int N>
AIC_ALWAYS_INLINE void mapBandBody(const Source& a, const Source& b, const float* k, int n, int y0, int y1, MapRows& out, MapCursor& c) {
  const int ow = out.ow;
  c.shape(n, ow);
  const bool fresh = c.next != y0;
  if (fresh) c.origin = y0;
  c.next = y1;
  const size_t bandRows = static_cast<size_t>(y1 - y0);
  if (c.valueRows < bandRows) {
    c.values.reset(new float[2 * bandRows * ow]);
    c.valueRows = bandRows;
  }
  float* values = c.values.get();                // bandRows x ow: the rows' SSIM map
  float* csValues = values + c.valueRows * ow;   // bandRows x ow: their contrast-structure term
  const int sw = c.sw, iw = c.iw;
  float* rows = c.rows;
  float* vf = c.vf;
  const float c1 = static_cast<float>(kC1), c2 = static_cast<float>(kC2);
  // A fresh run fills the rings from y0; a continued one has input rows up to y0 + n - 2 in them.
  const int firstInput = fresh ? y0 : y0 + n - 1;
  for (int si = 0, x0 = 0; x0 < ow; ++si, x0 += sw) {
    const int cols = std::min(sw, ow - x0), inCols = cols + n - 1;
    float* ring = c.rings + static_cast<size_t>(si) * n * 5 * sw;
    for (int r = firstInput; r < y1 + n - 1; ++r) {
      float *rx = rows, *ry = rx + iw, *rxx = ry + iw, *ryy = rxx + iw, *rxy = ryy + iw;
      loadRowRange(a, r, x0, inCols, rx);
      loadRowRange(b, r, x0, inCols, ry);
      for (int x = 0; x < inCols; ++x) {
        rxx[x] = rx[x] * rx[x];
        ryy[x] = ry[x] * ry[x];
        rxy[x] = rx[x] * ry[x];
      }
      float* slot = ring + static_cast<size_t>((r - c.origin) % n) * 5 * sw;
      for (int st = 0; st < 5; ++st) filterRow<N>(n, k, rows + static_cast<size_t>(st) * iw, slot + static_cast<size_t>(st) * sw, cols);
      if (r - c.origin < n - 1) continue;
      const int y = r - n + 1;
      for (int st = 0; st < 5; ++st) {
        const float* src[N > 0 ? N : 11];
        for (int i = 0; i < n; ++i) src[i] = ring + static_cast<size_t>((y - c.origin + i) % n) * 5 * sw + static_cast<size_t>(st) * sw;
        filterTaps<N>(n, k, src, vf + static_cast<size_t>(st) * sw, cols);
      }
      const float *mx = vf, *my = mx + sw, *sxx = my + sw, *syy = sxx + sw, *sxy = syy + sw;
      // The SSIM map in a float loop the compiler vectorises (one division per position; the
      // contrast-structure term, a second one, only for MS-SSIM).
      float* v = values + static_cast<size_t>(y - y0) * ow + x0;
      for (int x = 0; x < cols; ++x) {
        const float vx = sxx[x] - mx[x] * mx[x], vy = syy[x] - my[x] * my[x], cov = sxy[x] - mx[x] * my[x];
        v[x] = ((2 * mx[x] * my[x] + c1) * (2 * cov + c2)) / ((mx[x] * mx[x] + my[x] * my[x] + c1) * (vx + vy + c2));
      }
      if (out.withCs) {
        float* cv = csValues + static_cast<size_t>(y - y0) * ow + x0;
        for (int x = 0; x < cols; ++x) {
          const float vx = sxx[x] - mx[x] * mx[x], vy = syy[x] - my[x] * my[x], cov = sxy[x] - mx[x] * my[x];
          cv[x] = (2 * cov + c2) / (vx + vy + c2);
        }
      }
    }
  }
  // Each row's sums in double (four running sums, added in a fixed order: the loop vectorises and
  // the result does not depend on the machine), over the whole row and over each tile's run.
  for (int y = y0; y < y1; ++y) {
    const float* v = values + static_cast<size_t>(y - y0) * ow;
    out.ssim[y] = sumOf(v, 0, ow);
    out.cs[y] = out.withCs ? sumOf(csValues + static_cast<size_t>(y - y0) * ow, 0, ow) : 0.0;
    if (out.tile > 0) {
      double* t = &out.tiles[static_cast<size_t>(y) * out.across];
      for (int col = 0; col < out.across; ++col) {
        const int x0 = col * out.tile, x1 = col == out.across - 1 ? ow : x0 + out.tile;
        t[col] = sumOf(v, x0, x1);
      }
    }
  }
}

AIC_ALWAYS_INLINE void mapBandDispatch(const Source& a, const Source& b, const float* k, int n, int y0, int y1, MapRows& out, MapCursor& c) {
  if (n == 11) mapBandBody<11>(a, b, k, n, y0, y1, out, c);
  else mapBandBody<0>(a, b, k, n, y0, y1, out, c);
}

// The filter loops are written for the compiler to vectorise. On x86-64 an AVX2+FMA build of them
// is chosen at run time where the CPU has it (about twice the SSE2 baseline's throughput; the
// portable prebuilt binary keeps SSE2 as its baseline). The choice is by CPU feature
// (common/cpu_features.h): GCC's target_clones("arch=haswell") dispatches on the CPU *model*, and
// chose the SSE2 clone on every AMD and every Intel CPU but Haswell.
void mapBandPortable(const Source& a, const Source& b, const float* k, int n, int y0, int y1, MapRows& out, MapCursor& c) { mapBandDispatch(a, b, k, n, y0, y1, out, c); }
#if AIC_X86_DISPATCH
AIC_TARGET_AVX2_FMA void mapBandAvx2(const Source& a, const Source& b, const float* k, int n, int y0, int y1, MapRows& out, MapCursor& c) { mapBandDispatch(a, b, k, n, y0, y1, out, c); }
#endif

void mapBand(const Source& a, const Source& b, const float* k, int n, int y0, int y1, MapRows& out, MapCursor& c) {
#if AIC_X86_DISPATCH
  if (cpuHasAvx2Fma()) return mapBandAvx2(a, b, k, n, y0, y1, out, c);
#endif
  mapBandPortable(a, b, k, n, y0, y1, out, c);
}

void mapBand(const Source& a, const Source& b, const float* k, int n, int y0, int y1, MapRows& out) {
  MapCursor c;
  mapBand(a, b, k, n, y0, y1, out, c);
}

/** One plane pair to score, with its results. */
struct MapJob {
  Source a, b;
  int n = 11;
  bool withCs = false;
  MapRows rows;
  double ssim = 0, cs = 0;
  std::vector<double> tileMeans;  // across x down, row-major (with a tile size only)
};

// Scores the jobs' planes, their rows shared out over up to `threads` threads in contiguous runs
// (a run may cross from one plane into the next; each run pays n - 1 extra rows of horizontal
// filtering). The session's closed loop waits on this, and the thread pool that runs the network
// is idle while it runs.
void summarise(std::vector<MapJob>& jobs, int tileSize);

// The SSIM window's side: 11, or the frame's smaller side when that is less.
int windowOf(int width, int height) { return std::max(1, std::min({11, width, height})); }

void runJobs(std::vector<MapJob>& jobs, int tileSize, unsigned threads) {
  std::vector<std::vector<float>> kernels(jobs.size());
  size_t totalRows = 0, totalPixels = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    MapJob& job = jobs[j];
    job.n = windowOf(job.a.w, job.a.h);
    kernels[j] = gaussian(job.n);
    job.rows.shape(job.a.w, job.a.h, job.n, tileSize, job.withCs);
    totalRows += static_cast<size_t>(job.rows.oh);
    totalPixels += static_cast<size_t>(job.a.w) * job.a.h;
  }
  // Below ~64k pixels a thread costs more than it saves.
  const size_t useful = std::max<size_t>(1, totalPixels / 65536);
  const unsigned t = static_cast<unsigned>(std::min<size_t>({threads == 0 ? 1 : threads, useful, totalRows}));
  auto work = [&](size_t from, size_t to) {
    size_t base = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
      const size_t oh = static_cast<size_t>(jobs[j].rows.oh);
      const size_t lo = std::max(from, base), hi = std::min(to, base + oh);
      if (lo < hi) mapBand(jobs[j].a, jobs[j].b, kernels[j].data(), jobs[j].n, static_cast<int>(lo - base), static_cast<int>(hi - base), jobs[j].rows);
      base += oh;
    }
  };
  // Runs of rows on the calling thread and helper threads (common/helper_threads.h).
  const size_t per = (totalRows + t - 1) / t;
  forEachShare(static_cast<int>(t), [&](int i) { work(std::min(totalRows, i * per), std::min(totalRows, (i + 1) * per)); });
  summarise(jobs, tileSize);
}

// Each job's SSIM (and contrast-structure term) from its rows' sums, added in row order, and its
// tiles' means.
void summarise(std::vector<MapJob>& jobs, int tileSize) {
  for (MapJob& job : jobs) {
    const MapRows& r = job.rows;
    double s = 0, c = 0;
    for (int y = 0; y < r.oh; ++y) {
      s += r.ssim[y];
      c += r.cs[y];
    }
    const double count = static_cast<double>(r.ow) * r.oh;
    job.ssim = s / count;
    job.cs = c / count;
    if (tileSize > 0) {
      std::vector<double> sum(static_cast<size_t>(r.across) * r.down, 0.0), n(sum.size(), 0.0);
      for (int y = 0; y < r.oh; ++y) {
        const size_t base = static_cast<size_t>(std::min(y / r.tile, r.down - 1)) * r.across;
        for (int col = 0; col < r.across; ++col) {
          const int x0 = col * r.tile, x1 = col == r.across - 1 ? r.ow : x0 + r.tile;
          sum[base + col] += r.tiles[static_cast<size_t>(y) * r.across + col];
          n[base + col] += x1 - x0;
        }
      }
      job.tileMeans.resize(sum.size());
      for (size_t i = 0; i < sum.size(); ++i) job.tileMeans[i] = n[i] > 0 ? sum[i] / n[i] : 1.0;
    }
  }
}

unsigned scoringThreads() {
  static const unsigned n = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  return n;
}

// Sum of squared differences of two 8-bit planes: an integer, exact in 64 bits.
uint64_t squaredError(const PlaneRef& a, const PlaneRef& b, int w, int h) {
  uint64_t se = 0;
  for (int y = 0; y < h; ++y) {
    const uint8_t* ra = a.data + static_cast<size_t>(y) * a.rowStride;
    const uint8_t* rb = b.data + static_cast<size_t>(y) * b.rowStride;
    for (int x = 0; x < w; ++x) {
      const int d = int(ra[static_cast<size_t>(x) * a.pixelStride]) - int(rb[static_cast<size_t>(x) * b.pixelStride]);
      se += static_cast<uint32_t>(d * d);
    }
  }
  return se;
}

double psnrOfMse(double m) {
  if (m <= 0) return 100.0;
  return std::min(100.0, 10.0 * std::log10(255.0 * 255.0 / m));
}

double worstOf(const std::vector<double>& tiles) {
  double worst = 1;
  for (double v : tiles) worst = std::min(worst, v);
  return worst;
}

std::array<PlaneRef, 3> interleavedPlanes(const uint8_t* p, int width, int channels) {
  const size_t row = static_cast<size_t>(width) * channels;
  return {PlaneRef{p, row, channels}, PlaneRef{p + 1, row, channels}, PlaneRef{p + 2, row, channels}};
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

// SSIM of R, G and B, each with its tile grid; a tile's score is the mean of its three planes'.
// The mean SSIM of R, G and B's summarised jobs, and the worst of their tiles' means.
void rgbOfJobs(const std::vector<MapJob>& jobs, ImageScores& out) {
  out.ssim = (jobs[0].ssim + jobs[1].ssim + jobs[2].ssim) / 3.0;
  std::vector<double> mean(jobs[0].tileMeans.size());
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = (jobs[0].tileMeans[i] + jobs[1].tileMeans[i] + jobs[2].tileMeans[i]) / 3;
  out.worstTileSsim = worstOf(mean);
}

void rgbSsim(const PlaneRef a[3], const PlaneRef b[3], int width, int height, ImageScores& out) {
  std::vector<MapJob> jobs(3);
  for (int c = 0; c < 3; ++c) {
    jobs[c].a = sourceOf(a[c], width, height);
    jobs[c].b = sourceOf(b[c], width, height);
  }
  runJobs(jobs, kWorstTileSize, scoringThreads());
  rgbOfJobs(jobs, out);
}

}  // namespace

ImageScores planeScores(const PlaneRef a[3], const PlaneRef b[3], int width, int height) {
  ImageScores out;
  rgbSsim(a, b, width, height, out);
  uint64_t se = 0;
  for (int c = 0; c < 3; ++c) se += squaredError(a[c], b[c], width, height);
  out.psnr = psnrOfMse(static_cast<double>(se) / (static_cast<double>(width) * height * 3.0));
  return out;
}

double ssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  const auto pa = interleavedPlanes(a, width, channels), pb = interleavedPlanes(b, width, channels);
  ImageScores s;
  rgbSsim(pa.data(), pb.data(), width, height, s);
  return s.ssim;
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
      std::vector<MapJob> job(1);
      job[0].a = sourceOf(pa);
      job[0].b = sourceOf(pb);
      job[0].withCs = s < scales - 1;
      runJobs(job, 0, scoringThreads());
      const double w = kWeights[s] / weightSum;
      // Negative cs (anti-correlated structure) would make the power undefined; clamp at 0.
      value *= std::pow(std::max(0.0, s == scales - 1 ? job[0].ssim : job[0].cs), w);
      if (s + 1 < scales) {
        pa = downsample(pa);
        pb = downsample(pb);
      }
    }
    total += value;
  }
  return total / 3.0;
}

ImageScores i420ScoresWithLuma(const PlaneTotals& luma, const uint8_t* a, const uint8_t* b, int width, int height) {
  const int cw = (width + 1) / 2, chh = (height + 1) / 2;
  const size_t ly = static_cast<size_t>(width) * height, lc = static_cast<size_t>(cw) * chh;
  const double weights[3] = {6.0 / 8, 1.0 / 8, 1.0 / 8};
  // The worst tile is judged on luma, which carries what the eye sees of a damaged block.
  std::vector<MapJob> jobs(2);
  for (int p = 0; p < 2; ++p) {
    jobs[p].a = sourceOf(PlaneRef{a + ly + p * lc, static_cast<size_t>(cw), 1}, cw, chh);
    jobs[p].b = sourceOf(PlaneRef{b + ly + p * lc, static_cast<size_t>(cw), 1}, cw, chh);
  }
  runJobs(jobs, kWorstTileSize, scoringThreads());
  ImageScores out;
  out.ssim = weights[0] * luma.ssim;
  double m = weights[0] * static_cast<double>(luma.squaredError) / static_cast<double>(ly);
  for (int p = 0; p < 2; ++p) {
    out.ssim += weights[p + 1] * jobs[p].ssim;
    const uint64_t se = squaredError(PlaneRef{a + ly + p * lc, static_cast<size_t>(cw), 1}, PlaneRef{b + ly + p * lc, static_cast<size_t>(cw), 1}, cw, chh);
    m += weights[p + 1] * static_cast<double>(se) / static_cast<double>(lc);
  }
  out.psnr = psnrOfMse(m);
  out.worstTileSsim = worstOf(luma.tileMeans);
  return out;
}

ImageScores i420Scores(const uint8_t* a, const uint8_t* b, int width, int height) {
  std::vector<MapJob> luma(1);
  const PlaneRef ya{a, static_cast<size_t>(width), 1}, yb{b, static_cast<size_t>(width), 1};
  luma[0].a = sourceOf(ya, width, height);
  luma[0].b = sourceOf(yb, width, height);
  runJobs(luma, kWorstTileSize, scoringThreads());
  PlaneTotals t;
  t.ssim = luma[0].ssim;
  t.tileMeans = std::move(luma[0].tileMeans);
  t.squaredError = squaredError(ya, yb, width, height);
  return i420ScoresWithLuma(t, a, b, width, height);
}

struct RowScorer::Cursor::State {
  MapCursor planes[3];
};

RowScorer::Cursor::Cursor() : state_(std::make_unique<State>()) {}
RowScorer::Cursor::~Cursor() = default;

struct RowScorer::State {
  PlaneRef a[3], b[3];
  int planes = 3;
  int width = 0, height = 0;
  std::vector<MapJob> jobs = std::vector<MapJob>(3);
  std::vector<float> kernel;
  // The squared error of the input rows each output row's band accounts for (its own row; the
  // last output row also the window - 1 rows under it), all planes: integers, summed in any order.
  std::vector<uint64_t> squaredError;
};

RowScorer::RowScorer(const PlaneRef a[3], const PlaneRef b[3], int width, int height) : RowScorer(a, b, 3, width, height) {}

RowScorer::RowScorer(const PlaneRef* a, const PlaneRef* b, int planes, int width, int height) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.planes = std::clamp(planes, 1, 3);
  s.jobs.resize(static_cast<size_t>(s.planes));
  s.width = width;
  s.height = height;
  const int n = windowOf(width, height);
  s.kernel = gaussian(n);
  for (int c = 0; c < s.planes; ++c) {
    s.a[c] = a[c];
    s.b[c] = b[c];
    s.jobs[c].a = sourceOf(a[c], width, height);
    s.jobs[c].b = sourceOf(b[c], width, height);
    s.jobs[c].n = n;
    s.jobs[c].rows.shape(width, height, n, kWorstTileSize, false);
  }
  s.squaredError.assign(static_cast<size_t>(s.jobs[0].rows.oh), 0);
}

RowScorer::~RowScorer() = default;

int RowScorer::outputRows() const { return state_->jobs[0].rows.oh; }
int RowScorer::window() const { return state_->jobs[0].n; }

void RowScorer::scoreRows(int y0, int y1) {
  Cursor c;
  scoreRows(c, y0, y1);
}

void RowScorer::scoreRows(Cursor& cursor, int y0, int y1) {
  State& s = *state_;
  y0 = std::max(0, y0);
  y1 = std::min(y1, outputRows());
  if (y0 >= y1) return;
  // In steps of 32 rows on the cursor (its filter state carries over): the map of a step, not
  // of the whole run, is held (80 KiB at 640 wide, where a 190-row run needed 1 MB per call).
  for (int from = y0; from < y1; from += 32)
    for (int p = 0; p < s.planes; ++p) mapBand(s.jobs[p].a, s.jobs[p].b, s.kernel.data(), s.jobs[p].n, from, std::min(y1, from + 32), s.jobs[p].rows, cursor.state_->planes[p]);
  // PSNR's share of these rows, while they are in cache.
  for (int y = y0; y < y1; ++y) {
    const int rows = y == outputRows() - 1 ? s.height - y : 1;
    uint64_t se = 0;
    for (int p = 0; p < s.planes; ++p) {
      const PlaneRef a{s.a[p].data + static_cast<size_t>(y) * s.a[p].rowStride, s.a[p].rowStride, s.a[p].pixelStride};
      const PlaneRef b{s.b[p].data + static_cast<size_t>(y) * s.b[p].rowStride, s.b[p].rowStride, s.b[p].pixelStride};
      se += squaredError(a, b, s.width, rows);
    }
    s.squaredError[static_cast<size_t>(y)] = se;
  }
}

std::vector<PlaneTotals> RowScorer::finishPlanes() {
  State& s = *state_;
  summarise(s.jobs, kWorstTileSize);
  std::vector<PlaneTotals> out(static_cast<size_t>(s.planes));
  for (int p = 0; p < s.planes; ++p) {
    out[p].ssim = s.jobs[p].ssim;
    out[p].tileMeans = s.jobs[p].tileMeans;
  }
  // The squared error is kept per row over all planes: the first entry carries the total.
  for (uint64_t v : s.squaredError) out[0].squaredError += v;
  return out;
}

ImageScores RowScorer::finish() {
  State& s = *state_;
  if (s.planes != 3) throw std::logic_error("RowScorer::finish() scores three planes; use finishPlanes()");
  // The caller's bands cover every output row by now.
  summarise(s.jobs, kWorstTileSize);
  ImageScores out;
  rgbOfJobs(s.jobs, out);
  uint64_t se = 0;
  for (uint64_t v : s.squaredError) se += v;
  out.psnr = psnrOfMse(static_cast<double>(se) / (static_cast<double>(s.width) * s.height * 3.0));
  return out;
}

ImageScores rgbScores(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  const auto pa = interleavedPlanes(a, width, channels), pb = interleavedPlanes(b, width, channels);
  ImageScores s;
  rgbSsim(pa.data(), pb.data(), width, height, s);
  s.psnr = psnr(a, b, width, height, channels);
  return s;
}

}  // namespace aic::metrics
