/* The registry table, built from core/kernels.def, and its look-ups. */
#include <string.h>

#include "ulpgate/registry.h"
#include "kernels.h"

static const ug_kernel table[] = {
#define UG_KERNEL(fn_, name_, op_, dt_, alg_, isa_, ulp_, per_n_, per_cond_, role_, desc_) \
    {.name = name_, .op = op_, .dtype = dt_, .algorithm = alg_, .isa = isa_, .fn = fn_,    \
     .bound = {ulp_, per_n_, per_cond_}, .role = UG_ROLE_##role_, .desc = desc_},
#include "kernels.def"
#undef UG_KERNEL
};

size_t ug_kernel_count(void) { return sizeof table / sizeof table[0]; }

const ug_kernel *ug_kernel_at(size_t i) { return i < ug_kernel_count() ? &table[i] : NULL; }

const ug_kernel *ug_kernel_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < ug_kernel_count(); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const char *ug_role_name(ug_role r)
{
    switch (r) {
    case UG_ROLE_PRODUCTION: return "production";
    case UG_ROLE_VARIANT: return "variant";
    case UG_ROLE_CANARY: return "canary";
    }
    return "?";
}

/* Scalar rows run on every CPU; when SIMD rows arrive (issue 7) this picks the best ISA
 * the CPU supports.  Today it returns the first production row of (op, dt). */
const ug_kernel *ug_kernel_production(ug_op op, ug_dtype dt)
{
    for (size_t i = 0; i < ug_kernel_count(); i++)
        if (table[i].op == op && table[i].dtype == dt && table[i].role == UG_ROLE_PRODUCTION)
            return &table[i];
    return NULL;
}

double ug_bound_at(const ug_kernel *k, size_t n, double kappa)
{
    double b = k->bound.ulp + k->bound.per_n * (double)n;
    if (k->bound.per_cond > 0 && kappa > 0)
        b += k->bound.per_cond * kappa;
    return b;
}
