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
#include "cs/rset.h"
#include "cs/selector.h"
#include "cs/util.h"

bool cli_connect(struct cli *c)
{
    struct cs_error err;
    if (c->r)
        return true;
    c->r = rds_sync_connect(&c->common.url, 3000, &err);
    if (!c->r) {
        fprintf(stderr, "swarm-cli: %s\n", err.msg);
        return false;
    }
    return true;
}

const char *cli_key(struct cli *c, char *out, enum cs_key k, const char *arg)
{
    return cs_key(out, c->common.ns, k, arg);
}

bool cli_load_fleet(struct cli *c)
{
    char k[CS_KEY_MAX];
    if (c->fleet_loaded)
        return true;
    if (!cli_connect(c))
        return false;
    cfg_defaults(&cfg_fleet_schema, &c->fleet);
    struct rds_reply *r = rds_sync_cmd(c->r, "HGETALL %s", cli_key(c, k, K_FLEET, NULL));
    if (!r) {
        fprintf(stderr, "swarm-cli: Redis: %s\n", rds_sync_error(c->r));
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

void cli_live_workers(struct cli *c, struct kvlist *out)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r = rds_sync_cmd(c->r, "ZRANGE %s 0 -1", cli_key(c, k, K_AGENTS, NULL));
    size_t n = rds_reply_len(r);
    for (size_t i = 0; i < n; i++)
        rds_sync_append(c->r, "EXISTS %s",
                        cli_key(c, k, K_AGENT, rds_reply_str(rds_reply_at(r, i), NULL)));
    for (size_t i = 0; i < n; i++) {
        struct rds_reply *e = NULL;
        if (rds_sync_read(c->r, 3000, &e) == CS_OK && rds_reply_int(e) == 1)
            kv_set(out, rds_reply_str(rds_reply_at(r, i), NULL), "1");
        rds_reply_free(e);
    }
    rds_reply_free(r);
}

struct tally {
    int replied, with_match;
    long long matched, done;
    int nerr;
    struct buf errors; /* human lines */
    cJSON *replies;    /* array of reply objects */
};

static void tally_reply(struct tally *t, cJSON *obj)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(obj, "worker");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "matched");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(obj, "done");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(obj, "errors");
    t->replied++;
    if (cJSON_IsNumber(m)) {
        t->matched += (long long)m->valuedouble;
        t->with_match += m->valuedouble > 0;
    }
    if (cJSON_IsNumber(d))
        t->done += (long long)d->valuedouble;
    const cJSON *e;
    cJSON_ArrayForEach(e, errs)
    {
        if (!cJSON_IsString(e))
            continue;
        t->nerr++;
        if (t->nerr <= 20)
            buf_printf(&t->errors, "  %s: %s\n", cJSON_IsString(w) ? w->valuestring : "?",
                       e->valuestring);
    }
}

/* Workers whose assignment intersects the selector's indexes, when the selector is only IDs
 * and ranges; false (broadcast) otherwise. */
static bool route(struct cli *c, const char *select, struct kvlist *owners)
{
    char k[CS_KEY_MAX];
    struct rset want = RSET_INIT, have = RSET_INIT, both = RSET_INIT;
    struct sel *s = sel_parse(select, &c->idf, NULL);
    bool ok = s && sel_index_set(s, &want);
    sel_free(s);
    if (ok) {
        struct kvlist assign = KVLIST_INIT;
        struct rds_reply *r = rds_sync_cmd(c->r, "HGETALL %s", cli_key(c, k, K_ASSIGN, NULL));
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
        ok = owners->n > 0;
    }
    rset_free(&want);
    rset_free(&have);
    rset_free(&both);
    return ok;
}

int cli_send(struct cli *c, struct cmd *cmd, bool quiet)
{
    char k[CS_KEY_MAX], rk[CS_KEY_MAX];
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
    bool routed = cmd->select && route(c, cmd->select, &owners);
    struct buf to = BUF_INIT;
    if (routed)
        for (size_t i = 0; i < owners.n; i++)
            buf_printf(&to, "%s%s", i ? "," : "", owners.v[i].key);
    else
        buf_puts(&to, "*");

    /* Logged first: a worker that misses the PUBLISH catches up from {ns}:cmdlog. */
    struct buf payload = BUF_INIT;
    cmd_to_json(cmd, &payload);
    struct rds_reply *r = rds_sync_cmd(c->r, "XADD %s MAXLEN ~ %d * id %s cmd %b to %s",
                                       cli_key(c, k, K_CMDLOG, NULL), CS_CMDLOG_MAX, cmd->id,
                                       payload.s, payload.len, buf_cstr(&to));
    const char *log_id = rds_reply_type(r) == RDS_STRING ? rds_reply_str(r, NULL) : NULL;
    if (log_id) {
        cs_strlcpy(cmd->log_id, log_id, sizeof(cmd->log_id));
        buf_reset(&payload);
        cmd_to_json(cmd, &payload);
    } else if (!quiet) {
        fprintf(stderr, "swarm-cli: not logged in %s (%s): delivery is at most once\n", k,
                r ? rds_reply_str(r, NULL) : rds_sync_error(c->r));
    }
    rds_reply_free(r);

    /* Listen before publishing so no reply is missed. */
    struct rds_sync *sub = rds_sync_connect(&c->common.url, 3000, &err);
    if (!sub) {
        fprintf(stderr, "swarm-cli: %s\n", err.msg);
        buf_free(&payload);
        buf_free(&to);
        kv_free(&owners);
        return EXIT_REDIS;
    }
    rds_reply_free(rds_sync_cmd(sub, "SUBSCRIBE %s", cli_key(c, rk, CH_REPLY, NULL)));

    cli_live_workers(c, &live);
    int64_t t0 = cs_mono_ms();
    long long expect = 0;
    if (routed) {
        for (size_t i = 0; i < owners.n; i++) {
            if (!kv_get(&live, owners.v[i].key))
                continue;
            r = rds_sync_cmd(c->r, "PUBLISH %s %b", cli_key(c, k, CH_CMD_W, owners.v[i].key),
                             payload.s, payload.len);
            expect += rds_reply_int(r) > 0;
            rds_reply_free(r);
        }
    } else {
        r = rds_sync_cmd(c->r, "PUBLISH %s %b", cli_key(c, k, CH_CMD, NULL), payload.s,
                         payload.len);
        long long receivers = rds_reply_int(r);
        rds_reply_free(r);
        expect = (long long)live.n < receivers ? (long long)live.n : receivers;
    }

    buf_init(&t.errors);
    t.replies = cJSON_CreateArray();
    while (t.replied < expect) {
        int left = c->timeout_ms - (int)(cs_mono_ms() - t0);
        struct rds_reply *m = NULL;
        if (left <= 0 || rds_sync_read(sub, left, &m) != CS_OK)
            break;
        const char *kind = rds_reply_str(rds_reply_at(m, 0), NULL);
        size_t len = 0;
        const char *body = rds_reply_str(rds_reply_at(m, 2), &len);
        if (kind && strcmp(kind, "message") == 0 && body) {
            cJSON *obj = cJSON_ParseWithLength(body, len);
            const cJSON *id = obj ? cJSON_GetObjectItemCaseSensitive(obj, "id") : NULL;
            const cJSON *run = obj ? cJSON_GetObjectItemCaseSensitive(obj, "run") : NULL;
            /* Runs of a scheduled command come later under the same id: not ours to count. */
            if (cJSON_IsString(id) && strcmp(id->valuestring, cmd->id) == 0 && !run) {
                tally_reply(&t, obj);
                cJSON_AddItemToArray(t.replies, obj);
                obj = NULL;
            }
            cJSON_Delete(obj);
        }
        rds_reply_free(m);
    }
    int64_t ms = cs_mono_ms() - t0;

    if (expect == 0 || t.nerr || t.replied < expect)
        rc = EXIT_ERRORS;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", cmd->id);
        cJSON_AddStringToObject(o, "cmd", cmd->def->name);
        cJSON_AddStringToObject(o, "to", buf_cstr(&to));
        if (cmd->log_id[0])
            cJSON_AddStringToObject(o, "log", cmd->log_id);
        cJSON_AddNumberToObject(o, "workers_expected", (double)expect);
        cJSON_AddNumberToObject(o, "workers_replied", t.replied);
        cJSON_AddNumberToObject(o, "matched", (double)t.matched);
        cJSON_AddNumberToObject(o, "done", (double)t.done);
        cJSON_AddNumberToObject(o, "errors", t.nerr);
        cJSON_AddNumberToObject(o, "ms", (double)ms);
        cJSON_AddItemToObject(o, "replies", t.replies);
        t.replies = NULL;
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else if (!quiet || rc != EXIT_OK) {
        if (expect == 0 && routed)
            printf("%s: no live worker holds the selected chargers\n", cmd->def->name);
        else if (expect == 0)
            printf("%s: no live workers are listening on %s\n", cmd->def->name,
                   cli_key(c, k, CH_CMD, NULL));
        else if (cmd_scheduled(cmd) && cmd->every_ms)
            printf("%s: scheduled on %d worker%s, repeating (stop it: swarm-cli cancel %s), %d "
                   "error%s\n",
                   cmd->def->name, t.replied, t.replied == 1 ? "" : "s", cmd->id, t.nerr,
                   t.nerr == 1 ? "" : "s");
        else if (cmd_scheduled(cmd))
            printf("%s: scheduled on %d worker%s, %d error%s\n", cmd->def->name, t.replied,
                   t.replied == 1 ? "" : "s", t.nerr, t.nerr == 1 ? "" : "s");
        else
            printf("%s: %lld charger%s on %d worker%s, %lld done, %d error%s, %lld ms\n",
                   cmd->def->name, t.matched, t.matched == 1 ? "" : "s", t.with_match,
                   t.with_match == 1 ? "" : "s", t.done, t.nerr, t.nerr == 1 ? "" : "s",
                   (long long)ms);
        if (t.replied < expect)
            printf("  only %d of %lld workers replied within %d ms\n", t.replied, expect,
                   c->timeout_ms);
        fputs(buf_cstr(&t.errors), stdout);
        if (t.nerr > 20)
            printf("  ... and %d more errors\n", t.nerr - 20);
    }
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
    cli_live_workers(c, &live);
    size_t n = live.n;
    kv_free(&live);
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
