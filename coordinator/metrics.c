/* metrics.c - Prometheus text exposition of the fleet as the coordinator last read it.
 *
 * Names: a stats field `f` of the workers' table (stats_fields) becomes chargeswarm_f (gauge) or
 * chargeswarm_f_total (counter), in base units (rss_kb -> chargeswarm_rss_bytes, loop_lag_ms ->
 * chargeswarm_loop_lag_seconds); out.<Message> becomes chargeswarm_messages_out_total{type=...},
 * in.<Action> chargeswarm_platform_calls_total{action=...}; each latency histogram <h> (ack, cmd,
 * conf, cfg) becomes a Prometheus histogram chargeswarm_<h>_latency_seconds (fixed buckets,
 * re-binned from the workers' log-linear ones, so rate() and histogram_quantile() work across
 * workers and time windows) plus chargeswarm_<h>_latency_percentile_seconds{percentile="50|90|
 * 99|100"}, the lifetime percentiles swarm-cli shows (a gauge: promtool reserves the label
 * "quantile" for summaries). The fleet series (no worker label) are the coordinator's
 * {ns}:stats, whose counters never go down. Per action (fleet series only: an action and a
 * code per worker would multiply the series), chargeswarm_ocpp_calls_total,
 * chargeswarm_ocpp_answers_total, chargeswarm_ocpp_callerrors_total (label code),
 * chargeswarm_ocpp_timeouts_total and the histogram chargeswarm_ocpp_response_seconds, each
 * with the labels direction ("up": the chargers' CALLs, "down": the platform's) and action,
 * bounded by cs/astats.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/util.h"
#include "metrics.h"

#define PREFIX "chargeswarm_"

/* ---- text helpers ---------------------------------------------------------------------------- */

/* HELP text: backslash and newline escaped. */
static void put_help(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *s);
    }
}

/* A label pair k="v", v escaped (backslash, quote, newline), after a comma when not first. */
static void put_label(struct buf *b, const char *k, const char *v)
{
    if (b->len)
        buf_putc(b, ',');
    buf_puts(b, k);
    buf_puts(b, "=\"");
    for (; *v; v++) {
        if (*v == '\\')
            buf_puts(b, "\\\\");
        else if (*v == '"')
            buf_puts(b, "\\\"");
        else if (*v == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *v);
    }
    buf_putc(b, '"');
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s%s ", PREFIX, name);
    put_help(b, help);
    buf_printf(b, "\n# TYPE %s%s %s\n", PREFIX, name, type);
}

/* name{labels} value; labels is "" or rendered pairs. */
static void sample_u(struct buf *b, const char *name, const char *labels, uint64_t v)
{
    buf_printf(b, "%s%s%s%s%s %llu\n", PREFIX, name, *labels ? "{" : "", labels, *labels ? "}" : "",
               (unsigned long long)v);
}

static void sample_d(struct buf *b, const char *name, const char *labels, double v)
{
    buf_printf(b, "%s%s%s%s%s %.15g\n", PREFIX, name, *labels ? "{" : "", labels,
               *labels ? "}" : "", v);
}

/* ---- histograms ------------------------------------------------------------------------------ */

/* Inclusive upper bound (µs) of bucket i of cs/hist.h's log-linear histogram: 16 unit buckets,
 * then 4 per power of two. A local copy of hist.c's bucket_upper (not exported by common). */
static uint64_t fine_upper(unsigned i)
{
    if (i < 16)
        return i;
    unsigned e = (i - 16) / 4 + 4, sub = (i - 16) % 4;
    return ((uint64_t)(4 + sub + 1) << (e - 2)) - 1;
}

/* Bucket bounds exported, µs (le in seconds); +Inf follows. */
static const uint64_t le_us[] = {100,     250,     500,     1000,     2500,    5000,
                                 10000,   25000,   50000,   100000,   250000,  500000,
                                 1000000, 2500000, 5000000, 10000000, 30000000};

/* The histograms of struct worker_stats by the names stats_hist_name() gives. */
static const struct {
    const char *name;
    size_t offset;
    const char *help;
} hists[] = {
    {"ack", offsetof(struct worker_stats, ack_us),
     "publish to completion (QoS 1: PUBACK), seconds"},
    {"cmd", offsetof(struct worker_stats, cmd_us),
     "command sent (its ts) to applied by the worker, seconds"},
    {"conf", offsetof(struct worker_stats, conf_us),
     "a charger's CALL to the platform's CALLRESULT, seconds"},
    {"cfg", offsetof(struct worker_stats, cfg_us),
     "config written (swarm-cli's reload ts) to applied, seconds"},
};

static const struct hist *hist_at(const struct worker_stats *s, size_t h)
{
    return (const struct hist *)((const char *)s + hists[h].offset);
}

/* Cumulative buckets, count and an estimated sum (bucket midpoints: the workers' histograms
 * carry counts, not sums; the error is within one bucket's ~19% width). */
static void hist_series(struct buf *b, const char *fam, const char *labels, const struct hist *h)
{
    uint64_t cum[ARRAY_SIZE(le_us) + 1];
    double sum_us = 0;
    char name[96];
    struct buf lb = BUF_INIT;
    memset(cum, 0, sizeof(cum));
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        if (!h->b[i])
            continue;
        uint64_t up = fine_upper(i), lo = i ? fine_upper(i - 1) + 1 : 0;
        size_t k = 0;
        while (k < ARRAY_SIZE(le_us) && le_us[k] < up)
            k++;
        cum[k] += h->b[i];
        sum_us += (double)h->b[i] * ((double)lo + (double)up) / 2.0;
    }
    snprintf(name, sizeof(name), "%s_bucket", fam);
    uint64_t run = 0;
    for (size_t k = 0; k <= ARRAY_SIZE(le_us); k++) {
        char le[32];
        run += cum[k];
        if (k < ARRAY_SIZE(le_us))
            snprintf(le, sizeof(le), "%g", (double)le_us[k] / 1e6);
        else
            snprintf(le, sizeof(le), "+Inf");
        buf_reset(&lb);
        if (*labels)
            buf_puts(&lb, labels);
        put_label(&lb, "le", le);
        sample_u(b, name, buf_cstr(&lb), run);
    }
    snprintf(name, sizeof(name), "%s_sum", fam);
    sample_d(b, name, labels, sum_us / 1e6);
    snprintf(name, sizeof(name), "%s_count", fam);
    sample_u(b, name, labels, run);
    buf_free(&lb);
}

static void quantile_series(struct buf *b, const char *fam, const char *labels,
                            const struct hist *h)
{
    static const struct {
        double q;
        const char *text;
    } qs[] = {{0.5, "50"}, {0.9, "90"}, {0.99, "99"}, {1.0, "100"}};
    struct buf lb = BUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(qs); i++) {
        buf_reset(&lb);
        if (*labels)
            buf_puts(&lb, labels);
        put_label(&lb, "percentile", qs[i].text);
        uint64_t us = qs[i].q >= 1.0 ? h->max : hist_quantile(h, qs[i].q);
        sample_d(b, fam, buf_cstr(&lb), (double)us / 1e6);
    }
    buf_free(&lb);
}

/* ---- the exposition -------------------------------------------------------------------------- */

struct ctx {
    const struct obs *o;
    struct buf *b;
    char **wl; /* worker="NAME" per worker, rendered once */
};

/* Fields named in other units are exported in base units (Prometheus convention). */
static const struct {
    const char *suffix, *base;
    double factor;
} units[] = {{"_kb", "_bytes", 1024.0}, {"_ms", "_seconds", 1e-3}, {"_us", "_seconds", 1e-6}};

/* One family with the fleet series and a series per worker, from a field offset. */
static void scalar_family(struct ctx *x, const struct stats_field *f)
{
    char name[96];
    size_t n = strlen(f->name);
    double factor = 1.0;
    bool counter = f->kind == STAT_COUNTER;
    snprintf(name, sizeof(name), "%s", f->name);
    for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
        size_t sl = strlen(units[u].suffix);
        if (n > sl && strcmp(f->name + n - sl, units[u].suffix) == 0) {
            snprintf(name, sizeof(name), "%.*s%s", (int)(n - sl), f->name, units[u].base);
            factor = units[u].factor;
            break;
        }
    }
    if (counter)
        cs_strlcpy(name + strlen(name), "_total", sizeof(name) - strlen(name));
    family(x->b, name, counter ? "counter" : "gauge", f->help);
    uint64_t v = *(const uint64_t *)((const char *)obs_fleet_stats(x->o) + f->offset);
    if (factor == 1.0)
        sample_u(x->b, name, "", v);
    else
        sample_d(x->b, name, "", (double)v * factor);
    for (size_t i = 0; i < x->o->nw; i++) {
        v = *(const uint64_t *)((const char *)&x->o->w[i].st + f->offset);
        if (factor == 1.0)
            sample_u(x->b, name, x->wl[i], v);
        else
            sample_d(x->b, name, x->wl[i], (double)v * factor);
    }
}

static void by_label_family(struct ctx *x, const char *name, const char *help, const char *label,
                            size_t n, const char *(*label_of)(size_t),
                            uint64_t (*value_of)(const struct worker_stats *, size_t))
{
    struct buf lb = BUF_INIT;
    family(x->b, name, "counter", help);
    for (size_t t = 0; t < n; t++) {
        buf_reset(&lb);
        put_label(&lb, label, label_of(t));
        sample_u(x->b, name, buf_cstr(&lb), value_of(obs_fleet_stats(x->o), t));
    }
    for (size_t i = 0; i < x->o->nw; i++) {
        for (size_t t = 0; t < n; t++) {
            buf_reset(&lb);
            buf_puts(&lb, x->wl[i]);
            put_label(&lb, label, label_of(t));
            sample_u(x->b, name, buf_cstr(&lb), value_of(&x->o->w[i].st, t));
        }
    }
    buf_free(&lb);
}

static const char *msg_label(size_t t)
{
    return catalog_get((enum msg_id)t)->name;
}

static uint64_t msg_value(const struct worker_stats *s, size_t t)
{
    return s->out_by_type[t];
}

static const char *call_label(size_t t)
{
    return t < OCPP_CALLS_IN ? ocpp_call_name((int)t) : "other";
}

static uint64_t call_value(const struct worker_stats *s, size_t t)
{
    return t < OCPP_CALLS_IN ? s->in_by_call[t] : s->in_other;
}

static void fleet_only(struct ctx *x, const char *name, const char *help, int64_t v)
{
    family(x->b, name, "gauge", help);
    sample_d(x->b, name, "", (double)v);
}

/* The per-action families: the fleet's figures, bounded names and codes (cs/astats.h). */
static void action_families(const struct obs *o, struct buf *out)
{
    static const struct {
        const char *name, *help;
        int what; /* 0 calls, 1 answers, 2 callerrors by code, 3 timeouts */
    } fams[] = {
        {"ocpp_calls_total",
         "OCPP CALLs by action: sent by the chargers (direction up) or "
         "received from the platform (down)",
         0},
        {"ocpp_answers_total",
         "CALLRESULTs by action: from the platform (up), sent by the "
         "chargers (down)",
         1},
        {"ocpp_callerrors_total",
         "CALLERRORs by action and code: from the platform (up), "
         "sent by the chargers (down)",
         2},
        {"ocpp_timeouts_total", "the chargers' CALLs the platform left unanswered, by action", 3},
    };
    const struct worker_stats *s = obs_fleet_stats(o);
    struct buf lb = BUF_INIT;
    for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
        family(out, fams[f].name, "counter", fams[f].help);
        for (int d = 0; d < ASTATS_DIRS; d++) {
            if (fams[f].what == 3 && d != ASTATS_UP)
                continue;
            for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
                const struct astats_row *r = astats_row_at(&s->act, (enum astats_dir)d, i);
                if (!r || !(r->calls || r->lat.count || r->timeouts))
                    continue;
                for (int c = 0; c < (fams[f].what == 2 ? ASTATS_CODES : 1); c++) {
                    uint64_t v = fams[f].what == 0   ? r->calls
                                 : fams[f].what == 1 ? r->answered
                                 : fams[f].what == 2 ? r->code[c]
                                                     : r->timeouts;
                    if (fams[f].what == 2 && !v)
                        continue; /* the codes seen: a counter never goes back to 0 */
                    buf_reset(&lb);
                    put_label(&lb, "direction", d == ASTATS_UP ? "up" : "down");
                    put_label(&lb, "action", r->name);
                    if (fams[f].what == 2)
                        put_label(&lb, "code", astats_code_name(c));
                    sample_u(out, fams[f].name, buf_cstr(&lb), v);
                }
            }
        }
    }
    family(out, "ocpp_response_seconds", "histogram",
           "response time by action: our CALL to the platform's answer (direction up), the "
           "platform's CALL to our answer (down), seconds");
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *r = astats_row_at(&s->act, (enum astats_dir)d, i);
            if (!r || !r->lat.count)
                continue;
            buf_reset(&lb);
            put_label(&lb, "direction", d == ASTATS_UP ? "up" : "down");
            put_label(&lb, "action", r->name);
            hist_series(out, "ocpp_response_seconds", buf_cstr(&lb), &r->lat);
        }
    }
    buf_free(&lb);
}

void metrics_render(const struct obs *o, struct buf *out)
{
    struct ctx x = {o, out, NULL};
    struct buf lb = BUF_INIT;

    family(out, "coordinator_leader", "gauge",
           "1 when this coordinator holds the leader lock {ns}:coordinator; a standby reads the "
           "same data and serves it with 0");
    sample_u(out, "coordinator_leader", "", o->leader ? 1 : 0);
    family(out, "coordinator_redis_up", "gauge",
           "1 while the coordinator's Redis connection is up");
    sample_u(out, "coordinator_redis_up", "", o->redis_up ? 1 : 0);
    family(out, "coordinator_info", "gauge",
           "this coordinator: lock holder id, namespace, version");
    put_label(&lb, "id", o->id);
    put_label(&lb, "namespace", o->ns);
    put_label(&lb, "version", CS_VERSION);
    sample_u(out, "coordinator_info", buf_cstr(&lb), 1);
    family(out, "coordinator_last_read_timestamp_seconds", "gauge",
           "when the coordinator last read the workers' stats (unix time; 0 = not yet)");
    sample_d(out, "coordinator_last_read_timestamp_seconds", "", (double)o->read_ms / 1000.0);
    buf_free(&lb);
    if (!o->read_ms)
        return; /* nothing read yet: no fleet series rather than zeros */

    x.wl = cs_calloc(o->nw ? o->nw : 1, sizeof(*x.wl));
    for (size_t i = 0; i < o->nw; i++) {
        struct buf w = BUF_INIT;
        put_label(&w, "worker", o->w[i].name);
        x.wl[i] = buf_detach(&w);
    }

    fleet_only(&x, "fleet_size", "chargers the fleet should run ({ns}:fleet size)", o->size);
    fleet_only(&x, "workers", "live workers (registration lease current)", (int64_t)o->nw);
    fleet_only(&x, "unassigned", "fleet indexes granted to no worker", o->unassigned);
    fleet_only(&x, "surplus", "fleet size beyond the live capacity", o->surplus);
    fleet_only(&x, "assignment_epoch", "assignment epoch ({ns}:assign _epoch)", o->epoch);

    family(out, "capacity", "gauge", "most chargers the workers take (--max-chargers)");
    sample_d(out, "capacity", "", (double)o->capacity);
    for (size_t i = 0; i < o->nw; i++) {
        const char *v = kv_get(&o->w[i].agent, "capacity");
        sample_d(out, "capacity", x.wl[i], v ? (double)strtoll(v, NULL, 10) : 0);
    }

    family(out, "worker_info", "gauge", "a live worker: host, pid and version as registered");
    for (size_t i = 0; i < o->nw; i++) {
        const struct kvlist *a = &o->w[i].agent;
        buf_reset(&lb);
        buf_puts(&lb, x.wl[i]);
        put_label(&lb, "host", kv_get(a, "host") ? kv_get(a, "host") : "");
        put_label(&lb, "pid", kv_get(a, "pid") ? kv_get(a, "pid") : "");
        put_label(&lb, "version", kv_get(a, "version") ? kv_get(a, "version") : "");
        sample_u(out, "worker_info", buf_cstr(&lb), 1);
    }
    family(out, "worker_stats_timestamp_seconds", "gauge",
           "when the worker last wrote its stats (unix time, the worker's clock)");
    for (size_t i = 0; i < o->nw; i++)
        sample_d(out, "worker_stats_timestamp_seconds", x.wl[i], (double)o->w[i].at.ms / 1000.0);

    size_t nf;
    const struct stats_field *f = stats_fields(&nf);
    for (size_t i = 0; i < nf; i++)
        scalar_family(&x, &f[i]);
    by_label_family(&x, "messages_out_total", "messages published, by message type", "type",
                    MSG__COUNT, msg_label, msg_value);
    by_label_family(&x, "platform_calls_total",
                    "CALLs from the platform, by action (other: actions the charger does not know)",
                    "action", OCPP_CALLS_IN + 1, call_label, call_value);

    size_t nh;
    stats_hist_name(0, &nh);
    for (size_t i = 0; i < nh; i++) {
        char fam[64], qfam[80];
        const char *name = stats_hist_name(i, &nh);
        size_t h = 0;
        while (h < ARRAY_SIZE(hists) && strcmp(hists[h].name, name) != 0)
            h++;
        if (h == ARRAY_SIZE(hists))
            continue; /* a histogram this file does not know yet */
        snprintf(fam, sizeof(fam), "%s_latency_seconds", name);
        family(out, fam, "histogram", hists[h].help);
        hist_series(out, fam, "", hist_at(obs_fleet_stats(o), h));
        for (size_t w = 0; w < o->nw; w++)
            hist_series(out, fam, x.wl[w], hist_at(&o->w[w].st, h));
        snprintf(qfam, sizeof(qfam), "%s_latency_percentile_seconds", name);
        buf_reset(&lb);
        buf_printf(&lb,
                   "%s since the workers started: percentiles (upper bucket bounds; 100 = max)",
                   hists[h].help);
        family(out, qfam, "gauge", buf_cstr(&lb));
        quantile_series(out, qfam, "", hist_at(obs_fleet_stats(o), h));
        for (size_t w = 0; w < o->nw; w++)
            quantile_series(out, qfam, x.wl[w], hist_at(&o->w[w].st, h));
    }

    action_families(o, out);

    for (size_t i = 0; i < o->nw; i++)
        cs_free(x.wl[i]);
    cs_free(x.wl);
    buf_free(&lb);
}
