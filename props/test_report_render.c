/* The report as a person sees it: report.html rendered by headless Chromium.
 *
 * A small report (--quick, one production kernel with a benchmark file from `ulpgate bench
 * --json`: six plots) is written to a temporary directory and loaded by Chromium with
 * --dump-dom; the page's own script counts the plot images the
 * browser decoded (body[data-plots-loaded="k/n"]), so k = n > 0 proves that every inline
 * SVG is there and valid, not just present as text.  A screenshot must be a PNG.  Skipped,
 * with a message, where Chromium is absent (install it with scripts/setup-deps --browser);
 * without gnuplot the report must say that plots were skipped instead.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

extern char **environ;

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    size_t cap = 1 << 16, len = 0, got;
    char *s = malloc(cap);
    while ((got = fread(s + len, 1, cap - len - 1, f)) > 0)
        if ((len += got) + 1 == cap)
            s = realloc(s, cap *= 2);
    s[len] = '\0';
    fclose(f);
    if (size != NULL)
        *size = len;
    return s;
}

/* Run argv (PATH searched) with stdout to out (or /dev/null); the exit status. */
static int run(const char *const *argv, const char *out)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out != NULL ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return 127;
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* The first of Debian's and others' names for Chromium found on PATH, or NULL. */
static const char *find_chromium(void)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
    const char *path = getenv("PATH");
    for (size_t i = 0; path != NULL && i < sizeof names / sizeof names[0]; i++) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", path);
        for (char *save = NULL, *d = strtok_r(buf, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            char full[4200];
            snprintf(full, sizeof full, "%s/%s", d, names[i]);
            if (access(full, X_OK) == 0)
                return names[i];
        }
    }
    return NULL;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* chromium --headless with the flags that keep it off the network and out of $HOME. */
static int chromium(const char *browser, const char *profile, const char *what, const char *url, const char *out)
{
    const char *argv[] = {"timeout", "180", browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                          "--no-first-run", "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", "--hide-scrollbars", "--virtual-time-budget=10000", profile,
                          "--window-size=1300,2400", what, url, NULL};
    return run(argv, out);
}

Test(report_render, plots_are_decoded_by_chromium, .timeout = 280)
{
    const char *browser = find_chromium();
    if (browser == NULL)
        cr_skip_test("Chromium not found on PATH: the rendering test is skipped (install it with "
                     "scripts/setup-deps --browser)");
    char dir[] = "/tmp/ug_test_render_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char html[256], dom[256], png[256], profile[300], url[300], shot[300], bench[256];
    snprintf(bench, sizeof bench, "%s/bench.json", dir);
    const char *bargs[] = {UG_CLI_PATH, "bench", "--kernel", "softmax.twopass.f32", "--shape", "8x64", "--repeat", "1",
                           "--json", bench, NULL};
    cr_assert_eq(run(bargs, NULL), 0, "ulpgate bench failed");
    const char *args[] = {UG_CLI_PATH, "report", "--out", dir, "--quick", "--kernel", "softmax.twopass.f32", "--bench",
                          bench, NULL};
    cr_assert_eq(run(args, NULL), 0, "ulpgate report failed");
    snprintf(html, sizeof html, "%s/report.html", dir);
    snprintf(dom, sizeof dom, "%s/dom.html", dir);
    snprintf(png, sizeof png, "%s/shot.png", dir);
    snprintf(profile, sizeof profile, "--user-data-dir=%s/profile", dir);
    snprintf(url, sizeof url, "file://%s", html);
    snprintf(shot, sizeof shot, "--screenshot=%s", png);
    char *page = slurp(html, NULL);
    size_t plots = count(page, "<img class=\"plot\"");
    if (strstr(page, "Plots were skipped") != NULL) {
        cr_log_warn("gnuplot is missing: the report says so, and there is nothing to render");
        cr_expect_eq(plots, 0u);
    } else {
        cr_expect_eq(plots, 6u, "one kernel: 1 comparison, 1 boundary map, 3 plots of its op, accuracy against speed");
        cr_expect(strstr(page, "alt=\"worst ULP against ns per element\"") != NULL, "no accuracy-against-speed plot");
        cr_assert_eq(chromium(browser, profile, "--dump-dom", url, dom), 0, "chromium --dump-dom failed");
        char *d = slurp(dom, NULL);
        char want[64];
        snprintf(want, sizeof want, "data-plots-loaded=\"%zu/%zu\"", plots, plots);
        cr_expect(strstr(d, want) != NULL, "Chromium decoded fewer plots than the page has (want %s): %.200s", want,
                  strstr(d, "data-plots-loaded") ? strstr(d, "data-plots-loaded") : "no data-plots-loaded attribute");
        cr_log_info("Chromium rendered %zu of %zu plots", plots, plots);
        free(d);
    }
    cr_assert_eq(chromium(browser, profile, shot, url, NULL), 0, "chromium --screenshot failed");
    size_t size;
    char *img = slurp(png, &size);
    cr_expect(size > 20000 && memcmp(img, "\x89PNG\r\n\x1a\n", 8) == 0, "the screenshot is not a PNG (%zu bytes)", size);
    free(img);
    free(page);
    const char *rm[] = {"rm", "-rf", dir, NULL};
    run(rm, NULL);
}
