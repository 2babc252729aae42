// Run-time choice of instruction-set paths on x86-64. The portable prebuilt binary is compiled for
// the x86-64 baseline (SSE2); the hot loops that gain from wider vectors are compiled a second time
// with AIC_TARGET_AVX2_FMA and picked here by CPU *feature*. (GCC's target_clones("arch=haswell")
// dispatches on the CPU *model*: it picked the SSE2 build on every AMD CPU and every Intel one but
// Haswell.) Both builds of a loop compute the same operations; where contraction into FMA could
// change a result, the loop says so.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AIC_X86_DISPATCH 1
#define AIC_TARGET_AVX2_FMA __attribute__((target("avx2,fma")))
#define AIC_TARGET_SSE42 __attribute__((target("sse4.2")))
#else
#define AIC_X86_DISPATCH 0
#define AIC_TARGET_AVX2_FMA
#define AIC_TARGET_SSE42
#endif

namespace aic {

/** AVX2 and FMA (x86-64), unless baseline paths are forced. */
bool cpuHasAvx2Fma();
/** SSE4.2's CRC32 instruction (x86-64), unless baseline paths are forced. */
bool cpuHasSse42();
/**
 * Forces the portable paths (true) or lets the CPU's features choose again (false): for the C++
 * tests that hold both paths to the same results.
 */
void forceBaselinePaths(bool on);

}  // namespace aic
