/* Known findings (known.h). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "known.h"

#ifndef UG_FUZZ_KNOWN_PATH
#define UG_FUZZ_KNOWN_PATH "known-findings.txt"
#endif

/* The KIND words of the ways j's kernel failed, and whether each is listed. */
typedef struct failures {
    const char *kind[UG_CMP_CLASS_COUNT + 2];
    int listed[UG_CMP_CLASS_COUNT + 2];
    size_t count;
} failures;

static failures failures_of(const ug_judge *j)
{
    static const char *const violation[UG_CMP_CLASS_COUNT] = {
        NULL, "violation:nan", "violation:overflow", "violation:inf", "violation:zero-sign"};
    failures f = {{NULL}, {0}, 0};
    if (j->over_bound > 0)
        f.kind[f.count++] = "over-bound";
    if (j->kernel_errors > 0)
        f.kind[f.count++] = "kernel-error";
    for (int c = 1; c < UG_CMP_CLASS_COUNT; c++)
        if (j->cls[c] > 0)
            f.kind[f.count++] = violation[c];
    return f;
}

static void mark_line(failures *f, const char *kernel, char *line)
{
    char *name = strtok(line, " \t\r\n");
    char *kind = name != NULL ? strtok(NULL, " \t\r\n") : NULL;
    if (name == NULL || name[0] == '#' || kind == NULL || fnmatch(name, kernel, 0) != 0)
        return;
    for (size_t i = 0; i < f->count; i++)
        f->listed[i] |= strcmp(f->kind[i], kind) == 0;
}

/* known-findings.txt beside the running binary: where OSS-Fuzz and ClusterFuzzLite find
 * it ($OUT, .clusterfuzzlite/build.sh), the source tree being absent where they fuzz. */
static FILE *open_beside_binary(void)
{
    char path[4096];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - sizeof "known-findings.txt");
    if (len <= 0)
        return NULL;
    path[len] = '\0';
    char *slash = strrchr(path, '/');
    if (slash == NULL)
        return NULL;
    strcpy(slash + 1, "known-findings.txt");
    return fopen(path, "r");
}

int ug_fuzz_known(const ug_judge *j)
{
    const char *path = getenv("UG_FUZZ_KNOWN");
    int given = path != NULL && path[0] != '\0';
    if (!given)
        path = UG_FUZZ_KNOWN_PATH;
    if (strcmp(path, "none") == 0)
        return 0;
    FILE *in = fopen(path, "r");
    if (in == NULL && !given)
        in = open_beside_binary();
    if (in == NULL)
        return 0;
    failures f = failures_of(j);
    char line[1024];
    while (fgets(line, sizeof line, in) != NULL)
        mark_line(&f, j->k->name, line);
    fclose(in);
    size_t listed = 0;
    for (size_t i = 0; i < f.count; i++)
        listed += f.listed[i] != 0;
    return f.count > 0 && listed == f.count;
}
