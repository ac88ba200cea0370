/* test_cfg.c - config schemas, validation, layering, the OCPP configuration keys and docs
 * (cs/cfg.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/kv.h"
#include "cs/mem.h"

#define CH (&cfg_charger_schema)
#define FL (&cfg_fleet_schema)

/* A zeroed object big enough for either schema's struct. */
union any_cfg {
    struct charger_cfg ch;
    struct fleet_cfg fl;
};

static size_t obj_size(const struct cfg_schema *s)
{
    return s == CH ? sizeof(struct charger_cfg) : sizeof(struct fleet_cfg);
}

static char *repeat(char c, size_t n)
{
    char *s = cs_malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- the tables ---------------------------------------------------------------------------- */

static void check_schema_table(const struct cfg_schema *s)
{
    size_t size = obj_size(s);
    for (size_t i = 0; i < s->n; i++) {
        const struct cfg_def *d = &s->defs[i];
        print_message("  %s.%s\n", s->name, d->name);
        assert_ptr_equal(cfg_lookup(s, d->name), d);
        assert_non_null(d->def);
        assert_non_null(d->help);
        assert_true(d->apply < CFG_APPLY__COUNT);
        assert_true(d->min <= d->max);
        switch (d->type) {
        case CFG_INT:
            assert_true(d->offset + sizeof(int) <= size);
            break;
        case CFG_DOUBLE:
            assert_true(d->offset + sizeof(double) <= size);
            break;
        case CFG_BOOL:
            assert_true(d->offset + sizeof(bool) <= size);
            break;
        default:
            /* text fields: the longest accepted value and its NUL fit the array */
            assert_true(d->size > 0 && d->offset + d->size <= size);
            assert_true((size_t)d->max < d->size);
            break;
        }
        if (d->type == CFG_TEMPLATE)
            assert_non_null(d->vars);
        if (d->type == CFG_ENUM || d->type == CFG_SET) {
            assert_non_null(d->choices);
            assert_non_null(d->choices[0]);
        }
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s->defs[j].name, d->name);
    }
}

static void test_tables(void **state)
{
    (void)state;
    assert_string_equal(CH->name, "charger");
    assert_string_equal(FL->name, "fleet");
    check_schema_table(CH);
    check_schema_table(FL);
    assert_null(cfg_lookup(CH, "nope"));
    assert_null(cfg_lookup(CH, "size"));
    assert_null(cfg_lookup(FL, "broker"));
}

/* Every default passes its own validation and formats back to the same text. */
static void check_defaults(const struct cfg_schema *s)
{
    union any_cfg obj, fresh;
    memset(&obj, 0, sizeof(obj));
    memset(&fresh, 0, sizeof(fresh));
    cfg_defaults(s, &obj);
    for (size_t i = 0; i < s->n; i++) {
        const struct cfg_def *d = &s->defs[i];
        struct cs_error err;
        int rc = cfg_check(s, d->name, d->def, &err);
        if (rc)
            print_message("default of %s ('%s'): %s\n", d->name, d->def, err.msg);
        assert_int_equal(rc, CS_OK);
        assert_int_equal(cfg_set(s, &fresh, d->name, d->def, &err), CS_OK);
        struct buf b = BUF_INIT;
        cfg_format(d, &obj, false, &b);
        assert_string_equal(buf_cstr(&b), d->def);
        buf_free(&b);
    }
    assert_int_equal(cfg_diff(s, &obj, &fresh), 0);
}

static void test_defaults(void **state)
{
    (void)state;
    check_defaults(CH);
    check_defaults(FL);

    struct charger_cfg c;
    cfg_defaults(CH, &c);
    assert_string_equal(c.broker, "tcp://127.0.0.1:1883");
    assert_string_equal(c.client_id, "{id}");
    assert_string_equal(c.topic_up, "chargers/{id}/up/{msg}");
    assert_int_equal(c.keepalive_s, 60);
    assert_int_equal(c.qos, 1);
    assert_true(c.clean_session);
    assert_int_equal(c.connectors, 1);
    assert_true(c.max_kw == 22.0);
    assert_int_equal(c.voltage_v, 230);
    assert_true(c.enabled);
    struct fleet_cfg f;
    cfg_defaults(FL, &f);
    assert_int_equal(f.size, 0);
    assert_string_equal(f.id_format, "CP-%06u");
    assert_int_equal(f.lease_ms, 5000);
    assert_int_equal(f.seed, 0);

    /* protocol and behaviour keys */
    assert_string_equal(c.measurands, "Energy.Active.Import.Register,Power.Active.Import,Voltage");
    assert_string_equal(c.profile, "ocpp16j");
    assert_string_equal(c.topic_reply, "chargers/{id}/up/{msg}");
    assert_true(c.strict);
    assert_int_equal(c.call_timeout_s, 30);
    assert_int_equal(c.offline_queue, 100);
    assert_string_equal(c.id_tag, "TAG-{index}");
    assert_false(c.authorize_remote);
    assert_true(c.sessions_per_h == 0.0);
    assert_true(c.session_kwh == 20.0);
    assert_true(c.battery_kwh == 60.0);
    assert_true(c.fault_per_h == 0.0);
    assert_true(c.time_scale == 1.0);
}

/* ---- bounds per type ----------------------------------------------------------------------- */

static const struct {
    const struct cfg_schema *s;
    const char *key;
    const char *val;
    int code; /* CS_OK or the expected error */
    const char *msg;
} bound_cases[] = {
    /* integers */
    {CH, "keepalive_s", "5", CS_OK, NULL},
    {CH, "keepalive_s", "3600", CS_OK, NULL},
    {CH, "keepalive_s", "4", CS_ERR_RANGE, "keepalive_s: '4' is not an integer in 5..3600 s"},
    {CH, "keepalive_s", "3601", CS_ERR_RANGE, "5..3600"},
    {CH, "keepalive_s", "60s", CS_ERR_RANGE, "not an integer"},
    {CH, "keepalive_s", "", CS_ERR_RANGE, "not an integer"},
    {CH, "keepalive_s", " 60", CS_ERR_RANGE, "not an integer"},
    {CH, "keepalive_s", "60 ", CS_ERR_RANGE, "not an integer"},
    {CH, "keepalive_s", "6e1", CS_ERR_RANGE, "not an integer"},
    {CH, "keepalive_s", "0x10", CS_ERR_RANGE, "not an integer"},
    {CH, "keepalive_s", "99999999999999999999", CS_ERR_RANGE, "not an integer"},
    {CH, "qos", "0", CS_OK, NULL},
    {CH, "qos", "2", CS_OK, NULL},
    {CH, "qos", "3", CS_ERR_RANGE, "qos: '3' is not an integer in 0..2"},
    {CH, "qos", "-1", CS_ERR_RANGE, "0..2"},
    {CH, "connectors", "8", CS_OK, NULL},
    {CH, "connectors", "9", CS_ERR_RANGE, "1..8"},
    {CH, "connectors", "0", CS_ERR_RANGE, "1..8"},
    {CH, "heartbeat_s", "86400", CS_OK, NULL},
    {CH, "heartbeat_s", "86401", CS_ERR_RANGE, "1..86400 s"},
    {CH, "reconnect_max_ms", "3600000", CS_OK, NULL},
    {FL, "size", "0", CS_OK, NULL},
    {FL, "size", "100000000", CS_OK, NULL},
    {FL, "size", "100000001", CS_ERR_RANGE, "size: '100000001' is not an integer in 0..100000000"},
    {FL, "size", "-1", CS_ERR_RANGE, "not an integer"},
    {FL, "lease_ms", "999", CS_ERR_RANGE, "1000..600000 ms"},
    {FL, "ramp_per_s", "100000", CS_OK, NULL},
    /* doubles */
    {CH, "max_kw", "0.1", CS_OK, NULL},
    {CH, "max_kw", "1000", CS_OK, NULL},
    {CH, "max_kw", "1e3", CS_OK, NULL},
    {CH, "max_kw", "7.4", CS_OK, NULL},
    {CH, "max_kw", "0.09", CS_ERR_RANGE, "max_kw: '0.09' is not a number in 0.1..1000 kW"},
    {CH, "max_kw", "1000.01", CS_ERR_RANGE, "0.1..1000"},
    {CH, "max_kw", "-22", CS_ERR_RANGE, "not a number"},
    {CH, "max_kw", "nan", CS_ERR_RANGE, "not a number"},
    {CH, "max_kw", "inf", CS_ERR_RANGE, "not a number"},
    {CH, "max_kw", "22kW", CS_ERR_RANGE, "not a number"},
    {CH, "max_kw", "", CS_ERR_RANGE, "not a number"},
    {CH, "max_kw", "1e999", CS_ERR_RANGE, "not a number"},
    /* booleans */
    {CH, "clean_session", "1", CS_OK, NULL},
    {CH, "clean_session", "0", CS_OK, NULL},
    {CH, "clean_session", "true", CS_OK, NULL},
    {CH, "clean_session", "FALSE", CS_OK, NULL},
    {CH, "enabled", "yes", CS_OK, NULL},
    {CH, "enabled", "No", CS_OK, NULL},
    {CH, "enabled", "on", CS_OK, NULL},
    {CH, "enabled", "OFF", CS_OK, NULL},
    {CH, "enabled", "2", CS_ERR_PARSE, "enabled: '2' is not a boolean"},
    {CH, "enabled", "y", CS_ERR_PARSE, "not a boolean"},
    {CH, "enabled", "", CS_ERR_PARSE, "not a boolean"},
    {CH, "enabled", "truee", CS_ERR_PARSE, "not a boolean"},
    /* plain strings */
    {CH, "vendor", "Chargeswarm", CS_OK, NULL},
    {CH, "vendor", "12345678901234567890", CS_OK, NULL},
    {CH, "vendor", "123456789012345678901", CS_ERR_RANGE, "vendor: length 21 outside 1..20"},
    {CH, "vendor", "", CS_ERR_RANGE, "length 0 outside 1..20"},
    {CH, "vendor", "a\nb", CS_ERR_PARSE, "vendor: control character at offset 1"},
    {CH, "model", "a\x7f", CS_ERR_PARSE, "control character"},
    {CH, "firmware", "", CS_OK, NULL},
    /* templates */
    {CH, "client_id", "{id}", CS_OK, NULL},
    {CH, "client_id", "cs-{worker}-{index}-{id}", CS_OK, NULL},
    {CH, "client_id", "a+b#c{id}", CS_OK, NULL}, /* not a topic: wildcards are plain characters */
    {CH, "client_id", "cs-{index}", CS_OK, NULL},
    /* the same ID for every charger: endless takeovers at the broker */
    {CH, "client_id", "fixed", CS_ERR_PARSE, "client_id: needs {id} or {index}"},
    {CH, "client_id", "cs-{worker}", CS_ERR_PARSE, "needs {id} or {index}"},
    {CH, "client_id", "{i}{d}", CS_ERR_UNKNOWN, "unknown placeholder '{i}'"},
    {CH, "client_id", "", CS_ERR_RANGE, "length 0 outside 1..95"},
    {CH, "client_id", "{msg}", CS_ERR_UNKNOWN,
     "client_id: unknown placeholder '{msg}' (allowed: id,index,worker)"},
    {CH, "client_id", "{}", CS_ERR_UNKNOWN, "unknown placeholder '{}'"},
    {CH, "client_id", "{ID}", CS_ERR_UNKNOWN, "unknown placeholder '{ID}'"},
    {CH, "client_id", "x{id", CS_ERR_PARSE, "client_id: unterminated '{' at offset 1"},
    {CH, "client_id", "id}", CS_ERR_PARSE, "client_id: unmatched '}' at offset 2"},
    {CH, "client_id", "a\tb{id}", CS_ERR_PARSE, "control character at offset 1"},
    {CH, "username", "", CS_OK, NULL},
    {CH, "username", "{id}", CS_OK, NULL},
    {CH, "username", "{worker}", CS_ERR_UNKNOWN, "allowed: id,index"},
    {CH, "password", "", CS_OK, NULL},
    {CH, "password", "s3cr3t-{index}", CS_OK, NULL},
    /* a secret's reason quotes none of it */
    {CH, "password", "x{y}", CS_ERR_UNKNOWN,
     "password: unknown placeholder at offset 1 (allowed: id,index)"},
    /* topic templates refuse MQTT wildcards */
    {CH, "topic_up", "chargers/{id}/up/{msg}", CS_OK, NULL},
    {CH, "topic_up", "ocpp/{worker}/{index}", CS_OK, NULL},
    {CH, "topic_up", "a/+/b", CS_ERR_PARSE, "topic_up: MQTT wildcard '+' at offset 2"},
    {CH, "topic_up", "a/#", CS_ERR_PARSE, "MQTT wildcard '#' at offset 2"},
    {CH, "topic_down", "c/{id}/down", CS_OK, NULL},
    {CH, "topic_down", "c/+", CS_ERR_PARSE, "MQTT wildcard '+'"},
    {CH, "topic_down", "c/{msg}", CS_ERR_UNKNOWN, "unknown placeholder '{msg}'"},
    {CH, "topic_down", "", CS_ERR_RANGE, "length 0"},
    /* broker lists */
    {CH, "broker", "tcp://127.0.0.1:1883", CS_OK, NULL},
    {CH, "broker", "mqtt://broker.example.com", CS_OK, NULL},
    {CH, "broker", "tcp://a:1,tcp://b:2", CS_OK, NULL},
    {CH, "broker", " tcp://a:1 tcp://b:65535 ,", CS_OK, NULL},
    {CH, "broker", "tcp://[::1]:1883", CS_OK, NULL},
    {CH, "broker", "tcp://[::1]", CS_OK, NULL},
    {CH, "broker", "ssl://a:8883", CS_OK, NULL},
    {CH, "broker", "mqtts://a:8883,tcp://b:1883", CS_OK, NULL},
    {CH, "broker", "http://a:1", CS_ERR_PARSE,
     "broker: 'http://a:1' must start with tcp://, mqtt://, ssl://, mqtts://, ws:// or wss://"},
    /* OCPP-J WebSocket servers: a path may follow */
    {CH, "broker", "ws://a:8080/ocpp", CS_OK, NULL},
    {CH, "broker", "wss://csms.example/ocpp/16/", CS_OK, NULL},
    {CH, "broker", "ws://a:1,tcp://b:1883", CS_OK, NULL},
    {CH, "broker", "ws://a/o?x=1", CS_ERR_PARSE, "bad path"},
    {CH, "broker", "ws://a:80x/o", CS_ERR_RANGE, "port must be"},
    {CH, "tls_verify", "0", CS_OK, NULL},
    {CH, "tls_verify", "maybe", CS_ERR_PARSE, "'maybe' is not a boolean"},
    {CH, "tls_cert", "/etc/chargeswarm/certs/{id}.pem", CS_OK, NULL},
    {CH, "tls_cert", "/certs/{serial}.pem", CS_ERR_UNKNOWN, "unknown placeholder '{serial}'"},
    {CH, "broker", "tcp://a:1,a:2", CS_ERR_PARSE, "'a:2' must start with tcp://"},
    {CH, "broker", "tcp://:1883", CS_ERR_PARSE, "missing host"},
    {CH, "broker", "tcp://", CS_ERR_PARSE, "missing host"},
    {CH, "broker", "tcp://a_b:1", CS_ERR_PARSE, "bad host character '_'"},
    {CH, "broker", "tcp://a:0", CS_ERR_RANGE, "port must be 1..65535"},
    {CH, "broker", "tcp://a:65536", CS_ERR_RANGE, "port must be 1..65535"},
    {CH, "broker", "tcp://a:", CS_ERR_RANGE, "port must be"},
    {CH, "broker", "tcp://a:1883/x", CS_ERR_PARSE, "an MQTT broker URI has no path"},
    {CH, "broker", "tcp://[::1", CS_ERR_PARSE, "unterminated [IPv6]"},
    {CH, "broker", "tcp://[::1]x", CS_ERR_PARSE, "junk after ]"},
    {CH, "broker", "tcp://[::1]:x", CS_ERR_RANGE, "port must be"},
    {CH, "broker", "", CS_ERR_PARSE, "broker: empty broker list"},
    {CH, "broker", " , ,", CS_ERR_PARSE, "empty broker list"},
    /* ID formats */
    {FL, "id_format", "CP-%06u", CS_OK, NULL},
    {FL, "id_format", "EV%u", CS_OK, NULL},
    {FL, "id_format", "CP-%d", CS_OK, NULL},
    {FL, "id_format", "x.%012u_y", CS_OK, NULL},
    {FL, "id_format", "%u", CS_ERR_RANGE, "id_format: length 2 outside 3..47"},
    {FL, "id_format", "CP-%u-%u", CS_ERR_PARSE, "only one conversion"},
    {FL, "id_format", "CP-%6u", CS_ERR_PARSE, "space padding"},
    {FL, "id_format", "CP %u", CS_ERR_PARSE, "' ' is not allowed in IDs"},
    {FL, "id_format", "CP-%s", CS_ERR_PARSE, "expected %u"},
    {FL, "id_format", "CP-", CS_ERR_PARSE, "needs one %u"},
    {FL, "id_format", "CP-%013u", CS_ERR_RANGE, "width above 12"},
    /* measurands: a set of the five OCPP measurands the chargers report */
    {CH, "measurands", "Energy.Active.Import.Register", CS_OK, NULL},
    {CH, "measurands",
     "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC", CS_OK, NULL},
    {CH, "measurands", "SoC,Voltage", CS_OK, NULL}, /* any order */
    {CH, "measurands", "Current.Import", CS_OK, NULL},
    {CH, "measurands", "", CS_ERR_PARSE, "measurands: empty list"},
    {CH, "measurands", "Foo", CS_ERR_UNKNOWN, "measurands: unknown item 'Foo'"},
    {CH, "measurands", "Voltage,Foo", CS_ERR_UNKNOWN, "unknown item 'Foo'"},
    {CH, "measurands", "voltage", CS_ERR_UNKNOWN, "unknown item 'voltage'"},
    {CH, "measurands", "Energy.Active.Import", CS_ERR_UNKNOWN, "unknown item"},
    {CH, "measurands", "Current.Export", CS_ERR_UNKNOWN, "unknown item 'Current.Export'"},
    {CH, "measurands", "Voltage, SoC", CS_ERR_UNKNOWN, "unknown item ' SoC'"},
    {CH, "measurands", "Voltage ", CS_ERR_UNKNOWN, "unknown item 'Voltage '"},
    {CH, "measurands", "Voltage,Voltage", CS_ERR_PARSE, "measurands: 'Voltage' listed twice"},
    {CH, "measurands", "SoC,Voltage,SoC", CS_ERR_PARSE, "'SoC' listed twice"},
    {CH, "measurands", "Voltage,", CS_ERR_PARSE, "measurands: trailing comma"},
    {CH, "measurands", ",Voltage", CS_ERR_PARSE, "empty or overlong item at offset 0"},
    {CH, "measurands", "Voltage,,SoC", CS_ERR_PARSE, "empty or overlong item at offset 8"},
    {CH, "measurands", ",", CS_ERR_PARSE, "empty or overlong item at offset 0"},
    {CH, "measurands", "Energy.Active.Import.Register.Energy.Active.Import.Register.Energy",
     CS_ERR_PARSE, "empty or overlong item at offset 0"},
    /* profile: an enum */
    {CH, "profile", "ocpp16j", CS_OK, NULL},
    {CH, "profile", "json", CS_OK, NULL},
    {CH, "profile", "OCPP16J", CS_ERR_UNKNOWN,
     "profile: 'OCPP16J' is not one of the allowed values"},
    {CH, "profile", "ocpp16", CS_ERR_UNKNOWN, "not one of the allowed values"},
    {CH, "profile", "json ", CS_ERR_UNKNOWN, "not one of the allowed values"},
    {CH, "profile", "ocpp201", CS_ERR_UNKNOWN, "not one of the allowed values"},
    {CH, "profile", "", CS_ERR_UNKNOWN, "not one of the allowed values"},
    /* topic_reply: a topic template with {msg} */
    {CH, "topic_reply", "chargers/{id}/up/{msg}", CS_OK, NULL},
    {CH, "topic_reply", "r/{worker}/{index}/{msg}Response", CS_OK, NULL},
    {CH, "topic_reply", "replies", CS_OK, NULL},
    {CH, "topic_reply", "a/+/b", CS_ERR_PARSE, "topic_reply: MQTT wildcard '+' at offset 2"},
    {CH, "topic_reply", "a/{id}/#", CS_ERR_PARSE, "MQTT wildcard '#' at offset 7"},
    {CH, "topic_reply", "", CS_ERR_RANGE, "topic_reply: length 0 outside 1..191"},
    {CH, "topic_reply", "r/{action}", CS_ERR_UNKNOWN,
     "topic_reply: unknown placeholder '{action}' (allowed: id,index,msg,worker)"},
    {CH, "topic_reply", "r/{id", CS_ERR_PARSE, "topic_reply: unterminated '{' at offset 2"},
    {CH, "topic_reply", "r/\n", CS_ERR_PARSE, "control character at offset 2"},
    /* protocol */
    {CH, "strict", "0", CS_OK, NULL},
    {CH, "strict", "true", CS_OK, NULL},
    {CH, "strict", "2", CS_ERR_PARSE, "strict: '2' is not a boolean"},
    {CH, "call_timeout_s", "1", CS_OK, NULL},
    {CH, "call_timeout_s", "600", CS_OK, NULL},
    {CH, "call_timeout_s", "0", CS_ERR_RANGE, "call_timeout_s: '0' is not an integer in 1..600 s"},
    {CH, "call_timeout_s", "601", CS_ERR_RANGE, "1..600 s"},
    {CH, "call_timeout_s", "1.5", CS_ERR_RANGE, "not an integer"},
    {CH, "offline_queue", "0", CS_OK, NULL},
    {CH, "offline_queue", "10000", CS_OK, NULL},
    {CH, "offline_queue", "10001", CS_ERR_RANGE,
     "offline_queue: '10001' is not an integer in 0..10000"},
    {CH, "offline_queue", "-1", CS_ERR_RANGE, "0..10000"},
    {CH, "id_tag", "TAG-{index}", CS_OK, NULL},
    {CH, "id_tag", "{id}", CS_OK, NULL},
    {CH, "id_tag", "a+b#c", CS_OK, NULL}, /* not a topic */
    {CH, "id_tag", "{worker}", CS_ERR_UNKNOWN,
     "id_tag: unknown placeholder '{worker}' (allowed: id,index)"},
    {CH, "id_tag", "{msg}", CS_ERR_UNKNOWN, "allowed: id,index"},
    {CH, "id_tag", "", CS_ERR_RANGE, "id_tag: length 0 outside 1..47"},
    {CH, "authorize_remote", "1", CS_OK, NULL},
    {CH, "authorize_remote", "false", CS_OK, NULL},
    {CH, "authorize_remote", "maybe", CS_ERR_PARSE, "authorize_remote: 'maybe' is not a boolean"},
    /* behaviour */
    {CH, "sessions_per_h", "0", CS_OK, NULL},
    {CH, "sessions_per_h", "0.5", CS_OK, NULL},
    {CH, "sessions_per_h", "3600", CS_OK, NULL},
    {CH, "sessions_per_h", "-0.1", CS_ERR_RANGE,
     "sessions_per_h: '-0.1' is not a number in 0..3600 1/h"},
    {CH, "sessions_per_h", "3600.5", CS_ERR_RANGE, "0..3600 1/h"},
    {CH, "session_kwh", "0.1", CS_OK, NULL},
    {CH, "session_kwh", "1000", CS_OK, NULL},
    {CH, "session_kwh", "0", CS_ERR_RANGE, "session_kwh: '0' is not a number in 0.1..1000 kWh"},
    {CH, "battery_kwh", "1", CS_OK, NULL},
    {CH, "battery_kwh", "500", CS_OK, NULL},
    {CH, "battery_kwh", "0.5", CS_ERR_RANGE, "battery_kwh: '0.5' is not a number in 1..500 kWh"},
    {CH, "battery_kwh", "501", CS_ERR_RANGE, "1..500 kWh"},
    {CH, "battery_kwh", "0x10", CS_ERR_RANGE,
     "battery_kwh: '0x10' is not a number"}, /* decimal only */
    {CH, "battery_kwh", "0x1p4", CS_ERR_RANGE, "not a number"},
    {CH, "max_kw", "INF", CS_ERR_RANGE, "not a number"},
    {CH, "fault_per_h", "0", CS_OK, NULL},
    {CH, "fault_per_h", "3600", CS_OK, NULL},
    {CH, "fault_per_h", "-1", CS_ERR_RANGE, "fault_per_h: '-1' is not a number in 0..3600 1/h"},
    {CH, "time_scale", "0.01", CS_OK, NULL},
    {CH, "time_scale", "60", CS_OK, NULL},
    {CH, "time_scale", "10000", CS_OK, NULL},
    {CH, "time_scale", "0", CS_ERR_RANGE, "time_scale: '0' is not a number in 0.01..10000"},
    {CH, "time_scale", "0.009", CS_ERR_RANGE, "0.01..10000"},
    {CH, "time_scale", "10001", CS_ERR_RANGE, "0.01..10000"},
    {CH, "time_scale", "nan", CS_ERR_RANGE, "not a number"},
    {FL, "seed", "0", CS_OK, NULL},
    {FL, "seed", "42", CS_OK, NULL},
    {FL, "seed", "2147483647", CS_OK, NULL},
    {FL, "seed", "2147483648", CS_ERR_RANGE, "seed: '2147483648' is not an integer"},
    {FL, "seed", "-1", CS_ERR_RANGE, "not an integer"},
    /* unknown keys */
    {CH, "nope", "1", CS_ERR_UNKNOWN, "unknown charger config key 'nope'"},
    {CH, "size", "1", CS_ERR_UNKNOWN, "unknown charger config key 'size'"},
    {FL, "broker", "tcp://a:1", CS_ERR_UNKNOWN, "unknown fleet config key 'broker'"},
    {CH, "", "1", CS_ERR_UNKNOWN, "unknown charger config key ''"},
};

static void check_bound(const struct cfg_schema *s, const char *key, const char *val, int code,
                        const char *msg)
{
    union any_cfg obj, before;
    struct cs_error err;
    memset(&err, 0, sizeof(err));
    memset(&obj, 0, sizeof(obj));
    cfg_defaults(s, &obj);
    memcpy(&before, &obj, sizeof(obj));

    print_message("  %s.%s = '%s'\n", s->name, key, val);
    int rc = cfg_check(s, key, val, &err);
    if (rc)
        print_message("  -> %s\n", err.msg);
    assert_int_equal(rc, code);
    if (code) {
        assert_int_equal(err.code, code);
        assert_non_null(strstr(err.msg, msg));
    }
    rc = cfg_set(s, &obj, key, val, &err);
    assert_int_equal(rc, code);
    if (code) {
        /* obj is unchanged on error */
        assert_memory_equal(&obj, &before, sizeof(obj));
        return;
    }
    /* a stored value formats back to text that is accepted again and stores the same value */
    const struct cfg_def *d = cfg_lookup(s, key);
    struct buf b = BUF_INIT;
    cfg_format(d, &obj, false, &b);
    if (d->type != CFG_INT && d->type != CFG_DOUBLE && d->type != CFG_BOOL)
        assert_string_equal(buf_cstr(&b), val);
    union any_cfg again;
    memcpy(&again, &before, sizeof(again));
    assert_int_equal(cfg_set(s, &again, key, buf_cstr(&b), NULL), CS_OK);
    assert_int_equal(cfg_diff(s, &obj, &again), 0);
    buf_free(&b);
}

static void test_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bound_cases); i++)
        check_bound(bound_cases[i].s, bound_cases[i].key, bound_cases[i].val, bound_cases[i].code,
                    bound_cases[i].msg);
}

/* Length bounds of every text field: max accepted, max + 1 refused (with a value made of a
 * character every text type accepts). */
static void test_text_lengths(void **state)
{
    (void)state;
    const struct cfg_schema *schemas[] = {CH, FL};
    for (size_t k = 0; k < ARRAY_SIZE(schemas); k++) {
        const struct cfg_schema *s = schemas[k];
        for (size_t i = 0; i < s->n; i++) {
            const struct cfg_def *d = &s->defs[i];
            if (d->type != CFG_STR && d->type != CFG_TEMPLATE)
                continue;
            size_t max = (size_t)d->max;
            char *v = repeat('a', max);
            if (d->type == CFG_TEMPLATE)
                memcpy(v, "{id}", 4); /* client_id must name the charger */
            check_bound(s, d->name, v, CS_OK, NULL);
            cs_free(v);
            v = repeat('a', max + 1);
            if (d->type == CFG_TEMPLATE)
                memcpy(v, "{id}", 4);
            check_bound(s, d->name, v, CS_ERR_RANGE, "outside");
            cs_free(v);
            if (d->min > 0)
                check_bound(s, d->name, "", CS_ERR_RANGE, "length 0 outside");
        }
    }

    /* id_format: 47 characters with the longest allowed prefix, then 48 */
    struct buf b = BUF_INIT;
    buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%ubbbbbbbbbbbbbb"); /* 31 + 2 + 14 */
    assert_int_equal(b.len, 47);
    check_bound(FL, "id_format", buf_cstr(&b), CS_OK, NULL);
    buf_putc(&b, 'b');
    check_bound(FL, "id_format", buf_cstr(&b), CS_ERR_RANGE, "outside 3..47");
    buf_reset(&b);
    /* a 32-character prefix does not fit the parsed format */
    buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%u");
    check_bound(FL, "id_format", buf_cstr(&b), CS_ERR_RANGE, "fixed text longer than 31");
    buf_reset(&b);

    /* broker: 16 URIs fit, 17 do not; a 511-character list fits, 512 does not */
    for (int i = 0; i < CS_BROKERS_MAX; i++)
        buf_printf(&b, "%stcp://h%d:1883", i ? "," : "", i);
    check_bound(CH, "broker", buf_cstr(&b), CS_OK, NULL);
    buf_puts(&b, ",tcp://h16:1883");
    check_bound(CH, "broker", buf_cstr(&b), CS_ERR_RANGE, "more than 16 brokers");
    buf_reset(&b);
    buf_puts(&b, "tcp://");
    while (b.len < 511 - 5)
        buf_putc(&b, 'h');
    buf_puts(&b, ":1883");
    assert_int_equal(b.len, 511);
    check_bound(CH, "broker", buf_cstr(&b), CS_OK, NULL);
    buf_reset(&b);
    buf_puts(&b, "tcp://");
    while (b.len < 512 - 5)
        buf_putc(&b, 'h');
    buf_puts(&b, ":1883");
    check_bound(CH, "broker", buf_cstr(&b), CS_ERR_RANGE, "");
    buf_free(&b);
}

/* ---- formatting and secrets ---------------------------------------------------------------- */

static void test_format_mask(void **state)
{
    (void)state;
    struct charger_cfg c;
    struct buf b = BUF_INIT;
    const struct cfg_def *pw = cfg_lookup(CH, "password");
    const struct cfg_def *user = cfg_lookup(CH, "username");
    assert_true(pw->flags & CFG_F_SECRET);
    cfg_defaults(CH, &c);

    /* an empty secret has nothing to hide */
    cfg_format(pw, &c, true, &b);
    assert_string_equal(buf_cstr(&b), "");
    buf_reset(&b);

    assert_int_equal(cfg_set(CH, &c, "password", "s3cr3t", NULL), CS_OK);
    assert_int_equal(cfg_set(CH, &c, "username", "bob", NULL), CS_OK);
    cfg_format(pw, &c, true, &b);
    assert_string_equal(buf_cstr(&b), "***");
    buf_reset(&b);
    cfg_format(pw, &c, false, &b);
    assert_string_equal(buf_cstr(&b), "s3cr3t");
    buf_reset(&b);
    cfg_format(user, &c, true, &b);
    assert_string_equal(buf_cstr(&b), "bob");
    buf_reset(&b);

    /* only the passwords are secret */
    for (size_t i = 0; i < CH->n; i++)
        assert_int_equal(!!(CH->defs[i].flags & CFG_F_SECRET),
                         strcmp(CH->defs[i].name, "password") == 0 ||
                             strcmp(CH->defs[i].name, "tls_key_password") == 0);
    for (size_t i = 0; i < FL->n; i++)
        assert_int_equal(FL->defs[i].flags & CFG_F_SECRET, 0);

    /* numbers and booleans */
    assert_int_equal(cfg_set(CH, &c, "max_kw", "7.4", NULL), CS_OK);
    assert_int_equal(cfg_set(CH, &c, "enabled", "off", NULL), CS_OK);
    assert_int_equal(cfg_set(CH, &c, "qos", "2", NULL), CS_OK);
    cfg_format(cfg_lookup(CH, "max_kw"), &c, true, &b);
    buf_putc(&b, ' ');
    cfg_format(cfg_lookup(CH, "enabled"), &c, true, &b);
    buf_putc(&b, ' ');
    cfg_format(cfg_lookup(CH, "qos"), &c, true, &b);
    assert_string_equal(buf_cstr(&b), "7.4 0 2");
    buf_free(&b);
}

/* ---- diff ---------------------------------------------------------------------------------- */

/* Every key, with a valid non-default value and when a running charger honours it. */
static const struct {
    const struct cfg_schema *s;
    const char *key;
    const char *val;
    enum cfg_apply apply;
} diff_cases[] = {
    {CH, "broker", "tcp://10.0.0.1:1883", CFG_APPLY_RECONNECT},
    {CH, "client_id", "c-{id}", CFG_APPLY_RECONNECT},
    {CH, "username", "u", CFG_APPLY_RECONNECT},
    {CH, "password", "p", CFG_APPLY_RECONNECT},
    {CH, "keepalive_s", "30", CFG_APPLY_RECONNECT},
    {CH, "ws_ping_s", "30", CFG_APPLY_RECONNECT},
    {CH, "qos", "0", CFG_APPLY_NEXT},
    {CH, "clean_session", "0", CFG_APPLY_RECONNECT},
    {CH, "reconnect_min_ms", "500", CFG_APPLY_NEXT},
    {CH, "reconnect_max_ms", "60000", CFG_APPLY_NEXT},
    {CH, "tls_ca", "/etc/ca.pem", CFG_APPLY_RECONNECT},
    {CH, "tls_cert", "/c/{id}.pem", CFG_APPLY_RECONNECT},
    {CH, "tls_key", "/c/{id}.key", CFG_APPLY_RECONNECT},
    {CH, "tls_key_password", "k", CFG_APPLY_RECONNECT},
    {CH, "tls_verify", "0", CFG_APPLY_RECONNECT},
    {CH, "ocpp_version", "2.0.1", CFG_APPLY_RECONNECT},
    {CH, "topic_up", "up/{id}/{msg}", CFG_APPLY_NEXT},
    {CH, "topic_down", "down/{id}", CFG_APPLY_RECONNECT},
    {CH, "boot_on_reconnect", "0", CFG_APPLY_NEXT},
    {CH, "vendor", "V", CFG_APPLY_BOOT},
    {CH, "model", "M", CFG_APPLY_BOOT},
    {CH, "firmware", "2.0", CFG_APPLY_BOOT},
    {CH, "connectors", "2", CFG_APPLY_BOOT},
    {CH, "max_kw", "11", CFG_APPLY_NOW},
    {CH, "voltage_v", "400", CFG_APPLY_NEXT},
    {CH, "phases", "1", CFG_APPLY_NOW},
    {CH, "enabled", "0", CFG_APPLY_NOW},
    {CH, "heartbeat_s", "30", CFG_APPLY_NOW},
    {CH, "meter_s", "15", CFG_APPLY_NOW},
    {CH, "measurands", "Voltage,SoC", CFG_APPLY_NEXT},
    {CH, "profile", "json", CFG_APPLY_RECONNECT},
    {CH, "topic_reply", "reply/{id}/{msg}", CFG_APPLY_NEXT},
    {CH, "strict", "0", CFG_APPLY_NOW},
    {CH, "call_timeout_s", "5", CFG_APPLY_NEXT},
    {CH, "offline_queue", "0", CFG_APPLY_NEXT},
    {CH, "id_tag", "RFID-{id}", CFG_APPLY_NEXT},
    {CH, "authorize_remote", "1", CFG_APPLY_NEXT},
    {CH, "local_pre_authorize", "1", CFG_APPLY_NEXT},
    {CH, "local_authorize_offline", "0", CFG_APPLY_NEXT},
    {CH, "allow_offline_unknown", "0", CFG_APPLY_NEXT},
    {CH, "auth_cache", "0", CFG_APPLY_NEXT},
    {CH, "local_auth_list", "0", CFG_APPLY_NEXT},
    {CH, "reserve_connector_zero", "0", CFG_APPLY_NEXT},
    {CH, "sessions_per_h", "2", CFG_APPLY_NOW},
    {CH, "session_kwh", "30", CFG_APPLY_NEXT},
    {CH, "battery_kwh", "75", CFG_APPLY_NEXT},
    {CH, "fault_per_h", "0.1", CFG_APPLY_NOW},
    {CH, "time_scale", "60", CFG_APPLY_NOW},
    {CH, "on_takeover", "resume", CFG_APPLY_NEXT},
    {CH, "mqtt_client", "paho", CFG_APPLY_RECONNECT},
    {FL, "size", "10", CFG_APPLY_NOW},
    {FL, "id_format", "EV%u", CFG_APPLY_RECONNECT},
    {FL, "ramp_per_s", "10", CFG_APPLY_NOW},
    {FL, "lease_ms", "2000", CFG_APPLY_NOW},
    {FL, "stats_interval_ms", "500", CFG_APPLY_NOW},
    {FL, "stats_window_s", "60", CFG_APPLY_NOW},
    {FL, "report_tick_ms", "250", CFG_APPLY_NOW},
    {FL, "history_interval_s", "2", CFG_APPLY_NOW},
    {FL, "seed", "7", CFG_APPLY_NOW},
    {FL, "stats_detail", "CP-000001", CFG_APPLY_NOW},
    {FL, "shrink_tx", "keep", CFG_APPLY_NOW},
};

static void test_diff(void **state)
{
    (void)state;
    const struct cfg_schema *schemas[] = {CH, FL};
    /* the table covers every key */
    for (size_t k = 0; k < ARRAY_SIZE(schemas); k++) {
        for (size_t i = 0; i < schemas[k]->n; i++) {
            bool found = false;
            for (size_t j = 0; j < ARRAY_SIZE(diff_cases); j++)
                found |= diff_cases[j].s == schemas[k] &&
                         strcmp(diff_cases[j].key, schemas[k]->defs[i].name) == 0;
            print_message("  %s.%s\n", schemas[k]->name, schemas[k]->defs[i].name);
            assert_true(found);
        }
    }
    /* one changed field -> exactly its class; all fields of a schema -> the union */
    unsigned all[2] = {0, 0};
    union any_cfg every[2];
    for (size_t k = 0; k < 2; k++) {
        memset(&every[k], 0, sizeof(every[k]));
        cfg_defaults(schemas[k], &every[k]);
    }
    for (size_t j = 0; j < ARRAY_SIZE(diff_cases); j++) {
        const struct cfg_schema *s = diff_cases[j].s;
        size_t k = s == CH ? 0 : 1;
        union any_cfg a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        cfg_defaults(s, &a);
        cfg_defaults(s, &b);
        print_message("  %s = %s\n", diff_cases[j].key, diff_cases[j].val);
        assert_int_equal(cfg_set(s, &b, diff_cases[j].key, diff_cases[j].val, NULL), CS_OK);
        assert_int_equal(cfg_diff(s, &a, &b), 1u << diff_cases[j].apply);
        assert_int_equal(cfg_diff(s, &b, &a), 1u << diff_cases[j].apply);
        assert_int_equal(cfg_diff(s, &b, &b), 0);
        assert_int_equal(cfg_set(s, &every[k], diff_cases[j].key, diff_cases[j].val, NULL), CS_OK);
        all[k] |= 1u << diff_cases[j].apply;
    }
    union any_cfg def;
    memset(&def, 0, sizeof(def));
    cfg_defaults(CH, &def);
    assert_int_equal(cfg_diff(CH, &def, &every[0]), all[0]);
    assert_int_equal(all[0], (1u << CFG_APPLY_NOW) | (1u << CFG_APPLY_NEXT) |
                                 (1u << CFG_APPLY_RECONNECT) | (1u << CFG_APPLY_BOOT));
    memset(&def, 0, sizeof(def));
    cfg_defaults(FL, &def);
    assert_int_equal(cfg_diff(FL, &def, &every[1]), all[1]);
    assert_int_equal(all[1], (1u << CFG_APPLY_NOW) | (1u << CFG_APPLY_RECONNECT));

    /* the same value written differently is no change */
    union any_cfg a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    cfg_defaults(CH, &a);
    cfg_defaults(CH, &b);
    assert_int_equal(cfg_set(CH, &b, "max_kw", "22.0", NULL), CS_OK);
    assert_int_equal(cfg_set(CH, &b, "enabled", "true", NULL), CS_OK);
    assert_int_equal(cfg_set(CH, &b, "qos", "01", NULL), CS_OK);
    assert_int_equal(cfg_diff(CH, &a, &b), 0);
}

/* ---- layering ------------------------------------------------------------------------------ */

struct rejects {
    int calls;
    struct kvlist seen; /* key -> value of the calls, last wins */
    char last_why[256];
    bool why_leaks; /* a call's reason contained the raw secret value */
    const char *secret;
};

static void on_reject(void *privdata, const char *key, const char *val, const char *why)
{
    struct rejects *r = privdata;
    r->calls++;
    kv_set(&r->seen, key, val);
    snprintf(r->last_why, sizeof(r->last_why), "%s", why);
    assert_true(why[0] != '\0');
    if (r->secret && (strstr(why, r->secret) || strstr(val, r->secret)))
        r->why_leaks = true;
}

static void set_incoming(struct kvlist *in, const char *const *pairs)
{
    kv_clear(in);
    for (size_t i = 0; pairs[i]; i += 2)
        kv_set(in, pairs[i], pairs[i + 1]);
}

/* accepted holds exactly the given pairs, in order */
static void check_layer(const struct kvlist *l, const char *const *pairs)
{
    size_t n = 0;
    for (size_t i = 0; pairs[i]; i += 2, n++) {
        assert_true(n < l->n);
        assert_string_equal(l->v[n].key, pairs[i]);
        assert_string_equal(l->v[n].val, pairs[i + 1]);
    }
    assert_int_equal(l->n, n);
}

static void test_layer_accept(void **state)
{
    (void)state;
    struct kvlist acc = KVLIST_INIT, rej = KVLIST_INIT, in = KVLIST_INIT;
    struct rejects r;
    memset(&r, 0, sizeof(r));

    /* 1: valid fields accepted, invalid and unknown ones reported and left out */
    set_incoming(&in, (const char *const[]){"heartbeat_s", "30", "qos", "5", "nope", "1", "vendor",
                                            "ACME", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc, (const char *const[]){"heartbeat_s", "30", "vendor", "ACME", NULL});
    assert_int_equal(r.calls, 2);
    assert_string_equal(kv_get(&r.seen, "qos"), "5");
    assert_string_equal(kv_get(&r.seen, "nope"), "1");
    assert_non_null(strstr(r.last_why, "unknown charger config key 'nope'"));

    /* 2: the same snapshot again reports nothing new */
    r.calls = 0;
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc, (const char *const[]){"heartbeat_s", "30", "vendor", "ACME", NULL});
    assert_int_equal(r.calls, 0);

    /* 3: a field that becomes invalid keeps its accepted value; a fixed one is taken */
    r.calls = 0;
    set_incoming(&in, (const char *const[]){"heartbeat_s", "abc", "qos", "1", "nope", "1", "vendor",
                                            "ACME", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc,
                (const char *const[]){"heartbeat_s", "30", "qos", "1", "vendor", "ACME", NULL});
    assert_int_equal(r.calls, 1);
    assert_string_equal(kv_get(&r.seen, "heartbeat_s"), "abc");
    assert_non_null(strstr(r.last_why, "heartbeat_s: 'abc' is not an integer"));

    /* 4: a different bad value is reported again, the same one is not */
    r.calls = 0;
    set_incoming(&in, (const char *const[]){"heartbeat_s", "abc", "qos", "1", "nope", "2", "vendor",
                                            "ACME", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    assert_int_equal(r.calls, 1);
    assert_string_equal(kv_get(&r.seen, "nope"), "2");
    set_incoming(&in, (const char *const[]){"heartbeat_s", "-1", "qos", "1", "nope", "2", "vendor",
                                            "ACME", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    assert_int_equal(r.calls, 2);
    check_layer(&acc,
                (const char *const[]){"heartbeat_s", "30", "qos", "1", "vendor", "ACME", NULL});

    /* 5: fields that vanished from the hash are removed, rejections forgotten */
    r.calls = 0;
    set_incoming(&in, (const char *const[]){"qos", "1", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc, (const char *const[]){"qos", "1", NULL});
    assert_int_equal(rej.n, 0);
    assert_int_equal(r.calls, 0);

    /* 6: an invalid field with no accepted value stays absent, and is reported anew */
    set_incoming(&in, (const char *const[]){"qos", "1", "heartbeat_s", "-1", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc, (const char *const[]){"qos", "1", NULL});
    assert_int_equal(r.calls, 1);

    /* 7: a valid value after a rejected one clears the rejection; the same bad value later is
     * reported again */
    r.calls = 0;
    set_incoming(&in, (const char *const[]){"qos", "1", "heartbeat_s", "10", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc, (const char *const[]){"qos", "1", "heartbeat_s", "10", NULL});
    assert_int_equal(rej.n, 0);
    set_incoming(&in, (const char *const[]){"qos", "1", "heartbeat_s", "-1", NULL});
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    check_layer(&acc, (const char *const[]){"qos", "1", "heartbeat_s", "10", NULL});
    assert_int_equal(r.calls, 1);

    /* 8: an empty hash empties the layer */
    kv_clear(&in);
    cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
    assert_int_equal(acc.n, 0);
    assert_int_equal(rej.n, 0);

    kv_free(&acc);
    kv_free(&rej);
    kv_free(&in);
    kv_free(&r.seen);
}

/* Rejected secrets are masked: neither the value nor the reason shows any of it. */
static void test_layer_secret(void **state)
{
    (void)state;
    static const char *const bad_secrets[] = {
        "hunter{2}", "pa{ss", "pa}ss", "{index}{x}", "tab\there",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad_secrets); i++) {
        struct kvlist acc = KVLIST_INIT, rej = KVLIST_INIT, in = KVLIST_INIT;
        struct rejects r;
        memset(&r, 0, sizeof(r));
        r.secret = bad_secrets[i];
        print_message("  password '%s'\n", bad_secrets[i]);
        kv_set(&in, "password", bad_secrets[i]);
        cfg_layer_accept(CH, &acc, &rej, &in, on_reject, &r);
        assert_int_equal(r.calls, 1);
        assert_string_equal(kv_get(&r.seen, "password"), "***");
        print_message("  why: %s\n", r.last_why);
        assert_non_null(strstr(r.last_why, "password"));
        /* no fragment of the value in the reason: check every 2-char piece inside braces */
        const char *open = strchr(bad_secrets[i], '{');
        if (open && strchr(open, '}')) {
            char frag[16];
            size_t n = (size_t)(strchr(open, '}') - open) + 1;
            assert_true(n < sizeof(frag));
            memcpy(frag, open, n);
            frag[n] = '\0';
            assert_null(strstr(r.last_why, frag));
        }
        assert_false(r.why_leaks);
        assert_int_equal(acc.n, 0);
        kv_free(&acc);
        kv_free(&rej);
        kv_free(&in);
        kv_free(&r.seen);
    }
}

/* No callback and no rejected list (the coordinator's use). */
static void test_layer_no_callback(void **state)
{
    (void)state;
    struct kvlist acc = KVLIST_INIT, in = KVLIST_INIT;
    set_incoming(&in, (const char *const[]){"size", "100", "lease_ms", "1", NULL});
    cfg_layer_accept(FL, &acc, NULL, &in, NULL, NULL);
    check_layer(&acc, (const char *const[]){"size", "100", NULL});
    set_incoming(&in, (const char *const[]){"size", "x", "lease_ms", "2000", NULL});
    cfg_layer_accept(FL, &acc, NULL, &in, NULL, NULL);
    check_layer(&acc, (const char *const[]){"size", "100", "lease_ms", "2000", NULL});

    struct fleet_cfg f;
    cfg_defaults(FL, &f);
    cfg_apply_layer(FL, &f, &acc);
    assert_int_equal(f.size, 100);
    assert_int_equal(f.lease_ms, 2000);
    assert_string_equal(f.id_format, "CP-%06u");
    kv_free(&acc);
    kv_free(&in);
}

/* ---- broker lists -------------------------------------------------------------------------- */

static void test_brokers(void **state)
{
    (void)state;
    static const struct {
        const char *list;
        int count;
        const char *items[4];
    } cases[] = {
        {"tcp://a:1", 1, {"tcp://a:1"}},
        {"tcp://a:1,tcp://b:2", 2, {"tcp://a:1", "tcp://b:2"}},
        {" tcp://a:1 , tcp://b:2 ,,", 2, {"tcp://a:1", "tcp://b:2"}},
        {"tcp://a:1 tcp://b:2 tcp://c:3", 3, {"tcp://a:1", "tcp://b:2", "tcp://c:3"}},
        {"x", 1, {"x"}},
        {"", 0, {NULL}},
        {",, ,", 0, {NULL}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char out[64];
        print_message("  list '%s'\n", cases[i].list);
        assert_int_equal(cfg_broker_count(cases[i].list), cases[i].count);
        for (int j = 0; j < cases[i].count; j++) {
            assert_true(cfg_broker_pick(cases[i].list, j, out, sizeof(out)));
            assert_string_equal(out, cases[i].items[j]);
        }
        assert_false(cfg_broker_pick(cases[i].list, cases[i].count, out, sizeof(out)));
        assert_false(cfg_broker_pick(cases[i].list, -1, out, sizeof(out)));
    }
    /* out too small: refused; exactly big enough: fits */
    char small[10];
    assert_false(cfg_broker_pick("tcp://a:1,tcp://bb:2", 1, small, sizeof(small)));
    assert_true(cfg_broker_pick("tcp://a:1,tcp://b:2", 1, small, sizeof(small)));
    assert_string_equal(small, "tcp://b:2");

    /* Taken apart for a client library that wants host and port. */
    static const struct {
        const char *uri, *host;
        int port;
        bool tls, ok;
    } parts[] = {
        {"tcp://127.0.0.1:1884", "127.0.0.1", 1884, false, true},
        {"mqtt://broker.example", "broker.example", 1883, false, true},
        {"ssl://h", "h", 8883, true, true},
        {"mqtts://h:443", "h", 443, true, true},
        {"tcp://[::1]:1885", "::1", 1885, false, true},
        {"ssl://[fe80::1]", "fe80::1", 8883, true, true},
        {"tcp://[]:1", NULL, 0, false, false},
        {"tcp://h:0", NULL, 0, false, false},
        {"ws://h", "h", 80, false, true},
        {"wss://[::1]/ocpp", "::1", 443, true, true},
        {"wss://h:9000/ocpp/", "h", 9000, true, true},
        {"ws://h:9000x", NULL, 0, false, false},
        {"tcp://:1", NULL, 0, false, false},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        struct cfg_broker b;
        struct cs_error err = {0};
        int rc = cfg_broker_parse(parts[i].uri, &b, &err);
        if (!parts[i].ok) {
            assert_int_not_equal(rc, CS_OK);
            continue;
        }
        assert_int_equal(rc, CS_OK);
        assert_string_equal(b.host, parts[i].host);
        assert_int_equal(b.port, parts[i].port);
        assert_int_equal(b.tls, parts[i].tls);
    }
    /* the path of a WebSocket server, without a trailing '/' */
    struct cfg_broker b;
    struct cs_error err = {0};
    assert_int_equal(cfg_broker_parse("wss://h:9000/ocpp/16//", &b, &err), CS_OK);
    assert_true(b.ws);
    assert_string_equal(b.path, "/ocpp/16");
    assert_int_equal(cfg_broker_parse("ws://h/", &b, &err), CS_OK);
    assert_string_equal(b.path, "");
    assert_int_equal(cfg_broker_parse("tcp://h", &b, &err), CS_OK);
    assert_false(b.ws);
}

/* ---- OCPP configuration keys --------------------------------------------------------------- */

/* The keys GetConfiguration reports and ChangeConfiguration may change: OCPP 1.6 core keys
 * (section 9.1) plus two of our own. */
static const struct {
    const char *name;
    const char *cfg; /* NULL: a constant */
    bool readonly;
    const char *value; /* with the default config */
} ocpp_key_cases[] = {
    {"HeartbeatInterval", "heartbeat_s", false, "60"},
    {"MeterValueSampleInterval", "meter_s", false, "60"},
    {"MeterValuesSampledData", "measurands", false,
     "Energy.Active.Import.Register,Power.Active.Import,Voltage"},
    {"AuthorizeRemoteTxRequests", "authorize_remote", false, "false"},
    {"WebSocketPingInterval", "ws_ping_s", false, "60"},
    {"AuthorizationKey", "password", false, ""},
    {"LocalPreAuthorize", "local_pre_authorize", false, "false"},
    {"LocalAuthorizeOffline", "local_authorize_offline", false, "true"},
    {"AllowOfflineTxForUnknownId", "allow_offline_unknown", false, "true"},
    {"AuthorizationCacheEnabled", "auth_cache", false, "true"},
    {"LocalAuthListEnabled", "local_auth_list", false, "true"},
    {"ReserveConnectorZeroSupported", "reserve_connector_zero", false, "true"},
    {"NumberOfConnectors", "connectors", true, "1"},
    {"ClockAlignedDataInterval", NULL, true, "0"},
    {"ConnectionTimeOut", NULL, true, "60"},
    {"ConnectorPhaseRotation", NULL, true, "0.RST"},
    {"GetConfigurationMaxKeys", NULL, true, "64"},
    {"MeterValuesAlignedData", NULL, true, ""},
    {"ResetRetries", NULL, true, "0"},
    {"StopTransactionOnEVSideDisconnect", NULL, true, "true"},
    {"StopTransactionOnInvalidId", NULL, true, "true"},
    {"StopTxnAlignedData", NULL, true, ""},
    {"StopTxnSampledData", NULL, true, "Energy.Active.Import.Register"},
    {"TransactionMessageAttempts", NULL, true, "3"},
    {"TransactionMessageRetryInterval", NULL, true, "30"},
    {"UnlockConnectorOnEVSideDisconnect", NULL, true, "true"},
    {"SupportedFeatureProfiles", NULL, true,
     "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"},
    {"LocalAuthListMaxLength", NULL, true, "1000"},
    {"SendLocalListMaxLength", NULL, true, "100"},
    {"ChargeProfileMaxStackLevel", NULL, true, "8"},
    {"ChargingScheduleAllowedChargingRateUnit", NULL, true, "Current,Power"},
    {"ChargingScheduleMaxPeriods", NULL, true, "24"},
    {"MaxChargingProfilesInstalled", NULL, true, "16"},
    {"ConnectorSwitch3to1PhaseSupported", NULL, true, "false"},
    {"ChargeswarmMaxPowerKw", "max_kw", false, "22"},
    {"ChargeswarmSessionsPerHour", "sessions_per_h", false, "0"},
};

static void test_ocpp_keys(void **state)
{
    (void)state;
    size_t n = 0;
    const struct ocpp_key *keys = ocpp_keys(&n);
    assert_int_equal(n, ARRAY_SIZE(ocpp_key_cases));
    struct charger_cfg c;
    cfg_defaults(CH, &c);
    for (size_t i = 0; i < n; i++) {
        const struct ocpp_key *k = &keys[i];
        print_message("  %s\n", k->name);
        assert_string_equal(k->name, ocpp_key_cases[i].name);
        assert_ptr_equal(ocpp_key_lookup(k->name), k);
        if (ocpp_key_cases[i].cfg) {
            assert_non_null(k->cfg);
            assert_string_equal(k->cfg, ocpp_key_cases[i].cfg);
            assert_non_null(cfg_lookup(CH, k->cfg));
            assert_null(k->constant);
        } else {
            assert_null(k->cfg);
            assert_non_null(k->constant);
        }
        assert_int_equal(k->readonly, ocpp_key_cases[i].readonly);
        /* OCPP configuration keys are CiString50 */
        assert_true(strlen(k->name) <= 50);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(keys[j].name, k->name);
        struct buf b = BUF_INIT;
        ocpp_key_value(k, &c, &b);
        assert_string_equal(buf_cstr(&b), ocpp_key_cases[i].value);
        buf_free(&b);
    }
    static const char *const unknown[] = {"",
                                          "heartbeatinterval",
                                          "HeartbeatInterval ",
                                          "heartbeat_s",
                                          "localauthlistenabled",
                                          "ChargeswarmNoSuchKey"};
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
        assert_null(ocpp_key_lookup(unknown[i]));

    /* values follow the config; booleans are true/false, not 1/0 */
    static const struct {
        const char *cfg_key, *cfg_val, *ocpp_key, *ocpp_val;
    } follow[] = {
        {"authorize_remote", "1", "AuthorizeRemoteTxRequests", "true"},
        {"authorize_remote", "off", "AuthorizeRemoteTxRequests", "false"},
        {"heartbeat_s", "300", "HeartbeatInterval", "300"},
        {"meter_s", "15", "MeterValueSampleInterval", "15"},
        {"measurands", "SoC", "MeterValuesSampledData", "SoC"},
        {"connectors", "4", "NumberOfConnectors", "4"},
        {"max_kw", "7.4", "ChargeswarmMaxPowerKw", "7.4"},
        {"sessions_per_h", "0.25", "ChargeswarmSessionsPerHour", "0.25"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(follow); i++) {
        struct buf b = BUF_INIT;
        assert_int_equal(cfg_set(CH, &c, follow[i].cfg_key, follow[i].cfg_val, NULL), CS_OK);
        ocpp_key_value(ocpp_key_lookup(follow[i].ocpp_key), &c, &b);
        assert_string_equal(buf_cstr(&b), follow[i].ocpp_val);
        buf_free(&b);
    }
}

/* ChangeConfiguration: OCPP text to config text, validated by the config key's own rules. */
static const struct {
    const char *key, *value;
    bool ok;
    const char *cfg_text; /* ok: the config value */
    int code;             /* !ok: the error */
    const char *msg;
} to_cfg_cases[] = {
    {"HeartbeatInterval", "30", true, "30", 0, NULL},
    {"HeartbeatInterval", "86400", true, "86400", 0, NULL},
    {"HeartbeatInterval", "0", false, NULL, CS_ERR_RANGE, "heartbeat_s: '0' is not an integer"},
    {"HeartbeatInterval", "86401", false, NULL, CS_ERR_RANGE, "1..86400"},
    {"HeartbeatInterval", "abc", false, NULL, CS_ERR_RANGE, "not an integer"},
    {"HeartbeatInterval", "", false, NULL, CS_ERR_RANGE, "not an integer"},
    {"MeterValueSampleInterval", "900", true, "900", 0, NULL},
    {"MeterValueSampleInterval", "-5", false, NULL, CS_ERR_RANGE, "meter_s"},
    {"MeterValuesSampledData", "Voltage,SoC", true, "Voltage,SoC", 0, NULL},
    {"MeterValuesSampledData", "Voltage,Frequency", false, NULL, CS_ERR_UNKNOWN,
     "unknown item 'Frequency'"},
    {"MeterValuesSampledData", "", false, NULL, CS_ERR_PARSE, "empty list"},
    {"MeterValuesSampledData", "SoC,SoC", false, NULL, CS_ERR_PARSE, "listed twice"},
    {"AuthorizeRemoteTxRequests", "true", true, "1", 0, NULL},
    {"AuthorizeRemoteTxRequests", "false", true, "0", 0, NULL},
    {"AuthorizeRemoteTxRequests", "True", true, "1", 0, NULL},
    {"AuthorizeRemoteTxRequests", "1", true, "1", 0, NULL},
    {"AuthorizeRemoteTxRequests", "maybe", false, NULL, CS_ERR_PARSE,
     "AuthorizeRemoteTxRequests: 'maybe' is not true or false"},
    {"AuthorizeRemoteTxRequests", "", false, NULL, CS_ERR_PARSE, "is not true or false"},
    {"ChargeswarmMaxPowerKw", "11", true, "11", 0, NULL},
    {"ChargeswarmMaxPowerKw", "0", false, NULL, CS_ERR_RANGE, "max_kw: '0' is not a number"},
    {"ChargeswarmSessionsPerHour", "2.5", true, "2.5", 0, NULL},
    {"ChargeswarmSessionsPerHour", "-1", false, NULL, CS_ERR_RANGE, "sessions_per_h"},
    /* read-only keys are refused whatever the value */
    {"NumberOfConnectors", "2", false, NULL, CS_ERR_STATE, "NumberOfConnectors is read-only"},
    {"ClockAlignedDataInterval", "0", false, NULL, CS_ERR_STATE, "read-only"},
    {"GetConfigurationMaxKeys", "32", false, NULL, CS_ERR_STATE, "read-only"},
    {"StopTransactionOnEVSideDisconnect", "false", false, NULL, CS_ERR_STATE, "read-only"},
    {"SupportedFeatureProfiles", "Core", false, NULL, CS_ERR_STATE, "read-only"},
};

static void test_ocpp_key_to_cfg(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(to_cfg_cases); i++) {
        const struct ocpp_key *k = ocpp_key_lookup(to_cfg_cases[i].key);
        assert_non_null(k);
        struct buf b = BUF_INIT;
        struct cs_error err;
        memset(&err, 0, sizeof(err));
        bool ok = ocpp_key_to_cfg(k, to_cfg_cases[i].value, &b, &err);
        print_message("  %s = '%s' -> %s\n", k->name, to_cfg_cases[i].value,
                      ok ? buf_cstr(&b) : err.msg);
        assert_int_equal(ok, to_cfg_cases[i].ok);
        if (ok) {
            assert_string_equal(buf_cstr(&b), to_cfg_cases[i].cfg_text);
            /* stored, it reads back as the OCPP text (booleans as true/false) */
            struct charger_cfg c;
            struct buf back = BUF_INIT;
            cfg_defaults(CH, &c);
            assert_int_equal(cfg_set(CH, &c, k->cfg, buf_cstr(&b), NULL), CS_OK);
            ocpp_key_value(k, &c, &back);
            const struct cfg_def *d = cfg_lookup(CH, k->cfg);
            if (d->type == CFG_BOOL)
                assert_string_equal(buf_cstr(&back), buf_cstr(&b)[0] == '1' ? "true" : "false");
            else
                assert_string_equal(buf_cstr(&back), to_cfg_cases[i].value);
            buf_free(&back);
        } else {
            assert_int_equal(err.code, to_cfg_cases[i].code);
            assert_non_null(strstr(err.msg, to_cfg_cases[i].msg));
            /* also without an error record */
            struct buf b2 = BUF_INIT;
            assert_false(ocpp_key_to_cfg(k, to_cfg_cases[i].value, &b2, NULL));
            buf_free(&b2);
        }
        buf_free(&b);
    }
    /* every writable key takes its own current value back */
    size_t n;
    const struct ocpp_key *keys = ocpp_keys(&n);
    struct charger_cfg c;
    cfg_defaults(CH, &c);
    for (size_t i = 0; i < n; i++) {
        struct buf v = BUF_INIT, out = BUF_INIT;
        ocpp_key_value(&keys[i], &c, &v);
        assert_int_equal(ocpp_key_to_cfg(&keys[i], buf_cstr(&v), &out, NULL), !keys[i].readonly);
        buf_free(&v);
        buf_free(&out);
    }
}

/* ---- docs ---------------------------------------------------------------------------------- */

static void test_doc_markdown(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    cfg_doc_markdown(&b);
    const char *md = buf_cstr(&b);
    const struct cfg_schema *schemas[] = {CH, FL};
    char needle[128];
    for (size_t k = 0; k < ARRAY_SIZE(schemas); k++) {
        for (size_t i = 0; i < schemas[k]->n; i++) {
            const struct cfg_def *d = &schemas[k]->defs[i];
            snprintf(needle, sizeof(needle), "| `%s` |", d->name);
            assert_non_null(strstr(md, needle));
            snprintf(needle, sizeof(needle), "| `%s` |", d->def);
            assert_non_null(strstr(md, needle));
        }
    }
    /* the choices of enums and sets are listed */
    for (size_t k = 0; k < ARRAY_SIZE(schemas); k++)
        for (size_t i = 0; i < schemas[k]->n; i++)
            for (const char *const *ch = schemas[k]->defs[i].choices; ch && *ch; ch++)
                assert_non_null(strstr(md, *ch));
    /* the broker row names every scheme the validator takes (mqtt:// and mqtts:// were left
     * out of a hand-written list) */
    static const char *const uris[] = {"tcp://h:1", "mqtt://h:1", "ssl://h:1", "mqtts://h:1"};
    const char *row = strstr(md, "| `broker` |");
    const char *row_end = row ? strchr(row, '\n') : NULL;
    assert_non_null(row_end);
    for (size_t i = 0; i < ARRAY_SIZE(uris); i++) {
        char scheme[16];
        assert_int_equal(cfg_check(CH, "broker", uris[i], NULL), CS_OK);
        snprintf(scheme, sizeof(scheme), "%.*s", (int)(strstr(uris[i], "//") - uris[i] + 2),
                 uris[i]);
        const char *at = strstr(row, scheme);
        assert_true(at && at < row_end);
    }
    /* every table row has its 7 cells: no help text breaks the table with a bare '|' */
    size_t rows = 0;
    for (const char *line = md; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > 3 && strncmp(line, "| `", 3) == 0) {
            int bars = 0;
            for (size_t i = 0; i < len; i++)
                bars += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
            if (bars != 8)
                print_error("%.*s\n", (int)len, line);
            assert_int_equal(bars, 8);
            rows++;
        }
        line += len + (eol ? 1 : 0);
    }
    assert_int_equal(rows, CH->n + FL->n);
    assert_non_null(strstr(md, "## Charger keys"));
    assert_non_null(strstr(md, "## Fleet settings"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_text_lengths),
        cmocka_unit_test(test_format_mask),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_layer_accept),
        cmocka_unit_test(test_layer_secret),
        cmocka_unit_test(test_layer_no_callback),
        cmocka_unit_test(test_brokers),
        cmocka_unit_test(test_ocpp_keys),
        cmocka_unit_test(test_ocpp_key_to_cfg),
        cmocka_unit_test(test_doc_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
