/* ccfg.h - a charger's config: the fleet's base ({ns}:cfg), the layers whose selectors match
 * it, then its own overrides ({ns}:charger:{id}), merged into its effective config. Chargers
 * that match no layer and have no overrides share the base. When the effective config of a
 * loaded charger changes, the crt_env's cfg_changed callback hears of it. [loop] */
#ifndef CS_AGENT_CCFG_H
#define CS_AGENT_CCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/kv.h"

struct charger_rt;
struct charger_cfg;

void ccfg_fini(struct charger_rt *ch);
/* A fresh snapshot of {ns}:charger:{id}: valid fields are taken, bad ones reported once and
 * the previous value kept. */
void ccfg_set_overrides(struct charger_rt *ch, const struct kvlist *incoming);
/* The charger changes one of its own settings (ChangeConfiguration, a firmware install): in
 * force at once, and written to {ns}:charger:{id}, where it is seen, follows the charger to
 * another worker and reads back like an operator's edit. CS_ERR_IO when Redis cannot take the
 * write (nothing changes then). */
int ccfg_write(struct charger_rt *ch, const char *key, const char *value);
/* The worker's layers changed, or its base did (old_base: the base before, NULL when only the
 * layers changed). */
void ccfg_recompute(struct charger_rt *ch, const struct charger_cfg *old_base);
/* where: selectors read a charger's effective config (secrets masked). sel_value_fn. */
bool ccfg_value(void *privdata, const char *key, struct buf *out);

#endif
