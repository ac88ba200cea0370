/* test_sessions.c - the page's sign-in sessions (coordinator/sessions.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sessions.h"

static void test_create_find_end(void **state)
{
    (void)state;
    struct sessions *s = sess_new();
    const struct session *a = sess_create(s, "alice", AUTH_OPERATOR, 1000);
    char id[SESS_ID_HEX + 1], csrf[SESS_ID_HEX + 1];
    strcpy(id, a->id);
    strcpy(csrf, a->csrf);
    assert_int_equal(strlen(id), SESS_ID_HEX);
    assert_string_not_equal(id, csrf);
    const struct session *b = sess_create(s, "bob", AUTH_VIEWER, 1000);
    assert_string_not_equal(b->id, id);
    assert_int_equal(sess_count(s), 2);

    const struct session *f = sess_find(s, id, 2000);
    assert_non_null(f);
    assert_string_equal(f->name, "alice");
    assert_int_equal(f->role, AUTH_OPERATOR);
    assert_string_equal(f->csrf, csrf);
    /* unknown, truncated, extended, empty ids */
    char other[SESS_ID_HEX + 2];
    strcpy(other, id);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    assert_null(sess_find(s, other, 2000));
    other[0] = id[0];
    other[SESS_ID_HEX - 1] = '\0';
    assert_null(sess_find(s, other, 2000));
    strcpy(other, id);
    strcat(other, "0");
    assert_null(sess_find(s, other, 2000));
    assert_null(sess_find(s, "", 2000));

    sess_end(s, id);
    assert_null(sess_find(s, id, 2000));
    assert_int_equal(sess_count(s), 1);
    sess_end(s, "nonsense"); /* nothing */
    assert_int_equal(sess_count(s), 1);
    sess_free(s);
    sess_free(NULL);
}

static void test_expiry(void **state)
{
    (void)state;
    struct sessions *s = sess_new();
    char id[SESS_ID_HEX + 1];
    strcpy(id, sess_create(s, "alice", AUTH_OPERATOR, 0)->id);
    /* used within the idle time: kept alive, up to the lifetime */
    int64_t t = 0;
    while (t + SESS_IDLE_MS / 2 < SESS_LIFETIME_MS) {
        t += SESS_IDLE_MS / 2;
        assert_non_null(sess_find(s, id, t));
    }
    assert_null(sess_find(s, id, SESS_LIFETIME_MS + 1));
    assert_int_equal(sess_count(s), 0); /* dropped */
    /* idle too long */
    strcpy(id, sess_create(s, "bob", AUTH_VIEWER, 0)->id);
    assert_non_null(sess_find(s, id, SESS_IDLE_MS));
    assert_null(sess_find(s, id, 2 * SESS_IDLE_MS + 1));
    sess_free(s);
}

static void test_full(void **state)
{
    (void)state;
    struct sessions *s = sess_new();
    char first[SESS_ID_HEX + 1], second[SESS_ID_HEX + 1];
    strcpy(first, sess_create(s, "u0", AUTH_VIEWER, 0)->id);
    strcpy(second, sess_create(s, "u1", AUTH_VIEWER, 1)->id);
    for (int i = 2; i < SESS_MAX; i++)
        sess_create(s, "u", AUTH_VIEWER, i);
    assert_int_equal(sess_count(s), SESS_MAX);
    assert_non_null(sess_find(s, first, SESS_MAX + 1)); /* used: now the most recent */
    sess_create(s, "new", AUTH_OPERATOR, SESS_MAX + 2); /* the least recently used goes */
    assert_int_equal(sess_count(s), SESS_MAX);
    assert_null(sess_find(s, second, SESS_MAX + 3));
    assert_non_null(sess_find(s, first, SESS_MAX + 3));
    sess_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_find_end),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
