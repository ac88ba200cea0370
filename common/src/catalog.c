/* catalog.c - built-in OCPP 1.6 messages and their payload builders. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/catalog.h"
#include "cs/mem.h"
#include "cs/util.h"

/* Payload writer: a JSON writer that lets top-level overrides replace builder values. */
struct mw {
    struct jw jw;
    const struct kvlist *over;
    uint64_t used; /* bit i: override i was consumed */
    int top;       /* jw depth of the payload object */
    struct cs_error *err;
    int rc;
};

static const char *take_override(struct mw *w, const char *key)
{
    if (!w->over || w->jw.depth != w->top)
        return NULL;
    for (size_t i = 0; i < w->over->n && i < 64; i++) {
        if (strcmp(w->over->v[i].key, key) == 0) {
            w->used |= 1ull << i;
            return w->over->v[i].val;
        }
    }
    return NULL;
}

/* True when s is a number in JSON's grammar, so it can be inserted verbatim (strtod also takes
 * ".5", "5.", "+1", "0x10" and "01", which are not JSON). */
static bool json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (isdigit((unsigned char)*p))
        while (isdigit((unsigned char)*p))
            p++;
    else
        return false;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* Writes an override whose type is guessed from its text: number, boolean, null, JSON object
 * or array, else string. */
static void write_guessed(struct mw *w, const char *v)
{
    int64_t i;
    double d;
    bool b;
    if (cs_parse_i64(v, INT64_MIN / 2, INT64_MAX / 2, &i)) {
        jw_int(&w->jw, i);
    } else if (json_number(v) && cs_parse_double(v, -1e300, 1e300, &d)) {
        jw_raw(&w->jw, v, strlen(v));
    } else if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        cs_parse_bool(v, &b);
        jw_bool(&w->jw, b);
    } else if (strcmp(v, "null") == 0) {
        jw_null(&w->jw);
    } else if (v[0] == '{' || v[0] == '[') {
        cJSON *j = cJSON_ParseWithOpts(v, NULL, true); /* nothing may follow the value */
        char *s = j ? cJSON_PrintUnformatted(j) : NULL;
        if (s)
            jw_raw(&w->jw, s, strlen(s));
        else
            jw_str(&w->jw, v);
        cJSON_free(s);
        cJSON_Delete(j);
    } else {
        jw_str(&w->jw, v);
    }
}

static void f_str(struct mw *w, const char *key, const char *val)
{
    const char *o = take_override(w, key);
    jw_kstr(&w->jw, key, o ? o : val);
}

static void f_int(struct mw *w, const char *key, int64_t val)
{
    const char *o = take_override(w, key);
    if (o && !cs_parse_i64(o, INT32_MIN, INT32_MAX, &val) && !w->rc)
        w->rc = cs_error_set(w->err, CS_ERR_PARSE, "field %s: '%.40s' is not an integer", key, o);
    jw_kint(&w->jw, key, val);
}

static void f_time(struct mw *w, const char *key, int64_t ms)
{
    char ts[32];
    f_str(w, key, cs_fmt_iso8601(ts, sizeof(ts), ms));
}

/* ---- builders ------------------------------------------------------------------------------ */

static void build_boot(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "chargePointVendor", x->cfg->vendor);
    f_str(w, "chargePointModel", x->cfg->model);
    f_str(w, "chargePointSerialNumber", x->ch->id);
    if (x->cfg->firmware[0])
        f_str(w, "firmwareVersion", x->cfg->firmware);
}

static void build_heartbeat(struct mw *w, const struct msg_ctx *x)
{
    (void)w;
    (void)x;
}

static void build_status(struct mw *w, const struct msg_ctx *x)
{
    const struct connector *c = &x->ch->conn[x->connector];
    f_int(w, "connectorId", x->connector);
    f_str(w, "errorCode", ocpp_error_name(c->error));
    f_str(w, "status", ocpp_status_name(c->status));
    f_time(w, "timestamp", x->now_ms);
}

static void sampled(struct jw *j, const char *value, const char *context, const char *measurand,
                    const char *location, const char *unit)
{
    jw_obj(j);
    jw_kstr(j, "value", value);
    jw_kstr(j, "context", context);
    jw_kstr(j, "measurand", measurand);
    if (location)
        jw_kstr(j, "location", location);
    jw_kstr(j, "unit", unit);
    jw_end(j);
}

static void build_meter(struct mw *w, const struct msg_ctx *x)
{
    const struct connector *c = &x->ch->conn[x->connector];
    const char *ctx = x->context ? x->context : "Sample.Periodic";
    char ts[32], v[32];

    f_int(w, "connectorId", x->connector);
    const char *o = take_override(w, "meterValue");
    if (o) {
        jw_key(&w->jw, "meterValue");
        write_guessed(w, o);
        return;
    }
    jw_key(&w->jw, "meterValue");
    jw_arr(&w->jw);
    jw_obj(&w->jw);
    jw_kstr(&w->jw, "timestamp", cs_fmt_iso8601(ts, sizeof(ts), x->now_ms));
    jw_key(&w->jw, "sampledValue");
    jw_arr(&w->jw);
    snprintf(v, sizeof(v), "%.0f", c->meter_wh);
    sampled(&w->jw, v, ctx, "Energy.Active.Import.Register", "Outlet", "Wh");
    snprintf(v, sizeof(v), "%.0f", c->power_w);
    sampled(&w->jw, v, ctx, "Power.Active.Import", "Outlet", "W");
    snprintf(v, sizeof(v), "%d", x->cfg->voltage_v);
    sampled(&w->jw, v, ctx, "Voltage", "Outlet", "V");
    jw_end(&w->jw);
    jw_end(&w->jw);
    jw_end(&w->jw);
}

static const struct msg_def catalog[] = {
    [MSG_BOOT_NOTIFICATION] = {"BootNotification", MSG_BOOT_NOTIFICATION, build_boot},
    [MSG_HEARTBEAT] = {"Heartbeat", MSG_HEARTBEAT, build_heartbeat},
    [MSG_STATUS_NOTIFICATION] = {"StatusNotification", MSG_STATUS_NOTIFICATION, build_status},
    [MSG_METER_VALUES] = {"MeterValues", MSG_METER_VALUES, build_meter},
};
_Static_assert(ARRAY_SIZE(catalog) == MSG__COUNT, "catalog out of step with enum msg_id");

const struct msg_def *catalog_get(enum msg_id id)
{
    return (unsigned)id < MSG__COUNT ? &catalog[id] : NULL;
}

const struct msg_def *catalog_lookup(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(catalog); i++)
        if (strcmp(catalog[i].name, name) == 0)
            return &catalog[i];
    return NULL;
}

const char *catalog_names(void)
{
    return "BootNotification, Heartbeat, StatusNotification, MeterValues";
}

int catalog_build_call(const struct msg_def *m, const struct msg_ctx *ctx, const char *uid,
                       struct buf *out, struct cs_error *err)
{
    size_t mark = out->len;
    struct mw w = {.over = ctx->over, .err = err};

    if (ctx->connector < 0 || ctx->connector > ctx->ch->nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (0..%d)",
                            m->name, ctx->connector, ctx->ch->nconn);
    if (ctx->over && ctx->over->n > 64)
        return cs_error_set(err, CS_ERR_TOO_BIG, "%s: more than 64 field overrides", m->name);
    jw_init(&w.jw, out);
    jw_arr(&w.jw);
    jw_int(&w.jw, 2);
    jw_str(&w.jw, uid);
    jw_str(&w.jw, m->name);
    jw_obj(&w.jw);
    w.top = w.jw.depth;
    m->build(&w, ctx);
    for (size_t i = 0; ctx->over && i < ctx->over->n; i++) {
        if (w.used & (1ull << i))
            continue;
        jw_key(&w.jw, ctx->over->v[i].key);
        write_guessed(&w, ctx->over->v[i].val);
    }
    jw_end(&w.jw);
    jw_end(&w.jw);
    if (w.rc) {
        out->len = mark;
        if (out->s)
            out->s[mark] = '\0';
    }
    return w.rc;
}
