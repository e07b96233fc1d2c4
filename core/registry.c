/* The registry table, built from core/kernels.def, and its look-ups. */
#include <string.h>

#include "ulpgate/registry.h"
#include "cpu.h"
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

/* The rank of a row's ISA (cpu.h); -1 for an ISA this build does not know. */
static int isa_rank(const ug_kernel *k) { return ug__isa_from_name(k->isa); }

int ug_kernel_available(const ug_kernel *k)
{
    int rank = k != NULL ? isa_rank(k) : -1;
    return rank >= 0 && ug__cpu_has((ug__isa)rank);
}

/* Among the production rows of (op, dt) the CPU can run, the highest ISA not above the
 * cap (UG_ISA, ug_set_isa); ties go to the first row. */
const ug_kernel *ug_kernel_production(ug_op op, ug_dtype dt)
{
    int cap = (int)ug__isa_cap(), best_rank = -1;
    const ug_kernel *best = NULL;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = &table[i];
        if (k->op != op || k->dtype != dt || k->role != UG_ROLE_PRODUCTION)
            continue;
        int rank = isa_rank(k);
        if (rank > best_rank && rank <= cap && ug_kernel_available(k))
            best = k, best_rank = rank;
    }
    return best;
}

double ug_bound_at(const ug_kernel *k, size_t n, double kappa)
{
    double b = k->bound.ulp + k->bound.per_n * (double)n;
    if (k->bound.per_cond > 0 && kappa > 0)
        b += k->bound.per_cond * kappa;
    return b;
}
