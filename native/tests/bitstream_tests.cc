#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "format/bitstream.h"
#include "common/cpu_features.h"
#include "format/crc32c.h"
#include "common/errors.h"
#include "test_harness.h"

using namespace aic;

TEST(crc32c_known_vectors) {
  const char* digits = "123456789";
  CHECK(crc32c(reinterpret_cast<const uint8_t*>(digits), 9) == 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0);
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(crc32c(nullptr, 0) == 0);
}

namespace {
// The definition, a bit at a time: what both fast paths must equal.
uint32_t bitwiseCrc32c(const uint8_t* p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}
}  // namespace

TEST(crc32c_paths_match_the_definition_at_every_length_and_alignment) {
  // The SSE4.2 path (where the CPU has it) and the slicing-by-8 tables (forced), each against the
  // bitwise definition, over lengths around the 8-byte step, odd start addresses and a running CRC.
  std::vector<uint8_t> data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 131 + 7) ^ (i >> 3));
  for (bool baseline : {false, true}) {
    forceBaselinePaths(baseline);
    for (size_t start : {0, 1, 3, 7})
      for (size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255})
        for (uint32_t seed : {0u, 0x12345678u}) CHECK(crc32c(data.data() + start, len, seed) == bitwiseCrc32c(data.data() + start, len, seed));
  }
  forceBaselinePaths(false);
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
  h.timestamp = 0x001F456789ABCDEFull;  // timestamps are at most 2^53 - 1
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
  h.dim0 = 64;
  h.dim1 = 48;
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

namespace {

// A valid payload of `codec` (header fields as the encoder writes them), with `edit` applied to
// its bytes before the CRC is recomputed.
std::vector<uint8_t> payloadWith(CodecKind codec, const std::function<void(std::vector<uint8_t>&)>& edit = {}) {
  PayloadHeader h;
  h.codec = codec;
  h.flags = kFlagKeyframe;
  size_t bodyLength = 20;
  switch (codec) {
    case CodecKind::NeuralImage: h.modelId = 77; h.dim0 = 64; h.dim1 = 48; break;
    case CodecKind::WebP: case CodecKind::Jpeg: h.qualityLevel = 50; h.dim0 = 64; h.dim1 = 48; break;
    case CodecKind::NeuralAudio: h.frameType = FrameType::Audio; h.modelId = 77; h.dim0 = 16000; h.dim1 = (1u << 16) | 320; break;
    case CodecKind::Opus: h.frameType = FrameType::Audio; h.qualityLevel = 16; h.dim0 = 48000; h.dim1 = (2u << 16) | 960; break;
    case CodecKind::Deflate: h.frameType = FrameType::Data; h.dim0 = 100; break;
    case CodecKind::Stored: h.frameType = FrameType::Data; h.dim0 = 20; break;
    case CodecKind::Predicted: h.flags = 0; h.modelId = 77; h.qualityLevel = 28; h.dim0 = 64; h.dim1 = 48; break;
  }
  std::vector<uint8_t> body(bodyLength, 3);
  auto bytes = writePayload(h, body.data(), body.size());
  if (edit) {
    edit(bytes);
    const uint32_t crc = crc32c(bytes.data(), bytes.size() - 4);
    for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  return bytes;
}

void put32le(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::string corruptMessage(const std::vector<uint8_t>& b) {
  try {
    parsePayload(b.data(), b.size());
  } catch (const CoreError& e) {
    if (e.code() == ErrorCode::CorruptPayload) return e.what();
    return std::string("wrong code: ") + e.what();
  }
  return "accepted";
}

}  // namespace

TEST(strict_parser_accepts_what_the_encoder_writes) {
  for (int c = 0; c <= kLastCodec; ++c) {
    auto b = payloadWith(static_cast<CodecKind>(c));
    CHECK(corruptMessage(b) == "accepted");
  }
  // The largest legal timestamp comes back exactly.
  auto b = payloadWith(CodecKind::NeuralImage, [](std::vector<uint8_t>& p) { put32le(p, 32, 0xFFFFFFFFu); put32le(p, 36, 0x1FFFFF); });
  CHECK(parsePayload(b.data(), b.size()).header.timestamp == kMaxTimestamp);
}

TEST(strict_parser_refuses_reserved_bits_junk_and_out_of_range_fields) {
  auto has = [](const std::vector<uint8_t>& b, const char* field) {
    const std::string m = corruptMessage(b);
    const bool ok = m.find(field) != std::string::npos;
    if (!ok) std::fprintf(stderr, "  expected '%s' in: %s\n", field, m.c_str());
    return ok;
  };
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[11] = 1; }), "reserved byte 11"));
  for (int bit = 2; bit < 8; ++bit) CHECK(has(payloadWith(CodecKind::NeuralImage, [bit](auto& p) { p[8] |= 1 << bit; }), "flags"));
  // A predicted frame carries flag bit 2 (deblocked) or nothing: never keyframe, fallback or higher bits.
  CHECK(corruptMessage(payloadWith(CodecKind::Predicted, [](auto& p) { p[8] = kFlagDeblocked; })) == "accepted");
  for (int bit : {0, 1, 3, 7}) CHECK(has(payloadWith(CodecKind::Predicted, [bit](auto& p) { p[8] |= 1 << bit; }), "flags"));
  CHECK(has(payloadWith(CodecKind::Opus, [](auto& p) { p[8] |= kFlagDeblocked; }), "flags"));
  // Header lengths other than 40, with the junk they would cover (the total length kept right).
  for (int len : {41, 44, 100, 255}) {
    auto p = payloadWith(CodecKind::NeuralImage);
    p.insert(p.begin() + 40, len - 40, 0xEE);
    p[5] = static_cast<uint8_t>(len);
    const uint32_t crc = crc32c(p.data(), p.size() - 4);
    for (int i = 0; i < 4; ++i) p[p.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
    CHECK(has(p, "header length"));
  }
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[5] = 39; }), "header length"));
  // The frame type must be one the codec carries.
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[6] = 1; }), "frame type"));
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[6] = 3; }), "frame type"));
  CHECK(has(payloadWith(CodecKind::Jpeg, [](auto& p) { p[6] = 1; }), "frame type"));
  CHECK(has(payloadWith(CodecKind::NeuralAudio, [](auto& p) { p[6] = 0; }), "frame type"));
  CHECK(has(payloadWith(CodecKind::Opus, [](auto& p) { p[6] = 2; }), "frame type"));
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[6] = 4; }), "frame type"));
  CHECK(corruptMessage(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[6] = 2; })) == "accepted");  // screen
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[7] = 7; }), "codec"));
  // Formats, dimensions, audio fields.
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { p[10] = 3; }), "format"));
  CHECK(has(payloadWith(CodecKind::NeuralAudio, [](auto& p) { p[10] = 2; }), "format"));
  CHECK(has(payloadWith(CodecKind::Stored, [](auto& p) { p[10] = 1; }), "format"));
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { put32le(p, 20, 0); }), "width"));
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { put32le(p, 24, 16385); }), "height"));
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { put32le(p, 20, 16384); put32le(p, 24, 16384); }), "width x height"));
  CHECK(corruptMessage(payloadWith(CodecKind::NeuralImage, [](auto& p) { put32le(p, 20, 8192); put32le(p, 24, 8192); })) == "accepted");
  CHECK(has(payloadWith(CodecKind::NeuralAudio, [](auto& p) { put32le(p, 20, 44100); }), "sample rate"));
  CHECK(has(payloadWith(CodecKind::NeuralAudio, [](auto& p) { put32le(p, 24, (3u << 16) | 320); }), "channels"));
  CHECK(has(payloadWith(CodecKind::NeuralAudio, [](auto& p) { put32le(p, 24, (1u << 16) | 321); }), "samples per channel"));
  CHECK(has(payloadWith(CodecKind::Stored, [](auto& p) { put32le(p, 24, 1); }), "dim1"));
  CHECK(has(payloadWith(CodecKind::Deflate, [](auto& p) { put32le(p, 20, 64u * 1024 * 1024 + 1); }), "original byte length"));
  // Quality levels and model ids of the codecs without a model.
  CHECK(has(payloadWith(CodecKind::Jpeg, [](auto& p) { p[9] = 0; }), "quality level"));
  CHECK(has(payloadWith(CodecKind::WebP, [](auto& p) { p[9] = 101; }), "quality level"));
  CHECK(has(payloadWith(CodecKind::Opus, [](auto& p) { p[9] = 0; }), "quality level"));
  CHECK(has(payloadWith(CodecKind::Stored, [](auto& p) { p[9] = 1; }), "quality level"));
  CHECK(has(payloadWith(CodecKind::Deflate, [](auto& p) { put32le(p, 12, 5); }), "model id"));
  // Lossless bodies: stored exactly the frame's size, deflate smaller than it.
  CHECK(has(payloadWith(CodecKind::Stored, [](auto& p) { put32le(p, 20, 21); }), "body length"));
  CHECK(has(payloadWith(CodecKind::Deflate, [](auto& p) { put32le(p, 20, 20); }), "body length"));
  // Timestamps beyond 2^53 - 1 would come back rounded: corrupt.
  CHECK(has(payloadWith(CodecKind::NeuralImage, [](auto& p) { put32le(p, 36, 0x200000); }), "timestamp"));
}

namespace {
// A compact predicted payload of `coded` against reference (sequence, check, timestamp).
std::vector<uint8_t> compactPredicted(uint32_t sequence, uint64_t timestamp, uint32_t refSequence, uint32_t refCheck, uint64_t refTimestamp, const std::vector<uint8_t>& coded,
                                      FrameType type = FrameType::Video, uint8_t qp = 37, uint8_t flags = kFlagDeblocked, uint8_t format = 1) {
  PayloadHeader h;
  h.codec = CodecKind::Predicted;
  h.frameType = type;
  h.qualityLevel = qp;
  h.flags = flags;
  h.format = format;
  h.modelId = 0xC0FFEE11u;
  h.sequence = sequence;
  h.timestamp = timestamp;
  return writeCompactPredictedPayload(h, refSequence, refCheck, refTimestamp, coded.data(), coded.size());
}
std::string refusal(const std::vector<uint8_t>& p) {
  try {
    parsePayload(p.data(), p.size());
  } catch (const CoreError& e) {
    return e.code() == ErrorCode::CorruptPayload ? e.what() : "other code";
  }
  return "accepted";
}
}  // namespace

TEST(compact_predicted_form_round_trips_relative_to_its_reference) {
  const std::vector<uint8_t> coded = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  // 29.97 fps: 33367 us in 3 LEB128 bytes, one frame on: 15 bytes of framing.
  auto p = compactPredicted(70001, 1700000000033367ull, 70000, 0xA1B2C3D4u, 1700000000000000ull, coded);
  CHECK(p.size() == 15 + coded.size());
  CHECK(compactPredictedFraming(70001, 1700000000033367ull, 70000, 1700000000000000ull) == 15);
  CHECK(p[0] == kCompactVideoMarker && p[1] == (37 | 0x40 | 0x80) && p[2] == modelTag(0xC0FFEE11u));
  CHECK(p[3] == (70000 & 0xFF) && p[4] == ((70000 >> 8) & 0xFF) && p[5] == 0xD4 && p[6] == 0xC3);
  CHECK(p[7] == 1 && p[8] == (33367 & 0x7F | 0x80) && p[9] == ((33367 >> 7) & 0x7F | 0x80) && p[10] == (33367 >> 14));
  const ParsedPayload parsed = parsePayload(p.data(), p.size());
  CHECK(parsed.compactPredicted && !parsed.shortAudio);
  CHECK(parsed.header.codec == CodecKind::Predicted && parsed.header.frameType == FrameType::Video && parsed.header.version == kCompactPredictedVersion);
  CHECK(parsed.header.qualityLevel == 37 && parsed.header.flags == kFlagDeblocked && parsed.header.format == 1);
  CHECK(parsed.referenceSequenceLow == (70000 & 0xFFFF) && parsed.referenceCheckLow == 0xC3D4 && parsed.sequenceDelta == 1 && parsed.timestampDelta == 33367);
  CHECK(parsed.bodyLength == coded.size() && std::memcmp(parsed.body, coded.data(), coded.size()) == 0);
  // The check covers the model id and the reference's whole check, not only its low bits.
  CHECK(compactPredictedCrcMatches(p.data(), p.size(), 0xC0FFEE11u, 0xA1B2C3D4u));
  CHECK(!compactPredictedCrcMatches(p.data(), p.size(), 0xC0FFEE12u, 0xA1B2C3D4u));
  CHECK(!compactPredictedCrcMatches(p.data(), p.size(), 0xC0FFEE11u, 0xA1B3C3D4u));
  auto altered = p;
  altered[12] ^= 4;
  CHECK(!compactPredictedCrcMatches(altered.data(), altered.size(), 0xC0FFEE11u, 0xA1B2C3D4u));
  // Screen, rgb24, no deblocking; sequence numbers wrap; a recovery frame many frames on.
  auto s = compactPredicted(3, 500, 0xFFFFFFFEu, 7, 500, coded, FrameType::Screen, 0, 0, 0);
  const ParsedPayload ps = parsePayload(s.data(), s.size());
  CHECK(s[0] == kCompactScreenMarker && ps.header.frameType == FrameType::Screen && ps.header.flags == 0 && ps.header.format == 0 && ps.sequenceDelta == 5 && ps.timestampDelta == 0);
  auto far = compactPredicted(1000000, 1u << 30, 10, 7, 0, coded);
  CHECK(parsePayload(far.data(), far.size()).sequenceDelta == 999990 && parsePayload(far.data(), far.size()).timestampDelta == (1u << 30));
  // What the form cannot say: the same or an earlier frame, a timestamp before the reference's.
  CHECK(compactPredictedFraming(10, 0, 10, 0) == 0);
  CHECK(compactPredictedFraming(10, 99, 11, 0) == 0);
  CHECK(compactPredictedFraming(11, 99, 10, 100) == 0);
  CHECK(compactPredictedFraming(10u + 0x80000000u, 0, 10, 0) == 0);
  CHECK_THROWS_CODE(compactPredicted(10, 99, 10, 0, 0, coded), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(compactPredicted(11, 99, 10, 0, 100, coded), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(compactPredicted(11, 99, 10, 0, 0, coded, FrameType::Video, 52), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(compactPredicted(11, 99, 10, 0, 0, {0, 1, 2, 3}), ErrorCode::InvalidArgument);
}

TEST(compact_predicted_parser_refuses_what_no_sender_writes) {
  const std::vector<uint8_t> coded = {0, 9, 8, 7, 6, 5};
  const auto good = compactPredicted(11, 40000, 10, 0x1234, 6667, coded);
  CHECK(refusal(good) == "accepted");
  auto with = [&](const std::function<void(std::vector<uint8_t>&)>& f) {
    auto p = good;
    f(p);
    return refusal(p);
  };
  CHECK(with([](auto& p) { p[1] = (p[1] & 0xC0) | 52; }).find("quality level") != std::string::npos);
  CHECK(with([](auto& p) { p[7] = 0; }).find("sequence difference") != std::string::npos);
  // A sequence difference of 1 written in two bytes (0x81 0x00) is not its shortest form.
  CHECK(with([](auto& p) { p[7] = 0x81; p.insert(p.begin() + 8, 0x00); }).find("shortest") != std::string::npos);
  // 2^31 in five bytes: past 2^31 - 1.
  CHECK(with([](auto& p) { p[7] = 0x80; p.insert(p.begin() + 8, {0x80, 0x80, 0x80, 0x08}); }).find("sequence difference") != std::string::npos);
  // A varint whose every byte continues runs past its longest form.
  CHECK(with([](auto& p) { p[7] = 0x81; p.insert(p.begin() + 8, {0x80, 0x80, 0x80, 0x80, 0x80}); }).find("longer than") != std::string::npos);
  // 2^53 microseconds after the reference.
  CHECK(with([](auto& p) { p.erase(p.begin() + 8, p.begin() + 11); p.insert(p.begin() + 8, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10}); }).find("timestamp difference") != std::string::npos);
  // Truncated: too short for the least coded data, or cut inside a varint.
  CHECK(refusal(std::vector<uint8_t>(good.begin(), good.begin() + 17)).find("truncated") != std::string::npos);
  std::vector<uint8_t> cut = {kCompactVideoMarker, 30, 1, 10, 0, 0x34, 0x12, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81};
  CHECK(refusal(cut) != "accepted");
}
