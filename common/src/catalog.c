/* catalog.c - built-in OCPP 1.6 messages and their payload builders. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/catalog.h"
#include "cs/charger.h"
#include "cs/ocpp.h"
#include "cs/mem.h"
#include "cs/util.h"

#include "catalog_int.h"

const char *take_override(struct mw *w, const char *key)
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

void f_str(struct mw *w, const char *key, const char *val)
{
    const char *o = take_override(w, key);
    jw_kstr(&w->jw, key, o ? o : val);
}

void f_int(struct mw *w, const char *key, int64_t val)
{
    const char *o = take_override(w, key);
    if (o && !cs_parse_i64(o, INT32_MIN, INT32_MAX, &val) && !w->rc)
        w->rc = cs_error_set(w->err, CS_ERR_PARSE, "field %s: '%.*s' is not an integer", key,
                             CS_UTF8_CLIP(o, 40));
    jw_kint(&w->jw, key, val);
}

/* The transactionId the charger chose, marked so a confirmed one can replace it. */
void f_tx_id(struct mw *w, int64_t val)
{
    if (take_override(w, "transactionId")) {
        f_int(w, "transactionId", val); /* the operator's value stands: nothing to confirm */
        return;
    }
    jw_key(&w->jw, "transactionId");
    size_t at = w->jw.b->len;
    jw_int(&w->jw, val);
    w->marks.tx_at = at - w->start;
    w->marks.tx_len = w->jw.b->len - at;
}

void f_time(struct mw *w, const char *key, int64_t ms)
{
    char ts[32];
    f_str(w, key, cs_fmt_iso8601(ts, sizeof(ts), ms));
}

/* ---- builders ------------------------------------------------------------------------------ */

static void build_boot(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "chargePointVendor", x->cfg->vendor);
    f_str(w, "chargePointModel", x->cfg->model);
    char serial[26];
    cs_strlcpy(serial, x->ch->id, sizeof(serial)); /* chargePointSerialNumber: 25 chars */
    f_str(w, "chargePointSerialNumber", serial);
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

size_t meter_samples(const struct msg_ctx *x, struct sample out[SAMPLES_MAX])
{
    int conn = x->connector > 0 ? x->connector : 1;
    const struct connector *c = &x->ch->conn[conn];
    const char *m = x->cfg->measurands;
    size_t n = 0;
    if (cfg_set_has(m, "Energy.Active.Import.Register"))
        out[n++] = (struct sample){"Energy.Active.Import.Register", "Outlet", "Wh",
                                   (double)charger_wh(c->meter_wh), 0};
    if (cfg_set_has(m, "Power.Active.Import"))
        out[n++] = (struct sample){"Power.Active.Import", "Outlet", "W", c->power_w, 0};
    /* Currents are per phase: power / (voltage x phases). */
    double per_amp = (double)x->cfg->voltage_v * (x->cfg->phases > 0 ? x->cfg->phases : 1);
    if (cfg_set_has(m, "Current.Import"))
        out[n++] = (struct sample){"Current.Import", "Outlet", "A", c->power_w / per_amp, 1};
    if (cfg_set_has(m, "Voltage"))
        out[n++] = (struct sample){"Voltage", "Outlet", "V", x->cfg->voltage_v, 0};
    /* What the charger offers: its maximum, or the smart charging limit when lower. */
    double offered = charger_offered_w(c, x->cfg->max_kw);
    if (cfg_set_has(m, "Power.Offered"))
        out[n++] = (struct sample){"Power.Offered", "Outlet", "W", offered, 0};
    if (cfg_set_has(m, "Current.Offered"))
        out[n++] = (struct sample){"Current.Offered", "Outlet", "A", offered / per_amp, 1};
    if (cfg_set_has(m, "SoC") && c->tx_active)
        out[n++] = (struct sample){"SoC", "EV", "Percent",
                                   charger_soc(x->ch, conn, x->cfg->battery_kwh), 0};
    return n;
}

/* One MeterValue object: timestamp and the configured measurands of a connector, each value
 * a string. */
static void meter_value(struct jw *j, const struct msg_ctx *x, const char *ctx)
{
    struct sample sv[SAMPLES_MAX];
    size_t n = meter_samples(x, sv);
    char ts[32], v[32];
    jw_obj(j);
    jw_kstr(j, "timestamp", cs_fmt_iso8601(ts, sizeof(ts), x->now_ms));
    jw_key(j, "sampledValue");
    jw_arr(j);
    for (size_t i = 0; i < n; i++) {
        snprintf(v, sizeof(v), "%.*f", sv[i].decimals, sv[i].value);
        sampled(j, v, ctx, sv[i].measurand, sv[i].location, sv[i].unit);
    }
    jw_end(j);
    jw_end(j);
}

static void build_meter(struct mw *w, const struct msg_ctx *x)
{
    f_int(w, "connectorId", x->connector);
    if (x->tx_id)
        f_tx_id(w, x->tx_id);
    const char *o = take_override(w, "meterValue");
    jw_key(&w->jw, "meterValue");
    if (o) {
        jw_guess(&w->jw, o);
        return;
    }
    jw_arr(&w->jw);
    meter_value(&w->jw, x, x->context ? x->context : "Sample.Periodic");
    jw_end(&w->jw);
}

static void id_tag(struct mw *w, const struct msg_ctx *x)
{
    char tag[21];
    cs_strlcpy(tag, x->id_tag && *x->id_tag ? x->id_tag : "UNKNOWN", sizeof(tag));
    f_str(w, "idTag", tag);
}

static void build_authorize(struct mw *w, const struct msg_ctx *x)
{
    id_tag(w, x);
}

static void build_start_tx(struct mw *w, const struct msg_ctx *x)
{
    f_int(w, "connectorId", x->connector);
    id_tag(w, x);
    f_int(w, "meterStart", charger_wh(x->meter_wh));
    if (x->has_reservation)
        f_int(w, "reservationId", x->reservation_id);
    f_time(w, "timestamp", x->now_ms);
}

static void build_stop_tx(struct mw *w, const struct msg_ctx *x)
{
    f_tx_id(w, x->tx_id);
    if (x->id_tag && *x->id_tag)
        id_tag(w, x);
    f_int(w, "meterStop", charger_wh(x->meter_wh));
    f_time(w, "timestamp", x->now_ms);
    f_str(w, "reason", x->reason ? x->reason : "Local");
    const char *o = take_override(w, "transactionData");
    jw_key(&w->jw, "transactionData");
    if (o) {
        jw_guess(&w->jw, o);
        return;
    }
    jw_arr(&w->jw);
    meter_value(&w->jw, x, "Transaction.End");
    jw_end(&w->jw);
}

static void build_data_transfer(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "vendorId", x->vendor_id ? x->vendor_id : x->cfg->vendor);
    if (x->message_id)
        f_str(w, "messageId", x->message_id);
    if (x->data)
        f_str(w, "data", x->data);
}

static const char *const firmware_statuses[] = {
    "Downloaded",         "DownloadFailed", "Downloading", "Idle",
    "InstallationFailed", "Installing",     "Installed",   NULL};
static const char *const diagnostics_statuses[] = {"Idle", "Uploaded", "UploadFailed", "Uploading",
                                                   NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

bool catalog_firmware_status_valid(const char *s)
{
    return in_list(firmware_statuses, s);
}

bool catalog_diagnostics_status_valid(const char *s)
{
    return in_list(diagnostics_statuses, s);
}

static void build_firmware_status(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "status", x->status ? x->status : "Idle");
}

static void build_diagnostics_status(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "status", x->status ? x->status : "Idle");
}

static const struct msg_def catalog[] = {
    [MSG_BOOT_NOTIFICATION] = {"BootNotification", MSG_BOOT_NOTIFICATION, 0, build_boot},
    [MSG_HEARTBEAT] = {"Heartbeat", MSG_HEARTBEAT, 0, build_heartbeat},
    [MSG_STATUS_NOTIFICATION] = {"StatusNotification", MSG_STATUS_NOTIFICATION, MT_CONNECTOR,
                                 build_status},
    [MSG_METER_VALUES] = {"MeterValues", MSG_METER_VALUES, MT_CONNECTOR | MT_TX_IF_OPEN,
                          build_meter},
    [MSG_AUTHORIZE] = {"Authorize", MSG_AUTHORIZE, 0, build_authorize},
    [MSG_START_TRANSACTION] = {"StartTransaction", MSG_START_TRANSACTION, MT_CONNECTOR | MT_TX,
                               build_start_tx},
    [MSG_STOP_TRANSACTION] = {"StopTransaction", MSG_STOP_TRANSACTION, MT_CONNECTOR | MT_TX,
                              build_stop_tx},
    [MSG_DATA_TRANSFER] = {"DataTransfer", MSG_DATA_TRANSFER, 0, build_data_transfer},
    [MSG_FIRMWARE_STATUS] = {"FirmwareStatusNotification", MSG_FIRMWARE_STATUS, 0,
                             build_firmware_status},
    [MSG_DIAGNOSTICS_STATUS] = {"DiagnosticsStatusNotification", MSG_DIAGNOSTICS_STATUS, 0,
                                build_diagnostics_status},
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

bool catalog_name_valid(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l > CATALOG_NAME_MAX)
        return false;
    for (size_t i = 0; i < l; i++)
        if (!(isalnum((unsigned char)n[i]) || n[i] == '_'))
            return false;
    return true;
}

const char *catalog_names(void)
{
    static char names[512];
    if (!names[0]) {
        size_t at = 0;
        for (size_t i = 0; i < ARRAY_SIZE(catalog) && at < sizeof(names); i++)
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? ", " : "",
                                   catalog[i].name);
    }
    return names;
}

int catalog_build_payload(const struct msg_def *m, const struct msg_ctx *ctx, struct buf *out,
                          struct cs_error *err)
{
    return catalog_build_payload_marked(m, ctx, out, NULL, err);
}

int catalog_build_payload_marked(const struct msg_def *m, const struct msg_ctx *ctx,
                                 struct buf *out, struct msg_marks *marks, struct cs_error *err)
{
    size_t mark = out->len;
    struct mw w = {.over = ctx->over, .err = err, .start = mark};

    if (ctx->connector < 0 || ctx->connector > ctx->ch->nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (0..%d)", m->name,
                            ctx->connector, ctx->ch->nconn);
    if (ctx->over && ctx->over->n > 64)
        return cs_error_set(err, CS_ERR_TOO_BIG, "%s: more than 64 field overrides", m->name);
    jw_init(&w.jw, out);
    jw_obj(&w.jw);
    w.top = w.jw.depth;
    m->build(&w, ctx);
    for (size_t i = 0; ctx->over && i < ctx->over->n; i++) {
        if (w.used & (1ull << i))
            continue;
        jw_key(&w.jw, ctx->over->v[i].key);
        jw_guess(&w.jw, ctx->over->v[i].val);
    }
    jw_end(&w.jw);
    if (w.rc) {
        out->len = mark;
        if (out->s)
            out->s[mark] = '\0';
    } else if (marks) {
        *marks = w.marks;
    }
    return w.rc;
}

int catalog_build_call(const struct msg_def *m, const struct msg_ctx *ctx, const char *uid,
                       struct buf *out, struct cs_error *err)
{
    struct buf payload = BUF_INIT;
    int rc = catalog_build_payload(m, ctx, &payload, err);
    if (rc == CS_OK)
        ocpp_encode_call(PROFILE_OCPP16J, uid, m->name, ctx->now_ms, payload.s, payload.len, out);
    buf_free(&payload);
    return rc;
}
