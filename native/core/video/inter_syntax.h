// The syntax of a predicted frame's coded data (docs/bitstream.md, "Predicted frames"): what is
// coded per 16x16 macroblock and with which adaptive contexts. Each element is written once, as
// a template over the side that runs it: the encoder's side takes the value and codes it, the
// decoder's side ignores the argument and returns what it read, so the two cannot disagree on the
// binarisation or the contexts.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>

#include "entropy/binary_coder.h"

namespace aic::video {

constexpr int kMacroblock = 16;
constexpr int kBlocksPerMacroblock = 12;  // 4 blocks of 8x8 in each of Y, Co, Cg
/** Largest |vector component| in quarter pixels (64 pixels): the reference's border covers it. */
constexpr int kMaxVector = 256;

enum class MacroblockMode : uint8_t { Skip = 0, Inter = 1, Intra = 2 };

struct EncodeSide {
  static constexpr bool kEncoding = true;
  entropy::BinaryEncoder& coder;
  int bit(entropy::BitContext& c, int b) {
    coder.bit(c, b);
    return b;
  }
  uint32_t bypass(uint32_t v, int n) {
    coder.bypass(v, n);
    return v;
  }
};

struct DecodeSide {
  static constexpr bool kEncoding = false;
  entropy::BinaryDecoder& coder;
  int bit(entropy::BitContext& c, int) { return coder.bit(c); }
  uint32_t bypass(uint32_t, int n) { return coder.bypass(n); }
};

/** The adaptive state of a frame: every context starts at 1/2 on each frame (frames decode on their own given the reference). */
struct InterContexts {
  entropy::BitContext skip[3], intra[3];
  entropy::BitContext mvZero[2][3], mvUnary[2][8];
  entropy::BitContext cbf[3][3];
  entropy::BitContext last[3][64];       // binary tree over the 6 bits of the last position
  entropy::BitContext sig[3][16][3];     // channel, position bucket, non-zeros so far (capped)
  entropy::BitContext gt1[3][2][4];      // channel, DC or not, coefficients over one so far
  entropy::BitContext gt2[3][2];
};

/** Exp-Golomb of order k in bypass bits (values up to 2^20). Returns the value (decoded, or given). */
template <class Side>
uint32_t codeExpGolomb(Side& s, uint32_t value, int k, bool& ok) {
  if constexpr (Side::kEncoding) {
    const uint32_t v = value + (1u << k);
    int bits = 0;
    while ((v >> bits) > 1) ++bits;  // bits = floor(log2 v)
    for (int i = k; i < bits; ++i) s.bypass(1, 1);
    s.bypass(0, 1);
    s.bypass(v & ((1u << bits) - 1), bits);
    return value;
  } else {
    int bits = k;
    while (s.bypass(0, 1) == 1) {
      if (++bits > 20) {
        ok = false;
        return 0;
      }
    }
    const uint32_t v = (1u << bits) | s.bypass(0, bits);
    return v - (1u << k);
  }
}

/** One motion vector difference component. */
template <class Side>
int codeVectorComponent(Side& s, InterContexts& ctx, int component, int value, int neighbourMagnitude, bool& ok) {
  const int zc = neighbourMagnitude < 3 ? 0 : (neighbourMagnitude < 17 ? 1 : 2);
  const int nonZero = s.bit(ctx.mvZero[component][zc], value != 0);
  if (!nonZero) return 0;
  const int sign = static_cast<int>(s.bypass(value < 0, 1));
  const int magnitude = std::abs(value);
  // magnitude - 1 as unary over 8 context-coded bins, then Exp-Golomb (order 1) beyond.
  int m = 0;
  for (; m < 8; ++m)
    if (!s.bit(ctx.mvUnary[component][m], magnitude - 1 > m)) break;
  if (m == 8) m += static_cast<int>(codeExpGolomb(s, static_cast<uint32_t>(magnitude - 9 < 0 ? 0 : magnitude - 9), 1, ok));
  const int result = m + 1;
  return sign ? -result : result;
}

/** The position bucket of a scan index: each of the first 8 alone, then 8 groups of 7. */
inline int scanBucket(int i) { return i < 8 ? i : 8 + (i - 8) / 7; }

/**
 * The coefficients of one coded block (at least one non-zero), in scan order: the last non-zero
 * position (6 bits down a binary tree of contexts), then from it back to the first, a
 * significance bit (but at the last), "over one", "over two", the rest in Exp-Golomb, the sign.
 * `q` is in natural order; `scan` maps scan index to natural index.
 */
template <class Side>
void codeBlockCoefficients(Side& s, InterContexts& ctx, int channel, int16_t* q, const uint8_t* scan, bool& ok) {
  int last = 0;
  if constexpr (Side::kEncoding)
    for (int i = 63; i >= 0; --i)
      if (q[scan[i]] != 0) {
        last = i;
        break;
      }
  int node = 1;
  for (int b = 5; b >= 0; --b) {
    const int bit = s.bit(ctx.last[channel][node], (last >> b) & 1);
    node = 2 * node + bit;
  }
  last = node - 64;
  int nonZeros = 0, overOne = 0;
  for (int i = last; i >= 0; --i) {
    int16_t& coef = q[scan[i]];
    int magnitude = Side::kEncoding ? std::abs(coef) : 0;
    if (i != last) {
      const int sig = s.bit(ctx.sig[channel][scanBucket(i)][nonZeros < 2 ? nonZeros : 2], magnitude != 0);
      if (!sig) {
        if constexpr (!Side::kEncoding) coef = 0;
        continue;
      }
    }
    ++nonZeros;
    const int dc = i == 0 ? 1 : 0;
    int m = 1;
    if (s.bit(ctx.gt1[channel][dc][overOne < 3 ? overOne : 3], magnitude > 1)) {
      ++overOne;
      m = 2;
      if (s.bit(ctx.gt2[channel][dc], magnitude > 2)) m = 3 + static_cast<int>(codeExpGolomb(s, static_cast<uint32_t>(magnitude > 3 ? magnitude - 3 : 0), 0, ok));
    }
    const int sign = static_cast<int>(s.bypass(coef < 0, 1));
    if constexpr (!Side::kEncoding) {
      if (m > 4095) {
        ok = false;
        m = 4095;
      }
      coef = static_cast<int16_t>(sign ? -m : m);
    }
  }
}

}  // namespace aic::video
