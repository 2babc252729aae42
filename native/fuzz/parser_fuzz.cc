// (1) The bitstream parser: parsePayload on any bytes, both the full and the short audio form,
// then the checks that follow it in the decoders (the short form's 16-bit check, splitParts).
// Invariants: the body lies inside the input; a full payload of the standard header length and
// a zero reserved byte is written back byte for byte by writePayload; a short one by
// writeShortAudioPayload when its check matches; a compact predicted one by
// writeCompactPredictedPayload for a reference of its low bits, all but the check (which covers
// the reference's whole check), and that check then matches.
#include "fuzz_common.h"

namespace {
// The check of a short payload covers the model id: fuzz against the shipped audio model's.
const uint32_t kAudioModel = aic::modelId("aic-audio-v2", "2.1.0");
void setup() {}
}  // namespace

AIC_FUZZ_HARNESS("parser", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aic::ParsedPayload p;
  if (!aicfuzz::guarded([&] { p = aic::parsePayload(data, size); })) return 0;
  if (p.body < data || p.bodyLength > size || p.body + p.bodyLength > data + size) aicfuzz::finding("parsed body lies outside the input");
  if (p.shortAudio) {
    const bool ok = aic::shortAudioCrcMatches(data, size, kAudioModel);
    // (The tag is checked by the decoder, not by the check: compare only payloads of this model.)
    if (ok && p.modelTag == aic::modelTag(kAudioModel)) {
      aic::PayloadHeader h = p.header;
      h.modelId = kAudioModel;
      std::vector<uint8_t> again;
      const bool written = aicfuzz::guarded([&] {
        again = p.compactAudio ? aic::writeCompactAudioPayload(h, p.body, p.bodyLength, p.compactStep) : aic::writeShortAudioPayload(h, p.body, p.bodyLength);
      });
      if (written && (again.size() != size || std::memcmp(again.data(), data, size) != 0)) aicfuzz::finding("short or compact payload does not write back identically");
    }
  } else if (p.compactPredicted) {
    aic::PayloadHeader h = p.header;
    h.modelId = 0x1234567u;  // any model id: byte 2, its tag, is left out of the comparison
    const uint32_t refSequence = p.referenceSequenceLow, refCheck = p.referenceCheckLow;
    h.sequence = refSequence + p.sequenceDelta;
    h.timestamp = p.timestampDelta;
    std::vector<uint8_t> again;
    if (!aicfuzz::guarded([&] { again = aic::writeCompactPredictedPayload(h, refSequence, refCheck, 0, p.body, p.bodyLength); })) {
      aicfuzz::finding("a parsed compact predicted payload cannot be written again");
    } else {
      if (again.size() != size || std::memcmp(again.data(), data, 2) != 0 || std::memcmp(again.data() + 3, data + 3, size - 7) != 0) aicfuzz::finding("compact predicted payload does not write back identically");
      if (!aic::compactPredictedCrcMatches(again.data(), again.size(), h.modelId, refCheck)) aicfuzz::finding("a written compact predicted payload fails its own check");
    }
  } else if (data[5] == aic::kHeaderSize && data[11] == 0) {
    auto again = aic::writePayload(p.header, p.body, p.bodyLength);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) aicfuzz::finding("full payload does not write back identically");
  }
  // The part layouts of image bands and audio channels.
  for (int count = 1; count <= 3; ++count) {
    std::vector<std::pair<const uint8_t*, size_t>> parts;
    if (!aicfuzz::guarded([&] { parts = aic::splitParts(p.body, p.bodyLength, count, "part"); })) continue;
    size_t total = 4 * static_cast<size_t>(count - 1);
    for (const auto& part : parts) {
      if (part.first < p.body || part.first + part.second > p.body + p.bodyLength) aicfuzz::finding("splitParts: a part lies outside the body");
      total += part.second;
    }
    if (total != p.bodyLength) aicfuzz::finding("splitParts: parts do not cover the body");
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  aicfuzz::MutatorOptions o;
  o.allowShort = true;
  o.modelId = kAudioModel;
  return aicfuzz::payloadMutate(data, size, maxSize, seed, o);
}
