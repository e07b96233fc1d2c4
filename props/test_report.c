/* ulpgate report: the same seed gives the same bytes; timings come only from a benchmark
 * file (--bench), never from the report's own run, so report.json does not change with
 * it; a kill mid-run leaves the previous report intact (atomic writes); progress goes to
 * stderr only when stderr is a terminal; bad input is refused with its exit status.
 *
 * Every run is small (--quick, one kernel: a few seconds) and runs as a child process.
 * The plots themselves are checked by test_report_render.c (headless Chromium).
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run_cli.h"

#define KERNEL "softmax.twopass.f32"

/* Start ulpgate with args, stdout to /dev/null and stderr to err_fd (-1: a file err). */
static pid_t start(const char *const *args, int err_fd, const char *err)
{
    const char *argv[32] = {UG_CLI_PATH};
    for (size_t i = 0; args[i] != NULL && i < 30; i++)
        argv[i + 1] = args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (err_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, UG_CLI_PATH, &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int finish(pid_t pid)
{
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void tmpdir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/ug_test_report_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void rm_rf(const char *dir)
{
    pid_t pid;
    const char *argv[] = {"rm", "-rf", dir, NULL};
    cr_assert_eq(posix_spawnp(&pid, "rm", NULL, NULL, (char *const *)argv, environ), 0);
    finish(pid);
}

static char *file_in(const char *dir, const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return slurp(path);
}

/* report --quick --kernel KERNEL --out dir [--seed seed] [--bench bench]: exit status. */
static int report(const char *dir, const char *seed, const char *bench)
{
    const char *args[16] = {"report", "--quick", "--kernel", KERNEL, "--out", dir, "--seed", seed};
    size_t n = 8;
    if (bench != NULL)
    {
        args[n++] = "--bench";
        args[n++] = bench;
    }
    args[n] = NULL;
    run_result r = run_ulpgate(args);
    cr_expect_eq(r.status, 0, "report: exit %d: %s", r.status, r.err);
    int st = r.status;
    run_free(&r);
    return st;
}

static void expect_same_file(const char *a, const char *b, const char *name)
{
    char *x = file_in(a, name), *y = file_in(b, name);
    cr_assert(x != NULL && y != NULL, "%s missing", name);
    cr_expect(strcmp(x, y) == 0, "%s differs between %s and %s", name, a, b);
    free(x);
    free(y);
}

Test(report, same_seed_same_bytes, .timeout = 240)
{
    char a[64], b[64];
    tmpdir(a, sizeof a);
    tmpdir(b, sizeof b);
    report(a, "7", NULL);
    report(b, "7", NULL);
    expect_same_file(a, b, "report.json");
    expect_same_file(a, b, "report.md");
    expect_same_file(a, b, "report.html");
    rm_rf(a);
    rm_rf(b);
}

Test(report, timings_come_from_the_bench_file_only, .timeout = 240)
{
    char a[64], b[64], bench[100];
    tmpdir(a, sizeof a);
    tmpdir(b, sizeof b);
    snprintf(bench, sizeof bench, "%s/bench.json", a);
    run_result r = run_ulpgate((const char *[]){"bench", "--kernel", KERNEL, "--shape", "8x64", "--repeat", "1",
                                                "--json", bench, NULL});
    cr_assert_eq(r.status, 0, "bench: exit %d: %s", r.status, r.err);
    run_free(&r);
    report(a, "1", bench);
    report(b, "1", NULL);
    /* report.json holds accuracy only: the same with and without timings */
    expect_same_file(a, b, "report.json");
    char *with = file_in(a, "report.html"), *without = file_in(b, "report.html");
    cr_assert(with != NULL && without != NULL);
    cr_expect(strstr(with, "<tr><td><code>" KERNEL "</code></td><td>8 &times; 64</td><td>") != NULL,
              "the speed table has the benchmarked kernel and shape");
    cr_expect(strstr(with, "from the benchmark file <code>bench.json</code>") != NULL);
    cr_expect(strstr(without, "No benchmark figures") != NULL);
    if (strstr(with, "Plots were skipped") == NULL)
        cr_expect_eq(count(with, "<img class=\"plot\""), count(without, "<img class=\"plot\"") + 1,
                     "one more plot: worst ULP against ns per element");
    free(with);
    free(without);
    rm_rf(a);
    rm_rf(b);
}

Test(report, bad_bench_file_is_refused)
{
    char dir[64], bad[100], out[100];
    tmpdir(dir, sizeof dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(bad, "w");
    cr_assert_not_null(f);
    fputs("{\"command\": \"check\", \"figures\": []}\n", f);
    fclose(f);
    run_result r = run_ulpgate((const char *[]){"report", "--quick", "--out", out, "--bench", bad, NULL});
    cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "not a file of ulpgate bench --json") != NULL, "%s", r.err);
    run_free(&r);
    r = run_ulpgate((const char *[]){"report", "--quick", "--out", out, "--bench", "/nonexistent/bench.json", NULL});
    cr_expect_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "cannot open the benchmark file /nonexistent/bench.json") != NULL, "%s", r.err);
    run_free(&r);
    cr_expect(access(out, F_OK) != 0, "nothing written on bad input");
    rm_rf(dir);
}

/* A report, then runs of another seed killed (SIGKILL) after 0.3 s, 1 s and 2.5 s: each
 * leaves the first report's three files exactly as they were. */
Test(report, a_kill_leaves_no_partial_report, .timeout = 240)
{
    char dir[64], err[100];
    tmpdir(dir, sizeof dir);
    snprintf(err, sizeof err, "%s.err", dir);
    report(dir, "1", NULL);
    char *before[3];
    const char *names[3] = {"report.json", "report.md", "report.html"};
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(before[i] = file_in(dir, names[i]));
    const long delays_ms[] = {300, 1000, 2500};
    for (size_t d = 0; d < 3; d++) {
        pid_t pid = start((const char *[]){"report", "--quick", "--kernel", KERNEL, "--out", dir, "--seed", "2", NULL},
                          -1, err);
        struct timespec ts = {delays_ms[d] / 1000, delays_ms[d] % 1000 * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st = finish(pid);
        for (int i = 0; i < 3; i++) {
            char *now = file_in(dir, names[i]);
            /* the run may have finished before the kill: then all three are the new report */
            cr_assert_not_null(now, "%s gone after a kill at %ld ms", names[i], delays_ms[d]);
            if (st == 128 + SIGKILL)
                cr_expect(strcmp(now, before[i]) == 0, "%s changed by a run killed at %ld ms", names[i], delays_ms[d]);
            free(now);
        }
    }
    for (int i = 0; i < 3; i++)
        free(before[i]);
    remove(err);
    rm_rf(dir);
}

/* stderr a file: nothing but errors (none here); stderr a terminal (a pseudo-terminal):
 * progress lines "\r\033[Kreport: ...". */
Test(report, progress_only_on_a_terminal, .timeout = 240)
{
    char dir[64], err[100];
    tmpdir(dir, sizeof dir);
    snprintf(err, sizeof err, "%s.err", dir);
    int st = finish(start((const char *[]){"report", "--quick", "--kernel", KERNEL, "--out", dir, NULL}, -1, err));
    cr_expect_eq(st, 0);
    char *text = slurp(err);
    cr_expect(text != NULL && text[0] == '\0', "stderr not a terminal, yet: '%.200s'", text ? text : "");
    free(text);
    remove(err);

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "no pseudo-terminal");
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    cr_assert(slave >= 0);
    pid_t pid = start((const char *[]){"report", "--quick", "--kernel", KERNEL, "--out", dir, NULL}, slave, NULL);
    close(slave);
    size_t len = 0, cap = 1 << 16;
    char *seen = malloc(cap);
    for (;;) { /* read until the child closes its side (EIO on Linux) */
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, 200000) <= 0)
            break;
        ssize_t got = read(master, seen + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len + 1 == cap)
            seen = realloc(seen, cap *= 2);
    }
    seen[len] = '\0';
    cr_expect_eq(finish(pid), 0);
    close(master);
    cr_expect(strstr(seen, "\r\033[Kreport: ") != NULL, "no progress on a terminal: '%.200s'", seen);
    free(seen);
    rm_rf(dir);
}
