#include "video/residual_transform.h"

#include <cmath>

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

void forwardTransform(const ChannelTransform& t, const float* block, float* coefficients) {
  constexpr float scale = 1.0f / (1 << kTransformShift);
  float tmp[kCoefficients];  // V * block
  for (int k = 0; k < kTransformSize; ++k)
    for (int m = 0; m < kTransformSize; ++m) {
      float s = 0;
      for (int n = 0; n < kTransformSize; ++n) s += static_cast<float>(t.vertical[k * kTransformSize + n]) * block[n * kTransformSize + m];
      tmp[k * kTransformSize + m] = s * scale;
    }
  for (int k = 0; k < kTransformSize; ++k)
    for (int l = 0; l < kTransformSize; ++l) {
      float s = 0;
      for (int m = 0; m < kTransformSize; ++m) s += tmp[k * kTransformSize + m] * static_cast<float>(t.horizontal[l * kTransformSize + m]);
      coefficients[k * kTransformSize + l] = s * scale;
    }
}

void inverseTransform(const ChannelTransform& t, const int16_t* q, int32_t step16, int32_t* residual4) {
  // Rows first: u[k][m] = sum_l d[k][l] * H[l][m], d = q * step16 (1/16 units, |d| < 2^24);
  // 64-bit sums, then back to 1/16 units (|u| < 2^27).
  int32_t u[kCoefficients];
  bool rowNonZero[kTransformSize];
  for (int k = 0; k < kTransformSize; ++k) {
    const int16_t* row = q + k * kTransformSize;
    bool any = false;
    for (int l = 0; l < kTransformSize; ++l) any |= row[l] != 0;
    rowNonZero[k] = any;
    for (int m = 0; m < kTransformSize; ++m) {
      if (!any) {
        u[k * kTransformSize + m] = 0;
        continue;
      }
      int64_t s = 0;
      for (int l = 0; l < kTransformSize; ++l) s += static_cast<int64_t>(row[l]) * step16 * t.horizontal[l * kTransformSize + m];
      u[k * kTransformSize + m] = static_cast<int32_t>((s + (int64_t{1} << (kTransformShift - 1))) >> kTransformShift);
    }
  }
  // Then columns: r[n][m] = sum_k V[k][n] * u[k][m], from 1/16 * 2^12 down to 1/4 units.
  constexpr int shift = kTransformShift + 2;
  for (int n = 0; n < kTransformSize; ++n)
    for (int m = 0; m < kTransformSize; ++m) {
      int64_t s = 0;
      for (int k = 0; k < kTransformSize; ++k)
        if (rowNonZero[k]) s += static_cast<int64_t>(t.vertical[k * kTransformSize + n]) * u[k * kTransformSize + m];
      residual4[n * kTransformSize + m] = static_cast<int32_t>((s + (int64_t{1} << (shift - 1))) >> shift);
    }
}

void reconstructBlock(const int32_t* y4, const int32_t* co4, const int32_t* cg4, const uint8_t* const predicted[3], int predStride, uint8_t* const out[3],
                      int outStride, int w, int h) {
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const int i = r * kTransformSize + c;
      const int32_t y = y4 ? y4[i] : 0, co = co4 ? co4[i] : 0, cg = cg4 ? cg4[i] : 0;
      // Inverse YCoCg: R = Y + Co - Cg, G = Y + Cg, B = Y - Co - Cg (all in 1/4 pixel units).
      const int32_t rgb[3] = {y + co - cg, y + cg, y - co - cg};
      for (int p = 0; p < 3; ++p) {
        // floor((v + 2) / 4): an arithmetic shift rounds negative values the same way everywhere.
        const int32_t v = predicted[p][r * predStride + c] + ((rgb[p] + 2) >> 2);
        out[p][r * outStride + c] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
}

}  // namespace aic::video
