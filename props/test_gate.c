/* ulpgate gate: a kernel made worse fails the gate (exit 1, a Markdown table saying what
 * changed); improvements pass; a damaged baseline is refused (exit 2, naming its line); a
 * missing one is an I/O error (exit 3); --update is deterministic and atomic; every
 * worst-case file is measured, and a damaged one is refused (exit 2, naming its line).
 *
 * "Made worse" is simulated by doctoring a baseline in a temporary directory so that the
 * kernel's real measurement is worse than the baseline says: a max_ulp or violations count
 * lowered, a boundary moved outward, a line for a kernel that does not exist (so it
 * "disappeared").  To stay quick every run measures one kernel (--kernel
 * softmax.naive.f32: about half a second); the whole registry against the committed
 * reports/baseline.txt is the ctest gate_baseline.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run_cli.h"

#define KERNEL "softmax.naive.f32"

/* ================================================================ files and the command */

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* ================================================================ a baseline to doctor */

typedef struct fixture {
    char dir[64];
    char path[128];  /* dir/baseline.txt: the kernel's own, fresh baseline */
    char *text;      /* its content                                        */
} fixture;

static run_result gate(const char *path) { return run_ulpgate((const char *[]){"gate", "--baseline", path, "--kernel", KERNEL, NULL}); }

static void fixture_init(fixture *fx)
{
    snprintf(fx->dir, sizeof fx->dir, "/tmp/ug_test_gate_XXXXXX");
    cr_assert_not_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/baseline.txt", fx->dir);
    run_result r = run_ulpgate((const char *[]){"gate", "--baseline", fx->path, "--kernel", KERNEL, "--update", NULL});
    cr_assert_eq(r.status, 0, "update: exit %d: %s", r.status, r.err);
    run_free(&r);
    fx->text = slurp(fx->path);
}

static void fixture_free(fixture *fx)
{
    remove(fx->path);
    char other[160];
    snprintf(other, sizeof other, "%s/doctored.txt", fx->dir);
    remove(other);
    cr_expect_eq(rmdir(fx->dir), 0, "%s holds only the files the test wrote (no temporary file left)", fx->dir);
    free(fx->text);
}

/* The text with the value of the line starting "prefix " replaced by value. */
static char *with_value(const char *text, const char *prefix, const char *value)
{
    char key[160];
    snprintf(key, sizeof key, "\n%s ", prefix);
    const char *p = strstr(text, key);
    cr_assert_not_null(p, "no line '%s' in the baseline", prefix);
    const char *eol = strchr(p + 1, '\n');
    size_t head = (size_t)(p - text) + strlen(key);
    char *s = malloc(strlen(text) + strlen(value) + 1);
    sprintf(s, "%.*s%s%s", (int)head, text, value, eol);
    return s;
}

/* The text with one more measurement line before the end line (its count raised). */
static char *with_line(const char *text, const char *line)
{
    const char *end = strstr(text, "\n# end: ");
    cr_assert_not_null(end);
    long count = strtol(end + 8, NULL, 10);
    char *s = malloc(strlen(text) + strlen(line) + 64);
    sprintf(s, "%.*s\n%s\n# end: %ld\n", (int)(end - text), text, line, count + 1);
    return s;
}

static const char *doctor(const fixture *fx, char *text)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/doctored.txt", fx->dir);
    spit(path, text);
    free(text);
    return path;
}

/* ================================================================ the tests */

Test(gate, clean_baseline_passes_with_no_change)
{
    fixture fx;
    fixture_init(&fx);
    cr_expect(strncmp(fx.text, "# ulpgate gate baseline, format 1\n", 34) == 0);
    cr_expect(strstr(fx.text, "\n" KERNEL " normal1 max_ulp 0x") != NULL, "%s", fx.text);
    cr_expect(strstr(fx.text, "\n" KERNEL " shift+ boundary 0x1.62e43p+6\n") != NULL, "%s", fx.text);
    run_result r = gate(fx.path);
    cr_expect_eq(r.status, 0, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "no change") != NULL, "%s", r.out);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, update_is_deterministic)
{
    fixture fx;
    fixture_init(&fx);
    run_result r = run_ulpgate((const char *[]){"gate", "--baseline", fx.path, "--kernel", KERNEL, "--update", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *again = slurp(fx.path);
    cr_expect_str_eq(again, fx.text);
    free(again);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, larger_max_ulp_fails_with_a_table)
{
    fixture fx;
    fixture_init(&fx);
    const char *p = doctor(&fx, with_value(fx.text, KERNEL " normal1 max_ulp", "0x1p-8"));
    run_result r = gate(p);
    cr_expect_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "| change | kernel | family or axis | metric | baseline | now |\n| --- |") != NULL, "%s",
              r.out);
    cr_expect(strstr(r.out, "| **worse** | `" KERNEL "` | normal1 | max_ulp | `0x1p-8` (0.00390625) |") != NULL,
              "%s", r.out);
    cr_expect(strstr(r.out, "gate: FAIL: 1 of 1 changes fail the gate") != NULL, "%s", r.out);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, new_violations_and_inward_boundary_fail)
{
    fixture fx;
    fixture_init(&fx);
    char *t = with_value(fx.text, KERNEL " overflow_edge violations", "0");
    const char *p = doctor(&fx, with_value(t, KERNEL " shift+ boundary", "0x1p+7"));
    free(t);
    run_result r = gate(p);
    cr_expect_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "| **worse** | `" KERNEL "` | overflow_edge | violations | `0` |") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "| **worse** | `" KERNEL "` | shift+ | boundary | `0x1p+7` (128) | `0x1.62e43p+6` (88.7228) |") !=
                  NULL,
              "%s", r.out);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, disappeared_kernel_fails)
{
    fixture fx;
    fixture_init(&fx);
    const char *p = doctor(&fx, with_line(fx.text, "softmax.gone.f32 normal1 max_ulp 0x1p-1"));
    run_result r = gate(p);
    cr_expect_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "| **disappeared** | `softmax.gone.f32` |") != NULL, "%s", r.out);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, improvement_passes_and_is_listed)
{
    fixture fx;
    fixture_init(&fx);
    const char *p = doctor(&fx, with_value(fx.text, KERNEL " normal1 max_ulp", "inf"));
    run_result r = gate(p);
    cr_expect_eq(r.status, 0, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "| better | `" KERNEL "` | normal1 | max_ulp | `inf` |") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "gate: PASS: 0 of 1 changes fail the gate") != NULL, "%s", r.out);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, damaged_baseline_is_refused_with_its_line)
{
    fixture fx;
    fixture_init(&fx);
    /* line 11 is the second measurement (9 header lines) */
    const char *p = doctor(&fx, with_value(fx.text, KERNEL " ascending p99", "0x1.zzp-1"));
    run_result r = gate(p);
    cr_expect_eq(r.status, 2, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.err, "doctored.txt:11:") != NULL && strstr(r.err, "bad p99 value '0x1.zzp-1'") != NULL, "%s",
              r.err);
    run_free(&r);

    char *cut = strdup(fx.text);
    *strstr(cut, "\n# end: ") = '\0';
    p = doctor(&fx, cut);
    r = gate(p);
    cr_expect_eq(r.status, 2, "a baseline cut short: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "cut short") != NULL, "%s", r.err);
    run_free(&r);

    p = doctor(&fx, strdup(""));
    r = gate(p);
    cr_expect_eq(r.status, 2, "an empty file is not an empty baseline: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "doctored.txt:1:1: not a ulpgate baseline") != NULL, "%s", r.err);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, missing_baseline_is_an_io_error)
{
    run_result r = gate("/nonexistent/baseline.txt");
    cr_expect_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "cannot open the baseline /nonexistent/baseline.txt") != NULL, "%s", r.err);
    run_free(&r);
}

/* ================================================================ worst-case files */

Test(gate, worst_case_files_are_measured_and_gated)
{
    fixture fx;
    fixture_init(&fx);
    /* the naive softmax overflows on the shifted rows of softmax.wc: violations, max inf */
    cr_expect(strstr(fx.text, "\n" KERNEL " wc:softmax.wc max_ulp inf\n") != NULL, "%s", fx.text);
    cr_expect(strstr(fx.text, "\n" KERNEL " wc:softmax.wc p99 ") != NULL, "%s", fx.text);
    const char *p = doctor(&fx, with_value(fx.text, KERNEL " wc:softmax.wc violations", "0"));
    run_result r = gate(p);
    cr_expect_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "| **worse** | `" KERNEL "` | wc:softmax.wc | violations | `0` |") != NULL, "%s", r.out);
    run_free(&r);
    fixture_free(&fx);
}

Test(gate, damaged_worst_case_file_is_refused_with_its_line)
{
    char dir[] = "/tmp/ug_test_gate_wc_XXXXXX", file[96];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/bad.wc", dir);
    spit(file, "# a damaged worst-case file\nsoftmax f32 : 1 2 3\nsoftmax f32 : 1 0x1.zzp0\n");
    run_result r = run_ulpgate((const char *[]){"gate", "--baseline", UG_SOURCE_DIR "/reports/baseline.txt", "--kernel",
                                                KERNEL, "--wc", dir, NULL});
    cr_expect_eq(r.status, 2, "exit %d: %s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.err, "bad.wc:3: bad number: '0x1.zzp0'") != NULL, "%s", r.err);
    run_free(&r);
    remove(file);
    cr_expect_eq(rmdir(dir), 0);

    r = run_ulpgate((const char *[]){"gate", "--baseline", UG_SOURCE_DIR "/reports/baseline.txt", "--kernel", KERNEL,
                                     "--wc", "/nonexistent/wc", NULL});
    cr_expect_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "cannot read the worst-case folder /nonexistent/wc") != NULL, "%s", r.err);
    run_free(&r);
}
