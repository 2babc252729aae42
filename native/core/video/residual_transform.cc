#include "video/residual_transform.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/cpu_features.h"

namespace aic::video {

ResidualTransform ResidualTransform::dct() {
  ResidualTransform t;
  ChannelTransform c;
  const double pi = 3.14159265358979323846;
  for (int k = 0; k < kTransformSize; ++k)
    for (int n = 0; n < kTransformSize; ++n) {
      const double s = k == 0 ? std::sqrt(1.0 / kTransformSize) : std::sqrt(2.0 / kTransformSize);
      const double v = s * std::cos(pi * (2 * n + 1) * k / (2.0 * kTransformSize));
      c.vertical[k * kTransformSize + n] = static_cast<int32_t>(std::lround(v * (1 << kTransformShift)));
    }
  c.horizontal = c.vertical;
  t.channels = {c, c, c};
  return t;
}

int32_t quantiserStep16(int qp) {
  // round(16 * 2^((r - 4) / 6)) for r = 0..5; doubling every 6.
  static const int32_t base[6] = {10, 11, 13, 14, 16, 18};
  if (qp < 0) qp = 0;
  if (qp > kMaxQp + kChromaQpOffset) qp = kMaxQp + kChromaQpOffset;
  return base[qp % 6] << (qp / 6);
}

ForwardTransform prepareForward(const ChannelTransform& t) {
  ForwardTransform f;
  constexpr float scale = 1.0f / (1 << kTransformShift);
  float maxV = 0, maxH = 0;
  for (int k = 0; k < kTransformSize; ++k)
    for (int n = 0; n < kTransformSize; ++n) {
      f.v[k * kTransformSize + n] = static_cast<float>(t.vertical[k * kTransformSize + n]) * scale;
      f.ht[n * kTransformSize + k] = static_cast<float>(t.horizontal[k * kTransformSize + n]) * scale;
      maxV = std::max(maxV, std::fabs(f.v[k * kTransformSize + n]));
      maxH = std::max(maxH, std::fabs(f.ht[n * kTransformSize + k]));
    }
  f.bound = maxV * maxH;
  return f;
}

namespace {

#if defined(__GNUC__) || defined(__clang__)
// A row of 8 floats as one vector value: one ymm register in the AVX2 build, two xmm in the SSE2
// one, instead of the shuffles the compiler's own vectoriser made of 8-iteration loops.
typedef float Row8 __attribute__((vector_size(32), aligned(4)));

inline void forwardBody(const ForwardTransform& t, const float* block, float* coefficients) {
  // tmp = V * block, then coefficients = tmp * H^T: each stage adds scaled rows.
  Row8 b[kTransformSize], tmp[kTransformSize], ht[kTransformSize];
  for (int n = 0; n < kTransformSize; ++n) {
    std::memcpy(&b[n], block + n * kTransformSize, sizeof(Row8));
    std::memcpy(&ht[n], t.ht.data() + n * kTransformSize, sizeof(Row8));
  }
  for (int k = 0; k < kTransformSize; ++k) {
    Row8 acc = b[0] * t.v[k * kTransformSize];
    for (int n = 1; n < kTransformSize; ++n) acc += b[n] * t.v[k * kTransformSize + n];
    tmp[k] = acc;
  }
  for (int k = 0; k < kTransformSize; ++k) {
    Row8 acc = ht[0] * tmp[k][0];
    for (int m = 1; m < kTransformSize; ++m) acc += ht[m] * tmp[k][m];
    std::memcpy(coefficients + k * kTransformSize, &acc, sizeof(Row8));
  }
}
#else
inline void forwardBody(const ForwardTransform& t, const float* block, float* coefficients) {
  float tmp[kCoefficients];
  for (int k = 0; k < kTransformSize; ++k)
    for (int m = 0; m < kTransformSize; ++m) {
      float s = 0;
      for (int n = 0; n < kTransformSize; ++n) s += t.v[k * kTransformSize + n] * block[n * kTransformSize + m];
      tmp[k * kTransformSize + m] = s;
    }
  for (int k = 0; k < kTransformSize; ++k)
    for (int l = 0; l < kTransformSize; ++l) {
      float s = 0;
      for (int m = 0; m < kTransformSize; ++m) s += tmp[k * kTransformSize + m] * t.ht[m * kTransformSize + l];
      coefficients[k * kTransformSize + l] = s;
    }
}
#endif

#if AIC_X86_DISPATCH
// The encoder's transform only: its float results need not be the same on every machine (the
// decoder's half is integer), so the AVX2 build may contract into FMA.
AIC_TARGET_AVX2_FMA void forwardAvx2(const ForwardTransform& t, const float* block, float* coefficients) { forwardBody(t, block, coefficients); }
#endif

}  // namespace

void forwardTransform(const ForwardTransform& t, const float* block, float* coefficients) {
#if AIC_X86_DISPATCH
  if (cpuHasAvx2Fma()) return forwardAvx2(t, block, coefficients);
#endif
  forwardBody(t, block, coefficients);
}

void forwardTransform(const ChannelTransform& t, const float* block, float* coefficients) { forwardTransform(prepareForward(t), block, coefficients); }

void inverseTransform(const ChannelTransform& t, const int16_t* q, int32_t step16, int32_t* residual4) {
  // Rows first: u[k][m] = sum_l d[k][l] * H[l][m], d = q * step16 (1/16 units, |d| < 2^24);
  // 64-bit sums over the non-zero coefficients only (most are zero; integer sums do not depend on
  // their order), then back to 1/16 units (|u| < 2^27).
  int32_t u[kCoefficients];
  bool rowNonZero[kTransformSize];
  for (int k = 0; k < kTransformSize; ++k) {
    const int16_t* row = q + k * kTransformSize;
    int64_t s[kTransformSize] = {};
    bool any = false;
    for (int l = 0; l < kTransformSize; ++l) {
      if (row[l] == 0) continue;
      any = true;
      const int64_t d = static_cast<int64_t>(row[l]) * step16;
      const int32_t* h = &t.horizontal[l * kTransformSize];
      for (int m = 0; m < kTransformSize; ++m) s[m] += d * h[m];
    }
    rowNonZero[k] = any;
    for (int m = 0; m < kTransformSize; ++m) u[k * kTransformSize + m] = any ? static_cast<int32_t>((s[m] + (int64_t{1} << (kTransformShift - 1))) >> kTransformShift) : 0;
  }
  // Then columns: r[n][m] = sum_k V[k][n] * u[k][m] over the non-zero rows, from 1/16 * 2^12 down
  // to 1/4 units.
  constexpr int shift = kTransformShift + 2;
  int64_t acc[kCoefficients] = {};
  for (int k = 0; k < kTransformSize; ++k) {
    if (!rowNonZero[k]) continue;
    const int32_t* uk = &u[k * kTransformSize];
    for (int n = 0; n < kTransformSize; ++n) {
      const int64_t v = t.vertical[k * kTransformSize + n];
      for (int m = 0; m < kTransformSize; ++m) acc[n * kTransformSize + m] += v * uk[m];
    }
  }
  for (int i = 0; i < kCoefficients; ++i) residual4[i] = static_cast<int32_t>((acc[i] + (int64_t{1} << (shift - 1))) >> shift);
}

void reconstructBlock(const int32_t* y4, const int32_t* co4, const int32_t* cg4, const uint8_t* const predicted[3], int predStride, uint8_t* const out[3],
                      int outStride, int w, int h) {
  if (!y4 && !co4 && !cg4) {
    // No residual (a skipped or fully predicted block): the prediction as it is.
    for (int p = 0; p < 3; ++p)
      for (int r = 0; r < h; ++r) std::memcpy(out[p] + r * outStride, predicted[p] + r * predStride, static_cast<size_t>(w));
    return;
  }
  // The R, G, B residuals in whole pixels first (inverse YCoCg in 1/4 units: R = Y + Co - Cg,
  // G = Y + Cg, B = Y - Co - Cg; then floor((v + 2) / 4), an arithmetic shift, which rounds
  // negative values the same way everywhere), then added to the prediction and clamped.
  int32_t rgb[3][kCoefficients];
  for (int i = 0; i < kCoefficients; ++i) {
    const int32_t y = y4 ? y4[i] : 0, co = co4 ? co4[i] : 0, cg = cg4 ? cg4[i] : 0;
    rgb[0][i] = (y + co - cg + 2) >> 2;
    rgb[1][i] = (y + cg + 2) >> 2;
    rgb[2][i] = (y - co - cg + 2) >> 2;
  }
  for (int p = 0; p < 3; ++p)
    for (int r = 0; r < h; ++r) {
      const uint8_t* pr = predicted[p] + r * predStride;
      const int32_t* d = rgb[p] + r * kTransformSize;
      uint8_t* o = out[p] + r * outStride;
      for (int c = 0; c < w; ++c) {
        const int32_t v = pr[c] + d[c];
        o[c] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
}

}  // namespace aic::video
