/* test_listen.c - listener addresses, origins and the start-up exposure check
 * (coordinator/listen.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "listen.h"

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *in, *host;
        int port; /* -1: refused */
    } cases[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {":9464", "0.0.0.0", 9464},
        {"[::1]:0", "::1", 0},
        {"[fe80::1]:80", "fe80::1", 80},
        {"localhost:1", "localhost", 1},
        {"::1:80", NULL, -1},
        {"127.0.0.1", NULL, -1},
        {"127.0.0.1:65536", NULL, -1},
        {"127.0.0.1:-1", NULL, -1},
        {"127.0.0.1:80x", NULL, -1},
        {"", NULL, -1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char host[LISTEN_MAX];
        int port = -7;
        struct cs_error err;
        int rc = listen_parse(cases[i].in, host, sizeof(host), &port, &err);
        if (cases[i].port < 0) {
            assert_int_not_equal(rc, CS_OK);
        } else {
            assert_int_equal(rc, CS_OK);
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        }
    }
    static const struct {
        const char *host;
        bool loopback;
    } lb[] = {
        {"127.0.0.1", true},    {"127.3.2.1", true},         {"::1", true},
        {"localhost", true},    {"LocalHost", true},         {"0.0.0.0", false},
        {"::", false},          {"10.0.0.1", false},         {"128.0.0.1", false},
        {"lab.example", false}, {"::ffff:127.0.0.1", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(lb); i++)
        assert_int_equal(listen_loopback(lb[i].host), lb[i].loopback);
}

static void test_origin(void **state)
{
    (void)state;
    static const struct {
        const char *origin;
        bool ok;
    } cases[] = {
        {"https://swarm.lab.example", true},
        {"http://10.0.0.5:8080", true},
        {"https://[::1]:8443", true},
        {"ftp://x", false},
        {"https://", false},
        {"https://x/", false},
        {"https://x/path", false},
        {"https://u@x", false},
        {"swarm.lab", false},
        {"https://x?y", false},
        {"HTTPS://x", false},
        {"https://:80", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err;
        int rc = listen_check_origin(cases[i].origin, 128, &err);
        print_message("  %s -> %s\n", cases[i].origin, rc ? err.msg : "ok");
        assert_int_equal(rc == CS_OK, cases[i].ok);
    }
    char big[200];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "https://", 8);
    assert_int_equal(listen_check_origin(big, 128, NULL), CS_ERR_TOO_BIG);
}

/* Which combinations start, and what a refusal says. */
static void test_check(void **state)
{
    (void)state;
    static const struct {
        struct listen_plan p;
        const char *msg; /* NULL: starts; else a part of the refusal */
    } cases[] = {
        /* loopback: anything goes */
        {{"127.0.0.1:8080", "127.0.0.1:9464", true, false, false, false, false}, NULL},
        {{"[::1]:8080", NULL, true, true, false, false, false}, NULL},
        {{"localhost:8080", NULL, true, false, false, false, false}, NULL},
        /* other hosts, commands, no credentials */
        {{"0.0.0.0:8080", NULL, true, false, false, false, false}, "http-user = NAME:operator"},
        {{":8080", NULL, true, false, false, false, false},
         "--http :8080 takes commands from other hosts"},
        {{"10.0.0.5:8080", NULL, true, false, false, false, false}, "SWARM_HTTP_USER"},
        {{"swarm.lab:8080", NULL, true, false, false, false, false}, "--http-read-only"},
        /* ... read-only, or --http-insecure: starts */
        {{"0.0.0.0:8080", NULL, false, false, false, false, false}, NULL},
        {{"0.0.0.0:8080", NULL, true, false, false, false, true}, NULL},
        /* metrics only (no commands), no credentials: starts */
        {{NULL, "0.0.0.0:9464", true, false, false, false, false}, NULL},
        {{"127.0.0.1:8080", ":9464", true, false, false, false, false}, NULL},
        /* credentials without TLS on other hosts' reach: refused; with TLS: starts */
        {{"0.0.0.0:8080", NULL, true, true, false, false, false}, "clear text"},
        {{NULL, "0.0.0.0:9464", false, true, false, false, false}, "--metrics-listen 0.0.0.0:9464"},
        {{"0.0.0.0:8080", ":9464", true, true, true, true, false}, NULL},
        {{"0.0.0.0:8080", NULL, true, true, false, false, true}, NULL},
        {{"127.0.0.1:8080", NULL, true, true, false, false, false}, NULL},
        /* a certificate without its key, or the reverse */
        {{"127.0.0.1:8080", NULL, true, true, true, false, false}, "go together"},
        {{"127.0.0.1:8080", NULL, true, true, false, true, true}, "go together"},
        /* a bad address */
        {{"nonsense", NULL, true, false, false, false, false}, "expected ADDR:PORT"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err = {0};
        int rc = listen_check(&cases[i].p, &err);
        print_message("  %zu: %s\n", i, rc ? err.msg : "starts");
        if (cases[i].msg) {
            assert_int_not_equal(rc, CS_OK);
            assert_non_null(strstr(err.msg, cases[i].msg));
        } else {
            assert_int_equal(rc, CS_OK);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_origin),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
