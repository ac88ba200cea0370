/* run.c - runs: a named stretch of a load test with its start and end marks, the config (and
 * scenario) it ran with and the fleet's cumulative figures at both ends, kept in Redis:
 *
 *   {ns}:runs               zset  run id -> started_ms
 *   {ns}:run:{id}           hash  the record (run_fields below)
 *   {ns}:run:{id}:base      hash  the fleet's cumulative figures ({ns}:stats) at the start, or
 *                                 at the last `stats reset`
 *   {ns}:run:{id}:end       hash  the same at the end
 *   {ns}:run:{id}:history   stream the run's {ns}:history entries, copied at the end
 *
 * swarm-cli run start|stop|list|show, stats reset. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/util.h"

#define RUN_SCENARIO_MAX (256 * 1024) /* scenario text kept in the record */
#define RUN_HISTORY_CHUNK 1000        /* {ns}:history entries per XRANGE */

/* The fields of a run record, for `run show` and the docs. */
static const struct {
    const char *name, *help;
} run_fields[] = {
    {"id", "the run's id: UTC start time and a random suffix, 20260101-120000-a1b2"},
    {"name", "the name given to `run start` or the scenario's name"},
    {"state", "running, ended (stopped, open transactions ended first) or aborted (--abrupt)"},
    {"started_ms", "when it started (Unix ms)"},
    {"reset_ms", "the last `stats reset`: figures count from here (Unix ms)"},
    {"ended_ms", "when it ended (Unix ms)"},
    {"seed", "the seed it ran with, when one was given"},
    {"by", "who started it (user@host)"},
    {"scenario", "the scenario file's text (up to 256 KiB)"},
    {"scenario_file", "the scenario file's path as given"},
    {"thresholds", "its thresholds, one per line"},
    {"result", "passed or failed, when thresholds were evaluated at its end"},
    {"config", "JSON: {ns}:fleet, {ns}:cfg, the layers and the catalog's names at the start "
               "(secrets masked)"},
    {"end_note", "what the end marks could not include (no coordinator wrote the fleet's "
                 "figures after the stop, ...)"},
};

void run_doc_fields(struct buf *b)
{
    buf_puts(b, "| field | meaning |\n|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(run_fields); i++)
        buf_printf(b, "| `%s` | %s |\n", run_fields[i].name, run_fields[i].help);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool run_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-' || id[i] == '_'))
            return false;
    return true;
}

/* ---- reading runs ------------------------------------------------------------------------ */

bool run_read(struct cli *c, const char *id, struct kvlist *rec, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r = cli_cmd(c->r, CLI_ARRAY, err, "HGETALL %s", cli_key(c, k, K_RUN, id));
    if (!r)
        return false;
    rds_reply_kv(r, rec);
    rds_reply_free(r);
    return true;
}

/* The newest run ("" when none), and whether it is running. */
bool run_latest(struct cli *c, char *id, size_t n, bool *running, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    id[0] = '\0';
    *running = false;
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, err, "ZREVRANGE %s 0 0", cli_key(c, k, K_RUNS, NULL));
    if (!r)
        return false;
    const char *s = rds_reply_len(r) ? rds_reply_str(rds_reply_at(r, 0), NULL) : NULL;
    if (s)
        snprintf(id, n, "%s", s);
    rds_reply_free(r);
    if (!id[0])
        return true;
    struct rds_reply *st = cli_cmd(c->r, CLI_STR, err, "HGET %s state", cli_key(c, k, K_RUN, id));
    if (!st)
        return false;
    const char *state = rds_reply_str(st, NULL);
    *running = state && strcmp(state, "running") == 0;
    rds_reply_free(st);
    return true;
}

bool run_open(struct cli *c, char *id, size_t n, struct cs_error *err)
{
    bool running;
    if (!run_latest(c, id, n, &running, err))
        return false;
    if (!running)
        id[0] = '\0';
    return true;
}

/* ---- the fleet's figures ------------------------------------------------------------------- */

/* updated_ms of {ns}:stats (0 when absent). */
static bool fleet_updated(struct cli *c, int64_t *ms, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r =
        cli_cmd(c->r, CLI_STR, err, "HGET %s updated_ms", cli_key(c, k, K_STATS, NULL));
    if (!r)
        return false;
    const char *s = rds_reply_str(r, NULL);
    *ms = 0;
    if (s)
        cs_parse_i64(s, 0, INT64_MAX, ms);
    rds_reply_free(r);
    return true;
}

/* Waits until the coordinator has written the fleet's figures at or after `after_ms` (so they
 * include every worker's counts up to then). *fresh false when that did not happen within
 * timeout_ms (no coordinator running). */
static bool wait_fleet(struct cli *c, int64_t after_ms, int timeout_ms, bool *fresh,
                       struct cs_error *err)
{
    int64_t deadline = cs_mono_ms() + timeout_ms, ms;
    *fresh = false;
    for (;;) {
        if (!fleet_updated(c, &ms, err))
            return false;
        if (ms >= after_ms) {
            *fresh = true;
            return true;
        }
        if (cs_mono_ms() >= deadline)
            return true;
        sleep_ms(100);
    }
}

/* COPY {ns}:stats to one of a run's hashes (emptied when there are no fleet figures yet). */
static bool copy_fleet(struct cli *c, const char *dst, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r =
        cli_cmd(c->r, CLI_INT, err, "COPY %s %s REPLACE", cli_key(c, k, K_STATS, NULL), dst);
    if (!r)
        return false;
    bool copied = rds_reply_int(r) == 1;
    rds_reply_free(r);
    if (copied)
        return true;
    r = cli_cmd(c->r, CLI_INT, err, "DEL %s", dst);
    rds_reply_free(r);
    return r != NULL;
}

/* ---- the config snapshot ------------------------------------------------------------------- */

static void masked_hash(cJSON *obj, const struct rds_reply *r, const struct cfg_schema *s)
{
    struct kvlist kv = KVLIST_INIT;
    rds_reply_kv(r, &kv);
    for (size_t i = 0; i < kv.n; i++) {
        const struct cfg_def *d = s ? cfg_lookup(s, kv.v[i].key) : NULL;
        cJSON_AddStringToObject(obj, kv.v[i].key,
                                d && (d->flags & CFG_F_SECRET) ? "***" : kv.v[i].val);
    }
    kv_free(&kv);
}

/* JSON of what the fleet runs with: fleet settings, charger defaults, layers, catalog names. */
static bool config_snapshot(struct cli *c, struct buf *out, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    static const unsigned want[] = {CLI_ARRAY};
    struct rds_reply *r[4];
    bool queued = true;
    queued &= rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_FLEET, NULL)) == CS_OK;
    queued &= rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_CFG, NULL)) == CS_OK;
    queued &=
        rds_sync_append(c->r, "ZRANGE %s 0 -1 WITHSCORES", cli_key(c, k, K_LAYERS, NULL)) == CS_OK;
    queued &= rds_sync_append(c->r, "HKEYS %s", cli_key(c, k, K_CATALOG, NULL)) == CS_OK;
    if (!queued) {
        cs_error_set(err, CS_ERR_IO, "cannot queue commands: %s", rds_sync_error(c->r));
        return false;
    }
    if (!cli_read_all(c->r, r, 4, want, 1, err))
        return false;
    cJSON *o = cJSON_CreateObject();
    masked_hash(cJSON_AddObjectToObject(o, "fleet"), r[0], &cfg_fleet_schema);
    masked_hash(cJSON_AddObjectToObject(o, "cfg"), r[1], &cfg_charger_schema);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    bool ok = true;
    for (size_t i = 0; ok && i + 1 < rds_reply_len(r[2]); i += 2) {
        const char *name = rds_reply_str(rds_reply_at(r[2], i), NULL);
        const char *order = rds_reply_str(rds_reply_at(r[2], i + 1), NULL);
        if (!name)
            continue;
        struct rds_reply *h =
            cli_cmd(c->r, CLI_ARRAY, err, "HGETALL %s", cli_key(c, k, K_LAYER, name));
        if (!h) {
            ok = false;
            break;
        }
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", name);
        cJSON_AddNumberToObject(l, "order", order ? atof(order) : 0);
        masked_hash(cJSON_AddObjectToObject(l, "fields"), h, &cfg_charger_schema);
        cJSON_AddItemToArray(layers, l);
        rds_reply_free(h);
    }
    cJSON *cat = cJSON_AddArrayToObject(o, "catalog");
    for (size_t i = 0; i < rds_reply_len(r[3]); i++) {
        const char *n = rds_reply_str(rds_reply_at(r[3], i), NULL);
        if (n)
            cJSON_AddItemToArray(cat, cJSON_CreateString(n));
    }
    char *txt = cJSON_Print(o);
    buf_puts(out, txt ? txt : "{}");
    cJSON_free(txt);
    cJSON_Delete(o);
    cli_free_all(r, 4);
    return ok;
}

/* ---- start --------------------------------------------------------------------------------- */

static void make_id(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    struct cs_rng rng;
    char t[32];
    cs_rng_seed(&rng, cs_seed_entropy());
    gmtime_r(&now, &tm);
    strftime(t, sizeof(t), "%Y%m%d-%H%M%S", &tm);
    snprintf(out, n, "%s-%04x", t, (unsigned)(cs_rng_next(&rng) & 0xffff));
}

static void who(char *out, size_t n)
{
    char host[64] = "";
    const char *user = getenv("USER");
    gethostname(host, sizeof(host) - 1);
    snprintf(out, n, "%s@%s", user && *user ? user : "?", host);
}

/* The millisecond of the last {ns}:cmdlog entry (0 when there is none). A run starts after it:
 * what was sent before the run opened (its own starting settings among them) is not the run's,
 * even when it was logged within the same millisecond. */
static bool last_logged_ms(struct cli *c, int64_t *ms, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, err, "XREVRANGE %s + - COUNT 1", cli_key(c, k, K_CMDLOG, NULL));
    if (!r)
        return false;
    const char *eid =
        rds_reply_len(r) ? rds_reply_str(rds_reply_at(rds_reply_at(r, 0), 0), NULL) : NULL;
    *ms = 0;
    if (eid)
        *ms = strtoll(eid, NULL, 10);
    rds_reply_free(r);
    return true;
}

int run_start(struct cli *c, const struct run_start *s, char *id, size_t idlen)
{
    char k[CS_KEY_MAX], b[CS_KEY_MAX], open[64], num[24], by[128];
    struct cs_error err;
    if (!cli_connect(c))
        return EXIT_REDIS;
    if (!run_open(c, open, sizeof(open), &err))
        return cli_redis_fail(&err);
    if (open[0]) {
        fprintf(stderr, "swarm-cli: run %s is running: stop it first (swarm-cli run stop)\n", open);
        return EXIT_ERRORS;
    }
    if (s->scenario && strlen(s->scenario) > RUN_SCENARIO_MAX) {
        fprintf(stderr, "swarm-cli: the scenario is larger than %d bytes\n", RUN_SCENARIO_MAX);
        return EXIT_USAGE;
    }
    struct buf cfg = BUF_INIT;
    if (!config_snapshot(c, &cfg, &err)) {
        buf_free(&cfg);
        return cli_redis_fail(&err);
    }
    int64_t now = cs_now_ms(), logged;
    if (!last_logged_ms(c, &logged, &err)) {
        buf_free(&cfg);
        return cli_redis_fail(&err);
    }
    /* The run starts in a millisecond after that entry's, and no later than the clock: a start
     * moved ahead of the clock (logged + 1) left the run's own first commands, logged within
     * the same millisecond as the last entry, before its start and out of it. Waits for the
     * clock (a millisecond or two); a log ahead of it by more (another machine's clock) is
     * not waited for. */
    for (int i = 0; i < 20 && now <= logged; i++) {
        sleep_ms(1);
        now = cs_now_ms();
    }
    if (now <= logged)
        now = logged + 1;
    make_id(id, idlen);
    snprintf(num, sizeof(num), "%lld", (long long)now);
    who(by, sizeof(by));
    const char *argv[40];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = cli_key(c, k, K_RUN, id);
#define F(name, val)                                                                               \
    do {                                                                                           \
        argv[argc++] = name;                                                                       \
        argv[argc++] = val;                                                                        \
    } while (0)
    F("id", id);
    F("name", s->name);
    F("state", "running");
    F("started_ms", num);
    F("by", by);
    F("config", buf_cstr(&cfg));
    char seed[24];
    if (s->seed >= 0) {
        snprintf(seed, sizeof(seed), "%lld", (long long)s->seed);
        F("seed", seed);
    }
    if (s->scenario)
        F("scenario", s->scenario);
    if (s->scenario_file)
        F("scenario_file", s->scenario_file);
    if (s->thresholds && *s->thresholds)
        F("thresholds", s->thresholds);
#undef F
    struct rds_reply *r = cli_cmdv(c->r, CLI_INT, &err, argc, argv);
    buf_free(&cfg);
    if (!r)
        return cli_redis_fail(&err);
    rds_reply_free(r);
    if (!copy_fleet(c, cli_key(c, b, K_RUN_BASE, id), &err))
        return cli_redis_fail(&err);
    r = cli_cmd(c->r, CLI_INT, &err, "ZADD %s %s %s", cli_key(c, k, K_RUNS, NULL), num, id);
    if (!r)
        return cli_redis_fail(&err);
    rds_reply_free(r);
    return EXIT_OK;
}

/* ---- stop ---------------------------------------------------------------------------------- */

/* The run's {ns}:history entries, copied under the run (the fleet's stream is trimmed). */
static bool copy_history(struct cli *c, const char *id, int64_t from, int64_t to, size_t *copied,
                         struct cs_error *err)
{
    char k[CS_KEY_MAX], dst[CS_KEY_MAX], start[48], end[32];
    snprintf(start, sizeof(start), "%lld", (long long)from);
    snprintf(end, sizeof(end), "%lld", (long long)to);
    cli_key(c, dst, K_RUN_HISTORY, id);
    struct rds_reply *d = cli_cmd(c->r, CLI_INT, err, "DEL %s", dst);
    if (!d)
        return false;
    rds_reply_free(d);
    *copied = 0;
    for (;;) {
        struct rds_reply *r =
            cli_cmd(c->r, CLI_ARRAY, err, "XRANGE %s %s %s COUNT %d",
                    cli_key(c, k, K_HISTORY, NULL), start, end, RUN_HISTORY_CHUNK);
        if (!r)
            return false;
        size_t n = rds_reply_len(r);
        for (size_t i = 0; i < n; i++) {
            const struct rds_reply *e = rds_reply_at(r, i), *f = rds_reply_at(e, 1);
            const char *eid = rds_reply_str(rds_reply_at(e, 0), NULL);
            size_t nf = rds_reply_len(f);
            if (!eid || nf < 2)
                continue;
            const char **argv = cs_calloc(nf + 3, sizeof(*argv));
            int argc = 0;
            argv[argc++] = "XADD";
            argv[argc++] = dst;
            argv[argc++] = eid;
            for (size_t j = 0; j < nf; j++) {
                const char *s = rds_reply_str(rds_reply_at(f, j), NULL);
                argv[argc++] = s ? s : "";
            }
            struct rds_reply *x = cli_cmdv(c->r, CLI_T(RDS_STRING), err, argc, argv);
            cs_free(argv);
            if (!x) {
                rds_reply_free(r);
                return false;
            }
            rds_reply_free(x);
            (*copied)++;
            snprintf(start, sizeof(start), "(%s", eid);
        }
        rds_reply_free(r);
        if (n < RUN_HISTORY_CHUNK)
            return true;
    }
}

/* Open transactions at the fleet's last write (its `transactions` gauge). */
static bool open_transactions(struct cli *c, long long *n, struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct rds_reply *r =
        cli_cmd(c->r, CLI_STR, err, "HGET %s transactions", cli_key(c, k, K_STATS, NULL));
    if (!r)
        return false;
    const char *s = rds_reply_str(r, NULL);
    int64_t v = 0;
    if (s)
        cs_parse_i64(s, 0, INT64_MAX, &v);
    *n = v;
    rds_reply_free(r);
    return true;
}

int run_stop(struct cli *c, const char *want_id, const struct run_stop *o)
{
    char id[64], k[CS_KEY_MAX], e[CS_KEY_MAX], num[24];
    struct cs_error err;
    if (!cli_connect(c) || !cli_load_fleet(c))
        return EXIT_REDIS;
    if (want_id) {
        struct kvlist rec = KVLIST_INIT;
        if (!run_read(c, want_id, &rec, &err))
            return cli_redis_fail(&err);
        const char *state = kv_get(&rec, "state");
        bool running = state && strcmp(state, "running") == 0;
        kv_free(&rec);
        if (!running) {
            fprintf(stderr, "swarm-cli: run %s is not running\n", want_id);
            return EXIT_ERRORS;
        }
        snprintf(id, sizeof(id), "%s", want_id);
    } else {
        if (!run_open(c, id, sizeof(id), &err))
            return cli_redis_fail(&err);
        if (!id[0]) {
            fprintf(stderr, "swarm-cli: no run is running (swarm-cli run list)\n");
            return EXIT_ERRORS;
        }
    }
    int interval = c->fleet.stats_interval_ms;
    struct buf note = BUF_INIT;
    int rc = EXIT_OK;
    if (!o->abrupt) {
        /* Open transactions end properly first (StopTransaction), as a station would. */
        char line[64];
        snprintf(line, sizeof(line), "stop * reason=%s", o->reason ? o->reason : "Local");
        int src = cli_send_line(c, line, o->quiet);
        if (src == EXIT_REDIS || src == EXIT_USAGE)
            return src;
        int64_t deadline = cs_mono_ms() + (int64_t)o->timeout_s * 1000;
        int64_t since = cs_now_ms();
        long long open = -1;
        bool fresh;
        for (;;) {
            /* a count the workers wrote after the stop */
            if (!wait_fleet(c, since + interval, interval * 3 + 500, &fresh, &err) ||
                !open_transactions(c, &open, &err)) {
                buf_free(&note);
                return cli_redis_fail(&err);
            }
            if ((fresh && open == 0) || cs_mono_ms() >= deadline)
                break;
            since = cs_now_ms();
        }
        if (open > 0) {
            buf_printf(&note, "%lld transactions still open after %d s; ", open, o->timeout_s);
            if (!o->quiet)
                fprintf(stderr, "swarm-cli: %lld transactions still open after %d s\n", open,
                        o->timeout_s);
        }
    }
    /* The end mark: the fleet's figures written after the stop. */
    int64_t end = cs_now_ms();
    bool fresh;
    if (!wait_fleet(c, end + interval, interval * 3 + 5000, &fresh, &err))
        goto redis_fail;
    if (!fresh)
        buf_printf(&note, "no coordinator wrote the fleet's figures after the stop: the end "
                          "figures are the last ones written; ");
    if (!copy_fleet(c, cli_key(c, e, K_RUN_END, id), &err))
        goto redis_fail;
    struct kvlist rec = KVLIST_INIT;
    if (!run_read(c, id, &rec, &err))
        goto redis_fail;
    int64_t from = 0;
    const char *s =
        kv_get(&rec, "reset_ms") ? kv_get(&rec, "reset_ms") : kv_get(&rec, "started_ms");
    if (s)
        cs_parse_i64(s, 0, INT64_MAX, &from);
    kv_free(&rec);
    if (end < from)
        end = from; /* it started after a command logged ahead of this host's clock */
    size_t copied;
    if (!copy_history(c, id, from, end, &copied, &err))
        goto redis_fail;
    snprintf(num, sizeof(num), "%lld", (long long)end);
    if (note.len >= 2)
        note.s[note.len -= 2] = '\0';
    struct rds_reply *r =
        cli_cmd(c->r, CLI_INT, &err, "HSET %s state %s ended_ms %s end_note %s",
                cli_key(c, k, K_RUN, id), o->abrupt ? "aborted" : "ended", num, buf_cstr(&note));
    if (!r)
        goto redis_fail;
    rds_reply_free(r);
    if (!o->quiet)
        printf("run %s %s (%zu history entries kept)%s%s\n", id, o->abrupt ? "aborted" : "ended",
               copied, note.len ? ": " : "", buf_cstr(&note));
    buf_free(&note);
    return rc;
redis_fail:
    buf_free(&note);
    return cli_redis_fail(&err);
}

/* ---- stats reset --------------------------------------------------------------------------- */

int run_reset(struct cli *c, bool quiet)
{
    char id[64], k[CS_KEY_MAX], b[CS_KEY_MAX], num[24];
    struct cs_error err;
    if (!cli_connect(c) || !cli_load_fleet(c))
        return EXIT_REDIS;
    if (!run_open(c, id, sizeof(id), &err))
        return cli_redis_fail(&err);
    if (!id[0]) {
        fprintf(stderr, "swarm-cli: no run is running: a reset starts a run's figures again "
                        "(swarm-cli run start NAME)\n");
        return EXIT_ERRORS;
    }
    int64_t now = cs_now_ms();
    bool fresh;
    if (!wait_fleet(c, now, c->fleet.stats_interval_ms * 3 + 2000, &fresh, &err) ||
        !copy_fleet(c, cli_key(c, b, K_RUN_BASE, id), &err))
        return cli_redis_fail(&err);
    snprintf(num, sizeof(num), "%lld", (long long)now);
    struct rds_reply *r =
        cli_cmd(c->r, CLI_INT, &err, "HSET %s reset_ms %s", cli_key(c, k, K_RUN, id), num);
    if (!r)
        return cli_redis_fail(&err);
    rds_reply_free(r);
    if (!quiet)
        printf("run %s: figures count from now on%s\n", id,
               fresh ? ""
                     : " (no coordinator wrote the fleet's figures: the base is the last "
                       "ones written)");
    return EXIT_OK;
}

/* ---- list, show ---------------------------------------------------------------------------- */

static int run_list(struct cli *c)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    if (!cli_connect(c))
        return EXIT_REDIS;
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, &err, "ZREVRANGE %s 0 99", cli_key(c, k, K_RUNS, NULL));
    if (!r)
        return cli_redis_fail(&err);
    cJSON *arr = cJSON_CreateArray();
    if (!c->json)
        printf("%-22s %-8s %-24s %-24s %s\n", "ID", "STATE", "STARTED", "ENDED", "NAME");
    int rc = EXIT_OK;
    for (size_t i = 0; i < rds_reply_len(r); i++) {
        const char *id = rds_reply_str(rds_reply_at(r, i), NULL);
        struct kvlist rec = KVLIST_INIT;
        if (!id)
            continue;
        if (!run_read(c, id, &rec, &err)) {
            rc = cli_redis_fail(&err);
            break;
        }
        const char *state = kv_get(&rec, "state"), *name = kv_get(&rec, "name");
        int64_t s = 0, e = 0;
        if (kv_get(&rec, "started_ms"))
            cs_parse_i64(kv_get(&rec, "started_ms"), 0, INT64_MAX, &s);
        if (kv_get(&rec, "ended_ms"))
            cs_parse_i64(kv_get(&rec, "ended_ms"), 0, INT64_MAX, &e);
        if (c->json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", id);
            cJSON_AddStringToObject(o, "name", name ? name : "");
            cJSON_AddStringToObject(o, "state", state ? state : "");
            cJSON_AddNumberToObject(o, "started_ms", (double)s);
            cJSON_AddNumberToObject(o, "ended_ms", (double)e);
            if (kv_get(&rec, "result"))
                cJSON_AddStringToObject(o, "result", kv_get(&rec, "result"));
            cJSON_AddItemToArray(arr, o);
        } else {
            char st[32] = "-", en[32] = "-";
            if (s)
                cs_fmt_iso8601(st, sizeof(st), s);
            if (e)
                cs_fmt_iso8601(en, sizeof(en), e);
            printf("%-22s %-8s %-24s %-24s %s\n", id, state ? cli_safe(state) : "?", st, en,
                   cli_safe(name));
        }
        kv_free(&rec);
    }
    rds_reply_free(r);
    if (c->json && rc == EXIT_OK) {
        char *t = cJSON_PrintUnformatted(arr);
        printf("%s\n", t);
        cJSON_free(t);
    }
    cJSON_Delete(arr);
    return rc;
}

static int run_show(struct cli *c, const char *want)
{
    char id[64];
    bool running;
    struct cs_error err;
    if (!cli_connect(c))
        return EXIT_REDIS;
    if (want) {
        snprintf(id, sizeof(id), "%s", want);
    } else {
        if (!run_latest(c, id, sizeof(id), &running, &err))
            return cli_redis_fail(&err);
        if (!id[0]) {
            fprintf(stderr, "swarm-cli: no runs yet (swarm-cli run start NAME)\n");
            return EXIT_ERRORS;
        }
    }
    struct kvlist rec = KVLIST_INIT;
    if (!run_read(c, id, &rec, &err))
        return cli_redis_fail(&err);
    if (!rec.n) {
        fprintf(stderr, "swarm-cli: no run %s (swarm-cli run list)\n", id);
        kv_free(&rec);
        return EXIT_ERRORS;
    }
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < rec.n; i++)
            cJSON_AddStringToObject(o, rec.v[i].key, rec.v[i].val);
        char *t = cJSON_PrintUnformatted(o);
        printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(o);
    } else {
        for (size_t f = 0; f < ARRAY_SIZE(run_fields); f++) {
            const char *v = kv_get(&rec, run_fields[f].name);
            if (!v || !*v)
                continue;
            if (strcmp(run_fields[f].name, "config") == 0 ||
                strcmp(run_fields[f].name, "scenario") == 0) {
                printf("%s: (%zu bytes: --json shows it)\n", run_fields[f].name, strlen(v));
                continue;
            }
            printf("%s: %s\n", run_fields[f].name, cli_safe(v));
        }
    }
    kv_free(&rec);
    return EXIT_OK;
}

/* ---- the subcommands ----------------------------------------------------------------------- */

static void run_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: swarm-cli run start NAME [--seed N]\n"
        "       swarm-cli run stop [--run ID] [--abrupt] [--reason R] [--timeout S]\n"
        "       swarm-cli run list [--json]\n"
        "       swarm-cli run show [ID] [--json]\n"
        "       swarm-cli run [--check] FILE [--threshold EXPR]... [--format F] [--out FILE]\n"
        "\n"
        "A run marks a stretch of the load test: its start and end, the config (and scenario)\n"
        "it ran with, and the fleet's cumulative figures at both ends, kept in Redis so\n"
        "`swarm-cli report` can read it at any time (docs/results.md).\n"
        "  start NAME   opens a run (one at a time); --seed N is recorded with it\n"
        "  stop         ends the running run: first `stop * reason=R` (default Local) ends\n"
        "               the open transactions with a StopTransaction and waits until none is\n"
        "               open (at most --timeout S, default 30); --abrupt skips that and marks\n"
        "               the run aborted\n"
        "  list         the last 100 runs, newest first\n"
        "  show         one run's record (the newest without ID)\n"
        "  FILE         runs a scenario file (docs/results.md, \"Scenarios\"): the run, its\n"
        "               stages, a progress line, the report at the end, the exit status by its\n"
        "               thresholds; --check only validates the file\n"
        "\n"
        "See also: swarm-cli stats reset (drop the warm-up), swarm-cli report.\n");
}

int cmd_run(struct cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        run_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "start") == 0) {
        enum { OPT_SEED = 1 };
        static const struct option opts[] = {{"seed", required_argument, NULL, OPT_SEED},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        struct run_start s = {.seed = -1};
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
            switch (opt) {
            case OPT_SEED:
                if (!cs_parse_i64(optarg, 0, 2147483647, &s.seed)) {
                    fprintf(stderr, "swarm-cli run start: --seed: 0..2147483647\n");
                    return EXIT_USAGE;
                }
                break;
            case 'h':
                run_usage(stdout);
                return EXIT_OK;
            default:
                return EXIT_USAGE;
            }
        }
        if (optind + 1 != argc - 1 || !*argv[optind + 1]) {
            fprintf(stderr, "Usage: swarm-cli run start NAME [--seed N]\n");
            return EXIT_USAGE;
        }
        s.name = argv[optind + 1];
        if (strlen(s.name) > 127) {
            fprintf(stderr, "swarm-cli run start: the name is longer than 127 characters\n");
            return EXIT_USAGE;
        }
        char id[64];
        int rc = run_start(c, &s, id, sizeof(id));
        if (rc == EXIT_OK) {
            if (c->json)
                printf("{\"id\":\"%s\"}\n", id);
            else
                printf("run %s started\n", id);
        }
        return rc;
    }
    if (strcmp(verb, "stop") == 0) {
        enum { OPT_ABRUPT = 1, OPT_TIMEOUT, OPT_RUN, OPT_REASON };
        static const struct option opts[] = {{"abrupt", no_argument, NULL, OPT_ABRUPT},
                                             {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                             {"run", required_argument, NULL, OPT_RUN},
                                             {"reason", required_argument, NULL, OPT_REASON},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        struct run_stop o = {.timeout_s = 30};
        const char *id = NULL;
        int64_t v;
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
            switch (opt) {
            case OPT_ABRUPT:
                o.abrupt = true;
                break;
            case OPT_TIMEOUT:
                if (!cs_parse_i64(optarg, 0, 3600, &v)) {
                    fprintf(stderr, "swarm-cli run stop: --timeout: 0..3600 seconds\n");
                    return EXIT_USAGE;
                }
                o.timeout_s = (int)v;
                break;
            case OPT_RUN:
                if (!run_id_valid(optarg)) {
                    fprintf(stderr, "swarm-cli run stop: --run: '%s' is not a run id\n", optarg);
                    return EXIT_USAGE;
                }
                id = optarg;
                break;
            case OPT_REASON:
                o.reason = optarg;
                break;
            case 'h':
                run_usage(stdout);
                return EXIT_OK;
            default:
                return EXIT_USAGE;
            }
        }
        if (optind + 1 != argc) {
            fprintf(stderr, "swarm-cli run stop: unexpected argument '%s'\n", argv[optind + 1]);
            return EXIT_USAGE;
        }
        return run_stop(c, id, &o);
    }
    if (strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0) {
        const char *id = NULL;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--json") == 0) {
                c->json = true;
            } else if (strcmp(verb, "show") == 0 && !id && run_id_valid(argv[i])) {
                id = argv[i];
            } else {
                fprintf(stderr, "swarm-cli run %s: unexpected argument '%s'\n", verb, argv[i]);
                return EXIT_USAGE;
            }
        }
        return verb[0] == 'l' ? run_list(c) : run_show(c, id);
    }
    return cmd_scenario(c, argc, argv);
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "reset") == 0)
        return run_reset(c, false);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: swarm-cli stats reset\n\n"
               "Drops what the running run counted so far (a warm-up): its figures count from\n"
               "now on (a new base); nothing restarts, the workers' and the fleet's counters go\n"
               "on. The run's record keeps the moment as reset_ms.\n");
        return EXIT_OK;
    }
    fprintf(stderr, "Usage: swarm-cli stats reset\n");
    return EXIT_USAGE;
}
