#include "entropy/rans.h"

#include <algorithm>
#include <stdexcept>

namespace aic::entropy {

// Division by multiplication (Granlund and Montgomery): for x < 2^31 and 1 <= freq <= 2^16,
// with L = ceil(log2 freq) and m = ceil(2^(31+L) / freq), floor(x / freq) = (x * m) >> (31 + L)
// exactly, because m * freq - 2^(31+L) < freq <= 2^L. x * m < 2^31 * 2^32 fits in 64 bits.
EncSymbol EncSymbol::make(uint32_t start, uint32_t freq) {
  EncSymbol s;
  s.start = start;
  s.freq = freq;
  uint32_t l = 0;
  while ((1u << l) < freq) ++l;
  s.shift = 31 + l;
  s.multiplier = ((uint64_t(1) << s.shift) + freq - 1) / freq;
  return s;
}

void RansEncoder::put(uint32_t start, uint32_t freq, int scaleBits) {
  if (freq == 1) {
    ops_.push_back({nullptr, start, static_cast<uint32_t>(scaleBits), -1});
    return;
  }
  if (scaleBits != kMaxScaleBits) throw std::invalid_argument("rANS: symbols of freq > 1 need a 2^16 total");
  owned_.push_back(EncSymbol::make(start, freq));
  ops_.push_back({nullptr, 0, 0, static_cast<int32_t>(owned_.size() - 1)});
}

void RansEncoder::putBits(uint32_t value, int bits) {
  // Low 16 bits first in decode order.
  while (bits > 0) {
    int n = std::min(bits, kMaxScaleBits);
    ops_.push_back({nullptr, value & ((1u << n) - 1), static_cast<uint32_t>(n), -1});
    value = n == 32 ? 0 : value >> n;
    bits -= n;
  }
}

void RansReverseWriter::rawBits(uint32_t value, int bits) {
  // Decode order is low 16 bits first, so write the highest chunk first.
  int chunks = (bits + kMaxScaleBits - 1) / kMaxScaleBits;
  for (int c = chunks - 1; c >= 0; --c) {
    int n = std::min(kMaxScaleBits, bits - c * kMaxScaleBits);
    raw((value >> (c * kMaxScaleBits)) & ((1u << n) - 1), n);
  }
}

std::vector<uint8_t> RansReverseWriter::finish() {
  for (int i = 0; i < 4; ++i) {
    out_.push_back(static_cast<uint8_t>(x_ & 0xff));
    x_ >>= 8;
  }
  std::reverse(out_.begin(), out_.end());  // the decoder reads forwards: state first, big-endian
  std::vector<uint8_t> out = std::move(out_);
  out_ = {};
  x_ = kRansLow;
  return out;
}

std::vector<uint8_t> RansEncoder::finish() {
  RansReverseWriter w;
  for (size_t i = ops_.size(); i-- > 0;) {
    const Op& op = ops_[i];
    if (op.symbol || op.owned >= 0) {
      w.symbol(op.symbol ? *op.symbol : owned_[op.owned]);
    } else {
      w.raw(op.start, static_cast<int>(op.scaleBits));
    }
  }
  ops_.clear();
  owned_.clear();
  return w.finish();
}

RansDecoder::RansDecoder(const uint8_t* data, size_t length) : data_(data), length_(length) {
  if (length < 4) {
    ok_ = false;
    return;
  }
  state_ = (uint32_t(data[0]) << 24) | (uint32_t(data[1]) << 16) | (uint32_t(data[2]) << 8) | uint32_t(data[3]);
  pos_ = 4;
  if (state_ < kRansLow) ok_ = false;
}

void RansDecoder::advance(uint32_t start, uint32_t freq, int scaleBits) {
  const uint32_t mask = (1u << scaleBits) - 1;
  state_ = freq * (state_ >> scaleBits) + (state_ & mask) - start;
  while (state_ < kRansLow) {
    if (pos_ >= length_) {
      ok_ = false;
      state_ = kRansLow;  // keep the arithmetic defined; the caller checks ok()
      return;
    }
    state_ = (state_ << 8) | data_[pos_++];
  }
}

uint32_t RansDecoder::getBits(int bits) {
  uint32_t value = 0;
  int shift = 0;
  while (bits > 0) {
    int n = std::min(bits, kMaxScaleBits);
    uint32_t v = peek(n);
    advance(v, 1, n);
    value |= v << shift;
    shift += n;
    bits -= n;
  }
  return value;
}

}  // namespace aic::entropy
