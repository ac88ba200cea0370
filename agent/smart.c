/* smart.c - charging profiles of a charger and the limits they set (smart.h). [loop] */
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "crt.h"
#include "cs/chprof.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "emit.h"
#include "persist.h"
#include "smart.h"

struct smart {
    struct chprof_set set;
    struct event *ev;                            /* the next limit change */
    struct chprof *remote[CHARGER_MAX_CONN + 1]; /* RemoteStartTransaction's, until it starts */
    bool suspended[CHARGER_MAX_CONN + 1];        /* SuspendedEVSE by a 0 W limit */
};

static void on_change(evutil_socket_t fd, short what, void *arg);

static struct smart *get(struct charger_rt *ch)
{
    if (!ch->sm) {
        ch->sm = cs_calloc(1, sizeof(*ch->sm));
        ch->sm->ev = evtimer_new(crt_ctx(ch)->base, on_change, ch);
    }
    return ch->sm;
}

static struct chp_ctx conn_ctx(const struct charger_rt *ch, int conn)
{
    const struct charger_cfg *c = crt_cfg(ch);
    struct chp_ctx x = {.voltage = c->voltage_v, .phases = c->phases};
    if (conn >= 1 && conn <= ch->m.nconn && ch->m.conn[conn].tx_active) {
        x.tx_active = true;
        x.tx_id = ch->m.conn[conn].tx.id;
        x.tx_start_ms = ch->m.conn[conn].tx.start_ms;
    }
    return x;
}

static int get_int(const cJSON *req, const char *k, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    return cJSON_IsNumber(v) && v->valuedouble >= INT32_MIN && v->valuedouble <= INT32_MAX
               ? (int)v->valuedouble
               : def;
}

int smart_set(struct charger_rt *ch, const cJSON *req, const char **status, const char **code,
              struct cs_error *err)
{
    int conn = get_int(req, "connectorId", -1);
    struct chprof *p = cs_malloc(sizeof(*p));
    int rc = chprof_parse(cJSON_GetObjectItemCaseSensitive(req, "csChargingProfiles"), conn,
                          cs_now_ms(), p, code, err);
    if (rc == CS_OK) {
        struct chp_ctx x = conn_ctx(ch, conn);
        struct cs_error why;
        *status = "Accepted";
        if (conn < 0 || conn > ch->m.nconn) {
            *status = "Rejected";
            log_debug("%s: SetChargingProfile: connector %d does not exist", ch->m.id, conn);
        } else if (!chprof_install(&get(ch)->set, p, &x, &why)) {
            *status = "Rejected";
            log_debug("%s: SetChargingProfile %d rejected: %s", ch->m.id, (int)p->id, why.msg);
        } else {
            persist_mark_installed(ch);
        }
    }
    cs_free(p);
    return rc;
}

const char *smart_clear(struct charger_rt *ch, const cJSON *req)
{
    const cJSON *purpose = cJSON_GetObjectItemCaseSensitive(req, "chargingProfilePurpose");
    int n =
        ch->sm
            ? chprof_clear(&ch->sm->set, get_int(req, "id", -1), get_int(req, "connectorId", -1),
                           cJSON_IsString(purpose) ? chprof_purpose_of(purpose->valuestring) : -1,
                           get_int(req, "stackLevel", -1))
            : 0;
    if (n > 0)
        persist_mark_installed(ch);
    return n > 0 ? "Accepted" : "Unknown";
}

void smart_composite(struct charger_rt *ch, const cJSON *req, struct jw *out)
{
    static const struct chprof_set none = {0};
    int conn = get_int(req, "connectorId", -1);
    if (conn < 0 || conn > ch->m.nconn) {
        jw_kstr(out, "status", "Rejected");
        return;
    }
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(req, "chargingRateUnit");
    int u = cJSON_IsString(unit) ? chprof_unit_of(unit->valuestring) : CHU_W;
    struct chp_ctx x = conn_ctx(ch, conn);
    /* The charger's own maximum bounds the schedule: a connector's, or all of them for 0. */
    x.max_w = crt_cfg(ch)->max_kw * 1000.0 * (conn == 0 ? ch->m.nconn : 1);
    chprof_composite_json(ch->sm ? &ch->sm->set : &none, conn, &x, cs_now_ms(),
                          get_int(req, "duration", 0), u < 0 ? CHU_W : (enum chp_unit)u, out);
}

int smart_remote_profile(struct charger_rt *ch, int conn, const cJSON *profile, const char **code,
                         struct cs_error *err)
{
    struct chprof p;
    int rc = chprof_parse(profile, conn < 0 ? 1 : conn, cs_now_ms(), &p, code, err);
    if (rc)
        return rc;
    if (p.purpose != CHP_TX)
        return cs_error_set(err, CS_ERR_STATE,
                            "chargingProfile of a remote start must be a "
                            "TxProfile");
    int at = conn < 1 ? 0 : conn; /* 0: the connector the charger picks */
    struct smart *s = get(ch);
    if (!s->remote[at])
        s->remote[at] = cs_malloc(sizeof(*s->remote[at]));
    *s->remote[at] = p;
    return CS_OK;
}

/* Applies the limits at now and arms the timer for the next change. */
void smart_update(struct charger_rt *ch)
{
    struct smart *s = ch->sm;
    if (!s)
        return;
    const struct charger_cfg *c = crt_cfg(ch);
    int64_t now = cs_now_ms(), next = INT64_MAX, n;
    int charging = 0;
    for (int i = 1; i <= ch->m.nconn; i++)
        charging += ch->m.conn[i].tx_active;
    for (int i = 1; i <= ch->m.nconn; i++) {
        struct chp_ctx x = conn_ctx(ch, i);
        double cap = chprof_tx_limit_w(&s->set, i, &x, now, &n);
        next = n < next ? n : next;
        /* The charge point's limit, as the connector's transaction sees it (a Relative one
         * runs from that transaction's start). */
        double cp = chprof_cp_limit_w(&s->set, &x, now, &n);
        next = n < next ? n : next;
        if (cp >= 0) {
            double share = cp / (charging > 0 ? charging : 1);
            cap = cap < 0 || share < cap ? share : cap;
        }
        struct connector *k = &ch->m.conn[i];
        if (cap != k->cap_w)
            log_debug("%s: connector %d limit %.0f W", ch->m.id, i, cap);
        charger_set_cap(&ch->m, i, cap, c->max_kw, now);
        /* 0 W: the charger suspends the energy transfer; back when the limit rises. */
        enum conn_event ev = CE__COUNT;
        if (cap == 0 && k->status == ST_CHARGING)
            ev = CE_SUSPEND_EVSE;
        else if (cap != 0 && s->suspended[i] && k->status == ST_SUSPENDED_EVSE)
            ev = CE_RESUME;
        if (ev != CE__COUNT && charger_event(&ch->m, i, ev, c->max_kw, now, NULL, NULL) == CS_OK) {
            s->suspended[i] = ev == CE_SUSPEND_EVSE;
            emit_status(ch, i, NULL);
            persist_mark(ch);
        }
    }
    if (next == INT64_MAX)
        evtimer_del(s->ev);
    else
        ctx_arm(s->ev, next > now ? next - now : 0);
}

static void on_change(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    smart_update(arg);
}

void smart_tx_started(struct charger_rt *ch, int conn)
{
    struct smart *s = ch->sm;
    if (!s)
        return;
    struct chprof **p = s->remote[conn] ? &s->remote[conn] : &s->remote[0];
    if (*p) {
        struct chp_ctx x = conn_ctx(ch, conn);
        struct cs_error why;
        (*p)->conn = conn;
        if (!chprof_install(&s->set, *p, &x, &why))
            log_debug("%s: the remote start's profile was not installed: %s", ch->m.id, why.msg);
        else
            persist_mark_installed(ch);
        cs_free(*p);
        *p = NULL;
    }
    smart_update(ch);
}

void smart_drop_remote(struct charger_rt *ch, int conn)
{
    for (int i = 0; ch->sm && i <= CHARGER_MAX_CONN; i++)
        if (i == conn || i == 0) {
            cs_free(ch->sm->remote[i]);
            ch->sm->remote[i] = NULL;
        }
}

void smart_tx_ended(struct charger_rt *ch, int conn)
{
    if (!ch->sm)
        return;
    int before = ch->sm->set.n;
    chprof_tx_ended(&ch->sm->set, conn);
    if (ch->sm->set.n != before)
        persist_mark_installed(ch);
    ch->sm->suspended[conn] = false;
    smart_update(ch);
}

void smart_tx_confirmed(struct charger_rt *ch, int32_t local, int32_t confirmed)
{
    for (int i = 0; ch->sm && i < ch->sm->set.n; i++) {
        struct chprof *p = &ch->sm->set.p[i];
        if (p->purpose == CHP_TX && p->has_tx && p->tx_id == local) {
            p->tx_id = confirmed;
            persist_mark_installed(ch);
        }
    }
}

void smart_save(const struct charger_rt *ch, struct jw *w)
{
    jw_arr(w);
    for (int i = 0; ch->sm && i < ch->sm->set.n; i++) {
        const struct chprof *p = &ch->sm->set.p[i];
        jw_obj(w);
        jw_kint(w, "c", p->conn);
        jw_kint(w, "at", p->installed_ms);
        if (p->purpose == CHP_TX && p->has_tx)
            jw_kint(w, "tx", p->tx_id); /* a local id too, which the profile object cannot hold */
        jw_key(w, "p");
        chprof_json(p, w);
        jw_end(w);
    }
    jw_end(w);
}

void smart_restore(struct charger_rt *ch, const cJSON *saved)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, saved)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "c");
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(o, "tx");
        struct chprof p;
        const char *code;
        struct cs_error err;
        if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble > CHARGER_MAX_CONN ||
            !cJSON_IsNumber(at) || at->valuedouble < 0 || at->valuedouble > 1e15 ||
            chprof_parse(cJSON_GetObjectItemCaseSensitive(o, "p"), (int)c->valuedouble,
                         (int64_t)at->valuedouble, &p, &code, &err) != CS_OK)
            continue;
        if (cJSON_IsNumber(tx) && tx->valuedouble >= INT32_MIN && tx->valuedouble <= INT32_MAX) {
            p.has_tx = true;
            p.tx_id = (int32_t)tx->valuedouble;
        }
        struct chp_ctx x = conn_ctx(ch, p.conn);
        if (!chprof_install(&get(ch)->set, &p, &x, &err))
            log_debug("%s: saved profile %d not restored: %s", ch->m.id, (int)p.id, err.msg);
    }
    /* A connector suspended at 0 W when it was saved resumes when its limit rises. */
    for (int i = 1; ch->sm && i <= ch->m.nconn; i++)
        ch->sm->suspended[i] = ch->m.conn[i].status == ST_SUSPENDED_EVSE && ch->m.conn[i].tx_active;
    smart_update(ch);
}

int smart_count(const struct charger_rt *ch)
{
    return ch->sm ? ch->sm->set.n : 0;
}

void smart_free(struct charger_rt *ch)
{
    struct smart *s = ch->sm;
    if (!s)
        return;
    chprof_free(&s->set);
    for (int i = 0; i <= CHARGER_MAX_CONN; i++)
        cs_free(s->remote[i]);
    event_free(s->ev);
    cs_free(s);
    ch->sm = NULL;
}
