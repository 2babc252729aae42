// Predicted (inter) video frames, issue 16: a frame coded against the reference the receiver
// holds - the last keyframe's (keyframe_reference.h) or predicted frame's reconstruction - with
// 16x16 motion-compensated macroblocks, a learnt residual transform (residual_transform.h) and
// adaptive binary coding (inter_syntax.h). docs/video-codec.md gives the design, docs/bitstream.md
// the format.
//
// An InterStream is one side of a session: a sender keeps the reconstruction its receiver will
// have (computed from its own coded symbols by the decoder's integer path, never from a float
// network), a receiver keeps what it decoded. Each predicted frame names its reference by
// sequence number and carries a check of its pixels (CRC-32C), so a receiver that lost the
// reference, or holds a different one, refuses the frame (ReferenceMissing) instead of showing
// garbage.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "format/bitstream.h"
#include "image/image_codec.h"
#include "video/keyframe_reference.h"
#include "video/motion_search.h"
#include "video/residual_transform.h"

namespace aic::video {

struct InterModelConfig {
  std::string name;
  std::string version;
  ResidualTransform transform;
  /** Per channel: scan index -> natural index of the 8x8 block (most energetic coefficients first). */
  std::array<std::array<uint8_t, kCoefficients>, 3> scan{};
  KeyframeInverse keyframe;
};

class InterModel {
 public:
  explicit InterModel(InterModelConfig config);
  const InterModelConfig& config() const { return config_; }
  uint32_t modelId() const { return modelId_; }
  /** The encoder's float copy of channel c's transform (residual_transform.h). */
  const ForwardTransform& forward(int c) const { return forward_[c]; }

 private:
  InterModelConfig config_;
  uint32_t modelId_;
  std::array<ForwardTransform, 3> forward_;
};

/** The reference of one side: planar R, G, B with an edge-replicated border for motion compensation. */
struct ReferenceFrame {
  static constexpr int kBorder = 96;  // >= kMaxVector / 4 + a macroblock + interpolation taps
  int width = 0, height = 0, stride = 0;
  uint32_t sequence = 0;
  uint32_t check = 0;      // CRC-32C of the R, G and B planes in turn
  uint64_t timestamp = 0;  // of the frame it is: compact predicted frames code theirs relative to it
  std::array<std::vector<uint8_t>, 3> planes;
  std::vector<uint8_t> luma;  // (R + 2G + B + 2) >> 2, unpadded (the sender's motion search)
  bool valid() const { return width > 0; }
  const uint8_t* at(int p, int x, int y) const { return planes[p].data() + static_cast<size_t>(y + kBorder) * stride + (x + kBorder); }
  /** Takes unpadded planes (width x height each) as the new content. */
  void assign(int w, int h, uint32_t seq, const uint8_t* const src[3], bool withLuma);
};

constexpr int kDefaultDecimateLuma = 3, kDefaultDecimateChroma = 14;
/** The rate-distortion decisions' lambda factor (PredictedEncodeOptions::rdLambda; 0: off), chosen by training/video/tune_rd.mjs on motion synthesised from the training photos (training/video/tune-rd.log: -4.1 % BD-rate on PSNR-Y, -7.7 % on SSIM against off, at fixed qp). */
constexpr float kDefaultRdLambda = 0.05f;
constexpr float kDefaultInterDeadzone = 0.30f;
constexpr float kDefaultMotionLambda = 0.0f;

struct PredictedEncodeOptions {
  int qp = 28;
  uint32_t sequence = 0;
  uint64_t timestamp = 0;
  FrameType frameType = FrameType::Video;
  /** Closed loop: passes over qp until the reconstruction's SSIM reaches `aim` and its worst tile `tileAim`. */
  bool score = true;
  double aim = 0;
  double tileAim = 0;
  int maxPasses = 1;
  size_t maxBytes = 0;  // 0: no limit
  int minQp = 0, maxQp = kMaxQp;
  /** The in-loop deblocking filter (video/deblocking.h), signalled by the payload's flag bit 2. */
  bool deblock = true;
  /**
   * Recovery: code against the held reference of `referenceSequence` (the current one or one kept
   * by keepReferences()) instead of the current one: what a receiver that lost frames still holds.
   */
  bool againstSequence = false;
  uint32_t referenceSequence = 0;
  /**
   * Write the compact predicted form (docs/bitstream.md; bitstream version 3, 15 bytes of framing
   * instead of 52) when the frame can take it: its receiver must read version 3.
   */
  bool compact = false;
  /**
   * Macroblock decimation thresholds for Y and for Co/Cg (0: off): a channel whose residual is
   * only a few +-1 coefficients spread down the scan, scoring under the threshold, is not coded
   * (PassEncoder::decimate). The defaults were chosen on motion synthesised from the training
   * photos: training/video/tune_decimation.mjs.
   */
  int decimateLuma = kDefaultDecimateLuma, decimateChroma = kDefaultDecimateChroma;
  /**
   * Rate-distortion decisions (0: off, the SAD rules): a block's coefficients, and among skip, the
   * predicted vector with its residual, the searched vector with its own and intra (tried where its
   * SAD is under the inter prediction's), the macroblock's mode are chosen by the least
   * D + lambda * R, D the squared error of R, G and B over three, R the bits the contexts' current
   * state gives, lambda = rdLambda * step^2 (step the luma quantiser's).
   */
  float rdLambda = kDefaultRdLambda;
  /**
   * Deadzone of the inter blocks' quantiser, q = floor(|c| / step + deadzone): under 0.5 trades a
   * little distortion for many fewer small coefficients (H.264 reference encoders use 1/6 for
   * inter blocks). Intra blocks use 0.38.
   */
  float interDeadzone = kDefaultInterDeadzone;
  /**
   * The motion search's weight of a vector's distance from its predictor, per quarter pixel in SAD
   * units, as a factor of the luma step at the starting qp (0: the search's fixed default, 4).
   */
  float motionLambda = kDefaultMotionLambda;
};

struct PredictedPass {
  int qp = 0;
  size_t bytes = 0;
  double ssim = 0, psnr = 0, worstTileSsim = 0;
  double ms = 0;
};

struct PredictedEncodeResult {
  std::vector<uint8_t> payload;
  int qp = 0;
  bool scored = false;
  double ssim = 0, psnr = 0, worstTileSsim = 0;
  std::vector<PredictedPass> passes;
  int skipped = 0, inter = 0, intra = 0;  // macroblocks of the chosen pass
  Timings timings;                        // preprocess: planes and motion search; postprocess: coding, reconstruction, scores
};

class InterStream {
 public:
  // `image` may be null for a stream whose references come from adoptFrame() only (the core's tests).
  InterStream(std::shared_ptr<const InterModel> model, std::shared_ptr<const ImageCodec> image);

  /**
   * A neural keyframe (sent or received) becomes the reference. Only its bytes are kept here; the
   * reference itself is computed when a predicted frame first needs it, so a side that never
   * predicts pays nothing. Throws what decoding the payload would (corrupt, other model).
   */
  void adoptKeyframe(const uint8_t* payload, size_t length);
  /** Exact pixels both sides hold (planar R, G, B, width x height each) become the reference of `sequence`. */
  void adoptFrame(int width, int height, uint32_t sequence, const uint8_t* const planes[3], uint64_t timestamp = 0);
  /** Forget the reference (the session's reset, a size change). */
  void reset();
  /** True when a reference (or a keyframe waiting to become one) of this size is held. */
  bool hasReference(int width, int height) const;
  /** The sequence number of the reference held; meaningful when one is. */
  uint32_t referenceSequence() const;
  /** Whether any reference (or a keyframe waiting to become one) is held. */
  bool holdsAnyReference() const { return !keyframePayload_.empty() || reference_.valid(); }
  /** The held reference's width and height (0 x 0 when none): a compact predicted frame's size. */
  int referenceWidth() const { return keyframePayload_.empty() ? reference_.width : keyframeWidth_; }
  int referenceHeight() const { return keyframePayload_.empty() ? reference_.height : keyframeHeight_; }
  /**
   * A sender keeps this many references before the current one (0, the default: none), so that a
   * receiver that lost frames can be served a predicted frame against the one it still holds
   * (recovery without a keyframe). Each costs the frame's three planes (0.7 MB at 640x360).
   */
  void keepReferences(int count);
  /** Whether the reference of `sequence` (current or kept) of this size is held. */
  bool holdsReference(uint32_t sequence, int width, int height) const;

  /**
   * Codes `frame` (rgb24, rgba, or i420, converted to R, G, B first and scored as I420) against
   * the reference: one pass per qp tried. The chosen reconstruction waits as pending until
   * commit() makes it the reference (the session may still send something else instead).
   */
  PredictedEncodeResult encode(const ImageFrame& frame, const PredictedEncodeOptions& options);
  void commit();

  /** A receiver's predicted frame: checks the reference it names, decodes, and makes the result the reference. */
  ImageDecodeResult decode(const uint8_t* payload, size_t length, uint8_t* out, size_t outLength);

  /** The reference's planes and check (tests; a keyframe waiting to become one is computed first). */
  const ReferenceFrame& reference() {
    materialise();
    return reference_;
  }
  /** Bytes held for references (the engine's memory accounting). */
  size_t memoryBytes() const;

 private:
  void materialise();

  std::shared_ptr<const InterModel> model_;
  std::shared_ptr<const ImageCodec> image_;
  ReferenceFrame reference_;
  std::vector<uint8_t> keyframePayload_;  // adopted, not yet materialised
  int keyframeWidth_ = 0, keyframeHeight_ = 0;
  uint32_t keyframeSequence_ = 0;
  uint64_t keyframeTimestamp_ = 0;
  MotionField previousField_;
  // The encoder's chosen pass as the reference it will be, built on the encoder's thread (padding,
  // search plane and check), until commit() swaps it in: commit() runs on the JS thread.
  ReferenceFrame pending_;
  // The encoder's working planes, kept from frame to frame (a frame's worth of fresh allocations
  // cost page faults on every frame: about 5 % of a P-frame's CPU time): the source split into
  // R, G, B and luma, and two reconstructions (the pass being made and the best so far).
  std::array<std::vector<uint8_t>, 4> sourceScratch_;
  std::array<std::array<std::vector<uint8_t>, 3>, 2> reconScratch_;
  std::vector<uint8_t> i420Scratch_;  // an I420 frame's pass as its receiver will show it (scored)
  // Earlier references for recovery, oldest first, unpadded (padded again when one is used).
  struct KeptReference {
    int width = 0, height = 0;
    uint32_t sequence = 0;
    uint64_t timestamp = 0;
    std::array<std::vector<uint8_t>, 3> planes;
  };
  std::deque<KeptReference> kept_;
  int keep_ = 0;
  /** The current reference joins the kept ones before something replaces it. */
  void keepCurrent();
  /** The kept reference of `sequence` and this size, or null. */
  const KeptReference* keptReference(uint32_t sequence, int width, int height) const;
  bool hasPending_ = false;
  MotionField pendingField_;
};

}  // namespace aic::video
