/* The ISA-independent helpers of the SIMD kernels (core/simd.h). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "simd.h"

ug_status ug__simd_unavailable(const char *kernel, ug__isa isa)
{
    return ug__fail(UG_ERR_ARG, "%s: this CPU cannot run %s code (see ug_kernel_available)", kernel, ug__isa_name(isa));
}

double *ug__simd_scratch(size_t count)
{
    size_t bytes = (count * sizeof(double) + 63) / 64 * 64;
    double *s = aligned_alloc(64, bytes > 0 ? bytes : 64);
    if (s == NULL)
        ug__fail(UG_ERR_NOMEM, "cannot allocate scratch for %zu values", count);
    return s;
}

ug_status ug__simd_fallback_row(ug_kernel_fn scalar, ug_op op, ug_dtype dt, const ug_problem *p, size_t r,
                                double *loss)
{
    size_t es = ug_dtype_size(dt), per_row = ug_output_count(op, 1, p->n, UG_RED_NONE);
    double buf; /* room for one loss of any dtype */
    ug_problem q = {.rows = 1,
                    .n = p->n,
                    .x = (const char *)p->x + r * p->n * es,
                    .target = p->target != NULL ? p->target + r : NULL,
                    .aux = p->aux != NULL ? (const char *)p->aux + r * p->n * es : NULL,
                    .reduction = UG_RED_NONE,
                    .y = loss != NULL ? (void *)&buf : (char *)p->y + r * per_row * es};
    ug_status st = scalar(&q);
    if (loss != NULL)
        *loss = st == UG_OK ? ug_load(dt, &buf, 0) : NAN;
    return st;
}

void ug__simd_signed_zero_at_max(ug_dtype dt, const void *x, void *y, size_t n, double m)
{
    size_t imax = n, finite = 0;
    for (size_t j = 0; j < n; j++) {
        double v = ug_load(dt, x, j);
        finite += v != -INFINITY;
        if (v == m && imax == n)
            imax = j;
    }
    if (finite > 1 && imax < n)
        ug_store(dt, y, imax, -0.0);
}
