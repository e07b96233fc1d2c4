/* The ulpgate command (list, run, exact) and ug_parse_number.
 *
 * The command is run as a child process (posix_spawn), its stdin from a temporary file,
 * its stdout and stderr into temporary files; each test checks the exit status, stdout
 * exactly and stderr by substring.  Every expected value is derived by hand, never taken
 * from the code under test:
 *   - log 2 = 0x1.62e42fefa39ef358p-1: f64 0x1.62e42fefa39efp-1 (next hex digit 3 < 8);
 *     f32 keeps 23 fraction bits, 0x1.62e42e + the next bit 1 with more after it rounds
 *     up to 0x1.62e43p-1; bf16 keeps 7, 0x1.62 (8th bit 0) rounds down to 0x1.62p-1;
 *   - 0.1 = 0x1.999999...p-4: f64 0x1.999999999999ap-4, f32 0x1.99999ap-4, bf16 keeps
 *     1001 100|1 1001...: above half, rounds up to 0x1.9ap-4;
 *   - softmax of equal values is 1/n; a masked (-inf) entry gives +0; n = 1 gives 1 for
 *     softmax, +0 for log_softmax and xent, x_0 itself for logsumexp (so a 1-element
 *     logsumexp row echoes the parsed input: parsing tested through the command).
 * The kernel outputs tested here are cases every correct kernel gets exactly right.
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

#include "oracle.h"
#include "ulp.h"
#include "ulpgate/registry.h"

extern char **environ;

#define LOG2_F64 "0x1.62e42fefa39efp-1"
#define LOG2_F32 "0x1.62e43p-1"
#define LOG2_BF16 "0x1.62p-1"

/* ================================================================ running the command */

typedef struct cli_result {
    int status; /* exit status; 128 + signal number when killed */
    char *out;
    char *err;
} cli_result;

static char *temp_path(void)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(strlen(dir) + 32);
    cr_assert_not_null(path);
    sprintf(path, "%s/ug_test_cli_XXXXXX", dir);
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp %s", path);
    close(fd);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    size_t got;
    while ((got = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0)
            s = realloc(s, cap *= 2);
    }
    s[len] = '\0';
    fclose(f);
    return s;
}

/* Run `ulpgate args...` with input on stdin and stdout to out_path (a temporary file
 * when NULL). */
static cli_result run_to(const char *input, const char *out_path, const char *const *args)
{
    const char *argv[32] = {UG_CLI_PATH};
    size_t argc = 1;
    for (; args[argc - 1] != NULL; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;
    char *in = temp_path(), *out = temp_path(), *err = temp_path();
    write_file(in, input);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path != NULL ? out_path : out, O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_TRUNC, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, UG_CLI_PATH, &fa, NULL, (char *const *)argv, environ);
    cr_assert_eq(rc, 0, "posix_spawn %s: %s", UG_CLI_PATH, strerror(rc));
    posix_spawn_file_actions_destroy(&fa);
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cli_result r = {WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws), read_file(out), read_file(err)};
    unlink(in);
    unlink(out);
    unlink(err);
    free(in);
    free(out);
    free(err);
    return r;
}

#define RUN(input, ...) run_to((input), NULL, (const char *const[]){__VA_ARGS__, NULL})

/* Check the exit status, stdout (exactly; not when out is NULL) and stderr (contains
 * err_part; empty when err_part is NULL); frees r.  line: the caller's, for messages. */
static void expect_at(int line, cli_result r, int status, const char *out, const char *err_part)
{
    cr_expect_eq(r.status, status, "line %d: exit status %d, expected %d; stderr: %s", line, r.status, status, r.err);
    if (out != NULL)
        cr_expect_str_eq(r.out, out, "line %d: stdout:\n%s\nexpected:\n%s", line, r.out, out);
    if (err_part != NULL)
        cr_expect(strstr(r.err, err_part) != NULL, "line %d: stderr '%s' does not contain '%s'", line, r.err, err_part);
    else
        cr_expect_str_eq(r.err, "", "line %d: unexpected stderr: %s", line, r.err);
    free(r.out);
    free(r.err);
}

#define expect(...) expect_at(__LINE__, __VA_ARGS__)

/* ================================================================ ug_parse_number */

#define expect_parse(s, dt, want) expect_parse_at(__LINE__, s, dt, want)

static void expect_parse_at(int line, const char *s, ug_dtype dt, double want)
{
    double got = 12345;
    cr_expect_eq(ug_parse_number(s, dt, &got), 0, "line %d: '%s' (%s) was refused", line, s, ug_dtype_name(dt));
    cr_expect(ug_same_bits(dt, got, want), "line %d: '%s' in %s: got %a, expected %a", line, s, ug_dtype_name(dt), got,
              want);
}

Test(parse, decimal_0_1_in_every_dtype)
{
    expect_parse("0.1", UG_F32, 0x1.99999ap-4);
    expect_parse("0.1", UG_BF16, 0x1.9ap-4);
    expect_parse("0.1", UG_F64, 0x1.999999999999ap-4);
}

Test(parse, forms)
{
    expect_parse("1.", UG_F32, 1.0);
    expect_parse(".5", UG_F32, 0.5);
    expect_parse("+1", UG_F64, 1.0);
    expect_parse("1E5", UG_F64, 100000.0);
    expect_parse("1e5", UG_BF16, 0x1.86p16); /* 100000 = 0x1.86ap16: 8th bit 0, down */
    expect_parse("0X1P-1", UG_F32, 0.5);
    expect_parse("0x.8p1", UG_F32, 1.0);
    expect_parse("0x1", UG_F64, 1.0);
    expect_parse("0x1e", UG_F64, 30.0); /* e is a hex digit, not an exponent */
    expect_parse("-0x1.8p-3", UG_BF16, -0x1.8p-3);
    expect_parse("-0", UG_F32, -0.0);
    expect_parse("0", UG_F32, 0.0);
}

Test(parse, bf16_ties_to_even)
{
    /* 1 + 2^-8: halfway between 1 (even) and 1 + 2^-7 (odd): down. */
    expect_parse("1.00390625", UG_BF16, 1.0);
    /* 1 + 3 2^-8: halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up. */
    expect_parse("1.01171875", UG_BF16, 0x1.04p0);
    /* Exact in f32: the ties are not an artefact of the format. */
    expect_parse("1.00390625", UG_F32, 0x1.01p0);
}

Test(parse, bf16_no_double_rounding_through_f32)
{
    /* 1 + 2^-8 + 2^-30 is above the bf16 midpoint 1 + 2^-8: it must round up.  Through
     * f32 it would first round to 1 + 2^-8 (2^-30 < half an f32 ulp, 2^-24), a tie that
     * then goes to even, down to 1: the wrong answer.  Both halves are checked. */
    const char *just_above = "1.003906250931322574615478515625";
    expect_parse(just_above, UG_F32, 0x1.01p0); /* the midpoint: the trap is real */
    expect_parse(just_above, UG_BF16, 0x1.02p0);
    expect_parse("1.00390625000001", UG_F32, 0x1.01p0);
    expect_parse("1.00390625000001", UG_BF16, 0x1.02p0);
    /* Just below the midpoint: down, in both. */
    expect_parse("1.00390624999999", UG_BF16, 1.0);
}

Test(parse, f32_no_double_rounding_through_f64)
{
    /* 1 + 2^-24 + 1e-29: binary64 would give the f32 midpoint 1 + 2^-24 exactly (1e-29
     * is far below half a binary64 ulp), which ties to even, down to 1; f32 must round up. */
    const char *s = "1.00000005960464477539062500001";
    expect_parse(s, UG_F64, 0x1.000001p0);
    expect_parse(s, UG_F32, 0x1.000002p0);
}

Test(parse, subnormals)
{
    expect_parse("0x1p-133", UG_BF16, 0x1p-133);   /* smallest bf16 subnormal */
    expect_parse("0x1p-134", UG_BF16, 0.0);        /* half of it: tie, to even 0 */
    expect_parse("-0x1p-134", UG_BF16, -0.0);
    expect_parse("0x1.0000001p-134", UG_BF16, 0x1p-133); /* just above half */
    expect_parse("0x1.8p-133", UG_BF16, 0x1p-132); /* 1.5 units: tie, to even 2 */
    expect_parse("0x1.8p-133", UG_F32, 0x1.8p-133); /* a normal-range f32 subnormal */
    expect_parse("1e-45", UG_F32, 0x1p-149);       /* 2^-149 ~ 1.4e-45, half ~ 7.006e-46 */
    expect_parse("7e-46", UG_F32, 0.0);
    expect_parse("0x1p-150", UG_F32, 0.0);
    expect_parse("0x1.8p-149", UG_F32, 0x1p-148);
    /* 2^-1075 = 2.47032822920623272088...e-324: the f64 midpoint between 0 and 2^-1074. */
    expect_parse("2.4703282292062328e-324", UG_F64, 0x1p-1074);
    expect_parse("2.4703282292062327e-324", UG_F64, 0.0);
    expect_parse("1e-99999999999999999999", UG_F64, 0.0);
    expect_parse("-1e-99999999999999999999", UG_F32, -0.0);
}

Test(parse, overflow)
{
    /* FLT_MAX = 3.4028234664e38; the midpoint to 2^128 is 3.4028235678e38. */
    expect_parse("3.4028235e38", UG_F32, 0x1.fffffep127);
    expect_parse("3.4028236e38", UG_F32, INFINITY);
    expect_parse("1e39", UG_F32, INFINITY);
    expect_parse("-1e39", UG_F32, -INFINITY);
    /* bf16: largest 0x1.fep127 = 3.3895e38, midpoint 0x1.ffp127 = 3.3962e38 ties up. */
    expect_parse("3.39e38", UG_BF16, 0x1.fep127);
    expect_parse("0x1.fefffffp127", UG_BF16, 0x1.fep127);
    expect_parse("0x1.ffp127", UG_BF16, INFINITY);
    expect_parse("3.4e38", UG_BF16, INFINITY);
    expect_parse("3.4e38", UG_F32, 0x1.ff933cp127);
    expect_parse("1e309", UG_F64, INFINITY);
    expect_parse("-1e309", UG_F64, -INFINITY);
    expect_parse("1e99999999999999999999", UG_F64, INFINITY);
}

Test(parse, special_values)
{
    const char *nans[] = {"nan", "NaN", "NAN", "-nan", "+nan"};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
            double v = 0;
            cr_expect_eq(ug_parse_number(nans[i], (ug_dtype)dt, &v), 0, "%s", nans[i]);
            cr_expect(isnan(v), "'%s' gave %a", nans[i], v);
        }
    expect_parse("inf", UG_F32, INFINITY);
    expect_parse("+inf", UG_BF16, INFINITY);
    expect_parse("INF", UG_F64, INFINITY);
    expect_parse("Infinity", UG_F64, INFINITY);
    expect_parse("-inf", UG_F32, -INFINITY);
    expect_parse("-INF", UG_BF16, -INFINITY);
}

Test(parse, malformed)
{
    const char *bad[] = {"", "1.2.3", "abc", "1e", "1e+", "0x", "0x.p1", "0x1p", ".", "-", "+", "+-1",
                         " 1", "1 ", "1,", "1,2", "0b101", "infx", "nan(1)", "in", "1e5x", "0x1.8q3",
                         "--1", "1..", "e5", "0x1e+5p3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
            double v = 42;
            cr_expect_eq(ug_parse_number(bad[i], (ug_dtype)dt, &v), -1, "'%s' was accepted as %a", bad[i], v);
            cr_expect_eq(v, 42, "'%s' changed the output on failure", bad[i]);
        }
    double v;
    cr_expect_eq(ug_parse_number(NULL, UG_F32, &v), -1);
    cr_expect_eq(ug_parse_number("1", UG_DTYPE_COUNT, &v), -1);
}

/* ================================================================ help and usage */

Test(cli_help, top_level)
{
    cli_result r = RUN("", "--help");
    cr_expect(strstr(r.out, "usage: ulpgate") != NULL && strstr(r.out, "exit status") != NULL, "%s", r.out);
    expect(r, 0, NULL, NULL);
    expect(RUN("", "-h"), 0, NULL, NULL);
    expect(RUN("", "help"), 0, NULL, NULL);
}

Test(cli_help, no_command_is_a_usage_error)
{
    cli_result r = run_to("", NULL, (const char *const[]){NULL});
    expect(r, 2, "", "usage: ulpgate");
}

Test(cli_help, every_subcommand)
{
    const char *cmds[] = {"list", "run", "exact"};
    for (size_t i = 0; i < 3; i++) {
        cli_result r = RUN("", cmds[i], "--help");
        char want[64];
        snprintf(want, sizeof want, "usage: ulpgate %s", cmds[i]);
        cr_expect(strstr(r.out, want) != NULL, "%s --help:\n%s", cmds[i], r.out);
        cr_expect(strstr(r.out, "exit status") != NULL && strstr(r.out, "--help") != NULL, "%s", r.out);
        expect(r, 0, NULL, NULL);
        r = RUN("", "help", cmds[i]);
        cr_expect(strstr(r.out, want) != NULL, "help %s:\n%s", cmds[i], r.out);
        expect(r, 0, NULL, NULL);
    }
    cli_result r = RUN("", "run", "--kernel", "no.such.kernel", "--help");
    cr_expect(strstr(r.out, "input:") != NULL && strstr(r.out, "--reduction") != NULL, "%s", r.out);
    expect(r, 0, NULL, NULL);
}

Test(cli_help, unknown_command)
{
    expect(RUN("", "frobnicate"), 2, "", "unknown command 'frobnicate'");
}

/* ================================================================ list */

enum { COLS = 7 };

/* Split line (modified) into at most max whitespace-separated columns. */
static size_t split(char *line, char **col, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(line, " \t"); tok != NULL; tok = strtok(NULL, " \t"))
        if (n < max + 1)
            col[n++] = tok;
    return n;
}

Test(cli_list, one_line_per_kernel_with_seven_columns)
{
    cli_result r = RUN("", "list");
    cr_assert_eq(r.status, 0, "%s", r.err);
    size_t lines = 0;
    int production[UG_OP_COUNT][UG_DTYPE_COUNT] = {{0}};
    for (char *save = NULL, *line = strtok_r(r.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *col[COLS + 1];
        cr_assert_eq(split(line, col, COLS), COLS, "line %zu has not %d columns", lines + 1, COLS);
        const ug_kernel *k = ug_kernel_at(lines);
        cr_assert_not_null(k, "more lines than kernels");
        cr_expect_str_eq(col[0], k->name);
        cr_expect_str_eq(col[1], ug_op_name(k->op));
        cr_expect_str_eq(col[2], ug_dtype_name(k->dtype));
        cr_expect_str_eq(col[3], k->algorithm);
        cr_expect_str_eq(col[4], k->isa);
        cr_expect_eq(strstr(col[5], "*n") != NULL, k->bound.per_n != 0, "%s: bound %s", k->name, col[5]);
        cr_expect_eq(strstr(col[5], "*kappa") != NULL, k->bound.per_cond != 0, "%s: bound %s", k->name, col[5]);
        cr_expect_eq(strtod(col[5], NULL), k->bound.ulp, "%s: bound %s", k->name, col[5]);
        cr_expect_str_eq(col[6], ug_role_name(k->role));
        ug_op op;
        ug_dtype dt;
        if (strcmp(col[6], "production") == 0 && ug_op_from_name(col[1], &op) == 0 &&
            ug_dtype_from_name(col[2], &dt) == 0)
            production[op][dt] = 1;
        lines++;
    }
    cr_expect_eq(lines, ug_kernel_count());
    for (int op = 0; op < UG_OP_COUNT; op++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
            cr_expect(production[op][dt], "no production row for %s %s", ug_op_name((ug_op)op),
                      ug_dtype_name((ug_dtype)dt));
    free(r.out);
    free(r.err);
}

static size_t count(const char *s, const char *part)
{
    size_t n = 0;
    for (const char *p = strstr(s, part); p != NULL; p = strstr(p + 1, part))
        n++;
    return n;
}

Test(cli_list, json)
{
    cli_result r = RUN("", "list", "--json");
    cr_expect_eq(r.out[0], '[', "%.40s", r.out);
    size_t len = strlen(r.out);
    cr_expect(len >= 2 && r.out[len - 2] == ']' && r.out[len - 1] == '\n');
    size_t k = ug_kernel_count();
    const char *keys[] = {"\"name\"", "\"op\"", "\"dtype\"", "\"algorithm\"", "\"isa\"", "\"bound\"",
                          "\"ulp\"", "\"per_n\"", "\"per_cond\"", "\"role\"", "\"description\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect_eq(count(r.out, keys[i]), k, "%s appears %zu times, %zu kernels", keys[i], count(r.out, keys[i]), k);
    cr_expect_geq(count(r.out, "\"role\": \"production\""), (size_t)UG_OP_COUNT * UG_DTYPE_COUNT, "production rows");
    char want[128];
    snprintf(want, sizeof want, "\"name\": \"%s\"", ug_kernel_at(0)->name);
    cr_expect(strstr(r.out, want) != NULL, "%s missing", want);
    cli_result again = RUN("", "list", "--json");
    cr_expect_str_eq(again.out, r.out, "not deterministic");
    expect(again, 0, NULL, NULL);
    expect(r, 0, NULL, NULL);
}

Test(cli_list, rejects_arguments)
{
    expect(RUN("", "list", "--jsn"), 2, "", "unknown option '--jsn'");
    expect(RUN("", "list", "extra"), 2, "", "unexpected argument 'extra'");
}

/* ================================================================ run: outputs */

Test(cli_run, softmax_of_equal_values)
{
    expect(RUN("0 0\n", "run", "--kernel", "softmax.twopass.f32"), 0, "0x1p-1 0x1p-1\n", NULL);
    expect(RUN("7 7 7 7\n", "run", "--kernel", "softmax.twopass.f64"), 0, "0x1p-2 0x1p-2 0x1p-2 0x1p-2\n", NULL);
    expect(RUN("-3,-3\n", "run", "--kernel", "softmax.twopass.bf16"), 0, "0x1p-1 0x1p-1\n", NULL);
}

Test(cli_run, rows_of_any_length_comments_blanks_commas_crlf)
{
    const char *in = "# a worst-case file header\n"
                     "\n"
                     "0 0\r\n"
                     "   # an indented comment\n"
                     "  \t \n"
                     "0,-inf, 0\n"
                     "5\n"
                     "1 ,1\t1, 1";
    expect(RUN(in, "run", "--kernel", "softmax.twopass.f32"), 0,
           "0x1p-1 0x1p-1\n0x1p-1 0x0p+0 0x1p-1\n0x1p+0\n0x1p-2 0x1p-2 0x1p-2 0x1p-2\n", NULL);
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32"), 0, "", NULL);
    expect(RUN("# only comments\n\n", "run", "--kernel", "softmax.twopass.f32"), 0, "", NULL);
}

Test(cli_run, n_equals_one)
{
    expect(RUN("3.7\n-1e30\n", "run", "--kernel", "log_softmax.twopass.f32"), 0, "0x0p+0\n0x0p+0\n", NULL);
    expect(RUN("3.7\n", "run", "--kernel", "softmax.twopass.bf16"), 0, "0x1p+0\n", NULL);
    expect(RUN("0x1.8p3\n", "run", "--kernel", "logsumexp.twopass.f64"), 0, "0x1.8p+3\n", NULL);
    expect(RUN("2.5\n", "run", "--kernel", "xent.fused.f32", "--target", "0"), 0, "0x0p+0\n", NULL);
}

Test(cli_run, logsumexp_of_two_zeros_is_log_2)
{
    expect(RUN("0 0\n", "run", "--kernel", "logsumexp.twopass.f64"), 0, LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n", "run", "--kernel", "logsumexp.twopass.f32"), 0, LOG2_F32 "\n", NULL);
    expect(RUN("0 0\n", "run", "--kernel", "logsumexp.twopass.bf16"), 0, LOG2_BF16 "\n", NULL);
    expect(RUN("0 -inf 0\n", "run", "--kernel", "logsumexp.twopass.f64"), 0, LOG2_F64 "\n", NULL);
}

Test(cli_run, input_is_rounded_once_to_the_kernel_dtype)
{
    /* logsumexp of one element is that element: the command echoes the parsed input. */
    expect(RUN("0.1\n", "run", "--kernel", "logsumexp.twopass.bf16"), 0, "0x1.9ap-4\n", NULL);
    expect(RUN("0.1\n", "run", "--kernel", "logsumexp.twopass.f32"), 0, "0x1.99999ap-4\n", NULL);
    expect(RUN("0.1\n", "run", "--kernel", "logsumexp.twopass.f64"), 0, "0x1.999999999999ap-4\n", NULL);
    expect(RUN("1.003906250931322574615478515625\n", "run", "--kernel", "logsumexp.twopass.bf16"), 0,
           "0x1.02p+0\n", NULL);
    expect(RUN("1.00390625\n", "run", "--kernel", "logsumexp.twopass.bf16"), 0, "0x1p+0\n", NULL);
    expect(RUN("0x1p-133\n0x1p-134\n", "run", "--kernel", "logsumexp.twopass.bf16"), 0, "0x1p-133\n0x0p+0\n", NULL);
    expect(RUN("1e39\n-1E39\n", "run", "--kernel", "logsumexp.twopass.f32"), 0, "inf\n-inf\n", NULL);
}

Test(cli_run, special_values)
{
    expect(RUN("nan 0\n", "run", "--kernel", "softmax.twopass.f32"), 0, "nan nan\n", NULL);
    expect(RUN("-NaN 0\n", "run", "--kernel", "logsumexp.twopass.f64"), 0, "nan\n", NULL);
    expect(RUN("-inf -inf\n", "run", "--kernel", "softmax.twopass.f64"), 0, "nan nan\n", NULL);
    expect(RUN("-inf -inf\n", "run", "--kernel", "logsumexp.twopass.f32"), 0, "-inf\n", NULL);
    expect(RUN("+inf 0\n", "run", "--kernel", "logsumexp.twopass.f32"), 0, "inf\n", NULL);
    expect(RUN("inf 0\n", "run", "--kernel", "softmax.twopass.f32"), 0, "0x1p+0 0x0p+0\n", NULL);
}

Test(cli_run, xent_and_xent_grad_with_a_target)
{
    expect(RUN("0 0\n5 5\n", "run", "--kernel", "xent.fused.f64", "--target", "1"), 0, LOG2_F64 "\n" LOG2_F64 "\n",
           NULL);
    expect(RUN("0 0\n", "run", "--kernel", "xent.fused.f32", "--target", "0"), 0, LOG2_F32 "\n", NULL);
    expect(RUN("0 0\n", "run", "--kernel", "xent_grad.fused.f32", "--target", "1"), 0, "0x1p-1 -0x1p-1\n", NULL);
    expect(RUN("0 -inf\n", "run", "--kernel", "xent_grad.fused.f64", "--target", "0"), 0, "0x0p+0 0x0p+0\n", NULL);
}

Test(cli_run, probability_rows_follow_their_logits)
{
    expect(RUN("0 0\n# its probabilities\n0.5 0.5\n1 1\n0.5, 0.5\n", "run", "--kernel", "xent_dense.fused.f64"), 0,
           LOG2_F64 "\n" LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n0.5 0.5\n", "run", "--kernel", "xent_grad.fused.f32"), 0, "0x0p+0 0x0p+0\n", NULL);
    expect(RUN("3 3 3 3\n0.25 0.25 0.25 0.25\n", "run", "--kernel", "xent_grad.fused.bf16"), 0,
           "0x0p+0 0x0p+0 0x0p+0 0x0p+0\n", NULL);
}

Test(cli_run, bce_logits_with_a_label)
{
    /* At x = 0 both terms are log 2: y log 2 + (1 - y) log 2 = log 2 for every y. */
    expect(RUN("0 0\n0\n", "run", "--kernel", "bce_logits.stable.f64", "--label", "0.3"), 0,
           LOG2_F64 " " LOG2_F64 "\n" LOG2_F64 "\n", NULL);
    expect(RUN("0\n", "run", "--kernel", "bce_logits.stable.f32", "--label", "1"), 0, LOG2_F32 "\n", NULL);
    expect(RUN("inf -inf\n", "run", "--kernel", "bce_logits.stable.f32", "--label", "1"), 0, "0x0p+0 inf\n", NULL);
}

Test(cli_run, reductions_make_one_batched_call)
{
    /* Two rows of log 2 each: sum 2 log 2, mean log 2. */
    expect(RUN("0 0\n1 1\n", "run", "--kernel", "xent.fused.f64", "--target", "0", "--reduction", "sum"), 0,
           "0x1.62e42fefa39efp+0\n", NULL);
    expect(RUN("0 0\n1 1\n", "run", "--kernel", "xent.fused.f64", "--target", "0", "--reduction", "mean"), 0,
           LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n1 1\n", "run", "--kernel", "xent.fused.f64", "--target", "0", "--reduction", "none"), 0,
           LOG2_F64 "\n" LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n.5 .5\n2 2\n.5 .5\n", "run", "--kernel", "xent_dense.fused.f64", "--reduction", "sum"), 0,
           "0x1.62e42fefa39efp+0\n", NULL);
    /* bce_logits reduces over rows x n elements: 4 log 2, mean log 2. */
    expect(RUN("0 0\n0 0\n", "run", "--kernel", "bce_logits.stable.f64", "--label", "0.5", "--reduction", "sum"), 0,
           "0x1.62e42fefa39efp+1\n", NULL);
    expect(RUN("0 0\n0 0\n", "run", "--kernel", "bce_logits.stable.f64", "--label", "0.5", "--reduction", "mean"), 0,
           LOG2_F64 "\n", NULL);
}

Test(cli_run, file_argument_and_dash)
{
    char *path = temp_path();
    write_file(path, "0 0\n");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", path), 0, "0x1p-1 0x1p-1\n", NULL);
    expect(RUN("", "run", "--kernel=softmax.twopass.f32", path), 0, "0x1p-1 0x1p-1\n", NULL);
    expect(RUN("5\n", "run", "--kernel", "softmax.twopass.f32", "-"), 0, "0x1p+0\n", NULL);
    expect(RUN("5\n", "run", "-", "--kernel", "softmax.twopass.f32"), 0, "0x1p+0\n", NULL);
    unlink(path);
    free(path);
}

Test(cli_run, long_row)
{
    /* 2^17 equal logits on one line (no fixed buffers): softmax 2^-17 everywhere. */
    enum { N = 1 << 17 };
    char *in = malloc(N * 2 + 1);
    for (size_t i = 0; i < N; i++)
        memcpy(in + 2 * i, "1 ", 2);
    in[2 * N - 1] = '\n';
    in[2 * N] = '\0';
    cli_result r = RUN(in, "run", "--kernel", "softmax.twopass.f64");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(count(r.out, "0x1p-17 "), (size_t)N - 1);
    cr_expect_eq(count(r.out, "0x1p-17\n"), (size_t)1);
    cr_expect_eq(strlen(r.out), (size_t)N * 8);
    free(in);
    expect(r, 0, NULL, NULL);
}

/* ================================================================ run: errors */

Test(cli_errors, malformed_numbers_point_at_line_and_column)
{
    expect(RUN("0 0\n1 1.2.3\n", "run", "--kernel", "softmax.twopass.f32"), 2, "0x1p-1 0x1p-1\n",
           "ulpgate run: <stdin>:2:3: malformed number '1.2.3'");
    expect(RUN("abc\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:1:1: malformed number 'abc'");
    expect(RUN("# c\n\n  1 1e\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:3:5: malformed number '1e'");
    expect(RUN("1 # trailing\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:1:3: malformed number '#'");
}

Test(cli_errors, empty_fields)
{
    expect(RUN("1,,2\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:1:3: empty field");
    expect(RUN("1, ,2\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:1:4: empty field");
    expect(RUN("1,2,\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:1:5: empty field");
    expect(RUN(",1\n", "run", "--kernel", "softmax.twopass.f32"), 2, "", "<stdin>:1:1: empty field");
}

Test(cli_errors, in_a_file)
{
    char *path = temp_path();
    write_file(path, "1 2\n3 x\n");
    char want[512];
    snprintf(want, sizeof want, "ulpgate run: %s:2:3: malformed number 'x'", path);
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", path), 2, NULL, want);
    unlink(path);
    free(path);
}

Test(cli_errors, probability_row_of_another_length)
{
    expect(RUN("0 0\n0.5 0.5 0\n", "run", "--kernel", "xent_dense.fused.f32"), 2, "",
           "<stdin>:2:9: probability row has 3 values, but the row on line 1 has 2");
    expect(RUN("0 0\n1\n", "run", "--kernel", "xent_grad.fused.f32"), 2, "", "<stdin>:2:2: probability row has 1 value");
    expect(RUN("0 0\n", "run", "--kernel", "xent_dense.fused.f32"), 2, "", "<stdin>:1:1: the input ends before");
    expect(RUN("0 0\n0.5 1.5\n", "run", "--kernel", "xent_dense.fused.f32"), 2, "", "<stdin>:2:5: probability 1.5 outside");
    expect(RUN("0 0\n0.5 0.25\n", "run", "--kernel", "xent_dense.fused.f64"), 2, "",
           "<stdin>:2:1: xent_dense.fused.f64: probability row does not sum to 1");
}

Test(cli_errors, reduced_rows_must_have_one_length)
{
    expect(RUN("0 0\n1 1\n\n2 2 2\n", "run", "--kernel", "xent.fused.f32", "--target", "0", "--reduction", "sum"), 2, "",
           "<stdin>:4:5: with --reduction every row must have the same length");
    /* The row that fails alone is named, not the first row of the batch. */
    expect(RUN("0 0\n.5 .5\n1 1\n.5 .25\n", "run", "--kernel", "xent_dense.fused.f64", "--reduction", "mean"), 2, "",
           "<stdin>:4:1: xent_dense.fused.f64: probability row does not sum to 1");
    expect(RUN("# nothing\n", "run", "--kernel", "xent.fused.f32", "--target", "0", "--reduction", "sum"), 2, "",
           "no rows to reduce");
}

Test(cli_errors, target_out_of_range)
{
    /* The first row is printed (log 4 = 2 log 2), then the second is refused. */
    expect(RUN("0 0 0 0\n0 0\n", "run", "--kernel", "xent.fused.f32", "--target", "2"), 2, "0x1.62e43p+0\n",
           "<stdin>:2:1: target 2 out of range for a row of 2 values");
    expect(RUN("0 0\n", "run", "--kernel", "xent_grad.fused.f64", "--target", "7"), 2, "", "target 7 out of range");
}

Test(cli_errors, bad_option_values)
{
    const char *k = "xent.fused.f32";
    expect(RUN("", "run", "--kernel", k, "--target", "-1"), 2, "", "--target '-1'");
    expect(RUN("", "run", "--kernel", k, "--target", "1x"), 2, "", "--target '1x'");
    expect(RUN("", "run", "--kernel", k, "--target", "99999999999999999999"), 2, "", "--target '9999");
    expect(RUN("", "run", "--kernel", k), 2, "", "xent needs --target");
    expect(RUN("", "run", "--kernel", k, "--target", "0", "--reduction", "max"), 2, "", "--reduction 'max'");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "--reduction", "sum"), 2, "", "takes no reduction");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "--target", "0"), 2, "", "--target is only for");
    expect(RUN("", "run", "--kernel", "bce_logits.stable.f32"), 2, "", "bce_logits needs --label");
    expect(RUN("", "run", "--kernel", "bce_logits.stable.f32", "--label", "1.5"), 2, "", "--label 1.5: outside [0, 1]");
    expect(RUN("", "run", "--kernel", "bce_logits.stable.f32", "--label", "-0.25"), 2, "", "outside [0, 1]");
    expect(RUN("", "run", "--kernel", "bce_logits.stable.f32", "--label", "nan"), 2, "", "outside [0, 1]");
    expect(RUN("", "run", "--kernel", "bce_logits.stable.f32", "--label", "half"), 2, "", "--label 'half': not a number");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "--label", "1"), 2, "", "--label is only for");
}

Test(cli_errors, bad_usage)
{
    expect(RUN("", "run", "--kernel", "softmax.nope.f32"), 2, "", "unknown kernel 'softmax.nope.f32'");
    expect(RUN("", "run"), 2, "", "missing --kernel");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "--frob"), 2, "", "unknown option '--frob'");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "-x"), 2, "", "unknown option '-x'");
    expect(RUN("", "run", "--kernel"), 2, "", "--kernel needs a value");
    expect(RUN("", "run", "--kernel", "a", "--kernel", "b"), 2, "", "given twice");
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "a", "b"), 2, "", "unexpected argument 'b'");
    expect(RUN("", "exact", "--op", "softmax"), 2, "", "missing --dtype");
    expect(RUN("", "exact", "--op", "softmin", "--dtype", "f32"), 2, "", "unknown op 'softmin'");
    expect(RUN("", "exact", "--op", "softmax", "--dtype", "f16"), 2, "", "unknown dtype 'f16'");
}

Test(cli_errors, missing_file_is_an_io_error)
{
    expect(RUN("", "run", "--kernel", "softmax.twopass.f32", "/nonexistent/ug-rows.txt"), 3, "",
           "cannot open '/nonexistent/ug-rows.txt': No such file or directory");
    expect(RUN("", "exact", "--op", "softmax", "--dtype", "f32", "/nonexistent/x"), 3, "", "No such file or directory");
}

Test(cli_errors, unwritable_output_is_an_io_error)
{
    cli_result r = run_to("0 0\n", "/dev/full", (const char *const[]){"run", "--kernel", "softmax.twopass.f32", NULL});
    expect(r, 3, NULL, "cannot write the output");
    r = run_to("", "/dev/full", (const char *const[]){"list", NULL});
    expect(r, 3, NULL, "cannot write the output");
}

/* ================================================================ exact */

Test(cli_exact, same_reading_and_printing_as_run)
{
    expect(RUN("0 0\n0 -inf 0\n5\n", "exact", "--op", "softmax", "--dtype", "f32"), 0,
           "0x1p-1 0x1p-1\n0x1p-1 0x0p+0 0x1p-1\n0x1p+0\n", NULL);
    expect(RUN("0 0\n", "exact", "--op", "logsumexp", "--dtype", "f64"), 0, LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n", "exact", "--op", "logsumexp", "--dtype", "f32"), 0, LOG2_F32 "\n", NULL);
    expect(RUN("0 0\n", "exact", "--op", "logsumexp", "--dtype", "bf16"), 0, LOG2_BF16 "\n", NULL);
    expect(RUN("0.1\n1.00390625000001\n", "exact", "--op", "logsumexp", "--dtype", "bf16"), 0,
           "0x1.9ap-4\n0x1.02p+0\n", NULL);
    expect(RUN("3.7\n", "exact", "--op", "log_softmax", "--dtype", "f64"), 0, "0x0p+0\n", NULL);
    expect(RUN("nan 1\n", "exact", "--op", "softmax", "--dtype", "bf16"), 0, "nan nan\n", NULL);
}

Test(cli_exact, targets_probabilities_labels_reductions)
{
    expect(RUN("0 0\n", "exact", "--op", "xent", "--dtype", "f64", "--target", "1"), 0, LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n", "exact", "--op", "xent_grad", "--dtype", "f32", "--target", "0"), 0, "-0x1p-1 0x1p-1\n",
           NULL);
    expect(RUN("0 0\n0.5 0.5\n", "exact", "--op", "xent_dense", "--dtype", "f64"), 0, LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n0.5 0.5\n", "exact", "--op", "xent_grad", "--dtype", "f64"), 0, "0x0p+0 0x0p+0\n", NULL);
    expect(RUN("0 0\n", "exact", "--op", "bce_logits", "--dtype", "f64", "--label", "0.9"), 0,
           LOG2_F64 " " LOG2_F64 "\n", NULL);
    expect(RUN("0 0\n1 1\n", "exact", "--op", "xent", "--dtype", "f64", "--target", "0", "--reduction", "sum"), 0,
           "0x1.62e42fefa39efp+0\n", NULL);
    expect(RUN("0 0\n0 0\n", "exact", "--op", "bce_logits", "--dtype", "f64", "--label", "0", "--reduction", "mean"), 0,
           LOG2_F64 "\n", NULL);
}

Test(cli_exact, errors)
{
    expect(RUN("0 0\n0 0 0\n", "exact", "--op", "xent", "--dtype", "f32", "--target", "2"), 2, NULL,
           "ulpgate exact: <stdin>:1:1: target 2 out of range");
    expect(RUN("0 0\n0.5 0.25\n", "exact", "--op", "xent_dense", "--dtype", "f32"), 2, "",
           "<stdin>:2:1: oracle: probability row does not sum to 1");
    expect(RUN("1 2\n3 4 5\n", "exact", "--op", "xent", "--dtype", "f32", "--target", "0", "--reduction", "sum"), 2, "",
           "<stdin>:2:5: with --reduction");
    expect(RUN("", "exact", "--op", "softmax", "--dtype", "f32", "--reduction", "sum"), 2, "", "takes no reduction");
}
