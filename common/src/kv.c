/* kv.c - ordered string key/value list. Most lists are short (tens of pairs): linear search;
 * a sorted index (kv_index) for the big ones read field by field. */
#include <stdlib.h>
#include <string.h>

#include "cs/kv.h"
#include "cs/mem.h"
#include "cs/util.h"

void kv_init(struct kvlist *l)
{
    l->v = NULL;
    l->n = l->cap = 0;
}

void kv_clear(struct kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        cs_free(l->v[i].key);
        cs_free(l->v[i].val);
    }
    l->n = 0;
}

void kv_free(struct kvlist *l)
{
    kv_clear(l);
    cs_free(l->v);
    kv_init(l);
}

/* A stored key may be shorter than klen: nothing past its end is read. */
static struct kv *find(const struct kvlist *l, const char *key, size_t klen)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->v[i].key;
        if ((klen == 0 || k[0] == key[0]) && strncmp(k, key, klen) == 0 &&
            strnlen(k, klen + 1) == klen)
            return &l->v[i];
    }
    return NULL;
}

void kv_setn(struct kvlist *l, const char *key, size_t klen, const char *val, size_t vlen)
{
    struct kv *e = find(l, key, klen);
    if (e) {
        cs_free(e->val);
        e->val = cs_strndup(val, vlen);
        return;
    }
    kv_appendn(l, key, klen, val, vlen);
}

void kv_appendn(struct kvlist *l, const char *key, size_t klen, const char *val, size_t vlen)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = cs_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].key = cs_strndup(key, klen);
    l->v[l->n].val = cs_strndup(val, vlen);
    l->n++;
}

void kv_set(struct kvlist *l, const char *key, const char *val)
{
    kv_setn(l, key, strlen(key), val, strlen(val));
}

const char *kv_get(const struct kvlist *l, const char *key)
{
    const struct kv *e = find(l, key, strlen(key));
    return e ? e->val : NULL;
}

bool kv_del(struct kvlist *l, const char *key)
{
    struct kv *e = find(l, key, strlen(key));
    if (!e)
        return false;
    cs_free(e->key);
    cs_free(e->val);
    size_t i = (size_t)(e - l->v);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
    l->n--;
    return true;
}

void kv_copy(struct kvlist *dst, const struct kvlist *src)
{
    kv_clear(dst);
    /* Pair by pair as they are, no search per pair (on a ~300-field stats hash that cost the
     * coordinator a third of its time): keys are distinct in every list but one read from a
     * stream entry written with a repeated field, and the copy then finds what kv_get on the
     * source finds, the first. */
    for (size_t i = 0; i < src->n; i++)
        kv_appendn(dst, src->v[i].key, strlen(src->v[i].key), src->v[i].val, strlen(src->v[i].val));
}

bool kv_equal(const struct kvlist *a, const struct kvlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const char *v = kv_get(b, a->v[i].key);
        if (!v || strcmp(v, a->v[i].val) != 0)
            return false;
    }
    return true;
}

long long kv_i64(const struct kvlist *l, const char *key)
{
    const char *v = kv_get(l, key);
    int64_t x;
    return v && cs_parse_i64(v, INT64_MIN, INT64_MAX, &x) ? x : 0;
}

double kv_double(const struct kvlist *l, const char *key)
{
    const char *v = kv_get(l, key);
    double x;
    return v && cs_parse_double(v, -1e300, 1e300, &x) ? x : 0;
}

static int kv_by_key(const void *a, const void *b)
{
    return strcmp((*(const struct kv *const *)a)->key, (*(const struct kv *const *)b)->key);
}

void kv_index_build(struct kv_index *ix, const struct kvlist *l)
{
    ix->n = l->n;
    ix->v = cs_calloc(l->n ? l->n : 1, sizeof(*ix->v));
    for (size_t i = 0; i < l->n; i++)
        ix->v[i] = &l->v[i];
    qsort(ix->v, ix->n, sizeof(*ix->v), kv_by_key);
}

const char *kv_index_get(const struct kv_index *ix, const char *key)
{
    struct kv probe = {(char *)key, NULL};
    const struct kv *pp = &probe;
    const struct kv **hit = bsearch(&pp, ix->v, ix->n, sizeof(*ix->v), kv_by_key);
    return hit ? (*hit)->val : NULL;
}

void kv_index_free(struct kv_index *ix)
{
    cs_free(ix->v);
    ix->v = NULL;
    ix->n = 0;
}
