/* ulpgate boundary: the bisection finds the boundaries that libm and the arithmetic fix.
 *
 * Every expected boundary is derived here from first principles, never from the code under
 * test:
 *   - softmax.naive.f32 on shift+ (x = [0, -128] + c) computes expf(c) / expf(c) = 1
 *     exactly while expf(c) is finite (e^-128 is below half an ULP of the sum), and
 *     inf / inf = NaN from the first float c whose expf overflows: the boundary is the
 *     float after the largest float whose expf is finite, found below by walking libm's
 *     expf down from 89 (0x1.62e42ep+6 ~= 88.72 with glibc), and independently of libm
 *     with MPFR: the largest float below log((2 - 2^-24) 2^127), where the exact e^x
 *     passes the midpoint between FLT_MAX and 2^128 and so rounds to inf;
 *   - on shift- it computes 0 / 0 = NaN from the first c (going down) whose expf is 0;
 *   - softmax.pure.bf16 on the length axis (n zeros) adds 1 + 1 + ... in bf16: the sum
 *     stalls at 256 (257 is a tie and rounds to even, 256), so outputs are 1/256 from
 *     n = 257 on; at 257 that is 0.99 ULP of 1/257 (within its 1-ULP claim), at 258
 *     1.98 ULP: the boundary is n = 258;
 *   - the production softmax never fails on the shift axis.
 * The command runs as a child process; its text output is parsed.
 */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <mpfr.h>

#include "run_cli.h"

/* ================================================================ reading the command's output */

/* The line of kernel on axis in the output (cr_assert when absent). */
static const char *line_of(const char *out, const char *kernel, const char *axis)
{
    char key[128];
    snprintf(key, sizeof key, "%s ", kernel);
    for (const char *p = out; (p = strstr(p, key)) != NULL; p++) {
        if (p != out && p[-1] != '\n')
            continue;
        const char *a = p + strlen(key);
        while (*a == ' ')
            a++;
        if (strncmp(a, axis, strlen(axis)) == 0 && a[strlen(axis)] == ' ')
            return p;
    }
    cr_assert_fail("no line for %s %s in:\n%s", kernel, axis, out);
    return NULL;
}

/* The number after `what` in line (before its end). */
static double number_after(const char *line, const char *what)
{
    const char *p = strstr(line, what), *eol = strchr(line, '\n');
    cr_assert(p != NULL && (eol == NULL || p < eol), "no '%s' in: %.300s", what, line);
    return strtod(p + strlen(what), NULL);
}

static int line_has(const char *line, const char *what)
{
    const char *p = strstr(line, what), *eol = strchr(line, '\n');
    return p != NULL && (eol == NULL || p < eol);
}

/* ================================================================ the tests */

/* The largest float x whose e^x, correctly rounded to f32, is finite: e^x must stay below
 * FLT_MAX + ulp(FLT_MAX)/2 = (2 - 2^-24) 2^127 (exactly that would round to even, 2^128:
 * inf; e^x never equals it), so x < T = log((2 - 2^-24) 2^127), and x is T rounded down
 * to a float (T is irrational: no float equals it; 256 bits leave no doubt). */
static float expf_finite_limit_mpfr(void)
{
    mpfr_t t;
    mpfr_init2(t, 256);
    mpfr_set_d(t, 0x1.ffffffp127, MPFR_RNDN); /* exact: 25 bits */
    mpfr_log(t, t, MPFR_RNDD);
    float x = mpfr_get_flt(t, MPFR_RNDD);
    mpfr_clear(t);
    return x;
}

Test(boundary, naive_f32_shift_up_is_the_expf_overflow_threshold)
{
    float last = 89.0f;
    while (!isfinite(expf(last)))
        last = nextafterf(last, 0.0f);
    float first = nextafterf(last, INFINITY), limit = expf_finite_limit_mpfr();
    cr_log_info("largest float with expf finite: %a (%.9g) by libm, %a by MPFR; boundary expected at %a", (double)last,
                (double)last, (double)limit, (double)first);
    cr_expect_eq(last, limit, "libm's expf and MPFR disagree on the overflow threshold: %a against %a", (double)last,
                 (double)limit);
    first = nextafterf(limit, INFINITY); /* the exact answer decides, not libm */
    run_result r = run_ulpgate((const char *[]){"boundary", "--kernel", "softmax.naive.f32", "--axis", "shift+", NULL});
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    const char *l = line_of(r.out, "softmax.naive.f32", "shift+");
    cr_expect_eq(number_after(l, "fails from c = "), (double)first, "line: %.300s", l);
    cr_expect_eq(number_after(l, "(passes at "), (double)last, "line: %.300s", l);
    cr_expect(line_has(l, "returns nan"), "line: %.300s", l);
    cr_expect(!line_has(l, "NOT MONOTONE"), "line: %.300s", l);
    cr_expect(line_has(l, "exact: representable on the whole axis"), "line: %.300s", l);
    run_free(&r);
}

Test(boundary, naive_f32_shift_down_is_the_expf_underflow_to_zero)
{
    float c = -100.0f;
    while (expf(c) != 0.0f)
        c = nextafterf(c, -INFINITY);
    run_result r = run_ulpgate((const char *[]){"boundary", "--kernel", "softmax.naive.f32", "--axis", "shift-", NULL});
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    const char *l = line_of(r.out, "softmax.naive.f32", "shift-");
    cr_expect_eq(number_after(l, "fails from c = "), (double)c, "expected %a; line: %.300s", (double)c, l);
    cr_expect(!line_has(l, "NOT MONOTONE"), "line: %.300s", l);
    run_free(&r);
}

Test(boundary, production_softmax_never_fails_on_the_shift_axis)
{
    run_result r = run_ulpgate((const char *[]){"boundary", "--kernel", "softmax.twopass.f32", "--axis", "shift+", NULL});
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    const char *l = line_of(r.out, "softmax.twopass.f32", "shift+");
    cr_expect(line_has(l, "never fails (c up to 0x1.fffffep+127"), "line: %.300s", l);
    run_free(&r);
}

Test(boundary, pure_bf16_sum_stalls_at_256)
{
    run_result r = run_ulpgate((const char *[]){"boundary", "--kernel", "softmax.pure.bf16", "--axis", "length", NULL});
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    const char *l = line_of(r.out, "softmax.pure.bf16", "length");
    cr_expect_eq(number_after(l, "fails from n = "), 258.0, "line: %.300s", l);
    cr_expect_eq(number_after(l, "(passes at "), 257.0, "line: %.300s", l);
    cr_expect(line_has(l, "returns 0x1p-8"), "line: %.300s", l);
    run_free(&r);
}

Test(boundary, json_is_deterministic_and_written_atomically)
{
    char dir[] = "/tmp/ug_test_boundary_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    run_result r1 = run_ulpgate((const char *[]){"boundary", "--kernel", "xent.twostep.f32", "--json", a, NULL});
    run_result r2 = run_ulpgate((const char *[]){"boundary", "--kernel", "xent.twostep.f32", "--json", b, NULL});
    cr_assert_eq(r1.status, 0, "%s", r1.err);
    cr_assert_eq(r2.status, 0, "%s", r2.err);
    char *ja = slurp(a), *jb = slurp(b);
    cr_expect_str_eq(ja, jb);
    cr_expect_str_eq(r1.out, r2.out);
    cr_expect(strstr(ja, "\"axis\": \"dominance\"") != NULL);
    remove(a);
    remove(b);
    cr_expect_eq(rmdir(dir), 0, "only the two files were left in %s (no temporary file)", dir);
    free(ja), free(jb);
    run_free(&r1), run_free(&r2);
}

Test(boundary, bad_usage)
{
    run_result r = run_ulpgate((const char *[]){"boundary", "--kernel", "softmax.naive.f32", "--axis", "sideways", NULL});
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unknown axis 'sideways'") != NULL, "%s", r.err);
    run_free(&r);
    r = run_ulpgate((const char *[]){"boundary", "--kernel", "no.such.kernel", NULL});
    cr_expect_eq(r.status, 2);
    run_free(&r);
}
