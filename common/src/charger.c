/* charger.c - OCPP 1.6 connector model and energy integration. */
#include <string.h>

#include "cs/charger.h"
#include "cs/mem.h"
#include "cs/util.h"

static const char *const status_names[] = {
    [ST_AVAILABLE] = "Available",       [ST_PREPARING] = "Preparing",
    [ST_CHARGING] = "Charging",         [ST_SUSPENDED_EV] = "SuspendedEV",
    [ST_SUSPENDED_EVSE] = "SuspendedEVSE", [ST_FINISHING] = "Finishing",
    [ST_RESERVED] = "Reserved",         [ST_UNAVAILABLE] = "Unavailable",
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

void charger_init(struct charger *c, uint32_t index, const char *id, int nconn, int64_t now_ms)
{
    memset(c, 0, sizeof(*c));
    c->index = index;
    cs_strlcpy(c->id, id, sizeof(c->id));
    c->nconn = nconn < 1 ? 1 : nconn > CHARGER_MAX_CONN ? CHARGER_MAX_CONN : nconn;
    for (int i = 0; i <= CHARGER_MAX_CONN; i++) {
        c->conn[i].status = ST_AVAILABLE;
        c->conn[i].error = OE_NO_ERROR;
    }
    c->integrated_ms = now_ms;
}

void charger_integrate(struct charger *c, int64_t now_ms)
{
    if (now_ms <= c->integrated_ms)
        return;
    double hours = (double)(now_ms - c->integrated_ms) / 3600000.0;
    for (int i = 1; i <= c->nconn; i++)
        c->conn[i].meter_wh += c->conn[i].power_w * hours;
    c->integrated_ms = now_ms;
}

static double power_for(enum ocpp_status st, double max_kw)
{
    return st == ST_CHARGING ? max_kw * 1000.0 : 0.0;
}

int charger_set_status(struct charger *c, int conn, enum ocpp_status st, enum ocpp_error e,
                       double max_kw, int64_t now_ms, struct cs_error *err)
{
    if (conn < 0 || conn > c->nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (0..%d)", c->id,
                            conn, c->nconn);
    if (conn == 0 && st == ST_CHARGING)
        return cs_error_set(err, CS_ERR_STATE, "%s: connector 0 (the charge point) cannot be Charging",
                            c->id);
    charger_integrate(c, now_ms);
    c->conn[conn].status = st;
    c->conn[conn].error = e;
    if (conn > 0)
        c->conn[conn].power_w = power_for(st, max_kw);
    return CS_OK;
}

void charger_set_max_kw(struct charger *c, double max_kw, int64_t now_ms)
{
    charger_integrate(c, now_ms);
    for (int i = 1; i <= c->nconn; i++)
        c->conn[i].power_w = power_for(c->conn[i].status, max_kw);
}

double charger_energy_wh(const struct charger *c)
{
    double sum = 0;
    for (int i = 1; i <= c->nconn; i++)
        sum += c->conn[i].meter_wh;
    return sum;
}
