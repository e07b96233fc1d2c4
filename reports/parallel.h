/* Work spread over threads, and over shards (separate runs), with results that do not
 * depend on either.
 *
 * A stage of a subcommand (check's kernel x family pairs, boundary's op x dtype x axis
 * lines, a sweep's op x dtype x point cells) is a fixed list of units 0 .. count - 1,
 * each a pure function of the options, each writing only its own results.
 *
 *   THREADS.  ug_par_run / ug_par_start run work(ctx, u) once for every unit, on up to
 *   `threads` worker threads (pthreads), in any order and concurrently; the caller reads
 *   the results in unit order (ug_par_wait), so what it prints and writes is the same
 *   bytes whatever the thread count.  threads <= 1 runs everything on the calling thread,
 *   unit after unit (the behaviour before threads existed).  Workers run at most
 *   UG_PAR_AHEAD x threads units ahead of the reader, so that memory stays bounded.
 *   A worker frees MPFR's thread-local caches when it ends.  work() may die (exit) on an
 *   internal error, as the single-threaded code does.
 *
 *   SHARDS.  --shard i/N (1 <= i <= N) keeps unit u of every stage when u mod N = i - 1:
 *   N runs with the same options split every stage between them, each unit exactly once,
 *   and `ulpgate merge` puts their results back in unit order.
 *
 * Thread safety of what the workers call (audited for issue 9): MPFR is built with
 * thread-local state (mpfr_buildopt_tls_p(); ug_par_check_mpfr dies when it is not), so
 * the exponent range that the oracle widens and restores and MPFR's constant caches are
 * per thread; ug_last_error is _Thread_local (core/common.c); the ISA dispatch cap and
 * CPU detection are atomics (core/cpu.c); the families, the judge and the kernels keep no
 * static mutable state; the cells of measure.h are guarded by a mutex each; a progress
 * message (stderr, terminals only) is one stdio call, so threads never split one.
 */
#ifndef ULPGATE_REPORTS_PARALLEL_H
#define ULPGATE_REPORTS_PARALLEL_H

#include <stddef.h>

/* 256 units a thread: a check's pairs run kernel after kernel, and the pairs that build a
 * slow cell (the oracle on equal_large, bf16_ties) hold the other workers back unless they
 * may run far ahead: with 4, `check --kernel all` ran 1.16x faster on 2 threads, with 256
 * 1.56x (14.0 -> 9.0 s), peak memory 452 -> 479 MB (the judges are small; the cells are
 * shared and freed after their last kernel). */
enum { UG_PAR_AHEAD = 256 };

/* How a run is split: threads (0 or 1: none), and this run's shard of shards
 * (shards 0 or 1: the whole run; else shard in [0, shards)). */
typedef struct ug_split {
    unsigned threads;
    unsigned shard, shards;
} ug_split;

/* Whether this run measures unit u of a stage. */
int ug_split_owns(const ug_split *s, size_t u);

/* The number of online CPUs (at least 1): the default of --threads. */
unsigned ug_par_cpus(void);

/* Parse --threads (NULL: every online CPU) and --shard i/N (NULL: none) into s; dies with
 * UG_EXIT_USAGE, naming the option, on anything but 1 <= threads <= 1024 or
 * 1 <= i <= N <= 100000 (digits only). */
void ug_split_parse(ug_split *s, const char *cmd, const char *threads, const char *shard);

/* Dies (UG_EXIT_INTERNAL) when MPFR keeps global state, i.e. threads are unsafe. */
void ug_par_check_mpfr(const char *cmd);

typedef void (*ug_par_fn)(void *ctx, size_t u);

typedef struct ug_par ug_par;

/* Start work(ctx, u) for u in [0, count) on `threads` workers (none when threads <= 1:
 * ug_par_wait then runs each unit itself). */
ug_par *ug_par_start(const char *cmd, unsigned threads, size_t count, ug_par_fn work, void *ctx);

/* Block until work(u) has returned.  Call for u = 0, 1, 2, ... in order, each once. */
void ug_par_wait(ug_par *p, size_t u);

/* Wait for every unit not waited for yet, join the workers, free p. */
void ug_par_end(ug_par *p);

/* start, wait for every unit, end. */
void ug_par_run(const char *cmd, unsigned threads, size_t count, ug_par_fn work, void *ctx);

#endif
