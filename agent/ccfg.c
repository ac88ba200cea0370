/* ccfg.c - a charger's effective config. [loop] */
#include <string.h>

#include "ccfg.h"
#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "crt.h"

/* where: in a layer selector reads config without the layers (base + the charger's own
 * overrides), so layers cannot select each other in circles. */
static bool pre_layer_value(void *privdata, const char *key, struct buf *out)
{
    const struct charger_cfg *pre = privdata;
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, key);
    if (!d)
        return false;
    cfg_format(d, pre, true, out);
    return true;
}

bool ccfg_value(void *privdata, const char *key, struct buf *out)
{
    const struct charger_rt *ch = privdata;
    return pre_layer_value((void *)crt_cfg(ch), key, out);
}

/* Effective config: fleet defaults, then the matching layers in order, then the charger's
 * own overrides. */
static void recompute(struct charger_rt *ch)
{
    struct agent_ctx *x = crt_ctx(ch);
    struct ccfg *cc = &ch->cfg;
    struct charger_cfg pre = x->base_cfg;
    bool any = cc->over.n > 0;
    uint64_t matched = 0;
    cfg_apply_layer(&cfg_charger_schema, &pre, &cc->over);
    for (size_t i = 0; i < x->nlayers && i < LAYERS_MAX; i++) {
        struct sel_subject subj = {ch->m.id, ch->m.index, x->name, pre_layer_value, &pre};
        if (x->layers[i].acc.n && sel_match(x->layers[i].sel, &subj)) {
            matched |= 1ull << i;
            any = true;
        }
    }
    if (!any) {
        cs_free(cc->own);
        cc->own = NULL;
        return;
    }
    if (!cc->own)
        cc->own = cs_malloc(sizeof(*cc->own));
    *cc->own = x->base_cfg;
    for (size_t i = 0; i < x->nlayers && i < LAYERS_MAX; i++)
        if (matched & (1ull << i))
            cfg_apply_layer(&cfg_charger_schema, cc->own, &x->layers[i].acc);
    cfg_apply_layer(&cfg_charger_schema, cc->own, &cc->over);
}

static void changed_from(struct charger_rt *ch, const struct charger_cfg *old)
{
    if (ch->link.state != LINK_LOADING)
        ch->env->cfg_changed(ch, old);
}

void ccfg_set_overrides(struct charger_rt *ch, const struct kvlist *incoming)
{
    struct charger_cfg old = *crt_cfg(ch);
    struct reject_scope rs = {crt_ctx(ch), ch->m.id, true};
    cfg_layer_accept(&cfg_charger_schema, &ch->cfg.over, &ch->cfg.over_rej, incoming,
                     ctx_config_rejected, &rs);
    recompute(ch);
    changed_from(ch, &old);
}

int ccfg_write(struct charger_rt *ch, const char *key, const char *value)
{
    char hk[CS_KEY_MAX];
    struct agent_ctx *x = crt_ctx(ch);
    if (rds_cmd(x->rc, NULL, NULL, "HSET %s %s %s", ctx_key(x, hk, K_CHARGER, ch->m.id), key,
                value) != CS_OK)
        return CS_ERR_IO;
    struct kvlist in = KVLIST_INIT;
    kv_copy(&in, &ch->cfg.over);
    kv_set(&in, key, value);
    ccfg_set_overrides(ch, &in);
    kv_free(&in);
    return CS_OK;
}

void ccfg_recompute(struct charger_rt *ch, const struct charger_cfg *old_base)
{
    struct charger_cfg old = ch->cfg.own || !old_base ? *crt_cfg(ch) : *old_base;
    recompute(ch);
    changed_from(ch, &old);
}

void ccfg_fini(struct charger_rt *ch)
{
    kv_free(&ch->cfg.over);
    kv_free(&ch->cfg.over_rej);
    cs_free(ch->cfg.own);
    ch->cfg.own = NULL;
}
