// A minimal test harness for the C++ core: TEST(name) registers a case, CHECK records a failure
// and goes on, REQUIRE stops the case. Output ends with "N passed, N failed".
#pragma once

#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace aic::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};
std::vector<Case>& registry();
extern int currentFailures;
// Folder of the fixture models, given on the command line.
extern std::string fixtureDir;

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};
struct Abort {};

}  // namespace aic::test

#define AIC_CAT2(a, b) a##b
#define AIC_CAT(a, b) AIC_CAT2(a, b)
#define TEST(name)                                                                          \
  static void name();                                                                       \
  static ::aic::test::Registrar AIC_CAT(registrar_, name)(#name, name);                     \
  static void name()
#define CHECK(cond)                                                                         \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::cerr << "  " << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed\n";    \
      ++::aic::test::currentFailures;                                                       \
    }                                                                                       \
  } while (0)
#define REQUIRE(cond)                                                                       \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::cerr << "  " << __FILE__ << ":" << __LINE__ << ": REQUIRE(" #cond ") failed\n";  \
      ++::aic::test::currentFailures;                                                       \
      throw ::aic::test::Abort{};                                                           \
    }                                                                                       \
  } while (0)
// Checks that `stmt` throws a CoreError with the given ErrorCode.
#define CHECK_THROWS_CODE(stmt, errcode)                                                    \
  do {                                                                                      \
    bool thrown_ = false;                                                                   \
    try {                                                                                   \
      stmt;                                                                                 \
    } catch (const ::aic::CoreError& e) {                                                   \
      thrown_ = e.code() == (errcode);                                                      \
      if (!thrown_) std::cerr << "  wrong code: " << e.what() << "\n";                      \
    }                                                                                       \
    if (!thrown_) {                                                                         \
      std::cerr << "  " << __FILE__ << ":" << __LINE__ << ": expected " #errcode "\n";     \
      ++::aic::test::currentFailures;                                                       \
    }                                                                                       \
  } while (0)
