/* oneDNN's softmax and log_softmax as ulpgate kernels: a plug-in (include/ulpgate/plugin.h)
 * that the whole harness checks like ulpgate's own kernels.
 *
 *   ulpgate check --plugin build/default/plugins/onednn/libug_onednn.so --kernel plugins
 *
 * The rows (names op.algorithm.dtype, algorithm "onednn"; isa "native": oneDNN picks its
 * implementation at run time, and each row's description names the one it picked here):
 *
 *   softmax.onednn.f32       dnnl_softmax_accurate, f32 in, f32 out
 *   log_softmax.onednn.f32   dnnl_softmax_log,      f32 in, f32 out
 *   softmax.onednn.bf16      dnnl_softmax_accurate, bf16 in, bf16 out
 *   log_softmax.onednn.bf16  dnnl_softmax_log,      bf16 in, bf16 out
 *
 * each a softmax_v2 primitive, forward_inference, over axis 1 of a rows x n row-major
 * (dnnl_ab) tensor, on the CPU engine.  Role: external.  oneDNN documents no error bound;
 * each row claims the bar ulpgate's production kernels meet in that dtype (1 ULP in f32
 * and bf16), so that `ulpgate check` shows where oneDNN meets it and where not.  Special
 * values are oneDNN's own: nothing here corrects them, the judge reports what it returns.
 *
 * oneDNN runs single-threaded here (omp_set_num_threads(1) at load, as `ulpgate bench`
 * does): one row is computed by one thread anyway, and the harness measures accuracy.
 * A call creates (or reuses, for the same shape) its primitive; a status from oneDNN is
 * returned as UG_ERR_ARG (UG_ERR_NOMEM for out_of_memory).  Not thread-safe: one cached
 * primitive per row, as the ulpgate command and the fuzz targets call kernels from one
 * thread.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <dnnl.h>

#include "ulpgate/plugin.h"

/* libgomp's, through libdnnl (DNNL_CPU_RUNTIME OMP); absent with another runtime. */
extern void omp_set_num_threads(int) __attribute__((weak));

enum { KIND_SOFTMAX = 0, KIND_LOG = 1 };

/* One kernel's cached primitive, for the shape it was made for. */
typedef struct cache {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    size_t rows, n;
} cache;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static cache caches[2][2]; /* [kind][0 f32, 1 bf16] */

static ug_status from_dnnl(dnnl_status_t s)
{
    return s == dnnl_success ? UG_OK : s == dnnl_out_of_memory ? UG_ERR_NOMEM : UG_ERR_ARG;
}

static void cache_clear(cache *c)
{
    if (c->prim != NULL)
        dnnl_primitive_destroy(c->prim);
    if (c->pd != NULL)
        dnnl_primitive_desc_destroy(c->pd);
    *c = (cache){0};
}

/* The primitive descriptor of kind over rows x n of dtype dt. */
static dnnl_status_t make_pd(int kind, ug_dtype dt, size_t rows, size_t n, dnnl_primitive_desc_t *pd,
                             dnnl_memory_desc_t *md)
{
    dnnl_dims_t dims = {(dnnl_dim_t)rows, (dnnl_dim_t)n};
    dnnl_softmax_v2_desc_t sd;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(md, 2, dims, dt == UG_F32 ? dnnl_f32 : dnnl_bf16, dnnl_ab);
    if (s == dnnl_success)
        s = dnnl_softmax_v2_forward_desc_init(&sd, dnnl_forward_inference,
                                              kind == KIND_LOG ? dnnl_softmax_log : dnnl_softmax_accurate, md, md, 1);
    if (s == dnnl_success)
        s = dnnl_primitive_desc_create(pd, &sd, NULL, engine, NULL);
    return s;
}

static ug_status run_locked(int kind, ug_dtype dt, const ug_problem *p)
{
    if (p == NULL || p->x == NULL || p->y == NULL)
        return UG_ERR_NULL;
    if (p->rows == 0 || p->n == 0)
        return UG_ERR_EMPTY;
    if (p->reduction != UG_RED_NONE)
        return UG_ERR_REDUCTION;
    if (p->rows > (size_t)INT64_MAX / p->n || p->rows * p->n > SIZE_MAX / 4)
        return UG_ERR_ARG;
    cache *c = &caches[kind][dt == UG_BF16];
    dnnl_memory_desc_t md;
    if (c->prim == NULL || c->rows != p->rows || c->n != p->n) {
        cache_clear(c);
        dnnl_status_t s = make_pd(kind, dt, p->rows, p->n, &c->pd, &md);
        if (s == dnnl_success)
            s = dnnl_primitive_create(&c->prim, c->pd);
        if (s != dnnl_success) {
            cache_clear(c);
            return from_dnnl(s);
        }
        c->rows = p->rows, c->n = p->n;
    } else {
        dnnl_dims_t dims = {(dnnl_dim_t)p->rows, (dnnl_dim_t)p->n};
        dnnl_memory_desc_init_by_tag(&md, 2, dims, dt == UG_F32 ? dnnl_f32 : dnnl_bf16, dnnl_ab);
    }
    dnnl_memory_t src = NULL, dst = NULL;
    /* oneDNN takes a non-const handle; forward inference never writes its source */
    dnnl_status_t s = dnnl_memory_create(&src, &md, engine, (void *)(uintptr_t)p->x);
    if (s == dnnl_success)
        s = dnnl_memory_create(&dst, &md, engine, p->y);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        s = dnnl_primitive_execute(c->prim, stream, 2, args);
    }
    if (s == dnnl_success)
        s = dnnl_stream_wait(stream);
    if (src != NULL)
        dnnl_memory_destroy(src);
    if (dst != NULL)
        dnnl_memory_destroy(dst);
    return from_dnnl(s);
}

/* The host calls kernels from several threads at once (ulpgate check --threads): the one
 * stream and the primitive caches above are shared, so calls take turns. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static ug_status run(int kind, ug_dtype dt, const ug_problem *p)
{
    pthread_mutex_lock(&lock);
    ug_status st = run_locked(kind, dt, p);
    pthread_mutex_unlock(&lock);
    return st;
}

static ug_status softmax_f32(const ug_problem *p) { return run(KIND_SOFTMAX, UG_F32, p); }
static ug_status log_softmax_f32(const ug_problem *p) { return run(KIND_LOG, UG_F32, p); }
static ug_status softmax_bf16(const ug_problem *p) { return run(KIND_SOFTMAX, UG_BF16, p); }
static ug_status log_softmax_bf16(const ug_problem *p) { return run(KIND_LOG, UG_BF16, p); }

/* Descriptions, completed at load with the implementation oneDNN picks on this CPU. */
static char descs[4][200];

static ug_plugin_row rows[] = {
    {.name = "softmax.onednn.f32", .op = UG_OP_SOFTMAX, .dtype = UG_F32, .algorithm = "onednn", .isa = "native",
     .fn = softmax_f32, .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL, .desc = descs[0]},
    {.name = "log_softmax.onednn.f32", .op = UG_OP_LOG_SOFTMAX, .dtype = UG_F32, .algorithm = "onednn",
     .isa = "native", .fn = log_softmax_f32, .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL, .desc = descs[1]},
    {.name = "softmax.onednn.bf16", .op = UG_OP_SOFTMAX, .dtype = UG_BF16, .algorithm = "onednn", .isa = "native",
     .fn = softmax_bf16, .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL, .desc = descs[2]},
    {.name = "log_softmax.onednn.bf16", .op = UG_OP_LOG_SOFTMAX, .dtype = UG_BF16, .algorithm = "onednn",
     .isa = "native", .fn = log_softmax_bf16, .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL, .desc = descs[3]},
};

static char library[64];
static ug_plugin plugin = UG_PLUGIN_DESCRIPTOR(library, rows);

/* "oneDNN 2.6.3 softmax_v2 accurate f32, implementation jit:avx512_core" */
static void describe(size_t i)
{
    const ug_plugin_row *r = &rows[i];
    int kind = r->op == UG_OP_LOG_SOFTMAX ? KIND_LOG : KIND_SOFTMAX;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t md;
    const char *impl = "unavailable on this CPU";
    if (make_pd(kind, r->dtype, 1, 16, &pd, &md) == dnnl_success)
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(descs[i], sizeof descs[i], "%s %s %s, forward_inference, implementation %s", library,
             kind == KIND_LOG ? "dnnl_softmax_log" : "dnnl_softmax_accurate", r->dtype == UG_F32 ? "f32" : "bf16",
             impl);
    if (pd != NULL)
        dnnl_primitive_desc_destroy(pd);
}

const ug_plugin *ug_plugin_init(uint32_t host_abi_version)
{
    if (host_abi_version != UG_PLUGIN_ABI_VERSION)
        return NULL;
    if (engine == NULL) {
        if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
            dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
            fprintf(stderr, "ug_onednn: oneDNN cannot create a CPU engine and stream\n");
            return NULL;
        }
        if (omp_set_num_threads != NULL)
            omp_set_num_threads(1);
        const dnnl_version_t *v = dnnl_version();
        snprintf(library, sizeof library, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            describe(i);
    }
    return &plugin;
}
