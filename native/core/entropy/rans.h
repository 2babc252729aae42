// A byte-wise range asymmetric numeral system (rANS) coder with a 32-bit state.
//
// Symbols are described by (start, freq) in a total of 2^scaleBits (scaleBits <= 16), so static
// fixed-point CDF tables and raw "bypass" bits go through the same coder. rANS is last-in
// first-out: the encoder records operations in decode order and codes them backwards in finish().
// Decoding is integer-only and bit-exact on any machine. A corrupt stream never reads out of
// bounds: the decoder reports it through ok() instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aic::entropy {

constexpr uint32_t kRansLow = 1u << 23;  // lower bound of the normalised state
constexpr int kMaxScaleBits = 16;

// A symbol of a 16-bit table prepared for fast encoding: x / freq becomes a multiplication and a
// shift (exact for the x < 2^31 the encoder divides; see rans.cc).
struct EncSymbol {
  uint32_t start = 0;
  uint32_t freq = 1;
  uint64_t multiplier = 0;
  uint32_t shift = 0;
  static EncSymbol make(uint32_t start, uint32_t freq);
};

// The coding core: symbols must be given in REVERSE decode order (rANS is last-in first-out).
// Used directly by the CDF-table coder, which can walk its data backwards, and by RansEncoder.
class RansReverseWriter {
 public:
  RansReverseWriter() { out_.reserve(4096); }
  void symbol(const EncSymbol& s) {
    // Renormalise so that the coded state stays below 2^32 (and x < 2^31 for the division).
    const uint32_t xMax = ((kRansLow >> kMaxScaleBits) << 8) * s.freq;
    while (x_ >= xMax) {
      out_.push_back(static_cast<uint8_t>(x_ & 0xff));
      x_ >>= 8;
    }
    const uint32_t q = static_cast<uint32_t>((uint64_t(x_) * s.multiplier) >> s.shift);
    x_ = (q << kMaxScaleBits) + (x_ - q * s.freq) + s.start;
  }
  // `value` of `bits` (<= 16) raw bits: freq 1 in a total of 2^bits, no division.
  void raw(uint32_t value, int bits) {
    const uint32_t xMax = (kRansLow >> bits) << 8;
    while (x_ >= xMax) {
      out_.push_back(static_cast<uint8_t>(x_ & 0xff));
      x_ >>= 8;
    }
    x_ = (x_ << bits) + value;
  }
  // Up to 32 raw bits, read back by RansDecoder::getBits (low 16 bits first).
  void rawBits(uint32_t value, int bits);
  std::vector<uint8_t> finish();

 private:
  std::vector<uint8_t> out_;
  uint32_t x_ = kRansLow;
};

// Convenience encoder taking symbols in decode order (it records them and codes them backwards
// in finish()); the tests use it, the CDF-table coder writes backwards itself.
class RansEncoder {
 public:
  // Appends a prepared symbol of a 2^16 table in decode order. The symbol must outlive finish().
  void put(const EncSymbol& symbol) { ops_.push_back({&symbol, 0, 0, -1}); }
  // Appends one symbol (start, freq) in decode order: freq 1 of any 2^scaleBits total (raw bits),
  // or any freq of a 2^16 total.
  void put(uint32_t start, uint32_t freq, int scaleBits);
  // Appends `bits` raw bits of `value` (up to 32), 16 at a time.
  void putBits(uint32_t value, int bits);
  // Codes everything recorded so far; the encoder is empty again afterwards.
  std::vector<uint8_t> finish();

 private:
  struct Op {
    const EncSymbol* symbol;  // a prepared table symbol; null for the kinds below
    uint32_t start;           // raw symbol (freq 1): its value
    uint32_t scaleBits;       // raw symbol: total 2^scaleBits
    int32_t owned;            // >= 0: index of a symbol prepared by put() into owned_
  };
  std::vector<Op> ops_;
  std::vector<EncSymbol> owned_;
};

class RansDecoder {
 public:
  RansDecoder(const uint8_t* data, size_t length);
  // The slot of the next symbol in [0, 2^scaleBits): find the symbol whose [start, start+freq)
  // holds it, then call advance().
  uint32_t peek(int scaleBits) const { return state_ & ((1u << scaleBits) - 1); }
  void advance(uint32_t start, uint32_t freq, int scaleBits);
  uint32_t getBits(int bits);
  // False once the stream ran out of bytes or was too short to start.
  bool ok() const { return ok_; }
  // True when the stream was consumed exactly and the state is back where the encoder started:
  // a strong check that the payload decoded as it was coded.
  bool finishedCleanly() const { return ok_ && pos_ == length_ && state_ == kRansLow; }

 private:
  const uint8_t* data_;
  size_t length_;
  size_t pos_ = 0;
  uint32_t state_ = 0;
  bool ok_ = true;
};

}  // namespace aic::entropy
