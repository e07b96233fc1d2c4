/* The ULP metric and the one comparison of a computed value with the exact one.
 * Nothing else in the project compares floats (STYLE.md rule 7).
 *
 * ulp error of y against exact v in format F (precision p, minimum exponent emin):
 *     |y - v| / ulp_F(v),   ulp_F(v) = 2^(max(e, emin) - p + 1) for |v| in [2^e, 2^(e+1)),
 *     ulp_F(0) = the smallest subnormal,
 * computed in MPFR from the unrounded v, so a correctly rounded y scores <= 0.5. */
#ifndef ULPGATE_ULP_H
#define ULPGATE_ULP_H

#include <mpfr.h>

#include "oracle.h"

typedef enum ug_cmp_class {
    UG_CMP_OK = 0,        /* both finite (ULP error meaningful), or the same special value */
    UG_CMP_NAN_WRONG,     /* NaN where the exact value is a number, or a number where NaN is  */
    UG_CMP_OVERFLOW,      /* +-inf where the correctly rounded value is finite, or finite where
                             it is +-inf (an overflow violation)                              */
    UG_CMP_INF_WRONG,     /* an infinity of the wrong sign, or inf where the exact is a
                             different infinity                                               */
    UG_CMP_ZERO_SIGN,     /* a zero of the other sign than the correctly rounded zero          */
    UG_CMP_CLASS_COUNT
} ug_cmp_class;

const char *ug_cmp_class_name(ug_cmp_class c); /* "ok", "nan", "overflow", "inf", "zero-sign" */

typedef struct ug_cmp {
    ug_cmp_class cls;
    double ulp;   /* the ULP error when both are finite; 0 for a matching special value;
                     +inf for a violation                                             */
} ug_cmp;

/* Compare the computed y (a dtype value held in a double) with the exact e. */
ug_cmp ug_compare(ug_dtype dt, double y, const ug_exact *e);

/* ug_compare for an e whose value may be lazy (oracle.h): 1 and *c set when e is not lazy
 * or when its enclosure decides the ULP error exactly (ANALYSIS.md §9.4), 0 when the value
 * is needed.  Never reads the lazy fields of an e with lazy = 0. */
int ug_compare_lazy(ug_dtype dt, double y, const ug_exact *e, ug_cmp *c);

/* |y - v| / ulp_dt(v) for finite y and finite v. */
double ug_ulp_error(ug_dtype dt, double y, mpfr_srcptr v);

/* Bit-level equality of two dtype values held in doubles: -0 != +0, NaN == NaN. */
int ug_same_bits(ug_dtype dt, double a, double b);

#endif
