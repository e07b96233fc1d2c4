/* The registry's run-time rows (registry.h: ug_kernel_check, ug_kernel_append), which the
 * plug-in loader uses (include/ulpgate/plugin.h, reports/plugin.c).  The loader itself,
 * the example plug-in and every loader error are tested through the command in
 * props/plugin/ (ctest plugin_*).
 *
 *   builtin_rows_well_formed  every built-in row passes the rule plug-in rows must pass
 *   malformed                 each rule of ug_kernel_check refuses its row, with a message
 *   append                    rows join after the built-ins, are found, keep their address
 *                             across later appends; all or nothing on an error
 *   never_dispatched          ug_kernel_production ignores appended rows
 *   available                 a plug-in's own isa name is available; a known one is
 *                             checked against the CPU as for a built-in row
 * Criterion runs every test in its own process, so each starts from the built-in table.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ulpgate/registry.h"

static ug_status dummy(const ug_problem *p)
{
    (void)p;
    return UG_ERR_ARG;
}

static ug_kernel row(const char *name, const char *alg, const char *isa)
{
    return (ug_kernel){.name = name, .op = UG_OP_SOFTMAX, .dtype = UG_F32, .algorithm = alg, .isa = isa,
                       .fn = dummy, .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL, .desc = "test row"};
}

Test(plugin_registry, builtin_rows_well_formed)
{
    cr_assert_eq(ug_kernel_count(), ug_kernel_builtin_count());
    for (size_t i = 0; i < ug_kernel_builtin_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        cr_expect_eq(ug_kernel_check(k), UG_OK, "%s: %s", k->name, ug_last_error());
        cr_expect_neq(k->role, UG_ROLE_EXTERNAL, "%s: a built-in row is ulpgate's own", k->name);
    }
}

/* ug_kernel_check refuses k with a message containing want. */
static void refuses(ug_kernel k, const char *want)
{
    cr_expect_neq(ug_kernel_check(&k), UG_OK, "accepted a row that should fail: %s", want);
    cr_expect(strstr(ug_last_error(), want) != NULL, "message '%s' lacks '%s'", ug_last_error(), want);
    size_t before = ug_kernel_count();
    cr_expect_neq(ug_kernel_append(&k, 1), UG_OK);
    cr_expect_eq(ug_kernel_count(), before, "a refused row was appended");
}

Test(plugin_registry, malformed)
{
    ug_kernel k = row("softmax.mine.f32", "mine", "native");
    cr_assert_eq(ug_kernel_check(&k), UG_OK, "%s", ug_last_error());
    ug_kernel b;
    b = k, b.name = NULL, refuses(b, "name is NULL");
    b = k, b.name = "softmax.mine.f64", refuses(b, "is not softmax.mine.f32");
    b = k, b.name = "softmax.mine.f32.avx2", refuses(b, "softmax.mine.f32.native");
    b = k, b.name = "softmax.mine", refuses(b, "is not");
    b = k, b.name = "softmax.mine.f32.", refuses(b, "is not");
    b = k, b.name = "softmax.mine.f32.native";
    cr_expect_eq(ug_kernel_check(&b), UG_OK, "%s", ug_last_error());
    b = k, b.name = "softmax.Mine.f32", b.algorithm = "Mine", refuses(b, "algorithm 'Mine'");
    b = k, b.algorithm = NULL, refuses(b, "algorithm NULL");
    b = k, b.isa = "", refuses(b, "isa ''");
    b = k, b.isa = NULL, refuses(b, "isa NULL");
    b = k, b.op = UG_OP_COUNT, refuses(b, "is not a ug_op");
    b = k, b.dtype = UG_DTYPE_COUNT, refuses(b, "is not a ug_dtype");
    b = k, b.fn = NULL, refuses(b, "function is NULL");
    b = k, b.bound.ulp = -1, refuses(b, "finite and >= 0");
    b = k, b.bound.ulp = NAN, refuses(b, "finite and >= 0");
    b = k, b.bound.per_n = -0.5, refuses(b, "finite and >= 0");
    b = k, b.bound.per_cond = INFINITY, refuses(b, "finite and >= 0");
    b = k, b.bound.ulp = 0.25, refuses(b, "< 0.5");
    b = k, b.role = (ug_role)4, refuses(b, "not a ug_role");
    b = k, b.desc = NULL, refuses(b, "description is NULL");
    b = k, b.desc = "two\nlines", refuses(b, "one line");
    static char alg[60], name[80]; /* softmax.<59 letters>.f32: 71 characters */
    memset(alg, 'a', sizeof alg - 1);
    snprintf(name, sizeof name, "softmax.%s.f32", alg);
    b = k, b.name = name, b.algorithm = alg;
    refuses(b, "at most 63");
}

Test(plugin_registry, append)
{
    size_t n0 = ug_kernel_count();
    ug_kernel rows[2] = {row("softmax.mine.f32", "mine", "native"), row("softmax.mine2.f32", "mine2", "scalar")};
    rows[1].role = UG_ROLE_CANARY;
    cr_assert_eq(ug_kernel_append(rows, 2), UG_OK, "%s", ug_last_error());
    cr_assert_eq(ug_kernel_count(), n0 + 2);
    cr_expect_eq(ug_kernel_builtin_count(), n0);
    const ug_kernel *a = ug_kernel_at(n0), *b = ug_kernel_at(n0 + 1);
    cr_expect_str_eq(a->name, "softmax.mine.f32");
    cr_expect_str_eq(b->name, "softmax.mine2.f32");
    cr_expect_eq(ug_kernel_find("softmax.mine2.f32"), b);
    cr_expect_null(ug_kernel_at(n0 + 2));
    cr_expect_str_eq(ug_role_name(a->role), "external");

    /* refused, all or nothing: a good row then a duplicate (of a built-in, of an appended
     * row, of a row in the same call), or a role of ulpgate's own */
    ug_kernel bad[2] = {row("softmax.mine3.f32", "mine3", "native"), row("softmax.twopass.f32", "twopass", "scalar")};
    cr_expect_eq(ug_kernel_append(bad, 2), UG_ERR_ARG);
    cr_expect(strstr(ug_last_error(), "already registered") != NULL, "%s", ug_last_error());
    bad[1] = rows[0];
    cr_expect_eq(ug_kernel_append(bad, 2), UG_ERR_ARG);
    bad[1] = bad[0];
    cr_expect_eq(ug_kernel_append(bad, 2), UG_ERR_ARG);
    bad[1] = row("softmax.mine4.f32", "mine4", "native"), bad[1].role = UG_ROLE_PRODUCTION;
    cr_expect_eq(ug_kernel_append(bad, 2), UG_ERR_ARG);
    cr_expect(strstr(ug_last_error(), "external or canary") != NULL, "%s", ug_last_error());
    bad[1].role = UG_ROLE_VARIANT;
    cr_expect_eq(ug_kernel_append(bad, 2), UG_ERR_ARG);
    cr_expect_eq(ug_kernel_append(NULL, 1), UG_ERR_NULL);
    cr_expect_eq(ug_kernel_count(), n0 + 2, "a refused call appended rows");
    cr_expect_null(ug_kernel_find("softmax.mine3.f32"));

    /* later appends never move earlier rows */
    static ug_kernel more[40];
    static char names[40][32], algs[40][16];
    for (int i = 0; i < 40; i++) {
        snprintf(algs[i], sizeof algs[i], "more%d", i);
        snprintf(names[i], sizeof names[i], "softmax.more%d.f32", i);
        more[i] = row(names[i], algs[i], "native");
        cr_assert_eq(ug_kernel_append(&more[i], 1), UG_OK, "%s", ug_last_error());
    }
    cr_expect_eq(ug_kernel_at(n0), a);
    cr_expect_eq(ug_kernel_find("softmax.mine.f32"), a);
    cr_expect_str_eq(ug_kernel_at(n0 + 41)->name, "softmax.more39.f32");
    cr_expect_eq(ug_kernel_count(), n0 + 42);
}

Test(plugin_registry, never_dispatched)
{
    const ug_kernel *before[UG_OP_COUNT][UG_DTYPE_COUNT];
    for (int op = 0; op < UG_OP_COUNT; op++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
            before[op][dt] = ug_kernel_production((ug_op)op, (ug_dtype)dt);
    ug_kernel k = row("softmax.mine.f32.avx512", "mine", "avx512");
    cr_assert_eq(ug_kernel_append(&k, 1), UG_OK, "%s", ug_last_error());
    for (int op = 0; op < UG_OP_COUNT; op++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
            cr_expect_eq(ug_kernel_production((ug_op)op, (ug_dtype)dt), before[op][dt], "%s %s",
                         ug_op_name((ug_op)op), ug_dtype_name((ug_dtype)dt));
}

Test(plugin_registry, available)
{
    ug_kernel rows[3] = {row("softmax.mine.f32", "mine", "native"), row("softmax.mine.f32.scalar", "mine", "scalar"),
                         row("softmax.mine.f32.avx512", "mine", "avx512")};
    cr_assert_eq(ug_kernel_append(rows, 3), UG_OK, "%s", ug_last_error());
    size_t n0 = ug_kernel_builtin_count();
    cr_expect(ug_kernel_available(ug_kernel_at(n0)), "a plug-in's own isa name is always available");
    cr_expect(ug_kernel_available(ug_kernel_at(n0 + 1)), "scalar is always available");
    cr_expect_eq(ug_kernel_available(ug_kernel_at(n0 + 2)), ug_kernel_available(ug_kernel_find("softmax.twopass.f32.avx512")),
                 "an avx512 plug-in row is available exactly when a built-in avx512 row is");
    ug_kernel stranger = row("softmax.mine.f32", "mine", "native"); /* not in the registry */
    cr_expect_eq(ug_kernel_available(&stranger), 1);
}
