/* special_values_match_the_table: every kernel against every entry of oracle/SPECIAL.md.
 *
 * The table below has one line per case, in the case-line format of the worst-case files
 * (oracle/wc.h), grouped by the rule of SPECIAL.md it exercises; each case runs in every
 * dtype (`max` and `sub` are the dtype's largest finite and smallest subnormal values) and
 * for every op its line names.  The kernel's outputs are judged against the oracle's
 * (ug_oracle_eval) through the judge: a NaN, overflow, infinity or zero-sign violation
 * fails, and so does an ordinary output beyond the claim.  The special value of each
 * entry is the oracle's, never written here: SPECIAL.md is implemented once. */
#include <string.h>

#include "generic.h"

typedef struct special_case {
    const char *rule;
    const char *line;
} special_case;

#define ROWOPS "softmax,log_softmax,logsumexp,xent,xent_dense,xent_grad"
#define LOSSES "xent,xent_dense"

static const special_case table[] = {
    /* rule 1: a NaN anywhere makes the row NaN (elementwise for bce_logits) */
    {"1 NaN first", ROWOPS " * target=1 : nan 1 2"},
    {"1 NaN in the middle", ROWOPS " * target=0 : 1 nan 2"},
    {"1 NaN last", ROWOPS " * target=2 : 1 2 nan"},
    {"1 NaN in a loop tail (n = 17)", ROWOPS " * target=3 : 0.25*16 nan"},
    {"1 NaN, n = 1", ROWOPS " * target=0 : nan"},
    {"1 NaN with +inf", ROWOPS " * target=1 : nan inf"},
    {"1 NaN with +inf and a mask", ROWOPS " * target=0 : inf nan -inf"},
    {"1 NaN with a mask", ROWOPS " * target=0 : -inf nan"},
    {"1 NaN on a zero-probability class", "xent_dense,xent_grad * : 1 nan 2 | 0.5 0 0.5"},
    {"1 NaN logits, bce", "bce_logits * reduction=all : nan nan nan 1 | 0 0.5 1 0.5"},
    /* rule 2: -inf entries are masks */
    {"2 a mask first", ROWOPS " * target=1 : -inf 1 2"},
    {"2 a mask last", ROWOPS " * target=0 : 1 2 -inf"},
    {"2 a mask in a loop tail (n = 17)", ROWOPS " * target=3 : -0.5*16 -inf"},
    {"2 a mask between tied maxima", ROWOPS " * target=2 : 3 -inf 3"},
    {"2 a mask, n = 2", ROWOPS " * target=1 : -inf 0.5"},
    {"2 a mask of zero probability", "xent_dense,xent_grad * : -inf 1 2 | 0 0.5 0.5"},
    {"2 masks around one entry", ROWOPS " * target=2 : -inf -inf 7 -inf"},
    /* rule 3: all -inf */
    {"3 all -inf, n = 1", ROWOPS " * target=0 : -inf"},
    {"3 all -inf, n = 2", ROWOPS " * target=1 : -inf -inf"},
    {"3 all -inf, n = 17", ROWOPS " * target=16 : -inf*17"},
    {"3 all -inf, dense", "xent_dense,xent_grad * : -inf -inf | 0.5 0.5"},
    /* rule 4: +inf entries */
    {"4 one +inf at the target", ROWOPS " * target=0 : inf 1 2"},
    {"4 one +inf off the target", ROWOPS " * target=1 : inf 1 2"},
    {"4 one +inf with a mask", ROWOPS " * target=1 : 1 inf -inf"},
    {"4 one +inf, target masked", ROWOPS " * target=2 : 1 inf -inf"},
    {"4 two +inf, target on one", ROWOPS " * target=0 : inf 1 inf"},
    {"4 two +inf, target between", ROWOPS " * target=1 : inf 1 inf"},
    {"4 all +inf", ROWOPS " * target=2 : inf*3"},
    {"4 +inf, n = 1", ROWOPS " * target=0 : inf"},
    {"4 +inf in a loop tail (n = 17)", ROWOPS " * target=16 : 2*16 inf"},
    {"4 +inf with every probability on it", "xent_dense,xent_grad * : inf 1 2 | 1 0 0"},
    {"4 +inf, probability elsewhere too", "xent_dense,xent_grad * : inf 1 2 | 0.5 0.5 0"},
    {"4 two +inf, probability off them", "xent_dense,xent_grad * : inf 1 inf | 0 1 0"},
    {"4 two +inf, probability on them", "xent_dense,xent_grad * : inf 1 inf | 0.5 0 0.5"},
    {"4 +inf, probability 1 - 2^-9 (a bf16 tie)", "xent_grad * : inf 1 | 0x1.ffp-1 0x1p-9"},
    /* rule 5: masks and labels */
    {"5 masked target", "xent,xent_grad * target=0 : -inf 1 2"},
    {"5 probability on a mask", "xent_dense,xent_grad * : -inf 1 2 | 0.5 0.5 0"},
    /* rule 6: bce_logits at infinite logits */
    {"6 bce at +-inf", "bce_logits * reduction=all : inf inf inf -inf -inf -inf | 1 0 0.5 0 1 0.5"},
    {"6 bce, labels matching the infinities", "bce_logits * reduction=all : inf -inf | 1 0"},
    /* rule 7: zeros */
    {"7 log_softmax at the max of [0, -1000] is -0", ROWOPS " * target=0 : 0 -1000"},
    {"7 target on the tiny entry", ROWOPS " * target=1 : 0 -1000"},
    {"7 [3e38, -3e38]: log_softmax -0 at the max", ROWOPS " * target=0 : 3e38 -3e38"},
    {"7 exact zero gradient: equal logits, p = 1/n", "xent_grad * : 0.5*4 | 0.25*4"},
    {"7 logsumexp of -0", ROWOPS " * target=0 : -0"},
    {"7 +0 and -0 are the same logit", ROWOPS " * target=1 : 0 -0"},
    {"7 gradient at t, every other entry masked", ROWOPS " * target=0 : 2 -inf -inf"},
    {"7 a tiny loss rounds to +0", "xent_dense * : 0 -1000 | 1 0"},
    {"7 bce of the zero logit", "bce_logits * reduction=all : 0 -0 0 | 0 0.5 1"},
    /* rule 8: n = 1 */
    {"8 n = 1, -3.25", ROWOPS " * target=0 : -3.25"},
    {"8 n = 1, +0", ROWOPS " * target=0 : 0"},
    {"8 n = 1, the smallest subnormal", ROWOPS " * target=0 : sub"},
    {"8 n = 1, -subnormal", ROWOPS " * target=0 : -sub"},
    {"8 n = 1, the largest finite", ROWOPS " * target=0 : max"},
    {"8 n = 1, -largest finite", ROWOPS " * target=0 : -max"},
    {"8 n = 1, 1e30", ROWOPS " * target=0 : 1e30"},
    {"8 n = 1 rows, batched", ROWOPS " * target=0 reduction=all : 5 ; -2 ; 0"},
    /* rule 9: reductions */
    {"9 a NaN row in a sum", LOSSES " * target=0 reduction=all : nan 1 ; 1 2"},
    {"9 an infinite row in a sum", LOSSES " * target=0,1 reduction=all : -inf 1 ; 1 2"},
    {"9 NaN beats +inf", LOSSES " * target=0 reduction=all : -inf 1 ; nan 1"},
    {"9 rows that are exactly 0", LOSSES " * target=0 reduction=all : 5 ; -2 ; 7"},
    {"9 overflowing row in a sum", LOSSES " * target=1,0 reduction=all : max -max ; 1 2"},
    {"9 bce: a NaN element", "bce_logits * reduction=all : nan 1 ; 2 3 | 0 0 ; 1 1"},
    {"9 bce: an infinite element", "bce_logits * reduction=all : inf 1 ; 2 3 | 0 1 ; 1 1"},
    {"9 bce: all exactly 0", "bce_logits * reduction=all : inf -inf | 1 0"},
    /* rule 10: overflow */
    {"10 [max, -max], target at -max", ROWOPS " * target=1 : max -max"},
    {"10 [max, -max], target at max", ROWOPS " * target=0 : max -max"},
    {"10 [max, max]: logsumexp stays finite", ROWOPS " * target=0 : max max"},
    {"10 [-max, -max]", ROWOPS " * target=0 : -max -max"},
    {"10 xent_dense, p = 1/2 across max - (-max)", "xent_dense,xent_grad * : max -max | 0.5 0.5"},
    {"10 at the f32 exp overflow threshold", ROWOPS " * target=1 : 0x1.62e42ep6 0x1.62e42ep6 0"},
    {"10 just above it", ROWOPS " * target=2 : 0x1.62e430p6 0x1.62e42ep6 0"},
    {"10 at the f64 exp overflow threshold", ROWOPS " f64 target=1 : 0x1.62e42fefa39efp9 0x1.62e42fefa39efp9 0"},
    {"10 bce at +-max", "bce_logits * reduction=all : -max max max -max | 1 0 1 0"},
};

typedef struct special_ctx {
    const ug_kernel *k;
    prop_report *r;
    const char *rule;
} special_ctx;

static void judge_case(void *ctx, const prop_case *c, unsigned reds)
{
    special_ctx *s = ctx;
    ug_batch *b = prop_case_to_batch(c);
    for (int red = 0; red <= UG_RED_MEAN; red++) {
        if (!(reds >> red & 1u) || (red != UG_RED_NONE && !ug_op_has_reduction(c->op)))
            continue;
        char origin[160];
        snprintf(origin, sizeof origin, "SPECIAL.md rule %s%s%s", s->rule, red ? ", reduction " : "",
                 red ? ug_reduction_name((ug_reduction)red) : "");
        if (prop_judge(s->k, s->r, b, (ug_reduction)red, origin) != UG_OK)
            prop_fail(s->r, "%s: the oracle refused the case", origin);
    }
    ug_batch_free(b);
}

void prop_special_values_match_the_table(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    r->worst_what = "ULP";
    for (size_t i = 0; i < sizeof table / sizeof *table && !prop_done(r); i++) {
        prop_cases l = {0};
        unsigned reds;
        char err[256];
        int n = prop_wc_cases(table[i].line, table[i].rule, k->op, k->dtype, &l, &reds, err, sizeof err);
        if (n < 0)
            prop_fail(r, "the table's line for rule %s does not parse: %s", table[i].rule, err);
        special_ctx s = {k, r, table[i].rule};
        for (size_t j = 0; j < l.count; j++)
            judge_case(&s, l.items[j], reds);
        prop_cases_free(&l);
    }
}
