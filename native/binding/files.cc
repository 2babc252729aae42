#include "files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#ifdef _WIN32
#include <filesystem>
#endif

#include "addon_data.h"
#include "common/errors.h"
#include "job.h"

namespace aic::js {

namespace {

using Bytes = std::vector<uint8_t>;

class ReadFileJob : public Job {
 public:
  explicit ReadFileJob(std::string path) : path_(std::move(path)) {}
  void execute() override {
#ifdef _WIN32
    std::FILE* f = _wfopen(std::filesystem::u8path(path_).wstring().c_str(), L"rb");  // the path arrives as UTF-8
#else
    std::FILE* f = std::fopen(path_.c_str(), "rb");
#endif
    if (!f) throw CoreError(ErrorCode::ModelNotFound, path_ + " cannot be read: " + std::strerror(errno));
    auto bytes = std::make_shared<Bytes>();
    // Whatever the size says, read to the end: a file may grow or shrink meanwhile.
    if (std::fseek(f, 0, SEEK_END) == 0) {
      long size = std::ftell(f);
      if (size > 0) bytes->reserve(static_cast<size_t>(size));
      std::fseek(f, 0, SEEK_SET);
    }
    uint8_t chunk[1 << 16];
    size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes->insert(bytes->end(), chunk, chunk + n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) throw CoreError(ErrorCode::ModelNotFound, path_ + " cannot be read");
    bytes_ = std::move(bytes);
  }
  Napi::Value toJs(Napi::Env env) override {
    if (bytes_->empty()) return Napi::Buffer<uint8_t>::New(env, 0);
    auto* holder = new std::shared_ptr<const Bytes>(bytes_);
    const uint8_t* data = bytes_->data();
    const int64_t size = static_cast<int64_t>(bytes_->size());
    auto buffer = Napi::Buffer<uint8_t>::NewOrCopy(env, const_cast<uint8_t*>(data), bytes_->size(),
                                                   [data, size](Napi::Env e, uint8_t*, std::shared_ptr<const Bytes>* h) {
                                                     auto& shared = addonData(e).sharedFiles;
                                                     auto it = shared.find(data);
                                                     if (it != shared.end() && it->second.lock() == *h) shared.erase(it);
                                                     Napi::MemoryManagement::AdjustExternalMemory(e, -size);
                                                     delete h;
                                                   },
                                                   holder);
    Napi::MemoryManagement::AdjustExternalMemory(env, size);
    // A runtime without external buffers made a copy (and has let go of `holder`): nothing to share.
    if (buffer.Data() == data) addonData(env).sharedFiles[data] = bytes_;
    return buffer;
  }

 private:
  std::string path_;
  std::shared_ptr<const Bytes> bytes_;
};

}  // namespace

Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throwInvalid(env, "readFile(path) needs a path");
  return runAsync(env, "aic:readFile", std::make_unique<ReadFileJob>(info[0].As<Napi::String>().Utf8Value()));
}

std::shared_ptr<const std::vector<uint8_t>> sharedBytes(Napi::Env env, const uint8_t* data, size_t length) {
  auto& shared = addonData(env).sharedFiles;
  auto it = shared.upper_bound(data);
  if (it == shared.begin()) return nullptr;
  --it;
  auto bytes = it->second.lock();
  if (!bytes || data < bytes->data() || length > bytes->size() || static_cast<size_t>(data - bytes->data()) > bytes->size() - length) return nullptr;
  return bytes;
}

}  // namespace aic::js
