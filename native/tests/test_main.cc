#include <cstdlib>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <cstring>

#include "common/errors.h"
#include "test_harness.h"

namespace aic::test {
std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
int currentFailures = 0;
std::string fixtureDir = "test/fixtures";
}  // namespace aic::test

// Usage: aic_core_tests [fixture-dir] [name-filter]
int main(int argc, char** argv) {
  using namespace aic::test;
  if (argc > 1) fixtureDir = argv[1];
  const char* filter = argc > 2 ? argv[2] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& c : registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    currentFailures = 0;
    try {
      c.fn();
    } catch (const Abort&) {
    } catch (const std::exception& e) {
      std::cerr << "  unexpected exception: " << e.what() << "\n";
      ++currentFailures;
    }
    std::cout << (currentFailures ? "FAIL " : "ok   ") << c.name << std::endl;
    (currentFailures ? failed : passed)++;
  }
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  // Leave without running static destructors: ONNX Runtime's process-wide environment would be
  // torn down by atexit while its own pool thread may still be winding down, a race inside ORT
  // that ThreadSanitizer reports intermittently on a loaded machine (not in this project's code:
  // every test above has finished and joined its own threads).
#if defined(__SANITIZE_ADDRESS__)
  // _Exit skips the exit-time leak check: run it here (the leak run, scripts/leaks.sh).
  if (__lsan_do_recoverable_leak_check() != 0) std::_Exit(2);
#endif
  std::_Exit(failed ? 1 : 0);
}
