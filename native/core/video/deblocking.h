// The in-loop deblocking filter of predicted frames (docs/bitstream.md, "Deblocking"). At the
// quantisers a call runs at on a poor link (qp 40-51), the 8x8 residual transform and the 16x16
// motion blocks leave visible steps at block edges, which SSIM punishes and which the next frame
// would predict from. After a frame's macroblocks are reconstructed, edges between 8x8 blocks are
// smoothed where the step is small enough to be a coding artefact (under alpha(qp)) and the two
// sides are flat (under beta(qp)), by at most tc(qp) per pixel: an edge the picture has is left
// alone. Integers only, in a fixed order (every vertical edge left to right, then every horizontal
// edge top to bottom), so that sender and receiver filter to the same bytes on any machine; the
// filtered frame is what the receiver shows, what the sender scores and the next reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aic::video {

/**
 * How strongly each 8x8 block edge of a frame is filtered: 0 not at all, 1 normally (a coded
 * block on either side, or motion that differs by a pixel or more), 2 strongly (an intra
 * macroblock on either side). `left[by * blocksX + bx]` is the edge on the left of block (bx, by),
 * `top[...]` the edge above it; the frame's own borders are never filtered.
 */
struct EdgeStrengths {
  int blocksX = 0, blocksY = 0;
  std::vector<uint8_t> left, top;
  void resize(int bx, int by) {
    blocksX = bx;
    blocksY = by;
    left.assign(static_cast<size_t>(bx) * by, 0);
    top.assign(left.size(), 0);
  }
};

/** The filter's thresholds at a quantiser (all 0, no filtering, below qp 16). */
struct DeblockThresholds {
  int alpha = 0, beta = 0, tc = 0;  // tc of strength 1; strength 2 allows tc + tc / 2 + 1
};
DeblockThresholds deblockThresholds(int qp);

/** Filters planes (width x height each, stride width) in place. */
void deblockFrame(uint8_t* const planes[3], int width, int height, int qp, const EdgeStrengths& strengths);

/**
 * deblockFrame() one band at a time: block rows [by0, by1) (their vertical edges, then the
 * horizontal edges above and between them). Bands taken top to bottom filter to the same bytes as
 * the whole frame at once: a vertical edge reads and writes its own row only, and a horizontal
 * edge at y reads rows y - 2 .. y + 1, which no other horizontal edge writes and whose vertical
 * edges the bands above and this one have filtered. The encoder filters each macroblock row as
 * soon as it is reconstructed, so the rows above can be scored while it codes the rest.
 */
void deblockBand(uint8_t* const planes[3], int width, int height, int qp, const EdgeStrengths& strengths, int by0, int by1);

}  // namespace aic::video
