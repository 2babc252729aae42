// rANS and CDF-table coding: random streams against many distributions, and the edge cases
// (empty, one symbol, saturated tails, escapes, corrupt streams).
#include <cmath>
#include <random>
#include <thread>

#include "entropy/cdf_tables.h"
#include "common/errors.h"
#include "entropy/rans.h"
#include "test_harness.h"

using namespace aic;
using namespace aic::entropy;

namespace {

// A table over [offset, offset + values - 1] plus escape, from a discretised Laplace of `scale`,
// every frequency >= 1.
CdfTable laplaceTable(int offset, int values, double scale, double center = 0) {
  std::vector<double> p(values + 1);
  double sum = 0;
  for (int i = 0; i < values; ++i) sum += p[i] = std::exp(-std::abs(offset + i - center) / scale);
  p[values] = sum * 1e-4;  // escape
  sum += p[values];
  CdfTable t;
  t.offset = offset;
  t.cdf.push_back(0);
  const int n = values + 1;
  uint32_t budget = (1u << kCdfPrecision) - n;  // one guaranteed count per symbol
  uint32_t acc = 0;
  for (int i = 0; i < n; ++i) {
    acc += 1 + static_cast<uint32_t>(p[i] / sum * budget);
    t.cdf.push_back(acc);
  }
  t.cdf.back() = 1u << kCdfPrecision;  // absorb rounding in the escape's interval
  return t;
}

std::vector<CdfTable> repeatTables(const CdfTable& t, size_t n) { return std::vector<CdfTable>(n, t); }

}  // namespace

TEST(rans_round_trips_raw_symbols_and_bits) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    const int scaleBits = 1 + trial % 16;
    RansEncoder enc;
    std::vector<std::pair<uint32_t, uint32_t>> ops;  // (value, bits) raw
    for (int i = 0; i < 500; ++i) {
      int bits = 1 + rng() % 32;
      uint32_t v = bits == 32 ? rng() : rng() & ((1u << bits) - 1);
      ops.push_back({v, static_cast<uint32_t>(bits)});
      enc.putBits(v, bits);
      uint32_t slot = rng() & ((1u << scaleBits) - 1);
      enc.put(slot, 1, scaleBits);
      ops.push_back({slot, 100u + scaleBits});
    }
    auto bytes = enc.finish();
    RansDecoder dec(bytes.data(), bytes.size());
    bool same = true;
    for (auto& [v, bits] : ops) {
      if (bits >= 100) {
        uint32_t s = dec.peek(bits - 100);
        dec.advance(s, 1, bits - 100);
        same &= s == v;
      } else {
        same &= dec.getBits(bits) == v;
      }
    }
    CHECK(same);
    CHECK(dec.finishedCleanly());
  }
}

TEST(cdf_coding_round_trips_many_distributions) {
  std::mt19937 rng(7);
  for (double scale : {0.05, 0.3, 1.0, 3.0, 12.0, 60.0}) {
    {
      const int contexts = kContexts, channels = 5, levels = 2, h = 13, w = 17;
      auto t = laplaceTable(-20, 41, scale);
      CdfTableSet set(levels, channels, contexts, repeatTables(t, levels * channels * contexts));
      std::vector<int32_t> sym(channels * h * w), back(sym.size(), 12345);
      std::exponential_distribution<double> ex(1.0 / scale);
      for (auto& s : sym) s = static_cast<int32_t>(std::lround(ex(rng) * (rng() % 2 ? 1 : -1)));
      for (int level = 0; level < levels; ++level) {
        auto bytes = set.encode(sym.data(), h, w, level);
        REQUIRE(set.decode(bytes.data(), bytes.size(), h, w, level, back.data()));
        CHECK(back == sym);
      }
    }
  }
}

TEST(cdf_coding_rate_is_near_the_entropy) {
  // Symbols drawn from the table's own distribution code to within 1% + a few bytes of -log2 p.
  auto t = laplaceTable(-8, 17, 1.5);
  CdfTableSet set(1, 1, kContexts, repeatTables(t, kContexts));
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> u(0, (1u << kCdfPrecision) - 1);
  const int n = 20000;
  std::vector<int32_t> sym(n);
  double bits = 0;
  for (auto& s : sym) {
    uint32_t slot = u(rng);
    int i = 0;
    while (t.cdf[i + 1] <= slot) ++i;
    if (i == t.symbols() - 1) i = 0;  // keep escapes out of this check
    s = t.offset + i;
    bits += -std::log2((t.cdf[i + 1] - t.cdf[i]) / 65536.0);
  }
  // Every context has the same table here, so the rate is that of the table.
  auto bytes = set.encode(sym.data(), 1, n, 0);
  CHECK(bytes.size() * 8.0 < bits * 1.01 + 64);
}

TEST(cdf_coding_edge_cases) {
  auto t = laplaceTable(-2, 5, 1.0);
  CdfTableSet set(1, 1, kContexts, repeatTables(t, kContexts));
  // empty frame: nothing but the 4-byte state
  std::vector<int32_t> none;
  auto empty = set.encode(none.data(), 0, 0, 0);
  CHECK(empty.size() == 4);
  CHECK(set.decode(empty.data(), empty.size(), 0, 0, 0, none.data()));
  // one symbol
  int32_t one = 1, back = 0;
  auto b1 = set.encode(&one, 1, 1, 0);
  CHECK(set.decode(b1.data(), b1.size(), 1, 1, 0, &back) && back == 1);
  // escapes at both ends, the first values beyond the table, and saturated tails
  std::vector<int32_t> tails = {2, 3, -2, -3, 1 << 28, -(1 << 28), 1000, -1000, 0, 5, -5, 3, 4, -4};
  std::vector<int32_t> got(tails.size());
  auto b2 = set.encode(tails.data(), 2, 7, 0);
  REQUIRE(set.decode(b2.data(), b2.size(), 2, 7, 0, got.data()));
  CHECK(got == tails);
  // out-of-range values and levels are refused
  int32_t huge = (1 << 28) + 1;
  CHECK_THROWS_CODE(set.encode(&huge, 1, 1, 0), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(set.encode(&one, 1, 1, 1), ErrorCode::InvalidArgument);
}

TEST(corrupt_streams_are_reported_not_crashed) {
  auto t = laplaceTable(-10, 21, 2.0);
  CdfTableSet set(1, 2, kContexts, repeatTables(t, 2 * kContexts));
  std::mt19937 rng(11);
  std::vector<int32_t> sym(2 * 16 * 16);
  for (auto& s : sym) s = static_cast<int32_t>(rng() % 9) - 4;
  auto bytes = set.encode(sym.data(), 16, 16, 0);
  std::vector<int32_t> back(sym.size());
  // truncated, extended, and bit-flipped streams: never a crash, and almost always refused
  CHECK(!set.decode(bytes.data(), bytes.size() - 1, 16, 16, 0, back.data()));
  auto longer = bytes;
  longer.push_back(0);
  CHECK(!set.decode(longer.data(), longer.size(), 16, 16, 0, back.data()));
  CHECK(!set.decode(bytes.data(), 3, 16, 16, 0, back.data()));
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    auto flipped = bytes;
    flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (!set.decode(flipped.data(), flipped.size(), 16, 16, 0, back.data()) || back != sym) ++refused;
  }
  CHECK(refused == 200);
}

TEST(bad_tables_are_refused) {
  auto t = laplaceTable(0, 4, 1.0);
  CHECK_THROWS_CODE(CdfTableSet(1, 1, kContexts, {}), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(CdfTableSet(1, 1, 4, repeatTables(t, 4)), ErrorCode::InvalidArgument);  // wrong context count
  auto flat = t;
  flat.cdf[2] = flat.cdf[1];  // zero frequency
  CHECK_THROWS_CODE(CdfTableSet(1, 1, kContexts, repeatTables(flat, kContexts)), ErrorCode::InvalidArgument);
  auto shortTotal = t;
  shortTotal.cdf.back() = 60000;
  CHECK_THROWS_CODE(CdfTableSet(1, 1, kContexts, repeatTables(shortTotal, kContexts)), ErrorCode::InvalidArgument);
}

TEST(predicted_channels_round_trip) {
  // Smooth planes (as block averages are) coded as median-prediction residuals, beside plain ones.
  auto t = laplaceTable(-30, 61, 3.0);
  const int channels = 4, h = 19, w = 23;
  std::vector<uint8_t> predicted = {1, 0, 1, 0};
  CdfTableSet pred(1, channels, kContexts, repeatTables(t, channels * kContexts), predicted);
  CdfTableSet plain(1, channels, kContexts, repeatTables(t, channels * kContexts));
  std::mt19937 rng(21);
  std::vector<int32_t> sym(channels * h * w);
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) sym[(c * h + y) * w + x] = static_cast<int32_t>(40 + 20 * std::sin(0.2 * x + 0.1 * y + c) + rng() % 3);
  sym[5] = 1 << 28;  // extreme values still round-trip
  sym[6] = -(1 << 28);
  auto bytes = pred.encode(sym.data(), h, w, 0);
  std::vector<int32_t> back(sym.size());
  REQUIRE(pred.decode(bytes.data(), bytes.size(), h, w, 0, back.data()));
  CHECK(back == sym);
  sym[5] = sym[6] = 40;
  // prediction makes smooth planes cheaper
  CHECK(pred.encode(sym.data(), h, w, 0).size() < plain.encode(sym.data(), h, w, 0).size());
  CHECK_THROWS_CODE(CdfTableSet(1, channels, kContexts, repeatTables(t, channels * kContexts), {1, 0}), ErrorCode::InvalidArgument);
}

TEST(prepared_symbol_division_is_exact) {
  std::mt19937 rng(17);
  bool exact = true;
  for (int i = 0; i < 200000; ++i) {
    uint32_t f = 1 + rng() % 65536;
    if (i < 16) f = 1u << i;  // powers of two
    uint32_t x = rng() & 0x7FFFFFFF;
    if (i % 7 == 0) x = 0x7FFFFFFF - (rng() % 1000);  // near the top of the range
    EncSymbol s = EncSymbol::make(0, f);
    uint32_t q = static_cast<uint32_t>((uint64_t(x) * s.multiplier) >> s.shift);
    exact &= q == x / f;
  }
  CHECK(exact);
}

TEST(rans_round_trips_unprepared_table_symbols) {
  std::mt19937 rng(23);
  RansEncoder enc;
  std::vector<std::pair<uint32_t, uint32_t>> syms;
  for (int i = 0; i < 3000; ++i) {
    uint32_t freq = 1 + rng() % 5000;
    uint32_t start = rng() % ((1u << 16) - freq + 1);
    syms.push_back({start, freq});
    enc.put(start, freq, 16);
  }
  auto bytes = enc.finish();
  RansDecoder dec(bytes.data(), bytes.size());
  bool ok = true;
  for (auto& [start, freq] : syms) {
    uint32_t slot = dec.peek(16);
    ok &= slot >= start && slot < start + freq;
    dec.advance(start, freq, 16);
  }
  CHECK(ok);
  CHECK(dec.finishedCleanly());
}

TEST(table_groups_share_tables_between_channels) {
  // Channels 0 and 2 are narrow, 1 and 3 wide: two groups of tables serve four channels.
  std::vector<CdfTable> tables;
  for (int level = 0; level < 2; ++level)
    for (double scale : {0.7, 6.0})
      for (int c = 0; c < kContexts; ++c) tables.push_back(laplaceTable(-40, 81, scale * (level + 1)));
  const int channels = 4;
  CdfTableSet grouped(2, channels, kContexts, tables, {}, {0, 1, 0, 1});
  CHECK(grouped.groups() == 2);
  CHECK(&grouped.table(1, 2, 3) == &grouped.table(1, 0, 3));
  CHECK(grouped.table(0, 1, 0).symbols() == grouped.table(0, 3, 0).symbols());
  std::mt19937 rng(5);
  std::vector<int32_t> sym(channels);
  for (int trial = 0; trial < 200; ++trial) {
    for (int c = 0; c < channels; ++c) sym[c] = static_cast<int32_t>(rng() % (c % 2 ? 25 : 3)) - (c % 2 ? 12 : 1);
    const int level = trial % 2;
    auto bytes = grouped.encode(sym.data(), 1, 1, level);
    std::vector<int32_t> back(channels);
    REQUIRE(grouped.decode(bytes.data(), bytes.size(), 1, 1, level, back.data()));
    CHECK(back == sym);
  }
  // A map of the wrong length, or one that leaves tables unaccounted for, is refused.
  CHECK_THROWS_CODE(CdfTableSet(2, channels, kContexts, tables, {}, {0, 1, 0}), ErrorCode::InvalidArgument);
  CHECK_THROWS_CODE(CdfTableSet(2, channels, kContexts, tables, {}, {0, 0, 0, 0}), ErrorCode::InvalidArgument);
}

TEST(levels_prepared_on_first_use_code_the_same_from_many_threads) {
  // Each level's encoder symbols are prepared by the first encode() at that level; threads that
  // encode at a level for the first time at once must all see them prepared, and code the same.
  std::vector<CdfTable> tables;
  for (int level = 0; level < 4; ++level)
    for (int c = 0; c < 3 * kContexts; ++c) tables.push_back(laplaceTable(-30, 61, 0.5 + level + c % 5));
  std::mt19937 rng(11);
  std::vector<int32_t> sym(3 * 16 * 16);
  for (auto& s : sym) s = static_cast<int32_t>(rng() % 21) - 10;
  CdfTableSet reference(4, 3, kContexts, tables);
  std::vector<std::vector<uint8_t>> expected;
  for (int level = 0; level < 4; ++level) expected.push_back(reference.encode(sym.data(), 16, 16, level));
  CdfTableSet fresh(4, 3, kContexts, tables);
  std::vector<std::vector<uint8_t>> got(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) threads.emplace_back([&, i] { got[i] = fresh.encode(sym.data(), 16, 16, i % 4); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 16; ++i) CHECK(got[i] == expected[i % 4]);
  std::vector<int32_t> back(sym.size());
  REQUIRE(fresh.decode(expected[2].data(), expected[2].size(), 16, 16, 2, back.data()));
  CHECK(back == sym);
}
