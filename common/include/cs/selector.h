/* selector.h - which chargers a command or config layer applies to (DESIGN §5).
 *   *  CP-000042  CP-000001..CP-005000  CP-00004?  CP-01*  worker:host-a.w*
 *   where:model=DC150  where:firmware=2.*  random:100  random:5%  random:100:seed=7
 * and comma-separated unions. One module for commands, config layers and swarm-cli. */
#ifndef CS_SELECTOR_H
#define CS_SELECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/err.h"
#include "cs/ids.h"

#define SEL_MAX_LEN 4096
#define SEL_MAX_ELEMS 256

struct sel; /* opaque, compiled */

#include "cs/buf.h"
#include "cs/rset.h"

/* Looks up a charger's config value as text for where: (false when unknown). */
typedef bool sel_cfg_fn(void *privdata, const char *key, struct buf *out);

/* What a selector is matched against. */
struct sel_subject {
    const char *id;     /* charger ID */
    uint32_t index;     /* fleet index */
    const char *worker; /* owning worker name, may be NULL */
    sel_cfg_fn *cfg;    /* where: lookups; NULL: where: never matches */
    void *cfg_privdata;
};

/* Compiles text. `fmt` (may be NULL) lets ID ranges compare by index, so "CP-9..CP-10"
 * works for unpadded formats. Returns NULL with *err filled on a bad selector.
 * Caller frees with sel_free. */
struct sel *sel_parse(const char *text, const struct idfmt *fmt, struct cs_error *err);
void sel_free(struct sel *s);
/* random: elements pick from the fleet's indexes 1..fleet_size with their own :seed=S or else
 * default_seed: call once before matching (other elements ignore it). O(1), whatever the fleet
 * size. random:N picks exactly N (the first N of a keyed permutation of 1..size: another size
 * is another sample); random:P% picks each index on its own (a hash of seed and index below
 * P%), so an index keeps its place when the fleet grows or shrinks. The same selector, seed
 * and size pick the same chargers on every worker and in swarm-cli. */
void sel_prepare(struct sel *s, uint32_t fleet_size, uint64_t default_seed);
/* The seed a config layer's random: uses when it names none: from the layer's name, so the
 * layer keeps its sample whenever it is evaluated again (not from the fleet seed, and not new
 * per command as for commands: cmd_seed). */
uint64_t sel_layer_seed(const char *layer);
bool sel_match(const struct sel *s, const struct sel_subject *subj);
/* True when the selector is nothing but IDs and ranges of the fleet's ID format; out gets the
 * index set (commands can then go to the owning workers only). */
bool sel_index_set(const struct sel *s, struct rset *out);
/* True when the selector has where: elements (they read config). */
bool sel_uses_config(const struct sel *s);
/* True when the selector is exactly "*". */
bool sel_is_all(const struct sel *s);
/* The selector's source text (borrowed). */
const char *sel_text(const struct sel *s);

#endif
