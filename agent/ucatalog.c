/* ucatalog.c - user-defined messages, compiled. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/catalog.h"
#include "cs/jtmpl.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "ucatalog.h"

static void clear(struct ucatalog *c)
{
    for (size_t i = 0; i < c->src.n; i++)
        jtmpl_free(c->tmpl[i]);
    cs_free(c->tmpl);
    c->tmpl = NULL;
    kv_free(&c->src);
}

void ucatalog_free(struct ucatalog *c)
{
    clear(c);
    kv_free(&c->rej);
}

/* Why an entry stays out, or NULL: compiled into *out. */
static bool compile(struct ucatalog *c, const char *name, const char *src, struct jtmpl **out,
                    struct cs_error *err)
{
    size_t len = strlen(src);
    *out = NULL;
    if (catalog_lookup(name))
        cs_error_set(err, CS_ERR_STATE, "'%s' is a built-in message", name);
    else if (!catalog_name_valid(name))
        cs_error_set(err, CS_ERR_PARSE, "'%.64s' is not a message name ([A-Za-z0-9_], 1..%d)", name,
                     CATALOG_NAME_MAX);
    else if (c->src.n >= UCATALOG_MAX)
        cs_error_set(err, CS_ERR_TOO_BIG, "more than %d messages in the catalog", UCATALOG_MAX);
    else if (len > UCATALOG_TEMPLATE_MAX)
        cs_error_set(err, CS_ERR_TOO_BIG, "template of %zu bytes (at most %d)", len,
                     UCATALOG_TEMPLATE_MAX);
    else
        *out = jtmpl_compile(src, len, err);
    return *out != NULL;
}

void ucatalog_set(struct ucatalog *c, const struct kvlist *in, struct agent_ctx *x)
{
    struct kvlist rej = KVLIST_INIT;
    clear(c);
    c->tmpl = cs_calloc(in->n ? in->n : 1, sizeof(*c->tmpl));
    for (size_t i = 0; i < in->n; i++) {
        struct cs_error err;
        struct jtmpl *t;
        const char *name = in->v[i].key, *src = in->v[i].val;
        if (compile(c, name, src, &t, &err)) {
            c->tmpl[c->src.n] = t;
            kv_set(&c->src, name, src);
            continue;
        }
        /* Refused entries stay out; each distinct one is reported once. */
        kv_set(&rej, name, src);
        const char *before = kv_get(&c->rej, name);
        if (ctx_speaks_for_fleet(x) && !(before && strcmp(before, src) == 0)) {
            struct kvlist f = KVLIST_INIT;
            kv_set(&f, "message", name);
            kv_set(&f, "error", err.msg);
            log_warn("catalog: %.64s refused: %s", name, err.msg);
            ctx_event(x, "catalog_rejected", &f);
            kv_free(&f);
        }
    }
    kv_free(&c->rej);
    c->rej = rej;
}
