#include "entropy/binary_coder.h"

namespace aic::entropy {

// Bytes leave the coder one step late (cache_), followed by cacheSize_ - 1 bytes of 0xFF that a
// carry out of low_ may still turn into 0x00 (adding 1 to the cached byte).
void BinaryEncoder::shiftLow() {
  if (static_cast<uint32_t>(low_) < 0xFF000000u || (low_ >> 32) != 0) {
    const uint8_t carry = static_cast<uint8_t>(low_ >> 32);
    uint8_t pending = cache_;
    do {
      out_.push_back(static_cast<uint8_t>(pending + carry));
      pending = 0xFF;
    } while (--cacheSize_ != 0);
    cache_ = static_cast<uint8_t>(low_ >> 24);
  }
  ++cacheSize_;
  low_ = (low_ & 0x00FFFFFFu) << 8;
}

void BinaryEncoder::bypass(uint32_t value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    range_ >>= 1;
    if ((value >> i) & 1u) low_ += range_;
    while (range_ < kTop) {
      range_ <<= 8;
      shiftLow();
    }
  }
}

std::vector<uint8_t> BinaryEncoder::finish() {
  for (int i = 0; i < 5; ++i) shiftLow();
  std::vector<uint8_t> out;
  out.swap(out_);
  low_ = 0;
  range_ = 0xFFFFFFFFu;
  cache_ = 0;
  cacheSize_ = 1;
  out_.reserve(4096);
  return out;
}

BinaryDecoder::BinaryDecoder(const uint8_t* data, size_t length) : data_(data), length_(length) {
  // The encoder's first byte is the initial cache, always 0 (nothing can carry into it).
  if (next() != 0) ok_ = false;
  for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | next();
}

uint32_t BinaryDecoder::bypass(int count) {
  uint32_t v = 0;
  for (int i = 0; i < count; ++i) {
    range_ >>= 1;
    const uint32_t b = code_ >= range_ ? 1u : 0u;
    if (b) code_ -= range_;
    v = (v << 1) | b;
    while (range_ < BinaryEncoder::kTop) {
      range_ <<= 8;
      code_ = (code_ << 8) | next();
    }
  }
  return v;
}

}  // namespace aic::entropy
