/* test_ocpp.c - frames between charger and platform in both profiles, the CALL payload field
 * specs and ISO 8601 date-times (cs/ocpp.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/mem.h"
#include "cs/ocpp.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00.000Z */
#define J PROFILE_JSON
#define O PROFILE_OCPP16J

/* 64 characters: the longest uid, and the longest action is 63. */
#define C16 "0123456789abcdef"
#define UID64 C16 C16 C16 C16
#define ACT63 "A" C16 C16 C16 "0123456789abcd"
#define ACT64 ACT63 "e"

/* The text is exactly one JSON value (strict parse); the caller frees it. */
static cJSON *parse_strict(const char *text)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, true);
    if (!j)
        print_error("not valid JSON: %s\n", text);
    assert_non_null(j);
    return j;
}

static char *print_json(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(s);
    return s;
}

/* ---- decoding ------------------------------------------------------------------------------ */

static const struct {
    enum ocpp_profile p;
    const char *in;
    size_t len; /* 0: strlen(in) */
    int type;
    const char *uid, *action;
    const char *payload;     /* CALL and CALLRESULT, printed unformatted */
    const char *code, *desc; /* CALLERROR */
} decode_ok[] = {
    /* OCPP-J */
    {O, "[2,\"abc\",\"Reset\",{\"type\":\"Hard\"}]", 0, OCPP_CALL, "abc", "Reset",
     "{\"type\":\"Hard\"}", NULL, NULL},
    {O, " [ 2 , \"u-1\" , \"Heartbeat\" , { } ] \r\n\t", 0, OCPP_CALL, "u-1", "Heartbeat", "{}",
     NULL, NULL},
    {O, "[2,12345,\"Reset\",{}]", 0, OCPP_CALL, "12345", "Reset", "{}", NULL, NULL},
    {O, "[2,\"" UID64 "\",\"" ACT63 "\",{\"a\":[1,{\"b\":null}]}]", 0, OCPP_CALL, UID64, ACT63,
     "{\"a\":[1,{\"b\":null}]}", NULL, NULL},
    {O, "[3,\"abc\",{\"status\":\"Accepted\",\"interval\":300}]", 0, OCPP_RESULT, "abc", "",
     "{\"status\":\"Accepted\",\"interval\":300}", NULL, NULL},
    {O, "[3,\"abc\",{}]", 0, OCPP_RESULT, "abc", "", "{}", NULL, NULL},
    {O, "[4,\"abc\",\"NotImplemented\",\"no such action\",{}]", 0, OCPP_ERROR, "abc", "", NULL,
     "NotImplemented", "no such action"},
    {O, "[4,\"abc\",\"FormatViolation\",\"\"]", 0, OCPP_ERROR, "abc", "", NULL, "FormatViolation",
     ""},
    {O, "[4,\"abc\",\"GenericError\",\"x\",{\"detail\":1}]", 0, OCPP_ERROR, "abc", "", NULL,
     "GenericError", "x"},
    /* a NUL after the value (C-string senders) ends the message */
    {O, "[2,\"a\",\"Heartbeat\",{}]\0junk", 27, OCPP_CALL, "a", "Heartbeat", "{}", NULL, NULL},
    /* length-delimited: what follows len is not read */
    {O, "[2,\"a\",\"Heartbeat\",{}]garbage", 22, OCPP_CALL, "a", "Heartbeat", "{}", NULL, NULL},
    /* json profile */
    {J, "{\"id\":\"u1\",\"type\":\"Reset\",\"data\":{\"type\":\"Soft\"}}", 0, OCPP_CALL, "u1",
     "Reset", "{\"type\":\"Soft\"}", NULL, NULL},
    {J, "{\"id\":\"u1\",\"method\":\"Reset\",\"params\":{\"type\":\"Soft\"}}", 0, OCPP_CALL, "u1",
     "Reset", "{\"type\":\"Soft\"}", NULL, NULL},
    {J, "{\"id\":\"u1\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"Heartbeat\"}", 0, OCPP_CALL,
     "u1", "Heartbeat", "{}", NULL, NULL},
    {J, "{\"data\":{},\"type\":\"Heartbeat\",\"id\":99}", 0, OCPP_CALL, "99", "Heartbeat", "{}",
     NULL, NULL},
    {J, "{\"id\":\"u1\",\"type\":7,\"method\":\"Reset\",\"data\":{}}", 0, OCPP_CALL, "u1", "Reset",
     "{}", NULL, NULL},
    {J, "{\"id\":\"u1\",\"type\":\"BootNotificationResponse\",\"data\":{\"status\":\"Accepted\"}}",
     0, OCPP_RESULT, "u1", "BootNotification", "{\"status\":\"Accepted\"}", NULL, NULL},
    {J, "{\"id\":\"u1\",\"method\":\"HeartbeatResponse\"}", 0, OCPP_RESULT, "u1", "Heartbeat", "{}",
     NULL, NULL},
    {J, "{\"id\":\"u1\",\"type\":\"Response\"}", 0, OCPP_CALL, "u1", "Response", "{}", NULL, NULL},
    {J,
     "{\"id\":\"u1\",\"type\":\"Error\",\"data\":{\"code\":\"NotSupported\",\"description\":\"x\"}"
     "}",
     0, OCPP_ERROR, "u1", "", NULL, "NotSupported", "x"},
    {J, "{\"id\":\"u1\",\"type\":\"Error\"}", 0, OCPP_ERROR, "u1", "", NULL, "GenericError", ""},
    {J, "{\"id\":\"u1\",\"type\":\"Error\",\"data\":{\"code\":5}}", 0, OCPP_ERROR, "u1", "", NULL,
     "GenericError", ""},
};

static void test_decode_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(decode_ok); i++) {
        struct ocpp_frame f;
        struct cs_error err;
        const char *code = "unset";
        size_t len = decode_ok[i].len ? decode_ok[i].len : strlen(decode_ok[i].in);
        print_message("  case %zu: %.*s\n", i, (int)len, decode_ok[i].in);
        int rc = ocpp_decode(decode_ok[i].p, decode_ok[i].in, len, &f, &code, &err);
        if (rc)
            print_error("case %zu: %s\n", i, err.msg);
        assert_int_equal(rc, CS_OK);
        assert_null(code);
        assert_int_equal(f.type, decode_ok[i].type);
        assert_string_equal(f.uid, decode_ok[i].uid);
        assert_string_equal(f.action, decode_ok[i].action);
        if (decode_ok[i].payload) {
            char *s = print_json(f.payload);
            assert_string_equal(s, decode_ok[i].payload);
            cJSON_free(s);
        } else {
            assert_null(f.payload);
            assert_string_equal(f.err_code, decode_ok[i].code);
            assert_string_equal(f.err_desc, decode_ok[i].desc);
        }
        ocpp_frame_free(&f);
        assert_null(f.payload);
        ocpp_frame_free(&f); /* twice is harmless */
    }
}

/* Malformed messages: a non-zero code, the CALLERROR code to answer with and the uid when it
 * could be read. */
static const struct {
    enum ocpp_profile p;
    const char *in;
    const char *code;
    const char *uid;
} decode_bad[] = {
    {O, "", OCPP_E_FORMATION, ""},
    {O, "not json", OCPP_E_FORMATION, ""},
    {O, "[2,\"a\",\"X\",{]", OCPP_E_FORMATION, ""},
    {O, "{}", OCPP_E_FORMATION, ""},
    {O, "\"[2,\\\"a\\\",\\\"X\\\",{}]\"", OCPP_E_FORMATION, ""},
    {O, "[]", OCPP_E_FORMATION, ""},
    {O, "[2]", OCPP_E_FORMATION, ""},
    {O, "[2,\"\",\"X\",{}]", OCPP_E_FORMATION, ""},
    {O, "[2,null,\"X\",{}]", OCPP_E_FORMATION, ""},
    {O, "[2,-1,\"X\",{}]", OCPP_E_FORMATION, ""},
    {O, "[2,{},\"X\",{}]", OCPP_E_FORMATION, ""},
    {O, "[2,\"" UID64 "x\",\"X\",{}]", OCPP_E_FORMATION, ""},
    {O, "[\"2\",\"a\",\"X\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[null,\"a\",\"X\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[5,\"a\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[0,\"a\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[2.5,\"a\",\"X\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[1e300,\"a\",\"X\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[-1e300,\"a\",\"X\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\"]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"X\"]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"X\",{},{}]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",7,{}]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"" ACT64 "\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"X\",[]]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"X\",null]", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"X\",\"{}\"]", OCPP_E_FORMATION, "a"},
    {O, "[3,\"a\"]", OCPP_E_FORMATION, "a"},
    {O, "[3,\"a\",[]]", OCPP_E_FORMATION, "a"},
    {O, "[3,\"a\",{},{}]", OCPP_E_FORMATION, "a"},
    {O, "[4,\"a\",\"GenericError\"]", OCPP_E_FORMATION, "a"},
    {O, "[4,\"a\",1,\"d\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[4,\"a\",\"GenericError\",null,{}]", OCPP_E_FORMATION, "a"},
    {O, "[4,\"a\",\"GenericError\",\"d\",{},1]", OCPP_E_FORMATION, "a"},
    /* more after the value: the uid was readable */
    {O, "[2,\"a\",\"X\",{}] x", OCPP_E_FORMATION, "a"},
    {O, "[2,\"a\",\"X\",{}][3,\"b\",{}]", OCPP_E_FORMATION, "a"},
    {O, "[3,\"b\",{}],", OCPP_E_FORMATION, "b"},
    /* json profile */
    {J, "", OCPP_E_FORMATION, ""},
    {J, "[2,\"a\",\"X\",{}]", OCPP_E_FORMATION, ""},
    {J, "{\"type\":\"X\"}", OCPP_E_FORMATION, ""},
    {J, "{\"id\":\"\",\"type\":\"X\"}", OCPP_E_FORMATION, ""},
    {J, "{\"id\":true,\"type\":\"X\"}", OCPP_E_FORMATION, ""},
    {J, "{\"id\":\"" UID64 "x\",\"type\":\"X\"}", OCPP_E_FORMATION, ""},
    {J, "{\"id\":\"a\"}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"\"}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":7}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"" ACT64 "\"}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"X\",\"data\":[]}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"X\",\"data\":\"x\"}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"X\",\"data\":null}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"method\":\"X\",\"params\":1}", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"X\"} junk", OCPP_E_FORMATION, "a"},
    {J, "{\"id\":\"a\",\"type\":\"X\"}{}", OCPP_E_FORMATION, "a"},
};

static void test_decode_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(decode_bad); i++) {
        struct ocpp_frame f;
        struct cs_error err;
        const char *code = NULL;
        memset(&err, 0, sizeof(err));
        print_message("  case %zu: %s\n", i, decode_bad[i].in);
        int rc = ocpp_decode(decode_bad[i].p, decode_bad[i].in, strlen(decode_bad[i].in), &f, &code,
                             &err);
        print_message("    -> %s\n", err.msg);
        assert_int_not_equal(rc, CS_OK);
        assert_int_equal(err.code, rc);
        assert_true(err.msg[0] != '\0');
        assert_non_null(code);
        assert_string_equal(code, decode_bad[i].code);
        assert_true(ocpp_is_formation_violation(code));
        assert_string_equal(f.uid, decode_bad[i].uid);
        assert_null(f.payload);
        ocpp_frame_free(&f);
        /* without an error record */
        assert_int_not_equal(ocpp_decode(decode_bad[i].p, decode_bad[i].in,
                                         strlen(decode_bad[i].in), &f, &code, NULL),
                             CS_OK);
        ocpp_frame_free(&f);
    }
}

/* Downlink messages are capped at OCPP_DOWNLINK_MAX bytes. */
static void test_decode_size(void **state)
{
    (void)state;
    for (int profile = 0; profile < 2; profile++) {
        struct buf b = BUF_INIT;
        buf_puts(&b, profile == O
                         ? "[2,\"big\",\"DataTransfer\",{\"vendorId\":\"v\",\"data\":\""
                         : "{\"id\":\"big\",\"type\":\"DataTransfer\",\"data\":{\"data\":\"");
        const size_t tail = 3; /* "}] or "}} */
        while (b.len < OCPP_DOWNLINK_MAX - tail)
            buf_putc(&b, 'x');
        buf_puts(&b, profile == O ? "\"}]" : "\"}}");
        assert_int_equal(b.len, OCPP_DOWNLINK_MAX);
        struct ocpp_frame f;
        const char *code;
        assert_int_equal(ocpp_decode((enum ocpp_profile)profile, b.s, b.len, &f, &code, NULL),
                         CS_OK);
        assert_string_equal(f.action, "DataTransfer");
        ocpp_frame_free(&f);
        buf_reset(&b);
        buf_puts(&b, profile == O
                         ? "[2,\"big\",\"DataTransfer\",{\"data\":\""
                         : "{\"id\":\"big\",\"type\":\"DataTransfer\",\"data\":{\"data\":\"");
        while (b.len < OCPP_DOWNLINK_MAX + 1 - tail)
            buf_putc(&b, 'x');
        buf_puts(&b, profile == O ? "\"}]" : "\"}}");
        struct cs_error err;
        assert_int_not_equal(ocpp_decode((enum ocpp_profile)profile, b.s, b.len, &f, &code, &err),
                             CS_OK);
        assert_string_equal(code, OCPP_E_FORMATION);
        assert_non_null(strstr(err.msg, "larger than 65536"));
        ocpp_frame_free(&f);
        buf_free(&b);
    }
}

static void test_formation_violation(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        bool yes;
    } cases[] = {
        {"FormationViolation", true},
        {"FormatViolation", true},
        {OCPP_E_FORMATION, true},
        {"formationviolation", false},
        {"FormationViolation ", false},
        {"Formation", false},
        {"", false},
        {OCPP_E_PROTOCOL, false},
        {OCPP_E_PROPERTY, false},
        {"FormatViolations", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(ocpp_is_formation_violation(cases[i].code), cases[i].yes);
    assert_string_equal(OCPP_E_OCCURRENCE, "OccurenceConstraintViolation"); /* 1.6 spelling */
}

/* ---- encoding ------------------------------------------------------------------------------ */

static const struct {
    enum ocpp_profile p;
    char kind;                          /* 'c' CALL, 'r' CALLRESULT, 'e' CALLERROR */
    const char *uid, *action, *payload; /* for 'e': action = code, payload = description */
    const char *want;
} encode_cases[] = {
    {O, 'c', "u1", "Heartbeat", "{}", "[2,\"u1\",\"Heartbeat\",{}]"},
    {O, 'c', "u1", "Authorize", "{\"idTag\":\"T\"}", "[2,\"u1\",\"Authorize\",{\"idTag\":\"T\"}]"},
    {O, 'r', "u1", "Reset", "{\"status\":\"Accepted\"}", "[3,\"u1\",{\"status\":\"Accepted\"}]"},
    {O, 'e', "u1", "NotImplemented", "Unknown action",
     "[4,\"u1\",\"NotImplemented\",\"Unknown action\",{}]"},
    {O, 'e', "a\"b\\c", "FormationViolation", "say \"hi\"\n\x01",
     "[4,\"a\\\"b\\\\c\",\"FormationViolation\",\"say \\\"hi\\\"\\n\\u0001\",{}]"},
    {J, 'c', "u1", "Heartbeat", "{}",
     "{\"id\":\"u1\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"Heartbeat\",\"data\":{}}"},
    {J, 'r', "u1", "Reset", "{\"status\":\"Accepted\"}",
     "{\"id\":\"u1\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"ResetResponse\","
     "\"data\":{\"status\":\"Accepted\"}}"},
    {J, 'e', "u1", "NotImplemented", "Unknown action",
     "{\"id\":\"u1\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"Error\","
     "\"data\":{\"code\":\"NotImplemented\",\"description\":\"Unknown action\"}}"},
    {J, 'e', "a\"b", "GenericError", "tab\there",
     "{\"id\":\"a\\\"b\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"Error\","
     "\"data\":{\"code\":\"GenericError\",\"description\":\"tab\\there\"}}"},
    {J, 'c', "", "X", "[1]",
     "{\"id\":\"\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"X\",\"data\":[1]}"},
};

static void encode(size_t i, int64_t ts, struct buf *out)
{
    enum ocpp_profile p = encode_cases[i].p;
    const char *pl = encode_cases[i].payload;
    switch (encode_cases[i].kind) {
    case 'c':
        ocpp_encode_call(p, encode_cases[i].uid, encode_cases[i].action, ts, pl, strlen(pl), out);
        break;
    case 'r':
        ocpp_encode_result(p, encode_cases[i].uid, encode_cases[i].action, ts, pl, strlen(pl), out);
        break;
    default:
        ocpp_encode_error(p, encode_cases[i].uid, encode_cases[i].action, pl, ts, out);
    }
}

/* Exact text, valid JSON, appended to what the buffer holds, and decodable by the other side
 * of the same profile. */
static void test_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(encode_cases); i++) {
        struct buf out = BUF_INIT;
        buf_puts(&out, "=");
        encode(i, T0, &out);
        print_message("  %s\n", buf_cstr(&out) + 1);
        assert_string_equal(buf_cstr(&out) + 1, encode_cases[i].want);
        cJSON *j = parse_strict(buf_cstr(&out) + 1);
        if (encode_cases[i].p == J) {
            const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
            int64_t ms = 0;
            assert_true(cJSON_IsString(ts));
            assert_true(ocpp_datetime_parse(ts->valuestring, &ms));
            assert_int_equal(ms, T0);
        }
        cJSON_Delete(j);

        /* round trip through the decoder (payloads must be objects for that) */
        if (encode_cases[i].uid[0] && encode_cases[i].payload[0] != '[') {
            struct ocpp_frame f;
            const char *code;
            struct cs_error err;
            int rc = ocpp_decode(encode_cases[i].p, out.s + 1, out.len - 1, &f, &code, &err);
            if (rc)
                print_error("%s\n", err.msg);
            assert_int_equal(rc, CS_OK);
            assert_string_equal(f.uid, encode_cases[i].uid);
            switch (encode_cases[i].kind) {
            case 'c':
                assert_int_equal(f.type, OCPP_CALL);
                assert_string_equal(f.action, encode_cases[i].action);
                break;
            case 'r':
                assert_int_equal(f.type, OCPP_RESULT);
                /* OCPP-J results do not name their action; the json profile's do */
                assert_string_equal(f.action, encode_cases[i].p == J ? encode_cases[i].action : "");
                break;
            default:
                assert_int_equal(f.type, OCPP_ERROR);
                assert_string_equal(f.err_code, encode_cases[i].action);
                assert_string_equal(f.err_desc, encode_cases[i].payload);
            }
            if (f.payload) {
                char *s = print_json(f.payload);
                assert_string_equal(s, encode_cases[i].payload);
                cJSON_free(s);
            }
            ocpp_frame_free(&f);
        }
        buf_free(&out);
    }
}

/* Whatever the uid, action and text, the frames are valid JSON carrying them unchanged. */
static void test_encode_escaping(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",          "plain",        "q\"uote",     "back\\slash",
        "new\nline", "\x01\x1f\x7f", "caf\xc3\xa9", "{\"not\":\"json\"}",
        "[2,\"x\"]", "</script>",
    };
    for (size_t t = 0; t < ARRAY_SIZE(texts); t++) {
        for (int p = 0; p < 2; p++) {
            struct buf out = BUF_INIT;
            ocpp_encode_error((enum ocpp_profile)p, texts[t], texts[t], texts[t], 0, &out);
            cJSON *j = parse_strict(buf_cstr(&out));
            const cJSON *uid, *code, *desc;
            if (p == O) {
                uid = cJSON_GetArrayItem(j, 1);
                code = cJSON_GetArrayItem(j, 2);
                desc = cJSON_GetArrayItem(j, 3);
                assert_int_equal(cJSON_GetArraySize(j), 5);
                assert_true(cJSON_IsObject(cJSON_GetArrayItem(j, 4)));
            } else {
                const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
                uid = cJSON_GetObjectItemCaseSensitive(j, "id");
                code = cJSON_GetObjectItemCaseSensitive(data, "code");
                desc = cJSON_GetObjectItemCaseSensitive(data, "description");
                assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "ts")->valuestring,
                                    "1970-01-01T00:00:00.000Z");
            }
            assert_string_equal(uid->valuestring, texts[t]);
            assert_string_equal(code->valuestring, texts[t]);
            assert_string_equal(desc->valuestring, texts[t]);
            cJSON_Delete(j);
            buf_reset(&out);
            ocpp_encode_call((enum ocpp_profile)p, texts[t], texts[t], T0, "{}", 2, &out);
            j = parse_strict(buf_cstr(&out));
            cJSON_Delete(j);
            buf_reset(&out);
            ocpp_encode_result((enum ocpp_profile)p, texts[t], texts[t], T0, "{}", 2, &out);
            j = parse_strict(buf_cstr(&out));
            cJSON_Delete(j);
            buf_free(&out);
        }
    }
}

/* ---- payload validation ------------------------------------------------------------------- */

/* The CALLs a charger accepts and their fields, from the OCPP 1.6 message definitions
 * (section 6): name, JSON type, required, maximum length, allowed values. */
struct want_field {
    const char *name;
    enum ocpp_ftype type;
    bool required;
    int maxlen;
    const char *choices; /* comma separated, NULL = any */
};

static const struct {
    const char *action;
    const char *valid; /* a payload that passes */
    struct want_field fields[6];
} call_specs[] = {
    {"RemoteStartTransaction",
     "{\"connectorId\":1,\"idTag\":\"TAG\",\"chargingProfile\":{}}",
     {{"connectorId", FT_INT, false, 0, NULL},
      {"idTag", FT_STRING, true, 20, NULL},
      {"chargingProfile", FT_OBJECT, false, 0, NULL}}},
    {"RemoteStopTransaction", "{\"transactionId\":7}", {{"transactionId", FT_INT, true, 0, NULL}}},
    {"Reset", "{\"type\":\"Soft\"}", {{"type", FT_STRING, true, 0, "Hard,Soft"}}},
    {"ChangeConfiguration",
     "{\"key\":\"HeartbeatInterval\",\"value\":\"30\"}",
     {{"key", FT_STRING, true, 50, NULL}, {"value", FT_STRING, true, 500, NULL}}},
    {"GetConfiguration", "{\"key\":[\"HeartbeatInterval\"]}", {{"key", FT_ARRAY, false, 0, NULL}}},
    {"ChangeAvailability",
     "{\"connectorId\":0,\"type\":\"Inoperative\"}",
     {{"connectorId", FT_INT, true, 0, NULL},
      {"type", FT_STRING, true, 0, "Inoperative,Operative"}}},
    {"UnlockConnector", "{\"connectorId\":1}", {{"connectorId", FT_INT, true, 0, NULL}}},
    {"TriggerMessage",
     "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":1}",
     {{"requestedMessage", FT_STRING, true, 0,
       "BootNotification,DiagnosticsStatusNotification,FirmwareStatusNotification,Heartbeat,"
       "MeterValues,StatusNotification"},
      {"connectorId", FT_INT, false, 0, NULL}}},
    {"DataTransfer",
     "{\"vendorId\":\"com.example\",\"messageId\":\"Ping\",\"data\":\"x\"}",
     {{"vendorId", FT_STRING, true, 255, NULL}, {"messageId", FT_STRING, false, 50, NULL}}},
    {"UpdateFirmware",
     "{\"location\":\"ftp://example.com/fw.bin\",\"retries\":3,"
     "\"retrieveDate\":\"2026-01-01T00:00:00Z\",\"retryInterval\":60}",
     {{"location", FT_STRING, true, 0, NULL},
      {"retries", FT_INT, false, 0, NULL},
      {"retrieveDate", FT_DATETIME, true, 0, NULL},
      {"retryInterval", FT_INT, false, 0, NULL}}},
    {"GetDiagnostics",
     "{\"location\":\"ftp://example.com/diag/\",\"retries\":1,\"retryInterval\":30,"
     "\"startTime\":\"2026-01-01T00:00:00Z\",\"stopTime\":\"2026-01-02T00:00:00Z\"}",
     {{"location", FT_STRING, true, 0, NULL},
      {"retries", FT_INT, false, 0, NULL},
      {"retryInterval", FT_INT, false, 0, NULL},
      {"startTime", FT_DATETIME, false, 0, NULL},
      {"stopTime", FT_DATETIME, false, 0, NULL}}},
    {"ClearCache", "{}", {{NULL, 0, false, 0, NULL}}},
    {"CancelReservation", "{\"reservationId\":3}", {{"reservationId", FT_INT, true, 0, NULL}}},
    {"ReserveNow",
     "{\"connectorId\":1,\"expiryDate\":\"2026-01-01T00:00:00Z\",\"idTag\":\"T\","
     "\"parentIdTag\":\"P\",\"reservationId\":3}",
     {{"connectorId", FT_INT, true, 0, NULL},
      {"expiryDate", FT_DATETIME, true, 0, NULL},
      {"idTag", FT_STRING, true, 20, NULL},
      {"parentIdTag", FT_STRING, false, 20, NULL},
      {"reservationId", FT_INT, true, 0, NULL}}},
    {"SendLocalList",
     "{\"listVersion\":2,\"localAuthorizationList\":[],\"updateType\":\"Full\"}",
     {{"listVersion", FT_INT, true, 0, NULL},
      {"localAuthorizationList", FT_ARRAY, false, 0, NULL},
      {"updateType", FT_STRING, true, 0, "Differential,Full"}}},
    {"GetLocalListVersion", "{}", {{NULL, 0, false, 0, NULL}}},
    {"SetChargingProfile",
     "{\"connectorId\":1,\"csChargingProfiles\":{}}",
     {{"connectorId", FT_INT, true, 0, NULL}, {"csChargingProfiles", FT_OBJECT, true, 0, NULL}}},
    {"ClearChargingProfile",
     "{\"id\":1,\"connectorId\":1,\"chargingProfilePurpose\":\"TxProfile\",\"stackLevel\":0}",
     {{"id", FT_INT, false, 0, NULL},
      {"connectorId", FT_INT, false, 0, NULL},
      {"chargingProfilePurpose", FT_STRING, false, 0,
       "ChargePointMaxProfile,TxDefaultProfile,TxProfile"},
      {"stackLevel", FT_INT, false, 0, NULL}}},
    {"GetCompositeSchedule",
     "{\"connectorId\":1,\"duration\":3600,\"chargingRateUnit\":\"W\"}",
     {{"connectorId", FT_INT, true, 0, NULL},
      {"duration", FT_INT, true, 0, NULL},
      {"chargingRateUnit", FT_STRING, false, 0, "A,W"}}},
};

static void check_payload(const char *action, const cJSON *obj, const char *want_code,
                          const char *what)
{
    const char *code = NULL;
    struct cs_error err;
    memset(&err, 0, sizeof(err));
    char *s = print_json(obj);
    int rc = ocpp_check(obj, ocpp_call_fields(action), &code, &err);
    print_message("  %s %s (%s) -> %s\n", action, s, what, rc ? err.msg : "ok");
    if (!want_code) {
        assert_int_equal(rc, CS_OK);
    } else {
        assert_int_not_equal(rc, CS_OK);
        assert_int_equal(err.code, rc);
        assert_non_null(code);
        assert_string_equal(code, want_code);
    }
    cJSON_free(s);
}

/* Wrong JSON types for a field of type t. */
static const char *const wrong_types[][6] = {
    [FT_STRING] = {"1", "true", "null", "{}", "[]", NULL},
    [FT_INT] = {"\"1\"", "1.5", "true", "null", "{}", "[]"},
    [FT_NUMBER] = {"\"1\"", "true", "null", "{}", "[]", NULL},
    [FT_BOOL] = {"1", "\"true\"", "null", "{}", "[]", NULL},
    [FT_DATETIME] = {"1767225600000", "true", "null", "{}", "[]", NULL},
    [FT_OBJECT] = {"[]", "\"{}\"", "1", "null", "true", NULL},
    [FT_ARRAY] = {"{}", "\"[]\"", "1", "null", "true", NULL},
};

/* obj with field set to the JSON text v */
static cJSON *with(const char *valid, const char *field, const char *v)
{
    cJSON *o = cJSON_Parse(valid);
    cJSON *val = cJSON_Parse(v);
    assert_non_null(o);
    assert_non_null(val);
    if (cJSON_GetObjectItemCaseSensitive(o, field))
        cJSON_ReplaceItemInObjectCaseSensitive(o, field, val);
    else
        cJSON_AddItemToObject(o, field, val);
    return o;
}

static void test_call_fields(void **state)
{
    (void)state;
    for (size_t a = 0; a < ARRAY_SIZE(call_specs); a++) {
        const char *action = call_specs[a].action;
        const struct ocpp_field *fields = ocpp_call_fields(action);
        assert_non_null(fields);

        /* the spec of the source is the spec of OCPP 1.6 */
        size_t nwant = 0, ngot = 0;
        while (call_specs[a].fields[nwant].name)
            nwant++;
        for (const struct ocpp_field *f = fields; f->name; f++, ngot++) {
            size_t k;
            for (k = 0; k < nwant; k++)
                if (strcmp(call_specs[a].fields[k].name, f->name) == 0)
                    break;
            if (k == nwant)
                fail_msg("%s: unexpected field %s", action, f->name);
            const struct want_field *w = &call_specs[a].fields[k];
            assert_int_equal(f->type, w->type);
            assert_int_equal(f->required, w->required);
            assert_int_equal(f->maxlen, w->maxlen);
            struct buf ch = BUF_INIT;
            for (const char *const *c = f->choices; c && *c; c++)
                buf_printf(&ch, "%s%s", c == f->choices ? "" : ",", *c);
            if (w->choices)
                assert_string_equal(buf_cstr(&ch), w->choices);
            else
                assert_null(f->choices);
            buf_free(&ch);
        }
        assert_int_equal(ngot, nwant);

        /* a complete payload passes, and so does one with only the required fields */
        cJSON *obj = parse_strict(call_specs[a].valid);
        check_payload(action, obj, NULL, "valid");
        cJSON *min = parse_strict(call_specs[a].valid);
        for (const struct ocpp_field *f = fields; f->name; f++)
            if (!f->required)
                cJSON_DeleteItemFromObjectCaseSensitive(min, f->name);
        check_payload(action, min, NULL, "required fields only");
        cJSON_Delete(min);
        /* unknown fields pass */
        cJSON *extra = with(call_specs[a].valid, "vendorExtension", "{\"x\":[1]}");
        check_payload(action, extra, NULL, "unknown field");
        cJSON_Delete(extra);

        for (const struct ocpp_field *f = fields; f->name; f++) {
            /* missing */
            cJSON *o = parse_strict(call_specs[a].valid);
            cJSON_DeleteItemFromObjectCaseSensitive(o, f->name);
            check_payload(action, o, f->required ? OCPP_E_OCCURRENCE : NULL, f->name);
            cJSON_Delete(o);
            /* names are case-sensitive */
            char upper[64];
            snprintf(upper, sizeof(upper), "%s", f->name);
            upper[0] = (char)(upper[0] - 'a' + 'A');
            o = parse_strict(call_specs[a].valid);
            cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(o, f->name);
            cJSON_AddItemToObject(o, upper, v);
            check_payload(action, o, f->required ? OCPP_E_OCCURRENCE : NULL, upper);
            cJSON_Delete(o);
            /* wrong JSON types */
            for (size_t t = 0; t < 6 && wrong_types[f->type][t]; t++) {
                o = with(call_specs[a].valid, f->name, wrong_types[f->type][t]);
                check_payload(action, o, OCPP_E_TYPE, wrong_types[f->type][t]);
                cJSON_Delete(o);
            }
            /* bad values */
            if (f->type == FT_STRING && f->maxlen) {
                struct buf s = BUF_INIT;
                buf_putc(&s, '"');
                for (int i = 0; i < f->maxlen; i++)
                    buf_putc(&s, 'x');
                buf_putc(&s, '"');
                o = with(call_specs[a].valid, f->name, buf_cstr(&s));
                check_payload(action, o, NULL, "longest");
                cJSON_Delete(o);
                s.len--;
                buf_puts(&s, "x\"");
                o = with(call_specs[a].valid, f->name, buf_cstr(&s));
                check_payload(action, o, OCPP_E_PROPERTY, "one too long");
                cJSON_Delete(o);
                buf_free(&s);
            }
            if (f->choices) {
                for (const char *const *c = f->choices; *c; c++) {
                    char v2[96];
                    snprintf(v2, sizeof(v2), "\"%s\"", *c);
                    o = with(call_specs[a].valid, f->name, v2);
                    check_payload(action, o, NULL, *c);
                    cJSON_Delete(o);
                }
                static const char *const bad[] = {"\"\"", "\"hard\"", "\"Nope\"", "\"Soft \"",
                                                  "\"Authorize\""};
                for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                    o = with(call_specs[a].valid, f->name, bad[i]);
                    check_payload(action, o, OCPP_E_PROPERTY, bad[i]);
                    cJSON_Delete(o);
                }
            }
            if (f->type == FT_DATETIME) {
                static const char *const bad[] = {
                    "\"\"", "\"tomorrow\"", "\"2026-13-01T00:00:00Z\"", "\"2026-01-01T00:00:00\"",
                    "\"2026-02-30T00:00:00Z\""};
                for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                    o = with(call_specs[a].valid, f->name, bad[i]);
                    check_payload(action, o, OCPP_E_PROPERTY, bad[i]);
                    cJSON_Delete(o);
                }
                o = with(call_specs[a].valid, f->name, "\"2026-06-30T12:00:00.5+02:00\"");
                check_payload(action, o, NULL, "offset");
                cJSON_Delete(o);
            }
            if (f->type == FT_INT) {
                static const struct {
                    const char *v;
                    const char *code;
                } ints[] = {{"0", NULL},
                            {"2147483647", NULL},
                            {"1.0", NULL},
                            {"-1", OCPP_E_PROPERTY},
                            {"-2147483648", OCPP_E_PROPERTY},
                            {"1e300", OCPP_E_TYPE},
                            {"-1e300", OCPP_E_TYPE},
                            {"0.000001", OCPP_E_TYPE}};
                for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
                    o = with(call_specs[a].valid, f->name, ints[i].v);
                    check_payload(action, o, ints[i].code, ints[i].v);
                    cJSON_Delete(o);
                }
            }
        }
        cJSON_Delete(obj);
    }

    /* actions a charger does not accept have no field list */
    static const char *const unknown[] = {
        "", "reset", "Heartbeat", "BootNotification", "ResetResponse", "Reset "};
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
        assert_null(ocpp_call_fields(unknown[i]));

    /* no field list: anything passes */
    cJSON *o = parse_strict("{\"a\":1}");
    const char *code = NULL;
    assert_int_equal(ocpp_check(o, NULL, &code, NULL), CS_OK);
    assert_null(code);
    cJSON_Delete(o);
}

/* ---- date-times ---------------------------------------------------------------------------- */

static const struct {
    const char *s;
    bool ok;
    int64_t ms;
} dt_cases[] = {
    {"2026-01-01T00:00:00Z", true, T0},
    {"2026-01-01T00:00:00.000Z", true, T0},
    {"2026-01-01T00:00:00.5Z", true, T0 + 500},
    {"2026-01-01T00:00:00.05Z", true, T0 + 50},
    {"2026-01-01T00:00:00.123456789Z", true, T0 + 123},
    {"2026-01-01T00:00:00.999Z", true, T0 + 999},
    {"2026-01-01T01:00:00+01:00", true, T0},
    {"2025-12-31T23:00:00-01:00", true, T0},
    {"2026-01-01T05:30:00+05:30", true, T0},
    {"2025-12-31T14:15:00-09:45", true, T0},
    {"2026-01-01T00:00:00+00:00", true, T0},
    {"2026-01-01T00:00:00-00:00", true, T0},
    {"2026-01-01T00:00:00.250+00:00", true, T0 + 250},
    {"2026-01-01T23:59:59+23:59", true, T0 + 59000},
    {"1970-01-01T00:00:00Z", true, 0},
    {"1969-12-31T23:59:59Z", true, -1000},
    {"2024-02-29T12:00:00Z", true, 1709208000000LL},
    {"2000-02-29T00:00:00Z", true, 951782400000LL},
    {"2026-06-30T23:59:59Z", true, 1782863999000LL},
    {"2016-12-31T23:59:60Z", true, 1483228800000LL}, /* a leap second */
    {"9999-12-31T23:59:59Z", true, 253402300799000LL},
    /* not OCPP date-times */
    {"", false, 0},
    {"2026-01-01", false, 0},
    {"2026-01-01T00:00:00", false, 0}, /* no time zone */
    {"2026-01-01T00:00Z", false, 0},
    {"2026-01-01 00:00:00Z", false, 0},
    {"2026-01-01t00:00:00Z", false, 0},
    {"2026-01-01T00:00:00z", false, 0},
    {"2026-1-01T00:00:00Z", false, 0},
    {"2026-01-1T00:00:00Z", false, 0},
    {"26-01-01T00:00:00Z", false, 0},
    {"02026-01-01T00:00:00Z", false, 0},
    {" 2026-01-01T00:00:00Z", false, 0},
    {"+026-01-01T00:00:00Z", false, 0},
    {"2026-+1-01T00:00:00Z", false, 0},
    {"2026-01-01T00:00:00Z ", false, 0},
    {"2026-01-01T00:00:00ZZ", false, 0},
    {"2026-01-01T00:00:00.Z", false, 0},
    {"2026-01-01T00:00:00,5Z", false, 0},
    {"2026-01-01T00:00:00+0100", false, 0},
    {"2026-01-01T00:00:00+01", false, 0},
    {"2026-01-01T00:00:00+1:00", false, 0},
    {"2026-01-01T00:00:00+24:00", false, 0},
    {"2026-01-01T00:00:00+01:60", false, 0},
    {"2026-01-01T00:00:00+01:00x", false, 0},
    {"2026-00-01T00:00:00Z", false, 0},
    {"2026-13-01T00:00:00Z", false, 0},
    {"2026-01-00T00:00:00Z", false, 0},
    {"2026-01-32T00:00:00Z", false, 0},
    {"2026-01-01T24:00:00Z", false, 0},
    {"2026-01-01T00:60:00Z", false, 0},
    {"2026-01-01T00:00:61Z", false, 0},
    /* days the month does not have */
    {"2026-02-29T00:00:00Z", false, 0},
    {"2026-02-30T00:00:00Z", false, 0},
    {"2026-04-31T00:00:00Z", false, 0},
    {"2026-06-31T00:00:00Z", false, 0},
    {"2026-09-31T00:00:00Z", false, 0},
    {"2026-11-31T00:00:00Z", false, 0},
    {"1900-02-29T00:00:00Z", false, 0},
    {"2100-02-29T00:00:00Z", false, 0},
};

static void test_datetime(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(dt_cases); i++) {
        int64_t ms = 42;
        print_message("  '%s'\n", dt_cases[i].s);
        assert_int_equal(ocpp_datetime_parse(dt_cases[i].s, &ms), dt_cases[i].ok);
        assert_int_equal(ocpp_datetime_valid(dt_cases[i].s), dt_cases[i].ok);
        assert_int_equal(ocpp_datetime_parse(dt_cases[i].s, NULL), dt_cases[i].ok);
        if (dt_cases[i].ok)
            assert_int_equal(ms, dt_cases[i].ms);
        else
            assert_int_equal(ms, 42); /* untouched */
    }
    /* every day of a leap and a common year parses */
    for (int y = 2023; y <= 2024; y++) {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t prev = 0;
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= mdays[m - 1] + (m == 2 && y == 2024); d++) {
                char s[64]; /* room for any int, as -Wformat-truncation counts */
                int64_t ms;
                snprintf(s, sizeof(s), "%04d-%02d-%02dT12:00:00Z", y, m, d);
                assert_true(ocpp_datetime_parse(s, &ms));
                if (prev)
                    assert_int_equal(ms - prev, 86400000LL);
                prev = ms;
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_ok),   cmocka_unit_test(test_decode_bad),
        cmocka_unit_test(test_decode_size), cmocka_unit_test(test_formation_violation),
        cmocka_unit_test(test_encode),      cmocka_unit_test(test_encode_escaping),
        cmocka_unit_test(test_call_fields), cmocka_unit_test(test_datetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
