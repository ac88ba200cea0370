/* kv.h - an ordered list of string key/value pairs (command args, hash snapshots, overrides). */
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

#endif
