#include "codec_model.h"

#include "errors.h"

namespace aic {

namespace {
const std::string& checkedName(const std::string& name) {
  if (name.empty() || name.size() > 200) throw CoreError(ErrorCode::InvalidArgument, "a model needs a name of 1 to 200 characters");
  return name;
}
}  // namespace

CodecModel::CodecModel(const std::shared_ptr<Engine>& engine, const ModelLoadRequest& request)
    : name_(checkedName(request.name)),
      encoder_(engine, "encoder", request.encoder, request.encoderSignature),
      decoder_(engine, "decoder", request.decoder, request.decoderSignature) {}

}  // namespace aic
