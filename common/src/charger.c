/* charger.c - OCPP 1.6 connector model and energy integration. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs/charger.h"
#include "cs/mem.h"
#include "cs/util.h"

static const char *const status_names[] = {
    [ST_AVAILABLE] = "Available",
    [ST_PREPARING] = "Preparing",
    [ST_CHARGING] = "Charging",
    [ST_SUSPENDED_EV] = "SuspendedEV",
    [ST_SUSPENDED_EVSE] = "SuspendedEVSE",
    [ST_FINISHING] = "Finishing",
    [ST_RESERVED] = "Reserved",
    [ST_UNAVAILABLE] = "Unavailable",
    [ST_FAULTED] = "Faulted",
};
_Static_assert(ARRAY_SIZE(status_names) == ST__COUNT, "status_names out of step");

static const char *const error_names[] = {
    [OE_CONNECTOR_LOCK_FAILURE] = "ConnectorLockFailure",
    [OE_EV_COMMUNICATION_ERROR] = "EVCommunicationError",
    [OE_GROUND_FAILURE] = "GroundFailure",
    [OE_HIGH_TEMPERATURE] = "HighTemperature",
    [OE_INTERNAL_ERROR] = "InternalError",
    [OE_LOCAL_LIST_CONFLICT] = "LocalListConflict",
    [OE_NO_ERROR] = "NoError",
    [OE_OTHER_ERROR] = "OtherError",
    [OE_OVER_CURRENT_FAILURE] = "OverCurrentFailure",
    [OE_OVER_VOLTAGE] = "OverVoltage",
    [OE_POWER_METER_FAILURE] = "PowerMeterFailure",
    [OE_POWER_SWITCH_FAILURE] = "PowerSwitchFailure",
    [OE_READER_FAILURE] = "ReaderFailure",
    [OE_RESET_FAILURE] = "ResetFailure",
    [OE_UNDER_VOLTAGE] = "UnderVoltage",
    [OE_WEAK_SIGNAL] = "WeakSignal",
};
_Static_assert(ARRAY_SIZE(error_names) == OE__COUNT, "error_names out of step");

const char *ocpp_status_names(void)
{
    static char names[160];
    if (!names[0]) {
        size_t at = 0;
        for (int i = 0; i < ST__COUNT && at < sizeof(names); i++)
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? ", " : "",
                                   status_names[i]);
    }
    return names;
}

const char *ocpp_status_name(enum ocpp_status s)
{
    return (unsigned)s < ST__COUNT ? status_names[s] : "Unknown";
}

bool ocpp_status_parse(const char *name, enum ocpp_status *out)
{
    for (int i = 0; i < ST__COUNT; i++)
        if (strcmp(status_names[i], name) == 0)
            return *out = (enum ocpp_status)i, true;
    return false;
}

const char *ocpp_error_name(enum ocpp_error e)
{
    return (unsigned)e < OE__COUNT ? error_names[e] : "OtherError";
}

bool ocpp_error_parse(const char *name, enum ocpp_error *out)
{
    for (int i = 0; i < OE__COUNT; i++)
        if (strcmp(error_names[i], name) == 0)
            return *out = (enum ocpp_error)i, true;
    return false;
}

static const char *const reason_names[] = {
    [SR_EMERGENCY_STOP] = "EmergencyStop",
    [SR_EV_DISCONNECTED] = "EVDisconnected",
    [SR_HARD_RESET] = "HardReset",
    [SR_LOCAL] = "Local",
    [SR_OTHER] = "Other",
    [SR_POWER_LOSS] = "PowerLoss",
    [SR_REBOOT] = "Reboot",
    [SR_REMOTE] = "Remote",
    [SR_SOFT_RESET] = "SoftReset",
    [SR_UNLOCK_COMMAND] = "UnlockCommand",
    [SR_DEAUTHORIZED] = "DeAuthorized",
};
_Static_assert(ARRAY_SIZE(reason_names) == SR__COUNT, "reason_names out of step");

static const char *const event_names[] = {
    [CE_PLUG] = "plug",
    [CE_UNPLUG] = "unplug",
    [CE_START] = "start",
    [CE_STOP] = "stop",
    [CE_SUSPEND_EV] = "suspend-ev",
    [CE_SUSPEND_EVSE] = "suspend-evse",
    [CE_RESUME] = "resume",
    [CE_FAULT] = "fault",
    [CE_CLEAR] = "clear",
    [CE_RESERVE] = "reserve",
    [CE_UNRESERVE] = "unreserve",
    [CE_INOPERATIVE] = "inoperative",
    [CE_OPERATIVE] = "operative",
};
_Static_assert(ARRAY_SIZE(event_names) == CE__COUNT, "event_names out of step");

const char *stop_reason_name(enum stop_reason r)
{
    return (unsigned)r < SR__COUNT ? reason_names[r] : "Other";
}

bool stop_reason_parse(const char *name, enum stop_reason *out)
{
    for (int i = 0; i < SR__COUNT; i++)
        if (strcmp(reason_names[i], name) == 0)
            return *out = (enum stop_reason)i, true;
    return false;
}

const char *conn_event_name(enum conn_event e)
{
    return (unsigned)e < CE__COUNT ? event_names[e] : "?";
}

#define M(s) (1u << (s))
#define ANY_TX (M(ST_CHARGING) | M(ST_SUSPENDED_EV) | M(ST_SUSPENDED_EVSE))

/* OCPP 1.6 section 4.9: from (row) -> to (bits) a StatusNotification may report. */
static const unsigned legal[ST__COUNT] = {
    [ST_AVAILABLE] = M(ST_PREPARING) | ANY_TX | M(ST_RESERVED) | M(ST_UNAVAILABLE) | M(ST_FAULTED),
    [ST_PREPARING] = M(ST_AVAILABLE) | ANY_TX | M(ST_FINISHING) | M(ST_FAULTED),
    [ST_CHARGING] = M(ST_AVAILABLE) | M(ST_SUSPENDED_EV) | M(ST_SUSPENDED_EVSE) | M(ST_FINISHING) |
                    M(ST_UNAVAILABLE) | M(ST_FAULTED),
    [ST_SUSPENDED_EV] = M(ST_AVAILABLE) | M(ST_CHARGING) | M(ST_SUSPENDED_EVSE) | M(ST_FINISHING) |
                        M(ST_UNAVAILABLE) | M(ST_FAULTED),
    [ST_SUSPENDED_EVSE] = M(ST_AVAILABLE) | M(ST_CHARGING) | M(ST_SUSPENDED_EV) | M(ST_FINISHING) |
                          M(ST_UNAVAILABLE) | M(ST_FAULTED),
    [ST_FINISHING] = M(ST_AVAILABLE) | M(ST_PREPARING) | M(ST_UNAVAILABLE) | M(ST_FAULTED),
    [ST_RESERVED] = M(ST_AVAILABLE) | M(ST_PREPARING) | M(ST_UNAVAILABLE) | M(ST_FAULTED),
    [ST_UNAVAILABLE] = M(ST_AVAILABLE) | M(ST_PREPARING) | ANY_TX | M(ST_FAULTED),
    [ST_FAULTED] = M(ST_AVAILABLE) | M(ST_PREPARING) | ANY_TX | M(ST_FINISHING) | M(ST_RESERVED) |
                   M(ST_UNAVAILABLE),
};

/* What happens to a connector, as data. Order matters only for readability: (from, ev) pairs
 * are unique (checked by the unit tests). */
static const struct transition table[] = {
    {M(ST_AVAILABLE) | M(ST_RESERVED), CE_PLUG, ST_PREPARING, 0},
    {M(ST_UNAVAILABLE) | M(ST_FAULTED), CE_PLUG, ST_SAME, 0}, /* status stays; the cable is noted */
    {M(ST_PREPARING) | M(ST_FINISHING), CE_UNPLUG, ST_AVAILABLE, 0},
    {ANY_TX, CE_UNPLUG, ST_AVAILABLE, CA_STOP_TX},
    {M(ST_UNAVAILABLE) | M(ST_FAULTED), CE_UNPLUG, ST_SAME, 0},
    {M(ST_PREPARING), CE_START, ST_CHARGING, CA_START_TX},
    {ANY_TX, CE_STOP, ST_FINISHING, CA_STOP_TX},
    {M(ST_CHARGING) | M(ST_SUSPENDED_EVSE), CE_SUSPEND_EV, ST_SUSPENDED_EV, 0},
    {M(ST_CHARGING) | M(ST_SUSPENDED_EV), CE_SUSPEND_EVSE, ST_SUSPENDED_EVSE, 0},
    {M(ST_SUSPENDED_EV) | M(ST_SUSPENDED_EVSE), CE_RESUME, ST_CHARGING, 0},
    {M(ST_AVAILABLE) | M(ST_PREPARING) | M(ST_FINISHING) | M(ST_RESERVED) | M(ST_UNAVAILABLE),
     CE_FAULT, ST_FAULTED, 0},
    {ANY_TX, CE_FAULT, ST_FAULTED, CA_STOP_TX},
    {M(ST_FAULTED), CE_CLEAR, ST_RESTORE, 0},
    {M(ST_AVAILABLE), CE_RESERVE, ST_RESERVED, 0},
    {M(ST_RESERVED), CE_UNRESERVE, ST_AVAILABLE, 0},
    /* not from Preparing: OCPP 1.6 has no Preparing -> Unavailable transition */
    {M(ST_AVAILABLE) | M(ST_FINISHING) | M(ST_RESERVED), CE_INOPERATIVE, ST_UNAVAILABLE, 0},
    {M(ST_UNAVAILABLE), CE_OPERATIVE, ST_RESTORE, 0},
};

const struct transition *charger_transitions(size_t *n)
{
    *n = ARRAY_SIZE(table);
    return table;
}

bool ocpp_transition_legal(enum ocpp_status from, enum ocpp_status to, bool charge_point)
{
    if ((unsigned)from >= ST__COUNT || (unsigned)to >= ST__COUNT)
        return false;
    if (charge_point) {
        unsigned cp = M(ST_AVAILABLE) | M(ST_UNAVAILABLE) | M(ST_FAULTED);
        return (cp & M(to)) != 0;
    }
    return from == to || (legal[from] & M(to)) != 0;
}

const struct transition *charger_transition(enum ocpp_status from, enum conn_event ev)
{
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (table[i].ev == ev && (table[i].from & M(from)))
            return &table[i];
    return NULL;
}

void charger_init(struct charger *c, uint32_t index, const char *id, int nconn, int64_t now_ms)
{
    memset(c, 0, sizeof(*c));
    c->index = index;
    cs_strlcpy(c->id, id, sizeof(c->id));
    c->nconn = nconn < 1 ? 1 : nconn > CHARGER_MAX_CONN ? CHARGER_MAX_CONN : nconn;
    for (int i = 0; i <= CHARGER_MAX_CONN; i++)
        charger_conn_reset(&c->conn[i]);
    c->integrated_ms = now_ms;
    c->time_scale = 1.0;
}

void charger_conn_reset(struct connector *k)
{
    memset(k, 0, sizeof(*k));
    k->status = ST_AVAILABLE;
    k->error = OE_NO_ERROR;
    k->cap_w = -1;
}

void charger_integrate(struct charger *c, int64_t now_ms)
{
    if (now_ms <= c->integrated_ms)
        return;
    double hours = (double)(now_ms - c->integrated_ms) / 3600000.0 * c->time_scale;
    for (int i = 1; i <= c->nconn; i++)
        c->conn[i].meter_wh += c->conn[i].power_w * hours;
    c->integrated_ms = now_ms;
}

double charger_offered_w(const struct connector *k, double max_kw)
{
    double w = max_kw * 1000.0;
    return k->cap_w >= 0 && k->cap_w < w ? k->cap_w : w;
}

static void set_power(struct connector *k, double max_kw)
{
    double w = charger_offered_w(k, max_kw);
    if (k->tx_active && k->tx.kw > 0 && k->tx.kw * 1000.0 < w)
        w = k->tx.kw * 1000.0; /* the EV takes less than offered */
    k->power_w = k->status == ST_CHARGING ? w : 0.0;
}

int charger_set_status(struct charger *c, int conn, enum ocpp_status st, enum ocpp_error e,
                       double max_kw, bool strict, int64_t now_ms, struct cs_error *err)
{
    if (conn < 0 || conn > c->nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (0..%d)", c->id,
                            conn, c->nconn);
    if (conn == 0 && !ocpp_transition_legal(c->conn[0].status, st, true))
        return cs_error_set(err, CS_ERR_STATE,
                            "%s: connector 0 (the charge point) can only be Available, "
                            "Unavailable or Faulted",
                            c->id);
    if (strict && conn > 0 && !ocpp_transition_legal(c->conn[conn].status, st, false))
        return cs_error_set(err, CS_ERR_STATE,
                            "%s: connector %d cannot go from %s to %s (OCPP 1.6 transition "
                            "table; strict=0 allows it)",
                            c->id, conn, ocpp_status_name(c->conn[conn].status),
                            ocpp_status_name(st));
    charger_integrate(c, now_ms);
    c->conn[conn].status = st;
    c->conn[conn].error = e;
    if (conn > 0)
        set_power(&c->conn[conn], max_kw);
    return CS_OK;
}

int charger_event(struct charger *c, int conn, enum conn_event ev, double max_kw, int64_t now_ms,
                  const struct transition **row, struct cs_error *err)
{
    if (conn < 1 || conn > c->nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (1..%d)", c->id,
                            conn, c->nconn);
    struct connector *k = &c->conn[conn];
    const struct transition *t = charger_transition(k->status, ev);
    if (!t)
        return cs_error_set(err, CS_ERR_STATE, "%s: connector %d is %s: cannot %s", c->id, conn,
                            ocpp_status_name(k->status), conn_event_name(ev));
    charger_integrate(c, now_ms);
    if (ev == CE_PLUG)
        k->plugged = true;
    else if (ev == CE_UNPLUG)
        k->plugged = false;
    else if (ev == CE_INOPERATIVE)
        k->inoperative = true;
    else if (ev == CE_OPERATIVE)
        k->inoperative = false;
    if (ev == CE_FAULT)
        k->error = k->error == OE_NO_ERROR ? OE_OTHER_ERROR : k->error;
    else if (ev == CE_CLEAR)
        k->error = OE_NO_ERROR;

    enum ocpp_status to = t->to;
    if (to == ST_RESTORE)
        to = k->inoperative ? ST_UNAVAILABLE
             : k->tx_active ? ST_CHARGING
             : k->plugged   ? ST_PREPARING
                            : ST_AVAILABLE;
    if ((unsigned)to < ST__COUNT)
        k->status = to;
    set_power(k, max_kw);
    if (row)
        *row = t;
    return CS_OK;
}

void charger_tx_begin(struct charger *c, int conn, const char *id_tag, double kw, double target_wh,
                      int64_t end_ms, double soc_start, int64_t now_ms)
{
    struct connector *k = &c->conn[conn];
    charger_integrate(c, now_ms);
    memset(&k->tx, 0, sizeof(k->tx));
    k->tx.id = --c->last_local_tx;
    if (c->last_local_tx < -1000000000)
        c->last_local_tx = 0;
    cs_strlcpy(k->tx.id_tag, id_tag, sizeof(k->tx.id_tag));
    k->tx.meter_start_wh = k->meter_wh;
    k->tx.start_ms = now_ms;
    k->tx.kw = kw;
    k->tx.target_wh = target_wh;
    k->tx.end_ms = end_ms;
    k->tx.soc_start = soc_start;
    k->tx_active = true;
}

double charger_tx_end(struct charger *c, int conn, int64_t now_ms)
{
    struct connector *k = &c->conn[conn];
    charger_integrate(c, now_ms);
    k->tx_active = false;
    return k->meter_wh;
}

bool charger_busy(const struct charger *c)
{
    for (int i = 1; i <= c->nconn; i++)
        if (c->conn[i].tx_active)
            return true;
    return false;
}

int charger_tx_find(const struct charger *c, int32_t id)
{
    for (int i = 1; i <= c->nconn; i++)
        if (c->conn[i].tx_active && c->conn[i].tx.id == id)
            return i;
    return -1;
}

void charger_set_max_kw(struct charger *c, double max_kw, int64_t now_ms)
{
    charger_integrate(c, now_ms);
    for (int i = 1; i <= c->nconn; i++)
        set_power(&c->conn[i], max_kw);
}

void charger_set_cap(struct charger *c, int conn, double cap_w, double max_kw, int64_t now_ms)
{
    if (conn < 1 || conn > c->nconn)
        return;
    charger_integrate(c, now_ms);
    c->conn[conn].cap_w = cap_w;
    set_power(&c->conn[conn], max_kw);
}

int64_t charger_wh(double wh)
{
    return wh > 0 ? (int64_t)floor(wh) : 0;
}

double charger_energy_wh(const struct charger *c)
{
    double sum = 0;
    for (int i = 1; i <= c->nconn; i++)
        sum += c->conn[i].meter_wh;
    return sum;
}

double charger_soc(const struct charger *c, int conn, double battery_kwh)
{
    const struct connector *k = &c->conn[conn];
    if (!k->tx_active || battery_kwh <= 0)
        return k->tx.soc_start;
    double soc = k->tx.soc_start + (k->meter_wh - k->tx.meter_start_wh) / (battery_kwh * 10.0);
    return soc > 100 ? 100 : soc;
}

bool charger_session_done(const struct charger *c, int conn, int64_t now_ms)
{
    const struct connector *k = &c->conn[conn];
    if (!k->tx_active)
        return false;
    if (k->tx.target_wh > 0 && k->meter_wh - k->tx.meter_start_wh >= k->tx.target_wh)
        return true;
    return k->tx.end_ms > 0 && now_ms >= k->tx.end_ms;
}
