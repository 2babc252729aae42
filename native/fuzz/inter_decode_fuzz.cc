// (3c) Predicted (inter) video frames, bitstream version 2, codec 7: InterStream::decode with the
// real inter model (models/aic-inter-v1, configured as loadInterCodec does: build/fuzz/inter.cfg)
// and the real image model whose keyframes start a chain (build/fuzz/image.cfg).
//
// References: the neural image payloads among the seeds (corpus/inter_decode/, written by
// make-corpus.mjs with the predicted frames coded against them) are adopted once at start-up as
// keyframes; their reconstructions (width, height, sequence, check) are what an input may name.
// Before every input the stream is reset and given the reference of the input's size and
// sequence afresh (adoptKeyframe, so that its materialisation runs too), so inputs are
// independent. The mutator writes version 2, codec 7, the inter model's id and, most of the time,
// one held reference's size, sequence and check into the header and the body's first 8 bytes,
// so that mutated bodies get past the reference check into the macroblock decoder.
//
// Three kinds of input, by their first byte and codec:
//  - a predicted payload, with the full header or in the compact form (first byte 0xA8 / 0xA9,
//    bitstream version 3, or 0xAA / 0xAB of an I420 stream, version 4; its reference named by the low 16 bits of sequence and check, and the
//    mutator recomputes its check, which covers the whole reference check, most of the time):
//    decoded (a new vector), then decoded again into a caller buffer from the same reference;
//    both must agree.
//  - a neural image payload (codec 0, version 1) of at most 64 x 64: adopted as a keyframe and
//    materialised (ImageCodec::decodeSymbols, keyframeReference on hostile symbols).
//  - 'R' + a schedule + bytes: the adaptive binary range decoder directly (BinaryDecoder): the
//    schedule's context bits and bypass bits are read until the stream runs out, then the symbols
//    read are coded again (BinaryEncoder) and must decode back to themselves, ending cleanly.
#include "entropy/binary_coder.h"
#include "fuzz_common.h"

namespace {

constexpr uint32_t kMaxKeyframeDim = 64;

struct Keyframe {
  std::vector<uint8_t> payload;
  int width = 0, height = 0;
  uint32_t sequence = 0, check = 0;
};

std::shared_ptr<aic::ImageCodec> image;
std::shared_ptr<const aic::video::InterModel> model;
std::unique_ptr<aic::video::InterStream> stream;
std::vector<Keyframe> keyframes;

void setup() {
  auto icfg = aicfuzz::imageCfg();
  image = std::make_shared<aic::ImageCodec>(aicfuzz::model(aicfuzz::engine(), icfg), aicfuzz::imageConfig(icfg));
  model = std::make_shared<const aic::video::InterModel>(aicfuzz::interConfig(aicfuzz::interCfg()));
  stream = std::make_unique<aic::video::InterStream>(model, image);
  // The keyframes among the seeds.
  const std::string dir = aicfuzz::fuzzRoot() + "/corpus/inter_decode";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Keyframe k;
    k.payload = aicfuzz::readFile(f);
    if (k.payload.size() < 44 || k.payload[0] != 'A' || k.payload[7] != static_cast<uint8_t>(aic::CodecKind::NeuralImage)) continue;
    stream->reset();
    stream->adoptKeyframe(k.payload.data(), k.payload.size());
    const auto& ref = stream->reference();
    k.width = ref.width;
    k.height = ref.height;
    k.sequence = ref.sequence;
    k.check = ref.check;
    keyframes.push_back(std::move(k));
  }
  if (keyframes.empty()) aicfuzz::finding("no neural image keyframe among the seeds in " + dir + " (run node native/fuzz/make-corpus.mjs)");
  std::fprintf(stderr, "inter_decode: %zu keyframe reference(s), inter model id %u\n", keyframes.size(), model->modelId());
}

// The held reference an input names: its size and reference sequence, else its size, else none.
const Keyframe* keyframeFor(uint32_t width, uint32_t height, uint32_t sequence) {
  const Keyframe* sized = nullptr;
  for (const auto& k : keyframes) {
    if (static_cast<uint32_t>(k.width) != width || static_cast<uint32_t>(k.height) != height) continue;
    if (k.sequence == sequence) return &k;
    if (!sized) sized = &k;
  }
  return sized;
}

// AIC_FUZZ_VERBOSE=1: say what became of each predicted input (replaying seeds or a finding).
bool verbose() {
  static const bool v = aicfuzz::envOr("AIC_FUZZ_VERBOSE", "0") != "0";
  return v;
}

// Reset, then the reference: every input starts from the same state.
void adopt(const Keyframe* k) {
  stream->reset();
  if (k) stream->adoptKeyframe(k->payload.data(), k->payload.size());
}

bool compactForm(const uint8_t* data, size_t size) {
  return size >= 1 && aic::isCompactPredictedMarker(data[0]);
}

// The keyframe a compact input names by the low 16 bits of its reference's sequence number and
// check, else by the sequence number's alone.
const Keyframe* keyframeForCompact(const uint8_t* data, size_t size) {
  if (size < aic::kCompactPredictedFixed) return nullptr;
  const uint16_t sequence = static_cast<uint16_t>(data[3] | (data[4] << 8)), check = static_cast<uint16_t>(data[5] | (data[6] << 8));
  const Keyframe* numbered = nullptr;
  for (const auto& k : keyframes) {
    if (static_cast<uint16_t>(k.sequence) != sequence) continue;
    if (static_cast<uint16_t>(k.check) == check) return &k;
    if (!numbered) numbered = &k;
  }
  return numbered;
}

void decodePredicted(const uint8_t* data, size_t size) {
  const Keyframe* k = compactForm(data, size) ? keyframeForCompact(data, size)
                      : size >= 52             ? keyframeFor(aicfuzz::get32(data + 20), aicfuzz::get32(data + 24), aicfuzz::get32(data + 40))
                                               : nullptr;
  adopt(k ? k : &keyframes.front());
  aic::ImageDecodeResult r;
  std::string why;
  const bool decoded = aicfuzz::guarded([&] {
    try {
      r = stream->decode(data, size, nullptr, 0);
    } catch (const aic::CoreError& e) {
      if (verbose()) why = std::string(aic::errorCodeName(e.code())) + ": " + e.what();
      throw;
    }
  });
  if (verbose()) std::fprintf(stderr, "inter_decode: %zu bytes: %s\n", size, decoded ? ("decoded " + std::to_string(r.width) + "x" + std::to_string(r.height)).c_str() : why.c_str());
  if (!decoded) return;
  const size_t expected = aic::frameBytes(r.format, r.width, r.height);
  if (r.pixels.size() != expected) aicfuzz::finding("decoded frame has " + std::to_string(r.pixels.size()) + " bytes, expected " + std::to_string(expected));
  if (stream->referenceSequence() != r.header.sequence) aicfuzz::finding("a decoded predicted frame did not become the reference");
  // The same payload from the same reference into a caller's buffer (the other output path).
  adopt(k ? k : &keyframes.front());
  std::vector<uint8_t> out(expected);
  if (!aicfuzz::guarded([&] { stream->decode(data, size, out.data(), out.size()); })) aicfuzz::finding("a predicted frame that decoded once fails from the same reference into a caller buffer");
  if (out != r.pixels) aicfuzz::finding("a predicted frame decodes differently from the same reference");
}

void adoptHostileKeyframe(const uint8_t* data, size_t size) {
  if (size >= 28 && (aicfuzz::get32(data + 20) > kMaxKeyframeDim || aicfuzz::get32(data + 24) > kMaxKeyframeDim)) return;
  stream->reset();
  if (!aicfuzz::guarded([&] { stream->adoptKeyframe(data, size); })) return;
  aicfuzz::guarded([&] { (void)stream->reference(); });
}

// 'R' | contexts - 1 | schedule length - 1 | schedule | stream. A schedule byte under 0xC0 is a
// context-coded bit (context: byte % contexts), else 1..24 bypass bits.
void rangeCoder(const uint8_t* data, size_t size) {
  if (size < 4) return;
  const int contexts = 1 + data[1] % 32;
  const size_t scheduleLength = 1 + data[2] % 32;
  if (size < 3 + scheduleLength) return;
  const uint8_t* schedule = data + 3;
  const uint8_t* bytes = schedule + scheduleLength;
  const size_t length = size - 3 - scheduleLength;
  auto bypassBits = [](uint8_t op) { return 1 + (op & 0x3F) % 24; };
  constexpr size_t kMaxOps = 1 << 16;
  std::vector<uint32_t> symbols;
  {
    aic::entropy::BinaryDecoder d(bytes, length);
    std::vector<aic::entropy::BitContext> ctx(contexts);
    // Up to the symbol that ran past the end (or none, where the stream's first byte is not 0).
    for (size_t i = 0; i < kMaxOps && d.ok(); ++i) {
      const uint8_t op = schedule[i % scheduleLength];
      const uint32_t v = op < 0xC0 ? static_cast<uint32_t>(d.bit(ctx[op % contexts])) : d.bypass(bypassBits(op));
      if (d.ok()) symbols.push_back(v);
    }
  }
  aic::entropy::BinaryEncoder e;
  {
    std::vector<aic::entropy::BitContext> ctx(contexts);
    for (size_t i = 0; i < symbols.size(); ++i) {
      const uint8_t op = schedule[i % scheduleLength];
      if (op < 0xC0) e.bit(ctx[op % contexts], static_cast<int>(symbols[i]));
      else e.bypass(symbols[i], bypassBits(op));
    }
  }
  const std::vector<uint8_t> coded = e.finish();
  aic::entropy::BinaryDecoder d(coded.data(), coded.size());
  std::vector<aic::entropy::BitContext> ctx(contexts);
  for (size_t i = 0; i < symbols.size(); ++i) {
    const uint8_t op = schedule[i % scheduleLength];
    const uint32_t v = op < 0xC0 ? static_cast<uint32_t>(d.bit(ctx[op % contexts])) : d.bypass(bypassBits(op));
    if (v != symbols[i]) aicfuzz::finding("binary coder: symbol " + std::to_string(i) + " of a re-encoded stream decodes to " + std::to_string(v) + ", not " + std::to_string(symbols[i]));
  }
  if (!d.finishedCleanly()) aicfuzz::finding("binary coder: a re-encoded stream of " + std::to_string(symbols.size()) + " symbols does not end cleanly at its last byte");
}

}  // namespace

AIC_FUZZ_HARNESS("inter_decode", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 1 && data[0] == 'R') rangeCoder(data, size);
  else if (size >= 8 && data[0] == 'A' && data[7] == static_cast<uint8_t>(aic::CodecKind::NeuralImage)) adoptHostileKeyframe(data, size);
  else decodePredicted(data, size);
  return 0;
}

// The header of a predicted frame that names a held reference, most of the time; 1 in 8 neural
// image inputs stay keyframes (version 1, the image model's id); range-coder inputs keep their 'R'.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  if (size >= 1 && data[0] == 'R') {
    size = LLVMFuzzerMutate(data, size, maxSize);
    if (size >= 1) data[0] = 'R';
    return size;
  }
  if (compactForm(data, size)) {
    const uint8_t marker = data[0];
    size = LLVMFuzzerMutate(data, size, maxSize);
    if (size < aic::kCompactPredictedFixed + 2 + 5 + aic::kTrailerSize || (seed & 7) == 0) return size;  // 1 in 8 as mutated
    data[0] = (seed >> 3) & 1 ? marker : (marker ^ 1);  // video or screen
    if ((data[1] & 0x3F) > aic::kMaxPredictedQp) data[1] = static_cast<uint8_t>((data[1] & 0xC0) | ((data[1] & 0x3F) % (aic::kMaxPredictedQp + 1)));
    data[2] = aic::modelTag(model->modelId());
    const Keyframe* k = keyframeForCompact(data, size);
    if (!k || ((seed >> 4) & 15) == 0) k = &keyframes[(seed >> 8) % keyframes.size()];
    data[3] = static_cast<uint8_t>(k->sequence);
    data[4] = static_cast<uint8_t>(k->sequence >> 8);
    data[5] = static_cast<uint8_t>(k->check);
    data[6] = static_cast<uint8_t>(k->check >> 8);
    // The check over the inter model id, the reference's whole check and the bytes before it.
    uint8_t prefix[8];
    aicfuzz::put32(prefix, model->modelId());
    aicfuzz::put32(prefix + 4, k->check);
    aicfuzz::put32(data + size - 4, aic::crc32c(data, size - 4, aic::crc32c(prefix, 8)));
    return size;
  }
  aicfuzz::MutatorOptions o;
  o.version = aic::kPredictedVersion;
  o.fixup = [](uint8_t* p, size_t n, unsigned s) {
    if (p[7] == static_cast<uint8_t>(aic::CodecKind::NeuralImage) && ((s >> 17) & 7) == 0) {
      p[4] = aic::kBitstreamVersion;
      aicfuzz::put32(p + 12, image->modelId());
      aicfuzz::put32(p + 20, 1 + aicfuzz::get32(p + 20) % kMaxKeyframeDim);
      aicfuzz::put32(p + 24, 1 + aicfuzz::get32(p + 24) % kMaxKeyframeDim);
      return;
    }
    const bool keep = ((s >> 17) & 15) == 0;  // 1 in 16: the mutation's header fields as they are
    if (keep) return;
    p[7] = static_cast<uint8_t>(aic::CodecKind::Predicted);
    aicfuzz::put32(p + 12, model->modelId());
    if (p[6] != 0 && p[6] != 2) p[6] = (s >> 21) & 1 ? 2 : 0;  // video or screen
    p[8] = (s * 2246822519u) >> 31 ? aic::kFlagDeblocked : 0;  // flags: with and without the in-loop filter
    p[9] %= aic::kMaxPredictedQp + 1;                          // qp
    p[10] &= 1;                                                // rgb24 or rgba
    p[11] = 0;
    p[38] &= 0x1F;  // timestamp under 2^53
    p[39] = 0;
    const Keyframe* k = keyframeFor(aicfuzz::get32(p + 20), aicfuzz::get32(p + 24), n >= 48 ? aicfuzz::get32(p + 40) : 0);
    if (!k || ((s >> 22) & 15) == 0) k = &keyframes[(s >> 26) % keyframes.size()];
    aicfuzz::put32(p + 20, static_cast<uint32_t>(k->width));
    aicfuzz::put32(p + 24, static_cast<uint32_t>(k->height));
    if (n >= 52 && ((s * 2654435761u) >> 27) != 0) {  // mostly (31 in 32): the reference's sequence and check
      aicfuzz::put32(p + 40, k->sequence);
      aicfuzz::put32(p + 44, k->check);
    }
  };
  return aicfuzz::payloadMutate(data, size, maxSize, seed, o);
}
