#include "video/inter_codec.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <type_traits>

#include "common/errors.h"
#include "common/helper_threads.h"
#include "entropy/binary_coder.h"
#include "format/crc32c.h"
#include "image/metrics.h"
#include "image/yuv.h"
#include "video/deblocking.h"
#include "video/inter_syntax.h"

namespace aic::video {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

// The plane the motion search and the mode decision measure on: YCoCg's Y, rounded, so the
// sender's search plane of a reference and of a source frame are made alike.
inline int lumaOf(int r, int g, int b) { return (r + 2 * g + b + 2) >> 2; }

// Deadzone of the encoder's quantiser: q = floor(|c| / step + offset). Under 0.5 trades a little
// distortion for many fewer small coefficients (H.264 reference encoders use 1/6 for inter
// blocks and 1/3 for intra ones; inter residuals here are coarser, 8x8, so a little higher).
// (PredictedEncodeOptions::interDeadzone sets the first, for tuning.)
constexpr float kIntraDeadzone = 0.38f;

/** What the decoder knows of a macroblock once coded: for the contexts and predictors of later ones. */
struct MacroblockInfo {
  MacroblockMode mode = MacroblockMode::Skip;
  MotionVector mv;
  MotionVector mvd;
};

/** One macroblock's coded elements. */
struct MacroblockSyntax {
  MacroblockMode mode = MacroblockMode::Skip;
  MotionVector mv;
  uint16_t cbf = 0;                                  // bit channel * 4 + block
  int16_t coefficients[kBlocksPerMacroblock][kCoefficients];  // natural order
  // The encoder's only: each block's squared error as coded and with nothing coded (YCoCg units,
  // weighted as R, G and B: the transforms are orthonormal, so the coefficients' error is the
  // pixels'), for the rate-distortion decisions.
  float codedError[kBlocksPerMacroblock];
  float zeroError[kBlocksPerMacroblock];
};

/** -log2(p / 4096) for p in 1..4095: the bits a context in state p spends on a symbol of that probability. */
const std::array<float, 4097>& bitCosts() {
  static const std::array<float, 4097> table = [] {
    std::array<float, 4097> t{};
    t[0] = 12.0f;
    for (int p = 1; p <= 4096; ++p) t[p] = static_cast<float>(-std::log2(p / 4096.0));
    return t;
  }();
  return table;
}

/** A side of the syntax (inter_syntax.h) that neither codes nor reads: it adds up the bits the contexts' current state would spend. */
struct RateSide {
  static constexpr bool kEncoding = true;
  const std::array<float, 4097>& cost = bitCosts();
  float bits = 0;
  int bit(entropy::BitContext& c, int b) {
    bits += cost[b ? entropy::BinaryEncoder::kProbOne - c.p0 : c.p0];
    return b;
  }
  uint32_t bypass(uint32_t v, int n) {
    bits += static_cast<float>(n);
    return v;
  }
};

// Squared error of Y, Co, Cg as R, G and B see it (R = Y + Co - Cg, G = Y + Cg, B = Y - Co - Cg),
// over three: a luma error counts once.
constexpr float kChannelErrorWeight[3] = {1.0f, 2.0f / 3.0f, 1.0f};

/** The state shared by the encoder's and the decoder's walk over a frame. */
class FrameWalk {
 public:
  FrameWalk(const InterModel& model, const ReferenceFrame& ref, int qp, uint8_t* const recon[3])
      : model_(model), ref_(ref), qp_(qp), width_(ref.width), height_(ref.height), mbx_((ref.width + 15) / 16), mby_((ref.height + 15) / 16) {
    for (int p = 0; p < 3; ++p) recon_[p] = recon[p];
    info_.resize(static_cast<size_t>(mbx_) * mby_);
    cbfGrid_.assign(3, std::vector<uint8_t>(static_cast<size_t>(2 * mbx_) * 2 * mby_, 0));
    strengths_.resize(2 * mbx_, 2 * mby_);
    for (int c = 0; c < 3; ++c) step16_[c] = quantiserStep16(channelQp(qp, c));
  }

  int mbx() const { return mbx_; }
  int mby() const { return mby_; }
  int qp() const { return qp_; }
  InterContexts& contexts() { return ctx_; }
  const MacroblockInfo& info(int x, int y) const { return info_[static_cast<size_t>(y) * mbx_ + x]; }

  /** The median predictor of the macroblock's vector (H.264's, with unavailable neighbours as zero). */
  MotionVector predictor(int x, int y) const {
    const MotionVector zero{};
    auto vec = [&](int px, int py) { return info(px, py).mode == MacroblockMode::Intra ? zero : info(px, py).mv; };
    const MotionVector a = x > 0 ? vec(x - 1, y) : zero;
    if (y == 0) return a;
    const MotionVector b = vec(x, y - 1);
    const MotionVector c = x + 1 < mbx_ ? vec(x + 1, y - 1) : (x > 0 ? vec(x - 1, y - 1) : zero);
    return medianVector(a, b, c);
  }
  int skipContext(int x, int y) const {
    return (x > 0 && info(x - 1, y).mode == MacroblockMode::Skip) + (y > 0 && info(x, y - 1).mode == MacroblockMode::Skip);
  }
  int intraContext(int x, int y) const {
    return (x > 0 && info(x - 1, y).mode == MacroblockMode::Intra) + (y > 0 && info(x, y - 1).mode == MacroblockMode::Intra);
  }
  int mvdContext(int x, int y, int component) const {
    auto m = [&](const MotionVector& v) { return component == 0 ? std::abs(v.dx) : std::abs(v.dy); };
    return (x > 0 ? m(info(x - 1, y).mvd) : 0) + (y > 0 ? m(info(x, y - 1).mvd) : 0);
  }
  /** Whether the 8x8 block b (0..3, raster) of macroblock (x, y) has any pixel in the frame. */
  bool blockInFrame(int x, int y, int b) const { return x * 16 + (b & 1) * 8 < width_ && y * 16 + (b >> 1) * 8 < height_; }
  int cbfContext(int channel, int x, int y, int b) const {
    const int bx = 2 * x + (b & 1), by = 2 * y + (b >> 1);
    const auto& g = cbfGrid_[channel];
    return (bx > 0 ? g[static_cast<size_t>(by) * 2 * mbx_ + bx - 1] : 0) + (by > 0 ? g[static_cast<size_t>(by - 1) * 2 * mbx_ + bx] : 0);
  }

  /** The syntax of one macroblock, coded (encoder) or read (decoder). Returns false on a corrupt stream. */
  template <class Side>
  bool code(Side& s, int x, int y, MacroblockSyntax& m) {
    bool ok = true;
    const MotionVector pred = predictor(x, y);
    MacroblockInfo& mi = info_[static_cast<size_t>(y) * mbx_ + x];
    const int skip = s.bit(ctx_.skip[skipContext(x, y)], m.mode == MacroblockMode::Skip);
    if (skip) {
      m.mode = MacroblockMode::Skip;
      m.mv = pred;
      m.cbf = 0;
      mi = {MacroblockMode::Skip, pred, {}};
      return true;
    }
    const int intra = s.bit(ctx_.intra[intraContext(x, y)], m.mode == MacroblockMode::Intra);
    MotionVector mvd{};
    if (intra) {
      m.mode = MacroblockMode::Intra;
      m.mv = {};
    } else {
      m.mode = MacroblockMode::Inter;
      const int dx = codeVectorComponent(s, ctx_, 0, m.mv.dx - pred.dx, mvdContext(x, y, 0), ok);
      const int dy = codeVectorComponent(s, ctx_, 1, m.mv.dy - pred.dy, mvdContext(x, y, 1), ok);
      const int vx = pred.dx + dx, vy = pred.dy + dy;
      if (std::abs(vx) > kMaxVector || std::abs(vy) > kMaxVector || std::abs(dx) > 2 * kMaxVector || std::abs(dy) > 2 * kMaxVector) return false;
      m.mv = {static_cast<int16_t>(vx), static_cast<int16_t>(vy)};
      mvd = {static_cast<int16_t>(dx), static_cast<int16_t>(dy)};
    }
    mi = {m.mode, m.mv, mvd};
    uint16_t cbf = 0;
    for (int c = 0; c < 3; ++c)
      for (int b = 0; b < 4; ++b) {
        if (!blockInFrame(x, y, b)) continue;
        const int coded = s.bit(ctx_.cbf[c][cbfContext(c, x, y, b)], (m.cbf >> (c * 4 + b)) & 1);
        if (coded) cbf |= static_cast<uint16_t>(1u << (c * 4 + b));
        cbfGrid_[c][static_cast<size_t>(2 * y + (b >> 1)) * 2 * mbx_ + 2 * x + (b & 1)] = static_cast<uint8_t>(coded);
      }
    m.cbf = cbf;
    for (int c = 0; c < 3; ++c)
      for (int b = 0; b < 4; ++b) {
        if (!((cbf >> (c * 4 + b)) & 1)) continue;
        int16_t* q = m.coefficients[c * 4 + b];
        if constexpr (!Side::kEncoding) std::memset(q, 0, sizeof(int16_t) * kCoefficients);
        codeBlockCoefficients(s, ctx_, c, q, model_.config().scan[c].data(), ok);
      }
    return ok;
  }

  /** The macroblock's prediction, 16x16 per plane (stride 16): motion-compensated, or intra DC from what is reconstructed above and to the left. */
  void predict(int x, int y, MacroblockMode mode, MotionVector mv, uint8_t pred[3][256]) const {
    const int x0 = x * 16, y0 = y * 16;
    if (mode == MacroblockMode::Intra) {
      const int w = std::min(16, width_ - x0), h = std::min(16, height_ - y0);
      for (int p = 0; p < 3; ++p) {
        int sum = 0, n = 0;
        if (y0 > 0)
          for (int i = 0; i < w; ++i, ++n) sum += recon_[p][static_cast<size_t>(y0 - 1) * width_ + x0 + i];
        if (x0 > 0)
          for (int i = 0; i < h; ++i, ++n) sum += recon_[p][static_cast<size_t>(y0 + i) * width_ + x0 - 1];
        const uint8_t dc = static_cast<uint8_t>(n ? (sum + n / 2) / n : 128);
        std::memset(pred[p], dc, 256);
      }
      return;
    }
    // The motion search's own predictor, on each plane's edge-replicated border.
    const int ix = x0 + (mv.dx >> 2), iy = y0 + (mv.dy >> 2);
    for (int p = 0; p < 3; ++p) interpolateBlock(ref_.at(p, ix, iy), ref_.stride, mv.dx & 3, mv.dy & 3, 16, 16, pred[p], 16);
  }

  /** The in-loop filter over the reconstructed frame (video/deblocking.h), once every macroblock is in. */
  void deblock() {
    fillStrengths(0, 2 * mby_);
    deblockFrame(recon_, width_, height_, qp_, strengths_);
  }

  /**
   * The in-loop filter of macroblock row y, once it and the row below are reconstructed (the
   * rows above filtered already; the row below's intra prediction read this row unfiltered, as
   * the decoder's does): the same bytes as deblock() over the whole frame (deblockBand). Returns
   * how many of the frame's rows are final: all but the last of the row, which the next row's
   * top edge filter may still change.
   */
  int deblockRow(int y) {
    fillStrengths(2 * y, 2 * y + 2);
    deblockBand(recon_, width_, height_, qp_, strengths_, 2 * y, 2 * y + 2);
    return y + 1 == mby_ ? height_ : std::min(height_, 16 * y + 15);
  }

  /**
   * Reconstruction of a macroblock from its syntax: the one path of both sides. The encoder passes
   * the prediction its decision already made (predict() of the same mode and vector, from the same
   * reconstructed neighbours); the decoder makes it here.
   */
  void reconstruct(int x, int y, const MacroblockSyntax& m, const uint8_t (*made)[256] = nullptr) {
    uint8_t own[3][256];
    if (!made) predict(x, y, m.mode, m.mv, own);
    const uint8_t (*pred)[256] = made ? made : own;
    const int x0 = x * 16, y0 = y * 16;
    int32_t res[3][kCoefficients];
    for (int b = 0; b < 4; ++b) {
      if (!blockInFrame(x, y, b)) continue;
      const int bx = (b & 1) * 8, by = (b >> 1) * 8;
      const int32_t* channels[3] = {nullptr, nullptr, nullptr};
      for (int c = 0; c < 3; ++c)
        if ((m.cbf >> (c * 4 + b)) & 1) {
          inverseTransform(model_.config().transform.channels[c], m.coefficients[c * 4 + b], step16_[c], res[c]);
          channels[c] = res[c];
        }
      const uint8_t* pp[3] = {pred[0] + by * 16 + bx, pred[1] + by * 16 + bx, pred[2] + by * 16 + bx};
      uint8_t* out[3];
      for (int p = 0; p < 3; ++p) out[p] = recon_[p] + static_cast<size_t>(y0 + by) * width_ + x0 + bx;
      reconstructBlock(channels[0], channels[1], channels[2], pp, 16, out, width_, std::min(8, width_ - x0 - bx), std::min(8, height_ - y0 - by));
    }
  }

 private:
  /** The strength of the 8x8 block edges of block rows [by0, by1), from the macroblocks' modes, vectors and coded blocks. */
  void fillStrengths(int by0, int by1) {
    const int bx = 2 * mbx_;
    EdgeStrengths& s = strengths_;
    auto coded = [&](int x, int y) {
      const size_t i = static_cast<size_t>(y) * bx + x;
      return cbfGrid_[0][i] | cbfGrid_[1][i] | cbfGrid_[2][i];
    };
    auto strength = [&](int px, int py, int qx, int qy) -> uint8_t {
      const MacroblockInfo& p = info(px / 2, py / 2);
      const MacroblockInfo& q = info(qx / 2, qy / 2);
      if (p.mode == MacroblockMode::Intra || q.mode == MacroblockMode::Intra) return 2;
      if (coded(px, py) || coded(qx, qy)) return 1;
      // Motion that differs by a pixel or more (vectors in quarter pixels) leaves a step too.
      if (&p != &q && (std::abs(p.mv.dx - q.mv.dx) >= 4 || std::abs(p.mv.dy - q.mv.dy) >= 4)) return 1;
      return 0;
    };
    for (int y = std::max(0, by0); y < std::min(by1, s.blocksY); ++y)
      for (int x = 0; x < bx; ++x) {
        const size_t i = static_cast<size_t>(y) * bx + x;
        if (x > 0) s.left[i] = strength(x - 1, y, x, y);
        if (y > 0) s.top[i] = strength(x, y - 1, x, y);
      }
  }

  const InterModel& model_;
  const ReferenceFrame& ref_;
  int qp_;
  int width_, height_, mbx_, mby_;
  uint8_t* recon_[3];
  int32_t step16_[3];
  std::vector<MacroblockInfo> info_;
  std::vector<std::vector<uint8_t>> cbfGrid_;
  EdgeStrengths strengths_;
  InterContexts ctx_;
};

/** The frame to code as planes, with what the encoder's decisions need. */
struct SourcePlanes {
  int width = 0, height = 0;
  std::array<std::vector<uint8_t>, 3> rgb;
  std::vector<uint8_t> luma;
};

/** The frame's planes, in the buffers of `s` (reused from the last frame). */
void splitFrame(const ImageFrame& f, SourcePlanes& s) {
  s.width = f.width;
  s.height = f.height;
  const size_t n = static_cast<size_t>(f.width) * f.height;
  const int bpp = bytesPerPixel(f.format);
  for (auto& p : s.rgb) p.resize(n);
  s.luma.resize(n);
  // The pixel size as a constant, so that the compiler vectorises the de-interleaving.
  auto split = [&](auto bytes, size_t from, size_t to) {
    constexpr int kBpp = decltype(bytes)::value;
    const uint8_t* __restrict in = f.data;
    uint8_t* __restrict r = s.rgb[0].data();
    uint8_t* __restrict g = s.rgb[1].data();
    uint8_t* __restrict b = s.rgb[2].data();
    uint8_t* __restrict l = s.luma.data();
    for (size_t i = from; i < to; ++i) {
      const int pr = in[i * kBpp], pg = in[i * kBpp + 1], pb = in[i * kBpp + 2];
      r[i] = static_cast<uint8_t>(pr);
      g[i] = static_cast<uint8_t>(pg);
      b[i] = static_cast<uint8_t>(pb);
      l[i] = static_cast<uint8_t>(lumaOf(pr, pg, pb));
    }
  };
  // Two halves, the second on a helper thread where there is one (a copy: any split gives the same planes).
  const int shares = n >= 65536 ? 2 : 1;
  forEachShare(shares, [&](int share) {
    const size_t from = n * share / shares, to = n * (share + 1) / shares;
    if (bpp == 3) split(std::integral_constant<int, 3>{}, from, to);
    else split(std::integral_constant<int, 4>{}, from, to);
  });
}

/**
 * An I420 frame's planes: predicted frames are coded in the references' R, G, B, so the frame is
 * converted first (the fixed-point BT.601 conversion of image/yuv.h). Chroma is upsampled
 * smoothly: the receiver keeps only each 2x2 block's mean colour, so the 2x2 steps of a nearest
 * upsampling would be detail coded for nothing.
 */
void splitI420Frame(const ImageFrame& f, SourcePlanes& s) {
  s.width = f.width;
  s.height = f.height;
  const size_t n = static_cast<size_t>(f.width) * f.height;
  for (auto& p : s.rgb) p.resize(n);
  s.luma.resize(n);
  uint8_t* planes[3] = {s.rgb[0].data(), s.rgb[1].data(), s.rgb[2].data()};
  // Two shares of rows, the second on a helper thread where there is one, as splitFrame does.
  const int shares = n >= 65536 ? 2 : 1;
  forEachShare(shares, [&](int share) {
    const int y0 = f.height * share / shares, y1 = f.height * (share + 1) / shares;
    yuv::i420ToRgbPlanesSmooth(f.data, f.width, f.height, planes, y0, y1);
    const size_t from = static_cast<size_t>(y0) * f.width, to = static_cast<size_t>(y1) * f.width;
    const uint8_t* __restrict r = planes[0];
    const uint8_t* __restrict g = planes[1];
    const uint8_t* __restrict b = planes[2];
    uint8_t* __restrict l = s.luma.data();
    for (size_t i = from; i < to; ++i) l[i] = static_cast<uint8_t>(lumaOf(r[i], g[i], b[i]));
  });
}

/** The encoder's side of one pass: decisions, coding, and the reconstruction the receiver will make. */
class PassEncoder {
 public:
  PassEncoder(const InterModel& model, const ReferenceFrame& ref, const SourcePlanes& src, const MotionField& field, int qp, uint8_t* const recon[3], int decimateLuma,
              int decimateChroma, float rdLambda, float interDeadzone)
      : model_(model),
        src_(src),
        field_(field),
        walk_(model, ref, qp, recon),
        decimateLuma_(decimateLuma),
        decimateChroma_(decimateChroma),
        rdLambda_(rdLambda),
        interDeadzone_(interDeadzone) {
    for (int c = 0; c < 3; ++c) step_[c] = static_cast<float>(quantiserStep16(channelQp(qp, c))) / 16.0f;
    lambda_ = rdLambda * step_[0] * step_[0];
  }

  /**
   * Codes the frame. After each macroblock row, rowsFinal(n) is told that the reconstruction's
   * first n rows are final (filtered, when deblocking): what the concurrent score may read.
   */
  template <class RowsFinal>
  std::vector<uint8_t> run(int& skipped, int& inter, int& intra, bool deblock, RowsFinal&& rowsFinal) {
    entropy::BinaryEncoder coder;
    EncodeSide side{coder};
    MacroblockSyntax m;
    for (int y = 0; y < walk_.mby(); ++y) {
      for (int x = 0; x < walk_.mbx(); ++x) {
        const uint8_t (*pred)[256] = decide(x, y, m);
        walk_.code(side, x, y, m);
        walk_.reconstruct(x, y, m, pred);
        if (m.mode == MacroblockMode::Skip) ++skipped;
        else if (m.mode == MacroblockMode::Inter) ++inter;
        else ++intra;
      }
      // Filtering lags a row: the intra prediction of the row below reads this row's last pixel
      // row as the decoder has it before its whole-frame filter.
      if (!deblock) rowsFinal(std::min(src_.height, 16 * (y + 1)));
      else if (y > 0) rowsFinal(walk_.deblockRow(y - 1));
    }
    if (deblock) rowsFinal(walk_.deblockRow(walk_.mby() - 1));
    return coder.finish();
  }

 private:
  /** Residual of the macroblock against a prediction, quantised into m; returns the sum of |q| and the luma SAD. */
  int quantise(int x, int y, const uint8_t pred[3][256], bool intraBlock, MacroblockSyntax& m, int& sad) {
    const int x0 = x * 16, y0 = y * 16, w = src_.width;
    const int bw = std::min(16, src_.width - x0), bh = std::min(16, src_.height - y0);
    float resid[3][256];
    sad = 0;
    if (bw < 16 || bh < 16) std::memset(resid, 0, sizeof(resid));  // outside the frame: no residual
    for (int r = 0; r < bh; ++r) {
      // One row in integer arithmetic the compiler vectorises (whole rows; the frame's edge rows
      // and columns are partial), then the residual's YCoCg in float.
      const size_t i0 = static_cast<size_t>(y0 + r) * w + x0;
      const uint8_t *sr = src_.rgb[0].data() + i0, *sg = src_.rgb[1].data() + i0, *sb = src_.rgb[2].data() + i0, *sl = src_.luma.data() + i0;
      const uint8_t *pr = pred[0] + r * 16, *pg = pred[1] + r * 16, *pb = pred[2] + r * 16;
      float* out0 = resid[0] + r * 16;
      float* out1 = resid[1] + r * 16;
      float* out2 = resid[2] + r * 16;
      int rowSad = 0;
      for (int c = 0; c < bw; ++c) {
        const int d0 = sr[c] - pr[c], d1 = sg[c] - pg[c], d2 = sb[c] - pb[c];
        rowSad += std::abs(static_cast<int>(sl[c]) - lumaOf(pr[c], pg[c], pb[c]));
        out0[c] = 0.25f * static_cast<float>(d0 + 2 * d1 + d2);
        out1[c] = 0.5f * static_cast<float>(d0 - d2);
        out2[c] = 0.25f * static_cast<float>(-d0 + 2 * d1 - d2);
      }
      sad += rowSad;
    }
    const float deadzone = intraBlock ? kIntraDeadzone : interDeadzone_;
    int total = 0;
    m.cbf = 0;
    for (int c = 0; c < 3; ++c)
      for (int b = 0; b < 4; ++b) {
        const int k = c * 4 + b;
        m.codedError[k] = m.zeroError[k] = 0;
        if (!walk_.blockInFrame(x, y, b)) continue;
        float block[kCoefficients], coef[kCoefficients];
        const int bx = (b & 1) * 8, by = (b >> 1) * 8;
        float magnitude = 0, energy = 0;
        for (int r = 0; r < 8; ++r)
          for (int cc = 0; cc < 8; ++cc) {
            const float v = resid[c][(by + r) * 16 + bx + cc];
            block[r * 8 + cc] = v;
            magnitude += std::fabs(v);
            energy += v * v;
          }
        // Nothing coded leaves the residual itself as the error.
        m.zeroError[k] = m.codedError[k] = energy * kChannelErrorWeight[c];
        int16_t* q = m.coefficients[k];
        const ForwardTransform& ft = model_.forward(c);
        // No coefficient of this block can reach 1 - deadzone steps (each is at most bound * the
        // block's sum of |values|; the margin covers float rounding): all zero, as the transform
        // and quantiser would find, without running them. Most blocks of a still region end here.
        if (ft.bound * magnitude * 1.001f < (1.0f - deadzone) * step_[c]) {
          std::memset(q, 0, sizeof(int16_t) * kCoefficients);
          continue;
        }
        forwardTransform(ft, block, coef);
        int sum = 0, lastScan = -1;
        const float inv = 1.0f / step_[c];
        const uint8_t* scan = model_.config().scan[c].data();
        float error = 0;
        for (int i = 0; i < kCoefficients; ++i) {
          const float a = std::fabs(coef[i]) * inv + deadzone;
          int v = a >= static_cast<float>(kMaxCoefficient) ? kMaxCoefficient : static_cast<int>(a);
          q[i] = static_cast<int16_t>(coef[i] < 0 ? -v : v);
          sum += v;
          const float e = coef[i] - static_cast<float>(q[i]) * step_[c];
          error += e * e;
        }
        if (rdLambda_ > 0) m.codedError[k] = error * kChannelErrorWeight[c];
        // A lone +-1 far down the scan costs more bits than the error it removes.
        if (sum == 1) {
          for (int i = 0; i < kCoefficients; ++i)
            if (q[scan[i]] != 0) lastScan = i;
          if (lastScan >= 3) {
            std::memset(q, 0, sizeof(int16_t) * kCoefficients);
            sum = 0;
            m.codedError[k] = m.zeroError[k];
          }
        }
        if (sum) m.cbf |= static_cast<uint16_t>(1u << (c * 4 + b));
        total += sum;
      }
    return total;
  }

  /**
   * Macroblock decimation: a residual of a few +-1 coefficients scattered down the scan costs more
   * bits (coded-block flags, last position, significance runs) than the error it removes. Each
   * channel's blocks get a score (a +-1 after a short run of zeros counts 3, after a longer one 2,
   * then 1, then 0; any larger value keeps the channel); a channel under the threshold is zeroed.
   * Returns the coefficients' new sum of |q|.
   */
  int decimate(MacroblockSyntax& m) const {
    constexpr int kKeep = 1 << 20;
    for (int c = 0; c < 3; ++c) {
      const int threshold = c == 0 ? decimateLuma_ : decimateChroma_;
      if (threshold <= 0) continue;
      const uint8_t* scan = model_.config().scan[c].data();
      int score = 0;
      for (int b = 0; b < 4 && score < kKeep; ++b) {
        if (!(m.cbf & (1u << (c * 4 + b)))) continue;
        const int16_t* q = m.coefficients[c * 4 + b];
        int run = 0;
        for (int i = 0; i < kCoefficients; ++i) {
          const int v = std::abs(q[scan[i]]);
          if (v == 0) {
            ++run;
            continue;
          }
          if (v > 1) {
            score = kKeep;
            break;
          }
          score += run < 4 ? 3 : run < 12 ? 2 : run < 24 ? 1 : 0;
          run = 0;
        }
      }
      if (score >= threshold) continue;
      for (int b = 0; b < 4; ++b) {
        std::memset(m.coefficients[c * 4 + b], 0, sizeof(int16_t) * kCoefficients);
        m.cbf &= static_cast<uint16_t>(~(1u << (c * 4 + b)));
        m.codedError[c * 4 + b] = m.zeroError[c * 4 + b];
      }
    }
    int total = 0;
    for (int i = 0; i < kBlocksPerMacroblock; ++i)
      if (m.cbf & (1u << i))
        for (int k = 0; k < kCoefficients; ++k) total += std::abs(m.coefficients[i][k]);
    return total;
  }

  /** The motion search's vector of the macroblock, within what a payload may carry. */
  MotionVector searchedVector(int x, int y) const {
    MotionVector mv = field_.vectors[static_cast<size_t>(y) * field_.blocksX + x];
    mv.dx = static_cast<int16_t>(std::clamp<int>(mv.dx, -kMaxVector, kMaxVector));
    mv.dy = static_cast<int16_t>(std::clamp<int>(mv.dy, -kMaxVector, kMaxVector));
    return mv;
  }

  /** The residual against the prediction of vector mv (into interPred_), quantised and decimated into t. */
  void quantiseSearched(int x, int y, MotionVector mv, MacroblockSyntax& t, int& sad) {
    walk_.predict(x, y, MacroblockMode::Inter, mv, interPred_);
    quantise(x, y, interPred_, false, t, sad);
    decimate(t);
  }

  /** The intra (DC) prediction of the macroblock into intraPred_; returns its luma SAD. */
  int predictIntra(int x, int y) {
    walk_.predict(x, y, MacroblockMode::Intra, {}, intraPred_);
    int sad = 0;
    const int x0 = x * 16, y0 = y * 16;
    const int bw = std::min(16, src_.width - x0), bh = std::min(16, src_.height - y0);
    // The DC prediction is one value per plane, so its luma is one value too.
    const int dc = lumaOf(intraPred_[0][0], intraPred_[1][0], intraPred_[2][0]);
    for (int r = 0; r < bh; ++r) {
      const uint8_t* sl = src_.luma.data() + static_cast<size_t>(y0 + r) * src_.width + x0;
      for (int c = 0; c < bw; ++c) sad += std::abs(static_cast<int>(sl[c]) - dc);
    }
    return sad;
  }

  /**
   * With rate-distortion decisions: intra where its cost D + lambda R is under `best` (the inter or
   * skip choice's), tried only where its SAD is under the inter prediction's. m and the prediction,
   * else nullptr.
   */
  const uint8_t (*intraByCost(int x, int y, int sadInter, float best, MacroblockSyntax& m))[256] {
    if (predictIntra(x, y) >= sadInter) return nullptr;
    MacroblockSyntax t;
    int s = 0;
    quantise(x, y, intraPred_, true, t, s);
    const float bits = dropCostlyBlocks(x, y, t);
    if (codedErrorOf(t) + lambda_ * (modeBits(x, y, MacroblockMode::Intra, {}, {}) + bits) >= best) return nullptr;
    m = t;
    m.mode = MacroblockMode::Intra;
    m.mv = {};
    return intraPred_;
  }

  /** Intra (DC) where its SAD beats the inter candidate's by a margin: m coded intra and its prediction, else nullptr. */
  const uint8_t (*tryIntra(int x, int y, int sadInter, MacroblockSyntax& m))[256] {
    const int sadIntra = predictIntra(x, y);
    // Intra blocks spend more bits for the same SAD (no motion to carry detail): a margin.
    if (sadIntra * 5 >= sadInter * 3) return nullptr;
    int s = 0;
    quantise(x, y, intraPred_, true, m, s);
    m.mode = MacroblockMode::Intra;
    m.mv = {};
    return intraPred_;
  }

  int vectorCost(MotionVector mv, MotionVector pred) const {
    // About the bits of the difference, in SAD units at this quantiser (a bit is worth more SAD as the step grows).
    const int bits = (mv.dx != pred.dx ? 2 + 2 * static_cast<int>(std::log2(1 + std::abs(mv.dx - pred.dx))) : 1) +
                     (mv.dy != pred.dy ? 2 + 2 * static_cast<int>(std::log2(1 + std::abs(mv.dy - pred.dy))) : 1);
    return static_cast<int>(bits * step_[0] * 0.6f);
  }

  // ---- Rate-distortion decisions (PredictedEncodeOptions::rdLambda) ----------------------------

  static float codedErrorOf(const MacroblockSyntax& m) {
    float e = 0;
    for (float v : m.codedError) e += v;
    return e;
  }
  static float zeroErrorOf(const MacroblockSyntax& m) {
    float e = 0;
    for (float v : m.zeroError) e += v;
    return e;
  }

  /** Bits of the mode flags (and the vector difference of an inter macroblock) at the contexts' current state. */
  float modeBits(int x, int y, MacroblockMode mode, MotionVector mv, MotionVector pred) {
    RateSide r;
    InterContexts& ctx = walk_.contexts();
    r.bit(ctx.skip[walk_.skipContext(x, y)], mode == MacroblockMode::Skip);
    if (mode == MacroblockMode::Skip) return r.bits;
    r.bit(ctx.intra[walk_.intraContext(x, y)], mode == MacroblockMode::Intra);
    if (mode == MacroblockMode::Inter) {
      bool ok = true;
      codeVectorComponent(r, ctx, 0, mv.dx - pred.dx, walk_.mvdContext(x, y, 0), ok);
      codeVectorComponent(r, ctx, 1, mv.dy - pred.dy, walk_.mvdContext(x, y, 1), ok);
    }
    return r.bits;
  }

  /** Bits of one block's coefficients (coded block flag included) at the contexts' current state. */
  float blockBits(int x, int y, int c, int b, MacroblockSyntax& m) {
    RateSide r;
    InterContexts& ctx = walk_.contexts();
    const int k = c * 4 + b;
    const bool coded = (m.cbf >> k) & 1;
    r.bit(ctx.cbf[c][walk_.cbfContext(c, x, y, b)], coded);
    if (coded) {
      bool ok = true;
      codeBlockCoefficients(r, ctx, c, m.coefficients[k], model_.config().scan[c].data(), ok);
    }
    return r.bits;
  }

  /**
   * Drops the coded blocks whose bits cost more than the error they remove (D + lambda R); returns
   * the residual's bits as it is left: every block in the frame, coded or not.
   */
  float dropCostlyBlocks(int x, int y, MacroblockSyntax& m) {
    RateSide flag;
    float bits = 0;
    for (int c = 0; c < 3; ++c)
      for (int b = 0; b < 4; ++b) {
        if (!walk_.blockInFrame(x, y, b)) continue;
        const int k = c * 4 + b;
        // A block not coded costs its coded-block flag's 0.
        const float bitsZero = flag.cost[walk_.contexts().cbf[c][walk_.cbfContext(c, x, y, b)].p0];
        if (!((m.cbf >> k) & 1)) {
          bits += bitsZero;
          continue;
        }
        const float bitsCoded = blockBits(x, y, c, b, m);
        if (m.zeroError[k] - m.codedError[k] > lambda_ * (bitsCoded - bitsZero)) {
          bits += bitsCoded;
          continue;
        }
        std::memset(m.coefficients[k], 0, sizeof(int16_t) * kCoefficients);
        m.cbf &= static_cast<uint16_t>(~(1u << k));
        m.codedError[k] = m.zeroError[k];
        bits += bitsZero;
      }
    return bits;
  }

  /** Chooses the macroblock's mode, vector and coefficients; returns the prediction they use. */
  const uint8_t (*decide(int x, int y, MacroblockSyntax& m))[256] {
    const MotionVector pred = walk_.predictor(x, y);
    // 1. Skip: the predicted vector and nothing coded, where the quantiser leaves nothing anyway.
    walk_.predict(x, y, MacroblockMode::Skip, pred, skipPred_);
    int sadSkip = 0;
    MacroblockSyntax trial;
    quantise(x, y, skipPred_, false, trial, sadSkip);
    decimate(trial);
    const float trialBits = rdLambda_ > 0 ? dropCostlyBlocks(x, y, trial) : 0;
    if (trial.cbf == 0) {
      m.mode = MacroblockMode::Skip;
      m.mv = pred;
      m.cbf = 0;
      return skipPred_;
    }
    if (rdLambda_ > 0) return decideByCost(x, y, pred, trial, trialBits, sadSkip, m);
    // 2. Inter with the searched vector (or the predicted one, where it is as good once its bits count).
    const MotionVector mv = searchedVector(x, y);
    int sadInter = sadSkip, costInter = sadSkip + vectorCost(pred, pred);
    bool usePred = true;
    if (!(mv == pred)) {
      int s = 0;
      MacroblockSyntax t2;
      quantiseSearched(x, y, mv, t2, s);
      const int cost = s + vectorCost(mv, pred);
      if (cost < costInter) {
        costInter = cost;
        sadInter = s;
        usePred = false;
        trial = t2;
      }
    }
    // 3. Intra (DC), for what the reference does not have (uncovered background, a new object).
    if (const auto* intra = tryIntra(x, y, sadInter, m)) return intra;
    m = trial;
    m.mode = MacroblockMode::Inter;
    m.mv = usePred ? pred : mv;
    return usePred ? skipPred_ : interPred_;
  }

  /**
   * The rest of decide() with rate-distortion decisions: the predicted vector with its residual
   * (`trial`, already quantised, of `trialBits`), the searched vector with its own, skipping, and intra, by the
   * least D + lambda R.
   */
  const uint8_t (*decideByCost(int x, int y, MotionVector pred, MacroblockSyntax& trial, float trialBits, int sadSkip, MacroblockSyntax& m))[256] {
    const float costSkip = zeroErrorOf(trial) + lambda_ * modeBits(x, y, MacroblockMode::Skip, pred, pred);
    float best = codedErrorOf(trial) + lambda_ * (modeBits(x, y, MacroblockMode::Inter, pred, pred) + trialBits);
    bool usePred = true;
    int sadInter = sadSkip;
    const MotionVector mv = searchedVector(x, y);
    if (!(mv == pred)) {
      int s = 0;
      MacroblockSyntax t2;
      quantiseSearched(x, y, mv, t2, s);
      const float bits = dropCostlyBlocks(x, y, t2);
      const float cost = codedErrorOf(t2) + lambda_ * (modeBits(x, y, MacroblockMode::Inter, mv, pred) + bits);
      if (cost < best) {
        best = cost;
        usePred = false;
        sadInter = s;
        trial = t2;
      }
    }
    const bool skip = costSkip <= best;
    if (const auto* intra = intraByCost(x, y, sadInter, skip ? costSkip : best, m)) return intra;
    if (skip) {
      m.mode = MacroblockMode::Skip;
      m.mv = pred;
      m.cbf = 0;
      return skipPred_;
    }
    m = trial;
    m.mode = MacroblockMode::Inter;
    m.mv = usePred ? pred : mv;
    return usePred ? skipPred_ : interPred_;
  }

  // The candidates' predictions of the macroblock being decided (16x16 per plane).
  uint8_t skipPred_[3][256];
  uint8_t interPred_[3][256];
  uint8_t intraPred_[3][256];
  const InterModel& model_;
  const SourcePlanes& src_;
  const MotionField& field_;
  FrameWalk walk_;
  float step_[3];
  int decimateLuma_, decimateChroma_;  // PredictedEncodeOptions::decimation
  float rdLambda_;                     // PredictedEncodeOptions::rdLambda (0: off)
  float lambda_ = 0;                   // rdLambda * the luma step squared
  float interDeadzone_;                // PredictedEncodeOptions::interDeadzone
};

/**
 * The score of a pass's reconstruction, made on a helper thread (common/helper_threads.h) while
 * the encoder still codes the rows below: the helper follows the reconstruction top down, a
 * macroblock row of output rows at a time as the input rows they read become final, its filter
 * state carried from step to step (metrics::RowScorer::Cursor). When the encoder is done, the rows
 * left are split: the helper goes on to a limit, the encoder's thread scores the rest. The score
 * is bit-identical to planeScores() of the finished planes (RowScorer sums rows in order, whichever
 * thread scored them). Without a helper (one core, or a helper busy with other sessions' work) it
 * all runs on the encoder's thread after the encoder.
 */
class ConcurrentScore {
 public:
  // `planes` planes (3: R, G, B; 1: an I420 frame's luma) of the same size.
  ConcurrentScore(const metrics::PlaneRef* source, const metrics::PlaneRef* recon, int planes, int width, int height)
      : scorer_(source, recon, planes, width, height), height_(height), outputRows_(scorer_.outputRows()), limit_(outputRows_) {
    if (helperThreads() > 0 && outputRows_ > 2 * kStepRows) helper_ = offerToHelper([this] { follow(); });
  }
  ~ConcurrentScore() {
    if (!helper_) return;
    {
      std::lock_guard<std::mutex> l(m_);
      limit_ = 0;  // an encoder that threw: stop
    }
    cv_.notify_all();
    try {
      helper_->wait();
    } catch (...) {
    }
  }
  ConcurrentScore(const ConcurrentScore&) = delete;
  ConcurrentScore& operator=(const ConcurrentScore&) = delete;

  /** The encoder: the first `rows` rows of the reconstruction will not change again. */
  void rowsFinal(int rows) {
    if (!helper_) return;
    {
      std::lock_guard<std::mutex> l(m_);
      finalRows_ = rows;
    }
    cv_.notify_one();
  }

  /** Once the reconstruction is complete: the rows the helper has not reached, shared, then the sums. */
  metrics::ImageScores finish() {
    scoreRest();
    return scorer_.finish();
  }
  /** As finish(), each plane's totals. */
  std::vector<metrics::PlaneTotals> finishPlanes() {
    scoreRest();
    return scorer_.finishPlanes();
  }

 private:
  void scoreRest() {
    if (!helper_) {
      scorer_.scoreRows(0, outputRows_);
      return;
    }
    int from;
    {
      std::lock_guard<std::mutex> l(m_);
      finalRows_ = height_;
      // The helper finishes its step in hand and goes on to about half of what is left; this
      // thread (a fresh cursor: window - 1 rows filtered again) takes the rest.
      from = helperEnd_ + (outputRows_ - helperEnd_) / 2;
      limit_ = from;
    }
    cv_.notify_one();
    scorer_.scoreRows(from, outputRows_);
    // A helper that had not started: the rows above `from` run here.
    auto helper = std::move(helper_);
    helper->wait();
    if (error_) std::rethrow_exception(error_);
  }

  // A macroblock row of output rows per step of the helper.
  static constexpr int kStepRows = 16;

  /** Output rows whose input rows are all final. */
  int readyRows() const { return finalRows_ >= height_ ? outputRows_ : std::clamp(finalRows_ - scorer_.window() + 1, 0, outputRows_); }

  void follow() {
    metrics::RowScorer::Cursor cursor;
    int pos = 0;
    for (;;) {
      int end;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return pos >= limit_ || readyRows() >= std::min(limit_, pos + kStepRows); });
        if (pos >= limit_) return;
        end = std::min({limit_, readyRows(), pos + kStepRows});
        helperEnd_ = end;
      }
      try {
        scorer_.scoreRows(cursor, pos, end);
      } catch (...) {
        std::lock_guard<std::mutex> l(m_);
        error_ = std::current_exception();
        return;
      }
      pos = end;
    }
  }

  metrics::RowScorer scorer_;
  const int height_, outputRows_;
  std::mutex m_;
  std::condition_variable cv_;
  int finalRows_ = 0, helperEnd_ = 0, limit_;
  std::exception_ptr error_;
  std::shared_ptr<HelperTask> helper_;
};

uint32_t planesCheck(const uint8_t* const planes[3], int width, int height, int stride, int border) {
  uint32_t crc = 0;
  for (int p = 0; p < 3; ++p)
    for (int y = 0; y < height; ++y) crc = crc32c(planes[p] + static_cast<size_t>(y + border) * stride + border, static_cast<size_t>(width), crc);
  return crc;
}

void writeInterleaved(const uint8_t* const planes[3], int width, int height, PixelFormat format, uint8_t* out) {
  const int bpp = bytesPerPixel(format);
  const size_t n = static_cast<size_t>(width) * height;
  for (size_t i = 0; i < n; ++i) {
    uint8_t* px = out + i * bpp;
    px[0] = planes[0][i];
    px[1] = planes[1][i];
    px[2] = planes[2][i];
    if (bpp == 4) px[3] = 255;
  }
}

}  // namespace

InterModel::InterModel(InterModelConfig config) : config_(std::move(config)), modelId_(aic::modelId(config_.name, config_.version)) {
  for (int c = 0; c < 3; ++c) forward_[c] = prepareForward(config_.transform.channels[c]);
  for (const auto& scan : config_.scan) {
    bool seen[kCoefficients] = {};
    for (uint8_t i : scan) {
      if (i >= kCoefficients || seen[i]) throw CoreError(ErrorCode::ModelInvalid, "inter model: a scan order must hold each of the 64 coefficients once");
      seen[i] = true;
    }
  }
}

void ReferenceFrame::assign(int w, int h, uint32_t seq, const uint8_t* const src[3], bool withLuma) {
  width = w;
  height = h;
  stride = w + 2 * kBorder;
  sequence = seq;
  const int rows = h + 2 * kBorder;
  for (int p = 0; p < 3; ++p) {
    planes[p].resize(static_cast<size_t>(stride) * rows);
    for (int y = 0; y < rows; ++y) {
      const int sy = std::clamp(y - kBorder, 0, h - 1);
      const uint8_t* s = src[p] + static_cast<size_t>(sy) * w;
      uint8_t* d = planes[p].data() + static_cast<size_t>(y) * stride;
      std::memset(d, s[0], kBorder);
      std::memcpy(d + kBorder, s, static_cast<size_t>(w));
      std::memset(d + kBorder + w, s[w - 1], kBorder);
    }
  }
  const uint8_t* padded[3] = {planes[0].data(), planes[1].data(), planes[2].data()};
  check = planesCheck(padded, w, h, stride, kBorder);
  if (withLuma) {
    luma.resize(static_cast<size_t>(w) * h);
    for (size_t i = 0; i < luma.size(); ++i) luma[i] = static_cast<uint8_t>(lumaOf(src[0][i], src[1][i], src[2][i]));
  } else {
    luma.clear();
  }
}

InterStream::InterStream(std::shared_ptr<const InterModel> model, std::shared_ptr<const ImageCodec> image) : model_(std::move(model)), image_(std::move(image)) {
  if (!model_) throw CoreError(ErrorCode::InvalidArgument, "an inter stream needs an inter model");
  const auto& k = model_->config().keyframe;
  if (image_ && (k.coefficients != image_->config().latentChannels || k.block != image_->config().downsample || k.levels != image_->config().levels)) {
    throw CoreError(ErrorCode::ModelInvalid, "inter model '" + model_->config().name + "' was made for another image model than '" + image_->config().name + "'");
  }
}

void InterStream::adoptKeyframe(const uint8_t* payload, size_t length) {
  if (!image_) throw CoreError(ErrorCode::InvalidArgument, "this inter stream has no image codec to take keyframes from");
  const ParsedPayload parsed = parsePayload(payload, length);
  if (parsed.header.codec != CodecKind::NeuralImage || parsed.header.modelId != image_->modelId()) {
    throw CoreError(ErrorCode::InvalidArgument, "only a neural image payload of the stream's image model can become its reference");
  }
  keepCurrent();
  keyframePayload_.assign(payload, payload + length);
  keyframeWidth_ = static_cast<int>(parsed.header.dim0);
  keyframeHeight_ = static_cast<int>(parsed.header.dim1);
  keyframeSequence_ = parsed.header.sequence;
  keyframeTimestamp_ = parsed.header.timestamp;
  hasPending_ = false;
  previousField_ = {};
}

void InterStream::adoptFrame(int width, int height, uint32_t sequence, const uint8_t* const planes[3], uint64_t timestamp) {
  if (width < 1 || height < 1 || width > static_cast<int>(kMaxImageDimension) || height > static_cast<int>(kMaxImagePixels / width)) throw CoreError(ErrorCode::InvalidArgument, "reference size out of range");
  keepCurrent();
  keyframePayload_.clear();
  reference_.assign(width, height, sequence, planes, true);
  reference_.timestamp = timestamp;
  hasPending_ = false;
  previousField_ = {};
}

void InterStream::reset() {
  reference_ = {};
  keyframePayload_.clear();
  keyframeWidth_ = keyframeHeight_ = 0;
  hasPending_ = false;
  previousField_ = {};
  pending_ = {};
  for (auto& p : sourceScratch_) p = {};
  for (auto& set : reconScratch_)
    for (auto& p : set) p = {};
  kept_.clear();
}

void InterStream::keepReferences(int count) {
  if (count < 0 || count > 64) throw CoreError(ErrorCode::InvalidArgument, "keepReferences: count must be 0..64");
  keep_ = count;
  while (static_cast<int>(kept_.size()) > keep_) kept_.pop_front();
}

void InterStream::keepCurrent() {
  // A keyframe never materialised has no planes to keep (no predicted frame was coded on it).
  if (keep_ == 0 || !reference_.valid() || !keyframePayload_.empty()) return;
  KeptReference k;
  if (static_cast<int>(kept_.size()) >= keep_) {
    k = std::move(kept_.front());  // its buffers, reused
    kept_.pop_front();
  }
  k.width = reference_.width;
  k.height = reference_.height;
  k.sequence = reference_.sequence;
  k.timestamp = reference_.timestamp;
  for (int p = 0; p < 3; ++p) {
    k.planes[p].resize(static_cast<size_t>(k.width) * k.height);
    for (int y = 0; y < k.height; ++y) std::memcpy(k.planes[p].data() + static_cast<size_t>(y) * k.width, reference_.at(p, 0, y), static_cast<size_t>(k.width));
  }
  kept_.push_back(std::move(k));
}

const InterStream::KeptReference* InterStream::keptReference(uint32_t sequence, int width, int height) const {
  for (const auto& k : kept_)
    if (k.sequence == sequence && k.width == width && k.height == height) return &k;
  return nullptr;
}

bool InterStream::holdsReference(uint32_t sequence, int width, int height) const {
  return (hasReference(width, height) && referenceSequence() == sequence) || keptReference(sequence, width, height) != nullptr;
}

bool InterStream::hasReference(int width, int height) const {
  if (!keyframePayload_.empty()) return keyframeWidth_ == width && keyframeHeight_ == height;
  return reference_.valid() && reference_.width == width && reference_.height == height;
}

uint32_t InterStream::referenceSequence() const { return keyframePayload_.empty() ? reference_.sequence : keyframeSequence_; }

size_t InterStream::memoryBytes() const {
  size_t n = keyframePayload_.capacity() + reference_.luma.capacity();
  for (const auto& p : reference_.planes) n += p.capacity();
  for (const auto& p : pending_.planes) n += p.capacity();
  n += pending_.luma.capacity();
  for (const auto& p : sourceScratch_) n += p.capacity();
  n += i420Scratch_.capacity();
  for (const auto& set : reconScratch_)
    for (const auto& p : set) n += p.capacity();
  for (const auto& k : kept_)
    for (const auto& p : k.planes) n += p.capacity();
  return n;
}

void InterStream::materialise() {
  if (keyframePayload_.empty()) return;
  DecodedSymbols d = image_->decodeSymbols(keyframePayload_.data(), keyframePayload_.size());
  const size_t n = static_cast<size_t>(d.width) * d.height;
  std::array<std::vector<uint8_t>, 3> planes;
  for (auto& p : planes) p.resize(n);
  uint8_t* out[3] = {planes[0].data(), planes[1].data(), planes[2].data()};
  keyframeReference(model_->config().keyframe, d.symbols.data(), d.header.qualityLevel, d.latentHeight, d.latentWidth, d.width, d.height, out);
  const uint8_t* src[3] = {planes[0].data(), planes[1].data(), planes[2].data()};
  reference_.assign(d.width, d.height, d.header.sequence, src, true);
  reference_.timestamp = d.header.timestamp;
  keyframePayload_.clear();
  keyframePayload_.shrink_to_fit();
}

PredictedEncodeResult InterStream::encode(const ImageFrame& frame, const PredictedEncodeOptions& o) {
  if (!frame.data || frame.length != frameBytes(frame.format, frame.width, frame.height)) throw CoreError(ErrorCode::InvalidArgument, "frame size does not match its width, height and format");
  if (!hasReference(frame.width, frame.height)) throw CoreError(ErrorCode::ReferenceMissing, "no reference of this frame's size to predict from: code a keyframe first");
  if (o.frameType != FrameType::Video && o.frameType != FrameType::Screen) throw CoreError(ErrorCode::InvalidArgument, "predicted frames are video or screen frames");
  PredictedEncodeResult result;
  auto t0 = Clock::now();
  materialise();
  if (reference_.luma.empty()) {
    // A receiver-side stream turned sender: rebuild the search plane once.
    reference_.luma.resize(static_cast<size_t>(reference_.width) * reference_.height);
    for (int y = 0; y < reference_.height; ++y)
      for (int x = 0; x < reference_.width; ++x)
        reference_.luma[static_cast<size_t>(y) * reference_.width + x] =
            static_cast<uint8_t>(lumaOf(*reference_.at(0, x, y), *reference_.at(1, x, y), *reference_.at(2, x, y)));
  }
  // Recovery: a kept reference (the one a receiver that lost frames still holds), padded again.
  ReferenceFrame recovered;
  const ReferenceFrame* ref = &reference_;
  if (o.againstSequence && o.referenceSequence != reference_.sequence) {
    const KeptReference* k = keptReference(o.referenceSequence, frame.width, frame.height);
    if (!k) {
      throw CoreError(ErrorCode::ReferenceMissing, "this sender no longer holds frame " + std::to_string(o.referenceSequence) + " of this size to predict from (it keeps " +
                                                       std::to_string(keep_) + " earlier references): send a keyframe");
    }
    const uint8_t* planes[3] = {k->planes[0].data(), k->planes[1].data(), k->planes[2].data()};
    recovered.assign(k->width, k->height, k->sequence, planes, true);
    recovered.timestamp = k->timestamp;
    ref = &recovered;
  }
  SourcePlanes src;
  for (int p = 0; p < 3; ++p) src.rgb[p] = std::move(sourceScratch_[p]);
  src.luma = std::move(sourceScratch_[3]);
  const bool i420 = frame.format == PixelFormat::I420;
  if (i420) splitI420Frame(frame, src);
  else splitFrame(frame, src);
  MotionSearchOptions mso;
  mso.blockSize = 16;
  mso.range = 32;
  // A vector's bits weigh more against SAD as the quantiser coarsens: the search's weight follows
  // the step of the qp the closed loop starts at (H.264's encoders: lambda_motion ~ sqrt(lambda_mode) ~ step).
  if (o.motionLambda > 0) {
    const int qp0 = std::clamp(o.qp, std::max(0, o.minQp), std::min<int>(kMaxQp, o.maxQp));
    mso.lambda = std::clamp(static_cast<int>(std::lround(o.motionLambda * quantiserStep16(qp0) / 16.0f)), 1, 4096);
  }
  const Plane refLuma{ref->luma.data(), ref->width, ref->height, ref->width};
  const Plane curLuma{src.luma.data(), src.width, src.height, src.width};
  // The last field seeds the search only against the reference it was searched on.
  const bool seed = ref == &reference_ && !previousField_.vectors.empty();
  MotionField field = searchMotion(refLuma, curLuma, mso, seed ? &previousField_ : nullptr);
  result.timings.preprocessMs = msSince(t0);

  auto t1 = Clock::now();
  const size_t n = static_cast<size_t>(frame.width) * frame.height;
  std::array<std::vector<uint8_t>, 3> recon = std::move(reconScratch_[0]), best = std::move(reconScratch_[1]);
  for (auto& p : recon) p.resize(n);
  int qp = std::clamp(o.qp, std::max(0, o.minQp), std::min<int>(kMaxQp, o.maxQp));
  const int passes = std::max(1, o.maxPasses);
  bool haveBest = false, bestFits = false;
  // All the payload but the coded data: the compact form's when this frame can take it.
  const size_t compactFraming = o.compact ? compactPredictedFraming(o.sequence, o.timestamp, ref->sequence, ref->timestamp) : 0;
  const size_t framing = compactFraming ? compactFraming : kHeaderSize + kPredictedPrefix + kTrailerSize;
  for (int pass = 0; pass < passes; ++pass) {
    auto tp = Clock::now();
    uint8_t* out[3] = {recon[0].data(), recon[1].data(), recon[2].data()};
    int skipped = 0, inter = 0, intra = 0;
    PassEncoder enc(*model_, *ref, src, field, qp, out, o.decimateLuma, o.decimateChroma, o.rdLambda, o.interDeadzone);
    PredictedPass p;
    p.qp = qp;
    std::vector<uint8_t> coded;
    if (o.score && i420) {
      // What the receiver shows: the reconstruction converted back to I420 (the same integer
      // conversion as its decoder's), scored against the frame on its own planes as the image
      // path scores I420 keyframes (Y, U, V 6:1:1; the worst tile on luma). Luma, most of the
      // work, is converted and scored as its rows become final, beside the encoder; U and V
      // after it (bit-identical to metrics::i420Scores() of the whole frame).
      i420Scratch_.resize(frame.length);
      const metrics::PlaneRef sourceY{frame.data, static_cast<size_t>(frame.width), 1};
      const metrics::PlaneRef shownY{i420Scratch_.data(), static_cast<size_t>(frame.width), 1};
      ConcurrentScore score(&sourceY, &shownY, 1, frame.width, frame.height);
      int converted = 0;
      auto convertTo = [&](int rows) {
        if (rows <= converted) return;
        yuv::rgbPlanesToI420LumaRows(out, frame.width, converted, rows, i420Scratch_.data());
        converted = rows;
      };
      coded = enc.run(skipped, inter, intra, o.deblock, [&](int rows) {
        convertTo(rows);
        score.rowsFinal(rows);
      });
      convertTo(frame.height);
      const std::vector<metrics::PlaneTotals> luma = score.finishPlanes();
      yuv::rgbPlanesToI420Chroma(out, frame.width, frame.height, i420Scratch_.data());
      const metrics::ImageScores s = metrics::i420ScoresWithLuma(luma[0], frame.data, i420Scratch_.data(), frame.width, frame.height);
      p.ssim = s.ssim;
      p.psnr = s.psnr;
      p.worstTileSsim = s.worstTileSsim;
    } else if (o.score) {
      // The reconstruction's planes against the frame's channels, as they are (no interleaving),
      // scored while they are made.
      const size_t w = static_cast<size_t>(frame.width);
      const int bpp = bytesPerPixel(frame.format);
      const metrics::PlaneRef source[3] = {{frame.data, w * bpp, bpp}, {frame.data + 1, w * bpp, bpp}, {frame.data + 2, w * bpp, bpp}};
      const metrics::PlaneRef planes[3] = {{recon[0].data(), w, 1}, {recon[1].data(), w, 1}, {recon[2].data(), w, 1}};
      ConcurrentScore score(source, planes, 3, frame.width, frame.height);
      coded = enc.run(skipped, inter, intra, o.deblock, [&](int rows) { score.rowsFinal(rows); });
      const metrics::ImageScores s = score.finish();
      p.ssim = s.ssim;
      p.psnr = s.psnr;
      p.worstTileSsim = s.worstTileSsim;
    } else {
      coded = enc.run(skipped, inter, intra, o.deblock, [](int) {});
    }
    p.bytes = framing + coded.size();
    p.ms = msSince(tp);
    result.passes.push_back(p);
    const bool fits = o.maxBytes == 0 || p.bytes <= o.maxBytes;
    const bool meets = !o.score || (p.ssim >= o.aim && p.worstTileSsim >= o.tileAim);
    const bool serves = fits && meets;
    // Keep the pass that serves; else the best-scoring one that fits; else the smallest.
    const bool better = !haveBest || serves || (fits != bestFits ? fits : (fits ? p.ssim > result.ssim : p.bytes < result.payload.size()));
    if (better) {
      PayloadHeader h;
      h.frameType = o.frameType;
      h.codec = CodecKind::Predicted;
      h.flags = o.deblock ? kFlagDeblocked : 0;
      h.qualityLevel = static_cast<uint8_t>(qp);
      h.format = static_cast<uint8_t>(frame.format);
      h.modelId = model_->modelId();
      h.sequence = o.sequence;
      h.dim0 = static_cast<uint32_t>(frame.width);
      h.dim1 = static_cast<uint32_t>(frame.height);
      h.timestamp = o.timestamp;
      if (compactFraming) {
        result.payload = writeCompactPredictedPayload(h, ref->sequence, ref->check, ref->timestamp, coded.data(), coded.size());
      } else {
        std::vector<uint8_t> body;
        body.reserve(kPredictedPrefix + coded.size());
        put32(body, ref->sequence);
        put32(body, ref->check);
        body.insert(body.end(), coded.begin(), coded.end());
        result.payload = writePayload(h, body.data(), body.size());
      }
      result.qp = qp;
      result.ssim = p.ssim;
      result.psnr = p.psnr;
      result.worstTileSsim = p.worstTileSsim;
      result.skipped = skipped;
      result.inter = inter;
      result.intra = intra;
      std::swap(best, recon);
      for (auto& r : recon) r.resize(n);
      haveBest = true;
      bestFits = fits;
    }
    if (serves) break;
    // Next qp: finer where the score missed (by how much it missed), coarser where it did not fit.
    // The first miss guesses 150 qp steps per unit of SSIM. After two misses, the last two passes
    // say how the score moves here: 1 - SSIM is taken as exponential in qp (as the squared error
    // is in the step), and the qp where that line reaches the aim is tried, if it is further
    // than the guess. Detailed content near its ceiling gains a tenth of the guess per step: the
    // guess alone stopped three passes short of the floor, and every frame went as a keyframe.
    int next = qp;
    if (!fits) next = qp + 4;
    else if (!meets) {
      const double miss = std::max(o.aim - p.ssim, (o.tileAim - p.worstTileSsim) * 0.5);
      int step = std::clamp(static_cast<int>(std::ceil(miss * 150.0)), 2, 10);
      const PredictedPass* prev = result.passes.size() >= 2 ? &result.passes[result.passes.size() - 2] : nullptr;
      if (prev && prev->qp > qp) {
        // Steps from qp until log(1 - score) reaches log(1 - aim) on the line through both passes.
        auto stepsTo = [&](double before, double now, double aim) {
          if (now >= aim) return 0.0;
          const double lb = std::log(std::max(1e-6, 1 - before)), ln = std::log(std::max(1e-6, 1 - now)), la = std::log(std::max(1e-6, 1 - aim));
          const double perStep = (lb - ln) / (prev->qp - qp);
          return perStep > 1e-4 ? (ln - la) / perStep : 16.0;
        };
        const double need = std::max(stepsTo(prev->ssim, p.ssim, o.aim), stepsTo(prev->worstTileSsim, p.worstTileSsim, o.tileAim));
        step = std::max(step, std::min(16, static_cast<int>(std::ceil(need))));
      }
      next = qp - step;
    }
    next = std::clamp(next, std::max(0, o.minQp), std::min<int>(kMaxQp, o.maxQp));
    if (next == qp) break;
    qp = next;
  }
  result.scored = o.score;
  // The buffers go back for the next frame: the pass not chosen, the source, and the last
  // pending reconstruction (committed or dropped by now) for the one after.
  {
    const uint8_t* chosen[3] = {best[0].data(), best[1].data(), best[2].data()};
    pending_.assign(frame.width, frame.height, o.sequence, chosen, true);
    pending_.timestamp = o.timestamp;
  }
  reconScratch_[0] = std::move(recon);
  reconScratch_[1] = std::move(best);
  for (int p = 0; p < 3; ++p) sourceScratch_[p] = std::move(src.rgb[p]);
  sourceScratch_[3] = std::move(src.luma);
  pendingField_ = std::move(field);
  hasPending_ = true;
  result.timings.postprocessMs = msSince(t1);
  return result;
}

void InterStream::commit() {
  if (!hasPending_) throw CoreError(ErrorCode::InvalidArgument, "no predicted frame is waiting to become the reference");
  keepCurrent();
  // The old reference's buffers become the next pending frame's (same size: no allocation).
  std::swap(reference_, pending_);
  previousField_ = std::move(pendingField_);
  hasPending_ = false;
}

ImageDecodeResult InterStream::decode(const uint8_t* payload, size_t length, uint8_t* out, size_t outLength) {
  auto t0 = Clock::now();
  const ParsedPayload parsed = parsePayload(payload, length);
  PayloadHeader h = parsed.header;
  if (h.codec != CodecKind::Predicted) throw CoreError(ErrorCode::InvalidArgument, "payload is not a predicted frame");
  const bool compact = parsed.compactPredicted;
  const bool otherModel = compact ? parsed.modelTag != modelTag(model_->modelId()) : h.modelId != model_->modelId();
  if (otherModel) {
    throw CoreError(ErrorCode::ModelMismatch, "predicted frame was coded with another inter model (" + (compact ? "tag " + std::to_string(parsed.modelTag) : "id " + std::to_string(h.modelId)) +
                                                  ") than '" + model_->config().name + "@" + model_->config().version + "'");
  }
  // The compact form names its reference by the low bits of its sequence number and check, and
  // takes its size, sequence number and timestamp from it.
  const bool held = holdsAnyReference();
  const uint32_t heldSequence = referenceSequence();
  const int width = compact ? referenceWidth() : static_cast<int>(h.dim0);
  const int height = compact ? referenceHeight() : static_cast<int>(h.dim1);
  const uint32_t refSequence = compact ? heldSequence : get32(parsed.body);
  const bool named = compact ? (held && static_cast<uint16_t>(heldSequence) == parsed.referenceSequenceLow) : (hasReference(width, height) && heldSequence == refSequence);
  const std::string frameName = compact ? "predicted frame" : "predicted frame " + std::to_string(h.sequence);
  if (!named) {
    const std::string against = compact ? "a frame whose sequence number ends in " + std::to_string(parsed.referenceSequenceLow) + " (low 16 bits)" : "frame " + std::to_string(get32(parsed.body));
    throw CoreError(ErrorCode::ReferenceMissing, frameName + " is coded against " + against + ", which this receiver does not hold" +
                                                     (held && (compact || hasReference(width, height)) ? " (it holds frame " + std::to_string(heldSequence) + ")"
                                                                                                     : std::string(" (it holds no reference of this size)")) +
                                                     "; ask the sender for a keyframe (session.requestKeyframe())");
  }
  materialise();
  const bool sameCheck = compact ? static_cast<uint16_t>(reference_.check) == parsed.referenceCheckLow : reference_.check == get32(parsed.body + 4);
  if (!sameCheck) {
    throw CoreError(ErrorCode::ReferenceMissing, frameName + " is coded against a frame " + std::to_string(refSequence) +
                                                     " whose pixels differ from this receiver's (check mismatch); ask the sender for a keyframe (session.requestKeyframe())");
  }
  if (compact) {
    if (!compactPredictedCrcMatches(payload, length, model_->modelId(), reference_.check)) {
      throw CoreError(ErrorCode::CorruptPayload, "compact predicted payload fails its check (altered in transit, or coded against other pixels than this receiver's frame " +
                                                     std::to_string(refSequence) + "); the payload is corrupt");
    }
    if (parsed.timestampDelta > kMaxTimestamp - reference_.timestamp) throw CoreError(ErrorCode::CorruptPayload, "compact predicted payload's timestamp is past 2^53-1; the payload is corrupt");
    h.modelId = model_->modelId();
    h.sequence = reference_.sequence + parsed.sequenceDelta;
    h.timestamp = reference_.timestamp + parsed.timestampDelta;
    h.dim0 = static_cast<uint32_t>(width);
    h.dim1 = static_cast<uint32_t>(height);
  }
  const PixelFormat format = static_cast<PixelFormat>(h.format);
  const size_t outBytes = frameBytes(format, width, height);
  if (out && outLength != outBytes) {
    throw CoreError(ErrorCode::OutputMismatch, "output buffer holds " + std::to_string(outLength) + " bytes; this " + std::to_string(width) + "x" + std::to_string(height) +
                                                   " frame needs " + std::to_string(outBytes));
  }
  const uint8_t* coded = compact ? parsed.body : parsed.body + kPredictedPrefix;
  const size_t codedLength = compact ? parsed.bodyLength : parsed.bodyLength - kPredictedPrefix;
  const size_t n = static_cast<size_t>(width) * height;
  std::array<std::vector<uint8_t>, 3> recon;
  for (auto& p : recon) p.resize(n);
  uint8_t* planes[3] = {recon[0].data(), recon[1].data(), recon[2].data()};
  FrameWalk walk(*model_, reference_, h.qualityLevel, planes);
  entropy::BinaryDecoder coder(coded, codedLength);
  DecodeSide side{coder};
  MacroblockSyntax m;
  for (int y = 0; y < walk.mby(); ++y)
    for (int x = 0; x < walk.mbx(); ++x) {
      if (!walk.code(side, x, y, m) || !coder.ok()) throw CoreError(ErrorCode::CorruptPayload, "predicted frame's coded data does not decode; the payload is corrupt");
      walk.reconstruct(x, y, m);
    }
  if (!coder.finishedCleanly()) throw CoreError(ErrorCode::CorruptPayload, "predicted frame's coded data does not end where its body does; the payload is corrupt");
  if (h.flags & kFlagDeblocked) walk.deblock();
  ImageDecodeResult result;
  result.header = h;
  result.width = width;
  result.height = height;
  result.format = format;
  if (!out) {
    result.pixels.resize(outBytes);
    out = result.pixels.data();
  }
  const uint8_t* src[3] = {recon[0].data(), recon[1].data(), recon[2].data()};
  if (format == PixelFormat::I420) yuv::rgbPlanesToI420Fixed(src, width, height, out);
  else writeInterleaved(src, width, height, format, out);
  reference_.assign(width, height, h.sequence, src, false);
  reference_.timestamp = h.timestamp;
  previousField_ = {};
  result.timings.postprocessMs = msSince(t0);
  return result;
}

}  // namespace aic::video
