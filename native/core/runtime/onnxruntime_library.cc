#include "runtime/onnxruntime_library.h"

#include <mutex>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include <onnxruntime_cxx_api.h>

#include "common/errors.h"

namespace aic::runtime {

namespace {

using GetApiBaseFn = const OrtApiBase* (*)();

std::mutex loadMutex;
OnnxRuntimeLibrary loaded;
bool isLoaded = false;

std::string lastLoadError() {
#ifdef _WIN32
  return "error " + std::to_string(GetLastError());
#else
  const char* e = dlerror();
  return e ? e : "unknown error";
#endif
}

struct OpenedLibrary {
  void* handle = nullptr;
  GetApiBaseFn getApiBase = nullptr;
};

void closeLibrary(void* handle) {
#ifdef _WIN32
  FreeLibrary(static_cast<HMODULE>(handle));
#else
  dlclose(handle);
#endif
}

// Opens `path` and finds its OrtGetApiBase, or throws (closing what it opened). The handle of the
// library that is kept is never closed: ONNX Runtime's threads and statics live as long as the
// process.
OpenedLibrary openLibrary(const std::string& path) {
  OpenedLibrary out;
#ifdef _WIN32
  int wide = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
  std::wstring wpath(wide > 0 ? wide : 1, L'\0');
  MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, wpath.data(), wide);
  // LOAD_WITH_ALTERED_SEARCH_PATH: the DLLs ONNX Runtime depends on are looked up in its folder.
  HMODULE handle = LoadLibraryExW(wpath.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (!handle) throw CoreError(ErrorCode::RuntimeUnavailable, "could not load ONNX Runtime from " + path + ": " + lastLoadError());
  out.handle = handle;
  out.getApiBase = reinterpret_cast<GetApiBaseFn>(reinterpret_cast<void*>(GetProcAddress(handle, "OrtGetApiBase")));
#else
  // RTLD_LOCAL: another ONNX Runtime in the process (onnxruntime-node's) keeps its own symbols.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw CoreError(ErrorCode::RuntimeUnavailable, "could not load ONNX Runtime from " + path + ": " + lastLoadError());
  out.handle = handle;
  out.getApiBase = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
#endif
  if (!out.getApiBase) {
    closeLibrary(out.handle);
    throw CoreError(ErrorCode::RuntimeUnavailable, path + " is not an ONNX Runtime library (no OrtGetApiBase)");
  }
  return out;
}

void install(GetApiBaseFn getApiBase, const std::string& path) {
  const OrtApiBase* base = getApiBase();
  const OrtApi* api = base ? base->GetApi(ORT_API_VERSION) : nullptr;
  if (!api) {
    throw CoreError(ErrorCode::RuntimeUnavailable,
                    "the ONNX Runtime at " + path + " (version " + (base ? base->GetVersionString() : "unknown") +
                        ") does not offer C API version " + std::to_string(ORT_API_VERSION) + "; use ONNX Runtime 1." +
                        std::to_string(ORT_API_VERSION) + " or newer");
  }
  Ort::InitApi(api);
  loaded = {path, base->GetVersionString()};
  isLoaded = true;
}

// The folder of the module (addon or executable) that holds this code, with a trailing separator.
std::string moduleFolder() {
#ifdef _WIN32
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     reinterpret_cast<LPCWSTR>(&moduleFolder), &self);
  wchar_t buffer[32768];
  DWORD n = GetModuleFileNameW(self, buffer, 32768);
  std::wstring wide(buffer, n);
  auto cut = wide.find_last_of(L"\\/");
  wide = cut == std::wstring::npos ? L"" : wide.substr(0, cut + 1);
  int size = WideCharToMultiByte(CP_UTF8, 0, wide.c_str(), static_cast<int>(wide.size()), nullptr, 0, nullptr, nullptr);
  std::string out(size, '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide.c_str(), static_cast<int>(wide.size()), out.data(), size, nullptr, nullptr);
  return out;
#else
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&moduleFolder), &info) || !info.dli_fname) return "";
  std::string file = info.dli_fname;
  auto cut = file.find_last_of('/');
  return cut == std::string::npos ? "" : file.substr(0, cut + 1);
#endif
}

// Opens `path` and installs its API, closing the library again when it is refused (too old).
void openAndInstall(const std::string& path) {
  const OpenedLibrary lib = openLibrary(path);
  try {
    install(lib.getApiBase, path);
  } catch (...) {
    closeLibrary(lib.handle);
    throw;
  }
}

}  // namespace

const char* onnxRuntimeFileName() {
#if defined(_WIN32)
  return "onnxruntime.dll";
#elif defined(__APPLE__)
  return "libonnxruntime.1.dylib";
#else
  return "libonnxruntime.so.1";
#endif
}

const OnnxRuntimeLibrary& loadOnnxRuntime(const std::string& path) {
  std::lock_guard<std::mutex> lock(loadMutex);
  if (isLoaded) {
    if (path == loaded.path) return loaded;
    throw CoreError(ErrorCode::RuntimeUnavailable, "this process already runs ONNX Runtime from " + loaded.path +
                                                       "; it cannot switch to " + path + " (one ONNX Runtime per process)");
  }
  openAndInstall(path);
  return loaded;
}

const OnnxRuntimeLibrary& onnxRuntime() {
  std::lock_guard<std::mutex> lock(loadMutex);
  if (isLoaded) return loaded;
#ifndef _WIN32
  // A process linked with ONNX Runtime (the core's tests, the fuzzers) already has one.
  if (auto fn = reinterpret_cast<GetApiBaseFn>(dlsym(RTLD_DEFAULT, "OrtGetApiBase"))) {
    install(fn, "(linked)");
    return loaded;
  }
#endif
  openAndInstall(moduleFolder() + onnxRuntimeFileName());
  return loaded;
}

bool onnxRuntimeLoaded() {
  std::lock_guard<std::mutex> lock(loadMutex);
  return isLoaded;
}

}  // namespace aic::runtime
