/* Prototypes of every registered kernel, generated from core/kernels.def. Internal to core/. */
#ifndef ULPGATE_CORE_KERNELS_H
#define ULPGATE_CORE_KERNELS_H

#include "ulpgate/ulpgate.h"

#define UG_KERNEL(fn, name, op, dt, alg, isa, ulp, per_n, per_cond, role, desc) \
    ug_status fn(const ug_problem *p);
#include "kernels.def"
#undef UG_KERNEL

#endif
