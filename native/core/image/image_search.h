// Closed-loop level search for one image frame: the encoder network runs once, then each level
// tried is quantised, entropy coded, decoded by the decoder network exactly as the receiver will
// decode it, and scored (SSIM, PSNR) against the original. The caller (the session's rate
// controller, src/rate-control.ts) says where to start from what it learnt of earlier frames,
// so that most frames need one pass; this file only walks the levels it is allowed to.
#pragma once

#include <cstdint>
#include <vector>

#include "image/image_codec.h"

namespace aic {

struct ImageSearchOptions {
  int startLevel = 0;
  // The score a level must reach; the search wants the lowest level that reaches it.
  double aim = 0;
  // The worst tile's SSIM a level must also reach (metrics.h, kWorstTileSize): a block of the frame
  // badly wrong is a miss even when the mean is fine. 0: not checked.
  double tileAim = 0;
  // Decode-and-score passes allowed (each costs one decoder run and one SSIM).
  int maxPasses = 1;
  // When the start level reaches the aim, also try the level below it (one more pass) if passes
  // remain: how the controller finds out that it may spend fewer bytes.
  bool probeDown = false;
  // Nothing is known of the content (a session's first frame, a scene change): ignore startLevel
  // and bisect the levels for the lowest one that reaches the aim, down as well as up, in at most
  // ceil(log2(levels)) + 1 passes (maxPasses still bounds it).
  bool bisect = false;
  // With bisect: startLevel is a prior's prediction; bracket it before bisecting the rest (the
  // same answer, in two passes when the prior is right).
  bool hinted = false;
  // The largest payload the link carries for this frame (0: no limit). When the level that reaches
  // the aim is larger, the highest level that fits is sent instead, measured, with aimMet false.
  size_t maxBytes = 0;
  // False: open loop, code the start level and score nothing (the caller opted out).
  bool verify = true;
  // Header fields of the payload (its level is the one chosen).
  ImageEncodeOptions header;
};

struct ImageSearchPass {
  int level = 0;
  size_t bytes = 0;
  double ssim = 0, psnr = 0, worstTileSsim = 0;
  double decodeMs = 0, scoreMs = 0;
};

struct ImageSearchResult {
  std::vector<uint8_t> payload;
  int level = 0;
  bool verified = false;
  bool aimMet = false;  // the chosen level's measured score reaches the aim
  double ssim = 0, psnr = 0, worstTileSsim = 0;  // of the chosen level, when verified
  std::vector<ImageSearchPass> passes;
  Timings timings;  // pre-processing, all network time (encoder + decoders), coding and scoring
};


ImageSearchResult searchImage(const ImageCodec& codec, const ImageFrame& frame, const ImageSearchOptions& options);

}  // namespace aic
