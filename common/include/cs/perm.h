/* perm.h - a keyed pseudo-random bijection of [0, n): a small Feistel network over the smallest
 * even number of bits that covers n, with cycle walking for the values beyond n. Both
 * directions cost O(1) (a few rounds; the walk takes fewer than 4 steps on average) and no
 * memory per element, whatever n is: "is x among the first k of the permuted order" is one
 * evaluation, perm_fwd(x) < k. The same (n, seed) gives the same permutation everywhere. */
#ifndef CS_PERM_H
#define CS_PERM_H

#include <stdint.h>

#define PERM_ROUNDS 6
#define PERM_MAX ((uint64_t)1 << 40) /* n up to 2^40 */

struct perm {
    uint64_t n;
    unsigned half; /* bits per Feistel half */
    uint64_t mask; /* (1 << half) - 1 */
    uint64_t key[PERM_ROUNDS];
};

/* A permutation of [0, n), 1 <= n <= PERM_MAX, chosen by seed. */
void perm_init(struct perm *p, uint64_t n, uint64_t seed);
/* Where x (< n) goes: the position of x in the permuted order. */
uint64_t perm_fwd(const struct perm *p, uint64_t x);
/* The inverse: which x sits at position y (< n). */
uint64_t perm_inv(const struct perm *p, uint64_t y);

#endif
