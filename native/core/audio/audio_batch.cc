#include "audio/audio_batch.h"

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace aic {

namespace {
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

std::vector<float> monoOf(const uint8_t* data, size_t length, SampleFormat format, int channels) {
  const size_t width = format == SampleFormat::F32le ? 4 : 2;
  const size_t n = length / width / static_cast<size_t>(channels);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    float sum = 0;
    for (int c = 0; c < channels; ++c) {
      const uint8_t* p = data + (i * channels + c) * width;
      if (format == SampleFormat::F32le) {
        float v;
        std::memcpy(&v, p, 4);
        sum += v;
      } else {
        int16_t v;
        std::memcpy(&v, p, 2);
        sum += v / 32768.0f;
      }
    }
    out[i] = sum / channels;
  }
  return out;
}

void runAudioSteps(const AudioCodec& codec, std::vector<AudioStep>& steps) {
  const size_t n = steps.size();
  const size_t frameSamples = static_cast<size_t>(codec.config().frameSamples);
  auto ok = [&](size_t i) { return !steps[i].error; };
  auto failing = [&](size_t i, auto&& stage) {
    try {
      stage();
    } catch (...) {
      steps[i].error = std::current_exception();
    }
  };
  // One run shared by the rows of many steps (rowStep[r]: the step of row r). When it fails, every
  // step with a row in it fails with the same error; its time is split over the rows, into each
  // step's `which` timings.
  auto sharedRun = [&](const std::vector<size_t>& rowStep, Timings AudioStep::*which, auto&& run) {
    const auto t = Clock::now();
    try {
      run();
    } catch (...) {
      const auto e = std::current_exception();
      for (size_t i : rowStep) steps[i].error = e;
    }
    const double perRow = rowStep.empty() ? 0.0 : msSince(t) / static_cast<double>(rowStep.size());
    for (size_t i : rowStep)
      if (ok(i)) (steps[i].*which).inferenceMs += perRow;
  };

  // 1. Each frame checked and resampled to the model's rate; one encoder row per channel.
  std::vector<std::vector<std::vector<float>>> modelRate(n);
  std::vector<std::vector<std::vector<int32_t>>> symbols(n);
  std::vector<AudioCodec::EncodeRow> encodeRows;
  std::vector<size_t> encodeStep;
  for (size_t i = 0; i < n; ++i) {
    AudioStep& s = steps[i];
    failing(i, [&] {
      modelRate[i] = s.encoder->prepare(s.frame, s.options, s.timings);
      symbols[i].resize(modelRate[i].size());
    });
    if (!ok(i)) continue;
    for (size_t ch = 0; ch < modelRate[i].size(); ++ch) {
      encodeRows.push_back({modelRate[i][ch].data(), &s.encoder->state(static_cast<int>(ch)), s.options.level, &symbols[i][ch]});
      encodeStep.push_back(i);
    }
  }
  // 2. One encoder run for all rows.
  sharedRun(encodeStep, &AudioStep::timings, [&] { codec.analyseRows(encodeRows); });
  // 3. Symbols coded into payloads; 4. the shadow decoders take the same symbols to latents.
  std::vector<std::vector<std::vector<float>>> latents(n);
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i)) continue;
    AudioStep& s = steps[i];
    failing(i, [&] {
      PayloadHeader header;
      s.payload = s.encoder->finish(symbols[i], s.frame, s.options, s.timings, &header);
      // From the symbols coded, not by parsing the payload (see latentsOfCoded()).
      latents[i] = s.shadow->latentsOfCoded(header, symbols[i], s.decodeTimings);
    });
  }
  // 5. One decoder run for all rows.
  std::vector<std::vector<std::vector<float>>> decodedRows(n);
  std::vector<AudioCodec::DecodeRow> decodeRows;
  std::vector<size_t> decodeStep;
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i)) continue;
    decodedRows[i].assign(latents[i].size(), std::vector<float>(frameSamples));
    for (size_t ch = 0; ch < latents[i].size(); ++ch) {
      decodeRows.push_back({&latents[i][ch], &steps[i].shadow->state(static_cast<int>(ch)), decodedRows[i][ch].data()});
      decodeStep.push_back(i);
    }
  }
  sharedRun(decodeStep, &AudioStep::decodeTimings, [&] { codec.synthesiseRows(decodeRows); });
  // 6. The receiver's PCM, and the score of what it will play.
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i)) continue;
    AudioStep& s = steps[i];
    failing(i, [&] {
      const auto decoded = s.shadow->output(decodedRows[i], s.decodeTimings);
      const auto reference = monoOf(s.frame.data, s.frame.length, s.frame.format, s.frame.channels);
      s.window->mark();
      if (s.exact) {
        s.quality = s.window->pushExact(reference.data(), reference.size());
      } else {
        const auto output = monoOf(decoded.pcm.data(), decoded.pcm.size(), decoded.format, decoded.channels);
        if (output.size() != reference.size()) throw std::logic_error("shadow decoder returned a frame of another length");
        s.quality = s.window->pushWithExactPrefix(reference.data(), output.data(), reference.size(), 0);
      }
    });
  }
}

}  // namespace aic
