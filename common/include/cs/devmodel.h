/* devmodel.h - the OCPP 2.0.1 device model of a charger: one table of (component, variable)
 * rows, each mapped to a charger config key (value, type and bounds from cfg_charger_schema;
 * writes go to that key), a constant, or a live value the caller passes in. Answers
 * GetVariables and SetVariables and builds the NotifyReport parts of GetBaseReport and
 * GetReport. Pure: no I/O, the time is passed in; fuzzed (fuzz_devmodel). */
#ifndef CS_DEVMODEL_H
#define CS_DEVMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/err.h"
#include "cs/kv.h"

struct cJSON;

/* DeviceDataCtrlr.ItemsPerMessage (GetVariables, SetVariables, GetReport) and the report items
 * in one NotifyReport part; DeviceDataCtrlr.BytesPerMessage is OCPP_DOWNLINK_MAX. */
#define DM_ITEMS_PER_MESSAGE 32

/* One EVSE's live state (one connector each, connectorId 1). */
struct dm_evse {
    const char *state; /* AvailabilityState: Available, Occupied, Reserved, Unavailable,
                          Faulted; NULL: Available */
    double power_w;    /* Power, Actual */
};

/* What the model reads; all borrowed for the call. */
struct dm_charger {
    const struct charger_cfg *cfg;
    int nevse;                  /* EVSEs 1..nevse */
    const struct dm_evse *evse; /* nevse entries, or NULL: all Available, 0 W */
    const char *state;          /* the station's AvailabilityState; NULL: Available */
    const char *identity;       /* SecurityCtrlr.Identity (the rendered client_id); NULL: "" */
    int local_list_entries;     /* LocalAuthListCtrlr.Entries */
    int charging_profiles;      /* SmartChargingCtrlr.Entries[ChargingProfiles] */
    int64_t now_ms;             /* ClockCtrlr.DateTime, NotifyReport's generatedAt */
};

/* GetVariables.req's getVariableData -> GetVariables.conf's "getVariableResult" written into
 * an open object. A malformed request: an error with *code (OCPP_E_*) and nothing written. */
int devmodel_get(const struct dm_charger *c, const struct cJSON *req, struct jw *out,
                 const char **code, struct cs_error *err);

/* SetVariables.req -> SetVariables.conf's "setVariableResult" into an open object, and the
 * config writes to make (key, value text checked with cfg_check; booleans as 1/0) set in
 * writes (a key set twice keeps the last value). A malformed request: an error with *code,
 * nothing written and writes untouched. */
int devmodel_set(const struct dm_charger *c, const struct cJSON *req, struct jw *out,
                 struct kvlist *writes, const char **code, struct cs_error *err);

/* Receives one NotifyReport.req payload (borrowed; valid until it returns). */
typedef void dm_part_fn(void *privdata, const char *payload, size_t len);

/* GetBaseReport.req (base true: reportBase ConfigurationInventory | FullInventory |
 * SummaryInventory) or GetReport.req (componentVariable and componentCriteria filters) ->
 * the NotifyReport.req payloads, DM_ITEMS_PER_MESSAGE report items each, seqNo 0.., tbc true
 * on all but the last, one call of fn each (none when the set is empty). Returns the answer's
 * status: "Accepted", "EmptyResultSet", or "NotSupported" (componentCriteria naming only
 * criteria no variable of the model tracks: Active); NULL with *code for a malformed request. */
const char *devmodel_report(const struct dm_charger *c, const struct cJSON *req, bool base,
                            dm_part_fn *fn, void *privdata, const char **code,
                            struct cs_error *err);

/* Markdown reference of the device model (its table). */
void devmodel_doc_markdown(struct buf *out);

/* The table, for tests and tools. */
enum dm_scope { DM_STATION, DM_EVSE, DM_CONNECTOR };
enum dm_mutability { DM_RO, DM_RW, DM_WO };
enum dm_attr { DM_ACTUAL, DM_TARGET, DM_MINSET, DM_MAXSET, DM_ATTR__COUNT };
enum dm_data {
    DM_STRING,
    DM_DECIMAL,
    DM_INTEGER,
    DM_DATETIME,
    DM_BOOLEAN,
    DM_OPTIONLIST,
    DM_MEMBERLIST,
    DM_SEQUENCELIST
};
/* Where an attribute's value comes from. */
enum dm_src {
    DMS_NONE,     /* attribute not supported */
    DMS_CFG,      /* config key `ref`, times `scale` when not 0 */
    DMS_CONST,    /* the text `ref` */
    DMS_NOW,      /* now_ms as a dateTime */
    DMS_STATE,    /* AvailabilityState of the station or the EVSE */
    DMS_PROBLEM,  /* "true" when that state is Faulted */
    DMS_POWER,    /* the EVSE's power_w */
    DMS_IDENTITY, /* identity */
    DMS_LIST,     /* local_list_entries */
    DMS_PROFILES, /* charging_profiles */
};
struct dm_value {
    enum dm_src src;
    const char *ref;
    double scale;
};
enum dm_flags {
    DM_F_SUMMARY = 1 << 0, /* in a SummaryInventory */
};
struct dm_var {
    const char *component;
    enum dm_scope scope;
    const char *variable;
    const char *instance;          /* variable instance, NULL for none */
    enum dm_mutability mutability; /* of the config-backed attributes; the others ReadOnly */
    enum dm_data type;
    const char *unit;
    const char *values; /* valuesList; NULL: the config key's choices */
    double max_limit;   /* 0: the config key's bounds (times scale), if any */
    unsigned flags;
    struct dm_value attr[DM_ATTR__COUNT];
    const char *help;
};
const struct dm_var *devmodel_vars(size_t *n);
const char *devmodel_attr_name(enum dm_attr a);
const char *devmodel_data_name(enum dm_data t);

#endif
