/* test_authlist.c - the Local Authorization List and the Authorization Cache (cs/authlist.h):
 * full and differential updates with versions, refusals that leave the list untouched, the
 * malformed requests and their CALLERROR codes, expiry, the cache's bound. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/authlist.h"
#include "cs/ocpp.h"

/* Applies the request text; returns the answer's status or "error:<code>". */
static const char *apply(struct authlist *l, const char *text)
{
    static char out[64];
    cJSON *req = cJSON_Parse(text);
    assert_non_null(req);
    const char *status = NULL, *code = NULL;
    struct cs_error err = {0};
    int rc = authlist_apply(l, req, &status, &code, &err);
    if (rc)
        snprintf(out, sizeof(out), "error:%s", code);
    else
        snprintf(out, sizeof(out), "%s", status);
    cJSON_Delete(req);
    return out;
}

static enum auth_status status_of(const struct authlist *l, const char *tag)
{
    const struct auth_entry *e = authlist_find(l, tag);
    assert_non_null(e);
    return auth_entry_status(e, 1000);
}

static void test_full_and_differential(void **state)
{
    (void)state;
    struct authlist l = {0};
    assert_null(authlist_find(&l, "A"));
    assert_string_equal(apply(&l, "{\"listVersion\":3,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":["
                                  "{\"idTag\":\"C\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
                                  "{\"idTag\":\"A\",\"idTagInfo\":{\"status\":\"Blocked\","
                                  "\"parentIdTag\":\"G\"}}]}"),
                        "Accepted");
    assert_int_equal(l.version, 3);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.e[0].id_tag, "A"); /* sorted */
    assert_int_equal(status_of(&l, "A"), AS_BLOCKED);
    assert_string_equal(authlist_find(&l, "A")->parent, "G");
    /* not newer: VersionMismatch, nothing changes */
    assert_string_equal(apply(&l, "{\"listVersion\":3,\"updateType\":\"Differential\","
                                  "\"localAuthorizationList\":[{\"idTag\":\"C\"}]}"),
                        "VersionMismatch");
    assert_non_null(authlist_find(&l, "C"));
    /* newer: add B, update A, remove C */
    assert_string_equal(apply(&l, "{\"listVersion\":4,\"updateType\":\"Differential\","
                                  "\"localAuthorizationList\":["
                                  "{\"idTag\":\"B\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
                                  "{\"idTag\":\"A\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
                                  "{\"idTag\":\"C\"}]}"),
                        "Accepted");
    assert_int_equal(l.version, 4);
    assert_int_equal(l.n, 2);
    assert_int_equal(status_of(&l, "A"), AS_ACCEPTED);
    assert_null(authlist_find(&l, "C"));
    /* a full update with no list empties it; an empty list is version 0 (5.10) */
    assert_string_equal(apply(&l, "{\"listVersion\":1,\"updateType\":\"Full\"}"), "Accepted");
    assert_int_equal(l.n, 0);
    assert_int_equal(l.version, 0);
    authlist_free(&l);
}

static void test_refusals(void **state)
{
    (void)state;
    struct authlist l = {0};
    assert_string_equal(apply(&l, "{\"listVersion\":1,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":[{\"idTag\":\"K\","
                                  "\"idTagInfo\":{\"status\":\"Accepted\"}}]}"),
                        "Accepted");
    /* the same idTag twice: Failed, the list as it was */
    assert_string_equal(apply(&l, "{\"listVersion\":2,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":["
                                  "{\"idTag\":\"X\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
                                  "{\"idTag\":\"X\",\"idTagInfo\":{\"status\":\"Blocked\"}}]}"),
                        "Failed");
    assert_int_equal(l.version, 1);
    assert_non_null(authlist_find(&l, "K"));
    /* more than SendLocalListMaxLength entries: Failed */
    char big[16384];
    size_t at = (size_t)snprintf(big, sizeof(big),
                                 "{\"listVersion\":2,\"updateType\":\"Full\","
                                 "\"localAuthorizationList\":[");
    for (int i = 0; i <= AUTHLIST_SEND_MAX; i++)
        at += (size_t)snprintf(big + at, sizeof(big) - at,
                               "%s{\"idTag\":\"T%d\",\"idTagInfo\":{\"status\":\"Accepted\"}}",
                               i ? "," : "", i);
    snprintf(big + at, sizeof(big) - at, "]}");
    assert_string_equal(apply(&l, big), "Failed");
    assert_int_equal(l.n, 1);
    /* malformed: the CALLERROR codes */
    assert_string_equal(apply(&l, "{\"listVersion\":2,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":[{\"idTagInfo\":{}}]}"),
                        "error:" OCPP_E_OCCURRENCE);
    assert_string_equal(apply(&l, "{\"listVersion\":2,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":[{\"idTag\":\"X\","
                                  "\"idTagInfo\":{\"status\":\"Maybe\"}}]}"),
                        "error:" OCPP_E_PROPERTY);
    assert_string_equal(apply(&l, "{\"listVersion\":2,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":[7]}"),
                        "error:" OCPP_E_TYPE);
    assert_string_equal(
        apply(&l, "{\"listVersion\":2,\"updateType\":\"Full\","
                  "\"localAuthorizationList\":[{\"idTag\":\"123456789012345678901\"}]}"),
        "error:" OCPP_E_PROPERTY);
    assert_string_equal(apply(&l, "{\"updateType\":\"Full\"}"), "error:" OCPP_E_OCCURRENCE);
    assert_int_equal(l.version, 1);
    authlist_free(&l);
}

static void test_expiry(void **state)
{
    (void)state;
    struct authlist l = {0};
    assert_string_equal(apply(&l, "{\"listVersion\":1,\"updateType\":\"Full\","
                                  "\"localAuthorizationList\":[{\"idTag\":\"E\",\"idTagInfo\":"
                                  "{\"status\":\"Accepted\",\"expiryDate\":"
                                  "\"2026-01-01T00:00:00Z\"}}]}"),
                        "Accepted");
    const struct auth_entry *e = authlist_find(&l, "E");
    int64_t exp;
    assert_true(ocpp_datetime_parse("2026-01-01T00:00:00Z", &exp));
    assert_int_equal(auth_entry_status(e, exp - 1), AS_ACCEPTED);
    assert_int_equal(auth_entry_status(e, exp), AS_EXPIRED);
    authlist_free(&l);
}

static void test_cache(void **state)
{
    (void)state;
    struct authlist c = {0};
    struct auth_entry info = {.status = AS_ACCEPTED};
    char tag[16];
    for (int i = 0; i < AUTHCACHE_MAX; i++) {
        snprintf(tag, sizeof(tag), "C%03d", i);
        authcache_put(&c, tag, &info);
    }
    assert_int_equal(c.n, AUTHCACHE_MAX);
    assert_non_null(authcache_get(&c, "C000")); /* C000 used: C001 is now the oldest */
    info.status = AS_BLOCKED;
    authcache_put(&c, "NEW", &info);
    assert_int_equal(c.n, AUTHCACHE_MAX);
    assert_null(authcache_get(&c, "C001"));
    assert_non_null(authcache_get(&c, "C000"));
    assert_int_equal(authcache_get(&c, "NEW")->status, AS_BLOCKED);
    /* a refresh replaces, no growth */
    info.status = AS_ACCEPTED;
    authcache_put(&c, "NEW", &info);
    assert_int_equal(c.n, AUTHCACHE_MAX);
    assert_int_equal(authcache_get(&c, "NEW")->status, AS_ACCEPTED);
    authlist_free(&c);
    assert_int_equal(c.n, 0);
}

static void test_info_parse(void **state)
{
    (void)state;
    struct auth_entry e = {0};
    const char *code = NULL;
    struct cs_error err;
    cJSON *j = cJSON_Parse("{\"status\":\"ConcurrentTx\",\"parentIdTag\":\"P\"}");
    assert_int_equal(auth_info_parse(j, &e, &code, &err), CS_OK);
    assert_int_equal(e.status, AS_CONCURRENT_TX);
    assert_string_equal(e.parent, "P");
    cJSON_Delete(j);
    j = cJSON_Parse("[]");
    assert_int_not_equal(auth_info_parse(j, &e, &code, &err), CS_OK);
    assert_string_equal(code, OCPP_E_TYPE);
    cJSON_Delete(j);
    assert_int_not_equal(auth_info_parse(NULL, &e, &code, &err), CS_OK);
    enum auth_status s;
    assert_true(auth_status_parse("Expired", &s));
    assert_int_equal(s, AS_EXPIRED);
    assert_false(auth_status_parse("expired", &s));
    assert_string_equal(auth_status_name(AS_INVALID), "Invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_differential),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_info_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
