/* hist.h - a log-linear latency histogram (4 sub-buckets per power of two, ~19% resolution),
 * mergeable across workers: percentiles are merged from counts, never averaged. */
#ifndef CS_HIST_H
#define CS_HIST_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/buf.h"

#define HIST_BUCKETS 152

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint32_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* dst = a - b, where b is an earlier state of the same cumulative histogram (a bucket never
 * goes below 0). dst->max is the upper bound of its highest non-empty bucket, at most a->max. */
void hist_sub(struct hist *dst, const struct hist *a, const struct hist *b);
/* Lower bound of the lowest non-empty bucket (a lower bound of the smallest sample); 0 when
 * empty. */
uint64_t hist_min_bound(const struct hist *h);
/* Upper bound of the bucket holding quantile q (0..1); 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* True when at least min_count samples were taken and at least min_share (0..1) of them lie in
 * buckets wholly inside [lo, hi] (a latency that clusters there, e.g. Nagle's ~40 ms). */
bool hist_clusters_in(const struct hist *h, uint64_t lo, uint64_t hi, uint64_t min_count,
                      double min_share);
/* Sparse text "i:n,i:n" of the non-empty buckets (for Redis), and back. */
void hist_format(const struct hist *h, struct buf *out);
int hist_parse(struct hist *h, const char *text);

#endif
