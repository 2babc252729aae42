#include "video/keyframe_reference.h"

#include "common/errors.h"

namespace aic::video {

void keyframeReference(const KeyframeInverse& inv, const int32_t* symbols, int level, int latentHeight, int latentWidth, int width, int height, uint8_t* const planes[3]) {
  const int n = inv.coefficients, b = inv.block;
  if (n != 3 * b * b || inv.weights.size() != static_cast<size_t>(n) * n || inv.bias.size() != static_cast<size_t>(n) ||
      level < 0 || level >= inv.levels || inv.gains16.size() != static_cast<size_t>(inv.levels) * n) {
    throw CoreError(ErrorCode::InvalidArgument, "keyframe reference: the inverse transform does not match the image model");
  }
  // Columns of the transform, so that each non-zero latent adds one contiguous column.
  std::vector<int32_t> columns(static_cast<size_t>(n) * n);
  for (int o = 0; o < n; ++o)
    for (int i = 0; i < n; ++i) columns[static_cast<size_t>(i) * n + o] = inv.weights[static_cast<size_t>(o) * n + i];
  const int32_t* gains = &inv.gains16[static_cast<size_t>(level) * n];
  const size_t plane = static_cast<size_t>(latentHeight) * latentWidth;
  std::vector<int64_t> acc(n);
  constexpr int64_t kLimit = int64_t{1} << 31;
  for (int ly = 0; ly < latentHeight; ++ly)
    for (int lx = 0; lx < latentWidth; ++lx) {
      const int x0 = lx * b, y0 = ly * b;
      if (x0 >= width || y0 >= height) continue;
      std::fill(acc.begin(), acc.end(), 0);
      const size_t at = static_cast<size_t>(ly) * latentWidth + lx;
      for (int i = 0; i < n; ++i) {
        const int32_t s = symbols[static_cast<size_t>(i) * plane + at];
        if (s == 0) continue;  // most latents of a coded frame are zero
        // 2^16 units; clamped far beyond any real latent, so that no payload can overflow the sums.
        int64_t y = static_cast<int64_t>(s) * gains[i];
        y = y > kLimit ? kLimit : (y < -kLimit ? -kLimit : y);
        const int32_t* col = &columns[static_cast<size_t>(i) * n];
        for (int o = 0; o < n; ++o) acc[o] += y * col[o];  // 2^31 units
      }
      for (int o = 0; o < n; ++o) {
        const int c = o / (b * b), dy = (o / b) % b, dx = o % b;
        const int x = x0 + dx, y = y0 + dy;
        if (x >= width || y >= height) continue;
        // 255 * (W y) + (b + 0.5) * 255, both at 2^31, rounded to a pixel.
        const int64_t v = (255 * acc[o] + (static_cast<int64_t>(inv.bias[o]) << 16) + (int64_t{1} << 30)) >> 31;
        planes[c][static_cast<size_t>(y) * width + x] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
}

}  // namespace aic::video
