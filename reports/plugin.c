/* The plug-in loader (plugin.h). */
#include "plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "ulpgate/plugin.h"

/* The libraries loaded: path as given, library name, and their rows' registry indices
 * [first, first + count). */
typedef struct loaded {
    char *path;
    const char *library;
    size_t first, count;
} loaded;

static loaded *libs;
static size_t lib_count;

size_t ug_plugin_count(void) { return lib_count; }

const char *ug_plugin_path(size_t i) { return i < lib_count ? libs[i].path : NULL; }

const char *ug_plugin_library(size_t i) { return i < lib_count ? libs[i].library : NULL; }

long ug_plugin_of(const ug_kernel *k)
{
    for (size_t i = 0; i < lib_count; i++)
        for (size_t r = 0; r < libs[i].count; r++)
            if (ug_kernel_at(libs[i].first + r) == k)
                return (long)i;
    return -1;
}

static int fail(int code, char *why, size_t whysize, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(int code, char *why, size_t whysize, const char *path, const char *fmt, ...)
{
    int n = snprintf(why, whysize, "plug-in %s: ", path);
    if (n >= 0 && (size_t)n < whysize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why + n, whysize - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* The registry row of plug-in row r (the ABI's frozen layout to the registry's). */
static ug_kernel to_kernel(const ug_plugin_row *r)
{
    return (ug_kernel){.name = r->name, .op = r->op, .dtype = r->dtype, .algorithm = r->algorithm,
                       .isa = r->isa, .fn = r->fn, .bound = r->bound, .role = r->role, .desc = r->desc};
}

/* Who already holds name: "ulpgate (built-in)", "plug-in P (L)" or "this library". */
static void holder(const char *name, const ug_kernel *rows, size_t i, char *out, size_t size)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(rows[j].name, name) == 0) {
            snprintf(out, size, "row %zu of this library", j);
            return;
        }
    long lib = ug_plugin_of(ug_kernel_find(name));
    if (lib < 0)
        snprintf(out, size, "a built-in kernel of ulpgate");
    else
        snprintf(out, size, "plug-in %s (%s)", libs[lib].path, libs[lib].library);
}

/* Check every row as ug_kernel_append will, classifying the first problem. */
static int check_rows(const char *path, const ug_kernel *rows, size_t count, char *why, size_t whysize)
{
    for (size_t i = 0; i < count; i++) {
        const ug_kernel *k = &rows[i];
        if (ug_kernel_check(k) != UG_OK)
            return fail(UG_EXIT_PLUGIN_ROW, why, whysize, path, "row %zu: %s", i, ug_last_error());
        if (k->role != UG_ROLE_EXTERNAL && k->role != UG_ROLE_CANARY)
            return fail(UG_EXIT_PLUGIN_ROW, why, whysize, path,
                        "row %zu: %s: role %s is ulpgate's own; a plug-in row is external or canary", i, k->name,
                        ug_role_name(k->role));
        int twice = ug_kernel_find(k->name) != NULL;
        for (size_t j = 0; j < i && !twice; j++)
            twice = strcmp(rows[j].name, k->name) == 0;
        if (twice) {
            char who[512];
            holder(k->name, rows, i, who, sizeof who);
            return fail(UG_EXIT_PLUGIN_DUP, why, whysize, path, "row %zu: kernel %s is named twice: already %s", i,
                        k->name, who);
        }
    }
    return UG_EXIT_OK;
}

/* The descriptor's header: version, row size, the array. */
static int check_descriptor(const char *path, const ug_plugin *d, char *why, size_t whysize)
{
    if (d == NULL)
        return fail(UG_EXIT_PLUGIN_ENTRY, why, whysize, path, "%s(%u) returned NULL (the library refused to load)",
                    UG_PLUGIN_ENTRY, UG_PLUGIN_ABI_VERSION);
    if (d->abi_version != UG_PLUGIN_ABI_VERSION)
        return fail(UG_EXIT_PLUGIN_ABI, why, whysize, path,
                    "built against plug-in ABI version %u; this ulpgate speaks version %u (rebuild it against "
                    "this include/ulpgate/plugin.h)",
                    d->abi_version, UG_PLUGIN_ABI_VERSION);
    if (d->row_size != sizeof(ug_plugin_row))
        return fail(UG_EXIT_PLUGIN_ABI, why, whysize, path,
                    "row_size %u is not sizeof(ug_plugin_row) = %zu of ABI version %u (rebuild it against "
                    "this include/ulpgate/plugin.h)",
                    d->row_size, sizeof(ug_plugin_row), UG_PLUGIN_ABI_VERSION);
    if (d->library == NULL || d->library[0] == '\0')
        return fail(UG_EXIT_PLUGIN_ROW, why, whysize, path, "the descriptor names no library (library is NULL or \"\")");
    if (d->count > 0 && d->rows == NULL)
        return fail(UG_EXIT_PLUGIN_ROW, why, whysize, path, "%zu rows but rows is NULL", d->count);
    return UG_EXIT_OK;
}

/* Record the library; its rows are the last count of the registry. */
static int remember(const char *path, const char *library, size_t count, char *why, size_t whysize)
{
    loaded *grown = realloc(libs, (lib_count + 1) * sizeof *grown);
    char *copy = strdup(path);
    if (grown == NULL || copy == NULL) {
        free(copy);
        if (grown != NULL)
            libs = grown;
        return fail(UG_EXIT_INTERNAL, why, whysize, path, "out of memory");
    }
    libs = grown;
    libs[lib_count++] = (loaded){copy, library, ug_kernel_count() - count, count};
    return UG_EXIT_OK;
}

static int register_rows(const char *path, const ug_plugin *d, char *why, size_t whysize)
{
    ug_kernel *rows = malloc((d->count > 0 ? d->count : 1) * sizeof *rows);
    if (rows == NULL)
        return fail(UG_EXIT_INTERNAL, why, whysize, path, "out of memory");
    for (size_t i = 0; i < d->count; i++)
        rows[i] = to_kernel(&d->rows[i]);
    int rc = check_rows(path, rows, d->count, why, whysize);
    if (rc == UG_EXIT_OK) {
        ug_status st = ug_kernel_append(rows, d->count);
        if (st != UG_OK) /* check_rows said yes: only memory can fail here */
            rc = fail(st == UG_ERR_NOMEM ? UG_EXIT_INTERNAL : UG_EXIT_PLUGIN_ROW, why, whysize, path, "%s",
                      ug_last_error());
    }
    free(rows);
    return rc == UG_EXIT_OK ? remember(path, d->library, d->count, why, whysize) : rc;
}

int ug_plugin_load(const char *path, char *why, size_t whysize)
{
    if (path == NULL || path[0] == '\0')
        return fail(UG_EXIT_USAGE, why, whysize, "\"\"", "empty path");
    struct stat st;
    if (stat(path, &st) != 0)
        return fail(UG_EXIT_IO, why, whysize, path, "cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(UG_EXIT_PLUGIN_LOAD, why, whysize, path, "not a regular file (a shared library is)");
    /* dlopen searches the library path for a name without '/': make it a path. */
    char *local = NULL;
    if (strchr(path, '/') == NULL) {
        local = malloc(strlen(path) + 3);
        if (local == NULL)
            return fail(UG_EXIT_INTERNAL, why, whysize, path, "out of memory");
        strcpy(local, "./");
        strcat(local, path);
    }
    void *h = dlopen(local != NULL ? local : path, RTLD_NOW | RTLD_LOCAL);
    free(local);
    if (h == NULL) {
        const char *e = dlerror();
        return fail(UG_EXIT_PLUGIN_LOAD, why, whysize, path, "cannot be loaded as a shared library: %s",
                    e != NULL ? e : "dlopen failed");
    }
    dlerror();
    void *sym = dlsym(h, UG_PLUGIN_ENTRY);
    if (sym == NULL) {
        dlclose(h);
        return fail(UG_EXIT_PLUGIN_ENTRY, why, whysize, path,
                    "no entry point %s (include/ulpgate/plugin.h: export const ug_plugin *%s(uint32_t))",
                    UG_PLUGIN_ENTRY, UG_PLUGIN_ENTRY);
    }
    ug_plugin_init_fn init;
    memcpy(&init, &sym, sizeof init); /* POSIX: a data pointer from dlsym holds a function */
    const ug_plugin *d = init(UG_PLUGIN_ABI_VERSION);
    int rc = check_descriptor(path, d, why, whysize);
    if (rc == UG_EXIT_OK)
        rc = register_rows(path, d, why, whysize);
    /* On an error the library stays loaded: its init may have started threads or
     * registered handlers (oneDNN does); the process is about to exit anyway. */
    return rc;
}

int ug_plugin_load_list(const char *list, char *why, size_t whysize)
{
    if (list == NULL)
        return UG_EXIT_OK;
    char *copy = strdup(list);
    if (copy == NULL)
        return fail(UG_EXIT_INTERNAL, why, whysize, list, "out of memory");
    int rc = UG_EXIT_OK;
    char *save = NULL;
    for (char *p = strtok_r(copy, ":", &save); p != NULL && rc == UG_EXIT_OK; p = strtok_r(NULL, ":", &save))
        rc = ug_plugin_load(p, why, whysize);
    free(copy);
    return rc;
}
