/* send.c - publish a command and collect the workers' replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/buf.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/reply.h"
#include "cs/rset.h"
#include "cs/selector.h"
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

struct tally {
    struct reply_tally n;
    struct buf errors; /* human lines, the first ERRORS_SHOWN */
    cJSON *replies;    /* array of reply objects */
};

#define ERRORS_SHOWN 20

static void error_line(void *ctx, int n, const char *worker, const char *msg)
{
    struct tally *t = ctx;
    if (n <= ERRORS_SHOWN) /* from the network: escaped for the terminal */
        buf_printf(&t->errors, "  %s: %s\n", cli_safe(worker), cli_safe(msg));
}

/* Workers whose assignment intersects the selector's indexes, when the selector is only IDs
 * and ranges: *routed; broadcast (!*routed) otherwise. False with *err on a Redis failure. */
static bool route(struct cli *c, const char *select, struct kvlist *owners, bool *routed,
                  struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rset want = RSET_INIT, have = RSET_INIT, both = RSET_INIT;
    struct sel *s = sel_parse(select, &c->idf, NULL);
    bool by_index = s && sel_index_set(s, &want), ok = true;
    sel_free(s);
    *routed = false;
    if (by_index) {
        struct kvlist assign = KVLIST_INIT;
        struct rds_reply *r =
            cli_cmd(c->r, CLI_ARRAY, err, "HGETALL %s", cli_key(c, k, K_ASSIGN, NULL));
        ok = r != NULL;
        rds_reply_kv(r, &assign);
        rds_reply_free(r);
        for (size_t i = 0; i < assign.n; i++) {
            if (strcmp(assign.v[i].key, CS_ASSIGN_EPOCH_FIELD) == 0 ||
                rset_parse(&have, assign.v[i].val, NULL) != CS_OK)
                continue;
            rset_intersect(&both, &want, &have);
            if (!rset_empty(&both))
                kv_set(owners, assign.v[i].key, "1");
        }
        kv_free(&assign);
        *routed = owners->n > 0;
    }
    rset_free(&want);
    rset_free(&have);
    rset_free(&both);
    return ok;
}

/* Logged first: a worker that misses the PUBLISH catches up from {ns}:cmdlog. A failed log
 * is reported (unless quiet) and the command still goes out, at most once. */
static void log_cmd(struct cli *c, struct cmd *cmd, struct buf *payload, const char *to, bool quiet)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    struct rds_reply *r = cli_cmd(
        c->r, CLI_T(RDS_STRING), &err, "XADD %s MAXLEN ~ %d * id %s cmd %b to %s",
        cli_key(c, k, K_CMDLOG, NULL), CS_CMDLOG_MAX, cmd->id, payload->s, payload->len, to);
    if (r) {
        cs_strlcpy(cmd->log_id, rds_reply_str(r, NULL), sizeof(cmd->log_id));
        buf_reset(payload);
        cmd_to_json(cmd, payload);
    } else if (!quiet) {
        fprintf(stderr, "swarm-cli: not logged in %s (%s): delivery is at most once\n", k, err.msg);
    }
    rds_reply_free(r);
}

/* PUBLISH to the live owners (routed) or to everyone; *expect = the live workers reached. */
static bool publish(struct cli *c, bool routed, const struct kvlist *owners,
                    const struct kvlist *live, const struct buf *payload, long long *expect,
                    struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r;
    *expect = 0;
    for (size_t i = 0; routed && i < owners->n; i++) {
        if (!kv_get(live, owners->v[i].key))
            continue;
        r = cli_cmd(c->r, CLI_INT, err, "PUBLISH %s %b", cli_key(c, k, CH_CMD_W, owners->v[i].key),
                    payload->s, payload->len);
        if (!r)
            return false;
        *expect += rds_reply_int(r) > 0;
        rds_reply_free(r);
    }
    if (!routed) {
        r = cli_cmd(c->r, CLI_INT, err, "PUBLISH %s %b", cli_key(c, k, CH_CMD, NULL), payload->s,
                    payload->len);
        if (!r)
            return false;
        long long receivers = rds_reply_int(r);
        rds_reply_free(r);
        *expect = (long long)live->n < receivers ? (long long)live->n : receivers;
    }
    return true;
}

/* Waits for `expect` replies to cmd on sub (until the timeout). False with *err when the
 * subscription fails; running out of time is not a failure (t->n.replied tells). */
static bool collect(struct cli *c, struct rds_sync *sub, const struct cmd *cmd, long long expect,
                    int64_t t0, struct tally *t, struct cs_error *err)
{
    while (t->n.replied < expect) {
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
        const char *id;
        cJSON *obj = kind && strcmp(kind, "message") == 0 && body ? reply_parse(body, len, &id)
                                                                   : NULL;
        if (obj && strcmp(id, cmd->id) == 0) {
            reply_tally_add(&t->n, obj, error_line, t);
            cJSON_AddItemToArray(t->replies, obj);
        } else {
            cJSON_Delete(obj);
        }
        rds_reply_free(m);
    }
    return true;
}

static void print_result(struct cli *c, const struct cmd *cmd, const char *to, bool routed,
                         long long expect, struct tally *t, int64_t ms)
{
    char k[CS_KEY_MAX];
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", cmd->id);
        cJSON_AddStringToObject(o, "cmd", cmd->def->name);
        cJSON_AddStringToObject(o, "to", to);
        if (cmd->log_id[0])
            cJSON_AddStringToObject(o, "log", cmd->log_id);
        cJSON_AddNumberToObject(o, "workers_expected", (double)expect);
        cJSON_AddNumberToObject(o, "workers_replied", t->n.replied);
        cJSON_AddNumberToObject(o, "matched", (double)t->n.matched);
        cJSON_AddNumberToObject(o, "done", (double)t->n.done);
        cJSON_AddNumberToObject(o, "skipped", (double)t->n.skipped);
        cJSON_AddNumberToObject(o, "failed", (double)t->n.failed);
        cJSON_AddNumberToObject(o, "errors", (double)t->n.nerr);
        if (cmd->def->verb == CMD_PING)
            cJSON_AddNumberToObject(o, "connected", (double)t->n.connected);
        cJSON_AddBoolToObject(o, "nothing_matched", reply_nothing_matched(&t->n, cmd));
        cJSON_AddNumberToObject(o, "ms", (double)ms);
        cJSON_AddItemToObject(o, "replies", t->replies);
        t->replies = NULL;
        cli_print_json(o);
        cJSON_Delete(o);
        return;
    }
    if (expect == 0 && routed)
        printf("%s: no live worker holds the selected chargers\n", cmd->def->name);
    else if (expect == 0)
        printf("%s: no live workers are listening on %s\n", cmd->def->name,
               cli_key(c, k, CH_CMD, NULL));
    else {
        struct buf line = BUF_INIT;
        reply_summary(&t->n, cmd, "swarm-cli cancel", &line);
        if (!cmd_scheduled(cmd))
            buf_printf(&line, ", %lld ms", (long long)ms);
        printf("%s\n", buf_cstr(&line));
        buf_free(&line);
    }
    if (t->n.replied < expect)
        printf("  only %d of %lld worker%s replied within %d ms\n", t->n.replied, expect,
               cs_plural(expect), c->timeout_ms);
    if (reply_nothing_matched(&t->n, cmd) && cmd->select && c->fleet.size == 0)
        printf("  the fleet is empty (size 0 in %s): swarm-cli scale N sets its size\n",
               cli_key(c, k, K_FLEET, NULL));
    else if (reply_nothing_matched(&t->n, cmd) && cmd->select) {
        char first[CS_ID_MAX + 1], last[CS_ID_MAX + 1];
        idfmt_format(&c->idf, 1, first, sizeof(first));
        idfmt_format(&c->idf, (uint32_t)c->fleet.size, last, sizeof(last));
        printf("  the fleet has %d charger%s, %s..%s (docs/commands.md: selectors)\n",
               c->fleet.size, cs_plural(c->fleet.size), first, last);
    }
    fputs(buf_cstr(&t->errors), stdout);
    int shown = t->n.lines < ERRORS_SHOWN ? t->n.lines : ERRORS_SHOWN;
    if (t->n.nerr > shown)
        printf("  ... %lld error%s in all (the replies carry up to 10 examples each)\n",
               t->n.nerr, cs_plural(t->n.nerr));
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

int cli_send(struct cli *c, struct cmd *cmd, bool quiet)
{
    struct cs_error err;
    struct tally t = {0};
    int rc = EXIT_OK;

    if (!cli_load_fleet(c))
        return EXIT_REDIS;
    if (cmd->select) {
        struct sel *s = sel_parse(cmd->select, &c->idf, &err);
        if (!s) {
            fprintf(stderr, "swarm-cli: %s\n", err.msg);
            return EXIT_USAGE;
        }
        sel_free(s);
    }
    if (!cmd->id[0]) {
        struct cs_rng rng;
        cs_rng_seed(&rng, cs_seed_entropy());
        snprintf(cmd->id, sizeof(cmd->id), "cli-%08llx",
                 (unsigned long long)(cs_rng_next(&rng) & 0xffffffffULL));
    }
    cmd->ts_ms = cs_now_ms();

    /* Routed when the selector names known chargers: only their owners get it. */
    struct kvlist owners = KVLIST_INIT, live = KVLIST_INIT;
    struct buf to = BUF_INIT, payload = BUF_INIT;
    struct rds_sync *sub = NULL;
    bool routed = false;
    long long expect = 0;
    int64_t t0 = 0;
    buf_init(&t.errors);
    t.replies = cJSON_CreateArray();
    if (cmd->select && !route(c, cmd->select, &owners, &routed, &err))
        goto redis_fail;
    if (routed)
        for (size_t i = 0; i < owners.n; i++)
            buf_printf(&to, "%s%s", i ? "," : "", owners.v[i].key);
    else
        buf_puts(&to, "*");
    if (!(sub = listen_replies(c, &err)))
        goto redis_fail;
    cmd_to_json(cmd, &payload);
    log_cmd(c, cmd, &payload, buf_cstr(&to), quiet);
    if (!cli_live_workers(c, &live, &err))
        goto redis_fail;
    t0 = cs_mono_ms();
    if (!publish(c, routed, &owners, &live, &payload, &expect, &err) ||
        !collect(c, sub, cmd, expect, t0, &t, &err))
        goto redis_fail;
    if (expect == 0 || t.n.nerr || t.n.replied < expect || reply_nothing_matched(&t.n, cmd))
        rc = EXIT_ERRORS;
    if (c->json || !quiet || rc != EXIT_OK)
        print_result(c, cmd, buf_cstr(&to), routed, expect, &t, cs_mono_ms() - t0);
    goto out;
redis_fail:
    rc = cli_redis_fail(&err);
out:
    cJSON_Delete(t.replies);
    buf_free(&t.errors);
    buf_free(&payload);
    buf_free(&to);
    kv_free(&owners);
    kv_free(&live);
    rds_sync_free(sub);
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
    if (cmd.def->flags & CMD_F_INTERNAL) {
        fprintf(stderr, "swarm-cli: '%s' is sent by the coordinator only\n", cmd.def->name);
        cmd_free(&cmd);
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
        const char *a = argv[i];
        if (*a && !strpbrk(a, " \t\"'\\")) {
            buf_puts(b, a);
            continue;
        }
        /* key="value with spaces": quote after the '=' so the key stays a key. */
        const char *eq = strchr(a, '=');
        if (eq && eq != a) {
            buf_append(b, a, (size_t)(eq - a + 1));
            a = eq + 1;
        }
        buf_putc(b, '"');
        for (; *a; a++) {
            if (*a == '"' || *a == '\\')
                buf_putc(b, '\\');
            buf_putc(b, *a);
        }
        buf_putc(b, '"');
    }
}
