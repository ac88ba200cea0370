/* rset.h - sets of charger indexes kept as sorted, disjoint, non-adjacent inclusive ranges.
 * Text form "1-1000,5001-5500" (DESIGN §2: assignments are index ranges). */
#ifndef CS_RSET_H
#define CS_RSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"

struct range {
    uint32_t lo, hi; /* inclusive, lo <= hi */
};

struct rset {
    struct range *r; /* owned */
    size_t n;
    size_t cap;
};

#define RSET_INIT                                                                                  \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void rset_init(struct rset *s);
void rset_free(struct rset *s);
void rset_clear(struct rset *s);
void rset_copy(struct rset *dst, const struct rset *src);
void rset_add(struct rset *s, uint32_t lo, uint32_t hi);
void rset_remove(struct rset *s, uint32_t lo, uint32_t hi);
bool rset_contains(const struct rset *s, uint32_t i);
uint64_t rset_count(const struct rset *s);
bool rset_equal(const struct rset *a, const struct rset *b);
bool rset_empty(const struct rset *s);
/* out = a | b, a - b, a & b (out may not alias a or b). */
void rset_union(struct rset *out, const struct rset *a, const struct rset *b);
void rset_subtract(struct rset *out, const struct rset *a, const struct rset *b);
void rset_intersect(struct rset *out, const struct rset *a, const struct rset *b);
/* Moves up to n of the lowest (or highest) indexes of s into out (appended). */
void rset_take_low(struct rset *s, uint64_t n, struct rset *out);
void rset_take_high(struct rset *s, uint64_t n, struct rset *out);
/* "" for the empty set. */
void rset_format(const struct rset *s, struct buf *out);
/* Parses "1-10,12,20-30" (empty string = empty set); indexes in 1..CS_FLEET_MAX. */
int rset_parse(struct rset *s, const char *text, struct cs_error *err);

#endif
