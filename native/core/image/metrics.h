// Image quality measures on 8-bit interleaved RGB/RGBA frames (alpha ignored), computed on the
// real reconstruction. Colour handling: each of R, G, B is measured as its own plane and the
// three results are averaged (as CompressAI and most learned-compression papers report them).
//
// - PSNR: 10 log10(255^2 / MSE) over all RGB samples; identical frames give 100 dB (a cap, so
//   that averages stay finite).
// - SSIM: Wang et al. 2004 with an 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03, L 255,
//   averaged over the window positions that fit inside the frame (no padding). Frames smaller
//   than 11 pixels in a dimension use a window as large as the frame.
// - MS-SSIM: Wang et al. 2003, 5 scales with weights 0.0448 0.2856 0.3001 0.2363 0.1333 and 2x2
//   average-pool downsampling; frames too small for 5 scales (a side under 176 px) use as many
//   scales as fit, with the weights renormalised.
// - I420 frames are measured on their own planes: SSIM and MSE of Y, U and V weighted 6:1:1 (the
//   usual YUV weighting in video coding, luma carrying most of what the eye sees); PSNR is of
//   that weighted MSE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace aic::metrics {

double psnr(const uint8_t* a, const uint8_t* b, int width, int height, int channels);
double ssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels);
double msssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels);

// The worst tile: the lowest mean SSIM of any block of about kWorstTileSize x kWorstTileSize window
// positions (64 px: a block a viewer notices, big enough that its SSIM is stable). RGB tiles
// average the three planes; I420 tiles are luma. A frame smaller than a tile is one tile.
constexpr int kWorstTileSize = 64;

struct ImageScores {
  double psnr = 0;
  double ssim = 0;
  double worstTileSsim = 0;
};
// PSNR and SSIM of interleaved RGB (3) or RGBA (4) frames.
ImageScores rgbScores(const uint8_t* a, const uint8_t* b, int width, int height, int channels);
// One 8-bit plane of a frame: its first sample, the bytes from one row to the next and from one
// sample to the next (1 for a plane, 3 or 4 for a channel of an interleaved frame).
struct PlaneRef {
  const uint8_t* data = nullptr;
  size_t rowStride = 0;
  int pixelStride = 1;
};
// As rgbScores(), of R, G and B given as planes: what a codec that reconstructs planes scores
// without interleaving them first.
ImageScores planeScores(const PlaneRef a[3], const PlaneRef b[3], int width, int height);
// PSNR and SSIM of two I420 frames (Y plane, then U and V at half resolution, rounded up).
ImageScores i420Scores(const uint8_t* a, const uint8_t* b, int width, int height);

// One plane's share of a score: its mean SSIM, its tiles' means and its squared error.
struct PlaneTotals {
  double ssim = 0;
  std::vector<double> tileMeans;
  uint64_t squaredError = 0;
};
// i420Scores() with the luma plane's totals already made (by a RowScorer of that one plane, as
// the reconstruction's rows became final): scores U and V and combines, bit-identical to
// i420Scores() of the same frames.
ImageScores i420ScoresWithLuma(const PlaneTotals& luma, const uint8_t* a, const uint8_t* b, int width, int height);

// planeScores() of a reconstruction that is made top to bottom (a predicted frame, macroblock row
// by macroblock row), scored in bands of output rows as its rows become final, so that scoring
// runs on a second core while the encoder still reconstructs the rows below. Output row y of the
// SSIM map reads input rows y .. y + window() - 1. Bands may be scored in any order and on any
// threads (disjoint bands at the same time); finish() adds the rows up in row order, so the scores
// are bit-identical to planeScores() of the finished planes however the bands were shared.
class RowScorer {
 public:
  RowScorer(const PlaneRef a[3], const PlaneRef b[3], int width, int height);
  // `planes` planes (1 to 3) of the same size; finish() needs 3, finishPlanes() takes any.
  RowScorer(const PlaneRef* a, const PlaneRef* b, int planes, int width, int height);
  ~RowScorer();
  RowScorer(const RowScorer&) = delete;
  RowScorer& operator=(const RowScorer&) = delete;
  int outputRows() const;
  int window() const;
  // A thread's run of bands top down: when a band starts where the cursor's last one ended, the
  // filter state carries over and no input row is filtered twice. One cursor per thread.
  class Cursor {
   public:
    Cursor();
    ~Cursor();

   private:
    friend class RowScorer;
    struct State;
    std::unique_ptr<State> state_;
  };
  // Output rows [y0, y1) of all three planes (a fresh cursor, or continuing `cursor`).
  void scoreRows(int y0, int y1);
  void scoreRows(Cursor& cursor, int y0, int y1);
  ImageScores finish();
  // Each plane's SSIM and tiles' means (tiles of kWorstTileSize), once every output row is
  // scored; the squared error of all the planes is in the first entry (with one plane, its own).
  std::vector<PlaneTotals> finishPlanes();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace aic::metrics
