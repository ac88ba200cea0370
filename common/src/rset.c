/* rset.c - index range sets. Operations rebuild the (short) range array in order. */
#include <ctype.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/ids.h"
#include "cs/mem.h"
#include "cs/rset.h"

void rset_init(struct rset *s)
{
    s->r = NULL;
    s->n = s->cap = 0;
}

void rset_free(struct rset *s)
{
    cs_free(s->r);
    rset_init(s);
}

void rset_clear(struct rset *s)
{
    s->n = 0;
}

static void push(struct rset *s, uint32_t lo, uint32_t hi)
{
    /* Callers push in ascending order; merge with the last range when touching. */
    if (s->n && (uint64_t)s->r[s->n - 1].hi + 1 >= lo) {
        if (hi > s->r[s->n - 1].hi)
            s->r[s->n - 1].hi = hi;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->r = cs_realloc(s->r, s->cap * sizeof(*s->r));
    }
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->n++;
}

void rset_copy(struct rset *dst, const struct rset *src)
{
    rset_clear(dst);
    for (size_t i = 0; i < src->n; i++)
        push(dst, src->r[i].lo, src->r[i].hi);
}

/* Replace s by the result of out, taking over its memory. */
static void adopt(struct rset *s, struct rset *out)
{
    rset_free(s);
    *s = *out;
}

void rset_union(struct rset *out, const struct rset *a, const struct rset *b)
{
    size_t i = 0, j = 0;
    rset_clear(out);
    while (i < a->n || j < b->n) {
        const struct range *x;
        if (j >= b->n || (i < a->n && a->r[i].lo <= b->r[j].lo))
            x = &a->r[i++];
        else
            x = &b->r[j++];
        push(out, x->lo, x->hi);
    }
}

void rset_subtract(struct rset *out, const struct rset *a, const struct rset *b)
{
    rset_clear(out);
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        uint64_t lo = a->r[i].lo, hi = a->r[i].hi;
        while (j < b->n && b->r[j].hi < lo)
            j++;
        size_t k = j;
        while (lo <= hi && k < b->n && b->r[k].lo <= hi) {
            if (b->r[k].lo > lo)
                push(out, (uint32_t)lo, b->r[k].lo - 1);
            lo = (uint64_t)b->r[k].hi + 1;
            k++;
        }
        if (lo <= hi)
            push(out, (uint32_t)lo, (uint32_t)hi);
    }
}

void rset_intersect(struct rset *out, const struct rset *a, const struct rset *b)
{
    rset_clear(out);
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        uint32_t lo = a->r[i].lo > b->r[j].lo ? a->r[i].lo : b->r[j].lo;
        uint32_t hi = a->r[i].hi < b->r[j].hi ? a->r[i].hi : b->r[j].hi;
        if (lo <= hi)
            push(out, lo, hi);
        if (a->r[i].hi < b->r[j].hi)
            i++;
        else
            j++;
    }
}

void rset_add(struct rset *s, uint32_t lo, uint32_t hi)
{
    if (lo > hi)
        return;
    struct range one = {lo, hi};
    struct rset b = {&one, 1, 1}, out = RSET_INIT;
    rset_union(&out, s, &b);
    adopt(s, &out);
}

void rset_remove(struct rset *s, uint32_t lo, uint32_t hi)
{
    if (lo > hi)
        return;
    struct range one = {lo, hi};
    struct rset b = {&one, 1, 1}, out = RSET_INIT;
    rset_subtract(&out, s, &b);
    adopt(s, &out);
}

bool rset_contains(const struct rset *s, uint32_t i)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->r[mid].hi < i)
            lo = mid + 1;
        else if (s->r[mid].lo > i)
            hi = mid;
        else
            return true;
    }
    return false;
}

uint64_t rset_count(const struct rset *s)
{
    uint64_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        c += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
    return c;
}

bool rset_equal(const struct rset *a, const struct rset *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0);
}

bool rset_empty(const struct rset *s)
{
    return s->n == 0;
}

void rset_take_low(struct rset *s, uint64_t n, struct rset *out)
{
    while (n > 0 && s->n > 0) {
        struct range *r = &s->r[0];
        uint64_t len = (uint64_t)r->hi - r->lo + 1;
        if (len <= n) {
            rset_add(out, r->lo, r->hi);
            n -= len;
            memmove(&s->r[0], &s->r[1], (s->n - 1) * sizeof(*s->r));
            s->n--;
        } else {
            rset_add(out, r->lo, (uint32_t)(r->lo + n - 1));
            r->lo = (uint32_t)(r->lo + n);
            n = 0;
        }
    }
}

void rset_take_high(struct rset *s, uint64_t n, struct rset *out)
{
    while (n > 0 && s->n > 0) {
        struct range *r = &s->r[s->n - 1];
        uint64_t len = (uint64_t)r->hi - r->lo + 1;
        if (len <= n) {
            rset_add(out, r->lo, r->hi);
            n -= len;
            s->n--;
        } else {
            rset_add(out, (uint32_t)(r->hi - n + 1), r->hi);
            r->hi = (uint32_t)(r->hi - n);
            n = 0;
        }
    }
}

void rset_format(const struct rset *s, struct buf *out)
{
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            buf_putc(out, ',');
        if (s->r[i].lo == s->r[i].hi)
            buf_printf(out, "%u", s->r[i].lo);
        else
            buf_printf(out, "%u-%u", s->r[i].lo, s->r[i].hi);
    }
}

static bool parse_num(const char **p, uint32_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > CS_FLEET_MAX)
            return false;
        s++;
    }
    *p = s;
    *out = (uint32_t)v;
    return v >= 1;
}

int rset_parse(struct rset *s, const char *text, struct cs_error *err)
{
    rset_clear(s);
    const char *p = text;
    while (*p) {
        uint32_t lo, hi;
        const char *at = p;
        if (!parse_num(&p, &lo))
            return cs_error_set(err, CS_ERR_PARSE, "ranges: bad index at offset %zu of '%.*s'",
                                (size_t)(at - text), CS_UTF8_CLIP(text, 40));
        hi = lo;
        if (*p == '-') {
            p++;
            if (!parse_num(&p, &hi) || hi < lo)
                return cs_error_set(err, CS_ERR_PARSE, "ranges: bad range at offset %zu of '%.*s'",
                                    (size_t)(at - text), CS_UTF8_CLIP(text, 40));
        }
        rset_add(s, lo, hi);
        if (*p == ',')
            p++;
        else if (*p)
            return cs_error_set(err, CS_ERR_PARSE, "ranges: unexpected '%c' at offset %zu", *p,
                                (size_t)(p - text));
    }
    return CS_OK;
}
