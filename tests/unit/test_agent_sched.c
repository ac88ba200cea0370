/* test_agent_sched.c - scheduled commands (agent/sched.c) and a command's reply
 * (agent/result.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "agent_fake.h"
#include "cs/cmd.h"
#include "result.h"
#include "sched.h"

struct runs {
    int n;
    int64_t last_run;
    char text[512];
};

static void on_run(void *privdata, const char *text, int64_t run)
{
    struct runs *r = privdata;
    r->n++;
    r->last_run = run;
    snprintf(r->text, sizeof(r->text), "%s", text);
}

static int add(struct sched *s, const char *line, int64_t *first)
{
    struct cmd c;
    struct cs_error err;
    assert_int_equal(cmd_parse(line, strlen(line), &c, &err), CS_OK);
    int rc = sched_add(s, &c, first, &err);
    cmd_free(&c);
    return rc;
}

/* A repeating command whose start lies far in the past runs next on its cadence after now:
 * the missed runs are skipped in one step (not caught up one period at a time). */
static void test_past_start(void **state)
{
    (void)state;
    struct fake_worker w;
    struct runs r = {0};
    fake_worker_init(&w);
    struct sched *s = sched_new(&w.x, on_run, &r);
    int64_t first, now = cs_now_ms();
    assert_int_equal(add(s, "@hb trigger CP-000001 Heartbeat at=1 every=100ms count=3", &first),
                     CS_OK);
    assert_true(first > now - 1);
    assert_true(first <= cs_now_ms() + 100);
    assert_int_equal((first - 1) % 100, 0); /* on the cadence of at=1 */
    assert_int_equal(sched_count(s), 1);
    /* the run text is the command without its scheduling */
    int64_t wait = first + 50 - cs_now_ms(); /* the first run, not the second */
    struct timeval tv = {0, (suseconds_t)(wait > 0 ? wait : 0) * 1000};
    event_base_loopexit(w.x.base, &tv);
    event_base_dispatch(w.x.base);
    assert_int_equal(r.n, 1);
    assert_null(strstr(r.text, "every"));
    assert_non_null(strstr(r.text, "\"id\":\"hb\""));
    sched_free(s);
    fake_worker_free(&w);
}

/* cancel takes a glob of ids; `*` cancels everything. */
static void test_cancel(void **state)
{
    (void)state;
    struct fake_worker w;
    struct runs r = {0};
    int64_t first;
    fake_worker_init(&w);
    struct sched *s = sched_new(&w.x, on_run, &r);
    add(s, "@storm-1 ping in=1h", &first);
    add(s, "@storm-2 ping in=1h", &first);
    add(s, "@other ping in=1h", &first);
    assert_int_equal(sched_cancel(s, "nosuch"), 0);
    assert_int_equal(sched_cancel(s, "storm-*"), 2);
    assert_int_equal(sched_count(s), 1);
    assert_int_equal(sched_cancel(s, "*"), 1);
    assert_int_equal(sched_count(s), 0);
    sched_free(s);
    fake_worker_free(&w);
}

/* A worker holds at most SCHED_MAX scheduled commands; `schedules` lists them soonest first. */
static void test_bounds_and_list(void **state)
{
    (void)state;
    struct fake_worker w;
    struct runs r = {0};
    int64_t first;
    char line[96];
    fake_worker_init(&w);
    struct sched *s = sched_new(&w.x, on_run, &r);
    for (int i = 0; i < SCHED_MAX; i++) {
        snprintf(line, sizeof(line), "@j%d ping in=%dh", i, 1 + i % 50);
        assert_int_equal(add(s, line, &first), CS_OK);
    }
    assert_int_equal(add(s, "@one-more ping in=1h", &first), CS_ERR_TOO_BIG);
    assert_int_equal(sched_count(s), SCHED_MAX);
    struct buf b = BUF_INIT;
    sched_list(s, 5, &b);
    cJSON *list = cJSON_Parse(buf_cstr(&b));
    assert_int_equal(cJSON_GetArraySize(list), 5);
    const char *next0 = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "next")->valuestring;
    const char *next4 = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 4), "next")->valuestring;
    assert_true(strcmp(next0, next4) <= 0);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "cmd")->valuestring,
                        "ping");
    cJSON_Delete(list);
    buf_free(&b);
    assert_int_equal(sched_cancel(s, "*"), SCHED_MAX);
    assert_int_equal(add(s, "@again ping in=1h", &first), CS_OK);
    sched_free(s);
    fake_worker_free(&w);
}

/* The reply: counts are the figures, texts only examples; a refusal says so. */
static void test_reply(void **state)
{
    (void)state;
    struct result r;
    struct buf b = BUF_INIT;
    result_init(&r);
    for (int i = 0; i < 15; i++)
        result_charger(&r, CS_ERR_STATE, "not connected");
    for (int i = 0; i < 4; i++)
        result_charger(&r, CS_ERR_NOOP, "nothing is Faulted");
    result_charger(&r, CS_OK, NULL);
    result_extra(&r, "connected", 7);
    result_render(&r, "c1", "a.w0", "clear", 1.5, 3, &b);
    cJSON *j = cJSON_Parse(buf_cstr(&b));
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "matched")->valueint, 20);
    assert_int_equal(cJSON_GetObjectItem(j, "done")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(j, "skipped")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(j, "failed")->valueint, 15);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "errors")), RESULT_EXAMPLES);
    assert_int_equal(cJSON_GetObjectItem(j, "connected")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(j, "lag_ms")->valueint, 3);
    assert_null(cJSON_GetObjectItem(j, "refused"));
    cJSON_Delete(j);
    result_free(&r);
    buf_reset(&b);
    result_init(&r);
    result_refuse(&r, "status: unknown status 'x'");
    result_render(&r, NULL, "a.w0", "status", 0, -1, &b);
    j = cJSON_Parse(buf_cstr(&b));
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "refused")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "id")));
    assert_null(cJSON_GetObjectItem(j, "lag_ms"));
    cJSON_Delete(j);
    result_free(&r);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_past_start),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_bounds_and_list),
        cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
