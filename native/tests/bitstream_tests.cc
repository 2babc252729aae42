#include <cstring>
#include <random>

#include "../core/bitstream.h"
#include "../core/crc32c.h"
#include "../core/errors.h"
#include "test_harness.h"

using namespace aic;

TEST(crc32c_known_vectors) {
  const char* digits = "123456789";
  CHECK(crc32c(reinterpret_cast<const uint8_t*>(digits), 9) == 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0);
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(crc32c(nullptr, 0) == 0);
}

TEST(payload_round_trips_header_and_body) {
  PayloadHeader h;
  h.frameType = FrameType::Screen;
  h.codec = CodecKind::NeuralImage;
  h.flags = kFlagKeyframe;
  h.qualityLevel = 5;
  h.format = 1;
  h.modelId = modelId("aic-image-v1", "1.0.0");
  h.sequence = 0xDEADBEEF;
  h.dim0 = 1920;
  h.dim1 = 1080;
  h.timestamp = 0x0123456789ABCDEFull;
  std::vector<uint8_t> body = {1, 2, 3, 4, 5, 250};
  auto bytes = writePayload(h, body.data(), body.size());
  CHECK(bytes.size() == kHeaderSize + body.size() + kTrailerSize);
  CHECK(std::memcmp(bytes.data(), "AICF", 4) == 0);
  auto p = parsePayload(bytes.data(), bytes.size());
  CHECK(p.header.frameType == FrameType::Screen);
  CHECK(p.header.flags == kFlagKeyframe);
  CHECK(p.header.qualityLevel == 5 && p.header.format == 1);
  CHECK(p.header.modelId == h.modelId && p.header.sequence == h.sequence);
  CHECK(p.header.dim0 == 1920 && p.header.dim1 == 1080 && p.header.timestamp == h.timestamp);
  CHECK(p.bodyLength == body.size() && std::memcmp(p.body, body.data(), body.size()) == 0);
}

TEST(payload_corruption_is_detected) {
  PayloadHeader h;
  std::vector<uint8_t> body(100, 7);
  auto bytes = writePayload(h, body.data(), body.size());
  CHECK_THROWS_CODE(parsePayload(bytes.data(), 3), ErrorCode::CorruptPayload);
  CHECK_THROWS_CODE(parsePayload(bytes.data(), bytes.size() - 1), ErrorCode::CorruptPayload);
  CHECK_THROWS_CODE(parsePayload(nullptr, 0), ErrorCode::CorruptPayload);
  auto badMagic = bytes;
  badMagic[0] = 'X';
  CHECK_THROWS_CODE(parsePayload(badMagic.data(), badMagic.size()), ErrorCode::CorruptPayload);
  auto future = bytes;
  future[4] = 9;
  CHECK_THROWS_CODE(parsePayload(future.data(), future.size()), ErrorCode::UnsupportedVersion);
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    auto flipped = bytes;
    size_t at = 5 + rng() % (flipped.size() - 5);
    flipped[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    CHECK_THROWS_CODE(parsePayload(flipped.data(), flipped.size()), ErrorCode::CorruptPayload);
  }
}

TEST(model_ids_differ_by_name_and_version) {
  CHECK(modelId("a", "1") != modelId("a", "2"));
  CHECK(modelId("a", "1") != modelId("b", "1"));
  CHECK(modelId("aic-image-v1", "1.0.0") == modelId("aic-image-v1", "1.0.0"));
}
