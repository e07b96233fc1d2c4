/* CPU detection and the dispatch cap (cpu.h); the public half is ug_set_isa / ug_isa
 * (include/ulpgate/registry.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ulpgate/registry.h"
#include "cpu.h"
#include "internal.h"

static const char *const isa_names[UG__ISA_COUNT] = {"scalar", "avx2", "avx512"};

int ug__isa_from_name(const char *s)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < UG__ISA_COUNT; i++)
        if (strcmp(s, isa_names[i]) == 0)
            return i;
    return -1;
}

const char *ug__isa_name(ug__isa isa) { return (unsigned)isa < UG__ISA_COUNT ? isa_names[isa] : "?"; }

static int detect(ug__isa isa)
{
    __builtin_cpu_init();
    switch (isa) {
    case UG__ISA_SCALAR: return 1;
    case UG__ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
    case UG__ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    default: return 0;
    }
}

int ug__cpu_has(ug__isa isa)
{
    /* -1 unknown; the detection is idempotent, so a race only repeats it */
    static atomic_int known[UG__ISA_COUNT] = {-1, -1, -1};
    if ((unsigned)isa >= UG__ISA_COUNT)
        return 0;
    int v = atomic_load_explicit(&known[isa], memory_order_relaxed);
    if (v < 0) {
        v = detect(isa);
        atomic_store_explicit(&known[isa], v, memory_order_relaxed);
    }
    return v;
}

int ug__cpu_bf16_hw(void)
{
    static atomic_int known = -1;
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (v < 0) {
        __builtin_cpu_init();
        v = ug__cpu_has(UG__ISA_AVX512) && __builtin_cpu_supports("avx512bf16");
        atomic_store_explicit(&known, v, memory_order_relaxed);
    }
    return v && getenv("UG_NO_AVX512BF16") == NULL;
}

static ug__isa best_below(int want)
{
    int i = want < 0 || want >= UG__ISA_COUNT ? UG__ISA_COUNT - 1 : want;
    while (i > 0 && !ug__cpu_has((ug__isa)i))
        i--;
    return (ug__isa)i;
}

/* -1 until the first dispatch reads UG_ISA; ug_set_isa() overrides it. */
static atomic_int cap = -1;

ug__isa ug__isa_cap(void)
{
    int c = atomic_load_explicit(&cap, memory_order_acquire);
    if (c < 0) {
        /* an unknown or empty UG_ISA means "auto", like ug_set_isa("auto") */
        c = (int)best_below(ug__isa_from_name(getenv("UG_ISA")));
        int expected = -1;
        if (!atomic_compare_exchange_strong(&cap, &expected, c))
            c = expected;
    }
    return (ug__isa)c;
}

ug_status ug_set_isa(const char *isa)
{
    if (isa == NULL || strcmp(isa, "auto") == 0) {
        atomic_store_explicit(&cap, (int)best_below(-1), memory_order_release);
        return ug__fail(UG_OK, "%s", "");
    }
    int want = ug__isa_from_name(isa);
    if (want < 0)
        return ug__fail(UG_ERR_ARG, "unknown ISA '%s' (scalar, avx2, avx512 or auto)", isa);
    if (!ug__cpu_has((ug__isa)want))
        return ug__fail(UG_ERR_ARG, "this CPU cannot run %s code", isa);
    atomic_store_explicit(&cap, want, memory_order_release);
    return ug__fail(UG_OK, "%s", "");
}

const char *ug_isa(void) { return ug__isa_name(ug__isa_cap()); }
