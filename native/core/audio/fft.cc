#include "audio/fft.h"

#include <cmath>
#include <utility>

namespace aic::audio {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

// The twiddle factors of fft() for every stage (len = 2, 4, .. n: w_k, k < len / 2, at
// len / 2 - 1 + k), made by the same recurrence w *= e^(-2 pi i / len) the transform used to
// run per group: the same values, so the same spectra, without a complex multiply per butterfly.
std::vector<std::complex<double>> twiddlesOf(size_t n) {
  std::vector<std::complex<double>> t;
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2 * kPi / static_cast<double>(len);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    std::complex<double> w(1);
    for (size_t k = 0; k < len / 2; ++k) {
      t.push_back(w);
      w *= wl;
    }
  }
  return t;
}

void fft(std::vector<std::complex<double>>& a, const std::vector<std::complex<double>>& twiddles) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  // The butterflies on the real and imaginary parts as doubles: std::complex's operator* checks
  // every product for NaN (and calls __muldc3 when it finds one), which made this loop half again
  // as slow; the products are the same (ac - bd, ad + bc) for the finite values it sees.
  double* d = reinterpret_cast<double*>(a.data());
  const double* t = reinterpret_cast<const double*>(twiddles.data());
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t halfLen = len / 2;
    const double* tw = t + 2 * (halfLen - 1);
    for (size_t i = 0; i < n; i += len) {
      double* lo = d + 2 * i;
      double* hi = lo + 2 * halfLen;
      for (size_t k = 0; k < halfLen; ++k) {
        const double wr = tw[2 * k], wi = tw[2 * k + 1];
        const double xr = hi[2 * k], xi = hi[2 * k + 1];
        const double vr = xr * wr - xi * wi, vi = xr * wi + xi * wr;
        const double ur = lo[2 * k], ui = lo[2 * k + 1];
        lo[2 * k] = ur + vr;
        lo[2 * k + 1] = ui + vi;
        hi[2 * k] = ur - vr;
        hi[2 * k + 1] = ui - vi;
      }
    }
  }
}

}  // namespace aic::audio
