#include "image/yuv.h"

#include <algorithm>
#include <vector>

namespace aic::yuv {

namespace {

inline float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }
inline uint8_t toByte(float v) {
  v += 0.5f;
  return static_cast<uint8_t>(v <= 0.0f ? 0.0f : (v >= 255.0f ? 255.0f : v));  // NaN -> 0
}

// BT.601, R G B in [0, 255] -> limited-range Y, U, V.
inline float lumaOf(float r, float g, float b) { return 16.0f + 0.256788f * r + 0.504129f * g + 0.097906f * b; }
inline float cbOf(float r, float g, float b) { return 128.0f - 0.148223f * r - 0.290993f * g + 0.439216f * b; }
inline float crOf(float r, float g, float b) { return 128.0f + 0.439216f * r - 0.367788f * g - 0.071427f * b; }

}  // namespace

void i420PixelToRgb(const uint8_t* frame, int width, int height, int x, int y, float rgb[3]) {
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  const uint8_t* u = frame + static_cast<size_t>(width) * height;
  const uint8_t* v = u + static_cast<size_t>(cw) * ch;
  const float Y = 1.164384f * (frame[static_cast<size_t>(y) * width + x] - 16.0f);
  const size_t c = static_cast<size_t>(y / 2) * cw + x / 2;
  const float U = u[c] - 128.0f, V = v[c] - 128.0f;
  rgb[0] = clamp01((Y + 1.596027f * V) / 255.0f);
  rgb[1] = clamp01((Y - 0.391762f * U - 0.812968f * V) / 255.0f);
  rgb[2] = clamp01((Y + 2.017232f * U) / 255.0f);
}

void rgbPlanesToI420(const float* planes, size_t planeStride, int rowStride, int width, int height, uint8_t* out) {
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  uint8_t* yp = out;
  uint8_t* up = out + static_cast<size_t>(width) * height;
  uint8_t* vp = up + static_cast<size_t>(cw) * ch;
  auto at = [&](int plane, int x, int y) { return clamp01(planes[plane * planeStride + static_cast<size_t>(y) * rowStride + x]) * 255.0f; };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) yp[static_cast<size_t>(y) * width + x] = toByte(lumaOf(at(0, x, y), at(1, x, y), at(2, x, y)));
  for (int cy = 0; cy < ch; ++cy)
    for (int cx = 0; cx < cw; ++cx) {
      float r = 0, g = 0, b = 0;
      int n = 0;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const int x = 2 * cx + dx, y = 2 * cy + dy;
          if (x >= width || y >= height) continue;
          r += at(0, x, y);
          g += at(1, x, y);
          b += at(2, x, y);
          ++n;
        }
      r /= n;
      g /= n;
      b /= n;
      up[static_cast<size_t>(cy) * cw + cx] = toByte(cbOf(r, g, b));
      vp[static_cast<size_t>(cy) * cw + cx] = toByte(crOf(r, g, b));
    }
}

void rgbToI420(const uint8_t* rgb, int channels, int width, int height, uint8_t* out) {
  const size_t plane = static_cast<size_t>(width) * height;
  std::vector<float> planes(3 * plane);
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) planes[c * plane + i] = rgb[i * channels + c] / 255.0f;
  rgbPlanesToI420(planes.data(), plane, width, width, height, out);
}

void i420ToRgb(const uint8_t* frame, int width, int height, uint8_t* rgb, int channels) {
  float px[3];
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      i420PixelToRgb(frame, width, height, x, y, px);
      uint8_t* o = rgb + (static_cast<size_t>(y) * width + x) * channels;
      for (int c = 0; c < 3; ++c) o[c] = toByte(px[c] * 255.0f);
      if (channels == 4) o[3] = 255;
    }
}

namespace {

// 2^16 times the coefficients of lumaOf / cbOf / crOf and of i420PixelToRgb, rounded.
constexpr int32_t kYr = 16829, kYg = 33039, kYb = 6416;
constexpr int32_t kUr = -9714, kUg = -19071, kUb = 28784;
constexpr int32_t kVr = 28784, kVg = -24103, kVb = -4681;
constexpr int32_t kY = 76309, kRv = 104597, kGu = -25675, kGv = -53279, kBu = 132201;

inline uint8_t clampByte(int32_t v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

}  // namespace

void i420ToRgbPlanesFixed(const uint8_t* frame, int width, int height, uint8_t* const planes[3]) {
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  const uint8_t* up = frame + static_cast<size_t>(width) * height;
  const uint8_t* vp = up + static_cast<size_t>(cw) * ch;
  for (int y = 0; y < height; ++y) {
    const uint8_t* yr = frame + static_cast<size_t>(y) * width;
    const uint8_t* ur = up + static_cast<size_t>(y / 2) * cw;
    const uint8_t* vr = vp + static_cast<size_t>(y / 2) * cw;
    uint8_t* r = planes[0] + static_cast<size_t>(y) * width;
    uint8_t* g = planes[1] + static_cast<size_t>(y) * width;
    uint8_t* b = planes[2] + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) {
      const int32_t Y = kY * (yr[x] - 16) + 32768, U = ur[x / 2] - 128, V = vr[x / 2] - 128;
      r[x] = clampByte((Y + kRv * V) >> 16);
      g[x] = clampByte((Y + kGu * U + kGv * V) >> 16);
      b[x] = clampByte((Y + kBu * U) >> 16);
    }
  }
}

void i420ToRgbPlanesSmooth(const uint8_t* frame, int width, int height, uint8_t* const planes[3], int y0, int y1) {
  if (y1 < 0 || y1 > height) y1 = height;
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  const uint8_t* up = frame + static_cast<size_t>(width) * height;
  const uint8_t* vp = up + static_cast<size_t>(cw) * ch;
  // Luma x (or y) lies a quarter of a chroma sample from its own sample, towards its neighbour
  // on that side: x even, the one before; x odd, the one after (clamped at the edges). Each row
  // first mixes the two chroma rows 3:1, padded by one sample on each side, then each pixel
  // mixes two of those 3:1: the 9:3:3:1 of the two directions.
  std::vector<int32_t> u4(static_cast<size_t>(cw) + 2), v4(static_cast<size_t>(cw) + 2);
  for (int y = std::max(0, y0); y < y1; ++y) {
    const int ny = y / 2, fy = std::clamp(y % 2 ? y / 2 + 1 : y / 2 - 1, 0, ch - 1);
    const uint8_t* un = up + static_cast<size_t>(ny) * cw;
    const uint8_t* uf = up + static_cast<size_t>(fy) * cw;
    const uint8_t* vn = vp + static_cast<size_t>(ny) * cw;
    const uint8_t* vf = vp + static_cast<size_t>(fy) * cw;
    for (int c = 0; c < cw; ++c) {
      u4[c + 1] = 3 * un[c] + uf[c];
      v4[c + 1] = 3 * vn[c] + vf[c];
    }
    u4[0] = u4[1];
    v4[0] = v4[1];
    u4[cw + 1] = u4[cw];
    v4[cw + 1] = v4[cw];
    const uint8_t* yr = frame + static_cast<size_t>(y) * width;
    uint8_t* r = planes[0] + static_cast<size_t>(y) * width;
    uint8_t* g = planes[1] + static_cast<size_t>(y) * width;
    uint8_t* b = planes[2] + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) {
      const int n = x / 2 + 1, f = x % 2 ? n + 1 : n - 1;
      // 16 times the interpolated sample, less 16 x 128: the fixed-point sums take it as it is.
      const int32_t U16 = 3 * u4[n] + u4[f] - 2048, V16 = 3 * v4[n] + v4[f] - 2048;
      const int32_t Y = kY * (yr[x] - 16) + 32768;
      r[x] = clampByte((Y + ((kRv * V16) >> 4)) >> 16);
      g[x] = clampByte((Y + ((kGu * U16 + kGv * V16) >> 4)) >> 16);
      b[x] = clampByte((Y + ((kBu * U16) >> 4)) >> 16);
    }
  }
}

void rgbPlanesToI420Fixed(const uint8_t* const planes[3], int width, int height, uint8_t* out) {
  rgbPlanesToI420LumaRows(planes, width, 0, height, out);
  rgbPlanesToI420Chroma(planes, width, height, out);
}

void rgbPlanesToI420LumaRows(const uint8_t* const planes[3], int width, int y0, int y1, uint8_t* out) {
  const uint8_t* R = planes[0];
  const uint8_t* G = planes[1];
  const uint8_t* B = planes[2];
  // Y is 16..235 by construction (the coefficients sum to 219/255), so no clamp is needed.
  for (size_t i = static_cast<size_t>(y0) * width, end = static_cast<size_t>(y1) * width; i < end; ++i)
    out[i] = static_cast<uint8_t>(16 + ((kYr * R[i] + kYg * G[i] + kYb * B[i] + 32768) >> 16));
}

void rgbPlanesToI420Chroma(const uint8_t* const planes[3], int width, int height, uint8_t* out) {
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  uint8_t* up = out + static_cast<size_t>(width) * height;
  uint8_t* vp = up + static_cast<size_t>(cw) * ch;
  const uint8_t* R = planes[0];
  const uint8_t* G = planes[1];
  const uint8_t* B = planes[2];
  for (int cy = 0; cy < ch; ++cy) {
    const int y0 = 2 * cy, rows = std::min(2, height - y0);
    for (int cx = 0; cx < cw; ++cx) {
      const int x0 = 2 * cx, cols = std::min(2, width - x0);
      int32_t r = 0, g = 0, b = 0;
      for (int dy = 0; dy < rows; ++dy)
        for (int dx = 0; dx < cols; ++dx) {
          const size_t i = static_cast<size_t>(y0 + dy) * width + x0 + dx;
          r += R[i];
          g += G[i];
          b += B[i];
        }
      // The sums of 1, 2 or 4 pixels: dividing by the count is one more bit of shift per doubling.
      const int shift = 16 + (rows * cols == 4 ? 2 : rows * cols == 2 ? 1 : 0);
      const int32_t half = 1 << (shift - 1);
      up[static_cast<size_t>(cy) * cw + cx] = clampByte(128 + ((kUr * r + kUg * g + kUb * b + half) >> shift));
      vp[static_cast<size_t>(cy) * cw + cx] = clampByte(128 + ((kVr * r + kVg * g + kVb * b + half) >> shift));
    }
  }
}

}  // namespace aic::yuv
