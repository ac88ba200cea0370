/* emit.c - a charger's messages: the context a payload builder reads, and the CALL. [loop] */
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/tmpl.h"
#include "emit.h"

void emit_ctx(struct charger_rt *ch, int conn, struct msg_ctx *x)
{
    int64_t now = cs_now_ms();
    memset(x, 0, sizeof(*x));
    charger_integrate(&ch->m, now);
    x->ch = &ch->m;
    x->cfg = crt_cfg(ch);
    x->now_ms = now;
    x->connector = conn;
    if (conn > 0 && ch->m.conn[conn].tx_active) {
        x->tx_id = ch->m.conn[conn].tx.id;
        x->id_tag = ch->m.conn[conn].tx.id_tag;
    }
    x->meter_wh = conn > 0 ? ch->m.conn[conn].meter_wh : charger_energy_wh(&ch->m);
}

int emit_msg(struct charger_rt *ch, enum msg_id id, const struct msg_ctx *x, unsigned flags,
             enum call_cont cont)
{
    struct cs_error err;
    int rc = calls_send(&ch->calls, catalog_get(id), x, flags, cont, &err);
    if (rc)
        log_debug("%s: %s", ch->m.id, err.msg);
    return rc;
}

void emit_status(struct charger_rt *ch, int conn, const char *info)
{
    struct msg_ctx x;
    struct kvlist over = KVLIST_INIT;
    emit_ctx(ch, conn, &x);
    if (info && *info) {
        kv_set(&over, "info", info);
        x.over = &over;
    }
    emit_msg(ch, MSG_STATUS_NOTIFICATION, &x, 0, K_NONE);
    kv_free(&over);
}

void emit_id_tag(struct charger_rt *ch, const char *given, char out[21])
{
    if (given && *given) {
        cs_strlcpy(out, given, 21);
        return;
    }
    char idx[16];
    struct buf b = BUF_INIT;
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {{"id", ch->m.id}, {"index", idx}};
    if (tmpl_render(crt_cfg(ch)->id_tag, vars, ARRAY_SIZE(vars), &b, NULL) != CS_OK)
        buf_puts(&b, "UNKNOWN");
    cs_strlcpy(out, buf_cstr(&b), 21);
    buf_free(&b);
}
