#include "runtime/codec_model.h"

#include <exception>
#include <future>

#include "common/errors.h"

namespace aic {

namespace {
const std::string& checkedName(const std::string& name) {
  if (name.empty() || name.size() > 200) throw CoreError(ErrorCode::InvalidArgument, "a model needs a name of 1 to 200 characters");
  return name;
}
}  // namespace

CodecModel::CodecModel(const std::shared_ptr<Engine>& engine, const ModelLoadRequest& request)
    : name_(checkedName(request.name)) {
  // The two sessions are independent: the decoder's is created on a thread of its own while this
  // one creates the encoder's, so a model loads in the time of its slower graph on two cores.
  // The encoder's error, if any, wins, as when they were loaded one after the other.
  // Under ThreadSanitizer they are created one after the other: ONNX Runtime is not instrumented,
  // so its own (documented thread-safe) concurrent session creation shows up as races TSAN cannot
  // see the locks of; the sanitizer run is there for this project's code.
#if defined(__SANITIZE_THREAD__)
  constexpr std::launch policy = std::launch::deferred;
#else
  constexpr std::launch policy = std::launch::async;
#endif
  auto decoder = std::async(policy, [&] {
    return std::make_unique<Graph>(engine, "decoder", request.decoder, request.decoderSignature, request.decoderCache ? &*request.decoderCache : nullptr, request.callingThreadOnly);
  });
  std::exception_ptr encoderError;
  try {
    encoder_ = std::make_unique<Graph>(engine, "encoder", request.encoder, request.encoderSignature, request.encoderCache ? &*request.encoderCache : nullptr, request.callingThreadOnly);
  } catch (...) {
    encoderError = std::current_exception();
  }
  std::unique_ptr<Graph> decoded;
  std::exception_ptr decoderError;
  try {
    decoded = decoder.get();
  } catch (...) {
    decoderError = std::current_exception();
  }
  if (encoderError) std::rethrow_exception(encoderError);
  if (decoderError) std::rethrow_exception(decoderError);
  decoder_ = std::move(decoded);
}

}  // namespace aic
