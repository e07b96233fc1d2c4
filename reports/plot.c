/* gnuplot as a child process (plot.h). */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static void path_in(const ug_plotter *pl, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", pl->dir, name);
}

void ug_plot_init(ug_plotter *pl, const char *cmd)
{
    memset(pl, 0, sizeof *pl);
    pl->cmd = cmd;
    const char *tmp = getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 40 ? getenv("TMPDIR") : "/tmp";
    snprintf(pl->dir, sizeof pl->dir, "%s/ulpgate-plot-XXXXXX", tmp);
    if (mkdtemp(pl->dir) == NULL)
        ug_cli_die(UG_EXIT_IO, cmd, "cannot create a temporary directory in %s: %s", tmp, strerror(errno));
    pl->available = 1;
}

void ug_plot_free(ug_plotter *pl)
{
    static const char *const names[] = {"plot.gp", "plot.svg", "gnuplot.log"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_in(pl, names[i], p, sizeof p);
        remove(p);
    }
    rmdir(pl->dir);
}

FILE *ug_plot_begin(ug_plotter *pl, int width, int height)
{
    char p[128];
    path_in(pl, "plot.gp", p, sizeof p);
    FILE *f = fopen(p, "w");
    if (f == NULL)
        ug_cli_die(UG_EXIT_IO, pl->cmd, "cannot write %s: %s", p, strerror(errno));
    path_in(pl, "plot.svg", p, sizeof p);
    fprintf(f, "set terminal svg size %d,%d font 'Helvetica,12' background '#ffffff' linewidth 1.3 noenhanced\n", width, height);
    fprintf(f, "set output '%s'\nset encoding utf8\n", p);
    return f;
}

/* The first line of gnuplot's log, for the message. */
static void log_head(const ug_plotter *pl, char *buf, size_t size)
{
    char p[128];
    path_in(pl, "gnuplot.log", p, sizeof p);
    FILE *f = fopen(p, "r");
    buf[0] = '\0';
    if (f == NULL)
        return;
    size_t got = fread(buf, 1, size - 1, f);
    buf[got] = '\0';
    fclose(f);
    char *nl = strchr(buf, '\n');
    if (nl != NULL && nl[1] != '\0' && strchr(nl + 1, '\n') != NULL)
        *strchr(nl + 1, '\n') = '\0'; /* two lines at most */
}

/* Run gnuplot on the script; 0 on success, else sets pl->why. */
static int run_gnuplot(ug_plotter *pl)
{
    char script[128], logp[128];
    path_in(pl, "plot.gp", script, sizeof script);
    path_in(pl, "gnuplot.log", logp, sizeof logp);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = {"gnuplot", script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        snprintf(pl->why, sizeof pl->why, "gnuplot could not be run (%s): install gnuplot-nox", strerror(rc));
        return -1;
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
        return 0;
    char head[400];
    log_head(pl, head, sizeof head);
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 127)
        snprintf(pl->why, sizeof pl->why, "gnuplot was not found: install gnuplot-nox");
    else
        snprintf(pl->why, sizeof pl->why, "gnuplot failed: %s", head);
    return -1;
}

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *s = ug_cli_alloc(NULL, cap, 1);
    while ((got = fread(s + len, 1, cap - len, f)) > 0)
        if ((len += got) == cap)
            s = ug_cli_grow(NULL, s, &cap, cap + 1, 1);
    fclose(f);
    *size = len;
    return s;
}

char *ug_plot_end(ug_plotter *pl, FILE *script, size_t *size)
{
    int bad = fclose(script) != 0;
    if (bad)
        ug_cli_die(UG_EXIT_IO, pl->cmd, "cannot write a gnuplot script in %s", pl->dir);
    if (!pl->available || run_gnuplot(pl) != 0) {
        pl->available = 0;
        return NULL;
    }
    char p[128];
    path_in(pl, "plot.svg", p, sizeof p);
    char *svg = read_all(p, size);
    if (svg == NULL) {
        snprintf(pl->why, sizeof pl->why, "gnuplot wrote no %s", p);
        pl->available = 0;
    }
    remove(p);
    return svg;
}

char *ug_base64(const char *data, size_t size)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = ug_cli_alloc(NULL, 4 * (size / 3 + 1) + 1, 1), *o = out;
    const unsigned char *d = (const unsigned char *)data;
    for (size_t i = 0; i < size; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < size ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < size ? d[i + 2] : 0);
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = i + 1 < size ? abc[v >> 6 & 63] : '=';
        *o++ = i + 2 < size ? abc[v & 63] : '=';
    }
    *o = '\0';
    return out;
}
