/* devmodel.c - the OCPP 2.0.1 device model: the table of components and variables,
 * GetVariables, SetVariables, the NotifyReport parts of GetBaseReport and GetReport, and the
 * docs generator. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/authlist.h"
#include "cs/chprof.h"
#include "cs/devmodel.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

#define CFG(key)                                                                                   \
    {                                                                                              \
        DMS_CFG, key, 0                                                                            \
    }
#define CFGX(key, scale)                                                                           \
    {                                                                                              \
        DMS_CFG, key, scale                                                                        \
    }
#define K(text)                                                                                    \
    {                                                                                              \
        DMS_CONST, text, 0                                                                         \
    }
#define LIVE(src)                                                                                  \
    {                                                                                              \
        src, NULL, 0                                                                               \
    }
#define NONE                                                                                       \
    {                                                                                              \
        DMS_NONE, NULL, 0                                                                          \
    }

#define STATES "Available,Occupied,Reserved,Unavailable,Faulted"
#define TX_POINTS                                                                                  \
    "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"

/* One row per variable; EVSE and Connector rows stand for one variable per EVSE. Names are
 * those of the OCPP 2.0.1 standardized components and variables (Part 2, Appendices). */
static const struct dm_var table[] = {
    /* ChargingStation */
    {"ChargingStation",
     DM_STATION,
     "AvailabilityState",
     NULL,
     DM_RO,
     DM_OPTIONLIST,
     NULL,
     STATES,
     0,
     DM_F_SUMMARY,
     {LIVE(DMS_STATE)},
     "The station's availability."},
    {"ChargingStation",
     DM_STATION,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     DM_F_SUMMARY,
     {K("true")},
     "The component exists."},
    {"ChargingStation",
     DM_STATION,
     "Problem",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     DM_F_SUMMARY,
     {LIVE(DMS_PROBLEM)},
     "true while the station is Faulted."},
    {"ChargingStation",
     DM_STATION,
     "Model",
     NULL,
     DM_RO,
     DM_STRING,
     NULL,
     NULL,
     0,
     0,
     {CFG("model")},
     "Model as in BootNotification."},
    {"ChargingStation",
     DM_STATION,
     "VendorName",
     NULL,
     DM_RO,
     DM_STRING,
     NULL,
     NULL,
     0,
     0,
     {CFG("vendor")},
     "Vendor as in BootNotification."},
    {"ChargingStation",
     DM_STATION,
     "FirmwareVersion",
     NULL,
     DM_RO,
     DM_STRING,
     NULL,
     NULL,
     0,
     0,
     {CFG("firmware")},
     "Firmware version as in BootNotification."},
    {"ChargingStation",
     DM_STATION,
     "SupplyPhases",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {CFG("phases")},
     "Phases the station draws on."},
    /* EVSE n */
    {"EVSE",
     DM_EVSE,
     "AvailabilityState",
     NULL,
     DM_RO,
     DM_OPTIONLIST,
     NULL,
     STATES,
     0,
     DM_F_SUMMARY,
     {LIVE(DMS_STATE)},
     "The EVSE's availability."},
    {"EVSE",
     DM_EVSE,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     DM_F_SUMMARY,
     {K("true")},
     "The component exists."},
    {"EVSE",
     DM_EVSE,
     "Problem",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     DM_F_SUMMARY,
     {LIVE(DMS_PROBLEM)},
     "true while the EVSE is Faulted."},
    {"EVSE",
     DM_EVSE,
     "Power",
     NULL,
     DM_RO,
     DM_DECIMAL,
     "W",
     NULL,
     0,
     0,
     {LIVE(DMS_POWER), NONE, NONE, CFGX("max_kw", 1000)},
     "Actual: the power drawn now; MaxSet: max_kw x 1000."},
    {"EVSE",
     DM_EVSE,
     "SupplyPhases",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {CFG("phases")},
     "Phases the EVSE draws on."},
    /* Connector 1 of EVSE n */
    {"Connector",
     DM_CONNECTOR,
     "AvailabilityState",
     NULL,
     DM_RO,
     DM_OPTIONLIST,
     NULL,
     STATES,
     0,
     DM_F_SUMMARY,
     {LIVE(DMS_STATE)},
     "The connector's availability (its EVSE's)."},
    {"Connector",
     DM_CONNECTOR,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     DM_F_SUMMARY,
     {K("true")},
     "The component exists."},
    {"Connector",
     DM_CONNECTOR,
     "Problem",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     DM_F_SUMMARY,
     {LIVE(DMS_PROBLEM)},
     "true while the EVSE is Faulted."},
    {"Connector",
     DM_CONNECTOR,
     "ConnectorType",
     NULL,
     DM_RO,
     DM_STRING,
     NULL,
     NULL,
     0,
     0,
     {K("cType2")},
     "IEC 62196 Type 2 socket."},
    {"Connector",
     DM_CONNECTOR,
     "SupplyPhases",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {CFG("phases")},
     "Phases the connector supplies."},
    /* OCPPCommCtrlr */
    {"OCPPCommCtrlr",
     DM_STATION,
     "HeartbeatInterval",
     NULL,
     DM_RW,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {CFG("heartbeat_s")},
     "Heartbeat period."},
    {"OCPPCommCtrlr",
     DM_STATION,
     "WebSocketPingInterval",
     NULL,
     DM_RW,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {CFG("ws_ping_s")},
     "WebSocket ping period; 0: none."},
    {"OCPPCommCtrlr",
     DM_STATION,
     "MessageTimeout",
     "Default",
     DM_RW,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {CFG("call_timeout_s")},
     "A CALL unanswered this long has timed out."},
    {"OCPPCommCtrlr",
     DM_STATION,
     "MessageAttempts",
     "TransactionEvent",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K("3")},
     "Attempts at a TransactionEvent."},
    {"OCPPCommCtrlr",
     DM_STATION,
     "MessageAttemptInterval",
     "TransactionEvent",
     DM_RO,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {K("30")},
     "Wait between TransactionEvent attempts."},
    {"OCPPCommCtrlr",
     DM_STATION,
     "ResetRetries",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K("0")},
     "Retries of a failed reset."},
    {"OCPPCommCtrlr",
     DM_STATION,
     "UnlockOnEVSideDisconnect",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "The connector unlocks when the EV unplugs."},
    /* SampledDataCtrlr */
    {"SampledDataCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Sampled meter values are sent."},
    {"SampledDataCtrlr",
     DM_STATION,
     "TxUpdatedInterval",
     NULL,
     DM_RW,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {CFG("meter_s")},
     "Meter values period during a transaction."},
    {"SampledDataCtrlr",
     DM_STATION,
     "TxUpdatedMeasurands",
     NULL,
     DM_RW,
     DM_MEMBERLIST,
     NULL,
     NULL,
     0,
     0,
     {CFG("measurands")},
     "Measurands sampled during a transaction."},
    {"SampledDataCtrlr",
     DM_STATION,
     "TxEndedMeasurands",
     NULL,
     DM_RO,
     DM_MEMBERLIST,
     NULL,
     "Energy.Active.Import.Register",
     0,
     0,
     {K("Energy.Active.Import.Register")},
     "Measurands in the transaction's end event."},
    {"SampledDataCtrlr",
     DM_STATION,
     "TxEndedInterval",
     NULL,
     DM_RO,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {K("0")},
     "0: no sampling for the end event."},
    /* AlignedDataCtrlr */
    {"AlignedDataCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("false")},
     "No clock-aligned meter values."},
    {"AlignedDataCtrlr",
     DM_STATION,
     "Interval",
     NULL,
     DM_RO,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {K("0")},
     "0: none."},
    {"AlignedDataCtrlr",
     DM_STATION,
     "Measurands",
     NULL,
     DM_RO,
     DM_MEMBERLIST,
     NULL,
     "Energy.Active.Import.Register",
     0,
     0,
     {K("")},
     "None."},
    /* AuthCtrlr */
    {"AuthCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Authorization is used."},
    {"AuthCtrlr",
     DM_STATION,
     "AuthorizeRemoteStart",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("authorize_remote")},
     "Authorize a RequestStartTransaction's idToken first."},
    {"AuthCtrlr",
     DM_STATION,
     "LocalPreAuthorize",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("local_pre_authorize")},
     "Start at once for an idToken the list or cache accepts."},
    {"AuthCtrlr",
     DM_STATION,
     "LocalAuthorizeOffline",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("local_authorize_offline")},
     "Offline, start for an idToken the list or cache accepts."},
    {"AuthCtrlr",
     DM_STATION,
     "OfflineTxForUnknownIdEnabled",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("allow_offline_unknown")},
     "Offline, start for an unknown idToken."},
    /* AuthCacheCtrlr */
    {"AuthCacheCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("auth_cache")},
     "Keep the platform's answers in the Authorization Cache."},
    {"AuthCacheCtrlr",
     DM_STATION,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "The cache exists."},
    {"AuthCacheCtrlr",
     DM_STATION,
     "Policy",
     NULL,
     DM_RO,
     DM_OPTIONLIST,
     NULL,
     "LRU,LFU,FIFO,CUSTOM",
     0,
     0,
     {K("LRU")},
     "The least recently used entry goes first (" CS_STR(AUTHCACHE_MAX) " entries)."},
    /* LocalAuthListCtrlr */
    {"LocalAuthListCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("local_auth_list")},
     "Take and use the Local Authorization List."},
    {"LocalAuthListCtrlr",
     DM_STATION,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "The list exists."},
    {"LocalAuthListCtrlr",
     DM_STATION,
     "Entries",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     AUTHLIST_MAX,
     0,
     {LIVE(DMS_LIST)},
     "idTokens in the list; maxLimit: its capacity."},
    {"LocalAuthListCtrlr",
     DM_STATION,
     "ItemsPerMessage",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(AUTHLIST_SEND_MAX))},
     "idTokens in one SendLocalList."},
    {"LocalAuthListCtrlr",
     DM_STATION,
     "BytesPerMessage",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(OCPP_DOWNLINK_MAX))},
     "Size of one SendLocalList."},
    /* ReservationCtrlr */
    {"ReservationCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Reservations are taken."},
    {"ReservationCtrlr",
     DM_STATION,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Reservations are supported."},
    {"ReservationCtrlr",
     DM_STATION,
     "NonEvseSpecific",
     NULL,
     DM_RW,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {CFG("reserve_connector_zero")},
     "Accept a reservation without an EVSE."},
    /* SmartChargingCtrlr */
    {"SmartChargingCtrlr",
     DM_STATION,
     "Enabled",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Charging profiles are taken."},
    {"SmartChargingCtrlr",
     DM_STATION,
     "Available",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Smart charging is supported."},
    {"SmartChargingCtrlr",
     DM_STATION,
     "Entries",
     "ChargingProfiles",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     CHPROF_MAX_INSTALLED,
     0,
     {LIVE(DMS_PROFILES)},
     "Charging profiles installed; maxLimit: how many fit."},
    {"SmartChargingCtrlr",
     DM_STATION,
     "ProfileStackLevel",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(CHPROF_MAX_STACK))},
     "Highest stack level."},
    {"SmartChargingCtrlr",
     DM_STATION,
     "PeriodsPerSchedule",
     NULL,
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(CHPROF_MAX_PERIODS))},
     "Periods in one schedule."},
    {"SmartChargingCtrlr",
     DM_STATION,
     "RateUnit",
     NULL,
     DM_RO,
     DM_MEMBERLIST,
     NULL,
     "A,W",
     0,
     0,
     {K("A,W")},
     "Units of a schedule's limits."},
    {"SmartChargingCtrlr",
     DM_STATION,
     "Phases3to1",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("false")},
     "No switching from three phases to one."},
    /* DeviceDataCtrlr */
    {"DeviceDataCtrlr",
     DM_STATION,
     "ItemsPerMessage",
     "GetReport",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(DM_ITEMS_PER_MESSAGE))},
     "componentVariable entries in one GetReport."},
    {"DeviceDataCtrlr",
     DM_STATION,
     "ItemsPerMessage",
     "GetVariables",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(DM_ITEMS_PER_MESSAGE))},
     "getVariableData in one GetVariables."},
    {"DeviceDataCtrlr",
     DM_STATION,
     "ItemsPerMessage",
     "SetVariables",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(DM_ITEMS_PER_MESSAGE))},
     "setVariableData in one SetVariables."},
    {"DeviceDataCtrlr",
     DM_STATION,
     "BytesPerMessage",
     "GetReport",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(OCPP_DOWNLINK_MAX))},
     "Size of one GetReport."},
    {"DeviceDataCtrlr",
     DM_STATION,
     "BytesPerMessage",
     "GetVariables",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(OCPP_DOWNLINK_MAX))},
     "Size of one GetVariables."},
    {"DeviceDataCtrlr",
     DM_STATION,
     "BytesPerMessage",
     "SetVariables",
     DM_RO,
     DM_INTEGER,
     NULL,
     NULL,
     0,
     0,
     {K(CS_STR(OCPP_DOWNLINK_MAX))},
     "Size of one SetVariables."},
    /* SecurityCtrlr */
    {"SecurityCtrlr",
     DM_STATION,
     "BasicAuthPassword",
     NULL,
     DM_WO,
     DM_STRING,
     NULL,
     NULL,
     0,
     0,
     {CFG("password")},
     "HTTP Basic auth password; never read back."},
    {"SecurityCtrlr",
     DM_STATION,
     "Identity",
     NULL,
     DM_RO,
     DM_STRING,
     NULL,
     NULL,
     0,
     0,
     {LIVE(DMS_IDENTITY)},
     "The station's identity (client_id rendered)."},
    /* TxCtrlr */
    {"TxCtrlr",
     DM_STATION,
     "EVConnectionTimeOut",
     NULL,
     DM_RO,
     DM_INTEGER,
     "s",
     NULL,
     0,
     0,
     {K("60")},
     "Wait for the EV's cable after authorization."},
    {"TxCtrlr",
     DM_STATION,
     "StopTxOnEVSideDisconnect",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "Unplugging ends the transaction."},
    {"TxCtrlr",
     DM_STATION,
     "StopTxOnInvalidId",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("true")},
     "An idToken found invalid ends the transaction."},
    {"TxCtrlr",
     DM_STATION,
     "TxBeforeAcceptedEnabled",
     NULL,
     DM_RO,
     DM_BOOLEAN,
     NULL,
     NULL,
     0,
     0,
     {K("false")},
     "No transaction before BootNotification is accepted."},
    {"TxCtrlr",
     DM_STATION,
     "TxStartPoint",
     NULL,
     DM_RO,
     DM_MEMBERLIST,
     NULL,
     TX_POINTS,
     0,
     0,
     {K("PowerPathClosed")},
     "A transaction starts when authorized and plugged in."},
    {"TxCtrlr",
     DM_STATION,
     "TxStopPoint",
     NULL,
     DM_RO,
     DM_MEMBERLIST,
     NULL,
     TX_POINTS,
     0,
     0,
     {K("EVConnected,Authorized")},
     "It ends when the EV unplugs or authorization ends."},
    /* ClockCtrlr */
    {"ClockCtrlr",
     DM_STATION,
     "DateTime",
     NULL,
     DM_RO,
     DM_DATETIME,
     NULL,
     NULL,
     0,
     0,
     {LIVE(DMS_NOW)},
     "The station's clock."},
    {"ClockCtrlr",
     DM_STATION,
     "TimeSource",
     NULL,
     DM_RO,
     DM_SEQUENCELIST,
     NULL,
     "Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter",
     0,
     0,
     {K("Heartbeat")},
     "The clock follows the Heartbeat answers."},
};

static const char *const attr_names[] = {"Actual", "Target", "MinSet", "MaxSet", NULL};
_Static_assert(ARRAY_SIZE(attr_names) == DM_ATTR__COUNT + 1, "attr_names out of step");
static const char *const data_names[] = {
    [DM_STRING] = "string",         [DM_DECIMAL] = "decimal",
    [DM_INTEGER] = "integer",       [DM_DATETIME] = "dateTime",
    [DM_BOOLEAN] = "boolean",       [DM_OPTIONLIST] = "OptionList",
    [DM_MEMBERLIST] = "MemberList", [DM_SEQUENCELIST] = "SequenceList",
};
static const char *const mutability_names[] = {
    [DM_RO] = "ReadOnly", [DM_RW] = "ReadWrite", [DM_WO] = "WriteOnly"};

const struct dm_var *devmodel_vars(size_t *n)
{
    *n = ARRAY_SIZE(table);
    return table;
}

const char *devmodel_attr_name(enum dm_attr a)
{
    return attr_names[a];
}

const char *devmodel_data_name(enum dm_data t)
{
    return data_names[t];
}

/* ---- values ------------------------------------------------------------------------------ */

static const char *state_of(const struct dm_charger *c, int evse)
{
    const char *s = evse ? (c->evse ? c->evse[evse - 1].state : NULL) : c->state;
    return s ? s : "Available";
}

/* The attribute's value as OCPP text. */
static void render(const struct dm_charger *c, const struct dm_value *a, int evse, struct buf *out)
{
    char ts[32];
    switch (a->src) {
    case DMS_NONE:
        break;
    case DMS_CFG: {
        const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, a->ref);
        const char *field = (const char *)c->cfg + d->offset;
        if (d->type == CFG_BOOL)
            buf_puts(out, *(const bool *)field ? "true" : "false");
        else if (a->scale && d->type == CFG_INT)
            buf_printf(out, "%.15g", *(const int *)field * a->scale);
        else if (a->scale && d->type == CFG_DOUBLE)
            buf_printf(out, "%.15g", *(const double *)field * a->scale);
        else
            cfg_format(d, c->cfg, true, out);
        break;
    }
    case DMS_CONST:
        buf_puts(out, a->ref);
        break;
    case DMS_NOW:
        buf_puts(out, cs_fmt_iso8601(ts, sizeof(ts), c->now_ms));
        break;
    case DMS_STATE:
        buf_puts(out, state_of(c, evse));
        break;
    case DMS_PROBLEM:
        buf_puts(out, strcmp(state_of(c, evse), "Faulted") == 0 ? "true" : "false");
        break;
    case DMS_POWER: {
        double w = evse && c->evse ? c->evse[evse - 1].power_w : 0;
        buf_printf(out, "%.15g", isfinite(w) ? w : 0.0);
        break;
    }
    case DMS_IDENTITY:
        buf_puts(out, c->identity ? c->identity : "");
        break;
    case DMS_LIST:
        buf_printf(out, "%d", c->local_list_entries);
        break;
    case DMS_PROFILES:
        buf_printf(out, "%d", c->charging_profiles);
        break;
    }
}

/* The config key behind a row (its first config-backed attribute), or NULL. */
static const struct dm_value *cfg_attr(const struct dm_var *v)
{
    for (int a = 0; a < DM_ATTR__COUNT; a++)
        if (v->attr[a].src == DMS_CFG)
            return &v->attr[a];
    return NULL;
}

static bool writable(const struct dm_var *v, enum dm_attr a)
{
    return v->mutability != DM_RO && v->attr[a].src == DMS_CFG;
}

static enum dm_mutability attr_mutability(const struct dm_var *v, enum dm_attr a)
{
    return v->attr[a].src == DMS_CFG ? v->mutability : DM_RO;
}

/* ---- requests ------------------------------------------------------------------------------ */

/* A component and variable as a request names them. */
struct dm_ref {
    const char *comp, *comp_inst, *var, *var_inst;
    bool has_evse, has_conn, has_attr;
    int64_t evse_id, conn_id;
    enum dm_attr attr;
    const char *value; /* SetVariables */
};

static const struct ocpp_field component_fields[] = {{"name", FT_STRING, true, 50, NULL},
                                                     {"instance", FT_STRING, false, 50, NULL},
                                                     {"evse", FT_OBJECT, false, 0, NULL},
                                                     {NULL, 0, false, 0, NULL}};
static const struct ocpp_field evse_fields[] = {{"id", FT_NUMBER, true, 0, NULL},
                                                {"connectorId", FT_NUMBER, false, 0, NULL},
                                                {NULL, 0, false, 0, NULL}};
static const struct ocpp_field variable_fields[] = {{"name", FT_STRING, true, 50, NULL},
                                                    {"instance", FT_STRING, false, 50, NULL},
                                                    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field get_fields[] = {{"attributeType", FT_STRING, false, 0, attr_names},
                                               {"component", FT_OBJECT, true, 0, NULL},
                                               {"variable", FT_OBJECT, true, 0, NULL},
                                               {NULL, 0, false, 0, NULL}};
static const struct ocpp_field set_fields[] = {{"attributeType", FT_STRING, false, 0, attr_names},
                                               {"attributeValue", FT_STRING, true, 1000, NULL},
                                               {"component", FT_OBJECT, true, 0, NULL},
                                               {"variable", FT_OBJECT, true, 0, NULL},
                                               {NULL, 0, false, 0, NULL}};
static const struct ocpp_field cv_fields[] = {{"component", FT_OBJECT, true, 0, NULL},
                                              {"variable", FT_OBJECT, false, 0, NULL},
                                              {NULL, 0, false, 0, NULL}};

static const char *str_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer field of any sign (ocpp_check's FT_INT takes no negatives). */
static int int_of(const cJSON *obj, const char *name, int64_t *out, const char **code,
                  struct cs_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > -9e15 && v->valuedouble < 9e15) ||
        v->valuedouble != floor(v->valuedouble)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "field %s is not an integer", name);
    }
    *out = (int64_t)v->valuedouble;
    return CS_OK;
}

static int parse_component(const cJSON *comp, struct dm_ref *r, const char **code,
                           struct cs_error *err)
{
    int rc = ocpp_check(comp, component_fields, code, err);
    if (rc)
        return rc;
    r->comp = str_of(comp, "name");
    r->comp_inst = str_of(comp, "instance");
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(comp, "evse");
    if (evse) {
        r->has_evse = true;
        if ((rc = ocpp_check(evse, evse_fields, code, err)) ||
            (rc = int_of(evse, "id", &r->evse_id, code, err)))
            return rc;
        if (cJSON_GetObjectItemCaseSensitive(evse, "connectorId")) {
            r->has_conn = true;
            if ((rc = int_of(evse, "connectorId", &r->conn_id, code, err)))
                return rc;
        }
    }
    return CS_OK;
}

static int parse_variable(const cJSON *var, struct dm_ref *r, const char **code,
                          struct cs_error *err)
{
    int rc = ocpp_check(var, variable_fields, code, err);
    if (rc)
        return rc;
    r->var = str_of(var, "name");
    r->var_inst = str_of(var, "instance");
    return CS_OK;
}

/* One getVariableData / setVariableData item. */
static int parse_item(const cJSON *it, bool set, struct dm_ref *r, const char **code,
                      struct cs_error *err)
{
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(it)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "an item is not an object");
    }
    int rc = ocpp_check(it, set ? set_fields : get_fields, code, err);
    if (rc)
        return rc;
    const char *at = str_of(it, "attributeType");
    r->attr = DM_ACTUAL;
    if (at) {
        r->has_attr = true;
        for (int a = 0; a < DM_ATTR__COUNT; a++)
            if (strcmp(at, attr_names[a]) == 0)
                r->attr = (enum dm_attr)a;
    }
    r->value = str_of(it, "attributeValue");
    if ((rc = parse_component(cJSON_GetObjectItemCaseSensitive(it, "component"), r, code, err)))
        return rc;
    return parse_variable(cJSON_GetObjectItemCaseSensitive(it, "variable"), r, code, err);
}

/* The array under name: present, 1..DM_ITEMS_PER_MESSAGE items. */
static int check_list(const cJSON *req, const char *name, bool required, const char **code,
                      struct cs_error *err)
{
    if (!cJSON_IsObject(req)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "the request is not an object");
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, name);
    if (!list && !required)
        return CS_OK;
    if (!list) {
        *code = OCPP_E_OCCURRENCE;
        return cs_error_set(err, CS_ERR_PARSE, "missing required field %s", name);
    }
    if (!cJSON_IsArray(list)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "field %s is not an array", name);
    }
    int n = cJSON_GetArraySize(list);
    if (n < 1 || n > DM_ITEMS_PER_MESSAGE) {
        *code = OCPP_E_OCCURRENCE;
        return cs_error_set(err, CS_ERR_RANGE, "%s has %d items, not 1..%d", name, n,
                            DM_ITEMS_PER_MESSAGE);
    }
    return CS_OK;
}

/* The EVSE a request's component is at for a row of the given scope: 0 for the station,
 * 1..nevse, or -1 when the component is not at that scope. */
static int evse_for(const struct dm_charger *c, const struct dm_ref *r, enum dm_scope scope)
{
    switch (scope) {
    case DM_STATION:
        return r->has_evse ? -1 : 0;
    case DM_EVSE:
        if (!r->has_evse || r->has_conn)
            return -1;
        break;
    case DM_CONNECTOR:
        if (!r->has_evse || !r->has_conn || r->conn_id != 1)
            return -1;
        break;
    }
    return r->evse_id >= 1 && r->evse_id <= c->nevse ? (int)r->evse_id : -1;
}

static bool same_instance(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Resolves a request's component and variable: the row and *evse, or NULL with *status
 * UnknownComponent or UnknownVariable. */
static const struct dm_var *resolve(const struct dm_charger *c, const struct dm_ref *r, int *evse,
                                    const char **status)
{
    bool component = false;
    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        const struct dm_var *v = &table[i];
        int e;
        if (r->comp_inst || strcmp(v->component, r->comp) != 0 ||
            (e = evse_for(c, r, v->scope)) < 0)
            continue;
        component = true;
        if (strcmp(v->variable, r->var) == 0 && same_instance(v->instance, r->var_inst)) {
            *evse = e;
            return v;
        }
    }
    *status = component ? "UnknownVariable" : "UnknownComponent";
    return NULL;
}

static void write_ref(struct jw *w, const struct dm_ref *r)
{
    if (r->has_attr)
        jw_kstr(w, "attributeType", attr_names[r->attr]);
    jw_key(w, "component");
    jw_obj(w);
    jw_kstr(w, "name", r->comp);
    if (r->comp_inst)
        jw_kstr(w, "instance", r->comp_inst);
    if (r->has_evse) {
        jw_key(w, "evse");
        jw_obj(w);
        jw_kint(w, "id", r->evse_id);
        if (r->has_conn)
            jw_kint(w, "connectorId", r->conn_id);
        jw_end(w);
    }
    jw_end(w);
    jw_key(w, "variable");
    jw_obj(w);
    jw_kstr(w, "name", r->var);
    if (r->var_inst)
        jw_kstr(w, "instance", r->var_inst);
    jw_end(w);
}

static void write_status_info(struct jw *w, const char *reason, const char *info)
{
    jw_key(w, "attributeStatusInfo");
    jw_obj(w);
    jw_kstr(w, "reasonCode", reason);
    if (info && *info)
        jw_kstr(w, "additionalInfo", info);
    jw_end(w);
}

/* Checks every item before anything is written. */
static int check_items(const cJSON *list, bool set, const char **code, struct cs_error *err)
{
    const cJSON *it;
    struct dm_ref r;
    int i = 0;
    cJSON_ArrayForEach(it, list)
    {
        int rc = parse_item(it, set, &r, code, err);
        if (rc) {
            char why[sizeof(err->msg)];
            cs_strlcpy(why, err ? err->msg : "", sizeof(why));
            return cs_error_set(err, rc, "%s[%d]: %s", set ? "setVariableData" : "getVariableData",
                                i, why);
        }
        i++;
    }
    return CS_OK;
}

int devmodel_get(const struct dm_charger *c, const cJSON *req, struct jw *out, const char **code,
                 struct cs_error *err)
{
    int rc = check_list(req, "getVariableData", true, code, err);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "getVariableData");
    if (rc || (rc = check_items(list, false, code, err)))
        return rc;
    struct buf val = BUF_INIT;
    const cJSON *it;
    jw_key(out, "getVariableResult");
    jw_arr(out);
    cJSON_ArrayForEach(it, list)
    {
        struct dm_ref r;
        int evse = 0;
        const char *status = "Accepted", *reason = NULL;
        parse_item(it, false, &r, code, err);
        const struct dm_var *v = resolve(c, &r, &evse, &status);
        buf_reset(&val);
        if (v && v->attr[r.attr].src == DMS_NONE)
            status = "NotSupportedAttributeType";
        else if (v && attr_mutability(v, r.attr) == DM_WO)
            status = "Rejected", reason = "WriteOnly";
        else if (v)
            render(c, &v->attr[r.attr], evse, &val);
        jw_obj(out);
        jw_kstr(out, "attributeStatus", status);
        if (reason)
            write_status_info(out, reason, NULL);
        if (v && !reason && strcmp(status, "Accepted") == 0)
            jw_kstr(out, "attributeValue", buf_cstr(&val));
        write_ref(out, &r);
        jw_end(out);
    }
    jw_end(out);
    buf_free(&val);
    return CS_OK;
}

/* A SetVariables item's status; the write (key and config text) into writes when accepted. */
static const char *set_one(const struct dm_charger *c, const struct dm_ref *r,
                           struct kvlist *writes, const char **reason, struct buf *info)
{
    int evse;
    const char *status;
    const struct dm_var *v = resolve(c, r, &evse, &status);
    if (!v)
        return status;
    if (v->attr[r->attr].src == DMS_NONE)
        return "NotSupportedAttributeType";
    if (!writable(v, r->attr)) {
        *reason = "ReadOnly";
        return "Rejected";
    }
    const char *key = v->attr[r->attr].ref;
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, key);
    const char *text = r->value;
    struct cs_error err = {0};
    *reason = "InvalidValue";
    if (d->type == CFG_BOOL) {
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
            buf_puts(info, "not true or false");
            return "Rejected";
        }
        text = strcmp(text, "true") == 0 ? "1" : "0";
    }
    if (cfg_check(&cfg_charger_schema, key, text, &err) != CS_OK) {
        /* the message quotes the value: not for a secret */
        if (!(d->flags & CFG_F_SECRET))
            buf_printf(info, "%.*s", CS_UTF8_CLIP(err.msg, 500));
        return "Rejected";
    }
    *reason = NULL;
    kv_set(writes, key, text);
    return d->apply == CFG_APPLY_BOOT ? "RebootRequired" : "Accepted";
}

int devmodel_set(const struct dm_charger *c, const cJSON *req, struct jw *out,
                 struct kvlist *writes, const char **code, struct cs_error *err)
{
    int rc = check_list(req, "setVariableData", true, code, err);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "setVariableData");
    if (rc || (rc = check_items(list, true, code, err)))
        return rc;
    struct buf info = BUF_INIT;
    const cJSON *it;
    jw_key(out, "setVariableResult");
    jw_arr(out);
    cJSON_ArrayForEach(it, list)
    {
        struct dm_ref r;
        const char *reason = NULL;
        parse_item(it, true, &r, code, err);
        buf_reset(&info);
        const char *status = set_one(c, &r, writes, &reason, &info);
        jw_obj(out);
        jw_kstr(out, "attributeStatus", status);
        if (reason)
            write_status_info(out, reason, buf_cstr(&info));
        write_ref(out, &r);
        jw_end(out);
    }
    jw_end(out);
    buf_free(&info);
    return CS_OK;
}

/* ---- reports ------------------------------------------------------------------------------- */

static const char *const report_bases[] = {"ConfigurationInventory", "FullInventory",
                                           "SummaryInventory", NULL};
enum { BASE_CONFIGURATION, BASE_FULL, BASE_SUMMARY, BASE_NONE };
static const char *const criteria_names[] = {"Active", "Available", "Enabled", "Problem", NULL};

struct report {
    const struct dm_charger *c;
    int base;              /* BASE_*; BASE_NONE for GetReport */
    const cJSON *cvs;      /* componentVariable, or NULL */
    const cJSON *criteria; /* componentCriteria, or NULL */
    int64_t request_id;
    /* output */
    size_t total, done;
    struct buf b;
    struct jw w;
    dm_part_fn *fn;
    void *privdata;
};

static bool same_component(const struct dm_var *a, const struct dm_var *b)
{
    return a->scope == b->scope && strcmp(a->component, b->component) == 0;
}

/* Whether the component of v at evse has variable crit (no instance) reading "true". */
static bool meets(const struct dm_charger *c, const struct dm_var *v, int evse, const char *crit)
{
    struct buf val = BUF_INIT;
    bool yes = false;
    for (size_t i = 0; i < ARRAY_SIZE(table) && !yes; i++) {
        const struct dm_var *o = &table[i];
        if (!same_component(o, v) || o->instance || strcmp(o->variable, crit) != 0 ||
            attr_mutability(o, DM_ACTUAL) == DM_WO)
            continue;
        buf_reset(&val);
        render(c, &o->attr[DM_ACTUAL], evse, &val);
        yes = strcmp(buf_cstr(&val), "true") == 0;
    }
    buf_free(&val);
    return yes;
}

static bool tracked(const char *crit)
{
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (strcmp(table[i].variable, crit) == 0)
            return true;
    return false;
}

/* Whether one componentVariable entry (checked) names the row at evse. */
static bool cv_matches(const cJSON *cv, const struct dm_var *v, int evse)
{
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(cv, "component");
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(cv, "variable");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(comp, "evse");
    if (strcmp(str_of(comp, "name"), v->component) != 0 || str_of(comp, "instance"))
        return false;
    if (e) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *conn = cJSON_GetObjectItemCaseSensitive(e, "connectorId");
        if (v->scope == DM_STATION || id->valuedouble != evse)
            return false;
        if (conn && (v->scope != DM_CONNECTOR || conn->valuedouble != 1))
            return false;
    }
    if (!var)
        return true;
    const char *inst = str_of(var, "instance");
    return strcmp(str_of(var, "name"), v->variable) == 0 &&
           (!inst || (v->instance && strcmp(inst, v->instance) == 0));
}

static bool selected(const struct report *rp, const struct dm_var *v, int evse)
{
    const cJSON *it;
    switch (rp->base) {
    case BASE_FULL:
        return true;
    case BASE_CONFIGURATION:
        for (int a = 0; a < DM_ATTR__COUNT; a++)
            if (writable(v, (enum dm_attr)a))
                return true;
        return false;
    case BASE_SUMMARY:
        return v->flags & DM_F_SUMMARY;
    }
    if (rp->cvs) {
        bool any = false;
        cJSON_ArrayForEach(it, rp->cvs) any |= cv_matches(it, v, evse);
        if (!any)
            return false;
    }
    if (rp->criteria) {
        bool any = false;
        cJSON_ArrayForEach(it, rp->criteria) any |= meets(rp->c, v, evse, it->valuestring);
        if (!any)
            return false;
    }
    return true;
}

static void write_number(struct jw *w, const char *key, double x)
{
    char num[40];
    jw_key(w, key);
    jw_raw(w, num, (size_t)snprintf(num, sizeof(num), "%.15g", x));
}

static void write_characteristics(struct jw *w, const struct dm_var *v)
{
    const struct dm_value *a = cfg_attr(v);
    const struct cfg_def *d = a ? cfg_lookup(&cfg_charger_schema, a->ref) : NULL;
    double scale = a && a->scale ? a->scale : 1;
    jw_key(w, "variableCharacteristics");
    jw_obj(w);
    if (v->unit)
        jw_kstr(w, "unit", v->unit);
    jw_kstr(w, "dataType", data_names[v->type]);
    if (v->max_limit) {
        write_number(w, "minLimit", 0);
        write_number(w, "maxLimit", v->max_limit);
    } else if (d && d->type != CFG_BOOL && d->type != CFG_ENUM && d->type != CFG_SET) {
        bool num = d->type == CFG_INT || d->type == CFG_DOUBLE;
        write_number(w, "minLimit", d->min * (num ? scale : 1));
        write_number(w, "maxLimit", d->max * (num ? scale : 1));
    }
    if (v->values) {
        jw_kstr(w, "valuesList", v->values);
    } else if (d && d->choices) {
        struct buf list = BUF_INIT;
        for (const char *const *ch = d->choices; *ch; ch++)
            buf_printf(&list, "%s%s", ch == d->choices ? "" : ",", *ch);
        jw_kstr(w, "valuesList", buf_cstr(&list));
        buf_free(&list);
    }
    jw_kbool(w, "supportsMonitoring", false);
    jw_end(w);
}

static void write_item(struct jw *w, const struct dm_charger *c, const struct dm_var *v, int evse)
{
    struct buf val = BUF_INIT;
    jw_obj(w);
    jw_key(w, "component");
    jw_obj(w);
    jw_kstr(w, "name", v->component);
    if (v->scope != DM_STATION) {
        jw_key(w, "evse");
        jw_obj(w);
        jw_kint(w, "id", evse);
        if (v->scope == DM_CONNECTOR)
            jw_kint(w, "connectorId", 1);
        jw_end(w);
    }
    jw_end(w);
    jw_key(w, "variable");
    jw_obj(w);
    jw_kstr(w, "name", v->variable);
    if (v->instance)
        jw_kstr(w, "instance", v->instance);
    jw_end(w);
    jw_key(w, "variableAttribute");
    jw_arr(w);
    for (int a = 0; a < DM_ATTR__COUNT; a++) {
        const struct dm_value *x = &v->attr[a];
        enum dm_mutability m = attr_mutability(v, (enum dm_attr)a);
        if (x->src == DMS_NONE)
            continue;
        jw_obj(w);
        jw_kstr(w, "type", attr_names[a]);
        if (m != DM_WO) {
            buf_reset(&val);
            render(c, x, evse, &val);
            jw_kstr(w, "value", buf_cstr(&val));
        }
        jw_kstr(w, "mutability", mutability_names[m]);
        jw_kbool(w, "persistent", x->src == DMS_CFG || x->src == DMS_CONST);
        jw_kbool(w, "constant", x->src == DMS_CONST);
        jw_end(w);
    }
    jw_end(w);
    write_characteristics(w, v);
    jw_end(w);
    buf_free(&val);
}

static void emit(struct report *rp, const struct dm_var *v, int evse)
{
    char ts[32];
    if (rp->done % DM_ITEMS_PER_MESSAGE == 0) {
        buf_reset(&rp->b);
        jw_init(&rp->w, &rp->b);
        jw_obj(&rp->w);
        jw_kint(&rp->w, "requestId", rp->request_id);
        jw_kstr(&rp->w, "generatedAt", cs_fmt_iso8601(ts, sizeof(ts), rp->c->now_ms));
        jw_kbool(&rp->w, "tbc", rp->total - rp->done > DM_ITEMS_PER_MESSAGE);
        jw_kint(&rp->w, "seqNo", (int64_t)(rp->done / DM_ITEMS_PER_MESSAGE));
        jw_key(&rp->w, "reportData");
        jw_arr(&rp->w);
    }
    write_item(&rp->w, rp->c, v, evse);
    rp->done++;
    if (rp->done % DM_ITEMS_PER_MESSAGE == 0 || rp->done == rp->total) {
        jw_end(&rp->w);
        jw_end(&rp->w);
        rp->fn(rp->privdata, rp->b.s, rp->b.len);
    }
}

/* Walks the model station first, then EVSE by EVSE: counts the selected items (emitting
 * false) or emits them. */
static size_t walk(struct report *rp, bool emitting)
{
    size_t n = 0;
    for (int evse = 0; evse <= rp->c->nevse; evse++)
        for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
            const struct dm_var *v = &table[i];
            if ((evse == 0) != (v->scope == DM_STATION) || !selected(rp, v, evse))
                continue;
            n++;
            if (emitting)
                emit(rp, v, evse);
        }
    return n;
}

static int check_report(const cJSON *req, bool base, struct report *rp, const char **code,
                        struct cs_error *err)
{
    static const struct ocpp_field base_fields[] = {
        {"reportBase", FT_STRING, true, 0, report_bases}, {NULL, 0, false, 0, NULL}};
    const cJSON *it;
    int rc;
    if (!cJSON_IsObject(req)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "the request is not an object");
    }
    if (!cJSON_GetObjectItemCaseSensitive(req, "requestId")) {
        *code = OCPP_E_OCCURRENCE;
        return cs_error_set(err, CS_ERR_PARSE, "missing required field requestId");
    }
    if ((rc = int_of(req, "requestId", &rp->request_id, code, err)))
        return rc;
    if (base) {
        if ((rc = ocpp_check(req, base_fields, code, err)))
            return rc;
        const char *b = str_of(req, "reportBase");
        for (rp->base = 0; strcmp(report_bases[rp->base], b) != 0; rp->base++)
            ;
        return CS_OK;
    }
    rp->base = BASE_NONE;
    if ((rc = check_list(req, "componentVariable", false, code, err)))
        return rc;
    rp->cvs = cJSON_GetObjectItemCaseSensitive(req, "componentVariable");
    cJSON_ArrayForEach(it, rp->cvs)
    {
        struct dm_ref r = {0};
        if (!cJSON_IsObject(it)) {
            *code = OCPP_E_TYPE;
            return cs_error_set(err, CS_ERR_PARSE, "a componentVariable is not an object");
        }
        if ((rc = ocpp_check(it, cv_fields, code, err)) ||
            (rc =
                 parse_component(cJSON_GetObjectItemCaseSensitive(it, "component"), &r, code, err)))
            return rc;
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variable");
        if (var && (rc = parse_variable(var, &r, code, err)))
            return rc;
    }
    rp->criteria = cJSON_GetObjectItemCaseSensitive(req, "componentCriteria");
    if (!rp->criteria)
        return CS_OK;
    if (!cJSON_IsArray(rp->criteria)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "field componentCriteria is not an array");
    }
    int n = cJSON_GetArraySize(rp->criteria);
    if (n < 1 || n > 4) {
        *code = OCPP_E_OCCURRENCE;
        return cs_error_set(err, CS_ERR_RANGE, "componentCriteria has %d items, not 1..4", n);
    }
    cJSON_ArrayForEach(it, rp->criteria)
    {
        bool ok = false;
        if (!cJSON_IsString(it)) {
            *code = OCPP_E_TYPE;
            return cs_error_set(err, CS_ERR_PARSE, "a componentCriteria item is not a string");
        }
        for (const char *const *cr = criteria_names; *cr; cr++)
            ok |= strcmp(*cr, it->valuestring) == 0;
        if (!ok) {
            *code = OCPP_E_PROPERTY;
            return cs_error_set(err, CS_ERR_RANGE, "componentCriteria: '%.*s' is not allowed",
                                CS_UTF8_CLIP(it->valuestring, 40));
        }
    }
    return CS_OK;
}

const char *devmodel_report(const struct dm_charger *c, const cJSON *req, bool base, dm_part_fn *fn,
                            void *privdata, const char **code, struct cs_error *err)
{
    struct report rp = {.c = c, .fn = fn, .privdata = privdata};
    const cJSON *it;
    if (check_report(req, base, &rp, code, err))
        return NULL;
    if (rp.criteria) {
        bool any = false;
        cJSON_ArrayForEach(it, rp.criteria) any |= tracked(it->valuestring);
        if (!any)
            return "NotSupported";
    }
    rp.total = walk(&rp, false);
    if (!rp.total)
        return "EmptyResultSet";
    walk(&rp, true);
    buf_free(&rp.b);
    return "Accepted";
}

/* ---- docs -------------------------------------------------------------------------------- */

static const char *const scope_names[] = {
    [DM_STATION] = "", [DM_EVSE] = " (evse n)", [DM_CONNECTOR] = " (evse n, connector 1)"};

static void doc_value(struct buf *out, const struct dm_value *a)
{
    switch (a->src) {
    case DMS_NONE:
        break;
    case DMS_CFG:
        if (a->scale)
            buf_printf(out, "`%s` x %g", a->ref, a->scale);
        else
            buf_printf(out, "`%s`", a->ref);
        break;
    case DMS_CONST:
        buf_printf(out, "`%s`", a->ref);
        break;
    case DMS_NOW:
        buf_puts(out, "the time");
        break;
    case DMS_STATE:
        buf_puts(out, "live AvailabilityState");
        break;
    case DMS_PROBLEM:
        buf_puts(out, "`true` when Faulted");
        break;
    case DMS_POWER:
        buf_puts(out, "live power");
        break;
    case DMS_IDENTITY:
        buf_puts(out, "charger identity");
        break;
    case DMS_LIST:
        buf_puts(out, "local list size");
        break;
    case DMS_PROFILES:
        buf_puts(out, "profiles installed");
        break;
    }
}

void devmodel_doc_markdown(struct buf *out)
{
    buf_puts(out, "<!-- Generated from the device model table in common/src/devmodel.c. Do not "
                  "edit. -->\n");
    buf_puts(out,
             "# OCPP 2.0.1 device model\n\n"
             "The components and variables a charger answers for in GetVariables, SetVariables, "
             "GetBaseReport and GetReport. A variable backed by a charger config key (`key`) "
             "reads that key's value (booleans as `true`/`false`) and a SetVariables writes it, "
             "checked against the key's bounds (docs/config.md); `text` is a constant. EVSE "
             "and Connector variables exist once per EVSE (connector 1 of each). WriteOnly "
             "values are never read back. Limits without a unit of their own are those of the "
             "config key.\n\n"
             "| component | variable | attributes | mutability | dataType | unit | value | "
             "meaning |\n"
             "|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        const struct dm_var *v = &table[i];
        buf_printf(out, "| %s%s | %s%s%s%s | ", v->component, scope_names[v->scope], v->variable,
                   v->instance ? "[" : "", v->instance ? v->instance : "", v->instance ? "]" : "");
        for (int a = 0, k = 0; a < DM_ATTR__COUNT; a++) {
            if (v->attr[a].src == DMS_NONE)
                continue;
            buf_printf(out, "%s%s", k++ ? ", " : "", attr_names[a]);
        }
        buf_printf(out, " | %s | %s | %s | ", mutability_names[v->mutability], data_names[v->type],
                   v->unit ? v->unit : "");
        for (int a = 0, k = 0; a < DM_ATTR__COUNT; a++) {
            if (v->attr[a].src == DMS_NONE)
                continue;
            if (k++)
                buf_puts(out, "; ");
            if (a != DM_ACTUAL)
                buf_printf(out, "%s: ", attr_names[a]);
            doc_value(out, &v->attr[a]);
        }
        buf_printf(out, " | %s |\n", v->help);
    }
}
