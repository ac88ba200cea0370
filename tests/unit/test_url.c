/* test_url.c - redis:// URL parsing and masked rendering (cs/url.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/buf.h"
#include "cs/mem.h"
#include "cs/url.h"

static const struct {
    const char *url;
    const char *host;
    int port, db;
    const char *user, *pass;
} good[] = {
    {CS_REDIS_URL_DEFAULT, "127.0.0.1", 6379, 0, "", ""},
    {"redis://localhost", "localhost", 6379, 0, "", ""},
    {"redis://localhost/", "localhost", 6379, 0, "", ""},
    {"redis://h:6380/5", "h", 6380, 5, "", ""},
    {"redis://h/15", "h", 6379, 15, "", ""},
    {"redis://h:1", "h", 1, 0, "", ""},
    {"redis://h:65535/1000000", "h", 65535, 1000000, "", ""},
    {"redis://redis.example.com:7000", "redis.example.com", 7000, 0, "", ""},
    {"redis://user:pass@h:1/2", "h", 1, 2, "user", "pass"},
    {"redis://:pass@h", "h", 6379, 0, "", "pass"},
    {"redis://secret@h", "h", 6379, 0, "", "secret"}, /* a lone credential is the password */
    {"redis://u:@h", "h", 6379, 0, "u", ""},
    {"redis://us%40er:p%3Ass%2F%25@h", "h", 6379, 0, "us@er", "p:ss/%"},
    {"redis://u:%2f%2F%41@h", "h", 6379, 0, "u", "//A"},
    {"redis://u:p@ss@h:6380", "h", 6380, 0, "u", "p@ss"}, /* the last '@' ends the credentials */
    {"redis://u:a:b@h", "h", 6379, 0, "u", "a:b"},        /* the first ':' splits them */
    {"redis://[::1]:6380/3", "::1", 6380, 3, "", ""},
    {"redis://[::1]", "::1", 6379, 0, "", ""},
    {"redis://u:p@[2001:db8::7]:1/", "2001:db8::7", 1, 0, "u", "p"},
};

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct redis_url u;
        struct cs_error err;
        memset(&u, 0x55, sizeof(u));
        int rc = redis_url_parse(&u, good[i].url, &err);
        print_message("  %s -> %s\n", good[i].url, rc ? err.msg : "ok");
        assert_int_equal(rc, CS_OK);
        assert_string_equal(u.host, good[i].host);
        assert_int_equal(u.port, good[i].port);
        assert_int_equal(u.db, good[i].db);
        assert_string_equal(u.user, good[i].user);
        assert_string_equal(u.pass, good[i].pass);
    }
}

static char *long_url(const char *before, char c, size_t n, const char *after)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, before);
    for (size_t i = 0; i < n; i++)
        buf_putc(&b, c);
    buf_puts(&b, after);
    return buf_detach(&b);
}

static const struct {
    const char *url;
    int code;
    const char *msg;
} bad[] = {
    {"", CS_ERR_PARSE, "redis URL must start with redis://"},
    {"http://h", CS_ERR_PARSE, "must start with redis://"},
    {"REDIS://h", CS_ERR_PARSE, "must start with redis://"},
    {"h:6379", CS_ERR_PARSE, "must start with redis://"},
    {"rediss://h", CS_ERR_INVAL, "rediss:// (TLS) is not supported"},
    {"redis://", CS_ERR_PARSE, "missing or too long host"},
    {"redis://:6379", CS_ERR_PARSE, "missing or too long host"},
    {"redis:///0", CS_ERR_PARSE, "missing or too long host"},
    {"redis://u:p@", CS_ERR_PARSE, "missing or too long host"},
    {"redis://[::1", CS_ERR_PARSE, "unterminated [IPv6]"},
    {"redis://[]:1", CS_ERR_PARSE, "missing or too long host"},
    {"redis://[::1]x", CS_ERR_PARSE, "unexpected 'x'"},
    {"redis://h:", CS_ERR_PARSE, "bad port"},
    {"redis://h:/0", CS_ERR_PARSE, "bad port"},
    {"redis://h:12345678", CS_ERR_PARSE, "bad port"},
    {"redis://h:0", CS_ERR_RANGE, "port must be 1..65535"},
    {"redis://h:65536", CS_ERR_RANGE, "port must be 1..65535"},
    {"redis://h:-1", CS_ERR_RANGE, "port must be"},
    {"redis://h:abc", CS_ERR_RANGE, "port must be"},
    {"redis://h:63 79", CS_ERR_RANGE, "port must be"},
    {"redis://h/x", CS_ERR_PARSE, "database must be a number"},
    {"redis://h/-1", CS_ERR_PARSE, "database must be a number"},
    {"redis://h/1000001", CS_ERR_PARSE, "database must be a number"},
    {"redis://h/1/2", CS_ERR_PARSE, "database must be a number"},
    {"redis://h/ 1", CS_ERR_PARSE, "database must be a number"},
    {"redis://us%4@h", CS_ERR_PARSE, "bad user name"},
    {"redis://us%zz@h", CS_ERR_PARSE, "bad user name"},
    {"redis://%00:p@h", CS_ERR_PARSE, "bad user name"},
    {"redis://u:%zz@h", CS_ERR_PARSE, "bad password"},
    {"redis://u:%00@h", CS_ERR_PARSE, "bad password"},
    {"redis://u:pass%@h", CS_ERR_PARSE, "bad password"},
    {"redis://u:pass%4@h", CS_ERR_PARSE, "bad password"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct redis_url u;
        struct cs_error err;
        memset(&err, 0, sizeof(err));
        int rc = redis_url_parse(&u, bad[i].url, &err);
        print_message("  '%s' -> %s\n", bad[i].url, rc ? err.msg : "(ok)");
        assert_int_equal(rc, bad[i].code);
        assert_int_equal(err.code, bad[i].code);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_int_equal(redis_url_parse(&u, bad[i].url, NULL), bad[i].code);
    }
}

/* Field capacities: the longest value that fits, and one more. */
static void test_lengths(void **state)
{
    (void)state;
    struct redis_url u;
    struct cs_error err;
    static const struct {
        const char *before, *after;
        size_t fits; /* characters that fit; fits + 1 is refused */
        const char *msg;
    } cases[] = {
        {"redis://", ":1/0", 255, "missing or too long host"},
        {"redis://", ":p@h", 127, "bad user name"},
        {"redis://u:", "@h", 255, "bad password"},
        {"redis://", "@h", 127, "bad user name"}, /* a lone credential is read as a user first */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *ok = long_url(cases[i].before, 'x', cases[i].fits, cases[i].after);
        char *over = long_url(cases[i].before, 'x', cases[i].fits + 1, cases[i].after);
        print_message("  %s...%s: %zu\n", cases[i].before, cases[i].after, cases[i].fits);
        assert_int_equal(redis_url_parse(&u, ok, &err), CS_OK);
        assert_int_equal(redis_url_parse(&u, over, &err), CS_ERR_PARSE);
        assert_non_null(strstr(err.msg, cases[i].msg));
        cs_free(ok);
        cs_free(over);
    }
    /* percent escapes count once decoded */
    char *enc = long_url("redis://u:", 'x', 0, "");
    struct buf b = BUF_INIT;
    buf_puts(&b, enc);
    for (int i = 0; i < 255; i++)
        buf_puts(&b, "%41");
    buf_puts(&b, "@h");
    assert_int_equal(redis_url_parse(&u, buf_cstr(&b), &err), CS_OK);
    assert_int_equal(strlen(u.pass), 255);
    assert_int_equal(u.pass[254], 'A');
    buf_free(&b);
    cs_free(enc);
}

static const struct {
    const char *url;
    const char *masked;
    const char *plain;
} fmt_cases[] = {
    {"redis://h", "redis://h:6379/0", "redis://h:6379/0"},
    {"redis://user:pass@h:1/2", "redis://user:***@h:1/2", "redis://user:pass@h:1/2"},
    {"redis://:pass@h", "redis://:***@h:6379/0", "redis://:pass@h:6379/0"},
    {"redis://secret@h", "redis://:***@h:6379/0", "redis://:secret@h:6379/0"},
    {"redis://u:@h/3", "redis://u@h:6379/3", "redis://u@h:6379/3"},
    {"redis://[::1]:7000/1", "redis://[::1]:7000/1", "redis://[::1]:7000/1"},
    {"redis://u:p@[2001:db8::7]", "redis://u:***@[2001:db8::7]:6379/0",
     "redis://u:p@[2001:db8::7]:6379/0"},
};

static void test_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(fmt_cases); i++) {
        struct redis_url u, back;
        struct buf b = BUF_INIT;
        assert_int_equal(redis_url_parse(&u, fmt_cases[i].url, NULL), CS_OK);
        buf_puts(&b, "url="); /* appends */
        redis_url_format(&u, true, &b);
        assert_string_equal(buf_cstr(&b) + 4, fmt_cases[i].masked);
        assert_null(u.pass[0] ? strstr(buf_cstr(&b), u.pass) : NULL);
        buf_reset(&b);
        redis_url_format(&u, false, &b);
        assert_string_equal(buf_cstr(&b), fmt_cases[i].plain);
        /* the plain form of a password-bearing URL parses back to the same fields */
        if (u.pass[0]) {
            assert_int_equal(redis_url_parse(&back, buf_cstr(&b), NULL), CS_OK);
            assert_string_equal(back.host, u.host);
            assert_int_equal(back.port, u.port);
            assert_int_equal(back.db, u.db);
            assert_string_equal(back.user, u.user);
            assert_string_equal(back.pass, u.pass);
        }
        buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
