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

TEST(short_audio_form_round_trips_and_checks_its_crc) {
  PayloadHeader h;
  h.frameType = FrameType::Audio;
  h.codec = CodecKind::NeuralAudio;
  h.qualityLevel = 3;
  h.format = 1;
  h.modelId = modelId("aic-audio-v2", "2.0.0");
  h.sequence = 0x12345678;
  h.dim0 = 48000;
  h.dim1 = (2u << 16) | 960;
  h.timestamp = 0x0123456789ABCDEFull;
  std::vector<uint8_t> body = {9, 8, 7, 6, 5, 4, 3};
  auto p = writeShortAudioPayload(h, body.data(), body.size());
  REQUIRE(p.size() == kShortHeaderSize + body.size() + kShortTrailerSize);
  CHECK(p[0] == kShortAudioMarker);
  ParsedPayload parsed = parsePayload(p.data(), p.size());
  CHECK(parsed.shortAudio);
  CHECK(parsed.modelTag == modelTag(h.modelId));
  CHECK(parsed.header.codec == CodecKind::NeuralAudio && parsed.header.frameType == FrameType::Audio);
  CHECK(parsed.header.qualityLevel == 3 && parsed.header.format == 1);
  CHECK(parsed.header.dim0 == 48000 && parsed.header.dim1 == h.dim1);
  CHECK(parsed.header.sequence == 0x5678);           // low 16 bits
  CHECK(parsed.header.timestamp == 0x89ABCDEFull);   // low 32 bits
  CHECK(parsed.bodyLength == body.size() && std::memcmp(parsed.body, body.data(), body.size()) == 0);
  CHECK(shortAudioCrcMatches(p.data(), p.size(), h.modelId));
  CHECK(!shortAudioCrcMatches(p.data(), p.size(), modelId("aic-audio-v2", "2.0.1")));  // the CRC covers the model id
  // Every single-bit error in the body or header is caught by the 16-bit CRC.
  for (size_t i = 1; i < p.size() - kShortTrailerSize; ++i) {
    auto q = p;
    q[i] ^= 0x04;
    bool caught = true;
    try {
      caught = !shortAudioCrcMatches(q.data(), q.size(), h.modelId);
    } catch (const CoreError&) {
    }
    CHECK(caught);
  }
  auto reserved = p;
  reserved[1] |= 0x80;
  CHECK_THROWS_CODE(parsePayload(reserved.data(), reserved.size()), ErrorCode::CorruptPayload);
  CHECK_THROWS_CODE(parsePayload(p.data(), kShortHeaderSize + 1), ErrorCode::CorruptPayload);
  // Keyframes, fallbacks and other codecs take the full form.
  h.flags = kFlagKeyframe;
  CHECK_THROWS_CODE(writeShortAudioPayload(h, body.data(), body.size()), ErrorCode::InvalidArgument);
  h.flags = 0;
  h.codec = CodecKind::Deflate;
  CHECK_THROWS_CODE(writeShortAudioPayload(h, body.data(), body.size()), ErrorCode::InvalidArgument);
}
