/* The registry table, built from core/kernels.def, the rows appended at run time
 * (plug-ins), and the look-ups. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ulpgate/registry.h"
#include "cpu.h"
#include "internal.h"
#include "kernels.h"

static const ug_kernel table[] = {
#define UG_KERNEL(fn_, name_, op_, dt_, alg_, isa_, ulp_, per_n_, per_cond_, role_, desc_) \
    {.name = name_, .op = op_, .dtype = dt_, .algorithm = alg_, .isa = isa_, .fn = fn_,    \
     .bound = {ulp_, per_n_, per_cond_}, .role = UG_ROLE_##role_, .desc = desc_},
#include "kernels.def"
#undef UG_KERNEL
};

enum { BUILTIN_COUNT = sizeof table / sizeof table[0], NAME_MAX_LEN = 63, DESC_MAX_LEN = 200 };

/* Appended rows, one block per ug_kernel_append call (a block never moves, so pointers
 * into it stay valid; only the array of blocks grows). */
typedef struct block {
    ug_kernel *rows;
    size_t count;
} block;

static block *blocks;
static size_t block_count, appended;

size_t ug_kernel_count(void) { return BUILTIN_COUNT + appended; }

size_t ug_kernel_builtin_count(void) { return BUILTIN_COUNT; }

const ug_kernel *ug_kernel_at(size_t i)
{
    if (i < BUILTIN_COUNT)
        return &table[i];
    i -= BUILTIN_COUNT;
    for (size_t b = 0; b < block_count; b++) {
        if (i < blocks[b].count)
            return &blocks[b].rows[i];
        i -= blocks[b].count;
    }
    return NULL;
}

const ug_kernel *ug_kernel_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (strcmp(k->name, name) == 0)
            return k;
    }
    return NULL;
}

/* ---------------------------------------------------------------- checking rows */

/* Length of the run of [a-z0-9_] at s. */
static size_t word_len(const char *s)
{
    size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
        n++;
    return n;
}

static int is_word(const char *s) { return s != NULL && s[0] != '\0' && s[word_len(s)] == '\0'; }

/* s starts with the part want followed by '.' (consumed) or by the end (when last). */
static int take_part(const char **s, const char *want, int last)
{
    size_t n = strlen(want);
    if (strncmp(*s, want, n) != 0 || (*s)[n] != (last ? '\0' : '.'))
        return 0;
    *s += n + !last;
    return 1;
}

/* name == op.algorithm.dtype or op.algorithm.dtype.isa, as the row says. */
static int name_matches(const ug_kernel *k)
{
    const char *s = k->name;
    if (!take_part(&s, ug_op_name(k->op), 0) || !take_part(&s, k->algorithm, 0))
        return 0;
    const char *dt = ug_dtype_name(k->dtype);
    size_t n = strlen(dt);
    if (strncmp(s, dt, n) != 0)
        return 0;
    s += n;
    return *s == '\0' || (*s == '.' && strcmp(s + 1, k->isa) == 0);
}

static int bound_ok(double v) { return isfinite(v) && v >= 0; }

static int desc_ok(const char *d)
{
    size_t n = 0;
    for (; d[n] != '\0'; n++)
        if (d[n] < 0x20 || d[n] > 0x7e)
            return 0;
    return n <= DESC_MAX_LEN;
}

ug_status ug_kernel_check(const ug_kernel *k)
{
    if (k == NULL)
        return ug__fail(UG_ERR_NULL, "no row (NULL)");
    if (k->name == NULL)
        return ug__fail(UG_ERR_ARG, "the name is NULL");
    const char *nm = k->name;
    if ((unsigned)k->op >= UG_OP_COUNT)
        return ug__fail(UG_ERR_ARG, "%s: op %d is not a ug_op (0 to %d)", nm, (int)k->op, UG_OP_COUNT - 1);
    if ((unsigned)k->dtype >= UG_DTYPE_COUNT)
        return ug__fail(UG_ERR_ARG, "%s: dtype %d is not a ug_dtype (0 to %d)", nm, (int)k->dtype,
                        UG_DTYPE_COUNT - 1);
    if (!is_word(k->algorithm))
        return ug__fail(UG_ERR_ARG, "%s: algorithm %s%s%s is not [a-z0-9_]+", nm, k->algorithm ? "'" : "",
                        k->algorithm ? k->algorithm : "NULL", k->algorithm ? "'" : "");
    if (!is_word(k->isa))
        return ug__fail(UG_ERR_ARG, "%s: isa %s%s%s is not [a-z0-9_]+", nm, k->isa ? "'" : "",
                        k->isa ? k->isa : "NULL", k->isa ? "'" : "");
    if (strlen(nm) > NAME_MAX_LEN)
        return ug__fail(UG_ERR_ARG, "name '%.*s...' has %zu characters, at most %d", NAME_MAX_LEN, nm, strlen(nm),
                        NAME_MAX_LEN);
    if (!name_matches(k))
        return ug__fail(UG_ERR_ARG, "name '%s' is not %s.%s.%s or %s.%s.%s.%s (op.algorithm.dtype[.isa] of the row)",
                        nm, ug_op_name(k->op), k->algorithm, ug_dtype_name(k->dtype), ug_op_name(k->op),
                        k->algorithm, ug_dtype_name(k->dtype), k->isa);
    if (k->fn == NULL)
        return ug__fail(UG_ERR_ARG, "%s: the function is NULL", nm);
    if (!bound_ok(k->bound.ulp) || !bound_ok(k->bound.per_n) || !bound_ok(k->bound.per_cond))
        return ug__fail(UG_ERR_ARG, "%s: bound {ulp %g, per_n %g, per_cond %g}: every field must be finite and >= 0",
                        nm, k->bound.ulp, k->bound.per_n, k->bound.per_cond);
    if (k->bound.ulp < 0.5)
        return ug__fail(UG_ERR_ARG, "%s: bound ulp %g < 0.5: no rounded result can meet it", nm, k->bound.ulp);
    if ((unsigned)k->role > UG_ROLE_EXTERNAL)
        return ug__fail(UG_ERR_ARG, "%s: role %d is not a ug_role", nm, (int)k->role);
    if (k->desc == NULL)
        return ug__fail(UG_ERR_ARG, "%s: the description is NULL", nm);
    if (!desc_ok(k->desc))
        return ug__fail(UG_ERR_ARG, "%s: the description is not one line of printable ASCII of at most %d characters",
                        nm, DESC_MAX_LEN);
    return ug__fail(UG_OK, "%s", "");
}

/* 1 when the name of rows[i] is taken: by an earlier row of rows, or by a registered row. */
static int named_before(const ug_kernel *rows, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(rows[j].name, rows[i].name) == 0)
            return 1;
    return ug_kernel_find(rows[i].name) != NULL;
}

ug_status ug_kernel_append(const ug_kernel *rows, size_t count)
{
    if (count == 0)
        return ug__fail(UG_OK, "%s", "");
    if (rows == NULL)
        return ug__fail(UG_ERR_NULL, "no rows (NULL)");
    for (size_t i = 0; i < count; i++) {
        ug_status st = ug_kernel_check(&rows[i]);
        if (st != UG_OK)
            return st;
        if (rows[i].role != UG_ROLE_EXTERNAL && rows[i].role != UG_ROLE_CANARY)
            return ug__fail(UG_ERR_ARG, "%s: role %s: an appended row is external or canary", rows[i].name,
                            ug_role_name(rows[i].role));
        if (named_before(rows, i))
            return ug__fail(UG_ERR_ARG, "%s: a kernel of that name is already registered", rows[i].name);
    }
    ug_kernel *copy = malloc(count * sizeof *copy);
    block *grown = realloc(blocks, (block_count + 1) * sizeof *grown);
    if (copy == NULL || grown == NULL) {
        free(copy);
        if (grown != NULL)
            blocks = grown;
        return ug__fail(UG_ERR_NOMEM, "no memory for %zu rows", count);
    }
    memcpy(copy, rows, count * sizeof *copy);
    blocks = grown;
    blocks[block_count++] = (block){copy, count};
    appended += count;
    return ug__fail(UG_OK, "%s", "");
}

const ug_kernel *ug_kernel_scalar_twin(const ug_kernel *k)
{
    if (k == NULL || strcmp(k->isa, "scalar") == 0)
        return NULL;
    const char *dot = strrchr(k->name, '.');
    if (dot == NULL)
        return NULL;
    size_t len = (size_t)(dot - k->name);
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *c = ug_kernel_at(i);
        if (strncmp(c->name, k->name, len) == 0 && c->name[len] == '\0')
            return c;
    }
    for (size_t i = 0; i < ug_kernel_count(); i++) { /* an algorithm of its own (softmax.dd.f64.avx512) */
        const ug_kernel *c = ug_kernel_at(i);
        if (c->op == k->op && c->dtype == k->dtype && c->role == UG_ROLE_PRODUCTION && strcmp(c->isa, "scalar") == 0)
            return c;
    }
    return NULL;
}

const char *ug_role_name(ug_role r)
{
    switch (r) {
    case UG_ROLE_PRODUCTION: return "production";
    case UG_ROLE_VARIANT: return "variant";
    case UG_ROLE_CANARY: return "canary";
    case UG_ROLE_EXTERNAL: return "external";
    }
    return "?";
}

/* The rank of a row's ISA (cpu.h); -1 for an ISA this build does not know. */
static int isa_rank(const ug_kernel *k) { return ug__isa_from_name(k->isa); }

/* 1 when k is one of the appended rows (its address is not in the built-in table). */
static int is_appended(const ug_kernel *k)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (k == &table[i])
            return 0;
    return 1;
}

int ug_kernel_available(const ug_kernel *k)
{
    if (k == NULL)
        return 0;
    int rank = isa_rank(k);
    if (rank < 0)
        return is_appended(k); /* a plug-in's own isa name: it dispatches inside (plugin.h) */
    return ug__cpu_has((ug__isa)rank);
}

/* Among the production rows of (op, dt) the CPU can run, the highest ISA not above the
 * cap (UG_ISA, ug_set_isa); ties go to the first row. */
const ug_kernel *ug_kernel_production(ug_op op, ug_dtype dt)
{
    int cap = (int)ug__isa_cap(), best_rank = -1;
    const ug_kernel *best = NULL;
    for (size_t i = 0; i < BUILTIN_COUNT; i++) { /* never an appended row: dispatch is ours */
        const ug_kernel *k = &table[i];
        if (k->op != op || k->dtype != dt || k->role != UG_ROLE_PRODUCTION)
            continue;
        int rank = isa_rank(k);
        if (rank > best_rank && rank <= cap && ug_kernel_available(k))
            best = k, best_rank = rank;
    }
    return best;
}

double ug_bound_at(const ug_kernel *k, size_t n, double kappa)
{
    double b = k->bound.ulp + k->bound.per_n * (double)n;
    if (k->bound.per_cond > 0 && kappa > 0)
        b += k->bound.per_cond * kappa;
    return b;
}
