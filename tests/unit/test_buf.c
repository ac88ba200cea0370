/* test_buf.c - the growable buffer and the streaming JSON writer (cs/buf.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/mem.h"

/* The text is exactly one JSON value (strict parse). */
static void assert_json(const char *text)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, true);
    if (!j)
        print_error("not valid JSON: %s\n", text);
    assert_non_null(j);
    cJSON_Delete(j);
}

/* ---- buf ----------------------------------------------------------------------------------- */

static void test_buf_basics(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(buf_cstr(&b), "");
    assert_int_equal(b.len, 0);

    buf_append(&b, "", 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_puts(&b, "abc");
    buf_putc(&b, '-');
    buf_append(&b, "xyz123", 3);
    buf_printf(&b, "[%d:%s]", 42, "q");
    assert_string_equal(buf_cstr(&b), "abc-xyz[42:q]");
    assert_int_equal(b.len, strlen("abc-xyz[42:q]"));
    assert_true(b.cap > b.len);

    /* reset empties but keeps the memory */
    char *mem = b.s;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_cstr(&b), "");
    assert_ptr_equal(b.s, mem);
    assert_int_equal(b.cap, cap);

    /* embedded NUL bytes are kept, the buffer stays terminated */
    buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.s, "a\0b", 4);

    /* detach hands over the contents and leaves the buffer empty */
    buf_reset(&b);
    buf_puts(&b, "mine");
    char *s = buf_detach(&b);
    assert_string_equal(s, "mine");
    assert_null(b.s);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    cs_free(s);
    s = buf_detach(&b); /* an empty buffer still gives a string to free */
    assert_non_null(s);
    assert_string_equal(s, "");
    cs_free(s);

    buf_free(&b);
    buf_free(&b);
    buf_reset(&b); /* on a never-allocated buffer */
    assert_string_equal(buf_cstr(&b), "");
}

static void test_buf_growth(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    /* many small appends */
    for (int i = 0; i < 10000; i++)
        buf_putc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.s[i], 'a' + i % 26);
    assert_int_equal(b.s[10000], '\0');
    buf_free(&b);

    /* printf output longer than its stack scratch space */
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_puts(&b, "<");
    buf_printf(&b, "%s|%d|%s", big, 7, big);
    buf_puts(&b, ">");
    assert_int_equal(b.len, 1 + 999 + 3 + 999 + 1);
    assert_int_equal(b.s[0], '<');
    assert_int_equal(b.s[1000], '|');
    assert_int_equal(b.s[1001], '7');
    assert_int_equal(b.s[b.len - 1], '>');
    assert_int_equal(b.s[b.len], '\0');
    buf_free(&b);

    /* exactly at the scratch size boundary */
    for (size_t n = 250; n < 260; n++) {
        buf_printf(&b, "%.*s", (int)n, big);
        assert_int_equal(b.len, n);
        assert_int_equal(strlen(buf_cstr(&b)), n);
        buf_reset(&b);
    }
    /* reserve makes room without changing the contents */
    buf_puts(&b, "keep");
    buf_reserve(&b, 5000);
    assert_true(b.cap >= 4 + 5000 + 1);
    assert_string_equal(buf_cstr(&b), "keep");
    buf_free(&b);
}

/* ---- JSON strings -------------------------------------------------------------------------- */

static const struct {
    const char *in;
    size_t n;
    const char *out;
} str_cases[] = {
    {"", 0, "\"\""},
    {"a", 1, "\"a\""},
    {"say \"hi\"", 8, "\"say \\\"hi\\\"\""},
    {"back\\slash", 10, "\"back\\\\slash\""},
    {"\\\"", 2, "\"\\\\\\\"\""},
    {"a\nb\rc\td", 7, "\"a\\nb\\rc\\td\""},
    {"\b\f", 2, "\"\\b\\f\""},
    {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
    {"x\x7fy", 3, "\"x\\u007fy\""},
    {"a\0b", 3, "\"a\\u0000b\""},
    {"caf\xc3\xa9 \xe2\x82\xac", 9, "\"caf\xc3\xa9 \xe2\x82\xac\""}, /* UTF-8 passes through */
    {"a/b <x> & 'y'", 13, "\"a/b <x> & 'y'\""},
    {"abcdef", 3, "\"abc\""}, /* only n bytes */
    {" ", 1, "\" \""},
};

static void test_json_str(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(str_cases); i++) {
        struct buf b = BUF_INIT;
        buf_puts(&b, "=");
        buf_json_str(&b, str_cases[i].in, str_cases[i].n);
        print_message("  %s\n", buf_cstr(&b));
        assert_string_equal(buf_cstr(&b) + 1, str_cases[i].out);
        assert_json(buf_cstr(&b) + 1);
        /* decoding gives the input back */
        cJSON *j = cJSON_Parse(buf_cstr(&b) + 1);
        assert_true(cJSON_IsString(j));
        if (!memchr(str_cases[i].in, '\0', str_cases[i].n)) {
            assert_int_equal(strlen(j->valuestring), str_cases[i].n);
            assert_memory_equal(j->valuestring, str_cases[i].in, str_cases[i].n);
        }
        cJSON_Delete(j);
        buf_free(&b);
    }
    /* every control character is escaped */
    for (int c = 0; c < 0x20; c++) {
        struct buf b = BUF_INIT;
        char in = (char)c;
        buf_json_str(&b, &in, 1);
        assert_int_equal(b.s[1], '\\');
        assert_json(buf_cstr(&b));
        buf_free(&b);
    }
}

/* Output of the writer is valid UTF-8: bytes that are not become U+FFFD, one per maximal bad
 * run (a character cut in two is one replacement, not several). */
#define FFFD "\xef\xbf\xbd"
static const struct {
    const char *in;
    size_t n;
    const char *out;
} bad_utf8_cases[] = {
    {"a\xff"
     "b",
     3, "\"a" FFFD "b\""},
    {"caf\xc3", 4, "\"caf" FFFD "\""}, /* cut at the end */
    {"\xe2\x82"
     "x",
     3, "\"" FFFD "x\""},                                   /* cut in the middle */
    {"\xf0\x9f\x98", 3, "\"" FFFD "\""},                    /* 3 of 4 bytes */
    {"\xc0\xaf", 2, "\"" FFFD FFFD "\""},                   /* overlong '/' */
    {"\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\""},          /* overlong, 3 bytes */
    {"\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\""},          /* a UTF-16 surrogate */
    {"\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\""}, /* above U+10FFFF */
    {"\x80", 1, "\"" FFFD "\""},                            /* a lone continuation byte */
    {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},        /* U+1F600 is fine */
    {"\xef\xbf\xbd", 3, "\"" FFFD "\""},                    /* so is U+FFFD itself */
};

/* Every character of s is valid UTF-8. */
static bool all_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t l = cs_utf8_len(s + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

static void test_json_str_utf8(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad_utf8_cases); i++) {
        struct buf b = BUF_INIT;
        buf_json_str(&b, bad_utf8_cases[i].in, bad_utf8_cases[i].n);
        print_message("  case %zu: %s\n", i, buf_cstr(&b));
        assert_string_equal(buf_cstr(&b), bad_utf8_cases[i].out);
        assert_json(buf_cstr(&b));
        assert_true(all_utf8(buf_cstr(&b)));
        buf_free(&b);
    }
    /* any byte, alone or after a lead byte: valid UTF-8 JSON */
    for (int c = 0; c < 256; c++) {
        for (int lead = 0; lead < 3; lead++) {
            static const unsigned char leads[] = {'a', 0xc3, 0xe2};
            char in[2] = {(char)leads[lead], (char)c};
            struct buf b = BUF_INIT;
            buf_json_str(&b, in, 2);
            assert_json(buf_cstr(&b));
            assert_true(all_utf8(buf_cstr(&b)));
            buf_free(&b);
        }
    }
}

static const struct {
    const char *in;
    size_t max, keep;
} clip_cases[] = {
    {"abcdef", 3, 3},
    {"ab", 5, 2},
    {"caf\xc3\xa9", 4, 3}, /* é would be cut: left out whole */
    {"caf\xc3\xa9", 5, 5},
    {"\xe2\x82\xac\xe2\x82\xac", 4, 3},
    {"\xf0\x9f\x98\x80x", 3, 0},
    {"a\xff"
     "b",
     2, 2}, /* an invalid byte is one unit */
    {"", 10, 0},
};

static void test_utf8_clip(void **state)
{
    (void)state;
    /* after a truncating snprintf: a character cut short at the end goes */
    assert_int_equal(cs_utf8_trim("caf\xc3", 4), 3);
    assert_int_equal(cs_utf8_trim("x\xe2\x82", 3), 1);
    assert_int_equal(cs_utf8_trim("x\xf0\x9f\x98", 4), 1);
    assert_int_equal(cs_utf8_trim("x\xe2\x82\xac", 4), 4); /* complete: kept */
    assert_int_equal(cs_utf8_trim("abc", 3), 3);
    assert_int_equal(cs_utf8_trim("a\xff", 2), 2); /* invalid, not cut: the writer's */
    assert_int_equal(cs_utf8_trim("", 0), 0);
    for (size_t i = 0; i < ARRAY_SIZE(clip_cases); i++) {
        size_t k = cs_utf8_clip(clip_cases[i].in, clip_cases[i].max);
        print_message("  case %zu: keep %zu\n", i, k);
        assert_int_equal(k, clip_cases[i].keep);
    }
}

/* ---- the writer ---------------------------------------------------------------------------- */

static void test_jw_flat(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct jw w;

    jw_init(&w, &b);
    jw_obj(&w);
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "{}");
    buf_reset(&b);

    jw_init(&w, &b);
    jw_arr(&w);
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "[]");
    buf_reset(&b);

    jw_init(&w, &b);
    jw_obj(&w);
    jw_key(&w, "a");
    jw_int(&w, 1);
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "{\"a\":1}");
    buf_reset(&b);

    jw_init(&w, &b);
    jw_obj(&w);
    jw_kint(&w, "i", -7);
    jw_kstr(&w, "s", "x\"y");
    jw_kbool(&w, "t", true);
    jw_kbool(&w, "f", false);
    jw_key(&w, "n");
    jw_null(&w);
    jw_kdouble(&w, "d", 1.5, 2);
    jw_key(&w, "sn");
    jw_strn(&w, "abcdef", 2);
    jw_key(&w, "we\"ird");
    jw_str(&w, "");
    jw_end(&w);
    assert_string_equal(buf_cstr(&b),
                        "{\"i\":-7,\"s\":\"x\\\"y\",\"t\":true,\"f\":false,\"n\":null,"
                        "\"d\":1.50,\"sn\":\"ab\",\"we\\\"ird\":\"\"}");
    assert_json(buf_cstr(&b));
    buf_free(&b);
}

static void test_jw_nested(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct jw w;

    /* [1,[2,3],{"k":[]},{},"s"] */
    jw_init(&w, &b);
    jw_arr(&w);
    jw_int(&w, 1);
    jw_arr(&w);
    jw_int(&w, 2);
    jw_int(&w, 3);
    jw_end(&w);
    jw_obj(&w);
    jw_key(&w, "k");
    jw_arr(&w);
    jw_end(&w);
    jw_end(&w);
    jw_obj(&w);
    jw_end(&w);
    jw_str(&w, "s");
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "[1,[2,3],{\"k\":[]},{},\"s\"]");
    assert_json(buf_cstr(&b));
    buf_reset(&b);

    /* {"o":{"p":{"q":[1,{"r":false}]}},"z":0,"a":[[],[[]]]} */
    jw_init(&w, &b);
    jw_obj(&w);
    jw_key(&w, "o");
    jw_obj(&w);
    jw_key(&w, "p");
    jw_obj(&w);
    jw_key(&w, "q");
    jw_arr(&w);
    jw_int(&w, 1);
    jw_obj(&w);
    jw_kbool(&w, "r", false);
    jw_end(&w);
    jw_end(&w);
    jw_end(&w);
    jw_end(&w);
    jw_kint(&w, "z", 0);
    jw_key(&w, "a");
    jw_arr(&w);
    jw_arr(&w);
    jw_end(&w);
    jw_arr(&w);
    jw_arr(&w);
    jw_end(&w);
    jw_end(&w);
    jw_end(&w);
    jw_end(&w);
    assert_int_equal(w.depth, 0);
    assert_string_equal(buf_cstr(&b),
                        "{\"o\":{\"p\":{\"q\":[1,{\"r\":false}]}},\"z\":0,\"a\":[[],[[]]]}");
    assert_json(buf_cstr(&b));
    buf_reset(&b);

    /* raw JSON is one value, with commas around it like any other */
    jw_init(&w, &b);
    jw_arr(&w);
    jw_raw(&w, "{\"x\":1}", 7);
    jw_raw(&w, "[2]", 3);
    jw_int(&w, 3);
    jw_obj(&w);
    jw_key(&w, "r");
    jw_raw(&w, "true", 4);
    jw_kint(&w, "after", 1);
    jw_end(&w);
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "[{\"x\":1},[2],3,{\"r\":true,\"after\":1}]");
    assert_json(buf_cstr(&b));
    buf_reset(&b);

    /* the deepest nesting the writer allows */
    jw_init(&w, &b);
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++)
        jw_arr(&w);
    jw_int(&w, 1);
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++)
        jw_end(&w);
    assert_int_equal(b.len, 2 * (JW_MAX_DEPTH - 1) + 1);
    assert_json(buf_cstr(&b));
    buf_free(&b);
}

static void test_jw_numbers(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct jw w;
    jw_init(&w, &b);
    jw_arr(&w);
    jw_int(&w, INT64_MAX);
    jw_int(&w, INT64_MIN);
    jw_int(&w, 0);
    jw_double(&w, 2.0 / 3.0, 3);
    jw_double(&w, -1.25, 1);
    jw_double(&w, 1e6, 0);
    jw_double(&w, NAN, 2);
    jw_double(&w, INFINITY, 2);
    jw_double(&w, -INFINITY, 2);
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "[9223372036854775807,-9223372036854775808,0,0.667,-1.2,"
                                      "1000000,null,null,null]");
    assert_json(buf_cstr(&b));
    buf_free(&b);
}

/* ---- guessed values ------------------------------------------------------------------------ */

/* JSON's number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static const struct {
    const char *s;
    bool number;
} number_cases[] = {
    {"0", true},
    {"-0", true},
    {"7", true},
    {"-7", true},
    {"10", true},
    {"1234567890", true},
    {"0.5", true},
    {"-0.5", true},
    {"1.25", true},
    {"1e5", true},
    {"1E5", true},
    {"1e+5", true},
    {"1e-5", true},
    {"-1.5E-07", true},
    {"0e0", true},
    {"0.0", true},
    {"123456789012345678901234567890", true},
    {"1e999", true}, /* grammar only */
    {"", false},
    {"-", false},
    {"+1", false},
    {"01", false},
    {"00", false},
    {"-01", false},
    {".5", false},
    {"5.", false},
    {"-.5", false},
    {"1.e5", false},
    {"1e", false},
    {"1e+", false},
    {"1e-", false},
    {"e5", false},
    {"0x10", false},
    {"1.2.3", false},
    {"1e5.5", false},
    {" 1", false},
    {"1 ", false},
    {"1\n", false},
    {"inf", false},
    {"-inf", false},
    {"nan", false},
    {"Infinity", false},
    {"--1", false},
    {"1-", false},
    {"1,5", false},
    {"1_000", false},
    {"\xd9\xa1", false}, /* an Arabic-Indic digit */
};

static void test_json_is_number(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(number_cases); i++) {
        print_message("  '%s'\n", number_cases[i].s);
        assert_int_equal(json_is_number(number_cases[i].s), number_cases[i].number);
        /* whatever cJSON makes of it, a number by the grammar parses as a number */
        if (number_cases[i].number) {
            cJSON *j = cJSON_ParseWithOpts(number_cases[i].s, NULL, true);
            assert_true(cJSON_IsNumber(j));
            cJSON_Delete(j);
        }
    }
}

/* jw_guess writes text as the JSON value it looks like, else as a string. */
static const struct {
    const char *in;
    const char *out;
} guess_cases[] = {
    /* integers and numbers in JSON's grammar, verbatim */
    {"0", "0"},
    {"42", "42"},
    {"-42", "-42"},
    {"-0", "0"},
    {"2147483648", "2147483648"},
    {"4611686018427387903", "4611686018427387903"},
    {"9223372036854775807", "9223372036854775807"},
    {"123456789012345678901234", "123456789012345678901234"},
    {"1.5", "1.5"},
    {"-2.5e3", "-2.5e3"},
    {"1E+2", "1E+2"},
    {"0.000001", "0.000001"},
    /* literals, exactly */
    {"true", "true"},
    {"false", "false"},
    {"null", "null"},
    /* objects and arrays that parse, normalised */
    {"{}", "{}"},
    {"[]", "[]"},
    {"{\"a\": [1, 2], \"b\": {}}", "{\"a\":[1,2],\"b\":{}}"},
    {"[1, \"x\", null, true]", "[1,\"x\",null,true]"},
    {" [1]", "\" [1]\""}, /* must start with the bracket */
    {"[1] ", "[1]"},      /* cJSON allows whitespace after the value */
    {"[1] [2]", "\"[1] [2]\""},
    {"{\"a\":1} x", "\"{\\\"a\\\":1} x\""},
    {"[1,", "\"[1,\""},
    {"{x}", "\"{x}\""},
    {"{", "\"{\""},
    /* the rest is a string */
    {"", "\"\""},
    {"hello", "\"hello\""},
    {"say \"hi\"", "\"say \\\"hi\\\"\""},
    {"TRUE", "\"TRUE\""},
    {"True", "\"True\""},
    {"Null", "\"Null\""},
    {"nil", "\"nil\""},
    {"12abc", "\"12abc\""},
    {".5", "\".5\""},
    {"5.", "\"5.\""},
    {"0x10", "\"0x10\""},
    {"+1.5", "\"+1.5\""},
    {"01.5", "\"01.5\""},
    {"inf", "\"inf\""},
    {"nan", "\"nan\""},
    {"1e999", "\"1e999\""}, /* JSON grammar, but no finite double */
    {" 1", "\" 1\""},
    {"1 ", "\"1 \""},
    {"a\tb", "\"a\\tb\""},
    /* text C would read as an integer but JSON would not: kept as written */
    {"+5", "\"+5\""},
    {"007", "\"007\""},
    {"-007", "\"-007\""},
    {"00", "\"00\""},
};

static void test_jw_guess(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(guess_cases); i++) {
        struct buf b = BUF_INIT;
        struct jw w;
        jw_init(&w, &b);
        jw_arr(&w);
        jw_guess(&w, guess_cases[i].in);
        jw_guess(&w, guess_cases[i].in); /* a second one gets its comma */
        jw_end(&w);
        struct buf want = BUF_INIT;
        buf_printf(&want, "[%s,%s]", guess_cases[i].out, guess_cases[i].out);
        print_message("  '%s' -> %s\n", guess_cases[i].in, buf_cstr(&b));
        assert_string_equal(buf_cstr(&b), buf_cstr(&want));
        assert_json(buf_cstr(&b));
        /* a string keeps the text exactly */
        cJSON *j = cJSON_Parse(buf_cstr(&b));
        cJSON *v = cJSON_GetArrayItem(j, 0);
        if (cJSON_IsString(v))
            assert_string_equal(v->valuestring, guess_cases[i].in);
        cJSON_Delete(j);
        buf_free(&b);
        buf_free(&want);
    }
    /* after a key, as an object member */
    struct buf b = BUF_INIT;
    struct jw w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_key(&w, "n");
    jw_guess(&w, "1");
    jw_key(&w, "s");
    jw_guess(&w, "x");
    jw_key(&w, "o");
    jw_guess(&w, "{\"k\":[true]}");
    jw_end(&w);
    assert_string_equal(buf_cstr(&b), "{\"n\":1,\"s\":\"x\",\"o\":{\"k\":[true]}}");
    buf_free(&b);
}

/* Text for the terminal: what could steer it comes out as \xNN. */
static void test_term_str(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
        {"a\x1b[2Jb", "a\\x1b[2Jb"},
        {"\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"},
        {"line\nbreak\ttab\r", "line\\x0abreak\\x09tab\\x0d"},
        {"del\x7f", "del\\x7f"},
        {"c1 \xc2\x9b csi", "c1 \\xc2\\x9b csi"},
        {"nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok"},
        {"raw \x9b byte", "raw \\x9b byte"},
        {"cut \xc3", "cut \\xc3"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b = BUF_INIT;
        buf_term_str(&b, cases[i].in, strlen(cases[i].in));
        print_message("  %s\n", buf_cstr(&b));
        assert_string_equal(buf_cstr(&b), cases[i].out);
        buf_free(&b);
    }
}

/* A parsed value written back through the writer: what came from outside leaves as valid UTF-8
 * JSON (cJSON_Print copies a string's bytes as they are). */
static void test_jw_cjson(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}",
         "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}"},
        {"[1.5,-2,1e300,12345678901234567890]",
         "[1.5,-2,1.0000000000000001e+300,1.2345678901234567e+19]"},
        {"{\"w\":\"a\xff\"}", "{\"w\":\"a" FFFD "\"}"},
        {"{\"\xc3\":\"k\"}", "{\"" FFFD "\":\"k\"}"},
        {"\"ctl\\u0001\"", "\"ctl\\u0001\""},
        {"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", NULL}, /* deeper than the writer: text */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cJSON *j = cJSON_Parse(cases[i].in);
        struct buf b = BUF_INIT;
        struct jw w;
        assert_non_null(j);
        jw_init(&w, &b);
        jw_arr(&w);
        jw_cjson(&w, j);
        jw_end(&w);
        print_message("  %s\n", buf_cstr(&b));
        assert_json(buf_cstr(&b));
        assert_true(all_utf8(buf_cstr(&b)));
        if (cases[i].out) {
            assert_int_equal(b.len, strlen(cases[i].out) + 2);
            assert_memory_equal(b.s + 1, cases[i].out, strlen(cases[i].out));
        }
        buf_free(&b);
        cJSON_Delete(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_basics),     cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_json_str),       cmocka_unit_test(test_json_str_utf8),
        cmocka_unit_test(test_utf8_clip),      cmocka_unit_test(test_jw_cjson),
        cmocka_unit_test(test_term_str),       cmocka_unit_test(test_jw_flat),
        cmocka_unit_test(test_jw_nested),      cmocka_unit_test(test_jw_numbers),
        cmocka_unit_test(test_json_is_number), cmocka_unit_test(test_jw_guess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
