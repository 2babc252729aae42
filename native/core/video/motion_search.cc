#include "video/motion_search.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define AIC_SAD_SSE2 1
#endif

#include "common/errors.h"
#include "common/helper_threads.h"

namespace aic::video {

namespace {

// The reference with an edge-replicated border wide enough for every vector the search may try
// (range full pixels, a block, and one more pixel for the bilinear taps), so that the inner loops
// never test bounds.
class PaddedPlane {
 public:
  PaddedPlane(const Plane& p, int border) : border_(border), width_(p.width + 2 * border), height_(p.height + 2 * border) {
    pixels_.resize(static_cast<size_t>(width_) * height_);
    for (int y = 0; y < height_; ++y) {
      const int sy = std::clamp(y - border, 0, p.height - 1);
      const uint8_t* src = p.data + static_cast<size_t>(sy) * p.stride;
      uint8_t* dst = pixels_.data() + static_cast<size_t>(y) * width_;
      std::fill(dst, dst + border, src[0]);
      std::copy(src, src + p.width, dst + border);
      std::fill(dst + border + p.width, dst + width_, src[p.width - 1]);
    }
  }
  /** The pixel (x, y) of the original plane's coordinates; x, y may lie in the border. */
  const uint8_t* at(int x, int y) const { return pixels_.data() + static_cast<size_t>(y + border_) * width_ + (x + border_); }
  int stride() const { return width_; }

 private:
  int border_, width_, height_;
  std::vector<uint8_t> pixels_;
};

// The block at (x, y) moved by mv (quarter pixels), bilinear, into out (stride w).
void interpolate(const PaddedPlane& ref, int x, int y, int w, int h, MotionVector mv, uint8_t* out, int outStride) {
  const int ix = x + (mv.dx >> 2), iy = y + (mv.dy >> 2);  // floor division for negatives
  const int fx = mv.dx & 3, fy = mv.dy & 3;
  interpolateBlock(ref.at(ix, iy), ref.stride(), fx, fy, w, h, out, outStride);
}

int vectorCost(MotionVector mv, MotionVector pred, int lambda) {
  return lambda * (std::abs(mv.dx - pred.dx) + std::abs(mv.dy - pred.dy));
}

struct BlockSearch {
  const PaddedPlane& ref;
  const Plane& cur;
  const MotionSearchOptions& o;
  int x, y, w, h;
  MotionVector pred;
  uint64_t& evaluated;
  uint8_t scratch[16 * 16];

  // SAD of the block against the reference moved by a full-pixel vector (quarter-pel units, multiple of 4).
  uint32_t fullSad(MotionVector mv) {
    ++evaluated;
    return sad(cur.data + static_cast<size_t>(y) * cur.stride + x, cur.stride, ref.at(x + mv.dx / 4, y + mv.dy / 4), ref.stride(), w, h);
  }
  uint32_t anySad(MotionVector mv) {
    if ((mv.dx & 3) == 0 && (mv.dy & 3) == 0) return fullSad(mv);
    ++evaluated;
    interpolate(ref, x, y, w, h, mv, scratch, 16);
    return sad(cur.data + static_cast<size_t>(y) * cur.stride + x, cur.stride, scratch, 16, w, h);
  }
  bool inRange(MotionVector mv) const {
    const int r = o.range * 4;
    return mv.dx >= -r && mv.dx <= r && mv.dy >= -r && mv.dy <= r;
  }
  // Tries mv (full or sub-pixel); keeps it in best when its cost is lower.
  void consider(MotionVector mv, MotionVector& best, int64_t& bestCost, uint32_t& bestSad, bool subpel) {
    if (!inRange(mv)) return;
    const uint32_t s = subpel ? anySad(mv) : fullSad(mv);
    const int64_t c = static_cast<int64_t>(s) + vectorCost(mv, pred, o.lambda);
    if (c < bestCost || (c == bestCost && (std::abs(mv.dx) + std::abs(mv.dy) < std::abs(best.dx) + std::abs(best.dy)))) {
      best = mv;
      bestCost = c;
      bestSad = s;
    }
  }
  // Half- then quarter-pixel steps around best.
  void refine(MotionVector& best, int64_t& bestCost, uint32_t& bestSad) {
    for (int step : {2, 1}) {
      const MotionVector center = best;
      for (int dy = -step; dy <= step; dy += step)
        for (int dx = -step; dx <= step; dx += step)
          if (dx || dy) consider({static_cast<int16_t>(center.dx + dx), static_cast<int16_t>(center.dy + dy)}, best, bestCost, bestSad, true);
    }
  }
};

MotionVector roundToFull(MotionVector v) {
  auto r = [](int q) { return static_cast<int16_t>(((q >= 0 ? q + 2 : q - 2) / 4) * 4); };
  return {r(v.dx), r(v.dy)};
}

void checkInputs(const Plane& reference, const Plane& current, const MotionSearchOptions& o) {
  if (o.blockSize != 8 && o.blockSize != 16) throw CoreError(ErrorCode::InvalidArgument, "blockSize must be 8 or 16");
  if (o.range < 1 || o.range > 128) throw CoreError(ErrorCode::InvalidArgument, "range must be 1..128 pixels");
  if (o.lambda < 0 || o.lambda > 1024) throw CoreError(ErrorCode::InvalidArgument, "lambda must be 0..1024");
  for (const Plane* p : {&reference, &current}) {
    if (!p->data || p->width < 1 || p->height < 1 || p->width > 16384 || p->height > 16384 || p->stride < p->width) throw CoreError(ErrorCode::InvalidArgument, "a plane must be 1..16384 pixels each way with stride >= width");
  }
  if (reference.width != current.width || reference.height != current.height) throw CoreError(ErrorCode::InvalidArgument, "reference and current frames must be the same size");
}

// The frame's dominant motion, found by an exhaustive search on both frames shrunk 4 times (box
// filter): a candidate for every block, so that a pan is found at its first block instead of
// being walked towards from a zero vector (on textured content a walk from far away ends in the
// nearest local minimum). A quarter of the range each way at a sixteenth of the pixels costs
// about as much as two full-resolution blocks' walks per block row.
MotionVector globalMotion(const Plane& ref, const Plane& cur, int range) {
  const int w = ref.width / 4, h = ref.height / 4, r = range / 4;
  if (w < 2 * r + 4 || h < 2 * r + 4 || r < 1) return {};
  auto shrink = [&](const Plane& p) {
    std::vector<uint8_t> out(static_cast<size_t>(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        unsigned sum = 0;
        for (int j = 0; j < 4; ++j)
          for (int i = 0; i < 4; ++i) sum += p.data[static_cast<size_t>(4 * y + j) * p.stride + 4 * x + i];
        out[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>((sum + 8) / 16);
      }
    return out;
  };
  const std::vector<uint8_t> a = shrink(ref), b = shrink(cur);
  uint64_t best = std::numeric_limits<uint64_t>::max();
  int bx = 0, by = 0;
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx) {
      // The window that stays inside both frames for every displacement tried.
      uint64_t s = 0;
      for (int y = r; y < h - r; ++y) s += sad(b.data() + static_cast<size_t>(y) * w + r, w, a.data() + static_cast<size_t>(y + dy) * w + r + dx, w, w - 2 * r, 1);
      if (s < best || (s == best && std::abs(dx) + std::abs(dy) < std::abs(bx) + std::abs(by))) {
        best = s;
        bx = dx;
        by = dy;
      }
    }
  return {static_cast<int16_t>(16 * bx), static_cast<int16_t>(16 * by)};
}

MotionVector neighbour(const MotionField& f, int bx, int by) {
  if (bx < 0 || by < 0 || bx >= f.blocksX) return {};
  return f.vectors[static_cast<size_t>(by) * f.blocksX + bx];
}

template <typename Search>
MotionField run(const Plane& reference, const Plane& current, const MotionSearchOptions& o, Search&& search) {
  checkInputs(reference, current, o);
  const PaddedPlane ref(reference, o.range + o.blockSize + 2);
  MotionField f;
  f.blockSize = o.blockSize;
  f.blocksX = (current.width + o.blockSize - 1) / o.blockSize;
  f.blocksY = (current.height + o.blockSize - 1) / o.blockSize;
  f.vectors.resize(static_cast<size_t>(f.blocksX) * f.blocksY);
  f.sad.resize(f.vectors.size());
  // The frame is searched as two slices, the top and bottom halves of its block rows, the bottom
  // one on a helper thread (common/helper_threads.h) where the machine has two cores. A block of
  // the bottom slice's first row does not see the vectors above it (it still has the global and
  // previous-field candidates; its vector's cost is reckoned from a predictor without them). The
  // split is the same on one thread, so the field does not depend on the machine. (A wavefront
  // that kept every neighbour stalled on uneven blocks and bought nothing here.)
  const int mid = f.vectors.size() >= 256 && f.blocksY > 1 ? f.blocksY / 2 : f.blocksY;
  auto rows = [&](int from, int to, uint64_t& evaluated) {
    for (int by = from; by < to; ++by) {
      for (int bx = 0; bx < f.blocksX; ++bx) {
        const int x = bx * o.blockSize, y = by * o.blockSize;
        BlockSearch b{ref, current, o, x, y, std::min(o.blockSize, current.width - x), std::min(o.blockSize, current.height - y), {}, evaluated, {}};
        const bool above = by > from;
        const MotionVector left = neighbour(f, bx - 1, by), top = above ? neighbour(f, bx, by - 1) : MotionVector{};
        const MotionVector topRight = !above ? MotionVector{} : bx + 1 < f.blocksX ? neighbour(f, bx + 1, by - 1) : neighbour(f, bx - 1, by - 1);
        b.pred = medianVector(left, top, topRight);
        MotionVector best{};
        int64_t bestCost = std::numeric_limits<int64_t>::max();
        uint32_t bestSad = 0;
        search(b, bx, by, left, top, topRight, best, bestCost, bestSad);
        if (o.subpel) b.refine(best, bestCost, bestSad);
        const size_t i = static_cast<size_t>(by) * f.blocksX + bx;
        f.vectors[i] = best;
        f.sad[i] = bestSad;
      }
    }
  };
  uint64_t bottomEvaluated = 0;
  forEachShare(mid < f.blocksY ? 2 : 1, [&](int share) {
    if (share == 0) rows(0, mid, f.evaluated);
    else rows(mid, f.blocksY, bottomEvaluated);
  });
  f.evaluated += bottomEvaluated;
  return f;
}

}  // namespace

uint32_t sad(const uint8_t* a, int aStride, const uint8_t* b, int bStride, int w, int h) {
  uint32_t total = 0;
#ifdef AIC_SAD_SSE2
  if (w == 16) {
    __m128i acc = _mm_setzero_si128();
    for (int r = 0; r < h; ++r) {
      const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + static_cast<size_t>(r) * aStride));
      const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + static_cast<size_t>(r) * bStride));
      acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
    }
    return static_cast<uint32_t>(_mm_cvtsi128_si32(acc) + _mm_cvtsi128_si32(_mm_srli_si128(acc, 8)));
  }
  if (w == 8) {
    __m128i acc = _mm_setzero_si128();
    for (int r = 0; r < h; ++r) {
      const __m128i va = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + static_cast<size_t>(r) * aStride));
      const __m128i vb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + static_cast<size_t>(r) * bStride));
      acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
    }
    return static_cast<uint32_t>(_mm_cvtsi128_si32(acc));
  }
#endif
  for (int r = 0; r < h; ++r) {
    const uint8_t* pa = a + static_cast<size_t>(r) * aStride;
    const uint8_t* pb = b + static_cast<size_t>(r) * bStride;
    int c = 0;
#ifdef AIC_SAD_SSE2
    // Other widths (the global search's rows of a shrunk frame, partial edge blocks): 16 at a time.
    __m128i acc = _mm_setzero_si128();
    for (; c + 16 <= w; c += 16) {
      const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pa + c));
      const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pb + c));
      acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
    }
    total += static_cast<uint32_t>(_mm_cvtsi128_si32(acc) + _mm_cvtsi128_si32(_mm_srli_si128(acc, 8)));
#endif
    for (; c < w; ++c) total += static_cast<uint32_t>(std::abs(pa[c] - pb[c]));
  }
  return total;
}

MotionVector medianVector(MotionVector a, MotionVector b, MotionVector c) {
  auto med = [](int p, int q, int r) { return static_cast<int16_t>(std::max(std::min(p, q), std::min(std::max(p, q), r))); };
  return {med(a.dx, b.dx, c.dx), med(a.dy, b.dy, c.dy)};
}

void interpolateBlock(const uint8_t* src, int stride, int fx, int fy, int w, int h, uint8_t* out, int outStride) {
  if (fx == 0 && fy == 0) {
    for (int r = 0; r < h; ++r) std::copy(src + static_cast<size_t>(r) * stride, src + static_cast<size_t>(r) * stride + w, out + static_cast<size_t>(r) * outStride);
    return;
  }
  const int w00 = (4 - fx) * (4 - fy), w01 = fx * (4 - fy), w10 = (4 - fx) * fy, w11 = fx * fy;
#ifdef AIC_SAD_SSE2
  // Eight positions at a time in 16-bit lanes: the weights sum to 16, so a sum is at most
  // 16 * 255 + 8 and the result is the scalar one exactly. Reads the same bytes the scalar loop
  // does (a[c + 1] and b[c + 1] up to c = w - 1).
  const __m128i k00 = _mm_set1_epi16(static_cast<int16_t>(w00)), k01 = _mm_set1_epi16(static_cast<int16_t>(w01));
  const __m128i k10 = _mm_set1_epi16(static_cast<int16_t>(w10)), k11 = _mm_set1_epi16(static_cast<int16_t>(w11));
  const __m128i round = _mm_set1_epi16(8), zero = _mm_setzero_si128();
  auto load8 = [&](const uint8_t* p) { return _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), zero); };
#endif
  for (int r = 0; r < h; ++r) {
    const uint8_t* a = src + static_cast<size_t>(r) * stride;
    const uint8_t* b = a + stride;
    uint8_t* o = out + static_cast<size_t>(r) * outStride;
    int c = 0;
#ifdef AIC_SAD_SSE2
    for (; c + 8 <= w; c += 8) {
      __m128i v = _mm_add_epi16(_mm_mullo_epi16(load8(a + c), k00), _mm_mullo_epi16(load8(a + c + 1), k01));
      v = _mm_add_epi16(v, _mm_add_epi16(_mm_mullo_epi16(load8(b + c), k10), _mm_mullo_epi16(load8(b + c + 1), k11)));
      v = _mm_srli_epi16(_mm_add_epi16(v, round), 4);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(o + c), _mm_packus_epi16(v, zero));
    }
#endif
    for (; c < w; ++c) o[c] = static_cast<uint8_t>((w00 * a[c] + w01 * a[c + 1] + w10 * b[c] + w11 * b[c + 1] + 8) >> 4);
  }
}

void predictBlock(const Plane& reference, int x, int y, int w, int h, MotionVector mv, uint8_t* out, int outStride) {
  if (w < 1 || h < 1 || w > 64 || h > 64) throw CoreError(ErrorCode::InvalidArgument, "predictBlock: block must be 1..64 pixels each way");
  const int reach = std::max(std::abs(mv.dx), std::abs(mv.dy)) / 4 + 2;
  if (reach > 512) throw CoreError(ErrorCode::InvalidArgument, "predictBlock: vector longer than 512 pixels");
  const PaddedPlane ref(reference, reach + 64);
  interpolate(ref, x, y, w, h, mv, out, outStride);
}

MotionField searchMotion(const Plane& reference, const Plane& current, const MotionSearchOptions& o, const MotionField* previous) {
  const bool usePrevious = previous && previous->blockSize == o.blockSize && previous->blocksX == (current.width + o.blockSize - 1) / o.blockSize &&
                           previous->blocksY == (current.height + o.blockSize - 1) / o.blockSize;
  checkInputs(reference, current, o);
  const MotionVector global = globalMotion(reference, current, o.range);
  return run(reference, current, o, [&](BlockSearch& b, int bx, int by, MotionVector left, MotionVector top, MotionVector topRight, MotionVector& best, int64_t& bestCost, uint32_t& bestSad) {
    // Candidates, rounded to full pixels for the integer search.
    b.consider({}, best, bestCost, bestSad, false);
    b.consider(global, best, bestCost, bestSad, false);
    for (MotionVector c : {b.pred, left, top, topRight}) b.consider(roundToFull(c), best, bestCost, bestSad, false);
    if (usePrevious) b.consider(roundToFull(previous->vectors[static_cast<size_t>(by) * previous->blocksX + bx]), best, bestCost, bestSad, false);
    // When no candidate predicts the block well (a first block, the start of a pan, an object
    // that moved on its own), look further before walking: a ring of 16 points at each of the
    // radii 4, 8, 16, ... up to the range, around the best so far. A walk from a poor start ends
    // in the nearest local minimum, which on textured content is rarely the motion.
    if (bestSad > static_cast<uint32_t>(2 * b.w * b.h)) {
      static const int ring[16][2] = {{4, 0}, {4, 1}, {4, 2}, {3, 3}, {2, 4}, {0, 4}, {-2, 4}, {-3, 3}, {-4, 2}, {-4, 1}, {-4, 0}, {-4, -2}, {-3, -3}, {-2, -4}, {0, -4}, {2, -4}};
      const MotionVector center = best;
      for (int radius = 1; 4 * radius <= b.o.range; radius *= 2)
        for (const auto& d : ring) b.consider({static_cast<int16_t>(center.dx + 4 * radius * d[0]), static_cast<int16_t>(center.dy + 4 * radius * d[1])}, best, bestCost, bestSad, false);
    }
    // Hexagon walk (radius 2 pixels) to a local minimum, then a diamond of radius 1.
    static const int hex[6][2] = {{-2, 0}, {2, 0}, {-1, -2}, {1, -2}, {-1, 2}, {1, 2}};
    for (int iter = 0; iter < 4 * b.o.range; ++iter) {
      const MotionVector center = best;
      for (const auto& d : hex) b.consider({static_cast<int16_t>(center.dx + 4 * d[0]), static_cast<int16_t>(center.dy + 4 * d[1])}, best, bestCost, bestSad, false);
      if (best == center) break;
    }
    static const int diamond[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    for (int iter = 0; iter < 4 * b.o.range; ++iter) {
      const MotionVector center = best;
      for (const auto& d : diamond) b.consider({static_cast<int16_t>(center.dx + 4 * d[0]), static_cast<int16_t>(center.dy + 4 * d[1])}, best, bestCost, bestSad, false);
      if (best == center) break;
    }
  });
}

MotionField searchMotionExhaustive(const Plane& reference, const Plane& current, const MotionSearchOptions& o) {
  return run(reference, current, o, [&](BlockSearch& b, int, int, MotionVector, MotionVector, MotionVector, MotionVector& best, int64_t& bestCost, uint32_t& bestSad) {
    for (int dy = -o.range; dy <= o.range; ++dy)
      for (int dx = -o.range; dx <= o.range; ++dx) b.consider({static_cast<int16_t>(4 * dx), static_cast<int16_t>(4 * dy)}, best, bestCost, bestSad, false);
  });
}

}  // namespace aic::video
