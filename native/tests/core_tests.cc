// Unit tests of the ONNX Runtime core, without Node: loading, signature checks, numerics of the
// fixture graphs, caller-provided outputs, alignment copies, and many threads sharing one model
// (run under ThreadSanitizer by scripts/tsan.sh).
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "runtime/codec_model.h"
#include "runtime/onnxruntime_library.h"
#include "runtime/warmup.h"
#include "common/errors.h"
#include "test_harness.h"

using namespace aic;
using aic::test::fixtureDir;

namespace {

std::shared_ptr<Engine> cpuEngine() {
  EngineOptions o;
  o.provider = ProviderPreference::Cpu;
  o.intraOpThreads = 1;  // one thread: no ORT pool threads whose syncs TSAN cannot see
  return std::make_shared<Engine>(o);
}

ModelLoadRequest tinyRequest() {
  ModelLoadRequest r;
  r.name = "tiny";
  r.encoder.path = fixtureDir + "/tiny_encoder.onnx";
  r.decoder.path = fixtureDir + "/tiny_decoder.onnx";
  return r;
}

std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

TensorView floatView(const std::string& name, std::vector<float>& data, std::vector<int64_t> shape) {
  TensorView v;
  v.name = name;
  v.type = ElementType::Float32;
  v.shape = std::move(shape);
  v.data = data.data();
  v.byteLength = data.size() * sizeof(float);
  return v;
}
}  // namespace

// Exact numerics against an independent reference live in the JS tests (test/inference.test.ts,
// from weights.json); here we check the core's contracts.

TEST(loads_from_path_and_bytes) {
  auto engine = cpuEngine();
  CodecModel fromPath(engine, tinyRequest());
  CHECK(fromPath.graph(Part::Encoder).inputs().size() == 1);
  CHECK(fromPath.graph(Part::Encoder).inputs()[0].name == "image");
  CHECK(fromPath.graph(Part::Decoder).outputs()[0].name == "image");
  CHECK(fromPath.graph(Part::Encoder).provider().provider == "CPUExecutionProvider");

  auto enc = readFile(fixtureDir + "/tiny_encoder.onnx");
  auto dec = readFile(fixtureDir + "/tiny_decoder.onnx");
  ModelLoadRequest r;
  r.name = "tiny-bytes";
  r.encoder.bytes = enc.data();
  r.encoder.length = enc.size();
  r.decoder.bytes = dec.data();
  r.decoder.length = dec.size();
  CodecModel fromBytes(engine, r);
  CHECK(fromBytes.graph(Part::Decoder).inputs()[0].shape.size() == 4);
}

TEST(bad_model_files_are_refused_with_codes) {
  auto engine = cpuEngine();
  auto r = tinyRequest();
  r.encoder.path = fixtureDir + "/does_not_exist.onnx";
  CHECK_THROWS_CODE(CodecModel(engine, r), ErrorCode::ModelNotFound);

  auto enc = readFile(fixtureDir + "/tiny_encoder.onnx");
  auto truncated = tinyRequest();
  truncated.encoder.bytes = enc.data();
  truncated.encoder.length = enc.size() / 2;
  CHECK_THROWS_CODE(CodecModel(engine, truncated), ErrorCode::ModelInvalid);

  std::vector<uint8_t> garbage(300, 0xAB);
  auto junk = tinyRequest();
  junk.decoder.bytes = garbage.data();
  junk.decoder.length = garbage.size();
  CHECK_THROWS_CODE(CodecModel(engine, junk), ErrorCode::ModelInvalid);
}

TEST(declared_signature_is_checked) {
  auto engine = cpuEngine();
  auto r = tinyRequest();
  r.encoderSignature = GraphSignature{{{"image", ElementType::Float32, 4}}, {{"latent", ElementType::Float32, 4}}};
  r.decoderSignature = GraphSignature{{{"latent", ElementType::Float32, 4}}, {{"image", ElementType::Float32, 4}}};
  CodecModel ok(engine, r);  // matches: no throw

  auto wrongType = r;
  wrongType.encoderSignature->inputs[0].type = ElementType::Uint8;
  CHECK_THROWS_CODE(CodecModel(engine, wrongType), ErrorCode::ModelSignatureMismatch);
  auto wrongRank = r;
  wrongRank.decoderSignature->outputs[0].rank = 3;
  CHECK_THROWS_CODE(CodecModel(engine, wrongRank), ErrorCode::ModelSignatureMismatch);
  auto wrongName = r;
  wrongName.encoderSignature->outputs[0].name = "y";
  CHECK_THROWS_CODE(CodecModel(engine, wrongName), ErrorCode::ModelSignatureMismatch);
}

TEST(run_checks_inputs) {
  auto engine = cpuEngine();
  CodecModel model(engine, tinyRequest());
  const Graph& enc = model.graph(Part::Encoder);
  std::vector<float> img(3 * 4 * 4, 0.5f);
  CHECK_THROWS_CODE(enc.run({}, {}), ErrorCode::InvalidArgument);  // missing input
  auto wrongChannels = floatView("image", img, {1, 4, 4, 3});
  CHECK_THROWS_CODE(enc.run({wrongChannels}, {}), ErrorCode::InvalidArgument);
  auto wrongSize = floatView("image", img, {1, 3, 4, 5});
  CHECK_THROWS_CODE(enc.run({wrongSize}, {}), ErrorCode::InvalidArgument);
  auto unknown = floatView("pixels", img, {1, 3, 4, 4});
  CHECK_THROWS_CODE(enc.run({unknown}, {}), ErrorCode::InvalidArgument);
  auto good = floatView("image", img, {1, 3, 4, 4});
  auto out = enc.run({good}, {});
  REQUIRE(out.size() == 1);
  CHECK((out[0].shape == std::vector<int64_t>{1, 4, 2, 2}));
  const float* y = static_cast<const float*>(out[0].data);
  for (int i = 0; i < 16; ++i) CHECK(y[i] > -1.0f && y[i] < 1.0f);
}

TEST(caller_output_is_written_in_place) {
  auto engine = cpuEngine();
  CodecModel model(engine, tinyRequest());
  std::vector<float> img(3 * 8 * 8);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<float>(i % 17) / 17.0f;
  auto in = floatView("image", img, {1, 3, 8, 8});
  auto allocated = model.graph(Part::Encoder).run({in}, {});
  std::vector<float> latent(4 * 4 * 4, -9.0f);
  auto outView = floatView("latent", latent, {1, 4, 4, 4});
  auto inPlace = model.graph(Part::Encoder).run({in}, {outView});
  REQUIRE(inPlace[0].callerProvided);
  CHECK(inPlace[0].data == latent.data());
  CHECK(std::memcmp(latent.data(), allocated[0].data, latent.size() * sizeof(float)) == 0);
  CHECK(model.graph(Part::Encoder).counters().outputBytesCopied == 0);

  std::vector<float> tooSmall(10);
  auto bad = floatView("latent", tooSmall, {1, 4, 4, 4});
  CHECK_THROWS_CODE(model.graph(Part::Encoder).run({in}, {bad}), ErrorCode::OutputMismatch);
}

TEST(misaligned_input_is_copied_once_and_counted) {
  auto engine = cpuEngine();
  CodecModel model(engine, tinyRequest());
  std::vector<float> img(3 * 4 * 4, 0.25f);
  auto aligned = floatView("image", img, {1, 3, 4, 4});
  auto expect = model.graph(Part::Encoder).run({aligned}, {});
  CHECK(model.graph(Part::Encoder).counters().inputBytesCopied == 0);
  std::vector<uint8_t> raw((3 * 4 * 4) * 4 + 1);
  std::memcpy(raw.data() + 1, img.data(), 3 * 4 * 4 * 4);
  TensorView odd = aligned;
  odd.data = raw.data() + 1;
  auto got = model.graph(Part::Encoder).run({odd}, {});
  CHECK(model.graph(Part::Encoder).counters().inputBytesCopied == 3 * 4 * 4 * 4);
  CHECK(std::memcmp(got[0].data, expect[0].data, expect[0].byteLength) == 0);
}

TEST(cuda_request_falls_back_to_cpu_with_reason) {
  EngineOptions o;
  o.provider = ProviderPreference::Cuda;
  o.intraOpThreads = 1;
  auto engine = std::make_shared<Engine>(o);
  CodecModel model(engine, tinyRequest());
  const auto& choice = model.graph(Part::Encoder).provider();
  if (choice.provider == "CUDAExecutionProvider") {
    std::cout << "  (CUDA is available here; fallback not exercised)\n";
    return;
  }
  CHECK(choice.provider == "CPUExecutionProvider");
  CHECK(!choice.fallbackReason.empty());
  std::cout << "  fallback reason: " << choice.fallbackReason.substr(0, 48) << "...\n";

  EngineOptions strict = o;
  strict.strictProvider = true;
  bool threw = false;
  try {
    auto e2 = std::make_shared<Engine>(strict);
    CodecModel m2(e2, tinyRequest());
  } catch (const CoreError& e) {
    threw = e.code() == ErrorCode::ProviderUnavailable;
  }
  CHECK(threw);
}

TEST(conflicting_thread_settings_are_refused_while_an_engine_lives) {
  auto a = cpuEngine();
  EngineOptions other;
  other.intraOpThreads = 2;
  CHECK_THROWS_CODE(Engine{other}, ErrorCode::InvalidArgument);
  EngineOptions same;
  same.intraOpThreads = 1;
  Engine b(same);  // same settings share the environment
  CHECK(&b.env() == &a->env());
}

// The warm-up (runtime/warmup.h) runs a hand-encoded one-node graph in an environment of its own;
// an engine started while it runs must wait for it and still get an environment of its own
// settings (ONNX Runtime would otherwise hand it the warm-up's).
TEST(warmup_graph_runs_and_engines_start_after_it_with_their_own_settings) {
  runtime::onnxRuntime();
  runtime::startWarmup();
  runtime::startWarmup();  // once per process
  auto a = cpuEngine();    // waits for the warm-up inside
  runtime::awaitWarmup();
  runtime::awaitWarmup();
  EngineOptions other;
  other.intraOpThreads = 2;
  CHECK_THROWS_CODE(Engine{other}, ErrorCode::InvalidArgument);  // a's settings, not the warm-up's
  std::size_t size = 0;
  const char* bytes = runtime::identityModel(&size);
  ModelLoadRequest r;
  r.name = "identity";
  r.encoder.bytes = reinterpret_cast<const uint8_t*>(bytes);
  r.encoder.length = size;
  r.decoder.bytes = reinterpret_cast<const uint8_t*>(bytes);
  r.decoder.length = size;
  CodecModel model(a, r);
  const Graph& g = model.graph(Part::Encoder);
  REQUIRE(g.inputs().size() == 1);
  CHECK(g.inputs()[0].name == "x");
  CHECK(g.outputs()[0].name == "y");
  std::vector<float> x{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  auto out = g.run({floatView("x", x, {6})}, {});
  REQUIRE(out.size() == 1);
  CHECK((out[0].shape == std::vector<int64_t>{6}));
  CHECK(std::memcmp(out[0].data, x.data(), x.size() * sizeof(float)) == 0);
}

TEST(many_threads_share_one_model) {
  auto engine = cpuEngine();
  auto model = std::make_shared<CodecModel>(engine, tinyRequest());
  std::vector<float> img(3 * 16 * 16);
  for (size_t i = 0; i < img.size(); ++i) img[i] = std::sin(static_cast<float>(i)) * 0.5f + 0.5f;
  auto in = floatView("image", img, {1, 3, 16, 16});
  auto refLatent = model->graph(Part::Encoder).run({in}, {});
  auto refImage = model->graph(Part::Decoder).run(
      {TensorView{"latent", ElementType::Float32, refLatent[0].shape, refLatent[0].data, refLatent[0].byteLength}}, {});

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> out(3 * 16 * 16);
      for (int i = 0; i < 50; ++i) {
        auto lat = model->graph(Part::Encoder).run({in}, {});
        TensorView lv{"latent", ElementType::Float32, lat[0].shape, lat[0].data, lat[0].byteLength};
        if (t % 2) {
          auto o = floatView("image", out, {1, 3, 16, 16});
          model->graph(Part::Decoder).run({lv}, {o});
          if (std::memcmp(out.data(), refImage[0].data, refImage[0].byteLength) != 0) mismatches++;
        } else {
          auto img2 = model->graph(Part::Decoder).run({lv}, {});
          if (std::memcmp(img2[0].data, refImage[0].data, refImage[0].byteLength) != 0) mismatches++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
  CHECK(model->graph(Part::Encoder).counters().runs == 1 + 8 * 50);
}
