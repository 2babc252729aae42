#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace aic::metrics {

namespace {

constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
constexpr double kC2 = (0.03 * 255) * (0.03 * 255);

struct Plane {
  int w = 0, h = 0;
  std::vector<float> v;
  float at(int x, int y) const { return v[static_cast<size_t>(y) * w + x]; }
};

Plane extract(const uint8_t* p, int w, int h, int channels, int c) {
  Plane out{w, h, std::vector<float>(static_cast<size_t>(w) * h)};
  for (size_t i = 0; i < out.v.size(); ++i) out.v[i] = p[i * channels + c];
  return out;
}

Plane downsample(const Plane& in) {
  Plane out{in.w / 2, in.h / 2, {}};
  out.v.resize(static_cast<size_t>(out.w) * out.h);
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x)
      out.v[static_cast<size_t>(y) * out.w + x] =
          0.25f * (in.at(2 * x, 2 * y) + in.at(2 * x + 1, 2 * y) + in.at(2 * x, 2 * y + 1) + in.at(2 * x + 1, 2 * y + 1));
  return out;
}

std::vector<double> gaussian(int size) {
  std::vector<double> k(size);
  double sum = 0, c = (size - 1) / 2.0;
  for (int i = 0; i < size; ++i) sum += k[i] = std::exp(-((i - c) * (i - c)) / (2 * 1.5 * 1.5));
  for (double& v : k) v /= sum;
  return k;
}

// Valid-region separable filtering of `in` with kernel k (size n) in both directions.
std::vector<double> filter(const std::vector<double>& in, int w, int h, const std::vector<double>& k, int& ow, int& oh) {
  const int n = static_cast<int>(k.size());
  ow = w - n + 1;
  oh = h - n + 1;
  std::vector<double> tmp(static_cast<size_t>(ow) * h), out(static_cast<size_t>(ow) * oh);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0;
      const double* row = &in[static_cast<size_t>(y) * w + x];
      for (int i = 0; i < n; ++i) s += k[i] * row[i];
      tmp[static_cast<size_t>(y) * ow + x] = s;
    }
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += k[i] * tmp[static_cast<size_t>(y + i) * ow + x];
      out[static_cast<size_t>(y) * ow + x] = s;
    }
  return out;
}

// Mean SSIM and mean contrast-structure term of two planes.
void ssimTerms(const Plane& a, const Plane& b, double& ssimMean, double& csMean) {
  const int n = std::max(1, std::min({11, a.w, a.h}));
  const auto k = gaussian(n);
  const size_t count = a.v.size();
  std::vector<double> x(count), y(count), xx(count), yy(count), xy(count);
  for (size_t i = 0; i < count; ++i) {
    x[i] = a.v[i];
    y[i] = b.v[i];
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  int ow, oh;
  auto mx = filter(x, a.w, a.h, k, ow, oh), my = filter(y, a.w, a.h, k, ow, oh);
  auto sxx = filter(xx, a.w, a.h, k, ow, oh), syy = filter(yy, a.w, a.h, k, ow, oh), sxy = filter(xy, a.w, a.h, k, ow, oh);
  double ssimSum = 0, csSum = 0;
  for (size_t i = 0; i < mx.size(); ++i) {
    double vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i];
    double cs = (2 * cov + kC2) / (vx + vy + kC2);
    ssimSum += cs * (2 * mx[i] * my[i] + kC1) / (mx[i] * mx[i] + my[i] * my[i] + kC1);
    csSum += cs;
  }
  ssimMean = ssimSum / mx.size();
  csMean = csSum / mx.size();
}

}  // namespace

double psnr(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  const size_t pixels = static_cast<size_t>(width) * height;
  double se = 0;
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c) {
      double d = double(a[i * channels + c]) - double(b[i * channels + c]);
      se += d * d;
    }
  double mse = se / (pixels * 3.0);
  if (mse <= 0) return 100.0;
  return std::min(100.0, 10.0 * std::log10(255.0 * 255.0 / mse));
}

double ssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    double s, cs;
    ssimTerms(extract(a, width, height, channels, c), extract(b, width, height, channels, c), s, cs);
    total += s;
  }
  return total / 3.0;
}

double msssim(const uint8_t* a, const uint8_t* b, int width, int height, int channels) {
  static const double kWeights[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
  int scales = 1;
  while (scales < 5 && (std::min(width, height) >> scales) >= 11) ++scales;
  double weightSum = 0;
  for (int s = 0; s < scales; ++s) weightSum += kWeights[s];
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    Plane pa = extract(a, width, height, channels, c), pb = extract(b, width, height, channels, c);
    double value = 1;
    for (int s = 0; s < scales; ++s) {
      double ss, cs;
      ssimTerms(pa, pb, ss, cs);
      const double w = kWeights[s] / weightSum;
      // Negative cs (anti-correlated structure) would make the power undefined; clamp at 0.
      value *= std::pow(std::max(0.0, s == scales - 1 ? ss : cs), w);
      if (s + 1 < scales) {
        pa = downsample(pa);
        pb = downsample(pb);
      }
    }
    total += value;
  }
  return total / 3.0;
}

}  // namespace aic::metrics
