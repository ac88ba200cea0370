/* trigger.c - a message sent on demand: any built-in one with fields overridden, or a
 * user-defined one from {ns}:catalog rendered from its template. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/jtmpl.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "emit.h"
#include "session.h"
#include "trigger.h"

struct resolve_ctx {
    struct charger_rt *ch;
    int conn;
    const struct kvlist *args;
};

static bool resolve(void *privdata, enum jt_var var, const char *name, struct jt_value *out)
{
    struct resolve_ctx *r = privdata;
    struct charger_rt *ch = r->ch;
    const struct connector *k = &ch->m.conn[r->conn];
    char *t = out->text;
    size_t n = sizeof(out->text);
    switch (var) {
    case JT_ID:
        cs_strlcpy(t, ch->m.id, n);
        break;
    case JT_INDEX:
        snprintf(t, n, "%u", ch->m.index);
        break;
    case JT_TS:
        cs_fmt_iso8601(t, n, cs_now_ms());
        break;
    case JT_METER_WH:
        snprintf(t, n, "%lld", (long long)charger_wh(k->meter_wh));
        break;
    case JT_POWER_W:
        snprintf(t, n, "%.0f", k->power_w);
        break;
    case JT_SOC:
        snprintf(t, n, "%.0f", charger_soc(&ch->m, r->conn, crt_cfg(ch)->battery_kwh));
        break;
    case JT_STATUS:
        cs_strlcpy(t, ocpp_status_name(k->status), n);
        break;
    case JT_CONNECTOR:
        snprintf(t, n, "%d", r->conn);
        break;
    case JT_TX_ID:
        snprintf(t, n, "%d", k->tx_active ? (int)k->tx.id : 0);
        break;
    case JT_SEQ:
        snprintf(t, n, "%u", ch->calls.seq);
        break;
    case JT_VENDOR:
        cs_strlcpy(t, crt_cfg(ch)->vendor, n);
        break;
    case JT_MODEL:
        cs_strlcpy(t, crt_cfg(ch)->model, n);
        break;
    case JT_FIRMWARE:
        cs_strlcpy(t, crt_cfg(ch)->firmware, n);
        break;
    case JT_ARG: {
        const char *v = r->args ? kv_get(r->args, name) : NULL;
        if (!v)
            return false;
        cs_strlcpy(t, v, n);
        break;
    }
    case JT_RAND:
    case JT__COUNT:
        break;
    }
    return true;
}

static int trigger_custom(struct charger_rt *ch, const char *msg, int conn,
                          const struct kvlist *args, struct cs_error *err)
{
    const struct jtmpl *t = ctx_catalog_get(crt_ctx(ch), msg);
    if (!t)
        return cs_error_set(err, CS_ERR_UNKNOWN,
                            "unknown message '%.40s' (built-in: %s; or one of {ns}:catalog)", msg,
                            catalog_names());
    struct resolve_ctx r = {ch, conn < 0 ? 1 : conn, args};
    if (r.conn > ch->m.nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist", ch->m.id, r.conn);
    struct buf payload = BUF_INIT;
    charger_integrate(&ch->m, cs_now_ms());
    int rc = jtmpl_render(t, resolve, &r, &ch->rng, &payload, err);
    if (rc == CS_OK)
        rc = calls_send_raw(&ch->calls, msg, payload.s, payload.len, 0, err);
    buf_free(&payload);
    return rc;
}

/* A built-in message m; id_tag (NULL: the transaction's, else the template's) for those that
 * carry one. */
static int send_builtin(struct charger_rt *ch, const struct msg_def *m, int conn,
                        const struct kvlist *args, const char *id_tag, struct cs_error *err);

int trigger_send(struct charger_rt *ch, const char *msg, int conn, const struct kvlist *args,
                 struct cs_error *err)
{
    const struct msg_def *m = catalog_lookup_v(crt_version(ch), msg);
    if (!m) {
        if (ch->link.state != LINK_UP)
            return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                                link_state_name(ch->link.state));
        return trigger_custom(ch, msg, conn, args, err);
    }
    /* trigger Authorize idTag=T presents T: the cache learns it from the answer */
    const char *tag = m->id == MSG_AUTHORIZE && args ? kv_get(args, "idTag") : NULL;
    return send_builtin(ch, m, conn, args, tag, err);
}

static int send_builtin(struct charger_rt *ch, const struct msg_def *m, int conn,
                        const struct kvlist *args, const char *id_tag, struct cs_error *err)
{
    if (ch->link.state != LINK_UP)
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link.state));
    enum ocpp_version v = crt_version(ch);
    bool per_conn = m->traits & MT_CONNECTOR;
    if (conn < 0 || !per_conn)
        conn = per_conn ? 1 : 0;
    if (conn > ch->m.nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (0..%d)", ch->m.id,
                            conn, ch->m.nconn);
    struct msg_ctx x;
    char tag[21];
    emit_ctx(ch, conn, &x);
    x.over = args;
    if (m->id == MSG_METER_VALUES)
        x.context = "Trigger";
    if (id_tag)
        x.id_tag = id_tag;
    if (m->id == MSG_BOOT_NOTIFICATION)
        x.boot_reason = "Triggered";
    if (!x.id_tag) {
        emit_id_tag(ch, NULL, tag);
        x.id_tag = tag;
    }
    /* the request an ongoing update or upload reports on */
    if (m->id == MSG_FIRMWARE_STATUS) {
        x.status = session_firmware_step_name(ch->s.fw.step);
        x.has_request_id = ch->s.fw.step && ch->s.fw.has_request;
        x.request_id = ch->s.fw.request_id;
    }
    if (m->id == MSG_DIAGNOSTICS_STATUS) {
        x.status = session_diagnostics_step_name(ch->s.diag.step);
        x.has_request_id = ch->s.diag.step == 1 && ch->s.diag.has_request;
        x.request_id = ch->s.diag.request_id;
    }
    char key[EMIT_TX_KEY_MAX];
    if (v == OCPP_V201 && m == catalog201_tx_event()) {
        if (!x.tx_id)
            return cs_error_set(err, CS_ERR_STATE, "%s: no transaction on connector %d", ch->m.id,
                                conn);
        x.trigger_reason = "Trigger";
        emit_tx_event(ch, &x, "Updated", key);
    }
    unsigned flags = (m->traits & MT_TX) || ((m->traits & MT_TX_IF_OPEN) && x.tx_id) ? CALL_TX : 0;
    /* An Authorize's answer fills the cache (connector 0: no session waits for it). */
    x.connector = m->id == MSG_AUTHORIZE ? 0 : x.connector;
    return calls_send(&ch->calls, m, &x, flags, m->id == MSG_AUTHORIZE ? K_AUTHORIZE : K_NONE, err);
}

int trigger_authorize(struct charger_rt *ch, const char *id_tag, struct cs_error *err)
{
    return send_builtin(ch, catalog_v(crt_version(ch), MSG_AUTHORIZE), 0, NULL, id_tag, err);
}
