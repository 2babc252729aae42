// The streaming resampler: frame-by-frame equals all-at-once, a pass-band tone keeps its level,
// and a tone above the low Nyquist is suppressed when downsampling.
#include <cmath>
#include <vector>

#include "audio/resampler.h"
#include "test_harness.h"

using namespace aic;

namespace {
std::vector<float> sine(double freq, int rate, size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * freq * i / rate));
  return x;
}
double rms(const std::vector<float>& x, size_t skip) {
  double s = 0;
  for (size_t i = skip; i < x.size(); ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / (x.size() - skip));
}
}  // namespace

TEST(resampler_streams_exactly) {
  for (bool down : {true, false}) {
    auto x = sine(440, 48000, 960 * 10);
    Resampler whole(3, down), framed(3, down);
    std::vector<float> a, b;
    whole.process(x.data(), x.size(), a);
    for (size_t i = 0; i < x.size(); i += 960) framed.process(x.data() + i, 960, b);
    CHECK(a == b);
    CHECK(a.size() == (down ? x.size() / 3 : x.size() * 3));
  }
}

TEST(resampler_keeps_the_pass_band_and_removes_aliases) {
  auto tone = sine(1000, 48000, 48000);
  Resampler down(3, true);
  std::vector<float> d;
  down.process(tone.data(), tone.size(), d);
  CHECK(std::abs(rms(d, 200) - 0.5 / std::sqrt(2.0)) < 0.01);
  auto high = sine(12000, 48000, 48000);  // above 8 kHz: must not fold back into 16 kHz audio
  Resampler down2(3, true);
  std::vector<float> h;
  down2.process(high.data(), high.size(), h);
  CHECK(rms(h, 200) < 0.005);
  auto low = sine(1000, 16000, 16000);
  Resampler up(3, false);
  std::vector<float> u;
  up.process(low.data(), low.size(), u);
  CHECK(std::abs(rms(u, 600) - 0.5 / std::sqrt(2.0)) < 0.01);
  Resampler same(1, true);
  std::vector<float> s;
  same.process(low.data(), low.size(), s);
  CHECK(s == low);
}
