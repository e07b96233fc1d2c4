/* The ULP metric and the one comparison of a computed value with the exact one.
 * Nothing else in the project compares floats (STYLE.md rule 7).
 *
 * ulp error of y against exact v in format F (precision p, minimum exponent emin):
 *     |y - v| / ulp_F(v),   ulp_F(v) = 2^(max(e, emin) - p + 1) for |v| in [2^e, 2^(e+1)),
 *     ulp_F(0) = the smallest subnormal,
 * computed in MPFR from the unrounded v (its 128-bit value v128) and rounded UP to
 * UG_ULP_BITS significant bits: F = RU_24(|y - v128| / ulp_F(v128)) (ANALYSIS.md §6).  A
 * correctly rounded y scores <= 0.5 (0.5 has 24 bits: F <= 0.5 exactly when the unrounded
 * error is), F is never below the unrounded error (so F <= claim proves the claim), and
 * whether y is faithful (the unrounded error < 1) is decided separately (ug_cmp.below1). */
#ifndef ULPGATE_ULP_H
#define ULPGATE_ULP_H

#include <mpfr.h>

#include "oracle.h"

/* Significant bits of the ULP error F (rounded up). */
#define UG_ULP_BITS 24

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
    double ulp;   /* the ULP error F when both are finite; 0 for a matching special
                     value; +inf for a violation                                      */
    int below1;   /* 1 when cls is UG_CMP_OK and the unrounded error is < 1 (y is one of
                     the two dtype neighbours of v128: faithful), exactly, also where
                     F = 1 after rounding up; 0 otherwise                              */
} ug_cmp;

/* Compare the computed y (a dtype value held in a double) with the exact e. */
ug_cmp ug_compare(ug_dtype dt, double y, const ug_exact *e);

/* ug_compare for an e whose value may be lazy (oracle.h): 1 and *c set when e is not lazy
 * or when its enclosure decides the ULP error exactly (ANALYSIS.md §9.4), 0 when the value
 * is needed.  Never reads the lazy fields of an e with lazy = 0. */
int ug_compare_lazy(ug_dtype dt, double y, const ug_exact *e, ug_cmp *c);

/* Whether the unrounded error |y - v| / ulp_dt(v) of finite y and v exceeds bound,
 * exactly (1 for a y or v not finite): the judge's over-bound test where F = RU_24 of it
 * cannot tell (bound between F's 24-bit predecessor and F). */
int ug_ulp_exceeds(ug_dtype dt, double y, mpfr_srcptr v, double bound);
/* ug_ulp_exceeds for a finite y of class UG_CMP_OK against an e whose value may be lazy:
 * 1 and *over set when decided (always when e is not lazy), 0 when the value is needed. */
int ug_compare_over_lazy(ug_dtype dt, double y, const ug_exact *e, double bound, int *over);

/* RU_24(|y - v| / ulp_dt(v)) for finite y and finite v. */
double ug_ulp_error(ug_dtype dt, double y, mpfr_srcptr v);
/* The same, and *below1 = 1 when the unrounded error is < 1, 0 otherwise. */
double ug_ulp_error_b(ug_dtype dt, double y, mpfr_srcptr v, int *below1);

/* Bit-level equality of two dtype values held in doubles: -0 != +0, NaN == NaN. */
int ug_same_bits(ug_dtype dt, double a, double b);

#endif
