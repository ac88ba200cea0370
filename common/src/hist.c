/* hist.c - log-linear histogram. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cs/err.h"
#include "cs/hist.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < 16)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* floor(log2 v) >= 4 */
    unsigned sub = (unsigned)(v >> (e - 2)) & 3u;
    unsigned i = 16 + (e - 4) * 4 + sub;
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

static uint64_t bucket_upper(unsigned i)
{
    if (i < 16)
        return i;
    unsigned e = (i - 16) / 4 + 4, sub = (i - 16) % 4;
    return ((uint64_t)(4 + sub + 1) << (e - 2)) - 1;
}

static uint64_t bucket_lower(unsigned i)
{
    return i == 0 ? 0 : bucket_upper(i - 1) + 1;
}

bool hist_clusters_in(const struct hist *h, uint64_t lo, uint64_t hi, uint64_t min_count,
                      double min_share)
{
    uint64_t in = 0;
    if (h->count < min_count || h->count == 0)
        return false;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        if (h->b[i] && bucket_lower(i) >= lo && bucket_upper(i) <= hi)
            in += h->b[i];
    return (double)in >= min_share * (double)h->count;
}

void hist_add(struct hist *h, uint64_t v)
{
    h->b[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    /* Saturating: buckets parsed from Redis may hold anything up to UINT32_MAX; the count stays
     * the sum of the buckets and the sum stays a non-negative int64. */
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        uint32_t add = src->b[i] < UINT32_MAX - dst->b[i] ? src->b[i] : UINT32_MAX - dst->b[i];
        dst->b[i] += add;
        dst->count += add;
    }
    const uint64_t cap = INT64_MAX;
    dst->sum = dst->sum >= cap || src->sum >= cap - dst->sum ? cap : dst->sum + src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
}

void hist_sub(struct hist *dst, const struct hist *a, const struct hist *b)
{
    memset(dst, 0, sizeof(*dst));
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        dst->b[i] = a->b[i] > b->b[i] ? a->b[i] - b->b[i] : 0;
        dst->count += dst->b[i];
        if (dst->b[i])
            dst->max = bucket_upper(i);
    }
    dst->sum = a->sum > b->sum ? a->sum - b->sum : 0;
    if (dst->max > a->max)
        dst->max = a->max;
}

uint64_t hist_min_bound(const struct hist *h)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        if (h->b[i])
            return i ? bucket_upper(i - 1) + 1 : 0;
    return 0;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (!h->count)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > rank) {
            uint64_t up = bucket_upper(i);
            return up < h->max ? up : h->max;
        }
    }
    return h->max;
}

void hist_format(const struct hist *h, struct buf *out)
{
    bool first = true;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        if (!h->b[i])
            continue;
        buf_printf(out, "%s%u:%u", first ? "" : ",", i, h->b[i]);
        first = false;
    }
}

int hist_parse(struct hist *h, const char *text)
{
    memset(h, 0, sizeof(*h));
    const char *p = text;
    while (*p) {
        char *end;
        unsigned long i = strtoul(p, &end, 10);
        if (end == p || *end != ':' || i >= HIST_BUCKETS)
            return CS_ERR_PARSE;
        p = end + 1;
        unsigned long n = strtoul(p, &end, 10);
        if (end == p || n > UINT32_MAX)
            return CS_ERR_PARSE;
        h->b[i] += (uint32_t)n;
        h->count += n;
        if (n && bucket_upper((unsigned)i) > h->max) /* "i:0" holds nothing */
            h->max = bucket_upper((unsigned)i);
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return CS_ERR_PARSE;
    }
    return CS_OK;
}
