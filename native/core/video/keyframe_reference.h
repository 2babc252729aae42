// The reference a neural keyframe leaves for the predicted frames after it, computed the same on
// every machine.
//
// The neural decoder is a float network: its pixels can differ by one between CPU instruction
// sets, thread counts and providers, and a chain of predicted frames built on them would drift
// apart on the two sides. So the reference is not the network's output but the linear part of
// the decoder - the learnt inverse block transform of the dequantised latents (the default
// image model's decoder is `inverse(y) + refinement(y)`) - evaluated in integers: symbols times
// the level's inverse gain (2^16 fixed point), times the inverse transform (2^15), plus the bias
// (which carries the +0.5 and x255 of the pixel scale), with 64-bit sums and one rounding shift.
// Only the integer symbols of the payload go in, so both sides get the same pixels bit for bit.
// The receiver shows the network's (better) output; the predicted frames that follow correct
// what the linear part leaves.
#pragma once

#include <cstdint>
#include <vector>

namespace aic::video {

struct KeyframeInverse {
  int coefficients = 192;  // latent channels = 3 * block * block
  int block = 8;
  std::vector<int16_t> weights;   // [out][in], round(W * 2^15)
  std::vector<int32_t> bias;      // [out], round((b + 0.5) * 255 * 2^15)
  /** Per level and latent channel: round(inverse gain * 2^16), from the image model's manifest. */
  std::vector<int32_t> gains16;
  int levels = 0;
};

/**
 * Planar R, G, B (each width x height) of the linear reconstruction of a keyframe's quantised
 * latents (`symbols`: channels x latentHeight x latentWidth, the padded grid) at `level`.
 */
void keyframeReference(const KeyframeInverse& inv, const int32_t* symbols, int level, int latentHeight, int latentWidth, int width, int height, uint8_t* const planes[3]);

}  // namespace aic::video
