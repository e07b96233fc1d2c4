/* The plug-in ABI: how a shared library adds its kernels to ulpgate's registry.
 *
 * A plug-in is a shared object that exports ONE function, the entry point
 *
 *     const ug_plugin *ug_plugin_init(uint32_t host_abi_version);
 *
 * which returns a descriptor: the ABI version it was built against, a library name, and
 * an array of rows with the registry's shape (name, op, dtype, algorithm, isa, fn, bound,
 * role, desc; see registry.h).  `ulpgate <command> --plugin PATH` (repeatable, every
 * subcommand) and the fuzz targets (UG_PLUGIN=PATH[:PATH...]) load it with dlopen, call
 * the entry point once, check every row and append the rows to the registry after the
 * built-in ones: check, boundary, report, gate, bench, list and the fuzzers then measure
 * them like ulpgate's own kernels, and nothing else has to change.  The library stays
 * loaded until the process exits (it is never dlclose'd): the strings and functions the
 * rows point to must live that long (static storage is the easy way).
 *
 * A plug-in needs only this header and the two it includes (ulpgate.h, bf16.h, registry.h
 * for the enums and ug_bound); it must not call any other ulpgate function (the command
 * does not export them).  Build one with
 *
 *     cc -std=c11 -O2 -shared -fPIC -I/path/to/ulpgate/include -o libmine.so mine.c -lm
 *
 * A worked example is examples/plugin/ (README: "Check your own kernel").
 *
 * A plug-in runs inside the process that loads it: the loader checks everything it can
 * see (below), but a kernel that crashes, hangs or writes out of bounds takes the command
 * or the fuzzer with it (the fuzzers, under ASan, report where).
 *
 * THE ROWS.  Each row is checked when the library is loaded; a row that breaks one of
 * these rules is refused, with the library and the row named (nothing of that library is
 * registered then):
 *   name       "op.algorithm.dtype" or "op.algorithm.dtype.isa", the registry's rule:
 *              op and dtype are the row's (ug_op_name, ug_dtype_name: "softmax", "f32"),
 *              algorithm and isa are the row's fields; every part [a-z0-9_]+, at most 63
 *              characters in all.  It must differ from every built-in kernel's name and
 *              from every name another plug-in registered: put your library's name in the
 *              algorithm ("softmax.mylib_shifted.f32"), so it reads as whose it is.
 *   op, dtype  a ug_op below UG_OP_COUNT, a ug_dtype below UG_DTYPE_COUNT.
 *   algorithm  [a-z0-9_]+.
 *   isa        [a-z0-9_]+, any name the plug-in likes ("native", "jit", "avx2", ...).  When
 *              it is one that ulpgate dispatches ("scalar", "avx2", "avx512"),
 *              ug_kernel_available() checks the CPU for it as for a built-in row (a row this
 *              CPU cannot run is skipped with a message, never called); any other name is
 *              always available: the plug-in dispatches inside its own functions and must
 *              only call code the CPU can run.
 *   fn         non-NULL; the kernel, with the contract of every kernel (ulpgate.h: the
 *              ug_problem layout per op; arrays in the row's dtype; bf16 as ug_bf16 bits).
 *              It must validate its arguments and return a ug_status (UG_ERR_NULL,
 *              UG_ERR_EMPTY, ...) rather than crash: the harness calls it with n = 1,
 *              with every special value, and with rows up to 2^20 long.  It must not
 *              modify x, target or aux, nor write outside y; the judge checks.  It must
 *              be thread-safe: check, boundary, report and gate call kernels from several
 *              threads at once (--threads); a kernel with shared state takes a lock
 *              (plugins/onednn/onednn_plugin.c does).
 *   bound      the ULP error the kernel claims (registry.h, ug_bound): every field finite
 *              and >= 0, and ulp >= 0.5 (no rounded result can promise less).  A kernel
 *              whose library documents no bound should claim the bar it is meant to meet
 *              (e.g. 1 ULP, what ulpgate's production kernels meet in f32 and bf16) and
 *              let `ulpgate check` show where it does not.
 *   role       UG_ROLE_EXTERNAL (another library's kernel: judged like a variant, a broken
 *              claim fails the check and the fuzzers stop on it) or UG_ROLE_CANARY (a
 *              known-bad kernel: reported CAUGHT, never fails the run).  Production and
 *              variant are ulpgate's own: a plug-in row is never dispatched to
 *              (ug_kernel_production ignores it).
 *   desc       non-NULL, one line of printable ASCII, at most 200 characters.
 *
 * VERSIONS.  abi_version is the first member of the descriptor in every version of this
 * ABI, so a host reads it before anything else and refuses a library of another version
 * (message and exit status 7, naming both versions).  The host passes its own version to
 * the entry point: a library that supports several may return the matching descriptor,
 * or NULL to refuse.  Version 1 is this header.  Any change to ug_plugin or
 * ug_plugin_row, or to the meaning of a field, bumps UG_PLUGIN_ABI_VERSION.
 *
 * ERRORS (`ulpgate --help`, reports/cli.h): each names the library; exit status
 *   3  the file does not exist or cannot be read
 *   5  dlopen refused it (not a shared object, wrong architecture, a missing dependency)
 *   6  no ug_plugin_init symbol, or ug_plugin_init returned NULL
 *   7  ABI version mismatch (or a row_size that is not sizeof(ug_plugin_row))
 *   8  a kernel named twice (a built-in name, another plug-in's, or twice in the library)
 *   9  a malformed row (the rule it breaks is named)
 */
#ifndef ULPGATE_PLUGIN_H
#define ULPGATE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "ulpgate/registry.h"
#include "ulpgate/ulpgate.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UG_PLUGIN_ABI_VERSION 1u

/* The entry point's name, as a string for dlsym. */
#define UG_PLUGIN_ENTRY "ug_plugin_init"

/* One kernel: the registry's row (registry.h, ug_kernel), frozen for ABI version 1. */
typedef struct ug_plugin_row {
    const char *name;      /* op.algorithm.dtype[.isa]                                   */
    ug_op op;
    ug_dtype dtype;
    const char *algorithm;
    const char *isa;
    ug_kernel_fn fn;
    ug_bound bound;        /* claimed: ulp + per_n * n + per_cond * kappa                */
    ug_role role;          /* UG_ROLE_EXTERNAL or UG_ROLE_CANARY                         */
    const char *desc;      /* one line                                                   */
} ug_plugin_row;

/* What ug_plugin_init returns. */
typedef struct ug_plugin {
    uint32_t abi_version;       /* UG_PLUGIN_ABI_VERSION; the first member in every version */
    uint32_t row_size;          /* sizeof(ug_plugin_row)                                    */
    const char *library;        /* "mylib 2.1": who the kernels belong to (messages, list)  */
    size_t count;               /* rows                                                     */
    const ug_plugin_row *rows;
} ug_plugin;

typedef const ug_plugin *(*ug_plugin_init_fn)(uint32_t host_abi_version);

/* Declared here so that a plug-in's definition is checked against it; define it with
 * default visibility (the default of every compiler unless -fvisibility=hidden). */
const ug_plugin *ug_plugin_init(uint32_t host_abi_version);

/* A descriptor in one line: UG_PLUGIN_DESCRIPTOR("mylib 1.0", rows) with rows a static
 * array of ug_plugin_row. */
#define UG_PLUGIN_DESCRIPTOR(library_, rows_) \
    {UG_PLUGIN_ABI_VERSION, (uint32_t)sizeof(ug_plugin_row), (library_), sizeof(rows_) / sizeof((rows_)[0]), (rows_)}

#ifdef __cplusplus
}
#endif
#endif
