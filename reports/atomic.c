/* Atomic file output (atomic.h): temporary file beside the destination, fsync, rename. */
#include "atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* <dir>/.<name>.XXXXXX for path <dir>/<name> (or .<name>.XXXXXX without a directory). */
static char *temp_name(const char *cmd, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    size_t len = strlen(path) + 9;
    char *tmp = ug_cli_alloc(cmd, len, 1);
    snprintf(tmp, len, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    return tmp;
}

static char *dup_str(const char *cmd, const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = ug_cli_alloc(cmd, len, 1);
    memcpy(d, s, len);
    return d;
}

static void release(ug_atomic *a)
{
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->f = NULL;
}

FILE *ug_atomic_open(ug_atomic *a, const char *cmd, const char *path)
{
    a->cmd = cmd;
    a->path = dup_str(cmd, path);
    a->tmp = temp_name(cmd, path);
    int fd = mkstemp(a->tmp);
    if (fd < 0)
        ug_cli_die(UG_EXIT_IO, cmd, "cannot write %s: %s", path, strerror(errno));
    mode_t mask = umask(0); /* mkstemp makes 0600: give the file the usual 0666 & ~umask */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    a->f = fdopen(fd, "w");
    if (a->f == NULL) {
        int err = errno;
        close(fd);
        remove(a->tmp);
        ug_cli_die(UG_EXIT_IO, cmd, "cannot write %s: %s", path, strerror(err));
    }
    return a->f;
}

void ug_atomic_close(ug_atomic *a)
{
    errno = 0;
    int bad = ferror(a->f) != 0;
    bad |= fflush(a->f) != 0;
    bad |= fsync(fileno(a->f)) != 0;
    int err = errno;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (!bad)
        return;
    remove(a->tmp);
    ug_cli_die(UG_EXIT_IO, a->cmd, "cannot write %s: %s", a->path, err ? strerror(err) : "write error");
}

void ug_atomic_rename(ug_atomic *a)
{
    if (rename(a->tmp, a->path) != 0) {
        int err = errno;
        remove(a->tmp);
        ug_cli_die(UG_EXIT_IO, a->cmd, "cannot rename %s to %s: %s", a->tmp, a->path, strerror(err));
    }
    release(a);
}

void ug_atomic_commit(ug_atomic *a)
{
    ug_atomic_close(a);
    ug_atomic_rename(a);
}

void ug_atomic_abort(ug_atomic *a)
{
    if (a->f != NULL)
        fclose(a->f);
    if (a->tmp != NULL)
        remove(a->tmp);
    release(a);
}

void ug_atomic_write_json(const char *cmd, const char *path, json_object *doc)
{
    ug_atomic a;
    FILE *f = ug_atomic_open(&a, cmd, path);
    fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE),
          f);
    fputc('\n', f);
    ug_atomic_commit(&a);
}

void ug_atomic_write(const char *cmd, const char *path, const void *data, size_t size)
{
    ug_atomic a;
    FILE *f = ug_atomic_open(&a, cmd, path);
    fwrite(data, 1, size, f);
    ug_atomic_commit(&a);
}
