/* test_cmd.c - the command table and both command forms (cs/cmd.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/cmd.h"
#include "cs/mem.h"

/* ---- helpers ------------------------------------------------------------------------------- */

#define MAX_ARGS 4

/* What a command should parse to. Unused slots are NULL. */
struct want {
    const char *id; /* "" for none */
    const char *verb;
    const char *select;
    const char *pos[CMD_MAX_POS];
    const char *args[MAX_ARGS][2]; /* key, value in order */
    int64_t ts;
};

static void check_want(const struct cmd *c, const struct want *w, const char *text)
{
    print_message("  input: %s\n", text);
    assert_string_equal(c->id, w->id);
    assert_non_null(c->def);
    assert_string_equal(c->def->name, w->verb);
    if (w->select) {
        assert_non_null(c->select);
        assert_string_equal(c->select, w->select);
    } else {
        assert_null(c->select);
    }
    int npos = 0;
    for (int i = 0; i < CMD_MAX_POS; i++) {
        if (!w->pos[i])
            break;
        npos++;
        assert_non_null(c->pos[i]);
        assert_string_equal(c->pos[i], w->pos[i]);
    }
    assert_int_equal(c->npos, npos);
    size_t nargs = 0;
    for (size_t i = 0; i < MAX_ARGS && w->args[i][0]; i++) {
        assert_true(i < c->args.n);
        assert_string_equal(c->args.v[i].key, w->args[i][0]);
        assert_string_equal(c->args.v[i].val, w->args[i][1]);
        nargs++;
    }
    assert_int_equal(c->args.n, nargs);
    assert_int_equal(c->ts_ms, w->ts);
}

static void assert_cmd_equal(const struct cmd *a, const struct cmd *b)
{
    assert_string_equal(a->id, b->id);
    assert_ptr_equal(a->def, b->def);
    if (a->select || b->select) {
        assert_non_null(a->select);
        assert_non_null(b->select);
        assert_string_equal(a->select, b->select);
    }
    assert_int_equal(a->npos, b->npos);
    for (int i = 0; i < a->npos; i++)
        assert_string_equal(a->pos[i], b->pos[i]);
    assert_int_equal(a->args.n, b->args.n);
    for (size_t i = 0; i < a->args.n; i++) {
        assert_string_equal(a->args.v[i].key, b->args.v[i].key);
        assert_string_equal(a->args.v[i].val, b->args.v[i].val);
    }
    assert_int_equal(a->ts_ms, b->ts_ms);
}

static int parse_str(const char *text, struct cmd *c, struct cs_error *err)
{
    memset(err, 0, sizeof(*err));
    return cmd_parse(text, strlen(text), c, err);
}

/* cmd_to_json and cmd_to_line of c parse back to the same command (the line without the
 * sender's ts). */
static void check_round_trip(const struct cmd *c)
{
    struct buf b = BUF_INIT;
    struct cmd back;
    struct cs_error err;
    cmd_to_json(c, &b);
    print_message("  json: %s\n", buf_cstr(&b));
    int rc = parse_str(buf_cstr(&b), &back, &err);
    if (rc)
        print_message("  error: %s\n", err.msg);
    assert_int_equal(rc, CS_OK);
    assert_cmd_equal(c, &back);
    cmd_free(&back);
    buf_reset(&b);
    cmd_to_line(c, true, &b);
    print_message("  line: %s\n", buf_cstr(&b));
    rc = parse_str(buf_cstr(&b), &back, &err);
    if (rc)
        print_message("  error: %s\n", err.msg);
    assert_int_equal(rc, CS_OK);
    back.ts_ms = c->ts_ms;
    assert_cmd_equal(c, &back);
    assert_int_equal(back.at_ms, c->at_ms);
    assert_int_equal(back.in_ms, c->in_ms);
    assert_int_equal(back.every_ms, c->every_ms);
    assert_int_equal(back.count, c->count);
    cmd_free(&back);
    buf_free(&b);
}

/* ---- the table ----------------------------------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    assert_int_equal(n, CMD__COUNT);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].verb, (int)i);
        assert_ptr_equal(cmd_lookup(t[i].name), &t[i]);
        assert_non_null(t[i].usage);
        assert_non_null(t[i].summary);
        assert_non_null(t[i].example);
        assert_non_null(t[i].keys);
        assert_true(t[i].pos_min >= 0 && t[i].pos_min <= CMD_MAX_POS);
        for (int p = 0; p < t[i].pos_min; p++)
            assert_non_null(t[i].pos[p]);
        /* Each example is itself a valid command. */
        struct cmd c;
        struct cs_error err;
        int rc = parse_str(t[i].example, &c, &err);
        if (rc)
            print_message("example '%s': %s\n", t[i].example, err.msg);
        assert_int_equal(rc, CS_OK);
        assert_ptr_equal(c.def, &t[i]);
        cmd_free(&c);
    }
    assert_null(cmd_lookup("nope"));
    assert_null(cmd_lookup(""));
    assert_null(cmd_lookup("Trigger"));
    const struct cmd_key *ck = cmd_common_keys();
    static const char *const common[] = {"ts", "at", "in", "every", "count"};
    for (size_t i = 0; i < ARRAY_SIZE(common); i++)
        assert_string_equal(ck[i].name, common[i]);
    assert_null(ck[ARRAY_SIZE(common)].name);
}

static void test_id_valid(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        bool ok;
    } cases[] = {
        {"c1", true},
        {"a.b:c_d-9", true},
        {"0", true},
        {"", false},
        {"a b", false},
        {"a/b", false},
        {"a@b", false},
        {"a\"b", false},
        {"é", false},
        {"1234567890123456789012345678901234567890123456789012345678901234", true}, /* 64 */
        {"12345678901234567890123456789012345678901234567890123456789012345", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        print_message("  id '%s'\n", cases[i].id);
        assert_int_equal(cmd_id_valid(cases[i].id), cases[i].ok);
    }
}

/* ---- both forms parse to the same struct --------------------------------------------------- */

static const struct {
    const char *line;
    const char *json;
    struct want want;
} same_cases[] = {
    {"@c1 trigger CP-000042 StatusNotification status=Faulted errorCode=GroundFailure",
     "{\"id\":\"c1\",\"cmd\":\"trigger\",\"select\":\"CP-000042\",\"msg\":\"StatusNotification\","
     "\"args\":{\"status\":\"Faulted\",\"errorCode\":\"GroundFailure\"}}",
     {"c1",
      "trigger",
      "CP-000042",
      {"StatusNotification", NULL},
      {{"status", "Faulted"}, {"errorCode", "GroundFailure"}},
      0}},
    {"status CP-000001..CP-000010 Charging connector=1 ts=1767225600000",
     "{\"cmd\":\"status\",\"select\":\"CP-000001..CP-000010\",\"status\":\"Charging\","
     "\"args\":{\"connector\":1},\"ts\":1767225600000}",
     {"",
      "status",
      "CP-000001..CP-000010",
      {"Charging", NULL},
      {{"connector", "1"}},
      1767225600000}},
    {"pause CP-01*",
     "{\"cmd\":\"pause\",\"select\":\"CP-01*\"}",
     {"", "pause", "CP-01*", {NULL, NULL}, {{NULL, NULL}}, 0}},
    {"resume *",
     "{\"select\":\"*\",\"cmd\":\"resume\"}",
     {"", "resume", "*", {NULL, NULL}, {{NULL, NULL}}, 0}},
    {"reload", "{\"cmd\":\"reload\"}", {"", "reload", NULL, {NULL, NULL}, {{NULL, NULL}}, 0}},
    {"reload charger:CP-000042",
     "{\"cmd\":\"reload\",\"key\":\"charger:CP-000042\"}",
     {"", "reload", NULL, {"charger:CP-000042", NULL}, {{NULL, NULL}}, 0}},
    {"@my-1 ping",
     "{\"id\":\"my-1\",\"cmd\":\"ping\"}",
     {"my-1", "ping", NULL, {NULL, NULL}, {{NULL, NULL}}, 0}},
    {"@7 ping",
     "{\"id\":7,\"cmd\":\"ping\"}",
     {"7", "ping", NULL, {NULL, NULL}, {{NULL, NULL}}, 0}},
    /* ts among the args is the sender's clock, not an argument */
    {"trigger * Heartbeat ts=5",
     "{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"Heartbeat\","
     "\"args\":{\"ts\":5}}",
     {"", "trigger", "*", {"Heartbeat", NULL}, {{NULL, NULL}}, 5}},
    {"@a.b:c_d-9 trigger CP-1 MeterValues connector=2 meterValue=[]",
     "{\"id\":\"a.b:c_d-9\",\"cmd\":\"trigger\",\"select\":\"CP-1\",\"msg\":\"MeterValues\","
     "\"args\":{\"connector\":\"2\",\"meterValue\":\"[]\"}}",
     {"a.b:c_d-9",
      "trigger",
      "CP-1",
      {"MeterValues", NULL},
      {{"connector", "2"}, {"meterValue", "[]"}},
      0}},
    {" \t@x ping\r\n",
     "\n {\"id\":\"x\",\"cmd\":\"ping\"} \n",
     {"x", "ping", NULL, {NULL, NULL}, {{NULL, NULL}}, 0}},
    {"trigger * X flag=true n=1.5 big=12345678901",
     "{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"X\",\"args\":{\"flag\":true,\"n\":1.5,"
     "\"big\":12345678901}}",
     {"",
      "trigger",
      "*",
      {"X", NULL},
      {{"flag", "true"}, {"n", "1.5"}, {"big", "12345678901"}},
      0}},
    {"status CP-1 Faulted info=\"a b c\" connector=0",
     "{\"cmd\":\"status\",\"select\":\"CP-1\",\"status\":\"Faulted\",\"args\":{\"info\":\"a b "
     "c\",\"connector\":0}}",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "a b c"}, {"connector", "0"}}, 0}},
    {"status CP-1 Faulted info=\"say \\\"hi\\\"\"",
     "{\"cmd\":\"status\",\"select\":\"CP-1\",\"status\":\"Faulted\","
     "\"args\":{\"info\":\"say \\\"hi\\\"\"}}",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "say \"hi\""}}, 0}},
    {"trigger * Heartbeat _x.y=",
     "{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"Heartbeat\","
     "\"args\":{\"_x.y\":\"\"}}",
     {"", "trigger", "*", {"Heartbeat", NULL}, {{"_x.y", ""}}, 0}},
};

static void test_line_and_json(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(same_cases); i++) {
        struct cmd a, b;
        struct cs_error err;
        int rc = parse_str(same_cases[i].line, &a, &err);
        if (rc)
            print_message("line '%s': %s\n", same_cases[i].line, err.msg);
        assert_int_equal(rc, CS_OK);
        check_want(&a, &same_cases[i].want, same_cases[i].line);
        rc = parse_str(same_cases[i].json, &b, &err);
        if (rc)
            print_message("json '%s': %s\n", same_cases[i].json, err.msg);
        assert_int_equal(rc, CS_OK);
        check_want(&b, &same_cases[i].want, same_cases[i].json);
        assert_cmd_equal(&a, &b);
        check_round_trip(&a);
        cmd_free(&a);
        cmd_free(&b);
    }
}

/* ---- line-form quoting --------------------------------------------------------------------- */

static const struct {
    const char *line;
    struct want want;
} quote_cases[] = {
    {"status CP-1 Faulted info='x'", {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "x"}}, 0}},
    {"status CP-1 Faulted info='a \"b\"'",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "a \"b\""}}, 0}},
    {"status CP-1 Faulted info=\"it's\"",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "it's"}}, 0}},
    {"status CP-1 Faulted info=\"back\\\\slash\"",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "back\\slash"}}, 0}},
    /* no escapes inside single quotes */
    {"status CP-1 Faulted info='a\\b'",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "a\\b"}}, 0}},
    /* an '=' inside quotes is part of the value; the first unquoted one splits */
    {"status CP-1 Faulted info=\"a=b\"",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "a=b"}}, 0}},
    {"status CP-1 Faulted info=a=b",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "a=b"}}, 0}},
    {"status CP-1 Faulted info=\"\"", {"", "status", "CP-1", {"Faulted", NULL}, {{"info", ""}}, 0}},
    /* adjacent quoted and bare parts join into one word */
    {"status CP-1 Faulted info=ab'c d'\"e\"",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "abc de"}}, 0}},
    {"status CP-1 Faulted info=\"tab\there\"",
     {"", "status", "CP-1", {"Faulted", NULL}, {{"info", "tab\there"}}, 0}},
    {"trigger \"CP-1\" 'Status Notification'",
     {"", "trigger", "CP-1", {"Status Notification", NULL}, {{NULL, NULL}}, 0}},
    {"\"ping\"", {"", "ping", NULL, {NULL, NULL}, {{NULL, NULL}}, 0}},
    {"  trigger\t*   Heartbeat  \n", {"", "trigger", "*", {"Heartbeat", NULL}, {{NULL, NULL}}, 0}},
    /* a positional argument may contain '=' when quoted */
    {"reload \"a=b\"", {"", "reload", NULL, {"a=b", NULL}, {{NULL, NULL}}, 0}},
};

static void test_line_quoting(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(quote_cases); i++) {
        struct cmd c;
        struct cs_error err;
        int rc = parse_str(quote_cases[i].line, &c, &err);
        if (rc)
            print_message("line '%s': %s\n", quote_cases[i].line, err.msg);
        assert_int_equal(rc, CS_OK);
        check_want(&c, &quote_cases[i].want, quote_cases[i].line);
        check_round_trip(&c);
        cmd_free(&c);
    }
}

static void test_pos_lookup(void **state)
{
    (void)state;
    struct cmd c;
    struct cs_error err;
    assert_int_equal(parse_str("trigger * Heartbeat", &c, &err), CS_OK);
    assert_string_equal(cmd_pos(&c, "msg"), "Heartbeat");
    assert_null(cmd_pos(&c, "status"));
    cmd_free(&c);
    assert_int_equal(parse_str("reload", &c, &err), CS_OK);
    assert_null(cmd_pos(&c, "key"));
    cmd_free(&c);
    assert_int_equal(parse_str("reload fleet", &c, &err), CS_OK);
    assert_string_equal(cmd_pos(&c, "key"), "fleet");
    cmd_free(&c);
}

/* ---- malformed input ----------------------------------------------------------------------- */

static const struct {
    const char *text;
    int code;
    const char *msg; /* substring of the error message */
} bad_cases[] = {
    {"", CS_ERR_PARSE, "empty command"},
    {" \t\n", CS_ERR_PARSE, "empty command"},
    {"@c1", CS_ERR_PARSE, "empty command"},
    {"frobnicate *", CS_ERR_UNKNOWN, "unknown verb 'frobnicate'"},
    {"PING", CS_ERR_UNKNOWN, "unknown verb 'PING'"},
    {"pause", CS_ERR_ARITY, "pause: missing selector"},
    {"trigger", CS_ERR_ARITY, "trigger: missing selector"},
    {"trigger *", CS_ERR_ARITY, "trigger: missing msg; usage: trigger SEL MSG"},
    {"status CP-1", CS_ERR_ARITY, "status: missing status"},
    {"trigger * Heartbeat 1x=2", CS_ERR_PARSE, "bad key '1x'"},
    {"trigger * Heartbeat a-b=2", CS_ERR_PARSE, "bad key 'a-b'"},
    {"trigger * Heartbeat =2", CS_ERR_PARSE, "bad key ''"},
    {"trigger * Heartbeat \"a b\"=2", CS_ERR_PARSE, "bad key 'a b'"},
    {"trigger * Heartbeat "
     "k2345678901234567890123456789012345678901234567890123456789012345=1",
     CS_ERR_PARSE, "bad key"},
    {"trigger * Heartbeat a=1 a=2", CS_ERR_PARSE, "argument 'a' given twice"},
    {"status CP-1 Faulted info=x info=x", CS_ERR_PARSE, "argument 'info' given twice"},
    {"pause * foo=1", CS_ERR_UNKNOWN, "pause: unknown argument 'foo'"},
    {"resume * connector=1", CS_ERR_UNKNOWN, "resume: unknown argument 'connector'"},
    {"ping x=1", CS_ERR_UNKNOWN, "ping: unknown argument 'x'"},
    {"reload cfg x=1", CS_ERR_UNKNOWN, "reload: unknown argument 'x'"},
    {"status CP-1 Charging colour=red", CS_ERR_UNKNOWN, "status: unknown argument 'colour'"},
    /* assignments never travel on the command channel */
    {"assign epoch=1 ranges=1-5", CS_ERR_UNKNOWN, "unknown verb 'assign'"},
    {"ping extra", CS_ERR_PARSE, "ping: unexpected argument 'extra' at offset 5"},
    {"trigger * Heartbeat extra", CS_ERR_PARSE, "unexpected argument 'extra'"},
    {"reload cfg fleet", CS_ERR_PARSE, "unexpected argument 'fleet'"},
    {"status CP-1 Faulted \"info=a b\"", CS_ERR_PARSE, "unexpected argument 'info=a b'"},
    {"status CP-1 Faulted info=\"abc", CS_ERR_PARSE, "unterminated quote at offset 25"},
    {"trigger 'CP-1 Heartbeat", CS_ERR_PARSE, "unterminated quote at offset 8"},
    {"trigger * Heartbeat info=\"abc\\\"", CS_ERR_PARSE, "unterminated quote"},
    {"ping ts=abc", CS_ERR_PARSE, "ts must be ms since the epoch"},
    {"ping ts=-5", CS_ERR_PARSE, "ts must be ms since the epoch"},
    {"ping ts=", CS_ERR_PARSE, "ts must be ms since the epoch"},
    {"ping ts=123456789012345678901234567890123", CS_ERR_PARSE, "ts must be ms"},
    {"@bad!id ping", CS_ERR_PARSE, "bad command id '@bad!id'"},
    {"@ ping", CS_ERR_PARSE, "bad command id"},
    {"@12345678901234567890123456789012345678901234567890123456789012345 ping", CS_ERR_PARSE,
     "bad command id"},
    /* JSON form */
    {"[\"ping\"]", CS_ERR_PARSE, "JSON command must be an object"},
    {" [1,2,3]", CS_ERR_PARSE, "JSON command must be an object"},
    {"[1,2", CS_ERR_PARSE, "invalid JSON"},
    {"{\"cmd\":\"ping\"", CS_ERR_PARSE, "invalid JSON"},
    {"{cmd:ping}", CS_ERR_PARSE, "invalid JSON near offset"},
    {"{\"cmd\":\"ping\"} trailing", CS_ERR_PARSE, "invalid JSON"},
    {"{\"cmd\":\"ping\"}{\"cmd\":\"pause\",\"select\":\"*\"}", CS_ERR_PARSE, "invalid JSON"},
    {"{}", CS_ERR_PARSE, "needs a string \"cmd\""},
    {"{\"cmd\":5}", CS_ERR_PARSE, "needs a string \"cmd\""},
    {"{\"command\":\"ping\"}", CS_ERR_PARSE, "needs a string \"cmd\""},
    {"{\"cmd\":\"nope\"}", CS_ERR_UNKNOWN, "unknown verb 'nope'"},
    {"{\"cmd\":\"ping\",\"args\":[]}", CS_ERR_PARSE, "ping: \"args\" must be an object"},
    {"{\"cmd\":\"ping\",\"args\":\"x=1\"}", CS_ERR_PARSE, "\"args\" must be an object"},
    {"{\"cmd\":\"ping\",\"colour\":\"red\"}", CS_ERR_UNKNOWN, "ping: unknown field \"colour\""},
    {"{\"cmd\":\"ping\",\"select\":\"*\"}", CS_ERR_UNKNOWN, "ping: unknown field \"select\""},
    {"{\"cmd\":\"pause\",\"select\":5}", CS_ERR_PARSE, "\"select\" must be a string"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\"}", CS_ERR_ARITY, "trigger: missing msg"},
    {"{\"cmd\":\"trigger\",\"msg\":\"Heartbeat\"}", CS_ERR_ARITY, "trigger: missing selector"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":null}", CS_ERR_PARSE,
     "\"msg\" must be a string"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":[\"x\"]}", CS_ERR_PARSE, "\"msg\" must be"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"H\",\"args\":{\"a\":[1]}}", CS_ERR_PARSE,
     "argument 'a' must be a scalar"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"H\",\"args\":{\"a\":null}}", CS_ERR_PARSE,
     "argument 'a' must be a scalar"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"H\",\"args\":{\"1a\":1}}", CS_ERR_PARSE,
     "bad key '1a'"},
    {"{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"H\",\"args\":{\"a\":1,\"a\":2}}",
     CS_ERR_PARSE, "argument 'a' given twice"},
    {"{\"cmd\":\"pause\",\"select\":\"*\",\"args\":{\"x\":1}}", CS_ERR_UNKNOWN,
     "pause: unknown argument 'x'"},
    {"{\"id\":\"bad id\",\"cmd\":\"ping\"}", CS_ERR_PARSE, "bad \"id\""},
    {"{\"id\":{},\"cmd\":\"ping\"}", CS_ERR_PARSE, "bad \"id\""},
    {"{\"id\":\"\",\"cmd\":\"ping\"}", CS_ERR_PARSE, "bad \"id\""},
    {"{\"cmd\":\"ping\",\"ts\":-1}", CS_ERR_PARSE, "\"ts\" must be ms since the epoch"},
    {"{\"cmd\":\"ping\",\"ts\":\"123\"}", CS_ERR_PARSE, "\"ts\" must be ms since the epoch"},
    {"{\"cmd\":\"ping\",\"args\":{\"ts\":\"x\"}}", CS_ERR_PARSE, "ts must be ms"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        struct cmd c;
        struct cs_error err;
        print_message("  input: %s\n", bad_cases[i].text);
        int rc = parse_str(bad_cases[i].text, &c, &err);
        print_message("  -> %d %s\n", rc, rc ? err.msg : "(ok)");
        assert_int_equal(rc, bad_cases[i].code);
        assert_int_equal(err.code, bad_cases[i].code);
        assert_non_null(strstr(err.msg, bad_cases[i].msg));
        /* *out is left empty (only the id may survive, for the error reply) */
        assert_null(c.def);
        assert_null(c.select);
        assert_int_equal(c.npos, 0);
        assert_int_equal(c.args.n, 0);
        assert_null(c.args.v);
        cmd_free(&c);
    }
}

/* A parse error without an error record still returns the code. */
static void test_null_err(void **state)
{
    (void)state;
    struct cmd c;
    assert_int_equal(cmd_parse("nope", 4, &c, NULL), CS_ERR_UNKNOWN);
    assert_int_equal(cmd_parse("{", 1, &c, NULL), CS_ERR_PARSE);
}

/* Only len bytes are read: the text need not be NUL-terminated, and NUL bytes are refused. */
static void test_length_and_nul(void **state)
{
    (void)state;
    struct cmd c;
    struct cs_error err;
    assert_int_equal(cmd_parse("ping pause", 4, &c, &err), CS_OK);
    assert_string_equal(c.def->name, "ping");
    cmd_free(&c);
    assert_int_equal(cmd_parse("{\"cmd\":\"ping\"}xyz", 14, &c, &err), CS_OK);
    assert_string_equal(c.def->name, "ping");
    cmd_free(&c);
    assert_int_equal(cmd_parse("ping\0x", 6, &c, &err), CS_ERR_PARSE);
    assert_non_null(strstr(err.msg, "NUL byte at offset 4"));
    /* JSON: a NUL, raw or escaped, would cut the text it sits in (cJSON ends strings there) */
    static const char *const nul_json[] = {
        ("{\"cmd\":\"status\",\"select\":\"CP-1\",\"status\":\"Faulted\","
         "\"args\":{\"info\":\"abc\\u0000def\"}}"),
        "{\"cmd\":\"trigger\",\"select\":\"*\\u0000,CP-1\",\"msg\":\"Heartbeat\"}",
        "{\"cmd\":\"ping\\u0000x\"}",
        "{\"id\":\"a\\u0000\",\"cmd\":\"ping\"}",
        "{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"H\",\"args\":{\"k\\u0000\":1}}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(nul_json); i++) {
        print_message("  %s\n", nul_json[i]);
        assert_int_equal(cmd_parse(nul_json[i], strlen(nul_json[i]), &c, &err), CS_ERR_PARSE);
        assert_non_null(strstr(err.msg, "\\u0000 (NUL) at offset"));
    }
    static const char raw_nul[] = "{\"cmd\":\"pi\0ng\"}";
    assert_int_equal(cmd_parse(raw_nul, sizeof(raw_nul) - 1, &c, &err), CS_ERR_PARSE);
    assert_non_null(strstr(err.msg, "NUL byte at offset 10"));
    /* an escaped backslash followed by "u0000" is text, not a NUL */
    static const char text[] = "{\"cmd\":\"status\",\"select\":\"CP-1\",\"status\":\"Faulted\","
                               "\"args\":{\"info\":\"a\\\\u0000\"}}";
    assert_int_equal(cmd_parse(text, strlen(text), &c, &err), CS_OK);
    assert_string_equal(kv_get(&c.args, "info"), "a\\u0000");
    cmd_free(&c);
    /* other escapes still work */
    static const char esc[] = "{\"cmd\":\"status\",\"select\":\"CP-1\",\"status\":\"F\","
                              "\"args\":{\"info\":\"\\u00e9\\u0001\"}}";
    assert_int_equal(cmd_parse(esc, strlen(esc), &c, &err), CS_OK);
    assert_string_equal(kv_get(&c.args, "info"), "\xc3\xa9\x01");
    cmd_free(&c);
}

static void test_size_limits(void **state)
{
    (void)state;
    struct cmd c;
    struct cs_error err;
    size_t cap = CMD_MAX_LEN + 64;
    char *s = cs_malloc(cap);

    /* exactly CMD_MAX_LEN bytes is fine, one more is refused */
    memset(s, ' ', CMD_MAX_LEN + 1);
    memcpy(s, "ping", 4);
    assert_int_equal(cmd_parse(s, CMD_MAX_LEN, &c, &err), CS_OK);
    cmd_free(&c);
    assert_int_equal(cmd_parse(s, CMD_MAX_LEN + 1, &c, &err), CS_ERR_TOO_BIG);
    assert_non_null(strstr(err.msg, "65537 bytes exceeds the 65536-byte cap"));
    assert_null(c.def);

    /* CMD_MAX_TOKENS words are fine, one more is refused */
    struct buf b = BUF_INIT;
    buf_puts(&b, "trigger * X");
    for (int i = 3; i < CMD_MAX_TOKENS; i++)
        buf_printf(&b, " k%d=%d", i, i);
    assert_int_equal(parse_str(buf_cstr(&b), &c, &err), CS_OK);
    assert_int_equal(c.args.n, CMD_MAX_TOKENS - 3);
    cmd_free(&c);
    buf_puts(&b, " one=more");
    assert_int_equal(parse_str(buf_cstr(&b), &c, &err), CS_ERR_TOO_BIG);
    assert_non_null(strstr(err.msg, "more than 256 words"));
    buf_free(&b);

    /* values: CMD_VALUE_MAX bytes in both forms, one more is refused */
    for (int extra = 0; extra <= 1; extra++) {
        int vl = CMD_VALUE_MAX + extra;
        buf_puts(&b, "trigger * X info=");
        for (int i = 0; i < vl; i++)
            buf_putc(&b, 'v');
        int rc = parse_str(buf_cstr(&b), &c, &err);
        assert_int_equal(rc, extra ? CS_ERR_TOO_BIG : CS_OK);
        if (rc)
            assert_non_null(strstr(err.msg, "value of 'info' longer than 4096"));
        else
            assert_int_equal(strlen(kv_get(&c.args, "info")), vl);
        cmd_free(&c);
        buf_reset(&b);
        buf_puts(&b, "{\"cmd\":\"trigger\",\"select\":\"*\",\"msg\":\"X\",\"args\":{\"info\":\"");
        for (int i = 0; i < vl; i++)
            buf_putc(&b, 'v');
        buf_puts(&b, "\"}}");
        rc = parse_str(buf_cstr(&b), &c, &err);
        assert_int_equal(rc, extra ? CS_ERR_TOO_BIG : CS_OK);
        cmd_free(&c);
        buf_reset(&b);
    }
    buf_free(&b);
    cs_free(s);
}

/* ---- ids on failure ------------------------------------------------------------------------ */

static void test_salvage_id(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *id; /* what cmd_salvage_id gives */
    } cases[] = {
        {"@c9 trigger *", "c9"},
        {"  @c9 nope", "c9"},
        {"@c9", "c9"},
        {"@c9 trigger 'unterminated", "c9"},
        {"{\"id\":\"j1\",\"cmd\":\"nope\"}", "j1"},
        {" {\"cmd\":\"nope\",\"id\":\"j2\"}", "j2"},
        {"{\"id\":7,\"cmd\":\"nope\"}", "7"},
        {"{\"id\":\"j1\",\"cmd\":", ""}, /* not JSON: nothing to salvage */
        {"{\"id\":\"bad id\",\"cmd\":\"ping\"}", ""},
        {"{\"id\":[1],\"cmd\":\"ping\"}", ""},
        {"@bad!id ping", ""},
        {"@ ping", ""},
        {"trigger *", ""},
        {"", ""},
        /* an id longer than 64 characters is not cut down to a different, valid one */
        {"@12345678901234567890123456789012345678901234567890123456789012345 ping", ""},
        {"{\"id\":\"12345678901234567890123456789012345678901234567890123456789012345\"}", ""},
        {"@1234567890123456789012345678901234567890123456789012345678901234 nope",
         "1234567890123456789012345678901234567890123456789012345678901234"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char id[CMD_ID_MAX + 1];
        memset(id, 'x', sizeof(id));
        print_message("  input: %s\n", cases[i].text);
        cmd_salvage_id(cases[i].text, strlen(cases[i].text), id);
        assert_string_equal(id, cases[i].id);
        /* cmd_parse fails on all of them; when it got as far as the id, it keeps the same one */
        struct cmd c;
        struct cs_error err;
        assert_int_not_equal(parse_str(cases[i].text, &c, &err), CS_OK);
        if (c.id[0])
            assert_string_equal(c.id, cases[i].id);
        cmd_free(&c);
    }
}

/* ---- round trips ----------------------------------------------------------------------------- */

static void test_to_json(void **state)
{
    (void)state;
    struct cmd c;
    struct cs_error err;
    struct buf b = BUF_INIT;
    assert_int_equal(parse_str("@c1 trigger CP-000042 StatusNotification status=Faulted "
                               "info=\"a \\\"q\\\" \\\\ b\" ts=42",
                               &c, &err),
                     CS_OK);
    cmd_to_json(&c, &b);
    assert_string_equal(buf_cstr(&b),
                        "{\"id\":\"c1\",\"cmd\":\"trigger\",\"select\":\"CP-000042\","
                        "\"msg\":\"StatusNotification\",\"args\":{\"status\":\"Faulted\","
                        "\"info\":\"a \\\"q\\\" \\\\ b\"},\"ts\":42}");
    cmd_free(&c);
    buf_reset(&b);
    assert_int_equal(parse_str("ping", &c, &err), CS_OK);
    cmd_to_json(&c, &b);
    assert_string_equal(buf_cstr(&b), "{\"cmd\":\"ping\"}");
    cmd_free(&c);
    buf_free(&b);

    /* every table example survives cmd_to_json -> cmd_parse */
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(parse_str(t[i].example, &c, &err), CS_OK);
        check_round_trip(&c);
        cmd_free(&c);
    }
}

/* ---- docs ---------------------------------------------------------------------------------- */

static void test_scheduling(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        int64_t at, in, every, count;
        const char *msg; /* error text on failure */
    } cases[] = {
        {"trigger * Heartbeat in=30s", CS_OK, 0, 30000, 0, 0, NULL},
        {"trigger * Heartbeat in=250ms", CS_OK, 0, 250, 0, 0, NULL},
        {"trigger * Heartbeat every=1m count=5", CS_OK, 0, 0, 60000, 5, NULL},
        {"trigger * Heartbeat every=2s", CS_OK, 0, 0, 2000, 0, NULL},
        {"trigger * Heartbeat at=2026-01-01T00:00:00Z", CS_OK, 1767225600000, 0, 0, 0, NULL},
        {"trigger * Heartbeat at=1767225600123", CS_OK, 1767225600123, 0, 0, 0, NULL},
        {"trigger * Heartbeat in=5s every=1s count=3", CS_OK, 0, 5000, 1000, 3, NULL},
        {"{\"cmd\":\"ping\",\"in\":\"2s\"}", CS_OK, 0, 2000, 0, 0, NULL},
        {"{\"cmd\":\"ping\",\"every\":\"500ms\",\"count\":2}", CS_OK, 0, 0, 500, 2, NULL},
        {"trigger * Heartbeat in=soon", CS_ERR_PARSE, 0, 0, 0, 0, "in= wants a delay"},
        {"trigger * Heartbeat in=8d", CS_ERR_PARSE, 0, 0, 0, 0, "in= wants a delay"},
        {"trigger * Heartbeat every=10ms", CS_ERR_PARSE, 0, 0, 0, 0, "every= wants a period"},
        {"trigger * Heartbeat count=3", CS_ERR_PARSE, 0, 0, 0, 0, "count= needs every="},
        {"trigger * Heartbeat every=1s count=0", CS_ERR_PARSE, 0, 0, 0, 0, "count= wants"},
        {"trigger * Heartbeat at=yesterday", CS_ERR_PARSE, 0, 0, 0, 0, "at= wants"},
        /* times past the year 9999 (or 2^53 ms) would not survive the JSON form */
        {"start 00 at=306666666666466666", CS_ERR_PARSE, 0, 0, 0, 0, "at= wants"},
        {"trigger * Heartbeat at=253402300800000", CS_ERR_PARSE, 0, 0, 0, 0, "at= wants"},
        {"trigger * Heartbeat at=253402300799999", CS_OK, 253402300799999, 0, 0, 0, NULL},
        {"ping ts=9007199254740993 in=1s", CS_ERR_PARSE, 0, 0, 0, 0, "ts must be ms"},
        {"trigger * Heartbeat at=1 in=1s", CS_ERR_PARSE, 0, 0, 0, 0, "at= and in= together"},
        {"cancel x in=1s", CS_ERR_PARSE, 0, 0, 0, 0, "cannot be scheduled"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cmd c;
        struct cs_error err;
        int rc = parse_str(cases[i].text, &c, &err);
        print_message("  %s -> %d %s\n", cases[i].text, rc, rc ? err.msg : "");
        assert_int_equal(rc, cases[i].rc);
        if (rc) {
            assert_non_null(strstr(err.msg, cases[i].msg));
            continue;
        }
        assert_int_equal(c.at_ms, cases[i].at);
        assert_int_equal(c.in_ms, cases[i].in);
        assert_int_equal(c.every_ms, cases[i].every);
        assert_int_equal(c.count, cases[i].count);
        assert_true(cmd_scheduled(&c));
        /* Scheduling survives the JSON form (what swarm-cli publishes and logs). */
        struct buf b = BUF_INIT;
        struct cmd back;
        cmd_to_json(&c, &b);
        assert_int_equal(parse_str(buf_cstr(&b), &back, &err), CS_OK);
        assert_true(back.at_ms == c.at_ms && back.in_ms == c.in_ms && back.every_ms == c.every_ms &&
                    back.count == c.count);
        cmd_free(&back);
        buf_free(&b);
        cmd_free(&c);
    }
    /* The command log position rides along in the JSON form only. */
    struct cmd c;
    struct cs_error err;
    assert_int_equal(
        parse_str("{\"id\":\"a\",\"cmd\":\"ping\",\"log\":\"1700000000000-3\"}", &c, &err), CS_OK);
    assert_string_equal(c.log_id, "1700000000000-3");
    assert_false(cmd_scheduled(&c));
    cmd_free(&c);
    assert_int_equal(parse_str("{\"cmd\":\"ping\",\"log\":5}", &c, &err), CS_ERR_PARSE);
}

static void test_doc_markdown(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    cmd_doc_markdown(&b);
    const char *md = buf_cstr(&b);
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    char needle[256];
    for (size_t i = 0; i < n; i++) {
        snprintf(needle, sizeof(needle), "### %s\n", t[i].name);
        assert_non_null(strstr(md, needle));
        snprintf(needle, sizeof(needle), "| `%s` | `%s` |", t[i].name, t[i].usage);
        assert_non_null(strstr(md, needle));
        assert_non_null(strstr(md, t[i].example));
        for (const struct cmd_key *k = t[i].keys; k->name; k++) {
            snprintf(needle, sizeof(needle), "- `%s`: ", k->name);
            assert_non_null(strstr(md, needle));
        }
    }
    assert_non_null(strstr(md, "- `ts`: "));
    assert_non_null(strstr(md, "65536 bytes"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_line_and_json), cmocka_unit_test(test_line_quoting),
        cmocka_unit_test(test_pos_lookup),    cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_null_err),      cmocka_unit_test(test_length_and_nul),
        cmocka_unit_test(test_size_limits),   cmocka_unit_test(test_salvage_id),
        cmocka_unit_test(test_to_json),       cmocka_unit_test(test_scheduling),
        cmocka_unit_test(test_doc_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
