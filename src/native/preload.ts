// Imported first by the package's entry point: loads the native addon and so starts ONNX Runtime's
// one-time work on a native thread (src/native/load.ts, startWarmup) while the rest of the package
// and the program load. Never throws; a missing addon is reported by the call that needs it.
import { preloadNative } from './load.js';

preloadNative();
