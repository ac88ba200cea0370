/* status.c - what the fleet is doing: status, agents, watch. */
#include <getopt.h>
#include <signal.h>
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

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct wrow {
    char name[96];
    struct kvlist agent, stats;
    double out_rate, in_rate;
    long long pttl;
};

static long long num(const struct kvlist *kv, const char *k)
{
    const char *v = kv_get(kv, k);
    int64_t x;
    return v && cs_parse_i64(v, INT64_MIN, INT64_MAX, &x) ? x : 0;
}

static double dnum(const struct kvlist *kv, const char *k)
{
    const char *v = kv_get(kv, k);
    double x;
    return v && cs_parse_double(v, -1e300, 1e300, &x) ? x : 0;
}

/* Rate of a counter between the two newest entries of a stats stream. */
static void stream_rates(const struct rds_reply *r, double *out_rate, double *in_rate)
{
    *out_rate = *in_rate = 0;
    if (rds_reply_len(r) < 2)
        return;
    struct kvlist a = KVLIST_INIT, b = KVLIST_INIT;
    const struct rds_reply *e0 = rds_reply_at(r, 0), *e1 = rds_reply_at(r, 1);
    rds_reply_kv(rds_reply_at(e0, 1), &a);
    rds_reply_kv(rds_reply_at(e1, 1), &b);
    double dt = (double)(num(&a, "updated_ms") - num(&b, "updated_ms")) / 1000.0;
    if (dt > 0) {
        *out_rate = (double)(num(&a, "msgs_out") - num(&b, "msgs_out")) / dt;
        *in_rate = (double)(num(&a, "msgs_in") - num(&b, "msgs_in")) / dt;
    }
    kv_free(&a);
    kv_free(&b);
}

struct snapshot {
    struct kvlist fleet, fstats;
    char leader[128];
    struct wrow *w;
    size_t n;
};

static void snap_free(struct snapshot *s)
{
    kv_free(&s->fleet);
    kv_free(&s->fstats);
    for (size_t i = 0; i < s->n; i++) {
        kv_free(&s->w[i].agent);
        kv_free(&s->w[i].stats);
    }
    cs_free(s->w);
    memset(s, 0, sizeof(*s));
}

static bool take_snapshot(struct cli *c, struct snapshot *s)
{
    char k[CS_KEY_MAX];
    struct kvlist live = KVLIST_INIT;
    struct rds_reply *r;

    memset(s, 0, sizeof(*s));
    r = rds_sync_cmd(c->r, "HGETALL %s", cli_key(c, k, K_FLEET, NULL));
    if (!r)
        return false;
    rds_reply_kv(r, &s->fleet);
    rds_reply_free(r);
    r = rds_sync_cmd(c->r, "HGETALL %s", cli_key(c, k, K_STATS, NULL));
    rds_reply_kv(r, &s->fstats);
    rds_reply_free(r);
    r = rds_sync_cmd(c->r, "GET %s", cli_key(c, k, K_COORDINATOR, NULL));
    const char *leader = rds_reply_str(r, NULL);
    snprintf(s->leader, sizeof(s->leader), "%s", leader ? leader : "");
    rds_reply_free(r);

    cli_live_workers(c, &live);
    s->w = cs_calloc(live.n ? live.n : 1, sizeof(*s->w));
    s->n = live.n;
    for (size_t i = 0; i < live.n; i++) {
        const char *name = live.v[i].key;
        snprintf(s->w[i].name, sizeof(s->w[i].name), "%s", name);
        rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_AGENT, name));
        rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_STATS_W, name));
        rds_sync_append(c->r, "XREVRANGE %s + - COUNT 2", cli_key(c, k, K_TS_W, name));
        rds_sync_append(c->r, "PTTL %s", cli_key(c, k, K_AGENT, name));
    }
    for (size_t i = 0; i < live.n; i++) {
        struct rds_reply *a = NULL, *st = NULL, *ts = NULL, *ttl = NULL;
        rds_sync_read(c->r, 3000, &a);
        rds_sync_read(c->r, 3000, &st);
        rds_sync_read(c->r, 3000, &ts);
        rds_sync_read(c->r, 3000, &ttl);
        rds_reply_kv(a, &s->w[i].agent);
        rds_reply_kv(st, &s->w[i].stats);
        stream_rates(ts, &s->w[i].out_rate, &s->w[i].in_rate);
        s->w[i].pttl = rds_reply_int(ttl);
        rds_reply_free(a);
        rds_reply_free(st);
        rds_reply_free(ts);
        rds_reply_free(ttl);
    }
    kv_free(&live);
    return true;
}

struct totals {
    long long chargers, connected, connecting, offline, disabled, errors, out, in, rss_kb;
    double out_rate, in_rate;
};

static long long errors_of(const struct kvlist *st)
{
    return num(st, "publish_errors") + num(st, "connect_failures");
}

static void sum(const struct snapshot *s, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *st = &s->w[i].stats;
        t->chargers += num(st, "assigned");
        t->connected += num(st, "connected");
        t->connecting += num(st, "connecting");
        t->offline += num(st, "offline");
        t->disabled += num(st, "disabled");
        t->errors += errors_of(st);
        t->out += num(st, "msgs_out");
        t->in += num(st, "msgs_in");
        t->rss_kb += num(st, "rss_kb");
        t->out_rate += s->w[i].out_rate;
        t->in_rate += s->w[i].in_rate;
    }
}

static void print_json(const struct snapshot *s)
{
    struct totals t;
    sum(s, &t);
    cJSON *o = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(o, "fleet");
    cJSON_AddNumberToObject(f, "size", (double)num(&s->fleet, "size"));
    cJSON_AddNumberToObject(f, "capacity", (double)num(&s->fstats, "capacity"));
    cJSON_AddNumberToObject(f, "unassigned", (double)num(&s->fstats, "unassigned"));
    cJSON_AddNumberToObject(f, "epoch", (double)num(&s->fstats, "epoch"));
    cJSON_AddStringToObject(f, "coordinator", s->leader);
    cJSON_AddNumberToObject(f, "workers", (double)s->n);
    cJSON_AddNumberToObject(f, "chargers", (double)t.chargers);
    cJSON_AddNumberToObject(f, "connected", (double)t.connected);
    cJSON_AddNumberToObject(f, "connecting", (double)t.connecting);
    cJSON_AddNumberToObject(f, "offline", (double)t.offline);
    cJSON_AddNumberToObject(f, "disabled", (double)t.disabled);
    cJSON_AddNumberToObject(f, "msgs_out", (double)t.out);
    cJSON_AddNumberToObject(f, "msgs_in", (double)t.in);
    cJSON_AddNumberToObject(f, "out_per_s", t.out_rate);
    cJSON_AddNumberToObject(f, "in_per_s", t.in_rate);
    cJSON_AddNumberToObject(f, "errors", (double)t.errors);
    cJSON *arr = cJSON_AddArrayToObject(o, "workers");
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *st = &s->w[i].stats, *ag = &s->w[i].agent;
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "name", s->w[i].name);
        cJSON_AddStringToObject(w, "host", kv_get(ag, "host") ? kv_get(ag, "host") : "");
        cJSON_AddNumberToObject(w, "pid", (double)num(ag, "pid"));
        cJSON_AddNumberToObject(w, "capacity", (double)num(ag, "capacity"));
        cJSON_AddStringToObject(w, "held", kv_get(ag, "held") ? kv_get(ag, "held") : "");
        cJSON_AddNumberToObject(w, "lease_ms_left", (double)s->w[i].pttl);
        cJSON_AddNumberToObject(w, "chargers", (double)num(st, "assigned"));
        cJSON_AddNumberToObject(w, "connected", (double)num(st, "connected"));
        cJSON_AddNumberToObject(w, "connecting", (double)num(st, "connecting"));
        cJSON_AddNumberToObject(w, "offline", (double)num(st, "offline"));
        cJSON_AddNumberToObject(w, "msgs_out", (double)num(st, "msgs_out"));
        cJSON_AddNumberToObject(w, "msgs_in", (double)num(st, "msgs_in"));
        cJSON_AddNumberToObject(w, "out_per_s", s->w[i].out_rate);
        cJSON_AddNumberToObject(w, "in_per_s", s->w[i].in_rate);
        cJSON_AddNumberToObject(w, "errors", (double)errors_of(st));
        cJSON_AddNumberToObject(w, "ack_p50_ms", dnum(st, "ack_p50_ms"));
        cJSON_AddNumberToObject(w, "ack_p99_ms", dnum(st, "ack_p99_ms"));
        cJSON_AddNumberToObject(w, "rss_kb", (double)num(st, "rss_kb"));
        cJSON_AddItemToArray(arr, w);
    }
    char *txt = cJSON_PrintUnformatted(o);
    printf("%s\n", txt);
    fflush(stdout);
    cJSON_free(txt);
    cJSON_Delete(o);
}

static void print_human(const struct snapshot *s)
{
    struct totals t;
    sum(s, &t);
    long long size = num(&s->fleet, "size");
    printf("fleet       %lld chargers, %lld running on %zu workers, capacity %lld, unassigned %lld\n",
           size, t.chargers, s->n, num(&s->fstats, "capacity"), num(&s->fstats, "unassigned"));
    printf("connected   %lld  connecting %lld  offline %lld  disabled %lld\n", t.connected,
           t.connecting, t.offline, t.disabled);
    printf("messages    out %.1f/s (%lld total)  in %.1f/s (%lld total)  errors %lld\n",
           t.out_rate, t.out, t.in_rate, t.in, t.errors);
    printf("latency     ack p50 %.1f ms  p99 %.1f ms   command p50 %.1f ms  p99 %.1f ms\n",
           dnum(&s->fstats, "ack_p50_ms"), dnum(&s->fstats, "ack_p99_ms"),
           dnum(&s->fstats, "cmd_p50_ms"), dnum(&s->fstats, "cmd_p99_ms"));
    printf("coordinator %s   epoch %lld\n\n", s->leader[0] ? s->leader : "(none)",
           num(&s->fstats, "epoch"));
    if (size > 0 && num(&s->fstats, "capacity") < size && s->n)
        printf("warning: fleet exceeds the live capacity; start more workers or agents\n\n");
    printf("%-24s %8s %9s %10s %8s %9s %8s %7s %8s\n", "WORKER", "CHARGERS", "CONNECTED",
           "CONNECTING", "OFFLINE", "OUT/S", "IN/S", "ERRORS", "RSS MiB");
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *st = &s->w[i].stats;
        printf("%-24s %8lld %9lld %10lld %8lld %9.1f %8.1f %7lld %8.1f\n", s->w[i].name,
               num(st, "assigned"), num(st, "connected"), num(st, "connecting"),
               num(st, "offline"), s->w[i].out_rate, s->w[i].in_rate, errors_of(st),
               (double)num(st, "rss_kb") / 1024.0);
    }
    if (s->n == 0)
        printf("(no live workers: start swarm-agent)\n");
    fflush(stdout);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    enum { OPT_WATCH = 1, OPT_INTERVAL, OPT_JSON };
    static const struct option opts[] = {{"watch", no_argument, NULL, OPT_WATCH},
                                         {"interval", required_argument, NULL, OPT_INTERVAL},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool watch = false;
    double interval = 1.0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_WATCH: watch = true; break;
        case OPT_INTERVAL:
            if (!cs_parse_double(optarg, 0.1, 3600, &interval)) {
                fprintf(stderr, "swarm-cli status: --interval: 0.1..3600 seconds\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_JSON: c->json = true; break;
        case 'h':
            printf("Usage: swarm-cli status [--watch [--interval S]] [--json]\n"
                   "       swarm-cli status SEL STATUS [connector=N] [errorCode=CODE]\n\n"
                   "Without arguments: fleet summary and one row per live worker; --watch\n"
                   "refreshes until Ctrl-C. With a selector: sets the OCPP status of the selected\n"
                   "chargers (the `status` fleet command).\n");
            return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        /* `status SEL STATUS ...`: the fleet verb that sets connector status. */
        struct buf line = BUF_INIT;
        buf_puts(&line, "status ");
        cli_join_args(&line, argc - optind, argv + optind);
        int rc = cli_send_line(c, buf_cstr(&line), false);
        buf_free(&line);
        return rc;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    bool tty = isatty(STDOUT_FILENO);
    do {
        struct snapshot s;
        if (!take_snapshot(c, &s)) {
            fprintf(stderr, "swarm-cli: Redis: %s\n", rds_sync_error(c->r));
            snap_free(&s);
            return EXIT_REDIS;
        }
        if (watch && tty && !c->json)
            printf("\033[H\033[2J");
        if (c->json)
            print_json(&s);
        else
            print_human(&s);
        if (watch && !c->json) {
            char ts[32];
            printf("\n%s  (every %.1fs, Ctrl-C to stop)\n", cs_fmt_iso8601(ts, sizeof(ts), cs_now_ms()),
                   interval);
            fflush(stdout);
        }
        snap_free(&s);
        if (!watch)
            break;
        struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
        nanosleep(&ts, NULL);
    } while (!interrupted);
    return EXIT_OK;
}

int cmd_agents(struct cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: swarm-cli agents [--json]\n\nLive workers: host, pid, capacity, held "
               "index ranges, lease time left.\n");
        return EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "--json") == 0)
        c->json = true;
    if (!cli_connect(c))
        return EXIT_REDIS;
    struct snapshot s;
    if (!take_snapshot(c, &s)) {
        fprintf(stderr, "swarm-cli: Redis: %s\n", rds_sync_error(c->r));
        return EXIT_REDIS;
    }
    if (c->json) {
        print_json(&s);
    } else {
        printf("%-24s %-16s %7s %8s %8s %9s %9s  %s\n", "WORKER", "HOST", "PID", "CAPACITY",
               "CHARGERS", "CONNECTED", "LEASE MS", "HELD");
        for (size_t i = 0; i < s.n; i++) {
            const struct kvlist *ag = &s.w[i].agent;
            printf("%-24s %-16s %7lld %8lld %8lld %9lld %9lld  %s\n", s.w[i].name,
                   kv_get(ag, "host") ? kv_get(ag, "host") : "", num(ag, "pid"),
                   num(ag, "capacity"), num(ag, "chargers"), num(&s.w[i].stats, "connected"),
                   s.w[i].pttl, kv_get(ag, "held") ? kv_get(ag, "held") : "");
        }
    }
    snap_free(&s);
    return EXIT_OK;
}

int cmd_watch(struct cli *c, int argc, char **argv)
{
    char rk[CS_KEY_MAX], ek[CS_KEY_MAX];
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: swarm-cli watch\n\nPrints replies and events as they arrive, until "
               "Ctrl-C.\n");
        return EXIT_OK;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    struct rds_reply *r = rds_sync_cmd(c->r, "SUBSCRIBE %s %s", cli_key(c, rk, CH_REPLY, NULL),
                                       cli_key(c, ek, CH_EVENTS, NULL));
    rds_reply_free(r);
    while (!interrupted) {
        struct rds_reply *m = NULL;
        int rc = rds_sync_read(c->r, 500, &m);
        if (rc == CS_ERR_IO) {
            fprintf(stderr, "swarm-cli: Redis: %s\n", rds_sync_error(c->r));
            return EXIT_REDIS;
        }
        if (rc != CS_OK)
            continue;
        const char *kind = rds_reply_str(rds_reply_at(m, 0), NULL);
        const char *ch = rds_reply_str(rds_reply_at(m, 1), NULL);
        const char *body = rds_reply_str(rds_reply_at(m, 2), NULL);
        if (kind && strcmp(kind, "message") == 0 && ch && body) {
            char ts[32];
            if (c->json)
                printf("{\"channel\":\"%s\",\"message\":%s}\n", ch, body);
            else
                printf("%s %-14s %s\n", cs_fmt_iso8601(ts, sizeof(ts), cs_now_ms()),
                       strcmp(ch, rk) == 0 ? "reply" : "event", body);
            fflush(stdout);
        }
        rds_reply_free(m);
    }
    return EXIT_OK;
}
