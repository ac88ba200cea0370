/* test_cmdsend.c - sending a command (cs/cmdsend.h): each scenario is a command line, the
 * Redis commands the sender must hand out with the replies Redis gives (RESP text), and what
 * comes of it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/cmdsend.h"
#include "cs/mem.h"

#define XADD_OK "$15\r\n1700000000000-0\r\n"
#define TWO_AGENTS "*2\r\n$4\r\na.w0\r\n$4\r\na.w1\r\n"
#define ASSIGN                                                                                     \
    "*6\r\n$4\r\na.w0\r\n$4\r\n1-10\r\n$4\r\na.w1\r\n$5\r\n11-20\r\n$6\r\n_epoch\r\n$1\r\n4\r\n"

/* One Redis command expected from the sender (its words joined by blanks, the JSON payload
 * left out when it starts with '{') and the reply given to it. NULL reply: the connection
 * dropped. */
struct exchange {
    const char *request;
    const char *reply;
};

struct scenario {
    const char *name;
    const char *line;
    struct exchange ex[8];
    int fail_at;          /* 1-based exchange whose feed fails; 0 = none */
    const char *fail_msg; /* ... with this message */
    bool published;
    const char *to;
    long long expect;
    const char *log_error;
    const char *summary; /* before any reply */
};

static const struct scenario scenarios[] = {
    {"broadcast: logged, two registered, one live, three subscribers",
     "@c1 ping",
     {{"XADD swarm:cmdlog MAXLEN ~ 100000 * id c1 cmd {} to * by cli:test@host", XADD_OK},
      {"ZRANGE swarm:agents 0 -1", TWO_AGENTS},
      {"EXISTS swarm:agent:a.w0", ":1\r\n"},
      {"EXISTS swarm:agent:a.w1", ":0\r\n"},
      {"PUBLISH swarm:cmd {}", ":3\r\n"}},
     0,
     NULL,
     true,
     "*",
     1,
     NULL,
     NULL},
    {"routed: IDs go to the owners only",
     "@c2 trigger CP-000003,CP-000012 Heartbeat",
     {{"HGETALL swarm:assign", ASSIGN},
      {"XADD swarm:cmdlog MAXLEN ~ 100000 * id c2 cmd {} to a.w0,a.w1 by cli:test@host", XADD_OK},
      {"ZRANGE swarm:agents 0 -1", TWO_AGENTS},
      {"EXISTS swarm:agent:a.w0", ":1\r\n"},
      {"EXISTS swarm:agent:a.w1", ":1\r\n"},
      {"PUBLISH swarm:cmd:a.w0 {}", ":1\r\n"},
      {"PUBLISH swarm:cmd:a.w1 {}", ":0\r\n"}},
     0,
     NULL,
     true,
     "a.w0,a.w1",
     1,
     NULL,
     NULL},
    {"routed, the owner is not live: nothing published, nobody expected",
     "@c3 stop CP-000015",
     {{"HGETALL swarm:assign", ASSIGN},
      {"XADD swarm:cmdlog MAXLEN ~ 100000 * id c3 cmd {} to a.w1 by cli:test@host", XADD_OK},
      {"ZRANGE swarm:agents 0 -1", TWO_AGENTS},
      {"EXISTS swarm:agent:a.w0", ":1\r\n"},
      {"EXISTS swarm:agent:a.w1", ":0\r\n"}},
     0,
     NULL,
     true,
     "a.w1",
     0,
     NULL,
     "stop: no live worker holds the selected chargers"},
    {"IDs nobody owns are broadcast",
     "@c4 plug CP-000099",
     {{"HGETALL swarm:assign", ASSIGN},
      {"XADD swarm:cmdlog MAXLEN ~ 100000 * id c4 cmd {} to * by cli:test@host", XADD_OK},
      {"ZRANGE swarm:agents 0 -1", "*0\r\n"},
      {"PUBLISH swarm:cmd {}", ":0\r\n"}},
     0,
     NULL,
     true,
     "*",
     0,
     NULL,
     "plug: no live workers are listening on swarm:cmd"},
    {"the log refused: the command still goes out, unlogged",
     "@c5 ping",
     {{"XADD swarm:cmdlog MAXLEN ~ 100000 * id c5 cmd {} to * by cli:test@host",
       "-NOPERM this user has no permissions to access the 'swarm:cmdlog' key\r\n"},
      {"ZRANGE swarm:agents 0 -1", "*1\r\n$4\r\na.w0\r\n"},
      {"EXISTS swarm:agent:a.w0", ":1\r\n"},
      {"PUBLISH swarm:cmd {}", ":1\r\n"}},
     0,
     NULL,
     true,
     "*",
     1,
     "NOPERM this user has no permissions to access the 'swarm:cmdlog' key",
     NULL},
    {"an error reply ends it",
     "@c6 ping",
     {{"XADD swarm:cmdlog MAXLEN ~ 100000 * id c6 cmd {} to * by cli:test@host", XADD_OK},
      {"ZRANGE swarm:agents 0 -1", "-NOPERM no ZRANGE for you\r\n"}},
     2,
     "NOPERM no ZRANGE for you",
     false,
     "*",
     0,
     NULL,
     NULL},
    {"a lost connection ends it",
     "@c7 trigger CP-000001 Heartbeat",
     {{"HGETALL swarm:assign", NULL}},
     1,
     "connection lost",
     false,
     "*",
     0,
     NULL,
     NULL},
    {"a reply of the wrong type ends it",
     "@c8 ping",
     {{"XADD swarm:cmdlog MAXLEN ~ 100000 * id c8 cmd {} to * by cli:test@host", XADD_OK},
      {"ZRANGE swarm:agents 0 -1", TWO_AGENTS},
      {"EXISTS swarm:agent:a.w0", "$1\r\n1\r\n"},
      {"EXISTS swarm:agent:a.w1", ":1\r\n"}},
     3,
     "unexpected string reply to EXISTS",
     false,
     "*",
     0,
     NULL,
     NULL},
};

static struct idfmt idf;

static struct cmdsend *start(const char *line, struct cs_error *err)
{
    struct cmd cmd;
    assert_int_equal(cmd_parse(line, strlen(line), &cmd, err), CS_OK);
    struct cmdsend_opts o = {.ns = "swarm", .idf = &idf, .by = "cli:test@host", .id_prefix = "cli"};
    struct cmdsend *s = cmdsend_new(&cmd, &o, err);
    cmd_free(&cmd);
    return s;
}

/* The request's words, blank-separated, JSON payloads as "{}". */
static void words(const struct cmdsend_req *r, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < r->argc; i++) {
        size_t at = strlen(out);
        snprintf(out + at, n - at, "%s%s", i ? " " : "", r->argv[i][0] == '{' ? "{}" : r->argv[i]);
    }
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
        const struct scenario *sc = &scenarios[k];
        struct cs_error err = {0};
        struct cmdsend *s = start(sc->line, &err);
        assert_non_null(s);
        size_t at = 0, n;
        bool failed = false;
        const struct cmdsend_req *reqs;
        /* The walk proper: every batch in order, each reply fed as Redis would answer. */
        while (!failed && (n = cmdsend_next(s, &reqs)) > 0) {
            for (size_t i = 0; i < n; i++) {
                char got[512];
                const struct exchange *e = &sc->ex[at++];
                if (!e->request)
                    fail_msg("%s: unexpected request %zu", sc->name, at);
                words(&reqs[i], got, sizeof(got));
                if (strcmp(got, e->request) != 0)
                    fail_msg("%s: request %zu is '%s', want '%s'", sc->name, at, got, e->request);
            }
            const struct cmdsend_req *again;
            assert_int_equal(cmdsend_next(s, &again), 0); /* not before the replies */
            size_t first = at - n;
            for (size_t i = 0; i < n && !failed; i++) {
                const struct exchange *e = &sc->ex[first + i];
                struct rds_reply *r = e->reply ? rds_reply_parse(e->reply, strlen(e->reply)) : NULL;
                if (e->reply)
                    assert_non_null(r);
                int rc = cmdsend_feed(s, r, &err);
                rds_reply_free(r);
                if (rc != CS_OK) {
                    if ((int)(first + i + 1) != sc->fail_at)
                        fail_msg("%s: exchange %zu failed: %s", sc->name, first + i + 1, err.msg);
                    assert_string_equal(err.msg, sc->fail_msg);
                    failed = true;
                }
            }
        }
        if (sc->fail_at && !failed)
            fail_msg("%s: did not fail", sc->name);
        if (!failed && sc->ex[at].request)
            fail_msg("%s: request '%s' never came", sc->name, sc->ex[at].request);
        assert_int_equal(cmdsend_next(s, &reqs), 0);
        assert_int_equal(cmdsend_published(s), sc->published);
        assert_string_equal(cmdsend_to(s), sc->to);
        assert_int_equal(cmdsend_expected(s), sc->expect);
        if (sc->log_error)
            assert_string_equal(cmdsend_log_error(s), sc->log_error);
        else
            assert_null(cmdsend_log_error(s));
        if (sc->published && sc->expect == 0)
            assert_true(cmdsend_complete(s));
        if (sc->summary) {
            struct buf b = BUF_INIT;
            cmdsend_summary(s, "swarm-cli cancel", &b);
            assert_string_equal(buf_cstr(&b), sc->summary);
            buf_free(&b);
        }
        cmdsend_free(s);
    }
}

/* What is published: the JSON form with the sender's timestamp and the log entry it is in. */
static void test_payload(void **state)
{
    (void)state;
    struct cs_error err;
    struct cmdsend *s = start("@p1 trigger '*' DataTransfer messageId=x", &err);
    const struct cmdsend_req *reqs;
    const char *replies[] = {XADD_OK, "*1\r\n$4\r\na.w0\r\n", ":1\r\n"};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(cmdsend_next(s, &reqs), 1);
        if (k == 0) { /* the logged JSON has no log id yet */
            assert_string_equal(reqs[0].argv[0], "XADD");
            assert_null(strstr(reqs[0].argv[9], "\"log\""));
            assert_non_null(strstr(reqs[0].argv[9], "\"ts\":"));
            assert_int_equal(reqs[0].argl[9], strlen(reqs[0].argv[9]));
        }
        struct rds_reply *r = rds_reply_parse(replies[k], strlen(replies[k]));
        assert_int_equal(cmdsend_feed(s, r, &err), CS_OK);
        rds_reply_free(r);
    }
    assert_int_equal(cmdsend_next(s, &reqs), 1);
    assert_string_equal(reqs[0].argv[1], "swarm:cmd");
    assert_non_null(strstr(reqs[0].argv[2], "\"log\":\"1700000000000-0\""));
    assert_non_null(strstr(reqs[0].argv[2], "\"id\":\"p1\""));
    assert_int_equal(cmdsend_published_ms(s) > 0, true);
    /* feeding with nothing handed out is refused, not a crash */
    struct rds_reply *r = rds_reply_parse(":1\r\n", 4);
    assert_int_equal(cmdsend_feed(s, r, &err), CS_OK);
    assert_int_not_equal(cmdsend_feed(s, r, &err), CS_OK);
    rds_reply_free(r);
    cmdsend_free(s);
}

/* Replies: only first answers to this id count; errors are kept as lines up to the cap. */
static void test_replies(void **state)
{
    (void)state;
    struct cs_error err;
    struct cmdsend *s = start("@r1 clear '*'", &err);
    const struct cmdsend_req *reqs;
    const char *replies[] = {XADD_OK, TWO_AGENTS, ":1\r\n", ":1\r\n", ":2\r\n"};
    size_t k = 0;
    size_t n;
    /* A reply may come before the PUBLISH is acknowledged. */
    const char *early = "{\"id\":\"r1\",\"worker\":\"a.w1\",\"matched\":5,\"done\":5}";
    while ((n = cmdsend_next(s, &reqs)) > 0) {
        for (size_t i = 0; i < n; i++, k++) {
            if (k == 4)
                assert_true(cmdsend_on_reply(s, early, strlen(early)));
            struct rds_reply *r = rds_reply_parse(replies[k], strlen(replies[k]));
            assert_int_equal(cmdsend_feed(s, r, &err), CS_OK);
            rds_reply_free(r);
        }
    }
    assert_int_equal(cmdsend_expected(s), 2);
    assert_false(cmdsend_complete(s));
    static const char *const ignored[] = {
        "{\"id\":\"other\",\"worker\":\"a.w0\",\"matched\":1}",
        "{\"id\":\"r1\",\"run\":2,\"worker\":\"a.w0\",\"matched\":1}",
        "not json",
    };
    for (size_t i = 0; i < 3; i++)
        assert_false(cmdsend_on_reply(s, ignored[i], strlen(ignored[i])));
    struct buf many = BUF_INIT;
    buf_puts(&many, "{\"id\":\"r1\",\"worker\":\"a.w0\",\"matched\":30,\"done\":5,\"errors\":[");
    for (int i = 0; i < 25; i++)
        buf_printf(&many, "%s\"CP-%02d: nothing is Faulted\"", i ? "," : "", i);
    buf_puts(&many, "]}");
    assert_true(cmdsend_on_reply(s, many.s, many.len));
    buf_free(&many);
    assert_true(cmdsend_complete(s));
    const struct reply_tally *t = cmdsend_tally(s);
    assert_int_equal(t->replied, 2);
    assert_int_equal(t->matched, 35);
    assert_int_equal(t->done, 10);
    assert_int_equal(t->nerr, 25);
    const char *const *lines = cmdsend_error_lines(s, &n);
    assert_int_equal(n, CMDSEND_ERRORS_KEPT);
    assert_string_equal(lines[0], "a.w0: CP-00: nothing is Faulted");

    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    jw_obj(&j);
    cmdsend_result_fields(s, 7, &j);
    cmdsend_result_replies(s, &j);
    jw_end(&j);
    assert_non_null(strstr(buf_cstr(&b), "{\"id\":\"r1\",\"cmd\":\"clear\",\"to\":\"*\","
                                         "\"log\":\"1700000000000-0\",\"workers_expected\":2,"
                                         "\"workers_replied\":2,\"matched\":35,\"done\":10,"
                                         "\"skipped\":0,\"failed\":0,\"errors\":25,"
                                         "\"nothing_matched\":false,\"ms\":7,"
                                         "\"replies\":[{\"id\":\"r1\""));
    buf_free(&b);
    cmdsend_free(s);
}

/* What may not be sent at all; ids made for commands without one. */
static void test_refused_and_ids(void **state)
{
    (void)state;
    static const struct {
        const char *line, *msg;
    } refused[] = {
        {"trigger CP-000009..CP-000001 Heartbeat", NULL},
        {"stop worker:", NULL},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct cmd cmd;
        struct cs_error err = {0};
        assert_int_equal(cmd_parse(refused[i].line, strlen(refused[i].line), &cmd, &err), CS_OK);
        struct cmdsend_opts o = {.ns = "swarm", .idf = &idf, .by = "web:x", .id_prefix = "web"};
        assert_null(cmdsend_new(&cmd, &o, &err));
        assert_non_null(cmd.def); /* untouched: still the caller's */
        if (refused[i].msg)
            assert_string_equal(err.msg, refused[i].msg);
        else
            assert_true(err.msg[0] != '\0');
        cmd_free(&cmd);
    }
    /* Verbs only the coordinator sends (when the table has any). */
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].flags & CMD_F_INTERNAL))
            continue;
        struct cmd cmd = {.def = &t[i]};
        struct cs_error err;
        char want[96];
        struct cmdsend_opts o = {.ns = "swarm", .idf = &idf, .by = "web:x", .id_prefix = "web"};
        snprintf(want, sizeof(want), "'%s' is sent by the coordinator only", t[i].name);
        assert_null(cmdsend_new(&cmd, &o, &err));
        assert_string_equal(err.msg, want);
    }
    struct cs_error err;
    struct cmd cmd;
    assert_int_equal(cmd_parse("ping", 4, &cmd, &err), CS_OK);
    struct cs_rng rng;
    cs_rng_seed(&rng, 42);
    struct cmdsend_opts o = {
        .ns = "swarm", .idf = &idf, .by = "web:x", .id_prefix = "web", .rng = &rng};
    struct cmdsend *s = cmdsend_new(&cmd, &o, &err);
    assert_non_null(s);
    assert_null(cmd.def); /* taken */
    const char *id = cmdsend_cmd(s)->id;
    assert_int_equal(strlen(id), 12);
    assert_memory_equal(id, "web-", 4);
    assert_true(cmdsend_cmd(s)->ts_ms > 0);
    cmdsend_free(s);
    cmdsend_free(NULL);
}

int main(void)
{
    idfmt_parse(&idf, "CP-%06u", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_refused_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
