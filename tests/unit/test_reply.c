/* test_reply.c - reading the replies to a command (cs/reply.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/reply.h"

static cJSON *parse(const char *text, const char **id)
{
    return reply_parse(text, strlen(text), id);
}

static void test_parse(void **state)
{
    (void)state;
    const char *id = NULL;
    cJSON *o = parse("{\"id\":\"c1\",\"worker\":\"a.w0\",\"matched\":3,\"done\":3}", &id);
    assert_non_null(o);
    assert_string_equal(id, "c1");
    cJSON_Delete(o);
    /* later runs of a scheduled command, no id, not JSON, not an object: not an answer */
    static const char *const not_answers[] = {
        "{\"id\":\"c1\",\"run\":2,\"matched\":1}",
        "{\"matched\":1}",
        "{\"id\":7}",
        "garbage",
        "",
        "[1,2]",
        "\"c1\"",
    };
    for (size_t i = 0; i < sizeof(not_answers) / sizeof(not_answers[0]); i++)
        assert_null(parse(not_answers[i], &id));
}

struct seen {
    int calls, last_n;
    char last[128];
};

static void on_error(void *ctx, int n, const char *worker, const char *msg)
{
    struct seen *s = ctx;
    s->calls++;
    s->last_n = n;
    snprintf(s->last, sizeof(s->last), "%s: %s", worker, msg);
}

static void test_tally(void **state)
{
    (void)state;
    struct reply_tally t = {0};
    struct seen s = {0};
    const char *id;
    static const char *const replies[] = {
        "{\"id\":\"c\",\"worker\":\"a.w0\",\"matched\":3,\"done\":2,\"errors\":[\"CP-1: busy\"]}",
        "{\"id\":\"c\",\"worker\":\"a.w1\",\"matched\":0,\"done\":0}",
        /* network input: bad counts read as 0, non-strings in errors are skipped */
        "{\"id\":\"c\",\"matched\":-5,\"done\":1e300,\"errors\":[1,null,\"no worker\"]}",
        "{\"id\":\"c\",\"worker\":\"b.w0\",\"matched\":\"7\",\"done\":2.9}",
    };
    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        cJSON *o = parse(replies[i], &id);
        assert_non_null(o);
        reply_tally_add(&t, o, on_error, &s);
        cJSON_Delete(o);
    }
    assert_int_equal(t.replied, 4);
    assert_int_equal(t.matched, 3);
    assert_int_equal(t.with_match, 1);
    assert_int_equal(t.done, 4);
    assert_int_equal(t.nerr, 2); /* replies without "failed": their lines */
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.last_n, 2);
    assert_string_equal(s.last, "?: no worker");
    /* no callback: still counted */
    cJSON *o = parse("{\"id\":\"c\",\"errors\":[\"x\"]}", &id);
    reply_tally_add(&t, o, NULL, NULL);
    cJSON_Delete(o);
    assert_int_equal(t.nerr, 3);
}

/* The counts are the figures; the lines are examples (a worker sends at most 10). */
static void test_counts(void **state)
{
    (void)state;
    struct reply_tally t = {0};
    struct seen s = {0};
    const char *id;
    static const char *const replies[] = {
        /* 99 selected, none started: 99 failed, 10 example lines */
        "{\"id\":\"c\",\"worker\":\"a.w0\",\"matched\":99,\"done\":0,\"skipped\":0,"
        "\"failed\":99,\"errors\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\"]}",
        /* online '*' on chargers already online: skipped, not errors */
        "{\"id\":\"c\",\"worker\":\"a.w1\",\"matched\":500,\"done\":1,\"skipped\":499,"
        "\"failed\":0,\"errors\":[]}",
        /* a worker refusing the command as a whole: nothing failed, one line */
        "{\"id\":\"c\",\"worker\":\"b.w0\",\"matched\":0,\"done\":0,\"skipped\":0,"
        "\"failed\":0,\"errors\":[\"trigger: unknown message 'X'\"]}",
    };
    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        cJSON *o = parse(replies[i], &id);
        assert_non_null(o);
        reply_tally_add(&t, o, on_error, &s);
        cJSON_Delete(o);
    }
    assert_int_equal(t.matched, 599);
    assert_int_equal(t.done, 1);
    assert_int_equal(t.skipped, 499);
    assert_int_equal(t.failed, 99);
    assert_int_equal(t.nerr, 100);
    assert_int_equal(t.lines, 11);
    assert_int_equal(s.calls, 11);
    char line[256];
    struct cmd c;
    struct cs_error err;
    assert_int_equal(cmd_parse("start CP-0000*", 14, &c, &err), CS_OK);
    struct buf b = BUF_INIT;
    reply_summary(&t, &c, "swarm-cli cancel", &b);
    snprintf(line, sizeof(line), "%s", buf_cstr(&b));
    assert_string_equal(line, "start: 599 chargers on 2 workers, 1 done, 499 skipped (nothing to "
                              "do), 100 errors");
    buf_free(&b);
    cmd_free(&c);
}

static void summary_of(const char *line, const struct reply_tally *t, char *out, size_t n)
{
    struct cmd c;
    struct cs_error err;
    assert_int_equal(cmd_parse(line, strlen(line), &c, &err), CS_OK);
    struct buf b = BUF_INIT;
    reply_summary(t, &c, "swarm-cli cancel", &b);
    snprintf(out, n, "%s", buf_cstr(&b));
    buf_free(&b);
    cmd_free(&c);
}

static void test_summary(void **state)
{
    (void)state;
    char s[256];
    struct reply_tally one = {.replied = 1, .with_match = 1, .matched = 1, .done = 1},
                       many = {.replied = 2, .with_match = 2, .matched = 10, .done = 8, .nerr = 3},
                       none = {.replied = 2},
                       ping = {.replied = 1, .matched = 500, .done = 500, .connected = 499};
    summary_of("@c1 trigger CP-000001 Heartbeat", &one, s, sizeof(s));
    assert_string_equal(s, "trigger: 1 charger on 1 worker, 1 done, 0 errors");
    summary_of("@c1 trigger * Heartbeat", &many, s, sizeof(s));
    assert_string_equal(s, "trigger: 10 chargers on 2 workers, 8 done, 3 errors");
    summary_of("@c2 trigger * Heartbeat in=5s", &one, s, sizeof(s));
    assert_string_equal(s, "trigger: scheduled on 1 worker, 0 errors");
    summary_of("@c3 trigger * Heartbeat every=1s", &many, s, sizeof(s));
    assert_string_equal(
        s, "trigger: scheduled on 2 workers, repeating (stop it: swarm-cli cancel c3), 3 errors");
    /* nothing matched: said so, not "0 chargers on 0 workers" */
    summary_of("@c4 trigger CP-01* Heartbeat", &none, s, sizeof(s));
    assert_string_equal(s, "trigger: no charger matched 'CP-01*' (2 workers answered)");
    summary_of("@c5 cancel nosuch", &none, s, sizeof(s));
    assert_string_equal(s, "cancel: nothing scheduled under id 'nosuch' on the 2 workers that "
                           "answered");
    /* ping counts answers and what the workers hold, not "done" = connected */
    summary_of("ping", &ping, s, sizeof(s));
    assert_string_equal(s, "ping: 1 worker answered, 500 chargers held, 499 connected");
    /* the schedule verbs count schedules, not chargers */
    summary_of("schedules", &many, s, sizeof(s));
    assert_string_equal(s, "schedules: 10 scheduled commands on 2 workers");
    summary_of("cancel '*'", &one, s, sizeof(s));
    assert_string_equal(s, "cancel: 1 schedule stopped on 1 worker, 0 errors");
    summary_of("reload cfg", &one, s, sizeof(s));
    assert_string_equal(s, "reload: 1 worker answered (1 charger), 0 errors");
}

static void test_nothing_matched(void **state)
{
    (void)state;
    struct reply_tally none = {.replied = 2}, errs = {.replied = 2, .nerr = 1},
                       some = {.replied = 2, .matched = 1}, silent = {0};
    const struct {
        const char *line;
        const struct reply_tally *t;
        bool want;
    } cases[] = {
        {"trigger * Heartbeat", &none, true},
        {"cancel x", &none, true},
        {"trigger * Heartbeat", &errs, false},
        {"trigger * Heartbeat", &some, false},
        {"trigger * Heartbeat", &silent, false},
        {"ping", &none, false},
        {"reload", &none, false},
        {"trigger * Heartbeat in=5s", &none, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cmd c;
        struct cs_error err;
        assert_int_equal(cmd_parse(cases[i].line, strlen(cases[i].line), &c, &err), CS_OK);
        assert_int_equal(reply_nothing_matched(cases[i].t, &c), cases[i].want);
        cmd_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),           cmocka_unit_test(test_tally),
        cmocka_unit_test(test_counts),          cmocka_unit_test(test_summary),
        cmocka_unit_test(test_nothing_matched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
