/* result.c - a command's outcome and its reply. [loop] */
#include <string.h>

#include "cs/err.h"
#include "cs/util.h"
#include "result.h"

void result_init(struct result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->ex);
    buf_init(&r->extra);
    jw_init(&r->j, &r->ex);
    jw_arr(&r->j);
}

void result_free(struct result *r)
{
    buf_free(&r->ex);
    buf_free(&r->extra);
}

void result_extra(struct result *r, const char *key, int64_t value)
{
    struct jw j;
    jw_init(&j, &r->extra);
    j.first[0] = r->extra.len == 0; /* continue the member list */
    jw_kint(&j, key, value);
}

static void example(struct result *r, const char *msg)
{
    if (r->nex < RESULT_EXAMPLES) {
        jw_str(&r->j, msg);
        r->nex++;
    }
}

void result_extra_json(struct result *r, const char *key, const char *json, size_t len)
{
    struct jw j;
    jw_init(&j, &r->extra);
    j.first[0] = r->extra.len == 0;
    jw_key(&j, key);
    jw_raw(&j, json, len);
}

void result_charger(struct result *r, int rc, const char *msg)
{
    r->matched++;
    if (rc == CS_OK) {
        r->done++;
    } else if (rc == CS_ERR_NOOP) {
        r->skipped++;
    } else {
        r->failed++;
        example(r, msg);
    }
}

void result_refuse(struct result *r, const char *msg)
{
    r->refused = true;
    example(r, msg);
}

void result_render(struct result *r, const char *id, const char *worker, const char *verb,
                   double ms, int64_t lag_ms, struct buf *out)
{
    struct jw j;
    jw_end(&r->j);
    jw_init(&j, out);
    jw_obj(&j);
    jw_key(&j, "id");
    if (id && *id)
        jw_str(&j, id);
    else
        jw_null(&j);
    jw_kstr(&j, "worker", worker);
    jw_kstr(&j, "cmd", verb ? verb : "");
    jw_kint(&j, "matched", (int64_t)r->matched);
    jw_kint(&j, "done", (int64_t)r->done);
    jw_kint(&j, "skipped", (int64_t)r->skipped);
    jw_kint(&j, "failed", (int64_t)r->failed);
    if (r->refused)
        jw_kbool(&j, "refused", true);
    jw_key(&j, "errors");
    jw_raw(&j, r->ex.s, r->ex.len);
    if (r->extra.len) {
        buf_putc(out, ',');
        buf_append(out, r->extra.s, r->extra.len);
    }
    if (r->run)
        jw_kint(&j, "run", r->run);
    if (r->scheduled_ms) {
        char at[32];
        jw_kstr(&j, "scheduled", cs_fmt_iso8601(at, sizeof(at), r->scheduled_ms));
    }
    jw_kdouble(&j, "ms", ms, 3);
    if (lag_ms >= 0)
        jw_kint(&j, "lag_ms", lag_ms);
    jw_end(&j);
}

void result_move(struct result *r, struct result_hold *h)
{
    h->r = *r;
    h->r.j.b = &h->r.ex; /* the writer points into the result it belongs to */
    result_init(r);
    r->held = true;
}
