/* cfg.c - config schemas (the tables), validation, layering and the docs generator. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs/authlist.h"
#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/chprof.h"
#include "cs/ids.h"
#include "cs/mem.h"
#include "cs/util.h"

enum {
    CFG_F_TOPIC = 1 << 8,  /* template used as an MQTT topic: no wildcards */
    CFG_F_UNIQUE = 1 << 9, /* template must differ per charger: {id} or {index} in it */
};

#define F(st, field) offsetof(struct st, field), sizeof(((struct st *)0)->field)
#define NUM(st, field) offsetof(struct st, field), 0

static const char *const profiles[] = {"ocpp16j", "json", NULL};
static const char *const ocpp_versions[] = {"1.6", "2.0.1", NULL};
static const char *const shrink_modes[] = {"stop", "keep", NULL};
static const char *const takeovers[] = {"stop", "resume", NULL};
static const char *const mqtt_clients[] = {"paho", "mosquitto", NULL};
static const char *const measurand_names[] = {"Energy.Active.Import.Register",
                                              "Power.Active.Import",
                                              "Current.Import",
                                              "Voltage",
                                              "SoC",
                                              "Power.Offered",
                                              "Current.Offered",
                                              NULL};

static const struct cfg_def charger_defs[] = {
    /* MQTT */
    {"broker", CFG_BROKERS, F(charger_cfg, broker), "tcp://127.0.0.1:1883", 1, 511, NULL, NULL,
     NULL, 0, CFG_APPLY_RECONNECT,
     "Where the charger connects, a URI list, comma separated: SCHEME://host[:port] with a "
     "scheme of the bounds column, [v6] addresses in brackets; charger N uses entry N mod "
     "count. MQTT brokers: tcp, mqtt, ssl, mqtts. OCPP-J WebSocket servers (CSMS): "
     "ws://host[:port][/path] or wss://..., the charger connects to URI/CLIENT_ID (client_id) "
     "offering the subprotocol ocpp1.6. Numeric addresses avoid a blocking name lookup."},
    {"client_id", CFG_TEMPLATE, F(charger_cfg, client_id), "{id}", 1, 95, NULL, "id,index,worker",
     NULL, CFG_F_UNIQUE, CFG_APPLY_RECONNECT,
     "MQTT client ID template, and over WebSocket the charger's identity, the last segment "
     "of its URL; must contain {id} or {index} (a broker disconnects a client when another "
     "connects with the same ID)."},
    {"username", CFG_TEMPLATE, F(charger_cfg, username), "", 0, 95, NULL, "id,index", NULL, 0,
     CFG_APPLY_RECONNECT,
     "MQTT user name template (empty: none); over WebSocket the HTTP Basic auth user (OCPP "
     "security profiles 1 and 2)."},
    {"password", CFG_TEMPLATE, F(charger_cfg, password), "", 0, 95, NULL, "id,index", NULL,
     CFG_F_SECRET, CFG_APPLY_RECONNECT,
     "MQTT password template (empty: none), over WebSocket the Basic auth password; never "
     "shown."},
    {"keepalive_s", CFG_INT, NUM(charger_cfg, keepalive_s), "60", 5, 3600, NULL, NULL, "s", 0,
     CFG_APPLY_RECONNECT, "MQTT keepalive interval."},
    {"ws_ping_s", CFG_INT, NUM(charger_cfg, ws_ping_s), "60", 0, 3600, NULL, NULL, "s", 0,
     CFG_APPLY_RECONNECT,
     "WebSocket ping interval (OCPP's WebSocketPingInterval); a server silent for two "
     "intervals is taken as lost; 0: no pings."},
    {"qos", CFG_INT, NUM(charger_cfg, qos), "1", 0, 2, NULL, NULL, NULL, 0, CFG_APPLY_NEXT,
     "QoS of outgoing messages."},
    {"clean_session", CFG_BOOL, NUM(charger_cfg, clean_session), "1", 0, 1, NULL, NULL, NULL, 0,
     CFG_APPLY_RECONNECT, "MQTT clean session flag."},
    {"mqtt_client", CFG_ENUM, F(charger_cfg, mqtt_client), "mosquitto", 1, 11, mqtt_clients, NULL,
     NULL, 0, CFG_APPLY_RECONNECT,
     "MQTT client library: paho (paho.mqtt.c's MQTTAsync, its own threads) or mosquitto "
     "(libmosquitto driven by the worker's event loop, one socket per charger); "
     "docs/performance.md compares the two."},
    {"reconnect_min_ms", CFG_INT, NUM(charger_cfg, reconnect_min_ms), "1000", 100, 600000, NULL,
     NULL, "ms", 0, CFG_APPLY_NEXT,
     "First reconnect backoff; doubles per failed attempt, full jitter."},
    {"reconnect_max_ms", CFG_INT, NUM(charger_cfg, reconnect_max_ms), "30000", 100, 3600000, NULL,
     NULL, "ms", 0, CFG_APPLY_NEXT, "Backoff ceiling."},
    /* TLS (ssl:// or mqtts:// brokers) */
    {"tls_ca", CFG_STR, F(charger_cfg, tls_ca), "", 0, 255, NULL, NULL, NULL, 0,
     CFG_APPLY_RECONNECT,
     "CA certificate file (PEM) the broker's certificate must chain to; empty: the system's "
     "trust store."},
    {"tls_cert", CFG_TEMPLATE, F(charger_cfg, tls_cert), "", 0, 255, NULL, "id,index", NULL, 0,
     CFG_APPLY_RECONNECT,
     "Client certificate file (PEM) for brokers that authenticate devices by certificate, e.g. "
     "/etc/chargeswarm/certs/{id}.pem; empty: none."},
    {"tls_key", CFG_TEMPLATE, F(charger_cfg, tls_key), "", 0, 255, NULL, "id,index", NULL, 0,
     CFG_APPLY_RECONNECT, "Private key file (PEM) of tls_cert; empty: the key is in tls_cert."},
    {"tls_key_password", CFG_STR, F(charger_cfg, tls_key_password), "", 0, 95, NULL, NULL, NULL,
     CFG_F_SECRET, CFG_APPLY_RECONNECT, "Password of an encrypted tls_key; never shown."},
    {"tls_verify", CFG_BOOL, NUM(charger_cfg, tls_verify), "1", 0, 1, NULL, NULL, NULL, 0,
     CFG_APPLY_RECONNECT,
     "Check the broker's certificate chain and host name; 0 accepts any certificate (test "
     "brokers only)."},
    /* platform profile */
    {"topic_up", CFG_TEMPLATE, F(charger_cfg, topic_up), "chargers/{id}/up/{msg}", 1, 191, NULL,
     "id,index,msg,worker", NULL, CFG_F_TOPIC, CFG_APPLY_NEXT,
     "Topic template of messages the charger sends."},
    {"topic_down", CFG_TEMPLATE, F(charger_cfg, topic_down), "chargers/{id}/down", 1, 191, NULL,
     "id,index,worker", NULL, CFG_F_TOPIC, CFG_APPLY_RECONNECT,
     "Topic the charger subscribes to for the platform's commands."},
    {"boot_on_reconnect", CFG_BOOL, NUM(charger_cfg, boot_on_reconnect), "1", 0, 1, NULL, NULL,
     NULL, 0, CFG_APPLY_NEXT, "Send BootNotification after every reconnect, not only the first."},
    /* charger */
    {"vendor", CFG_STR, F(charger_cfg, vendor), "Chargeswarm", 1, 20, NULL, NULL, NULL, 0,
     CFG_APPLY_BOOT, "chargePointVendor (OCPP: at most 20 characters)."},
    {"model", CFG_STR, F(charger_cfg, model), "VC-22", 1, 20, NULL, NULL, NULL, 0, CFG_APPLY_BOOT,
     "chargePointModel (OCPP: at most 20 characters)."},
    {"firmware", CFG_STR, F(charger_cfg, firmware), "1.0.0", 0, 50, NULL, NULL, NULL, 0,
     CFG_APPLY_BOOT, "firmwareVersion (OCPP: at most 50 characters)."},
    {"connectors", CFG_INT, NUM(charger_cfg, connectors), "1", 1, 8, NULL, NULL, NULL, 0,
     CFG_APPLY_BOOT, "Number of connectors (connector 0 is the charge point itself)."},
    {"max_kw", CFG_DOUBLE, NUM(charger_cfg, max_kw), "22", 0.1, 1000, NULL, NULL, "kW", 0,
     CFG_APPLY_NOW, "Power drawn by a charging connector; the energy register grows by it."},
    {"voltage_v", CFG_INT, NUM(charger_cfg, voltage_v), "230", 100, 1500, NULL, NULL, "V", 0,
     CFG_APPLY_NEXT, "Nominal voltage reported in MeterValues."},
    {"phases", CFG_INT, NUM(charger_cfg, phases), "3", 1, 3, NULL, NULL, NULL, 0, CFG_APPLY_NOW,
     "Phases the charger draws on: a charging profile's limit in A is limit x voltage_v x "
     "phases W (or its numberPhases)."},
    {"enabled", CFG_BOOL, NUM(charger_cfg, enabled), "1", 0, 1, NULL, NULL, NULL, 0, CFG_APPLY_NOW,
     "0 disconnects the charger and keeps it offline; 1 brings it back."},
    /* reporting */
    {"heartbeat_s", CFG_INT, NUM(charger_cfg, heartbeat_s), "60", 1, 86400, NULL, NULL, "s", 0,
     CFG_APPLY_NOW, "Heartbeat period; a change reschedules the timer at once."},
    {"meter_s", CFG_INT, NUM(charger_cfg, meter_s), "60", 1, 86400, NULL, NULL, "s", 0,
     CFG_APPLY_NOW, "MeterValues period; a change reschedules the timer at once."},
    {"measurands", CFG_SET, F(charger_cfg, measurands),
     "Energy.Active.Import.Register,Power.Active.Import,Voltage", 1, 159, measurand_names, NULL,
     NULL, 0, CFG_APPLY_NEXT,
     "Sampled values in MeterValues: Energy.Active.Import.Register, Power.Active.Import, "
     "Current.Import, Voltage, SoC."},
    /* protocol */
    {"profile", CFG_ENUM, F(charger_cfg, profile), "ocpp16j", 1, 15, profiles, NULL, NULL, 0,
     CFG_APPLY_RECONNECT,
     "ocpp16j: OCPP-J frames [2,id,Action,{...}]; json: flat envelope "
     "{\"id\",\"ts\",\"type\",\"data\"} for platforms that do not speak OCPP."},
    {"ocpp_version", CFG_ENUM, F(charger_cfg, ocpp_version), "1.6", 1, 7, ocpp_versions, NULL, NULL,
     0, CFG_APPLY_RECONNECT,
     "OCPP version the charger speaks: 1.6 or 2.0.1 (over WebSocket the subprotocol ocpp1.6 or "
     "ocpp2.0.1; over MQTT the same topics carry the version's frames). Taken at the next "
     "connect, which boots."},
    {"topic_reply", CFG_TEMPLATE, F(charger_cfg, topic_reply), "chargers/{id}/up/{msg}", 1, 191,
     NULL, "id,index,msg,worker", NULL, CFG_F_TOPIC, CFG_APPLY_NEXT,
     "Topic of the charger's answers to the platform's commands; {msg} is the action with "
     "\"Response\" appended (RemoteStartTransactionResponse)."},
    {"strict", CFG_BOOL, NUM(charger_cfg, strict), "1", 0, 1, NULL, NULL, NULL, 0, CFG_APPLY_NOW,
     "Refuse status changes the OCPP 1.6 transition table forbids; 0 allows deliberate "
     "protocol violations."},
    {"call_timeout_s", CFG_INT, NUM(charger_cfg, call_timeout_s), "30", 1, 600, NULL, NULL, "s", 0,
     CFG_APPLY_NEXT, "A CALL the platform leaves unanswered this long is counted as timed out."},
    {"offline_queue", CFG_INT, NUM(charger_cfg, offline_queue), "100", 0, 10000, NULL, NULL, NULL,
     0, CFG_APPLY_NEXT,
     "Transaction messages (StartTransaction, StopTransaction, MeterValues of a transaction) "
     "kept while disconnected and sent in order on reconnect; the oldest are dropped beyond."},
    {"id_tag", CFG_TEMPLATE, F(charger_cfg, id_tag), "TAG-{index}", 1, 47, NULL, "id,index", NULL,
     0, CFG_APPLY_NEXT, "idTag presented when a session starts without one (cut to 20 chars)."},
    {"authorize_remote", CFG_BOOL, NUM(charger_cfg, authorize_remote), "0", 0, 1, NULL, NULL, NULL,
     0, CFG_APPLY_NEXT,
     "Send Authorize before a RemoteStartTransaction (AuthorizeRemoteTxRequests)."},
    {"local_pre_authorize", CFG_BOOL, NUM(charger_cfg, local_pre_authorize), "0", 0, 1, NULL, NULL,
     NULL, 0, CFG_APPLY_NEXT,
     "Start at once, without Authorize, an idTag the local list or cache accepts "
     "(LocalPreAuthorize)."},
    {"local_authorize_offline", CFG_BOOL, NUM(charger_cfg, local_authorize_offline), "1", 0, 1,
     NULL, NULL, NULL, 0, CFG_APPLY_NEXT,
     "While the platform is unreachable, start an idTag the local list or cache accepts "
     "(LocalAuthorizeOffline)."},
    {"allow_offline_unknown", CFG_BOOL, NUM(charger_cfg, allow_offline_unknown), "1", 0, 1, NULL,
     NULL, NULL, 0, CFG_APPLY_NEXT,
     "While the platform is unreachable, start an idTag neither the local list nor the cache "
     "knows (AllowOfflineTxForUnknownId)."},
    {"auth_cache", CFG_BOOL, NUM(charger_cfg, auth_cache), "1", 0, 1, NULL, NULL, NULL, 0,
     CFG_APPLY_NEXT,
     "Keep the idTagInfo of the platform's answers in the Authorization Cache "
     "(AuthorizationCacheEnabled)."},
    {"local_auth_list", CFG_BOOL, NUM(charger_cfg, local_auth_list), "1", 0, 1, NULL, NULL, NULL, 0,
     CFG_APPLY_NEXT,
     "Take and use the platform's Local Authorization List (LocalAuthListEnabled); 0: "
     "SendLocalList is answered NotSupported."},
    {"reserve_connector_zero", CFG_BOOL, NUM(charger_cfg, reserve_connector_zero), "1", 0, 1, NULL,
     NULL, NULL, 0, CFG_APPLY_NEXT,
     "Accept a ReserveNow for connector 0: one connector is kept for the idTag "
     "(ReserveConnectorZeroSupported)."},
    /* behaviour */
    {"sessions_per_h", CFG_DOUBLE, NUM(charger_cfg, sessions_per_h), "0", 0, 3600, NULL, NULL,
     "1/h", 0, CFG_APPLY_NOW,
     "Automatic charging sessions per connector and hour (Poisson arrivals, in scaled time)."},
    {"session_kwh", CFG_DOUBLE, NUM(charger_cfg, session_kwh), "20", 0.1, 1000, NULL, NULL, "kWh",
     0, CFG_APPLY_NEXT, "Mean energy of an automatic session (exponentially distributed)."},
    {"battery_kwh", CFG_DOUBLE, NUM(charger_cfg, battery_kwh), "60", 1, 500, NULL, NULL, "kWh", 0,
     CFG_APPLY_NEXT, "EV battery size, for the SoC measurand."},
    {"fault_per_h", CFG_DOUBLE, NUM(charger_cfg, fault_per_h), "0", 0, 3600, NULL, NULL, "1/h", 0,
     CFG_APPLY_NOW, "Random connector faults per hour (scaled time); each clears after a while."},
    {"time_scale", CFG_DOUBLE, NUM(charger_cfg, time_scale), "1", 0.01, 10000, NULL, NULL, NULL, 0,
     CFG_APPLY_NOW,
     "Compresses simulated time: at 60 a one-hour session takes a minute (energy and arrival "
     "rates scale alike)."},
    {"on_takeover", CFG_ENUM, F(charger_cfg, on_takeover), "stop", 1, 7, takeovers, NULL, NULL, 0,
     CFG_APPLY_NEXT,
     "A transaction open when the charger's worker died: stop (StopTransaction reason "
     "PowerLoss once the new owner has it connected) or resume. Planned moves always resume."},
};

static const struct cfg_def fleet_defs[] = {
    {"size", CFG_INT, NUM(fleet_cfg, size), "0", 0, CS_FLEET_MAX, NULL, NULL, NULL, 0,
     CFG_APPLY_NOW,
     "Number of chargers in the fleet (indexes 1..size); `swarm-cli scale N` sets it."},
    {"id_format", CFG_IDFMT, F(fleet_cfg, id_format), "CP-%06u", 3, 47, NULL, NULL, NULL, 0,
     CFG_APPLY_RECONNECT, "printf format of charger IDs, one %u (%0Nu pads)."},
    {"ramp_per_s", CFG_INT, NUM(fleet_cfg, ramp_per_s), "200", 1, 100000, NULL, NULL, "1/s", 0,
     CFG_APPLY_NOW, "Connects (and reconnects) per second, per worker."},
    {"lease_ms", CFG_INT, NUM(fleet_cfg, lease_ms), "5000", 1000, 600000, NULL, NULL, "ms", 0,
     CFG_APPLY_NOW,
     "Worker lease: a worker silent this long is considered gone and its chargers move."},
    {"stats_interval_ms", CFG_INT, NUM(fleet_cfg, stats_interval_ms), "1000", 100, 60000, NULL,
     NULL, "ms", 0, CFG_APPLY_NOW,
     "How often workers write {ns}:stats:{worker} and {ns}:ts:{worker}."},
    {"stats_window_s", CFG_INT, NUM(fleet_cfg, stats_window_s), "10", 1, 3600, NULL, NULL, "s", 0,
     CFG_APPLY_NOW,
     "The window of the recent latency percentiles (`<name>_win_p99_ms` ...) beside the "
     "since-start ones: what the platform does now, not averaged over the whole run."},
    {"report_tick_ms", CFG_INT, NUM(fleet_cfg, report_tick_ms), "1000", 0, 10000, NULL, NULL, "ms",
     0, CFG_APPLY_NOW,
     "Periodic reports (Heartbeat, MeterValues) of one worker go out on a common grid of this "
     "many ms, so one wake-up of the MQTT library's receive thread serves many acknowledgements "
     "(its cost grows with the clients in the process); each charger keeps its own phase "
     "within the period to this precision. 0: every report at its own moment."},
    {"history_interval_s", CFG_INT, NUM(fleet_cfg, history_interval_s), "5", 1, 3600, NULL, NULL,
     "s", 0, CFG_APPLY_NOW,
     "How often the coordinator adds the fleet's cumulative figures (per action included) to "
     "{ns}:history, which reports read for figures over time (docs/results.md)."},
    {"seed", CFG_INT, NUM(fleet_cfg, seed), "0", 0, 2147483647, NULL, NULL, NULL, 0, CFG_APPLY_NOW,
     "Seed of the chargers' random behaviour (arrivals, energy, faults); 0 = a new one per run. "
     "A fixed seed replays the same sessions. Also the seed of random: selectors in commands "
     "that name none: 0 = a new sample per command (every worker picks the same one), fixed = "
     "the same sample every time. Config layers keep their sample (seeded by the layer's "
     "name)."},
    {"stats_detail", CFG_STR, F(fleet_cfg, stats_detail), "", 0, 255, NULL, NULL, NULL, 0,
     CFG_APPLY_NOW,
     "Selector of chargers that also get per-charger counters in {ns}:stats:charger:{id} "
     "(empty: none)."},
    {"shrink_tx", CFG_ENUM, F(fleet_cfg, shrink_tx), "stop", 1, 7, shrink_modes, NULL, NULL, 0,
     CFG_APPLY_NOW,
     "What a charger leaving the fleet (a smaller `size`) does with its open transactions: "
     "stop = StopTransaction (reason Local) before it disconnects; keep = it disconnects at "
     "once and leaves them open. `swarm-cli scale N` writes stop, `scale N --abrupt` keep. A "
     "charger that only moves to another worker always keeps them."},
};

const struct cfg_schema cfg_charger_schema = {"charger", charger_defs, ARRAY_SIZE(charger_defs)};
const struct cfg_schema cfg_fleet_schema = {"fleet", fleet_defs, ARRAY_SIZE(fleet_defs)};

const struct cfg_def *cfg_lookup(const struct cfg_schema *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->defs[i].name, key) == 0)
            return &s->defs[i];
    return NULL;
}

static bool var_allowed(const char *vars, const char *name, size_t n)
{
    const char *p = vars;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static int check_template(const struct cfg_def *d, const char *v, struct cs_error *err)
{
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return cs_error_set(err, CS_ERR_PARSE, "%s: control character at offset %zu", d->name,
                                (size_t)(p - v));
        if ((d->flags & CFG_F_TOPIC) && (c == '+' || c == '#'))
            return cs_error_set(err, CS_ERR_PARSE,
                                "%s: MQTT wildcard '%c' at offset %zu is not allowed in a topic",
                                d->name, c, (size_t)(p - v));
        if (c == '}')
            return cs_error_set(err, CS_ERR_PARSE, "%s: unmatched '}' at offset %zu", d->name,
                                (size_t)(p - v));
        if (c == '{') {
            const char *end = strchr(p, '}');
            if (!end)
                return cs_error_set(err, CS_ERR_PARSE, "%s: unterminated '{' at offset %zu",
                                    d->name, (size_t)(p - v));
            if (!var_allowed(d->vars, p + 1, (size_t)(end - p - 1))) {
                /* The reason reaches events and logs: never quote part of a secret. */
                if (d->flags & CFG_F_SECRET)
                    return cs_error_set(err, CS_ERR_UNKNOWN,
                                        "%s: unknown placeholder at offset %zu (allowed: %s)",
                                        d->name, (size_t)(p - v), d->vars);
                return cs_error_set(
                    err, CS_ERR_UNKNOWN, "%s: unknown placeholder '%.*s' (allowed: %s)", d->name,
                    (int)cs_utf8_clip(p, (size_t)(end - p + 1 > 40 ? 40 : end - p + 1)), p,
                    d->vars);
            }
            p = end;
        }
    }
    return CS_OK;
}

/* A template that differs per charger: it names {id} or {index}. */
static bool names_charger(const char *v)
{
    return strstr(v, "{id}") || strstr(v, "{index}");
}

int cfg_broker_count(const char *list)
{
    int n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        n++;
        while (*p && *p != ',' && *p != ' ')
            p++;
    }
    return n;
}

bool cfg_broker_pick(const char *list, int i, char *out, size_t outlen)
{
    int n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if (n++ == i) {
            size_t l = (size_t)(p - start);
            if (l >= outlen)
                return false;
            memcpy(out, start, l);
            out[l] = '\0';
            return true;
        }
    }
    return false;
}

/* The broker URI schemes accepted (the agent hands mqtt:// and mqtts:// to paho as tcp:// and
 * ssl://), with the port used when the URI names none; docs/config.md lists them. ws:// and
 * wss:// are OCPP-J WebSocket servers (a path may follow the port). */
static const struct {
    const char *prefix;
    bool tls, ws;
    int port;
} schemes[] = {
    {"tcp://", false, false, 1883},  {"mqtt://", false, false, 1883}, {"ssl://", true, false, 8883},
    {"mqtts://", true, false, 8883}, {"ws://", false, true, 80},      {"wss://", true, true, 443},
};

/* A WebSocket URI's path: printable ASCII without spaces, quotes, '?' or '#'. */
static bool path_ok(const char *p)
{
    for (; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '?' || *p == '#' || *p == '\\')
            return false;
    return true;
}

static int uri_parse(const char *name, const char *u, struct cfg_broker *b, struct cs_error *err)
{
    const char *rest = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
        if (strncmp(u, schemes[i].prefix, strlen(schemes[i].prefix)) == 0) {
            rest = u + strlen(schemes[i].prefix);
            b->tls = schemes[i].tls;
            b->ws = schemes[i].ws;
            b->port = schemes[i].port;
        }
    if (!rest)
        return cs_error_set(err, CS_ERR_PARSE,
                            "%s: '%.*s' must start with tcp://, mqtt://, ssl://, mqtts://, ws:// "
                            "or wss://",
                            name, CS_UTF8_CLIP(u, 60));
    /* host[:port], then a path for WebSocket servers only */
    char auth[sizeof(b->host) + 8];
    const char *slash = strchr(rest, '/');
    size_t al = slash ? (size_t)(slash - rest) : strlen(rest);
    b->path[0] = '\0';
    if (slash) {
        if (!b->ws)
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': an MQTT broker URI has no path",
                                name, CS_UTF8_CLIP(u, 60));
        size_t pl = strlen(slash);
        while (pl > 1 && slash[pl - 1] == '/')
            pl--; /* the charger's identity is appended with its own '/' */
        if (pl >= sizeof(b->path) || !path_ok(slash))
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': bad path", name,
                                CS_UTF8_CLIP(u, 60));
        if (pl > 1) {
            memcpy(b->path, slash, pl);
            b->path[pl] = '\0';
        }
    }
    if (al >= sizeof(auth))
        return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': bad host length", name,
                            CS_UTF8_CLIP(u, 60));
    memcpy(auth, rest, al);
    auth[al] = '\0';
    const char *host = auth, *colon;
    size_t hl;
    if (*host == '[') {
        const char *rb = strchr(host, ']');
        if (!rb)
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': unterminated [IPv6]", name,
                                CS_UTF8_CLIP(u, 60));
        colon = rb[1] == ':' ? rb + 1 : (rb[1] ? rb + 1 : NULL);
        if (colon && *colon != ':')
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': junk after ]", name,
                                CS_UTF8_CLIP(u, 60));
        host++;
        hl = (size_t)(rb - host);
    } else {
        colon = strchr(host, ':');
        hl = colon ? (size_t)(colon - host) : strlen(host);
        if (hl == 0)
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': missing host", name,
                                CS_UTF8_CLIP(u, 60));
        for (size_t i = 0; i < hl; i++)
            if (!(isalnum((unsigned char)host[i]) || host[i] == '.' || host[i] == '-'))
                return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': bad host character '%c'", name,
                                    CS_UTF8_CLIP(u, 60), host[i]);
    }
    if (hl == 0 || hl >= sizeof(b->host))
        return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s': bad host length", name,
                            CS_UTF8_CLIP(u, 60));
    memcpy(b->host, host, hl);
    b->host[hl] = '\0';
    if (colon) {
        int64_t port;
        if (!cs_parse_i64(colon + 1, 1, 65535, &port))
            return cs_error_set(err, CS_ERR_RANGE, "%s: '%.*s': port must be 1..65535", name,
                                CS_UTF8_CLIP(u, 60));
        b->port = (int)port;
    }
    return CS_OK;
}

int cfg_broker_parse(const char *uri, struct cfg_broker *out, struct cs_error *err)
{
    return uri_parse("broker", uri, out, err);
}

static int check_uri(const char *name, const char *u, struct cs_error *err)
{
    struct cfg_broker b;
    return uri_parse(name, u, &b, err);
}

static int check_brokers(const struct cfg_def *d, const char *v, struct cs_error *err)
{
    int n = cfg_broker_count(v);
    if (n == 0)
        return cs_error_set(err, CS_ERR_PARSE, "%s: empty broker list", d->name);
    if (n > CS_BROKERS_MAX)
        return cs_error_set(err, CS_ERR_RANGE, "%s: more than %d brokers", d->name, CS_BROKERS_MAX);
    for (int i = 0; i < n; i++) {
        char u[512];
        if (!cfg_broker_pick(v, i, u, sizeof(u)))
            return cs_error_set(err, CS_ERR_RANGE, "%s: URI too long", d->name);
        int rc = check_uri(d->name, u, err);
        if (rc)
            return rc;
    }
    return CS_OK;
}

bool cfg_set_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

static int check_set(const struct cfg_def *d, const char *v, struct cs_error *err)
{
    const char *p = v;
    char seen[512] = "";
    if (!*v)
        return cs_error_set(err, CS_ERR_PARSE, "%s: empty list", d->name);
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (l == 0 || l >= sizeof(item))
            return cs_error_set(err, CS_ERR_PARSE, "%s: empty or overlong item at offset %zu",
                                d->name, (size_t)(p - v));
        memcpy(item, p, l);
        item[l] = '\0';
        bool known = false;
        for (const char *const *ch = d->choices; *ch; ch++)
            known |= strcmp(*ch, item) == 0;
        if (!known)
            return cs_error_set(err, CS_ERR_UNKNOWN, "%s: unknown item '%s'", d->name, item);
        if (cfg_set_has(seen, item))
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%s' listed twice", d->name, item);
        if (strlen(seen) + l + 2 < sizeof(seen)) {
            if (seen[0])
                strcat(seen, ",");
            strcat(seen, item);
        }
        if (!comma)
            break;
        p = comma + 1;
        if (!*p)
            return cs_error_set(err, CS_ERR_PARSE, "%s: trailing comma", d->name);
    }
    return CS_OK;
}

/* Validates v for d; on success stores into obj when obj is not NULL. */
static int parse_value(const struct cfg_def *d, void *obj, const char *v, struct cs_error *err)
{
    char *field = obj ? (char *)obj + d->offset : NULL;
    size_t len = strlen(v);
    int rc;

    switch (d->type) {
    case CFG_INT: {
        int64_t x;
        if (!cs_parse_i64(v, (int64_t)d->min, (int64_t)d->max, &x))
            return cs_error_set(
                err, CS_ERR_RANGE, "%s: '%.*s' is not an integer in %.15g..%.15g%s%s", d->name,
                CS_UTF8_CLIP(v, 40), d->min, d->max, d->unit ? " " : "", d->unit ? d->unit : "");
        if (field)
            *(int *)field = (int)x;
        return CS_OK;
    }
    case CFG_DOUBLE: {
        double x;
        if (!cs_parse_double(v, d->min, d->max, &x))
            return cs_error_set(err, CS_ERR_RANGE, "%s: '%.*s' is not a number in %.15g..%.15g%s%s",
                                d->name, CS_UTF8_CLIP(v, 40), d->min, d->max, d->unit ? " " : "",
                                d->unit ? d->unit : "");
        if (field)
            *(double *)field = x;
        return CS_OK;
    }
    case CFG_BOOL: {
        bool b;
        if (!cs_parse_bool(v, &b))
            return cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s' is not a boolean (1/0, true/false)",
                                d->name, CS_UTF8_CLIP(v, 40));
        if (field)
            *(bool *)field = b;
        return CS_OK;
    }
    case CFG_ENUM:
        for (const char *const *c = d->choices; *c; c++)
            if (strcmp(*c, v) == 0)
                goto store_string;
        return cs_error_set(err, CS_ERR_UNKNOWN, "%s: '%.*s' is not one of the allowed values",
                            d->name, CS_UTF8_CLIP(v, 40));
    case CFG_STR:
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return cs_error_set(err, CS_ERR_PARSE, "%s: control character at offset %zu",
                                    d->name, i);
        goto store_string;
    case CFG_TEMPLATE:
        rc = check_template(d, v, err);
        if (rc)
            return rc;
        goto store_string;
    case CFG_BROKERS:
        rc = check_brokers(d, v, err);
        if (rc)
            return rc;
        goto store_string;
    case CFG_SET:
        rc = check_set(d, v, err);
        if (rc)
            return rc;
        goto store_string;
    case CFG_IDFMT: {
        struct idfmt f;
        rc = idfmt_parse(&f, v, err);
        if (rc)
            return rc;
        goto store_string;
    }
    }
    return cs_error_set(err, CS_ERR_INVAL, "%s: unsupported type", d->name);

store_string:
    if (len < (size_t)d->min || len > (size_t)d->max || len >= d->size)
        return cs_error_set(err, CS_ERR_RANGE, "%s: length %zu outside %g..%g", d->name, len,
                            d->min, d->max);
    if ((d->flags & CFG_F_UNIQUE) && !names_charger(v))
        return cs_error_set(err, CS_ERR_PARSE,
                            "%s: needs {id} or {index}: without them every charger has the same "
                            "MQTT client ID and the broker keeps disconnecting one for another",
                            d->name);
    if (field)
        memcpy(field, v, len + 1);
    return CS_OK;
}

void cfg_defaults(const struct cfg_schema *s, void *obj)
{
    for (size_t i = 0; i < s->n; i++) {
        int rc = parse_value(&s->defs[i], obj, s->defs[i].def, NULL);
        (void)rc; /* the defaults are checked by the unit tests */
    }
}

int cfg_check(const struct cfg_schema *s, const char *key, const char *val, struct cs_error *err)
{
    const struct cfg_def *d = cfg_lookup(s, key);
    if (!d)
        return cs_error_set(err, CS_ERR_UNKNOWN, "unknown %s config key '%.*s'", s->name,
                            CS_UTF8_CLIP(key, 60));
    return parse_value(d, NULL, val, err);
}

int cfg_set(const struct cfg_schema *s, void *obj, const char *key, const char *val,
            struct cs_error *err)
{
    const struct cfg_def *d = cfg_lookup(s, key);
    if (!d)
        return cs_error_set(err, CS_ERR_UNKNOWN, "unknown %s config key '%.*s'", s->name,
                            CS_UTF8_CLIP(key, 60));
    return parse_value(d, obj, val, err);
}

void cfg_format(const struct cfg_def *d, const void *obj, bool mask, struct buf *out)
{
    const char *field = (const char *)obj + d->offset;
    if (mask && (d->flags & CFG_F_SECRET) && *field) {
        buf_puts(out, "***");
        return;
    }
    switch (d->type) {
    case CFG_INT:
        buf_printf(out, "%d", *(const int *)field);
        break;
    case CFG_DOUBLE:
        buf_printf(out, "%g", *(const double *)field);
        break;
    case CFG_BOOL:
        buf_puts(out, *(const bool *)field ? "1" : "0");
        break;
    default:
        buf_puts(out, field);
    }
}

static bool field_equal(const struct cfg_def *d, const void *a, const void *b)
{
    const char *x = (const char *)a + d->offset, *y = (const char *)b + d->offset;
    switch (d->type) {
    case CFG_INT:
        return *(const int *)x == *(const int *)y;
    case CFG_DOUBLE:
        return *(const double *)x == *(const double *)y;
    case CFG_BOOL:
        return *(const bool *)x == *(const bool *)y;
    default:
        return strcmp(x, y) == 0;
    }
}

unsigned cfg_diff(const struct cfg_schema *s, const void *a, const void *b)
{
    unsigned mask = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!field_equal(&s->defs[i], a, b))
            mask |= 1u << s->defs[i].apply;
    return mask;
}

void cfg_layer_accept(const struct cfg_schema *s, struct kvlist *accepted, struct kvlist *rejected,
                      const struct kvlist *incoming, cfg_reject_fn *reject, void *privdata)
{
    struct kvlist next = KVLIST_INIT, seen = KVLIST_INIT;
    struct cs_error err;

    for (size_t i = 0; i < incoming->n; i++) {
        const char *k = incoming->v[i].key, *v = incoming->v[i].val;
        if (cfg_check(s, k, v, &err) == CS_OK) {
            kv_set(&next, k, v);
            continue;
        }
        const char *old = kv_get(accepted, k);
        if (old)
            kv_set(&next, k, old);
        kv_set(&seen, k, v);
        const char *before = rejected ? kv_get(rejected, k) : NULL;
        if (reject && !(before && strcmp(before, v) == 0)) {
            const struct cfg_def *d = cfg_lookup(s, k);
            reject(privdata, k, d && (d->flags & CFG_F_SECRET) ? "***" : v, err.msg);
        }
    }
    kv_free(accepted);
    *accepted = next;
    if (rejected) {
        kv_free(rejected);
        *rejected = seen;
    } else {
        kv_free(&seen);
    }
}

void cfg_apply_layer(const struct cfg_schema *s, void *obj, const struct kvlist *layer)
{
    for (size_t i = 0; i < layer->n; i++) {
        int rc = cfg_set(s, obj, layer->v[i].key, layer->v[i].val, NULL);
        (void)rc; /* layer entries were accepted by cfg_layer_accept */
    }
}

/* OCPP 1.6 configuration keys the chargers answer for (GetConfiguration, ChangeConfiguration). */
static const struct ocpp_key ocpp_key_table[] = {
    {"HeartbeatInterval", "heartbeat_s", NULL, false},
    {"MeterValueSampleInterval", "meter_s", NULL, false},
    {"MeterValuesSampledData", "measurands", NULL, false},
    {"AuthorizeRemoteTxRequests", "authorize_remote", NULL, false},
    {"WebSocketPingInterval", "ws_ping_s", NULL, false},
    {"AuthorizationKey", "password", NULL, false}, /* write-only: GetConfiguration omits it */
    {"LocalPreAuthorize", "local_pre_authorize", NULL, false},
    {"LocalAuthorizeOffline", "local_authorize_offline", NULL, false},
    {"AllowOfflineTxForUnknownId", "allow_offline_unknown", NULL, false},
    {"AuthorizationCacheEnabled", "auth_cache", NULL, false},
    {"LocalAuthListEnabled", "local_auth_list", NULL, false},
    {"ReserveConnectorZeroSupported", "reserve_connector_zero", NULL, false},
    {"NumberOfConnectors", "connectors", NULL, true},
    {"ClockAlignedDataInterval", NULL, "0", true},
    {"ConnectionTimeOut", NULL, "60", true},
    {"ConnectorPhaseRotation", NULL, "0.RST", true},
    {"GetConfigurationMaxKeys", NULL, "64", true},
    {"MeterValuesAlignedData", NULL, "", true},
    {"ResetRetries", NULL, "0", true},
    {"StopTransactionOnEVSideDisconnect", NULL, "true", true},
    {"StopTransactionOnInvalidId", NULL, "true", true},
    {"StopTxnAlignedData", NULL, "", true},
    {"StopTxnSampledData", NULL, "Energy.Active.Import.Register", true},
    {"TransactionMessageAttempts", NULL, "3", true},
    {"TransactionMessageRetryInterval", NULL, "30", true},
    {"UnlockConnectorOnEVSideDisconnect", NULL, "true", true},
    {"SupportedFeatureProfiles", NULL,
     "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
     true},
    {"LocalAuthListMaxLength", NULL, CS_STR(AUTHLIST_MAX), true},
    {"SendLocalListMaxLength", NULL, CS_STR(AUTHLIST_SEND_MAX), true},
    {"ChargeProfileMaxStackLevel", NULL, CS_STR(CHPROF_MAX_STACK), true},
    {"ChargingScheduleAllowedChargingRateUnit", NULL, "Current,Power", true},
    {"ChargingScheduleMaxPeriods", NULL, CS_STR(CHPROF_MAX_PERIODS), true},
    {"MaxChargingProfilesInstalled", NULL, CS_STR(CHPROF_MAX_INSTALLED), true},
    {"ConnectorSwitch3to1PhaseSupported", NULL, "false", true},
    {"ChargeswarmMaxPowerKw", "max_kw", NULL, false},
    {"ChargeswarmSessionsPerHour", "sessions_per_h", NULL, false},
};

const struct ocpp_key *ocpp_keys(size_t *n)
{
    *n = ARRAY_SIZE(ocpp_key_table);
    return ocpp_key_table;
}

const struct ocpp_key *ocpp_key_lookup(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(ocpp_key_table); i++)
        if (strcmp(ocpp_key_table[i].name, name) == 0)
            return &ocpp_key_table[i];
    return NULL;
}

void ocpp_key_value(const struct ocpp_key *k, const struct charger_cfg *c, struct buf *out)
{
    if (!k->cfg) {
        buf_puts(out, k->constant);
        return;
    }
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, k->cfg);
    if (d->type == CFG_BOOL)
        buf_puts(out, *(const bool *)((const char *)c + d->offset) ? "true" : "false");
    else
        cfg_format(d, c, true, out);
}

bool ocpp_key_secret(const struct ocpp_key *k)
{
    const struct cfg_def *d = k->cfg ? cfg_lookup(&cfg_charger_schema, k->cfg) : NULL;
    return d && (d->flags & CFG_F_SECRET);
}

bool ocpp_key_to_cfg(const struct ocpp_key *k, const char *value, struct buf *out,
                     struct cs_error *err)
{
    if (k->readonly || !k->cfg) {
        cs_error_set(err, CS_ERR_STATE, "%s is read-only", k->name);
        return false;
    }
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, k->cfg);
    bool b;
    if (d->type == CFG_BOOL) {
        if (!cs_parse_bool(value, &b)) {
            cs_error_set(err, CS_ERR_PARSE, "%s: '%.*s' is not true or false", k->name,
                         CS_UTF8_CLIP(value, 40));
            return false;
        }
        buf_puts(out, b ? "1" : "0");
    } else {
        buf_puts(out, value);
    }
    return cfg_check(&cfg_charger_schema, k->cfg, buf_cstr(out), err) == CS_OK;
}

static const char *const type_names[] = {
    [CFG_INT] = "integer",      [CFG_DOUBLE] = "number",   [CFG_BOOL] = "boolean",
    [CFG_STR] = "string",       [CFG_ENUM] = "enum",       [CFG_TEMPLATE] = "template",
    [CFG_BROKERS] = "URI list", [CFG_IDFMT] = "ID format", [CFG_SET] = "list",
};

static const char *const apply_names[] = {
    [CFG_APPLY_NOW] = "live, at once",
    [CFG_APPLY_NEXT] = "live, next message",
    [CFG_APPLY_RECONNECT] = "live, reconnects",
    [CFG_APPLY_BOOT] = "live, next boot",
};
_Static_assert(ARRAY_SIZE(apply_names) == CFG_APPLY__COUNT, "apply_names out of step");

static void doc_schema(struct buf *out, const struct cfg_schema *s)
{
    buf_puts(out, "| key | type | bounds | default | unit | applies | meaning |\n"
                  "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < s->n; i++) {
        const struct cfg_def *d = &s->defs[i];
        char bounds[160];
        switch (d->type) {
        case CFG_INT:
        case CFG_DOUBLE:
            snprintf(bounds, sizeof(bounds), "%.15g..%.15g", d->min, d->max);
            break;
        case CFG_BOOL:
            snprintf(bounds, sizeof(bounds), "0/1");
            break;
        case CFG_ENUM:
        case CFG_SET: {
            size_t o = 0;
            bounds[0] = '\0';
            for (const char *const *ch = d->choices; *ch && o < sizeof(bounds) - 1; ch++)
                o += (size_t)snprintf(bounds + o, sizeof(bounds) - o, "%s%s",
                                      ch == d->choices ? "" : " \\| ", *ch);
            break;
        }
        case CFG_BROKERS: {
            size_t o = (size_t)snprintf(bounds, sizeof(bounds), "%g..%g chars;", d->min, d->max);
            for (size_t k = 0; k < ARRAY_SIZE(schemes) && o < sizeof(bounds); k++)
                o += (size_t)snprintf(bounds + o, sizeof(bounds) - o, " %s (%s%d)",
                                      schemes[k].prefix, schemes[k].tls ? "TLS, " : "",
                                      schemes[k].port);
            break;
        }
        case CFG_TEMPLATE: {
            /* {id\|index}: a bare '|' would end the table cell */
            size_t o = (size_t)snprintf(bounds, sizeof(bounds), "%g..%g chars; {", d->min, d->max);
            for (const char *v = d->vars; *v && o + 4 < sizeof(bounds); v++) {
                if (*v == ',')
                    bounds[o++] = '\\';
                bounds[o++] = *v == ',' ? '|' : *v;
            }
            bounds[o++] = '}';
            bounds[o] = '\0';
            break;
        }
        default:
            snprintf(bounds, sizeof(bounds), "%g..%g chars", d->min, d->max);
        }
        buf_printf(out, "| `%s` | %s | %s | `%s` | %s | %s | %s |\n", d->name, type_names[d->type],
                   bounds, d->def, d->unit ? d->unit : "", apply_names[d->apply], d->help);
    }
}

void cfg_doc_markdown(struct buf *out)
{
    buf_puts(out, "<!-- Generated by `swarm-cli docs config` from the schema tables in "
                  "common/src/cfg.c. Do not edit. -->\n");
    buf_puts(out,
             "# Configuration keys\n\n"
             "## Charger keys\n\n"
             "Effective value for charger C, key K (first found wins): `{ns}:charger:{id}` "
             "(per-charger overrides) → `{ns}:cfg` (fleet defaults) → the built-in default "
             "below.\n\n"
             "Edit them with `swarm-cli config set [--charger ID] key=value` (validated before "
             "writing) or with a bare `redis-cli HSET`: running chargers pick the change up "
             "through keyspace notifications. A value that fails validation is rejected with an "
             "event on `{ns}:events` (`\"type\":\"config_rejected\"`) and the previous value "
             "stays in force; unknown keys are reported the same way.\n\n"
             "Templates substitute `{id}` (charger ID), `{index}` (fleet index), `{msg}` "
             "(message type) and `{worker}` (owning worker) where the row allows them.\n\n");
    doc_schema(out, &cfg_charger_schema);
    buf_puts(out,
             "\n## Fleet settings (`{ns}:fleet`)\n\n"
             "Read by the coordinator and every worker; `swarm-cli config set --fleet key=value` "
             "or `redis-cli HSET swarm:fleet key value`.\n\n");
    doc_schema(out, &cfg_fleet_schema);
}
