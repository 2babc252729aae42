// Predicted frames (issue 16): the adaptive binary coder, the integer residual transform, the
// keyframe reference, and a sender and a receiver InterStream holding the same reference over a
// chain of frames; references missing or different, and corrupt payloads, refused with their codes.
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "common/cpu_features.h"
#include "common/errors.h"
#include "entropy/binary_coder.h"
#include "format/bitstream.h"
#include "format/crc32c.h"
#include "image/metrics.h"
#include "image/yuv.h"
#include "test_harness.h"
#include "video/deblocking.h"
#include "video/inter_codec.h"
#include "video/inter_syntax.h"
#include "video/keyframe_reference.h"
#include "video/residual_transform.h"

using namespace aic;
using namespace aic::video;

namespace {

std::shared_ptr<const InterModel> dctModel() {
  InterModelConfig c;
  c.name = "test-inter";
  c.version = "1";
  c.transform = ResidualTransform::dct();
  // Zig-zag scan.
  for (int ch = 0; ch < 3; ++ch) {
    int i = 0;
    for (int s = 0; s < 15; ++s)
      for (int k = 0; k <= s; ++k) {
        const int r = (s % 2 == 0) ? s - k : k, col = s - r;
        if (r < 8 && col < 8) c.scan[ch][i++] = static_cast<uint8_t>(r * 8 + col);
      }
  }
  c.keyframe.levels = 1;
  return std::make_shared<InterModel>(c);
}

// A smooth, textured RGB scene, moved by (dx, dy) pixels (sub-pixel allowed).
std::array<std::vector<uint8_t>, 3> scene(int w, int h, double dx, double dy, unsigned seed) {
  std::array<std::vector<uint8_t>, 3> p;
  for (int c = 0; c < 3; ++c) {
    p[c].resize(static_cast<size_t>(w) * h);
    std::mt19937 rng(seed + c);
    double a[6];
    for (double& v : a) v = static_cast<double>(rng() % 1000) / 1000.0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double u = x - dx, v = y - dy;
        const double val = 128 + 50 * std::sin(u * (0.05 + 0.05 * a[0]) + a[1] * 6) * std::cos(v * (0.04 + 0.05 * a[2]) + a[3] * 6) + 30 * std::sin((u + v) * (0.11 + 0.1 * a[4]) + a[5]);
        p[c][static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(std::clamp(val, 0.0, 255.0));
      }
  }
  return p;
}

std::vector<uint8_t> interleave(const std::array<std::vector<uint8_t>, 3>& p) {
  std::vector<uint8_t> out(p[0].size() * 3);
  for (size_t i = 0; i < p[0].size(); ++i)
    for (int c = 0; c < 3; ++c) out[i * 3 + c] = p[c][i];
  return out;
}

double psnrPlanes(const std::vector<uint8_t>& interleavedRgb, const ReferenceFrame& ref) {
  double se = 0;
  const size_t n = static_cast<size_t>(ref.width) * ref.height;
  for (int y = 0; y < ref.height; ++y)
    for (int x = 0; x < ref.width; ++x)
      for (int c = 0; c < 3; ++c) {
        const double d = static_cast<double>(interleavedRgb[(static_cast<size_t>(y) * ref.width + x) * 3 + c]) - *ref.at(c, x, y);
        se += d * d;
      }
  const double mse = se / (3.0 * n);
  return mse == 0 ? 100 : 10 * std::log10(255.0 * 255.0 / mse);
}

bool samePlanes(const ReferenceFrame& a, const ReferenceFrame& b) {
  if (a.width != b.width || a.height != b.height) return false;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < a.height; ++y)
      if (std::memcmp(a.at(c, 0, y), b.at(c, 0, y), static_cast<size_t>(a.width)) != 0) return false;
  return true;
}

uint32_t crc32cOf(const std::vector<uint8_t>& payload) { return crc32c(payload.data(), payload.size() - kTrailerSize); }
void fixCrc(std::vector<uint8_t>& b) {
  const uint32_t crc = crc32cOf(b);
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

ErrorCode codeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const CoreError& e) {
    return e.code();
  }
  return static_cast<ErrorCode>(-1);
}

}  // namespace

TEST(binary_coder_round_trips_adaptive_and_bypass_bits) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 5000);
    std::vector<int> bits(n), ctxs(n), raws(n), rawLen(n);
    entropy::BinaryEncoder e;
    entropy::BitContext enc[8];
    const int skew = static_cast<int>(rng() % 100);
    for (int i = 0; i < n; ++i) {
      ctxs[i] = static_cast<int>(rng() % 8);
      bits[i] = static_cast<int>(rng() % 100) < (ctxs[i] < 4 ? skew : 100 - skew) ? 1 : 0;
      rawLen[i] = static_cast<int>(rng() % 4);
      raws[i] = static_cast<int>(rng() & ((1u << rawLen[i]) - 1));
      e.bit(enc[ctxs[i]], bits[i]);
      e.bypass(static_cast<uint32_t>(raws[i]), rawLen[i]);
    }
    const std::vector<uint8_t> out = e.finish();
    entropy::BinaryDecoder d(out.data(), out.size());
    entropy::BitContext dec[8];
    bool same = true;
    for (int i = 0; i < n; ++i) {
      same &= d.bit(dec[ctxs[i]]) == bits[i];
      same &= static_cast<int>(d.bypass(rawLen[i])) == raws[i];
    }
    CHECK(same);
    CHECK(d.finishedCleanly());
  }
}

TEST(binary_coder_compresses_skewed_bits_and_reports_overruns) {
  entropy::BinaryEncoder e;
  entropy::BitContext c;
  for (int i = 0; i < 10000; ++i) e.bit(c, i % 50 == 0);
  const auto out = e.finish();
  // About 10000 * H(0.02) = 1414 bits; adaptive coding pays a little for learning.
  CHECK(out.size() < 260);
  // Truncated: the decoder reads zeros past the end and says so.
  entropy::BinaryDecoder d(out.data(), out.size() / 2);
  entropy::BitContext dc;
  for (int i = 0; i < 10000; ++i) d.bit(dc);
  CHECK(!d.ok());
  // Padded: all symbols read, bytes left over.
  std::vector<uint8_t> padded = out;
  padded.push_back(0);
  entropy::BinaryDecoder p(padded.data(), padded.size());
  entropy::BitContext pc;
  for (int i = 0; i < 10000; ++i) p.bit(pc);
  CHECK(!p.finishedCleanly());
  // A stream must start with the encoder's zero byte.
  const uint8_t bad[6] = {1, 2, 3, 4, 5, 6};
  CHECK(!entropy::BinaryDecoder(bad, 6).ok());
}

TEST(exp_golomb_and_vector_syntax_round_trip) {
  entropy::BinaryEncoder e;
  EncodeSide es{e};
  InterContexts ce;
  bool ok = true;
  std::vector<int> values;
  for (int v = -600; v <= 600; v += 7) values.push_back(v);
  for (int v : values) codeVectorComponent(es, ce, v & 1, v, std::abs(v) % 20, ok);
  for (uint32_t v : {0u, 1u, 2u, 3u, 100u, 4095u, 65535u}) codeExpGolomb(es, v, 0, ok);
  const auto out = e.finish();
  entropy::BinaryDecoder d(out.data(), out.size());
  DecodeSide ds{d};
  InterContexts cd;
  bool same = true;
  for (int v : values) same &= codeVectorComponent(ds, cd, v & 1, 0, std::abs(v) % 20, ok) == v;
  for (uint32_t v : {0u, 1u, 2u, 3u, 100u, 4095u, 65535u}) same &= codeExpGolomb(ds, 0u, 0, ok) == v;
  CHECK(same);
  CHECK(ok);
  CHECK(d.finishedCleanly());
}

TEST(residual_transform_inverts_the_forward_transform_in_integers) {
  const ResidualTransform t = ResidualTransform::dct();
  std::mt19937 rng(11);
  double worst = 0;
  for (int trial = 0; trial < 200; ++trial) {
    float block[64], coef[64];
    for (float& v : block) v = static_cast<float>(static_cast<int>(rng() % 121) - 60);
    forwardTransform(t.channels[0], block, coef);
    // At qp 4 (step 1) the reconstruction is within the rounding of the coefficients.
    int16_t q[64];
    for (int i = 0; i < 64; ++i) q[i] = static_cast<int16_t>(std::lround(coef[i]));
    int32_t r4[64];
    inverseTransform(t.channels[0], q, quantiserStep16(4), r4);
    for (int i = 0; i < 64; ++i) worst = std::max(worst, std::fabs(r4[i] / 4.0 - block[i]));
  }
  CHECK(worst < 2.5);
  // Every machine computes the same integers: a fixed input has a fixed output (recorded here).
  int16_t q[64] = {};
  q[0] = 37;
  q[1] = -5;
  q[9] = 3;
  q[63] = -1;
  int32_t r4[64];
  inverseTransform(t.channels[1], q, quantiserStep16(30), r4);
  int64_t sum = 0, weighted = 0;
  for (int i = 0; i < 64; ++i) {
    sum += r4[i];
    weighted += static_cast<int64_t>(r4[i]) * (i + 1);
  }
  CHECK(quantiserStep16(30) == 10 << 5);
  // Recorded on x86-64; integer arithmetic gives the same on any machine.
  CHECK(sum == 23675);
  CHECK(weighted == 776774);
  // Extremes cannot overflow: the largest coefficients at the coarsest quantiser.
  int16_t big[64];
  for (int i = 0; i < 64; ++i) big[i] = static_cast<int16_t>(i % 2 ? kMaxCoefficient : -kMaxCoefficient);
  inverseTransform(t.channels[0], big, quantiserStep16(kMaxQp + kChromaQpOffset), r4);
}

TEST(forward_transform_bound_covers_every_coefficient) {
  // The encoder skips the transform of a block whose sum of |values| times the bound cannot reach a
  // coefficient: that is exact only if no coefficient ever exceeds bound * sum |values|. Checked on
  // the DCT and on a non-orthogonal integer matrix, on random and on single-spike blocks (where
  // the bound is tight), with the AVX2 and the portable builds agreeing.
  ResidualTransform t = ResidualTransform::dct();
  std::mt19937 rng(5);
  for (auto& v : t.channels[2].vertical) v = static_cast<int32_t>(rng() % 8193) - 4096;
  for (auto& v : t.channels[2].horizontal) v = static_cast<int32_t>(rng() % 8193) - 4096;
  for (int c : {0, 2}) {
    const ForwardTransform f = prepareForward(t.channels[c]);
    for (int trial = 0; trial < 300; ++trial) {
      float block[64], coef[64], portable[64];
      if (trial % 3 == 0) {
        for (float& v : block) v = 0;
        block[rng() % 64] = static_cast<float>(static_cast<int>(rng() % 511) - 255);
      } else {
        for (float& v : block) v = static_cast<float>(static_cast<int>(rng() % 511) - 255) * (trial % 2 ? 1.0f : 0.05f);
      }
      float magnitude = 0;
      for (float v : block) magnitude += std::fabs(v);
      forwardTransform(f, block, coef);
      aic::forceBaselinePaths(true);
      forwardTransform(f, block, portable);
      aic::forceBaselinePaths(false);
      for (int i = 0; i < 64; ++i) {
        CHECK(std::fabs(coef[i]) <= f.bound * magnitude * 1.0001f + 1e-6f);
        CHECK(std::fabs(coef[i] - portable[i]) <= 1e-4f * (1.0f + std::fabs(portable[i])));
      }
    }
  }
}

TEST(deblocking_smooths_coding_steps_and_keeps_real_edges) {
  // A 32x16 frame: a step of 6 between the left and right 8x8 blocks of row 0 (a coding
  // artefact), a step of 200 between the blocks of row 1 (an edge the picture has: over alpha, which
  // at qp 44 is about 1.3 quantiser steps, 131).
  const int w = 32, h = 16;
  std::vector<uint8_t> plane(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) plane[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(y < 8 ? (x < 8 ? 100 : 106) : (x < 8 ? 30 : 230));
  std::vector<uint8_t> g = plane, b = plane;
  uint8_t* planes[3] = {plane.data(), g.data(), b.data()};
  EdgeStrengths s;
  s.resize(4, 2);
  s.left[1] = 1;           // block (1, 0): its left edge at x = 8, row 0
  s.left[4 + 1] = 1;       // block (1, 1): the real edge
  const auto before = plane;
  deblockFrame(planes, w, h, 12, s);  // under qp 16 nothing is filtered
  CHECK(plane == before);
  const DeblockThresholds t = deblockThresholds(44);
  CHECK(t.alpha > 6 && t.alpha < 200 && t.beta >= 2 && t.tc >= 1);
  deblockFrame(planes, w, h, 44, s);
  const int p0 = plane[7], q0 = plane[8];
  CHECK(p0 > 100 && q0 < 106 && q0 - p0 < 6);          // smoothed
  CHECK(plane[8 * w + 7] == 30 && plane[8 * w + 8] == 230);  // kept
  CHECK(g == plane && b == plane);                       // each plane the same way
  CHECK(plane[16] == 106 && plane[24] == 106);           // edges of strength 0 untouched
  // Strength 2 (an intra side) may move a pixel further than strength 1.
  std::vector<uint8_t> big(static_cast<size_t>(w) * h, 100);
  for (int y = 0; y < 8; ++y)
    for (int x = 8; x < w; ++x) big[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(100 + t.alpha - 1);
  std::vector<uint8_t> strong = big, g1 = big, b1 = big, g2 = big, b2 = big;
  uint8_t* p1[3] = {big.data(), g1.data(), b1.data()};
  uint8_t* p2[3] = {strong.data(), g2.data(), b2.data()};
  EdgeStrengths one, two;
  one.resize(4, 2);
  two.resize(4, 2);
  one.left[1] = 1;
  two.left[1] = 2;
  deblockFrame(p1, w, h, 44, one);
  deblockFrame(p2, w, h, 44, two);
  CHECK(strong[7] > big[7]);
}

TEST(keyframe_reference_is_the_linear_block_inverse) {
  KeyframeInverse k;
  k.coefficients = 192;
  k.block = 8;
  k.levels = 1;
  k.weights.assign(192 * 192, 0);
  k.bias.assign(192, static_cast<int32_t>(std::lround(0.5 * 255 * 32768)));
  k.gains16.assign(192, 65536 / 4);  // inverse gain 0.25
  // Latent channel i drives output i with weight 0.5: pixel = 255 * (0.5 * 0.25 * s + 0.5).
  for (int i = 0; i < 192; ++i) k.weights[static_cast<size_t>(i) * 192 + i] = 16384;
  const int lh = 2, lw = 2, w = 12, h = 10;
  std::vector<int32_t> symbols(192 * lh * lw, 0);
  symbols[5 * 4 + 0] = 2;    // channel 5 = R, dy 0, dx 5 of block (0, 0): 255 * 0.75 = 191.25
  symbols[66 * 4 + 3] = -3;  // channel 66 = G, dy 0, dx 2 of block (1, 1): 255 * (0.5 - 0.375) = 31.875
  std::vector<uint8_t> planes(3 * w * h);
  uint8_t* out[3] = {planes.data(), planes.data() + w * h, planes.data() + 2 * w * h};
  keyframeReference(k, symbols.data(), 0, lh, lw, w, h, out);
  CHECK(out[0][5] == 191);
  CHECK(out[1][8 * w + 8 + 2] == 32);
  CHECK(out[2][0] == 128);  // 127.5 rounds up
  CHECK(codeOf([&] { keyframeReference(k, symbols.data(), 1, lh, lw, w, h, out); }) == ErrorCode::InvalidArgument);
}

TEST(inter_streams_hold_the_same_reference_over_a_chain) {
  const auto model = dctModel();
  const int w = 200, h = 120;  // partial macroblocks on both edges
  InterStream sender(model, nullptr), receiver(model, nullptr);
  auto first = scene(w, h, 0, 0, 5);
  const uint8_t* fp[3] = {first[0].data(), first[1].data(), first[2].data()};
  sender.adoptFrame(w, h, 7, fp);
  receiver.adoptFrame(w, h, 7, fp);
  size_t totalBytes = 0;
  for (int k = 1; k <= 8; ++k) {
    auto frame = scene(w, h, 0.75 * k, -0.5 * k, 5);
    const auto rgb = interleave(frame);
    ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
    PredictedEncodeOptions o;
    o.qp = 26;
    o.sequence = 7 + k;
    o.score = true;
    const PredictedEncodeResult r = sender.encode(f, o);
    sender.commit();
    totalBytes += r.payload.size();
    CHECK(r.ssim > 0.9);
    const ImageDecodeResult d = receiver.decode(r.payload.data(), r.payload.size(), nullptr, 0);
    CHECK(d.width == w && d.height == h);
    CHECK(samePlanes(sender.reference(), receiver.reference()));
    CHECK(sender.reference().check == receiver.reference().check);
    CHECK(receiver.referenceSequence() == static_cast<uint32_t>(7 + k));
    CHECK(psnrPlanes(rgb, receiver.reference()) > 30);
  }
  // Motion costs far less than the raw frames (8 x 72,000 bytes).
  CHECK(totalBytes < 8 * 72000 / 10);
  // A still frame is nearly all skipped.
  auto still = scene(w, h, 6, -4, 5);
  const auto rgb = interleave(still);
  ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
  PredictedEncodeOptions o;
  o.sequence = 16;
  PredictedEncodeResult r1 = sender.encode(f, o);
  sender.commit();
  receiver.decode(r1.payload.data(), r1.payload.size(), nullptr, 0);
  o.sequence = 17;
  PredictedEncodeResult r2 = sender.encode(f, o);
  CHECK(r2.skipped * 10 >= (r2.skipped + r2.inter + r2.intra) * 9);
  CHECK(r2.payload.size() < 200);
}

TEST(inter_decode_refuses_missing_references_and_corrupt_payloads) {
  const auto model = dctModel();
  const int w = 64, h = 48;
  InterStream sender(model, nullptr), receiver(model, nullptr);
  auto first = scene(w, h, 0, 0, 9);
  const uint8_t* fp[3] = {first[0].data(), first[1].data(), first[2].data()};
  sender.adoptFrame(w, h, 1, fp);
  auto next = scene(w, h, 1.25, 0.5, 9);
  const auto rgb = interleave(next);
  ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
  PredictedEncodeOptions o;
  o.sequence = 2;
  const auto r = sender.encode(f, o);
  // No reference at all, then the wrong one.
  CHECK(codeOf([&] { receiver.decode(r.payload.data(), r.payload.size(), nullptr, 0); }) == ErrorCode::ReferenceMissing);
  receiver.adoptFrame(w, h, 0, fp);
  CHECK(codeOf([&] { receiver.decode(r.payload.data(), r.payload.size(), nullptr, 0); }) == ErrorCode::ReferenceMissing);
  // The right sequence number but other pixels: the check catches it.
  auto other = scene(w, h, 0, 0, 10);
  const uint8_t* op[3] = {other[0].data(), other[1].data(), other[2].data()};
  receiver.adoptFrame(w, h, 1, op);
  CHECK(codeOf([&] { receiver.decode(r.payload.data(), r.payload.size(), nullptr, 0); }) == ErrorCode::ReferenceMissing);
  receiver.adoptFrame(w, h, 1, fp);
  // Every single-byte change of the coded data (with the CRC fixed up) is refused or decodes: never a crash.
  std::mt19937 rng(1);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<uint8_t> bad = r.payload;
    const size_t at = kHeaderSize + kPredictedPrefix + rng() % (bad.size() - kHeaderSize - kPredictedPrefix - kTrailerSize);
    bad[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    fixCrc(bad);
    InterStream rx(model, nullptr);
    rx.adoptFrame(w, h, 1, fp);
    const ErrorCode c = codeOf([&] { rx.decode(bad.data(), bad.size(), nullptr, 0); });
    if (c == ErrorCode::CorruptPayload) ++refused;
    else CHECK(c == static_cast<ErrorCode>(-1));
  }
  CHECK(refused > 0);
  // The good payload still decodes, into a caller's buffer of the right size only.
  std::vector<uint8_t> out(w * h * 3);
  CHECK(codeOf([&] { receiver.decode(r.payload.data(), r.payload.size(), out.data(), out.size() - 1); }) == ErrorCode::OutputMismatch);
  receiver.decode(r.payload.data(), r.payload.size(), out.data(), out.size());
  // A version-1 header on a predicted frame is corrupt; an unknown version is unsupported.
  std::vector<uint8_t> v1 = r.payload;
  v1[4] = 1;
  fixCrc(v1);
  CHECK(codeOf([&] { parsePayload(v1.data(), v1.size()); }) == ErrorCode::CorruptPayload);
  v1[4] = 3;
  CHECK(codeOf([&] { parsePayload(v1.data(), v1.size()); }) == ErrorCode::UnsupportedVersion);
}

TEST(deblocking_band_by_band_matches_the_whole_frame) {
  // Random planes and random strengths: filtering macroblock rows top to bottom (as the encoder
  // does while it codes) must give the bytes of the whole-frame filter (what the decoder does).
  std::mt19937 rng(11);
  for (const auto [w, h] : {std::pair{64, 48}, std::pair{70, 37}, std::pair{16, 9}}) {
    const size_t n = static_cast<size_t>(w) * h;
    std::vector<uint8_t> whole[3], banded[3];
    for (int p = 0; p < 3; ++p) {
      whole[p].resize(n);
      // Smooth blocks with small steps between them, so that many edges pass the thresholds.
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) whole[p][static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(120 + 7 * ((x / 8 + y / 8 + p) % 3) + static_cast<int>(rng() % 3));
      banded[p] = whole[p];
    }
    EdgeStrengths s;
    const int bx = 2 * ((w + 15) / 16), by = 2 * ((h + 15) / 16);
    s.resize(bx, by);
    for (auto& v : s.left) v = static_cast<uint8_t>(rng() % 3);
    for (auto& v : s.top) v = static_cast<uint8_t>(rng() % 3);
    uint8_t* pw[3] = {whole[0].data(), whole[1].data(), whole[2].data()};
    uint8_t* pb[3] = {banded[0].data(), banded[1].data(), banded[2].data()};
    const auto before = whole[0];
    deblockFrame(pw, w, h, 44, s);
    CHECK(whole[0] != before);  // the case filters something
    for (int row = 0; row < by; row += 2) deblockBand(pb, w, h, 44, s, row, row + 2);
    for (int p = 0; p < 3; ++p) CHECK(banded[p] == whole[p]);
  }
}

TEST(inter_sender_codes_against_a_kept_reference_for_a_receiver_that_lost_frames) {
  const auto model = dctModel();
  const int w = 200, h = 120;
  InterStream sender(model, nullptr), receiver(model, nullptr);
  sender.keepReferences(3);
  auto first = scene(w, h, 0, 0, 5);
  const uint8_t* fp[3] = {first[0].data(), first[1].data(), first[2].data()};
  sender.adoptFrame(w, h, 1, fp);
  receiver.adoptFrame(w, h, 1, fp);
  auto code = [&](int k, PredictedEncodeOptions o) {
    auto frame = scene(w, h, 0.75 * k, -0.5 * k, 5);
    const auto rgb = interleave(frame);
    ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
    o.qp = 26;
    o.sequence = static_cast<uint32_t>(1 + k);
    PredictedEncodeResult r = sender.encode(f, o);
    sender.commit();
    return r;
  };
  const auto r2 = code(1, {});
  receiver.decode(r2.payload.data(), r2.payload.size(), nullptr, 0);  // the receiver holds frame 2
  code(2, {});                                                        // frames 3 and 4 lost
  const auto r4 = code(3, {});
  CHECK_THROWS_CODE(receiver.decode(r4.payload.data(), r4.payload.size(), nullptr, 0), aic::ErrorCode::ReferenceMissing);
  CHECK(sender.holdsReference(2, w, h) && sender.holdsReference(4, w, h) && !sender.holdsReference(9, w, h) && !sender.holdsReference(2, w + 1, h));
  PredictedEncodeOptions back;
  back.againstSequence = true;
  back.referenceSequence = 2;
  const auto r5 = code(4, back);
  const ImageDecodeResult d = receiver.decode(r5.payload.data(), r5.payload.size(), nullptr, 0);
  CHECK(d.width == w && receiver.referenceSequence() == 5);
  CHECK(samePlanes(sender.reference(), receiver.reference()));
  // Only `keepReferences` earlier ones are kept: frame 1 is gone by now (2, 3, 4 kept before 5).
  PredictedEncodeOptions gone;
  gone.againstSequence = true;
  gone.referenceSequence = 1;
  auto frame = scene(w, h, 4, -3, 5);
  const auto rgb = interleave(frame);
  ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
  CHECK_THROWS_CODE(sender.encode(f, gone), aic::ErrorCode::ReferenceMissing);
  CHECK_THROWS_CODE(sender.keepReferences(65), aic::ErrorCode::InvalidArgument);
}

TEST(decimation_leaves_scattered_small_residuals_uncoded_and_the_chain_exact) {
  // A still scene under faint noise: a residual the quantiser turns into scattered +-1s. With
  // decimation at its highest thresholds most such macroblocks go as skips, off (0) they are
  // coded; either way the receiver's pixels are the sender's reconstruction.
  const auto model = dctModel();
  const int w = 160, h = 96;
  auto base = scene(w, h, 0, 0, 9);
  const uint8_t* bp[3] = {base[0].data(), base[1].data(), base[2].data()};
  auto frame = base;
  std::mt19937 rng(5);
  for (int c = 0; c < 3; ++c)
    for (auto& v : frame[c]) v = static_cast<uint8_t>(std::clamp<int>(v + static_cast<int>(rng() % 13) - 6, 0, 255));
  const auto rgb = interleave(frame);
  ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
  size_t bytes[2];
  int skipped[2];
  for (int pass = 0; pass < 2; ++pass) {
    InterStream sender(model, nullptr), receiver(model, nullptr);
    sender.adoptFrame(w, h, 1, bp, 1000);
    receiver.adoptFrame(w, h, 1, bp, 1000);
    PredictedEncodeOptions o;
    o.qp = 24;
    o.sequence = 2;
    o.timestamp = 34333;
    o.score = false;
    o.compact = true;
    o.decimateLuma = o.decimateChroma = pass == 0 ? 0 : 64;
    o.rdLambda = 0;  // the rate-distortion decisions would drop these residuals too
    const PredictedEncodeResult r = sender.encode(f, o);
    sender.commit();
    bytes[pass] = r.payload.size();
    skipped[pass] = r.skipped;
    CHECK(r.payload[0] == kCompactVideoMarker);
    const ImageDecodeResult d = receiver.decode(r.payload.data(), r.payload.size(), nullptr, 0);
    CHECK(samePlanes(sender.reference(), receiver.reference()));
    // The compact form's sequence number and timestamp, restored from the reference.
    CHECK(d.header.sequence == 2 && d.header.timestamp == 34333 && d.header.dim0 == static_cast<uint32_t>(w) && d.header.dim1 == static_cast<uint32_t>(h));
  }
  CHECK(skipped[1] > skipped[0]);
  CHECK(bytes[1] < bytes[0]);
}

TEST(rate_distortion_decisions_spend_fewer_bits_where_coding_does_not_pay_and_keep_the_chain_exact) {
  // A moving scene under faint noise, coded over a chain with the rate-distortion decisions off
  // and on: on, blocks and residuals whose bits buy less error than lambda prices them are not
  // coded, so fewer bytes and more skips, at a PSNR a little lower; the error they leave is
  // counted, so the picture is not given up (a lambda far too high would skip everything). Either
  // way the receiver's pixels are the sender's reconstruction.
  const auto model = dctModel();
  const int w = 176, h = 112;
  size_t bytes[2] = {0, 0};
  int skipped[2] = {0, 0};
  double psnr[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    InterStream sender(model, nullptr), receiver(model, nullptr);
    auto first = scene(w, h, 0, 0, 11);
    const uint8_t* fp[3] = {first[0].data(), first[1].data(), first[2].data()};
    sender.adoptFrame(w, h, 1, fp);
    receiver.adoptFrame(w, h, 1, fp);
    std::mt19937 rng(3);
    for (int k = 1; k <= 6; ++k) {
      auto frame = scene(w, h, 1.25 * k, 0.75 * k, 11);
      for (int c = 0; c < 3; ++c)
        for (auto& v : frame[c]) v = static_cast<uint8_t>(std::clamp<int>(v + static_cast<int>(rng() % 13) - 6, 0, 255));
      const auto rgb = interleave(frame);
      ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
      PredictedEncodeOptions o;
      o.qp = 24;
      o.sequence = 1 + k;
      o.score = false;
      o.compact = true;
      o.rdLambda = pass == 0 ? 0.0f : 0.1f;
      const PredictedEncodeResult r = sender.encode(f, o);
      sender.commit();
      bytes[pass] += r.payload.size();
      skipped[pass] += r.skipped;
      receiver.decode(r.payload.data(), r.payload.size(), nullptr, 0);
      CHECK(samePlanes(sender.reference(), receiver.reference()));
      psnr[pass] += psnrPlanes(rgb, receiver.reference()) / 6;
    }
  }
  CHECK(bytes[1] < bytes[0]);
  CHECK(skipped[1] >= skipped[0]);
  CHECK(psnr[1] > psnr[0] - 1.0);
  CHECK(psnr[1] > 30);
}

TEST(i420_frames_are_predicted_in_rgb_and_shown_as_the_sender_scored_them) {
  // An I420 stream (bitstream version 4): the sender converts each frame to R, G, B, codes it
  // against the reference, and scores the reconstruction as the receiver will show it (converted
  // back to I420 by the fixed-point conversion); the receiver's I420 output is that same frame,
  // byte for byte, and both keep the same RGB reference. Compact frames take markers 0xAA/0xAB.
  const auto model = dctModel();
  const int w = 150, h = 94;  // odd chroma at neither edge, partial macroblocks on both
  InterStream sender(model, nullptr), receiver(model, nullptr);
  auto first = scene(w, h, 0, 0, 3);
  const uint8_t* fp[3] = {first[0].data(), first[1].data(), first[2].data()};
  sender.adoptFrame(w, h, 1, fp, 0);
  receiver.adoptFrame(w, h, 1, fp, 0);
  const size_t bytes = yuv::i420Size(w, h);
  for (int k = 1; k <= 4; ++k) {
    auto planes = scene(w, h, 0.5 * k, 0.25 * k, 3);
    const uint8_t* pp[3] = {planes[0].data(), planes[1].data(), planes[2].data()};
    std::vector<uint8_t> i420(bytes);
    yuv::rgbPlanesToI420Fixed(pp, w, h, i420.data());
    ImageFrame f{i420.data(), i420.size(), w, h, PixelFormat::I420};
    PredictedEncodeOptions o;
    o.qp = 24;
    o.sequence = 1 + k;
    o.timestamp = 33333u * k;
    o.frameType = k == 4 ? FrameType::Screen : FrameType::Video;
    o.compact = k % 2 == 0;
    const PredictedEncodeResult r = sender.encode(f, o);
    sender.commit();
    CHECK(r.scored && r.ssim > 0.9);
    const ParsedPayload parsed = parsePayload(r.payload.data(), r.payload.size());
    CHECK(parsed.header.format == 2);
    if (o.compact) {
      CHECK(r.payload[0] == (k == 4 ? kCompactI420ScreenMarker : kCompactI420VideoMarker));
      CHECK(parsed.header.version == kI420PredictedVersion);
    } else {
      CHECK(parsed.header.version == kPredictedVersion);
    }
    std::vector<uint8_t> out(bytes);
    // An output buffer sized for RGB is refused (the frame is I420), by a copy of the receiver.
    std::vector<uint8_t> rgbSized(static_cast<size_t>(w) * h * 3);
    InterStream copy(model, nullptr);
    copy.adoptFrame(w, h, receiver.referenceSequence(), fp, 33333u * (k - 1));
    CHECK(codeOf([&] { copy.decode(r.payload.data(), r.payload.size(), rgbSized.data(), rgbSized.size()); }) == ErrorCode::OutputMismatch);
    const ImageDecodeResult d = receiver.decode(r.payload.data(), r.payload.size(), out.data(), out.size());
    CHECK(d.format == PixelFormat::I420 && d.width == w && d.height == h);
    CHECK(samePlanes(sender.reference(), receiver.reference()));
    // What the receiver shows is what the sender scored.
    const ReferenceFrame& ref = receiver.reference();
    std::array<std::vector<uint8_t>, 3> shown;
    for (int c = 0; c < 3; ++c) {
      shown[c].resize(static_cast<size_t>(w) * h);
      for (int y = 0; y < h; ++y) std::memcpy(shown[c].data() + static_cast<size_t>(y) * w, ref.at(c, 0, y), static_cast<size_t>(w));
    }
    const uint8_t* sp[3] = {shown[0].data(), shown[1].data(), shown[2].data()};
    std::vector<uint8_t> expected(bytes);
    yuv::rgbPlanesToI420Fixed(sp, w, h, expected.data());
    CHECK(out == expected);
    const metrics::ImageScores s = metrics::i420Scores(i420.data(), out.data(), w, h);
    CHECK(std::abs(s.ssim - r.ssim) < 1e-12 && std::abs(s.psnr - r.psnr) < 1e-9);
    CHECK(s.psnr > 30);
    for (int c = 0; c < 3; ++c) first[c] = shown[c];  // the next frame's copy starts from this reference
    fp[0] = first[0].data();
    fp[1] = first[1].data();
    fp[2] = first[2].data();
    // A compact I420 frame with the rgba bit set is corrupt (the CRC fixed up: the parser refuses it first).
    if (o.compact) {
      std::vector<uint8_t> bad = r.payload;
      bad[1] |= 0x80;
      CHECK(codeOf([&] { parsePayload(bad.data(), bad.size()); }) == ErrorCode::CorruptPayload);
    }
  }
}

TEST(closed_loop_reaches_a_high_aim_from_a_coarse_start_in_three_passes) {
  // Content near its ceiling, where the score gains little per quantiser step: the loop's first
  // guess (150 steps per unit of SSIM) falls short twice, and the way the score moved between the
  // first two passes must carry the third to the aim (else the frame would go as a keyframe, and
  // the next one too).
  const auto model = dctModel();
  const int w = 160, h = 96;
  std::mt19937 rng(21);
  std::array<std::vector<uint8_t>, 3> base;
  for (auto& p : base) {
    p.resize(static_cast<size_t>(w) * h);
    for (auto& v : p) v = static_cast<uint8_t>(64 + rng() % 128);
  }
  const uint8_t* bp[3] = {base[0].data(), base[1].data(), base[2].data()};
  auto frame = base;  // each pixel the mean of its right and lower neighbours: detail everywhere
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) frame[c][static_cast<size_t>(y) * w + x] = base[c][static_cast<size_t>(y) * w + (x + 1) % w] / 2 + base[c][static_cast<size_t>((y + 1) % h) * w + x] / 2;
  const auto rgb = interleave(frame);
  ImageFrame f{rgb.data(), rgb.size(), w, h, PixelFormat::Rgb24};
  auto encodeAt = [&](int qp, double aim, int passes) {
    InterStream s(model, nullptr);
    s.adoptFrame(w, h, 1, bp);
    PredictedEncodeOptions o;
    o.qp = qp;
    o.sequence = 2;
    o.aim = aim;
    o.maxPasses = passes;
    return s.encode(f, o);
  };
  const double aim = encodeAt(12, 0, 1).ssim - 1e-4;
  // The guess alone: 22, then a step of 3 and one of 2, short of the aim.
  const double at17 = encodeAt(17, 0, 1).ssim;
  CHECK(at17 < aim && encodeAt(22, 0, 1).ssim > aim - 0.03);
  const PredictedEncodeResult r = encodeAt(22, aim, 3);
  CHECK(r.passes.size() == 3);
  CHECK(r.ssim >= aim);
  CHECK(r.qp <= 12 && r.qp >= 8);  // and not far past it
}
