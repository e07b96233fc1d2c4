/* CPU features and the ISA that production dispatch may use.  Internal to core/.
 *
 * The ISAs of the registry's `isa` column, in the order dispatch prefers them:
 *   scalar   plain C, every CPU
 *   avx2     AVX2 + FMA (Haswell and later, Zen and later)
 *   avx512   AVX-512 F, DQ, BW, VL (Skylake-SP and later, Zen 4)
 * A CPU "has" an ISA when CPUID reports every feature and the OS saves the registers
 * (__builtin_cpu_supports checks both).  Nothing here assumes the build machine's ISA:
 * the SIMD files compile their functions for their ISA only (target pragmas, core/simd.h)
 * and are called only after ug__cpu_has() says yes.
 */
#ifndef ULPGATE_CORE_CPU_H
#define ULPGATE_CORE_CPU_H

typedef enum ug__isa { UG__ISA_SCALAR = 0, UG__ISA_AVX2 = 1, UG__ISA_AVX512 = 2, UG__ISA_COUNT = 3 } ug__isa;

/* The ISA named s ("scalar", "avx2", "avx512"); -1 when unknown. */
int ug__isa_from_name(const char *s);
const char *ug__isa_name(ug__isa isa);

/* 1 when this CPU (and its OS) can run code of that ISA. */
int ug__cpu_has(ug__isa isa);

/* 1 when the AVX-512 bf16 kernels may store through VCVTNEPS2BF16: the CPU has AVX-512
 * and AVX512_BF16, and the environment variable UG_NO_AVX512BF16 is unset (it forces the
 * integer rounding, for tests; read at every call).  Same bits either way. */
int ug__cpu_bf16_hw(void);

/* The highest ISA production dispatch may use: the best the CPU has, lowered by the
 * environment variable UG_ISA (read once, at the first call) or by ug_set_isa(). */
ug__isa ug__isa_cap(void);

#endif
