/* The plug-in loader (include/ulpgate/plugin.h): dlopen a shared library, call its entry
 * point, check its rows and append them to the registry (ug_kernel_append).  Outside core/
 * on purpose: core depends on libm only and never loads anything.  Used by the ulpgate
 * command (--plugin PATH, any subcommand: reports/ulpgate.c) and by the fuzz targets
 * (UG_PLUGIN=PATH[:PATH...]: fuzz/harness.c).  No function here exits or prints: each
 * returns an exit status of reports/cli.h and a message naming the library.
 */
#ifndef ULPGATE_REPORTS_PLUGIN_H
#define ULPGATE_REPORTS_PLUGIN_H

#include <stddef.h>

#include "ulpgate/registry.h"

/* Load the library at path (a path, never searched for: "x.so" is ./x.so).  Returns
 * UG_EXIT_OK, or, with nothing of the library registered and a one-line message in why
 * ("plug-in ./x.so: ..."):
 *   UG_EXIT_IO            the file does not exist or cannot be read
 *   UG_EXIT_PLUGIN_LOAD   dlopen refused it (dlerror's reason is quoted)
 *   UG_EXIT_PLUGIN_ENTRY  no ug_plugin_init, or it returned NULL
 *   UG_EXIT_PLUGIN_ABI    another ABI version, or another row size
 *   UG_EXIT_PLUGIN_DUP    a name already registered (built-in or plug-in: which is said),
 *                         or twice in the library
 *   UG_EXIT_PLUGIN_ROW    a malformed row (its index, its name and the rule broken)
 *   UG_EXIT_INTERNAL      out of memory */
int ug_plugin_load(const char *path, char *why, size_t whysize);

/* Every path of list, separated by ':' (empty parts are skipped), in order; stops at the
 * first error.  NULL or "" loads nothing. */
int ug_plugin_load_list(const char *list, char *why, size_t whysize);

/* The libraries loaded so far, in order: the path as given, and the library's own name
 * (ug_plugin.library). */
size_t ug_plugin_count(void);
const char *ug_plugin_path(size_t i);
const char *ug_plugin_library(size_t i);

/* The index (for ug_plugin_path) of the library that registered k, or -1 for a built-in
 * row. */
long ug_plugin_of(const ug_kernel *k);

#endif
