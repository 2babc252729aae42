#include "rans.h"

#include <algorithm>

namespace aic::entropy {

void RansEncoder::putBits(uint32_t value, int bits) {
  // Low 16 bits first in decode order.
  while (bits > 0) {
    int n = std::min(bits, kMaxScaleBits);
    put(value & ((1u << n) - 1), 1, n);
    value = n == 32 ? 0 : value >> n;
    bits -= n;
  }
}

std::vector<uint8_t> RansEncoder::finish() {
  std::vector<uint8_t> out;
  out.reserve(ops_.size() / 2 + 8);
  uint32_t x = kRansLow;
  for (size_t i = ops_.size(); i-- > 0;) {
    const Op& op = ops_[i];
    // Renormalise so that the coded state stays below 2^32.
    const uint32_t xMax = ((kRansLow >> op.scaleBits) << 8) * op.freq;
    while (x >= xMax) {
      out.push_back(static_cast<uint8_t>(x & 0xff));
      x >>= 8;
    }
    x = ((x / op.freq) << op.scaleBits) + (x % op.freq) + op.start;
  }
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<uint8_t>(x & 0xff));
    x >>= 8;
  }
  std::reverse(out.begin(), out.end());  // the decoder reads forwards: state first, big-endian
  ops_.clear();
  return out;
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
