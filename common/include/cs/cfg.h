/* cfg.h - typed, bounded config keys from one schema table (DESIGN §3, §6).
 * Two schemas: the charger keys ({ns}:cfg, {ns}:charger:{id}) and the fleet settings
 * ({ns}:fleet). Values live in Redis hashes as text; a bad value is rejected and the
 * previous accepted value stays. docs/config.md is generated from these tables. */
#ifndef CS_CFG_H
#define CS_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"
#include "cs/kv.h"

enum cfg_type {
    CFG_INT,
    CFG_DOUBLE,
    CFG_BOOL,
    CFG_STR,      /* bounded length, printable */
    CFG_ENUM,     /* one of `choices` */
    CFG_TEMPLATE, /* text with {placeholders} from `vars` */
    CFG_BROKERS,  /* list of MQTT URIs, comma or blank separated */
    CFG_IDFMT,    /* printf-style charger ID format, one %u */
    CFG_SET,      /* comma-separated subset of `choices`, no repeats */
};

/* When a running charger honours a change. */
enum cfg_apply {
    CFG_APPLY_NOW,       /* at once (timers rescheduled, state switched) */
    CFG_APPLY_NEXT,      /* from the next message on */
    CFG_APPLY_RECONNECT, /* the charger reconnects at once to apply it */
    CFG_APPLY_BOOT,      /* at the charger's next (re)boot */
    CFG_APPLY__COUNT
};

enum cfg_flags {
    CFG_F_SECRET = 1 << 0, /* masked in events, logs and `config get` */
};

struct cfg_def {
    const char *name;
    enum cfg_type type;
    size_t offset; /* offsetof the field in the schema's struct */
    size_t size;   /* sizeof the field (char arrays: capacity incl. NUL) */
    const char *def;
    double min, max;            /* numbers: bounds; strings: length bounds */
    const char *const *choices; /* CFG_ENUM: NULL-terminated */
    const char *vars;           /* CFG_TEMPLATE: allowed placeholders, "id,index,worker" */
    const char *unit;
    unsigned flags;
    enum cfg_apply apply;
    const char *help;
};

struct cfg_schema {
    const char *name; /* "charger" or "fleet" */
    const struct cfg_def *defs;
    size_t n;
};

#define CS_BROKERS_MAX 16

/* Effective config of one charger. */
struct charger_cfg {
    char broker[512];
    char client_id[96];
    char username[96];
    char password[96];
    int keepalive_s;
    int ws_ping_s;
    int qos;
    bool clean_session;
    int reconnect_min_ms;
    int reconnect_max_ms;
    char tls_ca[256];
    char tls_cert[256];
    char tls_key[256];
    char tls_key_password[96];
    bool tls_verify;
    char topic_up[192];
    char topic_down[192];
    bool boot_on_reconnect;
    char vendor[21];
    char model[21];
    char firmware[51];
    int connectors;
    double max_kw;
    int voltage_v;
    int phases;
    bool enabled;
    int heartbeat_s;
    int meter_s;
    char measurands[160];
    char profile[16];
    char ocpp_version[8];
    char topic_reply[192];
    bool strict;
    int call_timeout_s;
    int offline_queue;
    char id_tag[48];
    bool authorize_remote;
    bool local_pre_authorize;
    bool local_authorize_offline;
    bool allow_offline_unknown;
    bool auth_cache;
    bool local_auth_list;
    bool reserve_connector_zero;
    double sessions_per_h;
    double session_kwh;
    double battery_kwh;
    double fault_per_h;
    double time_scale;
    char on_takeover[8];
    char mqtt_client[12];
};

/* Fleet settings ({ns}:fleet). */
struct fleet_cfg {
    int size;
    char id_format[48];
    int ramp_per_s;
    int lease_ms;
    int stats_interval_ms;
    int stats_window_s;
    int report_tick_ms;
    int history_interval_s;
    int seed;
    char stats_detail[256];
    char shrink_tx[8];
};

extern const struct cfg_schema cfg_charger_schema;
extern const struct cfg_schema cfg_fleet_schema;

void cfg_defaults(const struct cfg_schema *s, void *obj);
const struct cfg_def *cfg_lookup(const struct cfg_schema *s, const char *key);
/* Validates val for key without storing it. */
int cfg_check(const struct cfg_schema *s, const char *key, const char *val, struct cs_error *err);
/* Validates and stores; obj is unchanged on error. */
int cfg_set(const struct cfg_schema *s, void *obj, const char *key, const char *val,
            struct cs_error *err);
/* The field's value as text ("***" for secrets when mask is true). */
void cfg_format(const struct cfg_def *d, const void *obj, bool mask, struct buf *out);
/* Bitmask of (1 << enum cfg_apply) over the fields that differ between a and b. */
unsigned cfg_diff(const struct cfg_schema *s, const void *a, const void *b);

/* Called for each entry of a hash that is rejected. */
typedef void cfg_reject_fn(void *privdata, const char *key, const char *val, const char *why);

/* Merges a fresh snapshot of a config hash into the accepted layer: valid fields replace,
 * invalid ones keep their previously accepted value (or stay absent), unknown keys are
 * dropped, and fields no longer in the hash are removed. Reports each rejection once per
 * distinct value through `reject` (may be NULL); `rejected` remembers what was reported. */
void cfg_layer_accept(const struct cfg_schema *s, struct kvlist *accepted, struct kvlist *rejected,
                      const struct kvlist *incoming, cfg_reject_fn *reject, void *privdata);
/* Stores every (already accepted) field of layer into obj. */
void cfg_apply_layer(const struct cfg_schema *s, void *obj, const struct kvlist *layer);

/* Number of URIs in a broker list and the i-th one (out gets at most outlen-1 chars). */
int cfg_broker_count(const char *list);
bool cfg_broker_pick(const char *list, int i, char *out, size_t outlen);

/* One broker URI taken apart: host (IPv6 without its brackets), port (the scheme's when the URI
 * names none), and whether the scheme is a TLS one. */
struct cfg_broker {
    char host[512]; /* as long as a broker list may be */
    int port;
    bool tls;
    bool ws;        /* ws:// or wss://: an OCPP-J WebSocket server */
    char path[256]; /* ws: the path before the charger's identity ("/ocpp"), "" for none */
};
int cfg_broker_parse(const char *uri, struct cfg_broker *out, struct cs_error *err);

/* Comma-separated list helpers (CFG_SET values): count of items and whether name is one. */
bool cfg_set_has(const char *list, const char *name);

/* OCPP configuration keys (GetConfiguration / ChangeConfiguration) and the charger key each
 * maps to; constants answer with a fixed value. */
struct ocpp_key {
    const char *name;     /* OCPP key */
    const char *cfg;      /* charger config key, or NULL for a constant */
    const char *constant; /* value when cfg is NULL */
    bool readonly;
};
const struct ocpp_key *ocpp_keys(size_t *n);
const struct ocpp_key *ocpp_key_lookup(const char *name);
/* The OCPP text of a config value ("true"/"false" for booleans). */
void ocpp_key_value(const struct ocpp_key *k, const struct charger_cfg *c, struct buf *out);
/* Translates an OCPP value to the charger key's text (booleans become 1/0); false if the
 * value does not fit the key. */
/* A key whose value is a secret (AuthorizationKey): written, never read back. */
bool ocpp_key_secret(const struct ocpp_key *k);
bool ocpp_key_to_cfg(const struct ocpp_key *k, const char *value, struct buf *out,
                     struct cs_error *err);

/* Markdown reference of both schemas (docs/config.md). */
void cfg_doc_markdown(struct buf *out);

#endif
