// The ONNX Runtime library this process runs on, loaded at run time rather than linked.
//
// Why: ONNX Runtime finds its execution-provider libraries (libonnxruntime_providers_cuda.so and
// libonnxruntime_providers_shared.so) only in the folder of the libonnxruntime it was loaded from.
// Linking the addon to the copy beside it would tie CUDA to files inside node_modules; loading it
// by path lets the TypeScript layer pick the copy that has the CUDA providers beside it (an ONNX
// Runtime GPU release folder, onnxruntime-node's optional download, a folder named by
// AIC_ONNXRUNTIME_DIR) and fall back to the bundled one. It also spares Windows an import library.
//
// Everything in the core uses the C++ API through Ort::Global<void>::api_ (ORT_API_MANUAL_INIT is
// defined for every file that includes onnxruntime_cxx_api.h), set here once per process.
#pragma once

#include <string>

namespace aic::runtime {

struct OnnxRuntimeLibrary {
  std::string path;     // the file loaded, or "(linked)" when the process already had one
  std::string version;  // OrtGetApiBase()->GetVersionString()
};

// Loads libonnxruntime from `path` and makes the C++ API use it. Once per process: a second call
// with the same path returns the first result; with another path it throws RuntimeUnavailable.
// Throws RuntimeUnavailable when the file cannot be loaded or its API is older than the headers'.
const OnnxRuntimeLibrary& loadOnnxRuntime(const std::string& path);

// The library in use, loading the default one when none is yet: the process's own when it was
// linked with one (the core's tests and fuzzers), else the file beside the module holding this code.
const OnnxRuntimeLibrary& onnxRuntime();

// True once a library is loaded (it then stays loaded until the process exits).
bool onnxRuntimeLoaded();

// The file name of the ONNX Runtime library on this platform (libonnxruntime.so.1, ...).
const char* onnxRuntimeFileName();

}  // namespace aic::runtime
