#include "image/image_search.h"

#include <algorithm>
#include <chrono>

#include "common/errors.h"
#include "image/metrics.h"

namespace aic {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

metrics::ImageScores score(const ImageFrame& original, const uint8_t* reconstruction) {
  if (original.format == PixelFormat::I420) return metrics::i420Scores(original.data, reconstruction, original.width, original.height);
  return metrics::rgbScores(original.data, reconstruction, original.width, original.height, bytesPerPixel(original.format));
}

}  // namespace

ImageSearchResult searchImage(const ImageCodec& codec, const ImageFrame& frame, const ImageSearchOptions& options) {
  const int levels = codec.config().levels;
  if (options.startLevel < 0 || options.startLevel >= levels) {
    throw CoreError(ErrorCode::InvalidArgument, "start level " + std::to_string(options.startLevel) + " is out of range 0.." + std::to_string(levels - 1));
  }
  if (options.maxPasses < 1 || options.maxPasses > levels + 1) throw CoreError(ErrorCode::InvalidArgument, "maxPasses must be 1..levels+1");
  ImageSearchResult result;
  ImageLatents latents = codec.analyse(frame);
  result.timings = latents.timings;
  double codingMs = 0;

  auto codeLevel = [&](int level, std::vector<int32_t>* symbols = nullptr) {
    auto t = Clock::now();
    ImageEncodeOptions o = options.header;
    o.level = level;
    auto payload = codec.code(latents, o, symbols);
    codingMs += msSince(t);
    return payload;
  };

  if (!options.verify) {
    // Open loop: the start level, or the highest level under it that fits the link's share.
    result.level = options.startLevel;
    result.payload = codeLevel(options.startLevel);
    while (options.maxBytes > 0 && result.payload.size() > options.maxBytes && result.level > 0) result.payload = codeLevel(--result.level);
    result.passes.push_back({result.level, result.payload.size(), 0, 0, 0, 0, 0});
    result.timings.postprocessMs = codingMs;
    return result;
  }

  std::vector<uint8_t> reconstruction(frameBytes(frame.format, frame.width, frame.height));
  std::vector<std::vector<uint8_t>> payloads(levels);
  std::vector<char> tried(levels, 0);
  int best = -1;       // lowest level known to reach the aim
  int highest = -1;    // best-scoring level tried (for when none reaches the aim)
  double highestSsim = 0;
  std::vector<int32_t> symbols;
  auto measure = [&](int level) {
    tried[level] = 1;
    payloads[level] = codeLevel(level, &symbols);
    ImageSearchPass p;
    p.level = level;
    p.bytes = payloads[level].size();
    // What the receiver will decode, from the symbols just coded: the rANS round trip is lossless,
    // so it is skipped (ImageCodec::reconstruct).
    auto td = Clock::now();
    const Timings decoded = codec.reconstruct(symbols.data(), level, frame.width, frame.height, frame.format, reconstruction.data());
    p.decodeMs = msSince(td);
    result.timings.inferenceMs += decoded.inferenceMs;
    auto ts = Clock::now();
    metrics::ImageScores s = score(frame, reconstruction.data());
    p.scoreMs = msSince(ts);
    codingMs += decoded.preprocessMs + decoded.postprocessMs + p.scoreMs;
    p.ssim = s.ssim;
    p.psnr = s.psnr;
    p.worstTileSsim = s.worstTileSsim;
    result.passes.push_back(p);
    if (highest < 0 || p.ssim > highestSsim) {
      highest = level;
      highestSsim = p.ssim;
    }
    const bool reached = p.ssim >= options.aim && p.worstTileSsim >= options.tileAim;
    if (reached) best = best < 0 ? level : std::min(best, level);
    return reached;
  };

  if (options.bisect) {
    // Invariant: every level below lo misses the aim; hi reaches it (or is the top, untested).
    int lo = 0, hi = levels - 1;
    int passes = 0;
    if (options.hinted) {
      // A prior says where the answer probably is: bracket it there first (two passes when the
      // prior is right: the start level reaches, the one below misses), then bisect what is left.
      const int s = options.startLevel;
      ++passes;
      if (measure(s)) {
        hi = s;
        if (s > 0 && passes < options.maxPasses) {
          ++passes;
          if (measure(s - 1)) hi = s - 1;
          else lo = s;
        }
      } else {
        lo = std::min(s + 1, levels - 1);
        if (s + 1 < levels && passes < options.maxPasses) {
          ++passes;
          if (measure(s + 1)) hi = s + 1;
          else lo = std::min(s + 2, levels - 1);
        }
      }
    }
    while (lo < hi && passes < options.maxPasses) {
      const int mid = (lo + hi) / 2;
      ++passes;
      if (measure(mid)) hi = mid;
      else lo = mid + 1;
    }
    // The level found must itself be measured to be sent as verified.
    if (!tried[lo] && passes < options.maxPasses) measure(lo);
  }
  int level = options.startLevel;
  bool probeDown = options.probeDown;
  for (int pass = 0; !options.bisect && pass < options.maxPasses && level >= 0 && level < levels && !tried[level]; ++pass) {
    if (measure(level)) {
      // Reached: stop, unless asked to look one level lower (once) and it is untried.
      if (probeDown && level > 0 && !tried[level - 1]) {
        probeDown = false;
        level = level - 1;
        continue;
      }
      break;
    }
    // Missed the aim: one level up, unless a higher level is already known to reach it.
    if (best >= 0) break;
    level = level + 1;
  }
  int chosen = best >= 0 ? best : highest;
  if (options.maxBytes > 0 && payloads[chosen].size() > options.maxBytes) {
    // The link's share is a hard limit: the best score that fits is the highest level that fits
    // (sizes rise with the level). Coding alone tells a level's size; only the one chosen is
    // decoded and scored, so the receiver's score is still the one reported.
    int fit = -1;
    for (int l = chosen - 1; l >= 0 && fit < 0; --l) {
      if (payloads[l].empty()) payloads[l] = codeLevel(l);
      if (payloads[l].size() <= options.maxBytes) fit = l;
    }
    chosen = fit >= 0 ? fit : 0;
    if (payloads[chosen].empty()) payloads[chosen] = codeLevel(chosen);
    bool measured = false;
    for (const auto& p : result.passes) measured = measured || p.level == chosen;
    if (!measured) {
      tried[chosen] = 0;
      std::vector<uint8_t> keep = payloads[chosen];
      measure(chosen);  // codes it again (deterministic) and scores it
      payloads[chosen] = std::move(keep);
    }
  }
  result.level = chosen;
  result.payload = std::move(payloads[chosen]);
  result.verified = true;
  for (const auto& p : result.passes)
    if (p.level == chosen) {
      result.ssim = p.ssim;
      result.psnr = p.psnr;
      result.worstTileSsim = p.worstTileSsim;
    }
  result.aimMet = result.ssim >= options.aim && result.worstTileSsim >= options.tileAim &&
                  (options.maxBytes == 0 || result.payload.size() <= options.maxBytes);
  result.timings.postprocessMs = codingMs;
  return result;
}

}  // namespace aic
