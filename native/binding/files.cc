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
    // Read straight into memory that is not zeroed first, sized by the file's size, and grown if
    // the file turns out longer: a file may change meanwhile, so read to its end whatever the size said.
    size_t capacity = 0;
    if (std::fseek(f, 0, SEEK_END) == 0) {
      const long size = std::ftell(f);
      if (size > 0) capacity = static_cast<size_t>(size);
      std::fseek(f, 0, SEEK_SET);
    }
    auto bytes = std::make_shared<FileBytes>();
    capacity += 1;  // one more byte to see the end of the file without a second read
    bytes->data.reset(new uint8_t[capacity]);
    bool failed = false;
    for (;;) {
      const size_t n = std::fread(bytes->data.get() + bytes->size, 1, capacity - bytes->size, f);
      bytes->size += n;
      if (bytes->size < capacity) {
        failed = std::ferror(f) != 0;
        break;
      }
      std::unique_ptr<uint8_t[]> grown(new uint8_t[capacity * 2]);
      std::memcpy(grown.get(), bytes->data.get(), bytes->size);
      bytes->data = std::move(grown);
      capacity *= 2;
    }
    std::fclose(f);
    if (failed) throw CoreError(ErrorCode::ModelNotFound, path_ + " cannot be read");
    bytes_ = std::move(bytes);
  }
  Napi::Value toJs(Napi::Env env) override {
    if (bytes_->size == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    auto* holder = new std::shared_ptr<const FileBytes>(bytes_);
    uint8_t* data = bytes_->data.get();
    const int64_t size = static_cast<int64_t>(bytes_->size);
    auto buffer = Napi::Buffer<uint8_t>::NewOrCopy(env, data, bytes_->size,
                                                   [data, size](Napi::Env e, uint8_t*, std::shared_ptr<const FileBytes>* h) {
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
  std::shared_ptr<const FileBytes> bytes_;
};

}  // namespace

Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throwInvalid(env, "readFile(path) needs a path");
  return runAsync(env, "aic:readFile", std::make_unique<ReadFileJob>(info[0].As<Napi::String>().Utf8Value()));
}

std::shared_ptr<const FileBytes> sharedBytes(Napi::Env env, const uint8_t* data, size_t length) {
  auto& shared = addonData(env).sharedFiles;
  auto it = shared.upper_bound(data);
  if (it == shared.begin()) return nullptr;
  --it;
  auto bytes = it->second.lock();
  if (!bytes) return nullptr;
  const uint8_t* first = bytes->data.get();
  if (data < first || length > bytes->size || static_cast<size_t>(data - first) > bytes->size - length) return nullptr;
  return bytes;
}

}  // namespace aic::js
