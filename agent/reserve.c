/* reserve.c - reservations of a charger (reserve.h). [loop] */
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "authz.h"
#include "crt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "emit.h"
#include "persist.h"
#include "reserve.h"

struct reservation {
    bool active;
    int32_t id;
    char id_tag[21];
    char parent[21];
    int64_t expiry_ms; /* wall clock */
};

struct resv {
    struct reservation r[CHARGER_MAX_CONN + 1]; /* by connector; [0]: the charge point */
    struct event *ev;                           /* the next expiry */
};

static int by_id(const struct charger_rt *ch, int32_t id)
{
    for (int i = 0; ch->rv && i <= CHARGER_MAX_CONN; i++)
        if (ch->rv->r[i].active && ch->rv->r[i].id == id)
            return i;
    return -1;
}

static int get_int(const cJSON *req, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    return cJSON_IsNumber(v) && v->valuedouble >= INT32_MIN && v->valuedouble <= INT32_MAX
               ? (int)v->valuedouble
               : -1;
}

static int available(const struct charger_rt *ch, int except)
{
    int n = 0;
    for (int i = 1; i <= ch->m.nconn; i++)
        n += i != except && ch->m.conn[i].status == ST_AVAILABLE;
    return n;
}

/* A connector's answer from its status (7.39 ReservationStatus). */
static const char *status_answer(enum ocpp_status s)
{
    switch (s) {
    case ST_AVAILABLE:
        return "Accepted";
    case ST_FAULTED:
        return "Faulted";
    case ST_UNAVAILABLE:
        return "Unavailable";
    default:
        return "Occupied";
    }
}

const char *reserve_answer(struct charger_rt *ch, const cJSON *req)
{
    int conn = get_int(req, "connectorId");
    int32_t id = get_int(req, "reservationId");
    int64_t expiry;
    if (conn < 0 || conn > ch->m.nconn || (conn == 0 && !crt_cfg(ch)->reserve_connector_zero))
        return "Rejected";
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(req, "expiryDate");
    if (!cJSON_IsString(exp) || !ocpp_datetime_parse(exp->valuestring, &expiry) ||
        expiry <= cs_now_ms())
        return "Rejected";
    int held = by_id(ch, id);
    if (held == conn)
        return "Accepted"; /* the same reservation again: it is replaced */
    if (held >= 0)
        return "Rejected"; /* that id holds another connector */
    if (ch->rv && ch->rv->r[conn].active)
        return "Occupied";
    if (conn > 0)
        return status_answer(ch->m.conn[conn].status);
    enum ocpp_status cp = ch->m.conn[0].status;
    if (cp != ST_AVAILABLE)
        return status_answer(cp);
    return available(ch, 0) > 0 ? "Accepted" : "Occupied";
}

static void end(struct charger_rt *ch, int conn, const char *why)
{
    struct reservation *r = &ch->rv->r[conn];
    struct cs_error err;
    log_debug("%s: reservation %d on connector %d %s", ch->m.id, (int)r->id, conn, why);
    r->active = false;
    persist_mark_installed(ch);
    if (conn > 0 && ch->m.conn[conn].status == ST_RESERVED &&
        charger_event(&ch->m, conn, CE_UNRESERVE, crt_cfg(ch)->max_kw, cs_now_ms(), NULL, &err) ==
            CS_OK)
        emit_status(ch, conn, NULL);
}

static void arm(struct charger_rt *ch)
{
    int64_t next = 0;
    for (int i = 0; i <= CHARGER_MAX_CONN; i++)
        if (ch->rv->r[i].active && (!next || ch->rv->r[i].expiry_ms < next))
            next = ch->rv->r[i].expiry_ms;
    if (!next) {
        evtimer_del(ch->rv->ev);
        return;
    }
    int64_t now = cs_now_ms();
    ctx_arm(ch->rv->ev, next > now ? next - now : 0);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = arg;
    int64_t now = cs_now_ms();
    for (int i = 0; i <= CHARGER_MAX_CONN; i++)
        if (ch->rv->r[i].active && ch->rv->r[i].expiry_ms <= now)
            end(ch, i, "expired");
    arm(ch);
}

static struct resv *get(struct charger_rt *ch)
{
    if (!ch->rv) {
        ch->rv = cs_calloc(1, sizeof(*ch->rv));
        ch->rv->ev = evtimer_new(crt_ctx(ch)->base, on_expiry, ch);
    }
    return ch->rv;
}

void reserve_apply(struct charger_rt *ch, const cJSON *req)
{
    if (strcmp(reserve_answer(ch, req), "Accepted") != 0)
        return; /* changed since the answer went out */
    get(ch);
    int conn = get_int(req, "connectorId");
    struct reservation *r = &ch->rv->r[conn];
    const cJSON *parent = cJSON_GetObjectItemCaseSensitive(req, "parentIdTag");
    memset(r, 0, sizeof(*r));
    r->active = true;
    r->id = get_int(req, "reservationId");
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(req, "idTag");
    cs_strlcpy(r->id_tag, cJSON_IsString(tag) ? tag->valuestring : "", sizeof(r->id_tag));
    cs_strlcpy(r->parent, cJSON_IsString(parent) ? parent->valuestring : "", sizeof(r->parent));
    ocpp_datetime_parse(cJSON_GetObjectItemCaseSensitive(req, "expiryDate")->valuestring,
                        &r->expiry_ms); /* read by reserve_answer just above */
    struct cs_error err;
    if (conn > 0 && ch->m.conn[conn].status == ST_AVAILABLE &&
        charger_event(&ch->m, conn, CE_RESERVE, crt_cfg(ch)->max_kw, cs_now_ms(), NULL, &err) ==
            CS_OK)
        emit_status(ch, conn, NULL);
    persist_mark_installed(ch);
    arm(ch);
}

bool reserve_held(const struct charger_rt *ch, int32_t id)
{
    return by_id(ch, id) >= 0;
}

void reserve_cancel(struct charger_rt *ch, int32_t id)
{
    int conn = by_id(ch, id);
    if (conn < 0)
        return;
    end(ch, conn, "cancelled");
    arm(ch);
}

bool reserve_holds(const struct charger_rt *ch, int conn)
{
    return ch->rv && conn >= 1 && conn <= CHARGER_MAX_CONN && ch->rv->r[conn].active;
}

/* Whether id_tag may use reservation r: 1 yes, 0 no, 2 when only the platform can tell (r is
 * for a group and the idTag's group is unknown here: an Authorize must name it, 5.13). */
static int matches(struct charger_rt *ch, const struct reservation *r, const char *id_tag)
{
    if (strcmp(r->id_tag, id_tag) == 0)
        return 1;
    if (!r->parent[0])
        return 0;
    const char *parent = authz_parent(ch, id_tag);
    return *parent ? strcmp(parent, r->parent) == 0 : 2;
}

bool reserve_allows(struct charger_rt *ch, int conn, const char *id_tag, bool *has, int32_t *id,
                    char group[21])
{
    *has = false;
    if (group)
        group[0] = '\0';
    if (!ch->rv || conn < 1 || conn > ch->m.nconn)
        return true;
    const struct reservation *own = &ch->rv->r[conn], *cp = &ch->rv->r[0];
    const struct reservation *use = own->active ? own : cp->active ? cp : NULL;
    int m = use ? matches(ch, use, id_tag) : 0;
    if (m) {
        *has = true;
        *id = use->id;
        if (m == 2 && group)
            cs_strlcpy(group, use->parent, 21);
        return true;
    }
    if (own->active)
        return false;
    /* Anyone else leaves an Available connector for the charge point's reservation. */
    return !cp->active || available(ch, conn) > 0;
}

void reserve_used(struct charger_rt *ch, int32_t id)
{
    int conn = by_id(ch, id);
    if (conn < 0)
        return;
    end(ch, conn, "used"); /* Available again if it was another connector, still Reserved */
    arm(ch);
}

void reserve_save(const struct charger_rt *ch, struct jw *w)
{
    jw_arr(w);
    for (int i = 0; ch->rv && i <= CHARGER_MAX_CONN; i++) {
        const struct reservation *r = &ch->rv->r[i];
        if (!r->active)
            continue;
        jw_obj(w);
        jw_kint(w, "c", i);
        jw_kint(w, "id", r->id);
        jw_kstr(w, "tag", r->id_tag);
        jw_kstr(w, "parent", r->parent);
        jw_kint(w, "exp", r->expiry_ms);
        jw_end(w);
    }
    jw_end(w);
}

static bool saved_int(const cJSON *o, const char *k, double lo, double hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

void reserve_restore(struct charger_rt *ch, const cJSON *saved)
{
    const cJSON *o;
    int64_t now = cs_now_ms(), conn, id, exp;
    cJSON_ArrayForEach(o, saved)
    {
        const cJSON *tag = cJSON_GetObjectItemCaseSensitive(o, "tag");
        const cJSON *parent = cJSON_GetObjectItemCaseSensitive(o, "parent");
        if (!saved_int(o, "c", 0, CHARGER_MAX_CONN, &conn) ||
            !saved_int(o, "id", INT32_MIN, INT32_MAX, &id) || !saved_int(o, "exp", 0, 1e15, &exp) ||
            !cJSON_IsString(tag) || !cJSON_IsString(parent) || exp <= now)
            continue;
        struct reservation *r = &get(ch)->r[conn];
        r->active = true;
        r->id = (int32_t)id;
        r->expiry_ms = exp;
        cs_strlcpy(r->id_tag, tag->valuestring, sizeof(r->id_tag));
        cs_strlcpy(r->parent, parent->valuestring, sizeof(r->parent));
        if (conn > 0 && conn <= ch->m.nconn && ch->m.conn[conn].status == ST_AVAILABLE)
            ch->m.conn[conn].status = ST_RESERVED; /* reported with the statuses at connect */
    }
    if (ch->rv)
        arm(ch);
}

int reserve_count(const struct charger_rt *ch)
{
    int n = 0;
    for (int i = 0; ch->rv && i <= CHARGER_MAX_CONN; i++)
        n += ch->rv->r[i].active;
    return n;
}

void reserve_free(struct charger_rt *ch)
{
    if (!ch->rv)
        return;
    event_free(ch->rv->ev);
    cs_free(ch->rv);
    ch->rv = NULL;
}
