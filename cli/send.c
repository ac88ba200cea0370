/* send.c - the Redis helpers of swarm-cli, and sending a command (cmdsend.h) on a blocking
 * connection: its steps pipelined, then the replies collected. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cs/buf.h"
#include "cs/cmdsend.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/util.h"

/* How long a reply may take: the connections' timeout (rds_sync_connect) and the wait for
 * each pipelined reply. */
#define CLI_REPLY_MS 3000

bool cli_try_connect(struct cli *c, struct cs_error *err)
{
    if (!c->r)
        c->r = rds_sync_connect(&c->common.url, CLI_REPLY_MS, err);
    return c->r != NULL;
}

bool cli_connect(struct cli *c)
{
    struct cs_error err;
    if (cli_try_connect(c, &err))
        return true;
    fprintf(stderr, "swarm-cli: %s\n", err.msg);
    return false;
}

const char *cli_key(struct cli *c, char *out, enum cs_key k, const char *arg)
{
    return cs_key(out, c->common.ns, k, arg);
}

int cli_redis_fail(const struct cs_error *err)
{
    fprintf(stderr, "swarm-cli: Redis: %s\n", err->msg);
    return EXIT_REDIS;
}

static const char *type_name(enum rds_type t)
{
    static const char *const names[] = {
        [RDS_NIL] = "nil",     [RDS_STRING] = "string", [RDS_INT] = "integer",
        [RDS_ARRAY] = "array", [RDS_STATUS] = "status", [RDS_ERROR] = "error",
    };
    return (size_t)t < ARRAY_SIZE(names) && names[t] ? names[t] : "unknown";
}

/* No reply: what hiredis says about the connection. */
static void io_error(const struct rds_sync *s, struct cs_error *err)
{
    const char *why = rds_sync_error(s);
    cs_error_set(err, CS_ERR_IO, "%s", why && *why ? why : "connection lost");
}

struct rds_reply *cli_check(struct rds_sync *s, unsigned want, const char *what,
                            struct rds_reply *r, struct cs_error *err)
{
    enum rds_type t = rds_reply_type(r);
    if (!r) {
        io_error(s, err);
        return NULL;
    }
    if (t == RDS_ERROR) {
        const char *msg = rds_reply_str(r, NULL);
        cs_error_set(err, CS_ERR_STATE, "%s", msg && *msg ? msg : "error reply");
    } else if (!(want & CLI_T(t))) {
        cs_error_set(err, CS_ERR_PARSE, "unexpected %s reply%s%.*s", type_name(t),
                     what ? " to " : "", what ? (int)strcspn(what, " ") : 0, what ? what : "");
    } else {
        return r;
    }
    rds_reply_free(r);
    return NULL;
}

void cli_free_all(struct rds_reply **r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rds_reply_free(r[i]);
        r[i] = NULL;
    }
}

bool cli_read_all(struct rds_sync *s, struct rds_reply **out, size_t n, const unsigned *want,
                  size_t nwant, struct cs_error *err)
{
    struct cs_error first = {CS_OK, ""};
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n; i++) {
        struct rds_reply *r = NULL;
        struct cs_error e;
        int rc = rds_sync_read(s, CLI_REPLY_MS, &r);
        if (rc != CS_OK) {
            /* Lost or out of step: the remaining replies cannot be told apart any more. */
            if (rc == CS_ERR_STATE)
                cs_error_set(&e, CS_ERR_IO, "no reply within %d ms", CLI_REPLY_MS);
            else
                io_error(s, &e);
            if (first.code == CS_OK)
                first = e;
            break;
        }
        out[i] = cli_check(s, want[i % nwant], NULL, r, &e);
        if (!out[i] && first.code == CS_OK)
            first = e;
    }
    if (first.code == CS_OK)
        return true;
    cli_free_all(out, n);
    if (err)
        *err = first;
    return false;
}

bool cli_load_fleet(struct cli *c)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    if (c->fleet_loaded)
        return true;
    if (!cli_connect(c))
        return false;
    cfg_defaults(&cfg_fleet_schema, &c->fleet);
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, &err, "HGETALL %s", cli_key(c, k, K_FLEET, NULL));
    if (!r) {
        cli_redis_fail(&err);
        return false;
    }
    struct kvlist in = KVLIST_INIT, acc = KVLIST_INIT;
    rds_reply_kv(r, &in);
    cfg_layer_accept(&cfg_fleet_schema, &acc, NULL, &in, NULL, NULL);
    cfg_apply_layer(&cfg_fleet_schema, &c->fleet, &acc);
    kv_free(&in);
    kv_free(&acc);
    rds_reply_free(r);
    idfmt_parse(&c->idf, c->fleet.id_format, NULL);
    c->fleet_loaded = true;
    return true;
}

bool cli_live_workers(struct cli *c, struct kvlist *out, struct cs_error *err)
{
    static const unsigned want[] = {CLI_INT};
    char k[CS_KEY_MAX];
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, err, "ZRANGE %s 0 -1", cli_key(c, k, K_AGENTS, NULL));
    if (!r)
        return false;
    size_t n = rds_reply_len(r);
    const char **names = cs_calloc(n ? n : 1, sizeof(*names));
    size_t asked = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = rds_reply_str(rds_reply_at(r, i), NULL);
        if (name && rds_sync_append(c->r, "EXISTS %s", cli_key(c, k, K_AGENT, name)) == CS_OK)
            names[asked++] = name;
    }
    struct rds_reply **ex = cs_calloc(asked ? asked : 1, sizeof(*ex));
    bool ok = cli_read_all(c->r, ex, asked, want, ARRAY_SIZE(want), err);
    for (size_t i = 0; ok && i < asked; i++)
        if (rds_reply_int(ex[i]) == 1)
            kv_set(out, names[i], "1");
    cli_free_all(ex, asked);
    cs_free(ex);
    cs_free(names);
    rds_reply_free(r);
    return ok;
}

/* Who sends the command, for {ns}:cmdlog: cli:USER@HOST. */
const char *cli_sender(char *out, size_t n)
{
    char host[64] = "";
    const struct passwd *pw = getpwuid(getuid());
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    if (pw && pw->pw_name && *pw->pw_name)
        snprintf(out, n, "cli:%.48s@%.63s", pw->pw_name, host[0] ? host : "?");
    else
        snprintf(out, n, "cli:uid%u@%.63s", (unsigned)getuid(), host[0] ? host : "?");
    return out;
}

/* The reply channel, subscribed: listening starts before anything is logged or published, so
 * no reply is missed and nothing is logged that could not be followed. NULL with *err. */
static struct rds_sync *listen_replies(struct cli *c, struct cs_error *err)
{
    char rk[CS_KEY_MAX];
    struct rds_sync *sub = rds_sync_connect(&c->common.url, CLI_REPLY_MS, err);
    if (!sub)
        return NULL;
    struct rds_reply *r =
        cli_cmd(sub, CLI_ARRAY, err, "SUBSCRIBE %s", cli_key(c, rk, CH_REPLY, NULL));
    if (!r) {
        rds_sync_free(sub);
        return NULL;
    }
    rds_reply_free(r);
    return sub;
}

/* Runs the steps of cmdsend up to the PUBLISH, each step's commands pipelined. False with
 * *err on a Redis failure. */
static bool run_steps(struct cli *c, struct cmdsend *s, struct cs_error *err)
{
    const struct cmdsend_req *reqs;
    size_t n;
    while ((n = cmdsend_next(s, &reqs)) > 0) {
        for (size_t i = 0; i < n; i++)
            if (rds_sync_appendv(c->r, reqs[i].argc, reqs[i].argv, reqs[i].argl) != CS_OK) {
                io_error(c->r, err);
                return false;
            }
        for (size_t i = 0; i < n; i++) {
            struct rds_reply *r = NULL;
            int rc = rds_sync_read(c->r, CLI_REPLY_MS, &r);
            if (rc != CS_OK) {
                if (rc == CS_ERR_STATE)
                    cs_error_set(err, CS_ERR_IO, "no reply within %d ms", CLI_REPLY_MS);
                else
                    io_error(c->r, err);
                return false;
            }
            rc = cmdsend_feed(s, r, err);
            rds_reply_free(r);
            if (rc != CS_OK)
                return false;
        }
    }
    return cmdsend_published(s);
}

/* Waits for the replies on sub until every live worker reached has answered or the timeout
 * (from the PUBLISH). False with *err when the subscription fails; running out of time is not
 * a failure (the tally tells). */
static bool collect(struct cli *c, struct rds_sync *sub, struct cmdsend *s, struct cs_error *err)
{
    int64_t t0 = cmdsend_published_ms(s);
    while (!cmdsend_complete(s)) {
        int left = c->timeout_ms - (int)(cs_mono_ms() - t0);
        struct rds_reply *m = NULL;
        if (left <= 0)
            return true;
        if (rds_sync_read(sub, left, &m) == CS_ERR_STATE)
            return true; /* timed out */
        if (!(m = cli_check(sub, CLI_ARRAY, "SUBSCRIBE", m, err)))
            return false; /* connection lost (m NULL) or an error reply */
        const char *kind = rds_reply_str(rds_reply_at(m, 0), NULL);
        size_t len = 0;
        const char *body = rds_reply_str(rds_reply_at(m, 2), &len);
        if (kind && strcmp(kind, "message") == 0 && body)
            cmdsend_on_reply(s, body, len);
        rds_reply_free(m);
    }
    return true;
}

/* `schedules`: each worker's list ("schedules" in its reply), one line per schedule. Text
 * from the network: escaped for the terminal. */
static void print_schedules(const cJSON *replies)
{
    bool head = false;
    const cJSON *r;
    cJSON_ArrayForEach(r, replies)
    {
        const char *worker = cJSON_GetStringValue(cJSON_GetObjectItem(r, "worker"));
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "schedules"))
        {
            const cJSON *every = cJSON_GetObjectItem(e, "every_ms"),
                        *runs = cJSON_GetObjectItem(e, "runs"),
                        *left = cJSON_GetObjectItem(e, "left");
            char ev[32] = "-", lf[32] = "-";
            if (cJSON_IsNumber(every) && every->valuedouble > 0)
                snprintf(ev, sizeof(ev), "%.0f ms", every->valuedouble);
            if (cJSON_IsNumber(left) && left->valuedouble > 0)
                snprintf(lf, sizeof(lf), "%.0f", left->valuedouble);
            if (!head)
                printf("  %-16s %-20s %-10s %-24s %-10s %6s %6s\n", "WORKER", "ID", "CMD", "NEXT",
                       "EVERY", "RUNS", "LEFT");
            head = true;
            printf("  %-16s %-20s %-10s %-24s %-10s %6.0f %6s\n", cli_safe(worker ? worker : "?"),
                   cli_safe(cJSON_GetStringValue(cJSON_GetObjectItem(e, "id"))),
                   cli_safe(cJSON_GetStringValue(cJSON_GetObjectItem(e, "cmd"))),
                   cli_safe(cJSON_GetStringValue(cJSON_GetObjectItem(e, "next"))), ev,
                   cJSON_IsNumber(runs) ? runs->valuedouble : 0, lf);
        }
    }
}

static void print_result(struct cli *c, const struct cmdsend *s, int64_t ms)
{
    char k[CS_KEY_MAX];
    const struct cmd *cmd = cmdsend_cmd(s);
    const struct reply_tally *t = cmdsend_tally(s);
    long long expect = cmdsend_expected(s);
    if (c->json) {
        struct buf b = BUF_INIT;
        struct jw j;
        jw_init(&j, &b);
        jw_obj(&j);
        cmdsend_result_fields(s, ms, &j);
        cmdsend_result_replies(s, &j);
        jw_end(&j);
        printf("%s\n", buf_cstr(&b));
        buf_free(&b);
        return;
    }
    struct buf line = BUF_INIT;
    cmdsend_summary(s, "swarm-cli cancel", &line);
    if (expect > 0 && !cmd_scheduled(cmd))
        buf_printf(&line, ", %lld ms", (long long)ms);
    printf("%s\n", buf_cstr(&line));
    buf_free(&line);
    if (t->replied < expect)
        printf("  only %d of %lld worker%s replied within %d ms\n", t->replied, expect,
               cs_plural(expect), c->timeout_ms);
    if (reply_nothing_matched(t, cmd) && cmd->select && c->fleet.size == 0)
        printf("  the fleet is empty (size 0 in %s): swarm-cli scale N sets its size\n",
               cli_key(c, k, K_FLEET, NULL));
    else if (reply_nothing_matched(t, cmd) && cmd->select) {
        char first[CS_ID_MAX + 1], last[CS_ID_MAX + 1];
        idfmt_format(&c->idf, 1, first, sizeof(first));
        idfmt_format(&c->idf, (uint32_t)c->fleet.size, last, sizeof(last));
        printf("  the fleet has %d charger%s, %s..%s (docs/commands.md: selectors)\n",
               c->fleet.size, cs_plural(c->fleet.size), first, last);
    }
    if (cmd->def->verb == CMD_SCHEDULES)
        print_schedules(cmdsend_replies(s));
    size_t n;
    const char *const *lines = cmdsend_error_lines(s, &n);
    for (size_t i = 0; i < n; i++) /* from the network: escaped for the terminal */
        printf("  %s\n", cli_safe(lines[i]));
    long long shown = t->lines < (long long)n ? t->lines : (long long)n;
    if (t->nerr > shown)
        printf("  ... %lld error%s in all (the replies carry up to 10 examples each)\n",
               (long long)t->nerr, cs_plural(t->nerr));
}

int cli_send(struct cli *c, struct cmd *cmd, bool quiet)
{
    struct cs_error err;
    char by[CMDSEND_BY_MAX];
    int rc = EXIT_OK;

    if (!cli_load_fleet(c))
        return EXIT_REDIS;
    struct cmdsend_opts so = {
        .ns = c->common.ns, .idf = &c->idf, .by = cli_sender(by, sizeof(by)), .id_prefix = "cli"};
    struct cmdsend *s = cmdsend_new(cmd, &so, &err);
    if (!s) {
        fprintf(stderr, "swarm-cli: %s\n", err.msg);
        return EXIT_USAGE;
    }
    struct rds_sync *sub = listen_replies(c, &err);
    if (!sub || !run_steps(c, s, &err) || !collect(c, sub, s, &err)) {
        rc = cli_redis_fail(&err);
        goto out;
    }
    if (cmdsend_log_error(s) && !quiet) {
        char k[CS_KEY_MAX];
        fprintf(stderr, "swarm-cli: not logged in %s (%s): delivery is at most once\n",
                cli_key(c, k, K_CMDLOG, NULL), cmdsend_log_error(s));
    }
    const struct reply_tally *t = cmdsend_tally(s);
    long long expect = cmdsend_expected(s);
    if (expect == 0 || t->nerr || t->replied < expect || reply_nothing_matched(t, cmdsend_cmd(s)))
        rc = EXIT_ERRORS;
    if (c->json || !quiet || rc != EXIT_OK)
        print_result(c, s, cs_mono_ms() - cmdsend_published_ms(s));
out:
    rds_sync_free(sub);
    cmdsend_free(s);
    return rc;
}

int cli_send_line(struct cli *c, const char *line, bool quiet)
{
    struct cmd cmd;
    struct cs_error err;
    if (cmd_parse(line, strlen(line), &cmd, &err) != CS_OK) {
        fprintf(stderr, "swarm-cli: %s\n", err.msg);
        return EXIT_USAGE;
    }
    int rc = cli_send(c, &cmd, quiet);
    cmd_free(&cmd);
    return rc;
}

int cli_reload(struct cli *c, const char *key)
{
    char line[CS_KEY_MAX + 16];
    struct kvlist live = KVLIST_INIT;
    struct cs_error err;
    bool ok = cli_live_workers(c, &live, &err);
    size_t n = live.n;
    kv_free(&live);
    if (!ok)
        return cli_redis_fail(&err);
    if (n == 0)
        return EXIT_OK; /* nobody running: workers read it when they start */
    snprintf(line, sizeof(line), "reload %s", key);
    return cli_send_line(c, line, true);
}

/* Rebuilds a command line from argv, quoting what needs it. */
void cli_join_args(struct buf *b, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (i)
            buf_putc(b, ' ');
        cmd_quote_arg(b, argv[i]);
    }
}
