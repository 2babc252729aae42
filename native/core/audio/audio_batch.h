// The per-frame step of many sending audio streams at once: encode each frame, decode the payload
// with the stream's shadow decoder exactly as the receiver will, and score what the receiver will
// play (audio_metrics.h). At server scale a 20 ms frame's work is a fraction of a millisecond, so
// the steps of all the streams that handed a frame over together run as one unit: one encoder run
// and one decoder run of ONNX Runtime for all their channels (when the graphs take rows, see
// AudioCodec::batched()), around the per-stream stages of AudioEncoderStream and
// AudioDecoderStream. A step's failure is its own: the others go on.
#pragma once

#include <exception>
#include <vector>

#include "audio/audio_codec.h"
#include "audio/audio_metrics.h"

namespace aic {

struct AudioStep {
  // The stream's objects; the caller holds them (and their locks) for the call. No two steps of
  // one call may share an encoder, a shadow decoder or a window.
  AudioEncoderStream* encoder = nullptr;
  AudioDecoderStream* shadow = nullptr;
  metrics::AudioScoreWindow* window = nullptr;
  AudioFrame frame;
  AudioEncodeOptions options;
  // The frame reaches the receiver exactly (right after a codec restart): the window takes the
  // input as the output.
  bool exact = false;

  // Results. The window is marked before the push, so the caller can rewind a miss.
  std::vector<uint8_t> payload;
  Timings timings, decodeTimings;  // a shared run's time is split over its rows
  metrics::AudioQuality quality;
  std::exception_ptr error;  // this step failed (its results are not set)
};

void runAudioSteps(const AudioCodec& codec, std::vector<AudioStep>& steps);

// Mono float samples of interleaved PCM (the score window measures mono).
std::vector<float> monoOf(const uint8_t* data, size_t length, SampleFormat format, int channels);

}  // namespace aic
