/* status.c - what the fleet is doing: status, agents, watch. */
#include <getopt.h>
#include <math.h>
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
#include "cs/stats.h"
#include "cs/util.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* "latency": {"window_s": 10, "ack": {"p50_ms": .., "win_p50_ms": .., ..}, "cmd": ..} for
 * each latency of the fleet stats, since the start and over the last window. */
static void put_latency(cJSON *fleet, const struct snap *s)
{
    static const char *const fields[] = {"p50_ms", "p90_ms", "p99_ms", "max_ms", "count"};
    cJSON *l = cJSON_AddObjectToObject(fleet, "latency");
    cJSON_AddNumberToObject(l, "window_s", snap_window_s(s));
    size_t n;
    const char *name;
    for (size_t i = 0; (name = stats_hist_name(i, &n)) != NULL; i++) {
        cJSON *h = cJSON_AddObjectToObject(l, name);
        for (size_t k = 0; k < ARRAY_SIZE(fields); k++) {
            char src[48], dst[48];
            snprintf(src, sizeof(src), "%s_%s", name, fields[k]);
            cJSON_AddNumberToObject(h, fields[k], kv_double(&s->fstats, src));
            snprintf(src, sizeof(src), "%s_win_%s", name, fields[k]);
            snprintf(dst, sizeof(dst), "win_%s", fields[k]);
            cJSON_AddNumberToObject(h, dst, kv_double(&s->fstats, src));
        }
    }
}

#define STATUS_ACTIONS 64 /* every action there can be (32 uplink + 24 downlink) */

/* "states": the charger states that matter during a test, from the fleet's gauges; "actions":
 * the platform's answers by action; "run": the running run. */
static void put_test_view(cJSON *f, const struct snap *s)
{
    cJSON *st = cJSON_AddObjectToObject(f, "states");
    static const char *const states[] = {"charging", "faulted",    "transactions",
                                         "offline",  "connecting", "calls_queued"};
    for (size_t i = 0; i < ARRAY_SIZE(states); i++)
        cJSON_AddNumberToObject(st, states[i], (double)kv_i64(&s->fstats, states[i]));
    struct astats *act;
    struct astats_view *v = cs_calloc(STATUS_ACTIONS, sizeof(*v));
    size_t n = snap_actions(s, &act, v, STATUS_ACTIONS);
    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    astats_view_json(&j, v, n); /* the form the coordinator's /api/status has */
    cJSON_AddItemToObject(f, "actions", cJSON_ParseWithLength(b.s, b.len));
    buf_free(&b);
    cs_free(v);
    cs_free(act);
    if (s->run_id[0]) {
        cJSON *r = cJSON_AddObjectToObject(f, "run");
        cJSON_AddStringToObject(r, "id", s->run_id);
        cJSON_AddStringToObject(r, "name", s->run_name);
        cJSON_AddNumberToObject(r, "started_ms", (double)s->run_started_ms);
    } else {
        cJSON_AddNullToObject(f, "run");
    }
}

static void print_json(const struct snap *s)
{
    struct snap_totals t;
    snap_sum(s, &t);
    struct snap_rejected rej;
    cJSON *o = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(o, "fleet");
    cJSON_AddNumberToObject(f, "size", (double)snap_fleet_size(s, &rej));
    if (rej.value) {
        cJSON_AddStringToObject(f, "size_rejected", rej.value);
        cJSON_AddStringToObject(f, "size_error", rej.why);
    }
    cJSON_AddNumberToObject(f, "capacity", (double)kv_i64(&s->fstats, "capacity"));
    cJSON_AddNumberToObject(f, "unassigned", (double)kv_i64(&s->fstats, "unassigned"));
    cJSON_AddNumberToObject(f, "epoch", (double)kv_i64(&s->fstats, "epoch"));
    cJSON_AddStringToObject(f, "coordinator", s->leader);
    cJSON_AddNumberToObject(f, "workers", (double)s->workers);
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
    put_latency(f, s);
    put_test_view(f, s);
    cJSON_AddBoolToObject(f, "workers_listed", s->listed);
    cJSON *arr = s->listed ? cJSON_AddArrayToObject(o, "workers") : NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *st = &s->w[i].stats, *ag = &s->w[i].agent;
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "name", s->w[i].name);
        cJSON_AddStringToObject(w, "host", kv_get(ag, "host") ? kv_get(ag, "host") : "");
        cJSON_AddNumberToObject(w, "pid", (double)kv_i64(ag, "pid"));
        cJSON_AddNumberToObject(w, "capacity", (double)kv_i64(ag, "capacity"));
        cJSON_AddStringToObject(w, "held", kv_get(ag, "held") ? kv_get(ag, "held") : "");
        cJSON_AddNumberToObject(w, "lease_ms_left", (double)s->w[i].pttl);
        cJSON_AddNumberToObject(w, "chargers", (double)kv_i64(st, "assigned"));
        cJSON_AddNumberToObject(w, "connected", (double)kv_i64(st, "connected"));
        cJSON_AddNumberToObject(w, "connecting", (double)kv_i64(st, "connecting"));
        cJSON_AddNumberToObject(w, "offline", (double)kv_i64(st, "offline"));
        cJSON_AddNumberToObject(w, "msgs_out", (double)kv_i64(st, "msgs_out"));
        cJSON_AddNumberToObject(w, "msgs_in", (double)kv_i64(st, "msgs_in"));
        cJSON_AddNumberToObject(w, "out_per_s", s->w[i].out_rate);
        cJSON_AddNumberToObject(w, "in_per_s", s->w[i].in_rate);
        cJSON_AddNumberToObject(w, "errors", (double)snap_errors(st));
        cJSON_AddNumberToObject(w, "ack_p50_ms", kv_double(st, "ack_p50_ms"));
        cJSON_AddNumberToObject(w, "ack_p99_ms", kv_double(st, "ack_p99_ms"));
        cJSON_AddNumberToObject(w, "ack_win_p99_ms", kv_double(st, "ack_win_p99_ms"));
        cJSON_AddNumberToObject(w, "rss_kb", (double)kv_i64(st, "rss_kb"));
        cJSON_AddItemToArray(arr, w);
    }
    cli_print_json(o);
    cJSON_Delete(o);
}

/* One latency line: PUBACK p50/p99, command and config apply p99, the platform's answer p99
 * over the window (`win` "_win") or since the start (""). */
static void print_latency(const struct snap *s, const char *head, const char *span, const char *win)
{
    char sp[32], k[48];
    if (*win)
        snprintf(sp, sizeof(sp), "%s %d s", span, snap_window_s(s));
    else
        snprintf(sp, sizeof(sp), "%s", span);
    printf("%-11s %-12s", head, sp);
    static const struct {
        const char *label, *name, *p;
    } cols[] = {{"ack p50", "ack", "p50"},
                {"p99", "ack", "p99"},
                {"command p99", "cmd", "p99"},
                {"config p99", "cfg", "p99"},
                {"platform p99", "conf", "p99"}};
    for (size_t i = 0; i < ARRAY_SIZE(cols); i++) {
        snprintf(k, sizeof(k), "%s%s_count", cols[i].name, win);
        bool any = kv_i64(&s->fstats, k) > 0;
        snprintf(k, sizeof(k), "%s%s_%s_ms", cols[i].name, win, cols[i].p);
        printf("%s%s ", i == 0 ? " " : i == 1 ? "  " : "   ", cols[i].label);
        if (any)
            printf("%.1f ms", kv_double(&s->fstats, k));
        else
            printf("-");
    }
    printf("\n");
}

static void ms_col(double v)
{
    if (isnan(v))
        printf(" %8s", "-");
    else
        printf(" %8.1f", v);
}

/* The states that matter during a test, the run, and the platform's answers by action. */
static void print_test_view(const struct snap *s)
{
    printf("states      charging %lld  faulted %lld  open transactions %lld  offline %lld  "
           "connecting %lld\n",
           kv_i64(&s->fstats, "charging"), kv_i64(&s->fstats, "faulted"),
           kv_i64(&s->fstats, "transactions"), kv_i64(&s->fstats, "offline"),
           kv_i64(&s->fstats, "connecting"));
    if (s->run_id[0]) {
        printf("run         %s %s, running for %.0f s (swarm-cli report)\n", cli_safe(s->run_id),
               cli_safe(s->run_name), (double)(cs_now_ms() - s->run_started_ms) / 1000.0);
    }
    struct astats *act;
    struct astats_view *a = cs_calloc(STATUS_ACTIONS, sizeof(*a));
    size_t n = snap_actions(s, &act, a, STATUS_ACTIONS);
    if (n) {
        char head[48];
        snprintf(head, sizeof(head), "ACTION (last %d s)", snap_window_s(s));
        printf("\n%-34s %8s %8s %8s %8s %8s %11s %9s %8s\n", head, "REQ/S", "FAIL/S", "P50 MS",
               "P95 MS", "P99 MS", "REQUESTS", "FAILURES", "P95 MS");
        for (size_t i = 0; i < n; i++) {
            char label[64];
            snprintf(label, sizeof(label), "%s %s", a[i].type, a[i].row->name);
            printf("%-34s %8.1f %8.1f", label, a[i].win_rps, a[i].win_fps);
            ms_col(a[i].win_p50);
            ms_col(a[i].win_p95);
            ms_col(a[i].win_p99);
            printf(" %11llu %9llu", (unsigned long long)a[i].requests,
                   (unsigned long long)a[i].failures);
            ms_col(a[i].p95);
            printf("\n");
        }
        printf("(CALL: the chargers' CALLs and the platform's answers; DOWN: the platform's "
               "CALLs. The last three columns count since the start.)\n");
    }
    cs_free(a);
    cs_free(act);
}

static void print_human(struct cli *c, const struct snap *s)
{
    char fk[CS_KEY_MAX];
    struct snap_totals t;
    snap_sum(s, &t);
    struct snap_rejected rej;
    long long size = snap_fleet_size(s, &rej);
    printf("fleet       %lld charger%s, %lld running on %zu worker%s, capacity %lld, unassigned "
           "%lld\n",
           size, cs_plural(size), t.chargers, s->workers, cs_plural((long long)s->workers),
           kv_i64(&s->fstats, "capacity"), kv_i64(&s->fstats, "unassigned"));
    if (rej.value)
        printf("warning: %s holds size '%s', rejected (%s): %lld stays in force\n",
               cli_key(c, fk, K_FLEET, NULL), cli_safe(rej.value), cli_safe(rej.why), size);
    printf("connected   %lld  connecting %lld  offline %lld  disabled %lld\n", t.connected,
           t.connecting, t.offline, t.disabled);
    printf("messages    out %.1f/s (%lld total)  in %.1f/s (%lld total)  errors %lld\n", t.out_rate,
           t.out, t.in_rate, t.in, t.errors);
    print_latency(s, "latency", "last", "_win");
    print_latency(s, "", "since start", "");
    printf("coordinator %s   epoch %lld\n", s->leader[0] ? cli_safe(s->leader) : "(none)",
           kv_i64(&s->fstats, "epoch"));
    print_test_view(s);
    printf("\n");
    if (size > 0 && kv_i64(&s->fstats, "capacity") < size && s->workers)
        printf("warning: fleet exceeds the live capacity; start more workers or agents\n\n");
    if (!s->listed) {
        printf("%zu workers, more than a table shows: swarm-cli status --workers lists them (or "
               "swarm-cli agents)\n",
               s->workers);
        fflush(stdout);
        return;
    }
    printf("%-24s %8s %9s %10s %8s %9s %8s %7s %8s\n", "WORKER", "CHARGERS", "CONNECTED",
           "CONNECTING", "OFFLINE", "OUT/S", "IN/S", "ERRORS", "RSS MiB");
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *st = &s->w[i].stats;
        printf("%-24s %8lld %9lld %10lld %8lld %9.1f %8.1f %7lld %8.1f\n", cli_safe(s->w[i].name),
               kv_i64(st, "assigned"), kv_i64(st, "connected"), kv_i64(st, "connecting"),
               kv_i64(st, "offline"), s->w[i].out_rate, s->w[i].in_rate, snap_errors(st),
               (double)kv_i64(st, "rss_kb") / 1024.0);
    }
    if (s->n == 0)
        printf("(no live workers: start swarm-agent)\n");
    fflush(stdout);
}

/* One status, printed; exit code. */
static int status_once(struct cli *c, size_t rows)
{
    struct snap s;
    struct cs_error err;
    int rc = EXIT_OK;
    if (!cli_connect(c))
        return EXIT_REDIS;
    if (!snap_take(c, &s, rows, &err))
        rc = cli_redis_fail(&err);
    else if (c->json)
        print_json(&s);
    else
        print_human(c, &s);
    snap_free(&s);
    return rc;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* status --watch: a refresh that fails (Redis down, refusing, answering errors) shows why and
 * the next one tries again on a new connection; only Ctrl-C ends it. */
static int status_watch(struct cli *c, double interval, size_t rows)
{
    bool tty = isatty(STDOUT_FILENO);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    while (!interrupted) {
        struct snap s;
        struct cs_error err;
        memset(&s, 0, sizeof(s));
        bool ok = cli_try_connect(c, &err) && snap_take(c, &s, rows, &err);
        if (tty && !c->json)
            printf("\033[H\033[2J");
        if (ok && c->json)
            print_json(&s);
        else if (ok)
            print_human(c, &s);
        snap_free(&s);
        if (!ok && !interrupted) { /* (Ctrl-C cuts a read short: not worth a line) */
            fflush(stdout);
            fprintf(stderr, "swarm-cli: Redis: %s (retrying)\n", err.msg);
            rds_sync_free(c->r); /* possibly out of step: start afresh */
            c->r = NULL;
        }
        if (!c->json) {
            char ts[32];
            printf("\n%s  (every %.1fs, Ctrl-C to stop)\n",
                   cs_fmt_iso8601(ts, sizeof(ts), cs_now_ms()), interval);
            fflush(stdout);
        }
        sleep_s(interval);
    }
    return EXIT_OK;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    enum { OPT_WATCH = 1, OPT_INTERVAL, OPT_JSON, OPT_WORKERS };
    static const struct option opts[] = {{"watch", no_argument, NULL, OPT_WATCH},
                                         {"interval", required_argument, NULL, OPT_INTERVAL},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"workers", no_argument, NULL, OPT_WORKERS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool watch = false;
    size_t rows = SNAP_ROWS;
    double interval = 1.0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_WATCH:
            watch = true;
            break;
        case OPT_INTERVAL:
            if (!cs_parse_double(optarg, 0.1, 3600, &interval)) {
                fprintf(stderr, "swarm-cli status: --interval: 0.1..3600 seconds\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_JSON:
            c->json = true;
            break;
        case OPT_WORKERS:
            rows = SNAP_ALL;
            break;
        case 'h':
            printf("Usage: swarm-cli status [--watch [--interval S]] [--json] [--workers]\n"
                   "       swarm-cli %s\n\n",
                   cmd_lookup("status")->usage);
            printf(
                "Without arguments: fleet summary and one row per live worker (with more than\n"
                "%d live workers, only their number and the fleet's figures: --workers lists\n"
                "every one, at five Redis commands a worker); --json prints them as one object\n"
                "{\"fleet\": {...}, \"workers\": [...]}, fleet.workers_listed saying whether the\n"
                "array is there (the per-worker rows as agents --json has them are a\n"
                "different, smaller document). Its\n"
                "fleet.latency, like the two latency lines of the summary, has every\n"
                "latency over the last stats_window_s and since the start; fleet.states the\n"
                "charger states that matter during a test (charging, faulted, transactions,\n"
                "offline, connecting, calls_queued); fleet.actions the platform's answers by\n"
                "action, as the summary's table (the window's rates and percentiles, the\n"
                "totals since the start); fleet.run the running run (or null). --watch\n"
                "refreshes until Ctrl-C; a refresh that fails shows the Redis error and the\n"
                "next one retries. The fleet size shown is the one in force; a value of\n"
                "{ns}:fleet size the workers reject is flagged. With a selector: sets the\n"
                "OCPP status of the selected chargers (the `status` fleet command; info= is\n"
                "at most 50 characters).\n",
                SNAP_ROWS);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
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
    return watch ? status_watch(c, interval, rows) : status_once(c, rows);
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* agents --json: the rows of the human agents table, one object per live worker. */
static void print_agents_json(const struct snap *s)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *ag = &s->w[i].agent;
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "name", s->w[i].name);
        cJSON_AddStringToObject(w, "host", str_or_empty(kv_get(ag, "host")));
        cJSON_AddNumberToObject(w, "pid", (double)kv_i64(ag, "pid"));
        cJSON_AddNumberToObject(w, "capacity", (double)kv_i64(ag, "capacity"));
        cJSON_AddNumberToObject(w, "chargers", (double)kv_i64(ag, "chargers"));
        cJSON_AddNumberToObject(w, "connected", (double)kv_i64(&s->w[i].stats, "connected"));
        cJSON_AddNumberToObject(w, "lease_ms_left", (double)s->w[i].pttl);
        cJSON_AddStringToObject(w, "held", str_or_empty(kv_get(ag, "held")));
        cJSON_AddItemToArray(arr, w);
    }
    cli_print_json(arr);
    cJSON_Delete(arr);
}

static void print_agents_human(const struct snap *s)
{
    printf("%-24s %-16s %7s %8s %8s %9s %9s  %s\n", "WORKER", "HOST", "PID", "CAPACITY", "CHARGERS",
           "CONNECTED", "LEASE MS", "HELD");
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *ag = &s->w[i].agent;
        printf("%-24s %-16s %7lld %8lld %8lld %9lld %9lld  %s\n", cli_safe(s->w[i].name),
               cli_safe(kv_get(ag, "host")), kv_i64(ag, "pid"), kv_i64(ag, "capacity"),
               kv_i64(ag, "chargers"), kv_i64(&s->w[i].stats, "connected"), s->w[i].pttl,
               cli_safe(kv_get(ag, "held")));
    }
}

int cmd_agents(struct cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: swarm-cli agents [--json]\n\n"
                   "Live workers: host, pid, capacity, chargers, connected, lease time left, held\n"
                   "index ranges. --json prints the same rows as an array of objects\n"
                   "[{\"name\", \"host\", \"pid\", \"capacity\", \"chargers\", \"connected\",\n"
                   "\"lease_ms_left\", \"held\"}, ...]; status --json is the fleet summary with\n"
                   "its per-worker traffic rows, a different document.\n");
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--json") != 0) {
            fprintf(stderr,
                    "swarm-cli agents: unexpected argument '%s' (swarm-cli agents "
                    "--help)\n",
                    argv[i]);
            return EXIT_USAGE;
        }
        c->json = true;
    }
    if (!cli_connect(c))
        return EXIT_REDIS;
    struct snap s;
    struct cs_error err;
    int rc = EXIT_OK;
    if (!snap_take(c, &s, SNAP_ALL, &err))
        rc = cli_redis_fail(&err);
    else if (c->json)
        print_agents_json(&s);
    else
        print_agents_human(&s);
    snap_free(&s);
    return rc;
}

/* watch --json: one object per line, {"channel": ..., "message": ...}; the message as the
 * JSON it is when it parses as an object, else as a string (anyone can PUBLISH anything). */
static void watch_json(const char *ch, const char *body, size_t len)
{
    struct buf b = BUF_INIT;
    struct jw j;
    cJSON *v = cJSON_ParseWithLength(body, len);
    jw_init(&j, &b);
    jw_obj(&j);
    jw_kstr(&j, "channel", ch);
    jw_key(&j, "message");
    if (cJSON_IsObject(v))
        jw_cjson(&j, v);
    else
        jw_strn(&j, body, len);
    jw_end(&j);
    buf_putc(&b, '\n');
    fwrite(b.s, 1, b.len, stdout);
    buf_free(&b);
    cJSON_Delete(v);
}

int cmd_watch(struct cli *c, int argc, char **argv)
{
    char rk[CS_KEY_MAX], ek[CS_KEY_MAX];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: swarm-cli watch [--json]\n\n"
                   "Prints replies ({ns}:reply) and events ({ns}:events) as they arrive, until\n"
                   "Ctrl-C: a time, the kind and the message, control characters escaped.\n"
                   "--json: one object a line, {\"channel\": NAME, \"message\": the reply or\n"
                   "event (a string when it is not a JSON object)}.\n");
            return EXIT_OK;
        }
        fprintf(stderr, "swarm-cli watch: unexpected argument '%s' (swarm-cli watch --help)\n",
                argv[i]);
        return EXIT_USAGE;
    }
    struct cs_error err;
    if (!cli_connect(c))
        return EXIT_REDIS;
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    struct rds_reply *r = cli_cmd(c->r, CLI_ARRAY, &err, "SUBSCRIBE %s %s",
                                  cli_key(c, rk, CH_REPLY, NULL), cli_key(c, ek, CH_EVENTS, NULL));
    if (!r)
        return cli_redis_fail(&err);
    rds_reply_free(r);
    while (!interrupted) {
        struct rds_reply *m = NULL;
        if (rds_sync_read(c->r, 500, &m) == CS_ERR_STATE)
            continue; /* nothing within 500 ms: check for Ctrl-C */
        if (!(m = cli_check(c->r, CLI_ARRAY, "SUBSCRIBE", m, &err)))
            return cli_redis_fail(&err);
        const char *kind = rds_reply_str(rds_reply_at(m, 0), NULL);
        const char *ch = rds_reply_str(rds_reply_at(m, 1), NULL);
        size_t len = 0;
        const char *body = rds_reply_str(rds_reply_at(m, 2), &len);
        if (kind && strcmp(kind, "message") == 0 && ch && body) {
            char ts[32];
            if (c->json)
                watch_json(ch, body, len);
            else
                printf("%s %-14s %s\n", cs_fmt_iso8601(ts, sizeof(ts), cs_now_ms()),
                       strcmp(ch, rk) == 0 ? "reply" : "event", cli_safe(body));
            fflush(stdout);
        }
        rds_reply_free(m);
    }
    return EXIT_OK;
}
