/* ulpgate vectors export | score (reports/cmd_vectors.c, doc/VECTORS.md).
 *
 * score is checked on a vectors file written here by hand, whose expected values are
 * derived by hand, never taken from the code under test: softmax (f32) of four equal
 * values is 1/4 = 0x1p-2 each; of [0, -inf] it is [1, +0] (a masked entry gives +0);
 * of one value it is 1.  Outputs 0x1.000004p-2 are 2 ULP from 1/4 (ulp(1/4) = 2^-25 in
 * f32), over the 1 ULP claimed by softmax.twopass.f32; NaN there is a violation.
 * Damaged files (not JSON, a missing vector, a wrong length, a changed expected value)
 * exit 2 naming the place, a missing file exits 3.  export: the same seed gives the same
 * bytes, and the tags documented in doc/VECTORS.md appear where the families put them;
 * a registered production kernel scored on an export keeps its claim (exit 0) and a
 * canary is caught.
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

static char *temp_path(const char *suffix)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(strlen(dir) + 64);
    cr_assert_not_null(path);
    sprintf(path, "%s/ug_test_vectors_XXXXXX", dir);
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp %s", path);
    close(fd);
    unlink(path);
    strcat(path, suffix);
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
    char *s = slurp(path);
    cr_assert_not_null(s, "cannot read %s", path);
    return s;
}

#define RUN(...) run_ulpgate((const char *const[]){__VA_ARGS__, NULL})

/* Exit status, and substrings of stdout and stderr (NULL: not checked). */
static void expect_at(int line, run_result r, int status, const char *out_part, const char *err_part)
{
    cr_expect_eq(r.status, status, "line %d: exit status %d, expected %d; stderr: %s", line, r.status, status, r.err);
    if (out_part != NULL)
        cr_expect(strstr(r.out, out_part) != NULL, "line %d: stdout does not contain '%s':\n%s", line, out_part,
                  r.out);
    if (err_part != NULL)
        cr_expect(strstr(r.err, err_part) != NULL, "line %d: stderr '%s' does not contain '%s'", line, r.err,
                  err_part);
    run_free(&r);
}
#define expect(...) expect_at(__LINE__, __VA_ARGS__)

/* ================================================================ score */

static const char VECTORS[] =
    "{\"format\": \"ulpgate-vectors\", \"version\": 1, \"op\": \"softmax\", \"dtype\": \"f32\", \"seed\": 0,\n"
    " \"vectors\": [\n"
    "  {\"id\": 0, \"family\": \"hand\", \"source\": \"equal\", \"tags\": [], \"rows\": 1, \"n\": 4,"
    " \"reduction\": \"none\", \"x\": [\"0\", \"0\", \"0\", \"0\"],"
    " \"expected\": [\"0x1p-2\", \"0x1p-2\", \"0x1p-2\", \"0x1p-2\"]},\n"
    "  {\"id\": 1, \"family\": \"hand\", \"source\": \"masked\", \"tags\": [\"masked\"], \"rows\": 1, \"n\": 2,"
    " \"reduction\": \"none\", \"x\": [\"0x0p+0\", \"-inf\"], \"expected\": [\"0x1p+0\", \"0x0p+0\"]},\n"
    "  {\"id\": 2, \"family\": \"one\", \"source\": \"n1\", \"tags\": [\"n1\"], \"rows\": 1, \"n\": 1,"
    " \"reduction\": \"none\", \"x\": [\"12\"], \"expected\": [\"1\"]}\n"
    " ]}\n";

static char *outputs(const char *v0, const char *v1)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"format\": \"ulpgate-outputs\", \"version\": 1, \"implementation\": \"hand\", \"op\": \"softmax\","
             " \"dtype\": \"f32\", \"outputs\": {%s%s\"2\": [\"1.0\"]}}",
             v0, v1);
    return buf;
}

typedef struct files {
    char *vectors, *outputs;
} files;

static files setup(const char *vectors, const char *outs)
{
    files f = {temp_path(".json"), temp_path(".json")};
    write_file(f.vectors, vectors);
    write_file(f.outputs, outs);
    return f;
}

static void teardown(files *f)
{
    unlink(f->vectors);
    unlink(f->outputs);
    free(f->vectors);
    free(f->outputs);
}

#define V0_EXACT "\"0\": [\"0x1p-2\", \"0.25\", \"0x1p-2\", \"0x1p-2\"], "
#define V1_EXACT "\"1\": [\"1\", \"0\"], "

Test(vectors_score, exact_outputs_pass)
{
    files f = setup(VECTORS, outputs(V0_EXACT, V1_EXACT));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 0,
           "hand                       all                       0           0           0  100.00     0    0    0"
           "    0    0    0  PASS",
           NULL);
    teardown(&f);
}

Test(vectors_score, two_ulp_over_the_claim_fails)
{
    files f = setup(VECTORS, outputs("\"0\": [\"0x1p-2\", \"0x1.000004p-2\", \"0x1p-2\", \"0x1p-2\"], ", V1_EXACT));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 1,
           "hand                       hand                      2", NULL);
    teardown(&f);
    f = setup(VECTORS, outputs("\"0\": [\"0x1p-2\", \"0x1.000004p-2\", \"0x1p-2\", \"0x1p-2\"], ", V1_EXACT));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs, "--bound", "2"), 0, "PASS", NULL);
    teardown(&f);
}

Test(vectors_score, nan_and_wrong_zero_sign_are_violations)
{
    files f = setup(VECTORS, outputs("\"0\": [\"nan\", \"0x1p-2\", \"0x1p-2\", \"0x1p-2\"], ", "\"1\": [\"1\", \"-0\"], "));
    /* nan: 1 in family hand; zsgn: 1 (-0 where +0 is exact) */
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 1,
           "inf           0         inf   71.43     0    1    0    0    1    0  FAIL", NULL);
    teardown(&f);
}

Test(vectors_score, bad_files_name_the_place)
{
    files f = setup(VECTORS, outputs(V0_EXACT, ""));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 2, NULL,
           "no outputs for vector 1 (masked)");
    teardown(&f);
    f = setup(VECTORS, outputs(V0_EXACT, "\"1\": [\"1\"], "));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 2, NULL,
           "outputs \"1\" has 1 values; vector 1 (masked) has 2 outputs");
    teardown(&f);
    f = setup(VECTORS, outputs(V0_EXACT, "\"1\": [\"1\", \"zero\"], "));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 2, NULL,
           "outputs \"1\"[1]: 'zero' is not a number");
    teardown(&f);
    f = setup(VECTORS, "{\"format\": \"ulpgate-outputs\",\n \"version\": 1,\n \"outputs\": {\"0\": [}");
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 2, NULL, ":3:");
    teardown(&f);
    char *changed = strdup(VECTORS);
    char *at = strstr(changed, "\"expected\": [\"1\"]");
    cr_assert_not_null(at);
    memcpy(at + strlen("\"expected\": [\""), "2", 1); /* 2 where the oracle says 1 */
    f = setup(changed, outputs(V0_EXACT, V1_EXACT));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 2, NULL,
           "vector 2 (n1): expected[0] is 0x1p+1 but the oracle says 0x1p+0");
    teardown(&f);
    free(changed);
    char *shorter = strdup(VECTORS);
    at = strstr(shorter, "\"x\": [\"0x0p+0\", \"-inf\"]");
    cr_assert_not_null(at);
    memcpy(at, "\"x\": [\"0x0p+0\"        ]", strlen("\"x\": [\"0x0p+0\", \"-inf\"]"));
    f = setup(shorter, outputs(V0_EXACT, V1_EXACT));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs), 2, NULL,
           "vectors[1] (id 1): \"x\" has 1 values, expected 2");
    teardown(&f);
    free(shorter);
    f = setup(VECTORS, outputs(V0_EXACT, V1_EXACT));
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", "/nonexistent/out.json"), 3, NULL,
           "cannot open");
    expect(RUN("vectors", "score", "--vectors", "/nonexistent/v.json", "--outputs", f.outputs), 3, NULL,
           "cannot open");
    expect(RUN("vectors", "score", "--vectors", f.vectors), 2, NULL, "one of --outputs FILE and --kernel NAME");
    expect(RUN("vectors", "frobnicate"), 2, NULL, "unknown subcommand 'frobnicate'");
    teardown(&f);
}

/* ================================================================ export */

Test(vectors_export, deterministic_tagged_and_scored_by_kernels, .timeout = 120)
{
    char *a = temp_path(".json"), *b = temp_path(".json");
    expect(RUN("vectors", "export", "--op", "xent_dense", "--dtype", "f32", "--rows", "2", "--out", a), 0,
           "vectors of xent_dense f32 (seed 1)", NULL);
    expect(RUN("vectors", "export", "--op", "xent_dense", "--dtype", "f32", "--rows", "2", "--out", b), 0, NULL, NULL);
    char *ta = read_file(a), *tb = read_file(b);
    cr_expect_str_eq(ta, tb, "two exports with the same seed differ");
    static const char *const tags[] = {"\"masked\"", "\"overflow_boundary\"", "\"tiny_loss\"", "\"special_value\"",
                                       "\"label_smoothing\"", "\"reduction_mean\"", "\"boundary:shift+\"",
                                       "\"subnormal_input\"", "\"n1\""};
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++)
        cr_expect(strstr(ta, tags[i]) != NULL, "no vector tagged %s", tags[i]);
    expect(RUN("vectors", "score", "--vectors", a, "--kernel", "xent_dense.fused.f32"), 0, "PASS", NULL);
    expect(RUN("vectors", "score", "--vectors", a, "--kernel", "xent.fused.f32"), 2, NULL,
           "kernel xent.fused.f32 is xent f32; the vectors are xent_dense f32");
    expect(RUN("vectors", "export", "--op", "xent_dense", "--dtype", "f32", "--rows", "2", "--seed", "2", "--out", b),
           0, NULL, NULL);
    char *tc = read_file(b);
    cr_expect(strcmp(ta, tc) != 0, "seeds 1 and 2 give the same vectors");
    expect(RUN("vectors", "export", "--op", "softmax", "--dtype", "f16", "--out", b), 2, NULL, "not 'f16'");
    unlink(a);
    unlink(b);
    free(ta), free(tb), free(tc), free(a), free(b);
}

Test(vectors_export, canary_caught, .timeout = 120)
{
    char *a = temp_path(".json");
    expect(RUN("vectors", "export", "--op", "softmax", "--dtype", "f32", "--rows", "1", "--out", a), 0, NULL, NULL);
    expect(RUN("vectors", "score", "--vectors", a, "--kernel", "softmax.naive.f32"), 0, "CAUGHT", NULL);
    unlink(a);
    free(a);
}

/* ================================================================ report --peers */

Test(vectors_peers, report_has_a_peers_section, .timeout = 120)
{
    files f = setup(VECTORS, outputs("\"0\": [\"0x1p-2\", \"0x1.000004p-2\", \"0x1p-2\", \"0x1p-2\"], ", V1_EXACT));
    char *score = temp_path(".json"), *dir = temp_path("");
    expect(RUN("vectors", "score", "--vectors", f.vectors, "--outputs", f.outputs, "--name", "Hand-made softmax",
               "--json", score),
           1, NULL, NULL);
    expect(RUN("report", "--out", dir, "--quick", "--kernel", "softmax.twopass.f32", "--peers", score), 0, NULL,
           NULL);
    size_t len = strlen(dir) + 16;
    char *md = malloc(len);
    snprintf(md, len, "%s/report.md", dir);
    char *text = read_file(md);
    /* the summary row: max finite error 2 ULP (hand-derived above), no violation */
    cr_expect(strstr(text, "## Peers") != NULL, "no Peers section in report.md");
    cr_expect(strstr(text, "| op | dtype | Hand-made |") != NULL, "no column for the peer");
    cr_expect(strstr(text, "| softmax | f32 | 2 |") != NULL, "no row softmax f32 = 2 ULP:\n%s", strstr(text, "## Peers"));
    expect(RUN("report", "--out", dir, "--quick", "--kernel", "softmax.twopass.f32", "--peers", f.vectors), 2, NULL,
           "not a score file");
    expect(RUN("report", "--out", dir, "--peers", "/nonexistent/peers"), 3, NULL, "/nonexistent/peers");
    static const char *const names[] = {"report.md", "report.html", "report.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(md, len, "%s/%s", dir, names[i]);
        unlink(md);
    }
    rmdir(dir);
    unlink(score);
    teardown(&f);
    free(text), free(md), free(score), free(dir);
}
