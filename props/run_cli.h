/* Running the ulpgate command from a Criterion test: its exit status and what it printed.
 * Shared by the tests that drive the command (test_boundary.c, test_gate.c, test_report.c,
 * test_vectors.c); each test
 * program includes it once (static functions, no library).  UG_CLI_PATH is set by
 * props/CMakeLists.txt. */
#ifndef ULPGATE_PROPS_RUN_CLI_H
#define ULPGATE_PROPS_RUN_CLI_H

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

extern char **environ;

typedef struct run_result {
    int status; /* the exit status, or 128 + the signal */
    char *out;
    char *err;
} run_result;

/* The whole file at path, NUL-terminated (malloc'd), or NULL when it cannot be opened. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *s = malloc(cap);
    while ((got = fread(s + len, 1, cap - len - 1, f)) > 0)
        if ((len += got) + 1 == cap)
            s = realloc(s, cap *= 2);
    s[len] = '\0';
    fclose(f);
    return s;
}

/* The number of non-overlapping occurrences of needle in hay. */
static inline size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ulpgate with args (NULL-terminated, at most 30), stdin from /dev/null, stdout and stderr
 * captured. */
static run_result run_ulpgate(const char *const *args)
{
    char out[] = "/tmp/ug_test_cli_out_XXXXXX", err[] = "/tmp/ug_test_cli_err_XXXXXX";
    close(mkstemp(out));
    close(mkstemp(err));
    const char *argv[32] = {UG_CLI_PATH};
    for (size_t i = 0; args[i] != NULL && i < 30; i++)
        argv[i + 1] = args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_TRUNC, 0);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, UG_CLI_PATH, &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    run_result r = {WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws), slurp(out), slurp(err)};
    remove(out);
    remove(err);
    return r;
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

#endif
