/* test_jtmpl.c - user-defined message templates (cs/jtmpl.h): compile and render, typed and
 * interpolated placeholders, arguments, random numbers, compile errors with offsets, catalog
 * files. Every rendered output must be valid JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/jtmpl.h"
#include "cs/kv.h"
#include "cs/mem.h"

/* ---- a resolver over fixed values ---------------------------------------------------------- */

struct values {
    const char *v[JT__COUNT]; /* NULL: the resolver leaves the text empty */
    struct kvlist args;
    int calls;
};

static const char *const default_values[JT__COUNT] = {
    [JT_ID] = "CP-000042",    [JT_INDEX] = "42",           [JT_TS] = "2026-01-01T00:00:00.000Z",
    [JT_METER_WH] = "11000",  [JT_POWER_W] = "22000",      [JT_SOC] = "38",
    [JT_STATUS] = "Charging", [JT_CONNECTOR] = "1",        [JT_TX_ID] = "1234",
    [JT_SEQ] = "7",           [JT_VENDOR] = "Chargeswarm", [JT_MODEL] = "VC-22",
    [JT_FIRMWARE] = "1.0.0",
};

static bool resolve(void *privdata, enum jt_var var, const char *name, struct jt_value *out)
{
    struct values *vals = privdata;
    vals->calls++;
    assert_true((unsigned)var < JT__COUNT);
    assert_int_not_equal(var, JT_RAND); /* the renderer draws those itself */
    if (var == JT_ARG) {
        assert_non_null(name);
        const char *a = kv_get(&vals->args, name);
        if (!a)
            return false;
        cs_strlcpy(out->text, a, sizeof(out->text));
        return true;
    }
    assert_null(name);
    cs_strlcpy(out->text, vals->v[var] ? vals->v[var] : "", sizeof(out->text));
    return true;
}

static void values_init(struct values *v, const char *const *args)
{
    memset(v, 0, sizeof(*v));
    memcpy(v->v, default_values, sizeof(v->v));
    for (size_t i = 0; args && args[i]; i += 2)
        kv_set(&v->args, args[i], args[i + 1]);
}

static void assert_json(const char *text)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, true);
    if (!j)
        print_error("not valid JSON: %s\n", text);
    assert_non_null(j);
    cJSON_Delete(j);
}

static struct jtmpl *compile_ok(const char *src)
{
    struct cs_error err;
    struct jtmpl *t = jtmpl_compile(src, strlen(src), &err);
    if (!t)
        print_error("'%s': %s\n", src, err.msg);
    assert_non_null(t);
    assert_string_equal(jtmpl_source(t), src);
    return t;
}

/* ---- compile and render -------------------------------------------------------------------- */

static const struct {
    const char *src;
    const char *args[8]; /* name, value pairs */
    const char *want;
} render_cases[] = {
    /* placeholders in value position are typed: numbers stay numbers */
    {"{\"id\": {id}}", {NULL}, "{\"id\":\"CP-000042\"}"},
    {"{\"i\": {index}, \"m\": {meter_wh}, \"p\": {power_w}, \"s\": {soc}, \"c\": {connector}, "
     "\"t\": {tx_id}, \"q\": {seq}}",
     {NULL},
     "{\"i\":42,\"m\":11000,\"p\":22000,\"s\":38,\"c\":1,\"t\":1234,\"q\":7}"},
    {"{\"st\": {status}, \"v\": {vendor}, \"mo\": {model}, \"fw\": {firmware}, \"ts\": {ts}}",
     {NULL},
     "{\"st\":\"Charging\",\"v\":\"Chargeswarm\",\"mo\":\"VC-22\",\"fw\":\"1.0.0\","
     "\"ts\":\"2026-01-01T00:00:00.000Z\"}"},
    {"[{index}, \"{index}\", {\"k\": [{seq}, {id}]}]",
     {NULL},
     "[42,\"42\",{\"k\":[7,\"CP-000042\"]}]"},
    {"{seq}", {NULL}, "7"},
    {"{id}", {NULL}, "\"CP-000042\""},
    /* inside strings they are interpolated as text */
    {"\"charger {id} at {meter_wh} Wh\"", {NULL}, "\"charger CP-000042 at 11000 Wh\""},
    {"{\"note\": \"{status}/{connector}/{tx_id}{seq}\"}",
     {NULL},
     "{\"note\":\"Charging/1/12347\"}"},
    /* {{ is a literal brace; a lone } is just a character */
    {"{\"b\": \"{{id}} {id} }} {{\"}", {NULL}, "{\"b\":\"{id} CP-000042 } {\"}"},
    {"{\"b\": \"{{\", \"c\": \"}\", \"d\": \"{{{id}\"}",
     {NULL},
     "{\"b\":\"{\",\"c\":\"}\",\"d\":\"{CP-000042\"}"},
    {"{\"a{{b\": 1}", {NULL}, "{\"a{b\":1}"},
    /* plain JSON: whitespace outside strings is dropped, the rest is kept as written */
    {" { \"a\" : [ 1 , -2.5e3 , 0 ] ,\n\t\"b\" : true , \"c\" : null , \"d\" : false } ",
     {NULL},
     "{\"a\":[1,-2.5e3,0],\"b\":true,\"c\":null,\"d\":false}"},
    {"{\"e\": \"a\\\"b\\\\c\\n\\u00e9\\/ d\"}", {NULL}, "{\"e\":\"a\\\"b\\\\c\\n\\u00e9\\/ d\"}"},
    {"{\"\xc3\xa9\": \"\xc3\xbc {id}\"}", {NULL}, "{\"\xc3\xa9\":\"\xc3\xbc CP-000042\"}"},
    {"{\"a\": {}, \"b\": { \"c\": {} }, \"d\": [], \"e\": [[]]}",
     {NULL},
     "{\"a\":{},\"b\":{\"c\":{}},\"d\":[],\"e\":[[]]}"},
    {"\"\"", {NULL}, "\"\""},
    {"0", {NULL}, "0"},
    /* arguments: given, default, guessed type */
    {"{\"level\": {arg.level|1}}", {NULL}, "{\"level\":1}"},
    {"{\"level\": {arg.level|1}}", {"level", "5", NULL}, "{\"level\":5}"},
    {"{\"level\": {arg.level|1}}", {"level", "high", NULL}, "{\"level\":\"high\"}"},
    {"{\"level\": {arg.level|1}}", {"level", "true", NULL}, "{\"level\":true}"},
    {"{\"level\": {arg.level|1}}", {"level", "null", NULL}, "{\"level\":null}"},
    {"{\"level\": {arg.level|1}}", {"level", "-2.5", NULL}, "{\"level\":-2.5}"},
    {"{\"level\": {arg.level|1}}", {"level", "{\"x\": [1]}", NULL}, "{\"level\":{\"x\":[1]}}"},
    {"{\"level\": {arg.level|1}}", {"level", "007", NULL}, "{\"level\":\"007\"}"},
    {"{\"level\": {arg.level|1}}", {"level", "", NULL}, "{\"level\":\"\"}"},
    {"{\"level\": {arg.level|1}}", {"level", "a\"b\\", NULL}, "{\"level\":\"a\\\"b\\\\\"}"},
    {"{\"x\": {arg.x|}}", {NULL}, "{\"x\":\"\"}"},
    {"{\"x\": {arg.x|hello world}}", {NULL}, "{\"x\":\"hello world\"}"},
    {"{\"x\": {arg.x|[1, 2]}}", {NULL}, "{\"x\":[1,2]}"},
    {"{\"x\": {arg.x|null}}", {NULL}, "{\"x\":null}"},
    {"{\"x\": {arg.Mixed_Case_9}}", {"Mixed_Case_9", "9", NULL}, "{\"x\":9}"},
    {"{\"n\": \"to {arg.name|nobody}!\"}", {NULL}, "{\"n\":\"to nobody!\"}"},
    {"{\"n\": \"to {arg.name|nobody}!\"}", {"name", "a\"b\n", NULL}, "{\"n\":\"to a\\\"b\\n!\"}"},
    {"{\"n\": \"{arg.n}\"}", {"n", "12", NULL}, "{\"n\":\"12\"}"}, /* text inside a string */
    {"{\"a\": {arg.a}, \"b\": {arg.b|x}}", {"b", "y", "a", "1", NULL}, "{\"a\":1,\"b\":\"y\"}"},
};

static void test_render(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(render_cases); i++) {
        struct values v;
        values_init(&v, render_cases[i].args);
        struct jtmpl *t = compile_ok(render_cases[i].src);
        struct buf out = BUF_INIT;
        struct cs_rng rng;
        struct cs_error err;
        cs_rng_seed(&rng, 1);
        buf_puts(&out, "=");
        int rc = jtmpl_render(t, resolve, &v, &rng, &out, &err);
        if (rc)
            print_error("case %zu: %s\n", i, err.msg);
        assert_int_equal(rc, CS_OK);
        print_message("  case %zu: %s\n", i, buf_cstr(&out) + 1);
        assert_string_equal(buf_cstr(&out) + 1, render_cases[i].want);
        assert_json(buf_cstr(&out) + 1);
        /* rendering again gives the same text */
        buf_reset(&out);
        assert_int_equal(jtmpl_render(t, resolve, &v, &rng, &out, NULL), CS_OK);
        assert_string_equal(buf_cstr(&out), render_cases[i].want);
        buf_free(&out);
        jtmpl_free(t);
        kv_free(&v.args);
    }
    jtmpl_free(NULL);
}

/* Values that need escaping, or that are not numbers where numbers are expected. */
static void test_render_odd_values(void **state)
{
    (void)state;
    static const char *const odd[] = {
        "",     "a\"b", "back\\slash", "line\nbreak", "\x01\x1f", "-",    "1e999",
        "01",   "+1",   ".5",          "NaN",         "{",        "[1,",  "}",
        "null", "true", "{\"x\":1}",   "\xc3\xa9",    "1 2",      "0x10",
    };
    static const char *const templates[] = {
        "{\"id\": {id}, \"s\": \"<{id}>\", \"n\": {meter_wh}, \"ns\": \"{meter_wh}\"}",
        "[{soc}, {power_w}, {status}, \"{soc}{status}\", {arg.a|0}, \"{arg.a|0}\"]",
        "{index}",
        "\"{tx_id}\"",
    };
    for (size_t t = 0; t < ARRAY_SIZE(templates); t++) {
        struct jtmpl *tm = compile_ok(templates[t]);
        for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
            struct values v;
            values_init(&v, (const char *const[]){"a", odd[i], NULL});
            for (int k = 0; k < JT__COUNT; k++)
                v.v[k] = odd[i];
            struct buf out = BUF_INIT;
            struct cs_rng rng;
            cs_rng_seed(&rng, 2);
            assert_int_equal(jtmpl_render(tm, resolve, &v, &rng, &out, NULL), CS_OK);
            print_message("  %s\n", buf_cstr(&out));
            assert_json(buf_cstr(&out));
            /* a number placeholder is a number only when the text is a JSON number */
            cJSON *j = cJSON_Parse(buf_cstr(&out));
            if (t == 2)
                assert_int_equal(cJSON_IsNumber(j), json_is_number(odd[i]));
            if (t == 0) {
                assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring, odd[i]);
                assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "ns")->valuestring, odd[i]);
            }
            cJSON_Delete(j);
            buf_free(&out);
            kv_free(&v.args);
        }
        jtmpl_free(tm);
    }
}

/* An argument without a default that the sender did not give: CS_ERR_NOTFOUND, output as it
 * was. */
static void test_missing_argument(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        const char *args[4];
        const char *missing;
    } cases[] = {
        {"{\"a\": {arg.req}}", {NULL}, "req"},
        {"{\"a\": \"x{arg.req}y\"}", {NULL}, "req"},
        {"[1, 2, {arg.b|0}, {arg.c}]", {"b", "1", NULL}, "c"},
        {"{\"a\": {arg.req}}", {"REQ", "1", NULL}, "req"}, /* names are case-sensitive */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct values v;
        values_init(&v, cases[i].args);
        struct jtmpl *t = compile_ok(cases[i].src);
        struct buf out = BUF_INIT;
        struct cs_error err;
        struct cs_rng rng;
        cs_rng_seed(&rng, 3);
        buf_puts(&out, "before");
        memset(&err, 0, sizeof(err));
        assert_int_equal(jtmpl_render(t, resolve, &v, &rng, &out, &err), CS_ERR_NOTFOUND);
        assert_int_equal(err.code, CS_ERR_NOTFOUND);
        char want[96];
        snprintf(want, sizeof(want), "template needs argument %s=... (no default)",
                 cases[i].missing);
        assert_string_equal(err.msg, want);
        assert_int_equal(out.len, 6);
        assert_string_equal(buf_cstr(&out), "before");
        buf_free(&out);
        assert_int_equal(jtmpl_render(t, resolve, &v, &rng, &out, NULL), CS_ERR_NOTFOUND);
        assert_int_equal(out.len, 0);
        buf_free(&out);
        jtmpl_free(t);
        kv_free(&v.args);
    }
}

/* {rand:LO:HI}: within the bounds; integers when both bounds are, else three decimals. */
static void test_rand(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        double lo, hi;
        bool integer;
        int distinct; /* integers: how many values there are */
    } cases[] = {
        {"{rand:1:6}", 1, 6, true, 6},
        {"{rand:-10:-5}", -10, -5, true, 6},
        {"{rand:0:0}", 0, 0, true, 1},
        {"{rand:3:3}", 3, 3, true, 1},
        {"{rand:-1:1}", -1, 1, true, 3},
        {"{rand:0:1000000}", 0, 1000000, true, 0},
        {"{rand:0.5:1.5}", 0.5, 1.5, false, 0},
        {"{rand:1.0:2}", 1, 2, false, 0},
        {"{rand:0:1e3}", 0, 1000, false, 0},
        {"{rand:-2.5:-2.5}", -2.5, -2.5, false, 0},
        {"{rand:-1E1:1E1}", -10, 10, false, 0},
        {"{rand:-1000000000000000:1000000000000000}", -1e15, 1e15, true, 0},
        {"{rand:-1e15:1e15}", -1e15, 1e15, false, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct jtmpl *t = compile_ok(cases[i].src);
        struct values v;
        values_init(&v, NULL);
        struct cs_rng rng;
        cs_rng_seed(&rng, 42 + i);
        bool seen[16] = {false};
        double min = 1e300, max = -1e300;
        for (int n = 0; n < 2000; n++) {
            struct buf out = BUF_INIT;
            assert_int_equal(jtmpl_render(t, resolve, &v, &rng, &out, NULL), CS_OK);
            const char *s = buf_cstr(&out);
            assert_true(json_is_number(s));
            double x = strtod(s, NULL);
            if (x < cases[i].lo || x > cases[i].hi)
                print_error("%s gave %s\n", cases[i].src, s);
            assert_true(x >= cases[i].lo && x <= cases[i].hi);
            if (cases[i].integer) {
                assert_null(strpbrk(s, ".eE"));
                if (cases[i].distinct)
                    seen[(int)(x - cases[i].lo)] = true;
            } else {
                const char *dot = strchr(s, '.');
                assert_non_null(dot);
                assert_int_equal(strlen(dot + 1), 3);
            }
            min = x < min ? x : min;
            max = x > max ? x : max;
            buf_free(&out);
        }
        for (int k = 0; k < cases[i].distinct; k++)
            assert_true(seen[k]);
        /* the draws spread over the range */
        if (cases[i].hi > cases[i].lo)
            assert_true(max - min > (cases[i].hi - cases[i].lo) * 0.9);
        assert_int_equal(v.calls, 0);
        jtmpl_free(t);
        kv_free(&v.args);
    }

    /* inside a string: the same number as text; one seed, one sequence */
    struct jtmpl *t =
        compile_ok("{\"a\": {rand:1:100}, \"b\": \"#{rand:1:100}\", \"c\": {rand:0:1.5}}");
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct cs_rng r1, r2;
    struct values v;
    values_init(&v, NULL);
    cs_rng_seed(&r1, 9);
    cs_rng_seed(&r2, 9);
    for (int n = 0; n < 50; n++) {
        buf_reset(&a);
        buf_reset(&b);
        assert_int_equal(jtmpl_render(t, resolve, &v, &r1, &a, NULL), CS_OK);
        assert_int_equal(jtmpl_render(t, resolve, &v, &r2, &b, NULL), CS_OK);
        assert_string_equal(buf_cstr(&a), buf_cstr(&b));
        cJSON *j = cJSON_ParseWithOpts(buf_cstr(&a), NULL, true);
        assert_non_null(j);
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "a")));
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "b");
        assert_true(cJSON_IsString(s) && s->valuestring[0] == '#');
        int x = atoi(s->valuestring + 1);
        assert_true(x >= 1 && x <= 100);
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "c")));
        cJSON_Delete(j);
    }
    buf_free(&a);
    buf_free(&b);
    jtmpl_free(t);
    kv_free(&v.args);
}

/* ---- compile errors ------------------------------------------------------------------------ */

static const struct {
    const char *src;
    size_t offset;
    const char *what;
} compile_errors[] = {
    {"", 0, "unexpected end"},
    {"   ", 3, "unexpected end"},
    {"{\"a\": {nope}}", 6, "unknown placeholder {nope}"},
    {"{\"a\": {ID}}", 6, "unknown placeholder {ID}"},
    {"{\"a\": {_x}}", 6, "unknown placeholder {_x}"},
    {"{\"a\": \"x{nope}\"}", 8, "unknown placeholder {nope}"},
    {"{\"a\": \"{}\"}", 7, "unknown placeholder {}"},
    {"{\"a\": \"{ id}\"}", 7, "unknown placeholder { id}"},
    {"{\"a\": {id", 6, "unterminated placeholder"},
    {"{\"a\": \"{id\"}", 7, "unterminated placeholder"},
    {"{\"a\": \"abc", 10, "unterminated string"},
    {"\"", 1, "unterminated string"},
    {"{\"a\": \"x\\", 8, "unterminated escape"},
    {"{\"a\": \"\\x\"}", 7, "bad escape"},
    {"{\"a\": \"\\u12G4\"}", 7, "bad \\u escape"},
    {"{\"a\": \"\\u12\"}", 7, "bad \\u escape"},
    /* lone surrogates: JSON parsers (cJSON among them) refuse them */
    {"{\"a\": \"\\udddd\"}", 7, "\\uDC00-\\uDFFF without a high surrogate before it"},
    {"{\"a\": \"x\\ud800\"}", 8, "\\uD800-\\uDBFF not followed by a \\uDC00-\\uDFFF escape"},
    {"{\"a\": \"\\ud800\\u0041\"}", 7, "\\uD800-\\uDBFF not followed by a \\uDC00-\\uDFFF escape"},
    {"{\"a\": \"tab\there\"}", 10, "control character in a string"},
    {"{\"a\": 1} x", 9, "trailing characters after the value"},
    {"{\"a\": 1}}", 8, "trailing characters after the value"},
    {"1 2", 2, "trailing characters after the value"},
    {"{\"{id}\": 1}", 2, "placeholders are not allowed in keys"},
    {"{\"k{index}\": 1}", 3, "placeholders are not allowed in keys"},
    {"{\"a\": 01}", 6, "bad number"},
    {"{\"a\": 1.}", 6, "bad number"},
    {"{\"a\": .5}", 6, "unexpected character"},
    {"{\"a\": -}", 6, "bad number"},
    {"{\"a\": 1e}", 6, "bad number"},
    {"{\"a\": 1-2}", 6, "bad number"},
    {"{\"a\": 1.5.5}", 6, "bad number"},
    {"{\"a\": +1}", 6, "unexpected character"},
    {"{\"a\": tru}", 6, "unexpected character"},
    {"{\"a\": True}", 6, "unexpected character"},
    {"{\"a\": nul}", 6, "unexpected character"},
    {"{\"a\": 'x'}", 6, "unexpected character"},
    {"{\"a\": 1,}", 8, "expected a \"key\""},
    {"{a: 1}", 0, "unknown placeholder {a: 1}"}, /* a brace and a letter open a placeholder */
    {"{\"a\" 1}", 5, "expected ':'"},
    {"{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}'"},
    {"[1 2]", 3, "expected ',' or ']'"},
    {"[1,]", 3, "unexpected character"},
    {"[", 1, "unexpected end"},
    {"{\"a\": {rand:1}}", 6, "{rand:LO:HI} needs two bounds"},
    {"{\"a\": {rand:a:b}}", 6, "{rand:LO:HI} bounds must be numbers"},
    {"{\"a\": {rand:.5:1}}", 6, "bounds must be numbers"},
    {"{\"a\": {rand:1:}}", 6, "bounds must be numbers"},
    {"{\"a\": {rand:1:2:3}}", 6, "bounds must be numbers"},
    {"{\"a\": {rand:5:1}}", 6, "{rand:LO:HI} with LO above HI"},
    /* bounds far enough from zero to overflow the arithmetic, or print as inf */
    {"{\"a\": {rand:0:99999999999999999999}}", 6, "{rand:LO:HI} bounds must be within"},
    {"{\"a\": {rand:-9223372036854775808:9223372036854775807}}", 6, "bounds must be within"},
    {"{\"a\": {rand:0:1000000000000001}}", 6, "bounds must be within"},
    {"{\"a\": {rand:-1e308:1e308}}", 6, "bounds must be within"},
    {"{\"a\": {rand:0:1e16}}", 6, "bounds must be within"},
    {"{\"a\": {rand:-1e999:0}}", 6, "bounds must be within"},
    {"{\"a\": {arg.}}", 6, "{arg.NAME} needs a name"},
    {"{\"a\": {arg.|x}}", 6, "{arg.NAME} needs a name"},
    {"{\"a\": {arg.a-b}}", 6, "argument names are [A-Za-z0-9_]"},
    {"{\"a\": \"{arg.a b}\"}", 7, "argument names are [A-Za-z0-9_]"},
};

static void check_compile_error(const char *src, size_t len, size_t offset, const char *what)
{
    struct cs_error err;
    memset(&err, 0, sizeof(err));
    struct jtmpl *t = jtmpl_compile(src, len, &err);
    print_message("  '%.60s' -> %s\n", src, err.msg);
    assert_null(t);
    assert_int_equal(err.code, CS_ERR_PARSE);
    char want[160];
    snprintf(want, sizeof(want), "template: %s at offset %zu", what, offset);
    if (!strstr(err.msg, what) || !strstr(err.msg, want + strlen("template: ") + strlen(what)))
        print_error("got '%s', want '%s'\n", err.msg, want);
    assert_non_null(strstr(err.msg, what));
    assert_non_null(strstr(err.msg, want + strlen("template: ") + strlen(what)));
    assert_null(jtmpl_compile(src, len, NULL));
}

static void test_compile_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(compile_errors); i++)
        check_compile_error(compile_errors[i].src, strlen(compile_errors[i].src),
                            compile_errors[i].offset, compile_errors[i].what);

    /* a placeholder longer than 200 characters never ends */
    struct buf b = BUF_INIT;
    buf_puts(&b, "{\"a\": {arg.");
    for (int i = 0; i < 250; i++)
        buf_putc(&b, 'x');
    buf_puts(&b, "}}");
    check_compile_error(b.s, b.len, 6, "unterminated placeholder");
    buf_free(&b);

    /* only len bytes are read */
    check_compile_error("{\"a\": 1}", 7, 7, "expected ',' or '}'");
    struct jtmpl *t = jtmpl_compile("[1]garbage", 3, NULL);
    assert_non_null(t);
    assert_string_equal(jtmpl_source(t), "[1]");
    jtmpl_free(t);
}

/* Nesting: 32 levels below the top value compile, 33 do not. */
static void test_nesting(void **state)
{
    (void)state;
    for (int depth = 30; depth <= 40; depth++) {
        struct buf b = BUF_INIT;
        for (int i = 0; i < depth; i++)
            buf_puts(&b, i % 2 ? "{\"k\":" : "[");
        buf_puts(&b, "{seq}");
        for (int i = depth - 1; i >= 0; i--)
            buf_puts(&b, i % 2 ? "}" : "]");
        struct cs_error err;
        struct jtmpl *t = jtmpl_compile(b.s, b.len, &err);
        if (depth <= 32) {
            assert_non_null(t);
            struct values v;
            struct buf out = BUF_INIT;
            values_init(&v, NULL);
            assert_int_equal(jtmpl_render(t, resolve, &v, NULL, &out, NULL), CS_OK);
            assert_json(buf_cstr(&out));
            buf_free(&out);
            jtmpl_free(t);
        } else {
            assert_null(t);
            assert_non_null(strstr(err.msg, "nested too deeply"));
        }
        buf_free(&b);
    }
    /* far deeper than the limit: refused, no stack trouble */
    struct buf b = BUF_INIT;
    for (int i = 0; i < 100000; i++)
        buf_putc(&b, '[');
    assert_null(jtmpl_compile(b.s, b.len, NULL)); /* too long anyway */
    b.len = JTMPL_MAX_LEN;
    struct cs_error err;
    assert_null(jtmpl_compile(b.s, b.len, &err));
    assert_non_null(strstr(err.msg, "nested too deeply at offset 33"));
    buf_free(&b);
}

static void test_length_limit(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_putc(&b, '"');
    while (b.len < JTMPL_MAX_LEN - 1)
        buf_putc(&b, 'x');
    buf_putc(&b, '"');
    assert_int_equal(b.len, JTMPL_MAX_LEN);
    struct jtmpl *t = jtmpl_compile(b.s, b.len, NULL);
    assert_non_null(t);
    struct values v;
    struct buf out = BUF_INIT;
    values_init(&v, NULL);
    assert_int_equal(jtmpl_render(t, resolve, &v, NULL, &out, NULL), CS_OK);
    assert_string_equal(buf_cstr(&out), b.s);
    buf_free(&out);
    jtmpl_free(t);

    b.len--;
    buf_puts(&b, "x\"");
    struct cs_error err;
    memset(&err, 0, sizeof(err));
    assert_null(jtmpl_compile(b.s, b.len, &err));
    assert_int_equal(err.code, CS_ERR_TOO_BIG);
    assert_string_equal(err.msg, "template: longer than 16384 bytes");
    buf_free(&b);
}

/* ---- catalog files ------------------------------------------------------------------------- */

struct members {
    struct kvlist seen; /* name -> value source */
    int stop_at;        /* call number that fails (0 = none) */
    int calls;
};

static int on_member(void *privdata, const char *name, const char *src, size_t len)
{
    struct members *m = privdata;
    m->calls++;
    if (m->stop_at && m->calls == m->stop_at)
        return CS_ERR_STATE;
    kv_setn(&m->seen, name, strlen(name), src, len);
    /* each member value compiles on its own */
    struct jtmpl *t = jtmpl_compile(src, len, NULL);
    assert_non_null(t);
    jtmpl_free(t);
    return CS_OK;
}

static void test_members(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        const char *want[10]; /* name, value source pairs, NULL-terminated */
    } ok[] = {
        {"{}", {NULL}},
        {" \n{ }\n ", {NULL}},
        {"{\"Ping\": {\"n\": {seq}}}", {"Ping", "{\"n\": {seq}}", NULL}},
        {"{\n  \"Ping\": {\"n\": {seq}},\n  \"Note\": \"charger {id}\",\n"
         "  \"Arr\": [1, {arg.x|2}],\n  \"Num\": 5\n}\n",
         {"Ping", "{\"n\": {seq}}", "Note", "\"charger {id}\"", "Arr", "[1, {arg.x|2}]", "Num",
          "5"}},
        {"{\"A{{B\": {id}}", {"A{{B", "{id}", NULL}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct members m;
        struct cs_error err;
        memset(&m, 0, sizeof(m));
        int rc = jtmpl_members(ok[i].src, strlen(ok[i].src), on_member, &m, &err);
        if (rc)
            print_error("case %zu: %s\n", i, err.msg);
        assert_int_equal(rc, CS_OK);
        size_t n = 0;
        for (; ok[i].want[2 * n]; n++) {
            assert_true(n < m.seen.n);
            assert_string_equal(m.seen.v[n].key, ok[i].want[2 * n]);
            assert_string_equal(m.seen.v[n].val, ok[i].want[2 * n + 1]);
        }
        assert_int_equal(m.seen.n, n);
        assert_int_equal(m.calls, (int)n);
        kv_free(&m.seen);
    }

    char name79[80], name80[81], src[128];
    memset(name79, 'n', 79);
    name79[79] = '\0';
    memset(name80, 'n', 80);
    name80[80] = '\0';
    snprintf(src, sizeof(src), "{\"%s\": 1}", name79);
    struct members m;
    memset(&m, 0, sizeof(m));
    assert_int_equal(jtmpl_members(src, strlen(src), on_member, &m, NULL), CS_OK);
    assert_string_equal(m.seen.v[0].key, name79);
    kv_free(&m.seen);

    static const struct {
        const char *src;
        const char *what;
        int calls; /* members handed over before the error */
    } bad[] = {
        {"", "a catalog file is an object", 0},
        {"[]", "a catalog file is an object", 0},
        {"\"x\"", "a catalog file is an object", 0},
        {"{", "expected a \"Name\" at offset 1", 0},
        {"{\"\": 1}", "message names are 1..79 characters", 0},
        {"{\"a\" 1}", "expected ':' at offset 5", 0},
        {"{\"a\": 1,}", "expected a \"Name\" at offset 8", 1},
        {"{\"a\": 1 \"b\": 2}", "expected ',' or '}' at offset 8", 1},
        {"{\"a\": 1} x", "trailing characters after the object at offset 9", 1},
        {"{} x", "trailing characters after the object at offset 3", 0},
        {"{}{}", "trailing characters", 0},
        {"{\"a\": {nope}}", "unknown placeholder {nope} at offset 6", 0},
        {"{\"a\": 1, \"b\": {rand:2:1}}", "LO above HI", 1},
        {"{\"{id}\": 1}", "placeholders are not allowed in keys", 0},
        {"{\"a\": }", "unexpected character at offset 6", 0},
        {"{\"a\": 1", "expected ',' or '}' at offset 7", 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct cs_error err;
        memset(&m, 0, sizeof(m));
        memset(&err, 0, sizeof(err));
        int rc = jtmpl_members(bad[i].src, strlen(bad[i].src), on_member, &m, &err);
        print_message("  '%s' -> %s\n", bad[i].src, err.msg);
        assert_int_equal(rc, CS_ERR_PARSE);
        assert_non_null(strstr(err.msg, bad[i].what));
        assert_int_equal(m.calls, bad[i].calls);
        kv_free(&m.seen);
    }
    snprintf(src, sizeof(src), "{\"%s\": 1}", name80);
    memset(&m, 0, sizeof(m));
    assert_int_equal(jtmpl_members(src, strlen(src), on_member, &m, NULL), CS_ERR_PARSE);
    assert_int_equal(m.calls, 0);

    /* the callback's error stops the walk and is returned */
    static const char three[] = "{\"a\": 1, \"b\": 2, \"c\": 3}";
    memset(&m, 0, sizeof(m));
    m.stop_at = 2;
    assert_int_equal(jtmpl_members(three, strlen(three), on_member, &m, NULL), CS_ERR_STATE);
    assert_int_equal(m.calls, 2);
    assert_int_equal(m.seen.n, 1);
    kv_free(&m.seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),           cmocka_unit_test(test_render_odd_values),
        cmocka_unit_test(test_missing_argument), cmocka_unit_test(test_rand),
        cmocka_unit_test(test_compile_errors),   cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_length_limit),     cmocka_unit_test(test_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
