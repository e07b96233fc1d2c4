/* Relations between ops: log_softmax = x - logsumexp, xent = logsumexp - x_t, sparse
 * xent = dense xent on one-hot rows, xent_grad = softmax - labels, each kernel against
 * every non-canary kernel of the other op in its dtype (props/prop_pairs.c).
 *
 * Generated per kernel from core/kernels.def (props/generic.h): the tests are named
 * <kernel function>::<property>. */
#include <criterion/criterion.h>

#include "generic.h"

#define UG_KERNEL(fn, name, ...) PROP_PAIRS(PROP_TEST, fn, name)
#include "kernels.def"
#undef UG_KERNEL
