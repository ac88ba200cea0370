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

/* OCPP 1.6 StopTransaction reasons. */
enum stop_reason {
    SR_EMERGENCY_STOP,
    SR_EV_DISCONNECTED,
    SR_HARD_RESET,
    SR_LOCAL,
    SR_OTHER,
    SR_POWER_LOSS,
    SR_REBOOT,
    SR_REMOTE,
    SR_SOFT_RESET,
    SR_UNLOCK_COMMAND,
    SR_DEAUTHORIZED,
    SR__COUNT
};

/* What happens to a connector: the rows of the transition table are (from, event) -> to. */
enum conn_event {
    CE_PLUG,         /* cable plugged in */
    CE_UNPLUG,       /* cable removed */
    CE_START,        /* authorised: the transaction starts, energy flows */
    CE_STOP,         /* the transaction ends (cable still in) */
    CE_SUSPEND_EV,   /* the EV pauses charging */
    CE_SUSPEND_EVSE, /* the charger pauses charging */
    CE_RESUME,
    CE_FAULT,
    CE_CLEAR, /* fault cleared */
    CE_RESERVE,
    CE_UNRESERVE,
    CE_INOPERATIVE, /* ChangeAvailability Inoperative */
    CE_OPERATIVE,
    CE__COUNT
};

/* Side effects a row asks of the runtime. */
enum {
    CA_START_TX = 1 << 0, /* send StartTransaction */
    CA_STOP_TX = 1 << 1,  /* send StopTransaction (when a transaction is open) */
};

#define ST_RESTORE ST__COUNT    /* row target: back to what the cable and transaction imply */
#define ST_SAME (ST__COUNT + 1) /* row target: status unchanged, only the cable flag moves */

struct transition {
    unsigned from; /* bit mask of enum ocpp_status */
    enum conn_event ev;
    enum ocpp_status to; /* or ST_RESTORE */
    unsigned act;        /* CA_* */
};

struct tx {
    int32_t id; /* transactionId: local (negative) until the platform confirms one */
    bool confirmed;
    char id_tag[21]; /* OCPP idTag: at most 20 characters */
    double meter_start_wh;
    int64_t start_ms;
    double kw;        /* power drawn while Charging */
    double target_wh; /* energy after which the session ends (0 = no limit) */
    int64_t end_ms;   /* time at which the session ends (0 = no limit) */
    double soc_start; /* state of charge at plug-in, % */
    uint32_t seq;     /* OCPP 2.0.1: the next TransactionEvent's seqNo */
};

struct connector {
    enum ocpp_status status;
    enum ocpp_error error;
    double meter_wh; /* energy register, monotonic */
    double power_w;  /* present power draw */
    double cap_w;    /* smart charging limit in effect, W; negative: none */
    bool plugged;
    bool inoperative;
    bool tx_active;
    struct tx tx;
};

struct charger {
    uint32_t index;
    char id[CS_ID_MAX + 1];
    int nconn;                                   /* connectors 1..nconn */
    struct connector conn[CHARGER_MAX_CONN + 1]; /* [0] is the charge point itself */
    int64_t integrated_ms; /* time the registers were last brought up to date */
    int32_t last_local_tx; /* local transaction ids count down from -1 */
    double time_scale;     /* simulated seconds per real second (1) */
};

const char *ocpp_status_name(enum ocpp_status s);
/* "Available, Preparing, ..." from the table (help, errors). */
const char *ocpp_status_names(void);
bool ocpp_status_parse(const char *name, enum ocpp_status *out);
const char *ocpp_error_name(enum ocpp_error e);
bool ocpp_error_parse(const char *name, enum ocpp_error *out);
const char *stop_reason_name(enum stop_reason r);
bool stop_reason_parse(const char *name, enum stop_reason *out);
const char *conn_event_name(enum conn_event e);

/* The legal status changes of OCPP 1.6 (the StatusNotification transition table); connector
 * 0 (the charge point) only knows Available, Unavailable and Faulted. Same -> same is legal. */
bool ocpp_transition_legal(enum ocpp_status from, enum ocpp_status to, bool charge_point);
/* The row for (from, ev), or NULL when the event cannot happen in that status. */
const struct transition *charger_transition(enum ocpp_status from, enum conn_event ev);
/* The table itself (for tests and docs). */
const struct transition *charger_transitions(size_t *n);

/* All connectors Available, registers at 0. */
void charger_init(struct charger *c, uint32_t index, const char *id, int nconn, int64_t now_ms);
/* A connector as new: Available, no error, no cable, no limit, register at 0. */
void charger_conn_reset(struct connector *k);
/* Adds power x elapsed time to every connector's register up to now_ms. */
void charger_integrate(struct charger *c, int64_t now_ms);
/* Sets a connector's status directly (0 = charge point); with `strict`, only transitions the
 * spec allows. The power follows the status (Charging draws the session's kW or max_kw). */
int charger_set_status(struct charger *c, int conn, enum ocpp_status st, enum ocpp_error e,
                       double max_kw, bool strict, int64_t now_ms, struct cs_error *err);
/* Applies an event through the transition table; *row tells the runtime what to send.
 * CS_ERR_STATE when the event cannot happen in the connector's status. */
int charger_event(struct charger *c, int conn, enum conn_event ev, double max_kw, int64_t now_ms,
                  const struct transition **row, struct cs_error *err);
/* Opens a transaction on conn (before CE_START): local id, meter start, limits. */
void charger_tx_begin(struct charger *c, int conn, const char *id_tag, double kw, double target_wh,
                      int64_t end_ms, double soc_start, int64_t now_ms);
/* Closes the open transaction of conn; returns the meter stop in Wh. */
double charger_tx_end(struct charger *c, int conn, int64_t now_ms);
/* Whether a transaction is open on any connector. */
bool charger_busy(const struct charger *c);
/* The open transaction with this id (local or confirmed), or -1. */
int charger_tx_find(const struct charger *c, int32_t id);
/* Re-applies the power of charging connectors after max_kw changed. */
void charger_set_max_kw(struct charger *c, double max_kw, int64_t now_ms);
/* Sets the smart charging limit of conn (W; negative: none): the power follows it. */
void charger_set_cap(struct charger *c, int conn, double cap_w, double max_kw, int64_t now_ms);
/* The power conn may draw now: max_kw, or the limit when lower, W. */
double charger_offered_w(const struct connector *k, double max_kw);
/* Total energy over the connectors, Wh. */
double charger_energy_wh(const struct charger *c);
/* A register as the charger reports it, whole Wh: what it has reached (rounded down), the same
 * in meterStart/meterStop and in every sampled value. */
int64_t charger_wh(double wh);
/* State of charge of the EV on conn, %, for a battery of battery_kwh. */
double charger_soc(const struct charger *c, int conn, double battery_kwh);
/* True when the session on conn reached its energy or time limit. */
bool charger_session_done(const struct charger *c, int conn, int64_t now_ms);

#endif
