/* dl.c - what the handlers of the platform's CALLs share (dl.h). [loop] */
#include <string.h>

#include <cjson/cJSON.h>

#include "authz.h"
#include "behaviour.h"
#include "ccfg.h"
#include "crt.h"
#include "cs/log.h"
#include "dl.h"
#include "session.h"
#include "trigger.h"

int dl_int(const cJSON *req, const char *k, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    /* Range-checked before the conversion: the platform may send any number. */
    return cJSON_IsNumber(v) && v->valuedouble >= INT32_MIN && v->valuedouble <= INT32_MAX
               ? (int)v->valuedouble
               : def;
}

const char *dl_str(const cJSON *req, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *dl_obj(const cJSON *req, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    return cJSON_IsObject(v) ? v : NULL;
}

int32_t dl_i32(const cJSON *req, const char *k)
{
    return (int32_t)dl_int(req, k, 0);
}

bool dl_conn_exists(const struct charger_rt *ch, int conn, bool allow_zero)
{
    return conn >= (allow_zero ? 0 : 1) && conn <= ch->m.nconn;
}

const char *dl_availability_status(const struct charger_rt *ch, int conn, bool operative)
{
    if (!dl_conn_exists(ch, conn, true))
        return "Rejected";
    if (operative)
        return "Accepted";
    /* In use (transaction, cable in) or otherwise not now: Unavailable as soon as it can. */
    for (int i = conn == 0 ? 1 : conn; i <= (conn == 0 ? ch->m.nconn : conn); i++)
        if (ch->m.conn[i].status != ST_UNAVAILABLE &&
            (ch->m.conn[i].tx_active || !charger_transition(ch->m.conn[i].status, CE_INOPERATIVE)))
            return "Scheduled";
    return "Accepted";
}

static void trigger(struct charger_rt *ch, const char *msg, int conn)
{
    struct cs_error err;
    bool v16 = crt_version(ch) == OCPP_V16;
    const struct msg_def *m = catalog_lookup_v(crt_version(ch), msg);
    if (m && (m->traits & MT_CONNECTOR) && conn < 0) {
        /* Every connector; a 1.6 StatusNotification includes the charge point itself (0). */
        for (int i = v16 && m->id == MSG_STATUS_NOTIFICATION ? 0 : 1; i <= ch->m.nconn; i++)
            trigger_send(ch, msg, i, NULL, &err);
        return;
    }
    if (trigger_send(ch, msg, conn, NULL, &err))
        log_debug("%s: TriggerMessage %s: %s", ch->m.id, msg, err.msg);
}

int dl_clear_cache(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                   const char **code, struct cs_error *err)
{
    (void)req;
    (void)then;
    (void)code;
    (void)err;
    authz_clear_cache(ch);
    jw_kstr(resp, "status", "Accepted");
    return CS_OK;
}

void dl_run_follow(struct charger_rt *ch, const struct follow *f, const cJSON *req)
{
    struct cs_error err;
    bool scheduled;
    switch (f->kind) {
    case F_NONE:
        break;
    case F_START:
        if (session_start(ch, f->conn, f->id_tag, 0, 0, 0, true, &err))
            log_debug("%s: RemoteStartTransaction: %s", ch->m.id, err.msg);
        break;
    case F_STOP:
        session_remote_stop(ch, f->tx);
        break;
    case F_RESET:
        session_reboot(ch, f->flag ? SR_HARD_RESET : SR_SOFT_RESET);
        break;
    case F_AVAILABILITY:
        session_availability(ch, f->conn, f->flag, &scheduled, &err);
        break;
    case F_UNLOCK:
        session_unlock(ch, f->conn);
        break;
    case F_TRIGGER:
        trigger(ch, f->msg, f->conn);
        break;
    case F_FIRMWARE:
        behaviour_firmware(ch, f->location, f->at_ms);
        break;
    case F_DIAGNOSTICS:
        behaviour_diagnostics(ch);
        break;
    case F_AFTER:
        f->after(ch, req);
        break;
    case F_CONFIG:
        if (ccfg_write(ch, f->key, f->value) != CS_OK)
            log_warn("%s: ChangeConfiguration %s not kept: Redis unreachable", ch->m.id, f->key);
        break;
    }
}
