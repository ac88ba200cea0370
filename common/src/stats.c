/* stats.c - the stats field table and renderer. */
#include <stdio.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/catalog.h"
#include "cs/mem.h"
#include "cs/stats.h"
#include "cs/util.h"

#define G(f, h)                                                                                    \
    {                                                                                              \
#f, offsetof(struct worker_stats, f), STAT_GAUGE, h                                        \
    }
#define C(f, h)                                                                                    \
    {                                                                                              \
#f, offsetof(struct worker_stats, f), STAT_COUNTER, h                                      \
    }

static const struct stats_field fields[] = {
    G(assigned, "chargers this worker owns"),
    G(connected, "chargers connected to the broker"),
    G(connecting, "chargers waiting for the ramp or connecting"),
    G(offline, "chargers disconnected, waiting to reconnect"),
    G(disabled, "chargers kept offline by enabled=0"),
    G(paused, "chargers with periodic reports paused"),
    G(charging, "connectors in Charging"),
    G(faulted, "connectors in Faulted"),
    G(transactions, "open transactions"),
    G(calls_queued, "CALLs waiting to be sent (offline queue included)"),
    C(msgs_out, "messages published"),
    C(msgs_in, "messages received from the platform"),
    C(out_custom, "user-defined messages sent (from {ns}:catalog)"),
    C(out_answers, "answers sent to the platform's CALLs"),
    C(garbled, "malformed frames sent on purpose (garble)"),
    C(duplicated, "messages sent twice on purpose (dup)"),
    C(msgs_dropped, "messages dropped (not connected or queue full)"),
    C(publish_errors, "publishes the broker or library refused"),
    C(connects, "successful MQTT connects"),
    C(connect_failures, "failed MQTT connect attempts"),
    C(conn_lost, "established connections that dropped"),
    C(lease_lost,
      "times the lease lapsed with Redis out of reach: chargers dropped until confirmed"),
    C(cmds, "commands handled"),
    C(cmd_errors, "commands answered with an error"),
    C(cmd_duplicates, "commands received again (same id) and not run twice"),
    C(cmds_caught_up, "commands read from {ns}:cmdlog after a lost connection"),
    C(cfg_changes, "config changes applied"),
    C(cfg_rejected, "config values rejected"),
    C(call_timeouts, "our CALLs the platform left unanswered for call_timeout_s"),
    C(answers, "CALLRESULT/CALLERROR answers to our CALLs"),
    C(answers_unmatched, "answers to no CALL we have pending (late or unknown id)"),
    C(callerrors_in, "CALLERROR answers to our CALLs"),
    C(calls_in, "CALLs from the platform"),
    C(callerrors_out, "CALLERRORs we answered the platform with"),
    C(downlink_bad, "downlink messages that did not parse (answered FormationViolation)"),
    C(offline_queued, "transaction messages queued while disconnected"),
    C(offline_dropped, "transaction messages dropped: offline queue full"),
    C(calls_dropped, "CALLs dropped: a charger's CALL queue was full"),
    C(sessions_started, "transactions started"),
    C(sessions_stopped, "transactions stopped"),
    C(auth_rejected, "idTags the platform refused"),
    C(reboots, "reboots and resets"),
    C(boot_retries, "BootNotifications not Accepted (retried)"),
    G(rss_kb, "resident memory of the worker process, KiB"),
    G(loop_lag_ms, "worst event-loop lag over the last interval, ms"),
    G(inbox_depth, "MQTT events waiting for the loop"),
};

const struct stats_field *stats_fields(size_t *n)
{
    *n = ARRAY_SIZE(fields);
    return fields;
}

static void put_u64(struct kvlist *out, const char *k, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    kv_set(out, k, num);
}

static void put_ms(struct kvlist *out, const char *k, uint64_t us)
{
    char num[32];
    snprintf(num, sizeof(num), "%.3f", (double)us / 1000.0);
    kv_set(out, k, num);
}

static const struct {
    const char *name;
    size_t offset;
    const char *help;
} hists[] = {
    [LAT_ACK] = {"ack", offsetof(struct worker_stats, ack_us),
                 "publish -> completion: the broker's PUBACK for QoS 1 (written to the socket "
                 "for QoS 0)"},
    [LAT_CMD] = {"cmd", offsetof(struct worker_stats, cmd_us),
                 "command `ts` (swarm-cli's send time) -> applied by the worker"},
    [LAT_CONF] = {"conf", offsetof(struct worker_stats, conf_us),
                  "the platform's latency: our CALL -> its CALLRESULT/CALLERROR"},
    [LAT_CFG] = {"cfg", offsetof(struct worker_stats, cfg_us),
                 "a config write by swarm-cli -> in force in the worker"},
};

_Static_assert(ARRAY_SIZE(hists) == STATS_LAT_N, "one window per latency histogram");

bool stats_latency_nagle(const struct hist *h)
{
    return hist_clusters_in(h, 32000, 58000, 50, 0.6);
}

const char *stats_hist_name(size_t i, size_t *n)
{
    *n = ARRAY_SIZE(hists);
    return i < ARRAY_SIZE(hists) ? hists[i].name : NULL;
}

struct hist *stats_hist(struct worker_stats *s, size_t i)
{
    return (struct hist *)((char *)s + hists[i].offset);
}

static void put_hist(struct kvlist *out, const char *prefix, const struct hist *h, bool derived,
                     bool raw)
{
    char k[48];
    if (derived) {
        snprintf(k, sizeof(k), "%s_p50_ms", prefix);
        put_ms(out, k, hist_quantile(h, 0.50));
        snprintf(k, sizeof(k), "%s_p90_ms", prefix);
        put_ms(out, k, hist_quantile(h, 0.90));
        snprintf(k, sizeof(k), "%s_p99_ms", prefix);
        put_ms(out, k, hist_quantile(h, 0.99));
        snprintf(k, sizeof(k), "%s_max_ms", prefix);
        put_ms(out, k, h->max);
        snprintf(k, sizeof(k), "%s_count", prefix);
        put_u64(out, k, h->count);
    }
    if (raw) {
        struct buf b = BUF_INIT;
        snprintf(k, sizeof(k), "%s_hist", prefix);
        hist_format(h, &b);
        kv_set(out, k, buf_cstr(&b));
        buf_free(&b);
    }
}

static bool in_parts(const struct stats_field *f, unsigned parts)
{
    return (parts & (f->kind == STAT_COUNTER ? STATS_P_CUM : STATS_P_GAUGE)) != 0;
}

void stats_render_parts(const struct worker_stats *s, unsigned parts, struct kvlist *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (in_parts(&fields[i], parts))
            put_u64(out, fields[i].name, *(const uint64_t *)((const char *)s + fields[i].offset));
    if (parts & STATS_P_CUM) {
        for (int t = 0; t < MSG__COUNT; t++) {
            char k[64];
            snprintf(k, sizeof(k), "out.%s", catalog_get((enum msg_id)t)->name);
            put_u64(out, k, s->out_by_type[t]);
        }
        for (int i = 0; i < OCPP_CALLS_IN; i++) {
            char k[64];
            snprintf(k, sizeof(k), "in.%s", ocpp_call_name(i));
            put_u64(out, k, s->in_by_call[i]);
        }
        put_u64(out, "in.other", s->in_other);
        put_u64(out, "started_ms", s->started_ms);
    }
    for (size_t i = 0; i < ARRAY_SIZE(hists); i++) {
        char k[32];
        put_hist(out, hists[i].name, (const struct hist *)((const char *)s + hists[i].offset),
                 (parts & STATS_P_DERIVED) && (parts & STATS_P_CUM), parts & STATS_P_CUM);
        snprintf(k, sizeof(k), "%s_win", hists[i].name);
        put_hist(out, k, &s->win[i], (parts & STATS_P_DERIVED) && (parts & STATS_P_WIN),
                 parts & STATS_P_WIN);
    }
    unsigned ap = ((parts & STATS_P_CUM) ? ASTATS_R_CUM : 0u) |
                  ((parts & STATS_P_WIN) ? ASTATS_R_WIN : 0u) |
                  ((parts & STATS_P_DERIVED) && (parts & STATS_P_CUM) ? ASTATS_R_PCT : 0u);
    astats_render(&s->act, ap, out);
}

void stats_render(const struct worker_stats *s, struct kvlist *out)
{
    stats_render_parts(s, STATS_P_ALL, out);
}

static void add_val(uint64_t *dst, const char *v)
{
    int64_t x;
    if (v && cs_parse_i64(v, 0, INT64_MAX, &x))
        *dst += (uint64_t)x;
}

static void add_u64(uint64_t *dst, const struct kv_index *src, const char *k)
{
    add_val(dst, kv_index_get(src, k));
}

void stats_add_parts(struct worker_stats *sum, const struct kvlist *list, unsigned parts)
{
    char k[64];
    struct kv_index ix, *src = &ix; /* ~100 lookups in ~300 fields */
    kv_index_build(&ix, list);
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (in_parts(&fields[i], parts))
            add_u64((uint64_t *)((char *)sum + fields[i].offset), src, fields[i].name);
    if (parts & STATS_P_CUM) {
        for (int t = 0; t < MSG__COUNT; t++) {
            snprintf(k, sizeof(k), "out.%s", catalog_get((enum msg_id)t)->name);
            add_u64(&sum->out_by_type[t], src, k);
        }
        for (int i = 0; i < OCPP_CALLS_IN; i++) {
            snprintf(k, sizeof(k), "in.%s", ocpp_call_name(i));
            add_u64(&sum->in_by_call[i], src, k);
        }
        add_u64(&sum->in_other, src, "in.other");
    }
    for (size_t i = 0; i < ARRAY_SIZE(hists); i++) {
        struct hist h;
        const char *v;
        if (parts & STATS_P_CUM) {
            snprintf(k, sizeof(k), "%s_hist", hists[i].name);
            v = kv_index_get(src, k);
            if (v && hist_parse(&h, v) == CS_OK)
                hist_merge((struct hist *)((char *)sum + hists[i].offset), &h);
        }
        if (parts & STATS_P_WIN) {
            snprintf(k, sizeof(k), "%s_win_hist", hists[i].name);
            v = kv_index_get(src, k);
            if (v && hist_parse(&h, v) == CS_OK)
                hist_merge(&sum->win[i], &h);
        }
    }
    unsigned ap =
        ((parts & STATS_P_CUM) ? ASTATS_R_CUM : 0u) | ((parts & STATS_P_WIN) ? ASTATS_R_WIN : 0u);
    if (ap)
        astats_add(&sum->act, list, ap);
    kv_index_free(&ix);
}

void stats_add(struct worker_stats *sum, const struct kvlist *src)
{
    stats_add_parts(sum, src, STATS_P_CUM | STATS_P_LIVE);
}

void stats_merge_parts(struct worker_stats *dst, const struct worker_stats *src, unsigned parts)
{
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (in_parts(&fields[i], parts))
            *(uint64_t *)((char *)dst + fields[i].offset) +=
                *(const uint64_t *)((const char *)src + fields[i].offset);
    if (parts & STATS_P_CUM) {
        for (int t = 0; t < MSG__COUNT; t++)
            dst->out_by_type[t] += src->out_by_type[t];
        for (int i = 0; i < OCPP_CALLS_IN; i++)
            dst->in_by_call[i] += src->in_by_call[i];
        dst->in_other += src->in_other;
    }
    for (size_t i = 0; i < ARRAY_SIZE(hists); i++) {
        if (parts & STATS_P_CUM)
            hist_merge(stats_hist(dst, i), stats_hist((struct worker_stats *)src, i));
        if (parts & STATS_P_WIN)
            hist_merge(&dst->win[i], &src->win[i]);
    }
    astats_merge_parts(&dst->act, &src->act,
                       ((parts & STATS_P_CUM) ? ASTATS_R_CUM : 0u) |
                           ((parts & STATS_P_WIN) ? ASTATS_R_WIN : 0u));
}

uint64_t stats_started_of(const struct kvlist *rendered)
{
    uint64_t x = 0;
    add_val(&x, kv_get(rendered, "started_ms"));
    return x;
}

bool stats_in_series(const char *field)
{
    size_t n = strlen(field);
    return !(n >= 5 && strcmp(field + n - 5, "_hist") == 0) && !astats_is_field(field) &&
           strcmp(field, "started_ms") != 0;
}

static uint64_t u64_of(const struct kvlist *kv, const char *k)
{
    uint64_t x = 0;
    add_val(&x, kv_get(kv, k));
    return x;
}

void stats_point_of(const struct kvlist *rendered, struct stats_point *p)
{
    p->ms = (int64_t)u64_of(rendered, "updated_ms");
    p->out = u64_of(rendered, "msgs_out");
    p->in = u64_of(rendered, "msgs_in");
}

bool stats_rates(const struct stats_point *a, const struct stats_point *b, double *out_per_s,
                 double *in_per_s)
{
    double dt = (double)(b->ms - a->ms) / 1000.0;
    *out_per_s = *in_per_s = 0;
    if (!(dt > 0) || b->out < a->out || b->in < a->in)
        return false;
    *out_per_s = (double)(b->out - a->out) / dt;
    *in_per_s = (double)(b->in - a->in) / dt;
    return true;
}

void stats_doc_markdown(struct buf *b)
{
    buf_printf(
        b, "# Stats reference\n\n"
           "<!-- generated by `swarm-cli docs stats` from common/src/stats.c; do not edit -->\n\n"
           "Every worker writes these fields to the hash `{ns}:stats:{worker}` and, as one "
           "entry, to the stream `{ns}:ts:{worker}` every `stats_interval_ms`; the "
           "coordinator writes the fleet's sums to `{ns}:stats` and `{ns}:ts`, with "
           "percentiles merged from the workers' histograms. Counters are cumulative "
           "since the worker started (a new `started_ms` starts them again from 0): "
           "readers compute rates from two samples and their `updated_ms`. The fleet's "
           "counters never go down, through worker restarts and departures "
           "([results.md](results.md), \"Fleet totals never go down\").\n\n"
           "| field | kind | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        buf_printf(b, "| `%s` | %s | %s |\n", fields[i].name,
                   fields[i].kind == STAT_GAUGE ? "gauge" : "counter", fields[i].help);
    buf_printf(b, "| `out.<Message>` | counter | messages sent, per message type (%s) |\n",
               catalog_names());
    buf_printf(b, "| `in.<Action>` | counter | CALLs from the platform, per action (the 10 "
                  "the chargers implement, and `in.other`) |\n");
    buf_printf(b, "| `started_ms` | time | when the worker process started (Unix ms): a new "
                  "value means its counters start again from 0 |\n");
    buf_printf(b, "| `updated_ms` | time | when the worker wrote this sample (Unix ms) |\n\n"
                  "The fleet's `{ns}:stats` also has `fleet_size`, `capacity` (chargers the live "
                  "workers can hold), `assigned_total`, `unassigned`, `surplus` (chargers beyond "
                  "the capacity), `workers`, `epoch` (of the assignment), `stats_window_s` (the "
                  "window of the `_win_` latencies in force) and `coordinator` (the leader's id, "
                  "the one text field).\n\n"
                  "## Latencies\n\n"
                  "Each as `<name>_p50_ms`, `_p90_ms`, `_p99_ms`, `_max_ms` (since the worker "
                  "started), `_count` (samples) and `_hist` (the histogram itself, which the "
                  "coordinator merges: fleet percentiles are never averages).\n\n"
                  "The same six again as `<name>_win_p50_ms` ... `<name>_win_hist` cover only the "
                  "last `stats_window_s` seconds (a fleet setting, default 10, live): the "
                  "latency *now*, which a long run's since-start figures hide. Each worker "
                  "keeps snapshots of its running histogram and subtracts the one that opens "
                  "the window, so the window's start is exact to `stats_interval_ms` (or to "
                  "1/32 of the window, when that is longer); `_win_max_ms` is the upper bound "
                  "of the slowest sample's bucket (about 19%% resolution).\n\n"
                  "| name | measures |\n|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(hists); i++)
        buf_printf(b, "| `%s` | %s |\n", hists[i].name, hists[i].help);
    buf_printf(b,
               "\n## Per action\n\n"
               "Every OCPP CALL is counted under its action, both ways: `conf.<Action>.<field>` "
               "for the CALLs the chargers send (BootNotification, Heartbeat, the catalog's "
               "messages ...) and the platform's answers to them, `down.<Action>.<field>` for "
               "the CALLs the platform sends (RemoteStartTransaction, Reset, ...) and the "
               "chargers' answers. Only actions with a CALL appear. At most %d actions per "
               "worker for `conf` and %d for `down`, each count including `%s`: later names, "
               "and names that are not `[A-Za-z0-9_]{1,47}`, are counted under `%s`, so the "
               "hash, the Prometheus labels and the memory stay bounded whatever the platform "
               "sends. The fleet's `{ns}:stats` has the same fields, merged exactly (counters "
               "added, histograms merged, maxima the largest).\n\n",
               ASTATS_UP_ROWS, ASTATS_DOWN_ROWS, ASTATS_OTHER, ASTATS_OTHER);
    astats_doc_markdown(b);
    buf_printf(b,
               "\nThe window figures (`win_*`) cover the last `stats_window_s` like the "
               "latencies' `_win_` fields. A worker keeps them from snapshots of its "
               "running totals that hold only the non-empty buckets of the actions in use: "
               "about 2 KiB per active action (29 KiB measured for fourteen, at most 38 KiB "
               "with every row in use), beside the %zu KiB of the figures themselves. The "
               "per-action fields "
               "and the histograms are not in the `{ns}:ts` streams; `{ns}:history` keeps "
               "the fleet's per-action figures over time ([results.md](results.md)).\n",
               sizeof(struct astats) / 1024);
}
