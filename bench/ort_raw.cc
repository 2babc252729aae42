// Raw ONNX Runtime in C++, the floor under our core: loads the image model's encoder and decoder
// graphs and times encoder + decoder runs on one frame, with nothing of ours around them (no
// quantisation, no entropy coding, no N-API, no thread hop). bench/bench.mjs spawns it (section 5)
// and compares our end-to-end time with this plus our coding.
//
//   build:  cmake-js build --out build -- -DAIC_BUILD_BENCH=ON   (target aic_bench_ort_raw)
//   run:    aic_bench_ort_raw ENCODER DECODER WIDTH HEIGHT [ITERATIONS [THREADS [RGB_FILE [PAD]]]]
//
// The frame is RGB24 from RGB_FILE (WIDTH*HEIGHT*3 bytes; a fixed pattern when absent), turned into
// float NCHW in [0, 1] and padded by edge replication to a multiple of PAD (16: the model's
// paddingMultiple), as our core does. Threads: one global intra-op pool of THREADS, no spinning,
// per-session threads off, graph optimisation 'all': the settings of our engine. Prints one JSON
// object: per-iteration milliseconds of the encoder run, the decoder run, and the two together.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::vector<uint8_t> readRgb(const char* path, size_t bytes) {
  std::vector<uint8_t> rgb(bytes);
  if (path && *path) {
    std::ifstream f(path, std::ios::binary);
    if (!f || !f.read(reinterpret_cast<char*>(rgb.data()), static_cast<std::streamsize>(bytes))) {
      std::cerr << "ort_raw: cannot read " << bytes << " bytes from " << path << "\n";
      std::exit(2);
    }
  } else {
    for (size_t i = 0; i < bytes; i++) rgb[i] = static_cast<uint8_t>((i * 7) % 251);
  }
  return rgb;
}

void printSamples(const char* name, const std::vector<double>& v, bool last) {
  std::printf("\"%s\":[", name);
  for (size_t i = 0; i < v.size(); i++) std::printf("%s%.4f", i ? "," : "", v[i]);
  std::printf("]%s", last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: aic_bench_ort_raw ENCODER DECODER WIDTH HEIGHT [ITERATIONS [THREADS [RGB_FILE [PAD]]]]\n";
    return 2;
  }
  const std::string encPath = argv[1];
  const std::string decPath = argv[2];
  const int width = std::atoi(argv[3]);
  const int height = std::atoi(argv[4]);
  const int iterations = argc > 5 ? std::atoi(argv[5]) : 30;
  const int threads = argc > 6 ? std::atoi(argv[6]) : 2;
  const char* rgbFile = argc > 7 ? argv[7] : nullptr;
  const int pad = argc > 8 ? std::atoi(argv[8]) : 16;
  const int pw = (width + pad - 1) / pad * pad;
  const int ph = (height + pad - 1) / pad * pad;

  try {
    Ort::ThreadingOptions threading;
    threading.SetGlobalIntraOpNumThreads(threads);
    threading.SetGlobalInterOpNumThreads(1);
    threading.SetGlobalSpinControl(0);
    Ort::Env env(threading, ORT_LOGGING_LEVEL_FATAL, "ort_raw");
    Ort::SessionOptions so;
    so.DisablePerSessionThreads();
    so.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
    Ort::Session enc(env, encPath.c_str(), so);
    Ort::Session dec(env, decPath.c_str(), so);
    Ort::AllocatorWithDefaultOptions alloc;
    const std::string encIn = enc.GetInputNameAllocated(0, alloc).get();
    const std::string encOut = enc.GetOutputNameAllocated(0, alloc).get();
    const std::string decIn = dec.GetInputNameAllocated(0, alloc).get();
    const std::string decOut = dec.GetOutputNameAllocated(0, alloc).get();

    // RGB24 -> float NCHW [0, 1], edge-replicated to the padded size.
    const auto rgb = readRgb(rgbFile, static_cast<size_t>(width) * height * 3);
    std::vector<float> input(static_cast<size_t>(3) * pw * ph);
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++) {
          const int sy = std::min(y, height - 1);
          const int sx = std::min(x, width - 1);
          input[(static_cast<size_t>(c) * ph + y) * pw + x] = rgb[(static_cast<size_t>(sy) * width + sx) * 3 + c] / 255.0f;
        }
    const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    const int64_t inShape[4] = {1, 3, ph, pw};
    const char* encInNames[] = {encIn.c_str()};
    const char* encOutNames[] = {encOut.c_str()};
    const char* decInNames[] = {decIn.c_str()};
    const char* decOutNames[] = {decOut.c_str()};

    std::vector<double> encMs, decMs, totalMs;
    using clock = std::chrono::steady_clock;
    const int warmup = 3;
    for (int i = 0; i < warmup + iterations; i++) {
      Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), inShape, 4);
      const auto t0 = clock::now();
      auto latent = enc.Run(Ort::RunOptions{nullptr}, encInNames, &in, 1, encOutNames, 1);
      const auto t1 = clock::now();
      auto image = dec.Run(Ort::RunOptions{nullptr}, decInNames, &latent[0], 1, decOutNames, 1);
      const auto t2 = clock::now();
      if (i < warmup) continue;
      const double e = std::chrono::duration<double, std::milli>(t1 - t0).count();
      const double d = std::chrono::duration<double, std::milli>(t2 - t1).count();
      encMs.push_back(e);
      decMs.push_back(d);
      totalMs.push_back(e + d);
    }
    std::printf("{\"ortApiVersion\":%d,\"width\":%d,\"height\":%d,\"paddedWidth\":%d,\"paddedHeight\":%d,\"threads\":%d,\"iterations\":%d,",
                ORT_API_VERSION, width, height, pw, ph, threads, iterations);
    printSamples("encoderMs", encMs, false);
    printSamples("decoderMs", decMs, false);
    printSamples("totalMs", totalMs, true);
    std::printf("}\n");
  } catch (const Ort::Exception& e) {
    std::cerr << "ort_raw: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
