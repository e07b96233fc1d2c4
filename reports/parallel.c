/* Threads and shards (parallel.h). */
#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpfr.h>

#include "cli.h"

enum { THREADS_MAX = 1024, SHARDS_MAX = 100000 };

int ug_split_owns(const ug_split *s, size_t u) { return s == NULL || s->shards <= 1 || u % s->shards == s->shard; }

unsigned ug_par_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > THREADS_MAX ? THREADS_MAX : (unsigned)n;
}

/* A decimal integer in [lo, hi] spelled by s[0 .. len): digits only. */
static int parse_uint(const char *s, size_t len, unsigned long lo, unsigned long hi, unsigned long *out)
{
    unsigned long v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

void ug_split_parse(ug_split *s, const char *cmd, const char *threads, const char *shard)
{
    unsigned long t = ug_par_cpus(), i = 1, n = 1;
    if (threads != NULL && parse_uint(threads, strlen(threads), 1, THREADS_MAX, &t) != 0)
        ug_cli_die(UG_EXIT_USAGE, cmd, "--threads '%s': not an integer from 1 to %d", threads, THREADS_MAX);
    if (shard != NULL) {
        const char *slash = strchr(shard, '/');
        if (slash == NULL || parse_uint(shard, (size_t)(slash - shard), 1, SHARDS_MAX, &i) != 0 ||
            parse_uint(slash + 1, strlen(slash + 1), 1, SHARDS_MAX, &n) != 0 || i > n)
            ug_cli_die(UG_EXIT_USAGE, cmd, "--shard '%s': expected i/N with 1 <= i <= N <= %d (e.g. 2/3)", shard,
                       SHARDS_MAX);
    }
    *s = (ug_split){.threads = (unsigned)t, .shard = (unsigned)(i - 1), .shards = (unsigned)n};
}

void ug_par_check_mpfr(const char *cmd)
{
    if (!mpfr_buildopt_tls_p())
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "this MPFR is not built thread-safe (mpfr_buildopt_tls_p() = 0): "
                                          "use --threads 1");
}

/* ---------------------------------------------------------------- the pool */

struct ug_par {
    const char *cmd;
    size_t count;
    ug_par_fn work;
    void *ctx;
    unsigned nthreads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t done_cv, room_cv; /* a unit finished; the reader moved on          */
    size_t next;                     /* the next unit to hand out                     */
    size_t waited;                   /* units the reader has waited for               */
    size_t ahead;                    /* at most this many units past `waited` run     */
    unsigned char *done;
};

static void *worker(void *arg)
{
    ug_par *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->count && p->next >= p->waited + p->ahead)
            pthread_cond_wait(&p->room_cv, &p->mu);
        if (p->next >= p->count) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        size_t u = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->work(p->ctx, u);
        pthread_mutex_lock(&p->mu);
        p->done[u] = 1;
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
    mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
    return NULL;
}

ug_par *ug_par_start(const char *cmd, unsigned threads, size_t count, ug_par_fn work, void *ctx)
{
    ug_par *p = ug_cli_alloc(cmd, 1, sizeof *p);
    *p = (ug_par){.cmd = cmd, .count = count, .work = work, .ctx = ctx};
    if (threads <= 1 || count == 0)
        return p;
    ug_par_check_mpfr(cmd);
    p->nthreads = threads < count ? threads : (unsigned)count;
    p->ahead = (size_t)UG_PAR_AHEAD * threads;
    p->done = ug_cli_alloc(cmd, count, 1);
    memset(p->done, 0, count);
    p->threads = ug_cli_alloc(cmd, p->nthreads, sizeof *p->threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    pthread_cond_init(&p->room_cv, NULL);
    for (unsigned t = 0; t < p->nthreads; t++)
        if (pthread_create(&p->threads[t], NULL, worker, p) != 0)
            ug_cli_die(UG_EXIT_INTERNAL, cmd, "cannot start thread %u of %u", t + 1, p->nthreads);
    return p;
}

void ug_par_wait(ug_par *p, size_t u)
{
    if (p->nthreads == 0) {
        p->work(p->ctx, u);
        p->waited = u + 1;
        return;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->done[u])
        pthread_cond_wait(&p->done_cv, &p->mu);
    p->waited = u + 1;
    pthread_cond_broadcast(&p->room_cv);
    pthread_mutex_unlock(&p->mu);
}

void ug_par_end(ug_par *p)
{
    for (size_t u = p->waited; u < p->count; u++)
        ug_par_wait(p, u);
    if (p->nthreads > 0) {
        for (unsigned t = 0; t < p->nthreads; t++)
            pthread_join(p->threads[t], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->done_cv);
        pthread_cond_destroy(&p->room_cv);
    }
    free(p->threads);
    free(p->done);
    free(p);
}

void ug_par_run(const char *cmd, unsigned threads, size_t count, ug_par_fn work, void *ctx)
{
    ug_par_end(ug_par_start(cmd, threads, count, work, ctx));
}
