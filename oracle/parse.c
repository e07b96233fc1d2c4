/* ug_parse_number: a decimal or hex float rounded once, correctly, to a dtype.
 *
 * Grammar (the whole string, nothing before or after it, case-insensitive):
 *     number  = [sign] (decimal | hex | "inf" | "infinity" | "nan")
 *     decimal = digits ["." [digits]] [exp10] | "." digits [exp10]
 *     hex     = ("0x") hexdigits ["." [hexdigits]] [exp2] | "0x." hexdigits [exp2]
 *     exp10   = "e" [sign] digits        exp2 = "p" [sign] digits
 * i.e. what strtod accepts minus leading blanks, "nan(...)" and locale decimal points.
 *
 * Rounding.  The value is rounded ONCE to the dtype: mpfr_strtofr at the dtype's precision
 * p, in the dtype's exponent range, then mpfr_check_range (overflow to +-inf in RNE) and
 * mpfr_subnormalize, which uses the ternary value of the first rounding to round again to
 * the subnormal precision without double rounding (MPFR manual, "Exception Related
 * Functions").  Going through binary64 or binary32 first would round twice: the decimal
 * 1.00390625000001 (just above 1 + 2^-8, the bf16 midpoint between 1 and 1 + 2^-7) is
 * 1 + 2^-8 in f32 and would then tie to even, down to 1; it must round up to 1 + 2^-7.
 *
 * MPFR exponent range of a dtype of precision p whose smallest normal is 2^emin (MPFR
 * writes x = m 2^E with m in [1/2, 1)):
 *     smallest subnormal 2^(emin-p+1) = 1/2 2^(emin-p+2)  ->  E_min = emin - p + 2
 *     largest finite     < 2^(2-emin), in [2^(1-emin), 2^(2-emin)) -> E_max = 2 - emin
 * (f32: -148, 128; f64: -1073, 1024; bf16: -132, 128.)
 */
#include <math.h>
#include <stddef.h>
#include <strings.h>

#include "oracle.h"

static int is_digit(char c, int hex)
{
    if (c >= '0' && c <= '9')
        return 1;
    return hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

static const char *skip_digits(const char *p, int hex, size_t *count)
{
    while (is_digit(*p, hex)) {
        p++;
        (*count)++;
    }
    return p;
}

/* 1 when s (after its optional sign) is inf, infinity or nan; sets *v. */
static int parse_special(const char *s, double *v)
{
    const char *p = s + (*s == '+' || *s == '-');
    double sign = *s == '-' ? -1.0 : 1.0;
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
        *v = sign * INFINITY;
        return 1;
    }
    if (strcasecmp(p, "nan") == 0) {
        *v = NAN;
        return 1;
    }
    return 0;
}

/* 1 when s is a complete decimal or hex number of the grammar above; sets *base. */
static int valid_syntax(const char *s, int *base)
{
    const char *p = s + (*s == '+' || *s == '-');
    int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    p += hex ? 2 : 0;
    size_t digits = 0;
    p = skip_digits(p, hex, &digits);
    if (*p == '.')
        p = skip_digits(p + 1, hex, &digits);
    if (digits == 0)
        return 0;
    char e = hex ? 'p' : 'e';
    if (*p == e || *p == e - 'a' + 'A') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        size_t exp_digits = 0;
        p = skip_digits(p, 0, &exp_digits);
        if (exp_digits == 0)
            return 0;
    }
    *base = hex ? 16 : 10;
    return *p == '\0';
}

/* Round the valid number s (base 10 or 16) once to dt; returns -1 if MPFR disagrees
 * with valid_syntax about where the number ends (cannot happen). */
static int round_to_dtype(const char *s, int base, ug_dtype dt, double *out)
{
    int p = ug_dtype_precision(dt), emin = ug_dtype_emin(dt);
    mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
    mpfr_t x;
    mpfr_init2(x, p);
    mpfr_set_emin(emin - p + 2);
    mpfr_set_emax(2 - emin);
    char *end;
    int t = mpfr_strtofr(x, s, &end, base, MPFR_RNDN);
    t = mpfr_check_range(x, t, MPFR_RNDN);
    mpfr_subnormalize(x, t, MPFR_RNDN);
    mpfr_set_emin(old_emin);
    mpfr_set_emax(old_emax);
    *out = mpfr_get_d(x, MPFR_RNDN); /* exact: x is a dt value, and dt fits in binary64 */
    mpfr_clear(x);
    return *end == '\0' ? 0 : -1;
}

int ug_parse_number(const char *s, ug_dtype dt, double *out)
{
    if (s == NULL || out == NULL || (unsigned)dt >= UG_DTYPE_COUNT)
        return -1;
    if (parse_special(s, out))
        return 0;
    int base;
    if (!valid_syntax(s, &base))
        return -1;
    double v;
    if (round_to_dtype(s, base, dt, &v) != 0)
        return -1;
    *out = v;
    return 0;
}
