/* kv.h - an ordered list of string key/value pairs (command args, hash snapshots, overrides),
 * searched linearly; kv_index for many lookups in a big one. */
#ifndef CS_KV_H
#define CS_KV_H

#include <stdbool.h>
#include <stddef.h>

struct kv {
    char *key; /* owned */
    char *val; /* owned */
};

struct kvlist {
    struct kv *v;
    size_t n;
    size_t cap;
};

#define KVLIST_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void kv_init(struct kvlist *l);
void kv_free(struct kvlist *l); /* frees the pairs; the list itself is caller's */
void kv_clear(struct kvlist *l);
/* Sets key to val (copies both); replaces an existing key. */
void kv_set(struct kvlist *l, const char *key, const char *val);
void kv_setn(struct kvlist *l, const char *key, size_t klen, const char *val, size_t vlen);
/* Appends without looking for the key (the caller knows it is new: a Redis hash's fields). */
void kv_appendn(struct kvlist *l, const char *key, size_t klen, const char *val, size_t vlen);
/* Borrowed; NULL when absent. */
const char *kv_get(const struct kvlist *l, const char *key);
/* A value read as a number: 0 when absent or not a number (a field written by another
 * process). */
long long kv_i64(const struct kvlist *l, const char *key);
double kv_double(const struct kvlist *l, const char *key);
bool kv_del(struct kvlist *l, const char *key);
void kv_copy(struct kvlist *dst, const struct kvlist *src);
bool kv_equal(const struct kvlist *a, const struct kvlist *b);

/* A sorted view of a list's keys for many lookups in a big list (a stats hash has ~300
 * fields: a kv_get per field would cost fields^2). Borrows the list, which must not change
 * while the view is used; its keys should be distinct (else any of the equal ones is found). */
struct kv_index {
    const struct kv **v;
    size_t n;
};
void kv_index_build(struct kv_index *ix, const struct kvlist *l);
const char *kv_index_get(const struct kv_index *ix, const char *key); /* NULL when absent */
void kv_index_free(struct kv_index *ix);

#endif
