#include "video/deblocking.h"

#include <algorithm>
#include <cstdlib>

#include "video/residual_transform.h"

namespace aic::video {

DeblockThresholds deblockThresholds(int qp) {
  DeblockThresholds t;
  if (qp < 16) return t;
  // From the quantiser's step (exact integers: quantiserStep16 is a table): a step at a block edge
  // smaller than about 1.27 quantiser steps is what quantisation leaves; beta grows with qp to 18.
  const int step16 = quantiserStep16(std::min(qp, kMaxQp));
  t.alpha = std::min(255, (step16 * 81) >> 10);
  t.beta = std::clamp(qp / 2 - 6, 2, 18);
  t.tc = std::max(1, (t.alpha + 12) / 24);
  return t;
}

namespace {

inline int clamp255(int v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }

// One line across an edge: p1 p0 | q0 q1, `step` bytes apart; only p0 and q0 change.
inline void filterLine(uint8_t* q0p, int step, const DeblockThresholds& t, int tc) {
  const int p1 = q0p[-2 * step], p0 = q0p[-step], q0 = q0p[0], q1 = q0p[step];
  if (std::abs(p0 - q0) >= t.alpha || std::abs(p1 - p0) >= t.beta || std::abs(q1 - q0) >= t.beta) return;
  // An arithmetic shift: floor division, the same on every compiler this builds with.
  const int delta = std::clamp(((q0 - p0) * 4 + (p1 - q1) + 4) >> 3, -tc, tc);
  q0p[-step] = static_cast<uint8_t>(clamp255(p0 + delta));
  q0p[0] = static_cast<uint8_t>(clamp255(q0 - delta));
}

}  // namespace

void deblockBand(uint8_t* const planes[3], int width, int height, int qp, const EdgeStrengths& s, int by0, int by1) {
  const DeblockThresholds t = deblockThresholds(qp);
  if (t.alpha == 0) return;
  by0 = std::max(0, by0);
  by1 = std::min(by1, s.blocksY);
  const int tcOf[3] = {0, t.tc, t.tc + t.tc / 2 + 1};
  for (int p = 0; p < 3; ++p) {
    uint8_t* plane = planes[p];
    // Vertical edges (x = 8, 16, ...), left to right within each block row, rows top to bottom.
    for (int by = by0; by < by1; ++by)
      for (int bx = 1; bx < s.blocksX; ++bx) {
        const int strength = s.left[static_cast<size_t>(by) * s.blocksX + bx];
        const int x = bx * 8;
        if (!strength || x + 1 >= width) continue;
        const int y1 = std::min(height, by * 8 + 8);
        for (int y = by * 8; y < y1; ++y) filterLine(plane + static_cast<size_t>(y) * width + x, 1, t, tcOf[strength]);
      }
    // Then horizontal edges (y = 8, 16, ...), top to bottom.
    for (int by = std::max(1, by0); by < by1; ++by) {
      const int y = by * 8;
      if (y + 1 >= height) continue;
      for (int bx = 0; bx < s.blocksX; ++bx) {
        const int strength = s.top[static_cast<size_t>(by) * s.blocksX + bx];
        if (!strength) continue;
        const int x1 = std::min(width, bx * 8 + 8);
        uint8_t* row = plane + static_cast<size_t>(y) * width;
        for (int x = bx * 8; x < x1; ++x) filterLine(row + x, width, t, tcOf[strength]);
      }
    }
  }
}

void deblockFrame(uint8_t* const planes[3], int width, int height, int qp, const EdgeStrengths& s) { deblockBand(planes, width, height, qp, s, 0, s.blocksY); }

}  // namespace aic::video
