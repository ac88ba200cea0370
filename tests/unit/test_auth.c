/* test_auth.c - the coordinator's credentials and the checks of what clients present
 * (coordinator/auth.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "cs/mem.h"

static struct auth creds;

static int setup(void **state)
{
    (void)state;
    memset(&creds, 0, sizeof(creds));
    assert_int_equal(auth_add(&creds, AUTH_PASSWORD, "alice:operator:alice-pass", NULL), CS_OK);
    assert_int_equal(auth_add(&creds, AUTH_PASSWORD, "bob@lab:viewer:p:a:s:s:w:d", NULL), CS_OK);
    assert_int_equal(auth_add(&creds, AUTH_TOKEN, "prom:viewer:0123456789abcdef", NULL), CS_OK);
    assert_int_equal(auth_add(&creds, AUTH_TOKEN, "ci:operator:ci-token-0123456789", NULL), CS_OK);
    return 0;
}

static void test_add(void **state)
{
    (void)state;
    static const struct {
        enum auth_kind kind;
        const char *spec;
        const char *msg; /* NULL: accepted */
    } cases[] = {
        {AUTH_PASSWORD, "carol:viewer:12345678", NULL},
        {AUTH_PASSWORD, "carol", "user: expected NAME:ROLE:PASSWORD"},
        {AUTH_PASSWORD, "carol:viewer", "user: expected NAME:ROLE:PASSWORD"},
        {AUTH_TOKEN, "x:viewer", "token: expected NAME:ROLE:TOKEN"},
        {AUTH_PASSWORD, ":viewer:12345678", "user: the name must have 1..64 characters"},
        {AUTH_PASSWORD, "ca rol:viewer:12345678", "user 'ca rol': names use [A-Za-z0-9_.@-]"},
        {AUTH_PASSWORD, "carol:admin:12345678",
         "user 'carol': role 'admin' is not viewer or operator"},
        {AUTH_PASSWORD, "carol:viewer:1234567",
         "user 'carol': the password must have 8..256 characters"},
        {AUTH_TOKEN, "t:operator:short-token", "token 't': the token must have 16..256 characters"},
        {AUTH_PASSWORD, "carol:viewer:1234\t5678",
         "user 'carol': control character in the password"},
        {AUTH_PASSWORD, "alice:viewer:another-pass", "user 'alice' is given twice"},
        /* a user and a token may share a name, not a secret */
        {AUTH_TOKEN, "alice:viewer:alice-token-0123456", NULL},
        {AUTH_TOKEN, "bob2:viewer:alice-pass-is-16-ch", NULL},
        {AUTH_PASSWORD, "dave:viewer:0123456789abcdef", "user 'dave': the same secret as 'prom'"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err = {0};
        int rc = auth_add(&creds, cases[i].kind, cases[i].spec, &err);
        print_message("  %s -> %s\n", cases[i].spec, rc ? err.msg : "ok");
        if (cases[i].msg) {
            assert_int_not_equal(rc, CS_OK);
            assert_string_equal(err.msg, cases[i].msg);
            assert_null(strstr(err.msg, "12345678")); /* never the secret */
        } else {
            assert_int_equal(rc, CS_OK);
        }
    }
    assert_true(auth_enabled(&creds));
    struct auth none = {0};
    assert_false(auth_enabled(&none));
    assert_false(auth_enabled(NULL));
    /* full */
    struct auth full = {0};
    char spec[64];
    for (int i = 0; i < AUTH_CREDS_MAX; i++) {
        snprintf(spec, sizeof(spec), "u%d:viewer:password-%d", i, i);
        assert_int_equal(auth_add(&full, AUTH_PASSWORD, spec, NULL), CS_OK);
    }
    assert_int_equal(auth_add(&full, AUTH_PASSWORD, "one:viewer:more-than-ok", NULL),
                     CS_ERR_TOO_BIG);
}

static void test_password_and_token(void **state)
{
    (void)state;
    const struct auth_cred *c = auth_password(&creds, "alice", "alice-pass");
    assert_non_null(c);
    assert_string_equal(c->name, "alice");
    assert_int_equal(c->role, AUTH_OPERATOR);
    c = auth_password(&creds, "bob@lab", "p:a:s:s:w:d"); /* the secret may hold ':' */
    assert_non_null(c);
    assert_int_equal(c->role, AUTH_VIEWER);
    assert_null(auth_password(&creds, "alice", "alice-pas"));
    assert_null(auth_password(&creds, "alice", "alice-pass "));
    assert_null(auth_password(&creds, "alice", ""));
    assert_null(auth_password(&creds, "nobody", "alice-pass"));
    assert_null(auth_password(&creds, "prom", "0123456789abcdef")); /* a token is no password */
    c = auth_token(&creds, "ci-token-0123456789");
    assert_non_null(c);
    assert_string_equal(c->name, "ci");
    assert_null(auth_token(&creds, "alice-pass")); /* a password is no token */
    assert_null(auth_token(&creds, ""));
    assert_string_equal(auth_role_name(AUTH_VIEWER), "viewer");
    assert_string_equal(auth_role_name(AUTH_OPERATOR), "operator");
    assert_string_equal(auth_role_name(AUTH_NONE), "none");
}

static void test_header(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        enum auth_header want;
        const char *name;
    } cases[] = {
        {NULL, AUTH_HDR_ABSENT, NULL},
        {"", AUTH_HDR_ABSENT, NULL},
        {"   ", AUTH_HDR_ABSENT, NULL},
        {"Basic YWxpY2U6YWxpY2UtcGFzcw==", AUTH_HDR_OK, "alice"},       /* alice:alice-pass */
        {"basic   YWxpY2U6YWxpY2UtcGFzcw==", AUTH_HDR_OK, "alice"},     /* scheme any case */
        {"Basic Ym9iQGxhYjpwOmE6czpzOnc6ZA==", AUTH_HDR_OK, "bob@lab"}, /* bob@lab:p:a:s:s:w:d */
        {"Basic YWxpY2U6d3Jvbmc=", AUTH_HDR_WRONG, NULL},               /* alice:wrong */
        {"Basic YWxpY2U=", AUTH_HDR_BAD, NULL},                         /* no colon */
        {"Basic YWxpY2U6YWxpY2UtcGFzcw", AUTH_HDR_BAD, NULL},           /* no padding */
        {"Basic YWxp!2U6", AUTH_HDR_BAD, NULL},
        {"Basic ====", AUTH_HDR_BAD, NULL},
        {"Basic YQ==YQ==", AUTH_HDR_BAD, NULL},     /* '=' inside */
        {"Basic AGFsaWNlOng=", AUTH_HDR_BAD, NULL}, /* NUL in it */
        {"Basic ", AUTH_HDR_BAD, NULL},
        {"Bearer ci-token-0123456789", AUTH_HDR_OK, "ci"},
        {"bearer 0123456789abcdef", AUTH_HDR_OK, "prom"},
        {"Bearer alice-pass", AUTH_HDR_WRONG, NULL},
        {"Bearer ", AUTH_HDR_BAD, NULL},
        {"Digest username=alice", AUTH_HDR_BAD, NULL},
        {"Token abc", AUTH_HDR_BAD, NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct auth_cred *c = (const void *)1;
        enum auth_header h = auth_check_header(&creds, cases[i].value, &c);
        print_message("  '%s' -> %d\n", cases[i].value ? cases[i].value : "(null)", h);
        assert_int_equal(h, cases[i].want);
        if (cases[i].name) {
            assert_non_null(c);
            assert_string_equal(c->name, cases[i].name);
        } else {
            assert_null(c);
        }
    }
    /* A very long header is refused, not overflowed. */
    char big[4096];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "Basic ", 6);
    const struct auth_cred *c;
    assert_int_equal(auth_check_header(&creds, big, &c), AUTH_HDR_BAD);
    memcpy(big, "Bearer", 6);
    big[6] = ' ';
    assert_int_equal(auth_check_header(&creds, big, &c), AUTH_HDR_BAD);
}

static void test_cookie(void **state)
{
    (void)state;
    static const struct {
        const char *header, *name, *want; /* want NULL: not found */
    } cases[] = {
        {"cs_session_8080=abc", "cs_session_8080", "abc"},
        {"a=1; cs_session_8080=abc; b=2", "cs_session_8080", "abc"},
        {"a=1;cs_session_8080=abc  ", "cs_session_8080", "abc"},
        {"cs_session_80801=abc", "cs_session_8080", NULL},
        {"xcs_session_8080=abc", "cs_session_8080", NULL},
        {"cs_session_8080=", "cs_session_8080", NULL},
        {"cs_session_8080", "cs_session_8080", NULL},
        {"", "cs_session_8080", NULL},
        {";;;", "cs_session_8080", NULL},
        {"cs_session_9090=x; cs_session_8080=y", "cs_session_8080", "y"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char out[16];
        bool found = auth_cookie(cases[i].header, cases[i].name, out, sizeof(out));
        assert_int_equal(found, cases[i].want != NULL);
        if (found)
            assert_string_equal(out, cases[i].want);
    }
    char small[4];
    assert_false(auth_cookie("c=toolong", "c", small, sizeof(small)));
}

static void test_equal_and_random(void **state)
{
    (void)state;
    assert_true(auth_str_equal("abc", "abc"));
    assert_true(auth_str_equal("", ""));
    assert_false(auth_str_equal("abc", "abd"));
    assert_false(auth_str_equal("abc", "abcd"));
    char a[65], b[65];
    auth_random_hex(a, 32);
    auth_random_hex(b, 32);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_add, setup),
        cmocka_unit_test_setup(test_password_and_token, setup),
        cmocka_unit_test_setup(test_header, setup),
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_equal_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
