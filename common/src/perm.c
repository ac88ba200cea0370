/* perm.c - keyed Feistel permutation with cycle walking. */
#include "cs/perm.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void perm_init(struct perm *p, uint64_t n, uint64_t seed)
{
    unsigned bits = 0;
    p->n = n;
    while (bits < 64 && ((uint64_t)1 << bits) < n)
        bits++;
    p->half = bits < 2 ? 1 : (bits + 1) / 2;
    p->mask = ((uint64_t)1 << p->half) - 1;
    for (unsigned r = 0; r < PERM_ROUNDS; r++)
        p->key[r] = mix64(seed * 0x9e3779b97f4a7c15ULL + r + 1);
}

static uint64_t round_fn(const struct perm *p, unsigned r, uint64_t v)
{
    return mix64(v ^ p->key[r]) & p->mask;
}

/* One pass of the network over the whole 2*half-bit domain. */
static uint64_t feistel(const struct perm *p, uint64_t x)
{
    uint64_t l = x >> p->half, r = x & p->mask;
    for (unsigned k = 0; k < PERM_ROUNDS; k++) {
        uint64_t t = l ^ round_fn(p, k, r);
        l = r;
        r = t;
    }
    return (l << p->half) | r;
}

static uint64_t feistel_inv(const struct perm *p, uint64_t y)
{
    uint64_t l = y >> p->half, r = y & p->mask;
    for (unsigned k = PERM_ROUNDS; k-- > 0;) {
        uint64_t t = r ^ round_fn(p, k, l);
        r = l;
        l = t;
    }
    return (l << p->half) | r;
}

/* Cycle walking: values at or beyond n are passed through again until one lands inside. The
 * domain is less than 4n, so the walk takes fewer than 4 steps on average; it ends because the
 * cycle through a value inside [0, n) returns to one. */
uint64_t perm_fwd(const struct perm *p, uint64_t x)
{
    do
        x = feistel(p, x);
    while (x >= p->n);
    return x;
}

uint64_t perm_inv(const struct perm *p, uint64_t y)
{
    do
        y = feistel_inv(p, y);
    while (y >= p->n);
    return y;
}
