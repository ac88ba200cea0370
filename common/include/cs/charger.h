/* charger.h - the virtual charger's OCPP 1.6 model: connectors, status, error codes, energy
 * register. Pure: no I/O, no clocks (time is passed in). */
#ifndef CS_CHARGER_H
#define CS_CHARGER_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/err.h"
#include "cs/ids.h"

#define CHARGER_MAX_CONN 8

enum ocpp_status {
    ST_AVAILABLE,
    ST_PREPARING,
    ST_CHARGING,
    ST_SUSPENDED_EV,
    ST_SUSPENDED_EVSE,
    ST_FINISHING,
    ST_RESERVED,
    ST_UNAVAILABLE,
    ST_FAULTED,
    ST__COUNT
};

/* ChargePointErrorCode, the 16 values of OCPP 1.6. */
enum ocpp_error {
    OE_CONNECTOR_LOCK_FAILURE,
    OE_EV_COMMUNICATION_ERROR,
    OE_GROUND_FAILURE,
    OE_HIGH_TEMPERATURE,
    OE_INTERNAL_ERROR,
    OE_LOCAL_LIST_CONFLICT,
    OE_NO_ERROR,
    OE_OTHER_ERROR,
    OE_OVER_CURRENT_FAILURE,
    OE_OVER_VOLTAGE,
    OE_POWER_METER_FAILURE,
    OE_POWER_SWITCH_FAILURE,
    OE_READER_FAILURE,
    OE_RESET_FAILURE,
    OE_UNDER_VOLTAGE,
    OE_WEAK_SIGNAL,
    OE__COUNT
};

struct connector {
    enum ocpp_status status;
    enum ocpp_error error;
    double meter_wh; /* energy register, monotonic */
    double power_w;  /* present power draw */
};

struct charger {
    uint32_t index;
    char id[CS_ID_MAX + 1];
    int nconn;                                 /* connectors 1..nconn */
    struct connector conn[CHARGER_MAX_CONN + 1]; /* [0] is the charge point itself */
    int64_t integrated_ms;                     /* time the registers were last brought up to date */
};

const char *ocpp_status_name(enum ocpp_status s);
bool ocpp_status_parse(const char *name, enum ocpp_status *out);
const char *ocpp_error_name(enum ocpp_error e);
bool ocpp_error_parse(const char *name, enum ocpp_error *out);

/* All connectors Available, registers at 0. */
void charger_init(struct charger *c, uint32_t index, const char *id, int nconn, int64_t now_ms);
/* Adds power x elapsed time to every connector's register up to now_ms. */
void charger_integrate(struct charger *c, int64_t now_ms);
/* Sets a connector's status (0 = charge point); the power follows the status
 * (Charging draws max_kw). Bad connector -> CS_ERR_RANGE. */
int charger_set_status(struct charger *c, int conn, enum ocpp_status st, enum ocpp_error e,
                       double max_kw, int64_t now_ms, struct cs_error *err);
/* Re-applies the power of charging connectors after max_kw changed. */
void charger_set_max_kw(struct charger *c, double max_kw, int64_t now_ms);
/* Total energy over the connectors, Wh. */
double charger_energy_wh(const struct charger *c);

#endif
