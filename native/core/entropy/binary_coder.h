// An adaptive binary range coder: the entropy coder of predicted (inter) frames.
//
// The intra path codes latents with static tables (rANS, cdf_tables.h) because their statistics
// are learnt once per model. A predicted frame's symbols (block modes, motion vector differences,
// residual coefficients) vary with the content from frame to frame - a still scene skips nearly
// every block, a pan skips none - so each binary decision is coded with a probability that adapts
// as the frame is coded, on both sides alike.
//
// The coder is a byte-oriented range coder with carry propagation (the design LZMA made common):
// a 32-bit range, 12-bit probabilities of a 0 (the state of a context), updated after every bit
// by p += (4096 - p) >> 5 on a 0 and p -= p >> 5 on a 1, and "bypass" bits of probability 1/2
// for signs and the tails of large values. Every operation is integer: a stream decodes to the
// same symbols on any machine. The decoder never reads out of bounds: past the end it reads zero
// bytes and records an overrun, which the caller reports as a corrupt payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aic::entropy {

/** The adaptive state of one binary context: the probability of a 0, in 1/4096 (1..4095). */
struct BitContext {
  uint16_t p0 = 2048;
};

class BinaryEncoder {
 public:
  BinaryEncoder() { out_.reserve(4096); }
  void bit(BitContext& c, int bit) {
    const uint32_t bound = (range_ >> kProbBits) * c.p0;
    if (bit == 0) {
      range_ = bound;
      c.p0 = static_cast<uint16_t>(c.p0 + ((kProbOne - c.p0) >> kAdaptShift));
    } else {
      low_ += bound;
      range_ -= bound;
      c.p0 = static_cast<uint16_t>(c.p0 - (c.p0 >> kAdaptShift));
    }
    while (range_ < kTop) {
      range_ <<= 8;
      shiftLow();
    }
  }
  /** `count` (<= 24) raw bits of `value`, most significant first, each of probability 1/2. */
  void bypass(uint32_t value, int count);
  /** Ends the stream and hands back its bytes; the encoder is fresh again afterwards. */
  std::vector<uint8_t> finish();
  /** Bytes written so far (a lower bound of the final size: the coder holds up to 5 more). */
  size_t bytesSoFar() const { return out_.size() + cacheSize_; }

  static constexpr int kProbBits = 12;
  static constexpr uint32_t kProbOne = 1u << kProbBits;
  static constexpr int kAdaptShift = 5;
  static constexpr uint32_t kTop = 1u << 24;

 private:
  void shiftLow();
  std::vector<uint8_t> out_;
  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  uint64_t cacheSize_ = 1;
};

class BinaryDecoder {
 public:
  BinaryDecoder(const uint8_t* data, size_t length);
  int bit(BitContext& c) {
    const uint32_t bound = (range_ >> BinaryEncoder::kProbBits) * c.p0;
    int b;
    if (code_ < bound) {
      range_ = bound;
      c.p0 = static_cast<uint16_t>(c.p0 + ((BinaryEncoder::kProbOne - c.p0) >> BinaryEncoder::kAdaptShift));
      b = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      c.p0 = static_cast<uint16_t>(c.p0 - (c.p0 >> BinaryEncoder::kAdaptShift));
      b = 1;
    }
    while (range_ < BinaryEncoder::kTop) {
      range_ <<= 8;
      code_ = (code_ << 8) | next();
    }
    return b;
  }
  uint32_t bypass(int count);
  /** False once the decoder needed bytes past the end, or the stream's first byte was not 0. */
  bool ok() const { return ok_; }
  /**
   * True when every byte was consumed and the decoder never ran past the end: a stream whose
   * symbols were all read back ends exactly at its last byte (the encoder's flush is read by the
   * decoder's 4-byte look-ahead), so trailing bytes mean a corrupt or padded stream.
   */
  bool finishedCleanly() const { return ok_ && pos_ == length_; }

 private:
  uint8_t next() {
    if (pos_ < length_) return data_[pos_++];
    ok_ = false;
    return 0;
  }
  const uint8_t* data_;
  size_t length_;
  size_t pos_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint32_t code_ = 0;
  bool ok_ = true;
};

}  // namespace aic::entropy
