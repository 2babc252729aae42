// Shared pieces of the libFuzzer harnesses (native/fuzz/*_fuzz.cc, built by scripts/fuzz.sh):
//
//  - AIC_FUZZ_HARNESS(name): every harness names itself once; its regression inputs
//    (native/fuzz/regressions/<name>/*) run through it in LLVMFuzzerInitialize, before fuzzing.
//  - Codec configurations: native/fuzz/dump-config.mjs writes the configuration the TypeScript
//    layer builds from a manifest (nativeImageConfig / nativeAudioConfig / readInterModelConfig)
//    into a text file of "key value" and "key count values..." lines; imageConfig / audioConfig /
//    interConfig read it back.
//  - A structure-aware mutator (payloadMutate): libFuzzer's mutation of the bytes, then, most of
//    the time, a header that stays plausible (magic, version, header length, body length, and what
//    the harness's fixup adds) and a recomputed CRC-32C (full form) or 16-bit check (short audio form), so that mutations reach the
//    body decoders instead of dying at the CRC.
//  - checkError(): what a decoder may throw on hostile input. A CoreError of a payload code is a
//    rejection; anything else (InferenceFailed, std::bad_alloc, a non-CoreError exception) is a
//    finding and aborts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "audio/audio_codec.h"
#include "format/bitstream.h"
#include "entropy/cdf_tables.h"
#include "runtime/codec_model.h"
#include "format/crc32c.h"
#include "runtime/engine.h"
#include "common/errors.h"
#include "image/image_codec.h"
#include "video/inter_codec.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t maxSize);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#ifndef AIC_FUZZ_ROOT
#define AIC_FUZZ_ROOT "native/fuzz"
#endif
#ifndef AIC_FUZZ_DATA
#define AIC_FUZZ_DATA "build/fuzz"
#endif

namespace aicfuzz {

inline std::string envOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
// Where the regressions live (native/fuzz) and where the build step put the configs.
inline std::string fuzzRoot() { return envOr("AIC_FUZZ_ROOT", AIC_FUZZ_ROOT); }
inline std::string dataDir() { return envOr("AIC_FUZZ_DATA", AIC_FUZZ_DATA); }

inline std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Runs every file of regressions/<name>/ through the harness (sorted, so the order is stable).
// A regression that still crashes stops the run here, before any fuzzing.
inline void runRegressions(const char* name) {
  const std::string dir = fuzzRoot() + "/regressions/" + name;
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' || e->d_type == DT_DIR) continue;
      files.push_back(dir + "/" + e->d_name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto bytes = readFile(f);
    std::fprintf(stderr, "regression %s (%zu bytes)\n", f.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  if (!files.empty()) std::fprintf(stderr, "%zu regression input(s) of %s passed\n", files.size(), name);
}

// ---- errors -------------------------------------------------------------------------------

// A decoder's rejection of hostile bytes. The payload codes (and InvalidArgument, which the core
// uses for "not this codec's payload" when the mutator changes the codec byte) are fine;
// LIMIT_EXCEEDED is accepted by name so the harnesses keep working when the limits land, and
// REFERENCE_MISSING is a predicted frame's refusal of a reference it does not hold.
inline bool acceptableRejection(const aic::CoreError& e) {
  const std::string code = aic::errorCodeName(e.code());
  return code == "CORRUPT_PAYLOAD" || code == "UNSUPPORTED_VERSION" || code == "MODEL_MISMATCH" || code == "LIMIT_EXCEEDED" || code == "INVALID_ARGUMENT" ||
         code == "REFERENCE_MISSING";
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==aic-fuzz== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs fn(); a rejection returns false, a success true, anything else aborts (a finding).
template <typename Fn>
bool guarded(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const aic::CoreError& e) {
    if (!acceptableRejection(e)) finding(std::string("unexpected error code ") + aic::errorCodeName(e.code()) + ": " + e.what());
    return false;
  } catch (const std::bad_alloc&) {
    finding("std::bad_alloc: an allocation sized by the payload");
  } catch (const std::exception& e) {
    finding(std::string("non-CoreError exception: ") + e.what());
  }
}

// ---- payload fix-ups for the structure-aware mutator ----------------------------------------

inline void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

// Rewrites the CRC-32C of a full payload in place (its header's length field decides where).
inline void fixFullCrc(uint8_t* data, size_t size) {
  if (size < 44) return;
  put32(data + size - 4, aic::crc32c(data, size - 4));
}

// Rewrites the 16-bit check of a short audio payload for `modelId`.
inline void fixShortCrc(uint8_t* data, size_t size, uint32_t modelId) {
  if (size < aic::kCompactHeaderSize + aic::kShortTrailerSize) return;
  const size_t covered = size - aic::kShortTrailerSize;
  std::vector<uint8_t> buf(4 + covered);
  put32(buf.data(), modelId);
  std::memcpy(buf.data() + 4, data, covered);
  const uint32_t c = aic::crc32c(buf.data(), buf.size());
  data[covered] = static_cast<uint8_t>(c);
  data[covered + 1] = static_cast<uint8_t>(c >> 8);
}

struct MutatorOptions {
  uint32_t modelId = 0;      // the id the full header should carry (0: leave it to the mutation)
  uint32_t maxDim = 0;       // clamp an image's width and height into 1..maxDim (0: leave them)
  int codec = -1;            // the codec byte to keep (-1: leave it)
  bool allowShort = false;   // short audio form allowed
  uint8_t version = aic::kBitstreamVersion;  // the version byte it mostly writes (2 for predicted frames)
  // The harness's own fix-ups of a full payload (header fields, the start of the body), after the
  // header's and before the CRC is recomputed: `seed` is the mutator's, for the harness's choices.
  std::function<void(uint8_t* data, size_t size, unsigned seed)> fixup;
};

// libFuzzer mutation, then (7 times in 8) a plausible header and a valid CRC / check. The last
// 1 in 8 is left raw so the header checks themselves stay covered.
inline size_t payloadMutate(uint8_t* data, size_t size, size_t maxSize, unsigned seed, const MutatorOptions& o) {
  size = LLVMFuzzerMutate(data, size, maxSize);
  if ((seed & 7) == 0) return size;
  if (o.allowShort && size >= 1 && data[0] == aic::kShortAudioMarker) {
    if (size < aic::kShortHeaderSize + aic::kShortTrailerSize + 1) return size;
    if ((seed >> 3) & 3) data[1] &= 0x1F;  // reserved bits mostly clear
    fixShortCrc(data, size, o.modelId);
    return size;
  }
  if (o.allowShort && size >= 1 && (data[0] == aic::kCompactAudioStepMarker || data[0] == aic::kCompactAudioSameMarker)) {
    if (size < aic::kCompactHeaderSize + aic::kShortTrailerSize + 1) return size;
    fixShortCrc(data, size, o.modelId);
    return size;
  }
  // The compact predicted form has no fields to keep plausible that the parser does not check
  // itself; its check covers the receiver's reference (inter_decode_fuzz.cc recomputes it).
  if (size >= 1 && aic::isCompactPredictedMarker(data[0])) return size;
  if (size < 44) {
    if (maxSize < 44) return size;
    std::memset(data + size, 0, 44 - size);
    size = 44;
  }
  std::memcpy(data, "AICF", 4);
  if ((seed >> 3) & 15) data[4] = o.version;  // version mostly the harness's (1, or 2 for predicted frames)
  if ((seed >> 7) & 15) data[5] = 40;     // header length mostly 40
  if ((seed >> 11) & 3) {
    if (o.codec >= 0) data[7] = static_cast<uint8_t>(o.codec);
    if (o.modelId) put32(data + 12, o.modelId);
  }
  if (o.maxDim) {
    put32(data + 20, 1 + get32(data + 20) % o.maxDim);
    put32(data + 24, 1 + get32(data + 24) % o.maxDim);
  }
  const size_t header = data[5] < 40 ? 40 : data[5];
  if (size < header + 4) return size;
  if ((seed >> 13) & 15) put32(data + 28, static_cast<uint32_t>(size - header - 4));
  if (o.fixup) o.fixup(data, size, seed);
  fixFullCrc(data, size);
  return size;
}

// ---- configs ------------------------------------------------------------------------------

// The text written by dump-config.mjs: "key value" or "key count v1 .. vcount", whitespace-separated.
class Config {
 public:
  explicit Config(const std::string& path) {
    std::ifstream f(path);
    if (!f) finding("cannot read " + path + " (run scripts/fuzz.sh, which writes it)");
    std::string line;
    while (std::getline(f, line)) {
      std::istringstream s(line);
      std::string key;
      if (!(s >> key)) continue;
      std::vector<std::string> rest;
      std::string t;
      while (s >> t) rest.push_back(t);
      values_[key] = rest;
    }
  }
  bool has(const std::string& k) const { return values_.count(k) != 0; }
  std::string str(const std::string& k) const { return at(k).at(0); }
  int integer(const std::string& k) const { return std::stoi(str(k)); }
  double number(const std::string& k) const { return std::strtod(str(k).c_str(), nullptr); }
  template <typename T>
  std::vector<T> array(const std::string& k) const {
    const auto& v = at(k);
    const size_t n = std::stoul(v.at(0));
    std::vector<T> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<T>(std::strtod(v.at(i + 1).c_str(), nullptr)));
    return out;
  }

 private:
  const std::vector<std::string>& at(const std::string& k) const {
    auto it = values_.find(k);
    if (it == values_.end()) finding("config has no '" + k + "'");
    return it->second;
  }
  std::map<std::string, std::vector<std::string>> values_;
};

inline std::shared_ptr<const aic::entropy::CdfTableSet> tablesOf(const Config& c, int levels, int channels) {
  auto offsets = c.array<int32_t>("tableOffsets");
  auto lengths = c.array<uint32_t>("tableLengths");
  auto cdfs = c.array<uint32_t>("cdfs");
  std::vector<aic::entropy::CdfTable> tables(offsets.size());
  size_t at = 0;
  for (size_t i = 0; i < tables.size(); ++i) {
    tables[i].offset = offsets[i];
    tables[i].cdf.assign(cdfs.begin() + at, cdfs.begin() + at + lengths[i]);
    at += lengths[i];
  }
  std::vector<uint8_t> predicted;
  if (c.has("predictedChannels")) predicted = c.array<uint8_t>("predictedChannels");
  std::vector<uint16_t> groups;
  if (c.has("tableGroups")) groups = c.array<uint16_t>("tableGroups");
  return std::make_shared<aic::entropy::CdfTableSet>(levels, channels, c.integer("contexts"), std::move(tables), std::move(predicted), std::move(groups));
}

inline aic::ImageCodecConfig imageConfig(const Config& c) {
  aic::ImageCodecConfig ic;
  ic.name = c.str("name");
  ic.version = c.str("version");
  ic.latentChannels = c.integer("latentChannels");
  ic.downsample = c.integer("downsample");
  ic.paddingMultiple = c.integer("paddingMultiple");
  ic.levels = c.integer("levels");
  ic.gains = c.array<float>("gains");
  ic.inverseGains = c.array<float>("inverseGains");
  ic.roundingOffsets = c.array<float>("roundingOffsets");
  ic.encoderInput = c.str("encoderInput");
  ic.encoderOutput = c.str("encoderOutput");
  ic.decoderInput = c.str("decoderInput");
  ic.decoderOutput = c.str("decoderOutput");
  ic.tables = tablesOf(c, ic.levels, ic.latentChannels);
  return ic;
}

inline aic::AudioCodecConfig audioConfig(const Config& c) {
  aic::AudioCodecConfig ac;
  ac.name = c.str("name");
  ac.version = c.str("version");
  ac.sampleRate = c.integer("sampleRate");
  ac.frameSamples = c.integer("frameSamples");
  ac.bins = c.integer("bins");
  ac.levels = c.integer("levels");
  ac.gains = c.array<float>("gains");
  ac.inverseGains = c.array<float>("inverseGains");
  ac.encoderFrame = c.str("encoderFrame");
  ac.encoderState = c.str("encoderState");
  ac.encoderLatent = c.str("encoderLatent");
  ac.encoderNextState = c.str("encoderNextState");
  ac.decoderLatent = c.str("decoderLatent");
  ac.decoderState = c.str("decoderState");
  ac.decoderFrame = c.str("decoderFrame");
  ac.decoderNextState = c.str("decoderNextState");
  if (c.has("frameScale.alpha")) {
    ac.frameScale.enabled = true;
    ac.frameScale.alpha = static_cast<float>(c.number("frameScale.alpha"));
    ac.frameScale.reference = static_cast<float>(c.number("frameScale.reference"));
    ac.frameScale.stepLog2 = static_cast<float>(c.number("frameScale.stepLog2"));
    ac.frameScale.min = c.integer("frameScale.min");
    ac.frameScale.max = c.integer("frameScale.max");
  }
  ac.spectralFill = c.has("spectralFill") && c.str("spectralFill") == "true";
  ac.tables = tablesOf(c, ac.levels, ac.codedChannels());
  return ac;
}

inline std::shared_ptr<aic::Engine> engine() {
  aic::EngineOptions o;
  o.provider = aic::ProviderPreference::Cpu;
  o.intraOpThreads = 1;
  return std::make_shared<aic::Engine>(o);
}

inline std::shared_ptr<aic::CodecModel> model(const std::shared_ptr<aic::Engine>& e, const Config& c) {
  aic::ModelLoadRequest r;
  r.name = c.str("name") + "@" + c.str("version");
  r.encoder.path = c.str("encoderPath");
  r.decoder.path = c.str("decoderPath");
  return std::make_shared<aic::CodecModel>(e, r);
}

// The native InterModel's configuration as loadInterCodec builds it (readInterModelConfig in
// src/inter-codec.ts: the transform, the scan orders, the keyframe inverse and gains).
inline aic::video::InterModelConfig interConfig(const Config& c) {
  aic::video::InterModelConfig ic;
  ic.name = c.str("name");
  ic.version = c.str("version");
  const auto vertical = c.array<int32_t>("vertical"), horizontal = c.array<int32_t>("horizontal");
  const auto scan = c.array<uint32_t>("scan");
  if (vertical.size() != 3 * 64 || horizontal.size() != 3 * 64 || scan.size() != 3 * 64) finding("inter.cfg: vertical, horizontal and scan must hold 3 x 64 values");
  for (int ch = 0; ch < 3; ++ch)
    for (int i = 0; i < 64; ++i) {
      ic.transform.channels[ch].vertical[i] = vertical[ch * 64 + i];
      ic.transform.channels[ch].horizontal[i] = horizontal[ch * 64 + i];
      ic.scan[ch][i] = static_cast<uint8_t>(scan[ch * 64 + i]);
    }
  auto& k = ic.keyframe;
  k.levels = c.integer("levels");
  k.coefficients = c.integer("coefficients");
  k.block = c.integer("block");
  k.weights = c.array<int16_t>("keyframeWeights");
  k.bias = c.array<int32_t>("keyframeBias");
  k.gains16 = c.array<int32_t>("keyframeGains");
  return ic;
}

inline Config imageCfg() { return Config(dataDir() + "/image.cfg"); }
inline Config interCfg() { return Config(dataDir() + "/inter.cfg"); }
inline Config audioCfg() { return Config(dataDir() + "/audio.cfg"); }

}  // namespace aicfuzz

// Each harness states its name once: regressions/<name>/ run at start-up, before fuzzing.
#define AIC_FUZZ_HARNESS(name, setup)                                          \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                         \
    setup();                                                                   \
    aicfuzz::runRegressions(name);                                             \
    return 0;                                                                  \
  }
