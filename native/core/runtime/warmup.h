// ONNX Runtime's one-time work in a process, started ahead of the first engine.
//
// Why: the first Ort::Env of a process registers every ONNX operator schema (about 14 ms on a
// small machine) and the first session builds the CPU provider's kernel registry (2-10 ms more).
// Both are process-wide and done once, whatever the environment's settings; measured, they are
// most of createEngine() (docs/native-core.md, "Engine start"). The binding starts this warm-up
// when the addon loads (src/native/load.ts), so that it runs while the rest of the program loads,
// and the first engine's own environment (with the caller's thread settings) then takes 0.1 ms.
//
// The warm-up makes an environment without global thread pools and one session of a one-node
// graph, then releases both, so it decides no setting an engine could ask for. An engine's
// environment waits for it to finish (ONNX Runtime hands out one environment per process: had
// the engine's been made while the warm-up's lived, it would have received the warm-up's).
#pragma once

#include <cstddef>

namespace aic::runtime {

// Starts the warm-up on a thread of its own, once per process; later calls do nothing. Needs the
// ONNX Runtime library loaded (onnxruntime_library.h). Errors are swallowed: the first engine
// meets them again and reports them.
void startWarmup();

// Waits until the warm-up (if one was started) has finished. Safe from any thread, any number of
// times; the process must call it before exiting while one may run (the binding does, on 'exit'),
// since ONNX Runtime's static objects are destroyed at exit.
void awaitWarmup();

// A one-node ONNX model (float tensor x of shape [n] -> Identity -> y), encoded by hand: what the
// warm-up loads.
const char* identityModel(std::size_t* size);

}  // namespace aic::runtime
