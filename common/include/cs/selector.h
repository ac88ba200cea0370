/* selector.h - which chargers a command or config layer applies to (DESIGN §5).
 *   *  CP-000042  CP-000001..CP-005000  CP-00004?  CP-01*  worker:host-a.w*  and comma unions. */
#ifndef CS_SELECTOR_H
#define CS_SELECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/err.h"
#include "cs/ids.h"

#define SEL_MAX_LEN 4096
#define SEL_MAX_ELEMS 256

struct sel; /* opaque, compiled */

/* What a selector is matched against. */
struct sel_subject {
    const char *id;     /* charger ID */
    uint32_t index;     /* fleet index */
    const char *worker; /* owning worker name, may be NULL */
};

/* Compiles text. `fmt` (may be NULL) lets ID ranges compare by index, so "CP-9..CP-10"
 * works for unpadded formats. Returns NULL with *err filled on a bad selector.
 * Caller frees with sel_free. */
struct sel *sel_parse(const char *text, const struct idfmt *fmt, struct cs_error *err);
void sel_free(struct sel *s);
bool sel_match(const struct sel *s, const struct sel_subject *subj);
/* True when the selector is exactly "*". */
bool sel_is_all(const struct sel *s);
/* The selector's source text (borrowed). */
const char *sel_text(const struct sel *s);

#endif
