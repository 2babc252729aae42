// The transform and quantiser of predicted-frame residuals (issue 16), in integers on the
// decoder's side so that sender and receiver reconstruct the same reference to the bit.
//
// A residual block (the current frame minus its motion-compensated prediction) is taken to
// YCoCg (Y = (R + 2G + B) / 4, Co = (R - B) / 2, Cg = (-R + 2G - B) / 4: decorrelated colour whose
// inverse is three additions) and each channel's 8x8 block through a separable transform learnt
// from motion-compensated residuals (training/video/residual_transform.mjs: the Karhunen-Loeve
// transform of their rows and columns): coefficients = V * block * H^T, with V and H orthonormal
// 8x8 matrices per channel, shipped as integers of scale 2^12 (models/aic-inter-v1).
//
// Decoding is exact integer arithmetic: a coefficient q is dequantised to q * step16 (the step
// in 1/16), run through H^T then V^T with 64-bit sums and rounding shifts, and leaves in 1/4 of
// a pixel value; the three channels are combined into R, G, B in those units and only then rounded
// (reconstructBlock). The encoder's forward transform is floating point: only the decoder's half
// needs to be the same everywhere.
#pragma once

#include <array>
#include <cstdint>

namespace aic::video {

constexpr int kTransformSize = 8;
constexpr int kCoefficients = 64;
constexpr int kTransformShift = 12;  // matrix entries are round(m * 2^12)
/** Largest |quantised coefficient| a payload may carry; the encoder clamps to it. */
constexpr int kMaxCoefficient = 4095;
/** Quantiser parameters: step = 2^((qp - 4) / 6) pixel units, qp 4 -> 1, qp 28 -> 16, qp 51 -> 228. */
constexpr int kMaxQp = 51;
/** Chroma (Co, Cg) steps are this many qp above the luma's: the eye and Y-PSNR weigh luma most. */
constexpr int kChromaQpOffset = 3;

struct ChannelTransform {
  std::array<int32_t, kCoefficients> vertical{};    // V[k][n], row-major
  std::array<int32_t, kCoefficients> horizontal{};  // H[k][n]
};

struct ResidualTransform {
  std::array<ChannelTransform, 3> channels;  // Y, Co, Cg
  /** The 8x8 DCT-II (orthonormal) in every channel: the transform before one is learnt, and the tests' reference. */
  static ResidualTransform dct();
};

/** The quantiser step of `qp` in 1/16 of a coefficient unit (exact, from a table of six). */
int32_t quantiserStep16(int qp);
/** The qp of a channel (0 luma, 1-2 chroma) at frame qp `qp`. */
inline int channelQp(int qp, int channel) { return channel == 0 ? qp : (qp + kChromaQpOffset > kMaxQp ? kMaxQp : qp + kChromaQpOffset); }

/**
 * The encoder's float copy of a channel's transform, scale folded in: V, H transposed (so both
 * stages run along rows and vectorise), and a bound on what a block can give: every coefficient's
 * magnitude is at most `bound` times the sum of the block's |values| (max |V| * max |H|).
 */
struct ForwardTransform {
  std::array<float, kCoefficients> v{};   // V[k][n] / 2^12
  std::array<float, kCoefficients> ht{};  // H[l][m] / 2^12 at [m][l]
  float bound = 0;
};
ForwardTransform prepareForward(const ChannelTransform& t);

/**
 * Encoder: the coefficients of one channel's 8x8 residual block (`block`, row-major, in pixel
 * units) as floats, in the same basis the decoder inverts.
 */
void forwardTransform(const ForwardTransform& t, const float* block, float* coefficients);
void forwardTransform(const ChannelTransform& t, const float* block, float* coefficients);

/**
 * Decoder (and the encoder's own reconstruction): the residual of one channel's block from its
 * quantised coefficients, in 1/4 pixel units. `step16` is quantiserStep16 of the channel's qp.
 * Exact on every machine.
 */
void inverseTransform(const ChannelTransform& t, const int16_t* q, int32_t step16, int32_t* residual4);

/**
 * R, G, B residuals in 1/4 pixel units from the channels' (nullptr: an all-zero channel), added to
 * the prediction (planar R, G, B of the block, stride `stride`) and rounded and clamped into `out`.
 */
void reconstructBlock(const int32_t* y4, const int32_t* co4, const int32_t* cg4, const uint8_t* const predicted[3], int predStride, uint8_t* const out[3],
                      int outStride, int w, int h);

}  // namespace aic::video
