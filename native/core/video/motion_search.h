// Block motion estimation on 8-bit luma, the first stage of inter-frame coding (issue 16): for each
// block of the current frame, the displacement into the reference frame whose block predicts it
// best, to a quarter pixel.
//
// The search, per block in raster order within each of two slices (the top and bottom halves of
// the block rows, searched on two threads where there are two cores; a slice's first row has no
// neighbours above):
//   1. candidates: zero, the median of the left / top / top-right neighbours' vectors (the
//      predictor the vectors are coded against), those neighbours themselves, and the block's own
//      vector in the previous field (motion persists over frames);
//   2. from the best candidate a hexagon pattern (radius 2) walks to a local minimum, then a small
//      diamond (radius 1) settles it, all within +-range full pixels;
//   3. half- then quarter-pixel refinement around it, on the bilinear interpolation of the
//      reference (what the predictor uses: predictBlock()).
// Each candidate costs SAD + lambda * (|dx - px| + |dy - py|) in quarter pixels: a vector far from
// its predictor costs bits, so a flat region does not pick up noise-driven vectors.
//
// The reference is read through an edge-replicated border, so vectors may point partly outside
// the frame (as codecs allow); nothing outside the planes is ever read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aic::video {

/** A displacement in quarter pixels: the block at (x, y) is predicted from (x + dx/4, y + dy/4) in the reference. */
struct MotionVector {
  int16_t dx = 0;
  int16_t dy = 0;
  bool operator==(const MotionVector& o) const { return dx == o.dx && dy == o.dy; }
};

/** A read-only 8-bit plane. */
struct Plane {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;
};

struct MotionSearchOptions {
  /** Block size in pixels: 8 or 16. */
  int blockSize = 16;
  /** Largest full-pixel displacement searched, each way (1..128). */
  int range = 32;
  /** Half- and quarter-pixel refinement. */
  bool subpel = true;
  /** Weight of a vector's distance from its predictor, per quarter pixel, in SAD units. */
  int lambda = 4;
};

struct MotionField {
  int blocksX = 0;
  int blocksY = 0;
  int blockSize = 16;
  std::vector<MotionVector> vectors;  // blocksX * blocksY, raster order
  std::vector<uint32_t> sad;          // the SAD of each block's prediction
  /** Candidate positions evaluated (for the benchmark: the search's cost in SADs). */
  uint64_t evaluated = 0;
};

/**
 * The motion of `current` against `reference` (same size; width and height multiples of nothing in
 * particular: edge blocks are partial). `previous`, when given, is the last field (same block
 * grid): its vectors seed the search. Throws CoreError(InvalidArgument) on bad sizes or options.
 */
MotionField searchMotion(const Plane& reference, const Plane& current, const MotionSearchOptions& options, const MotionField* previous = nullptr);

/** The same field by exhaustive full-pixel search over +-range then the same sub-pixel refinement (tests, and the benchmark's yardstick). */
MotionField searchMotionExhaustive(const Plane& reference, const Plane& current, const MotionSearchOptions& options);

/** Sum of absolute differences of a w x h block (SSE2 rows of 16 and 8 where available). */
uint32_t sad(const uint8_t* a, int aStride, const uint8_t* b, int bStride, int w, int h);

/** The prediction of the w x h block at (x, y) from `reference` moved by `mv` (bilinear at quarter pixels, edge-replicated). */
void predictBlock(const Plane& reference, int x, int y, int w, int h, MotionVector mv, uint8_t* out, int outStride);

/**
 * Bilinear interpolation at quarter pixels of the w x h block whose top-left full pixel is `src`
 * (the taps read one pixel to the right and below), fraction (fx, fy) in quarters: the one
 * predictor of the motion search and of predicted frames (video/inter_codec.cc), integer and exact.
 */
void interpolateBlock(const uint8_t* src, int stride, int fx, int fy, int w, int h, uint8_t* out, int outStride);

/** The median of three vectors, component by component (the predictor of H.264 and its successors). */
MotionVector medianVector(MotionVector a, MotionVector b, MotionVector c);

}  // namespace aic::video
