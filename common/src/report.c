/* report.c - a load test's results: the model, thresholds' metrics, table, CSV and JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/report.h"
#include "cs/util.h"

const double report_pct[REPORT_NPCT] = {0.50, 0.66, 0.75,  0.80,   0.90, 0.95,
                                        0.98, 0.99, 0.999, 0.9999, 1.0};
const char *const report_pct_name[REPORT_NPCT] = {"50%", "66%", "75%",   "80%",    "90%", "95%",
                                                  "98%", "99%", "99.9%", "99.99%", "100%"};

static const char *const type_name[ASTATS_DIRS] = {[ASTATS_UP] = "CALL", [ASTATS_DOWN] = "DOWN"};

/* ---- figures ------------------------------------------------------------------------------- */

uint64_t report_requests(const struct report_row *row)
{
    return row->dir == ASTATS_UP ? row->answered + row->errors + row->timeouts : row->calls;
}

uint64_t report_failures(const struct report_row *row)
{
    return row->errors + row->timeouts;
}

double report_ms(const struct hist *h, double q)
{
    if (!h->count)
        return NAN;
    return (double)(q >= 1.0 ? h->max : hist_quantile(h, q)) / 1000.0;
}

static double avg_ms(const struct hist *h)
{
    return h->count ? (double)h->sum / (double)h->count / 1000.0 : NAN;
}

static double min_ms(const struct report_row *r)
{
    return r->lat.count ? (double)r->min_us / 1000.0 : NAN;
}

/* The minimum of a difference: the later figures' minimum and the first bucket both bound
 * it from below. */
static void diff_min(struct report_row *d, const struct report_row *later)
{
    uint64_t lo = hist_min_bound(&d->lat);
    d->min_us = later->min_us > lo && later->min_us <= d->lat.max ? later->min_us : lo;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* dst = a - b for the cumulative parts. */
static void stats_delta(struct worker_stats *dst, const struct worker_stats *a,
                        const struct worker_stats *b)
{
    size_t n;
    const struct stats_field *f = stats_fields(&n);
    for (size_t i = 0; i < n; i++)
        if (f[i].kind == STAT_COUNTER)
            *(uint64_t *)((char *)dst + f[i].offset) =
                sat_sub(*(const uint64_t *)((const char *)a + f[i].offset),
                        *(const uint64_t *)((const char *)b + f[i].offset));
    for (int t = 0; t < MSG__COUNT; t++)
        dst->out_by_type[t] = sat_sub(a->out_by_type[t], b->out_by_type[t]);
    for (int i = 0; i < OCPP_CALLS_IN; i++)
        dst->in_by_call[i] = sat_sub(a->in_by_call[i], b->in_by_call[i]);
    dst->in_other = sat_sub(a->in_other, b->in_other);
    size_t nh;
    stats_hist_name(0, &nh);
    for (size_t i = 0; i < nh; i++)
        hist_sub(stats_hist(dst, i), stats_hist((struct worker_stats *)a, i),
                 stats_hist((struct worker_stats *)b, i));
    astats_sub(&dst->act, &a->act, &b->act);
}

static void row_of(struct report_row *r, enum astats_dir d, const struct astats_row *a)
{
    memset(r, 0, sizeof(*r));
    r->dir = d;
    cs_strlcpy(r->name, a->name, sizeof(r->name));
    r->calls = a->calls;
    r->answered = a->answered;
    r->errors = a->errors;
    r->timeouts = a->timeouts;
    r->bytes = a->bytes;
    memcpy(r->code, a->code, sizeof(r->code));
    r->lat = a->lat;
    r->min_us = a->min_us;
}

static void row_add(struct report_row *dst, const struct report_row *src)
{
    dst->calls += src->calls;
    dst->answered += src->answered;
    dst->errors += src->errors;
    dst->timeouts += src->timeouts;
    dst->bytes += src->bytes;
    for (int c = 0; c < ASTATS_CODES; c++)
        dst->code[c] += src->code[c];
    if (src->lat.count && (!dst->lat.count || src->min_us < dst->min_us))
        dst->min_us = src->min_us;
    hist_merge(&dst->lat, &src->lat);
}

static int by_dir_name(const void *x, const void *y)
{
    const struct report_row *a = x, *b = y;
    if (a->dir != b->dir)
        return (int)a->dir - (int)b->dir;
    return strcmp(a->name, b->name);
}

static bool row_active(const struct astats_row *a)
{
    return a->calls || a->answered || a->errors || a->timeouts || a->lat.count;
}

struct report *report_new(const struct kvlist *run, int64_t start_ms, const struct kvlist *start,
                          int64_t end_ms, const struct kvlist *end, bool live)
{
    struct report *r = cs_calloc(1, sizeof(*r));
    kv_copy(&r->run, run);
    r->start_ms = start_ms;
    r->end_ms = end_ms;
    r->duration_s = end_ms > start_ms ? (double)(end_ms - start_ms) / 1000.0 : 0;
    r->live = live;
    r->start_ = cs_calloc(1, sizeof(*r->start_));
    r->end = cs_calloc(1, sizeof(*r->end));
    r->delta = cs_calloc(1, sizeof(*r->delta));
    stats_add_parts(r->start_, start, STATS_P_CUM);
    stats_add_parts(r->end, end, STATS_P_CUM | STATS_P_GAUGE);
    stats_delta(r->delta, r->end, r->start_);

    r->agg_up.dir = ASTATS_UP;
    r->agg_down.dir = ASTATS_DOWN;
    cs_strlcpy(r->agg_up.name, "Aggregated", sizeof(r->agg_up.name));
    cs_strlcpy(r->agg_down.name, "Aggregated", sizeof(r->agg_down.name));
    r->rows = cs_calloc(ASTATS_UP_ROWS + ASTATS_DOWN_ROWS, sizeof(*r->rows));
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *a = astats_row_at(&r->delta->act, (enum astats_dir)d, i);
            if (!a || !row_active(a))
                continue;
            struct report_row *row = &r->rows[r->nrows++];
            row_of(row, (enum astats_dir)d, a);
            row_add(d == ASTATS_UP ? &r->agg_up : &r->agg_down, row);
        }
    }
    qsort(r->rows, r->nrows, sizeof(*r->rows), by_dir_name);
    return r;
}

static void free_point(struct report_point *p)
{
    cs_free(p->rps);
    cs_free(p->fps);
    cs_free(p->p95);
}

void report_free(struct report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->npts; i++)
        free_point(&r->pts[i]);
    cs_free(r->pts);
    cs_free(r->rows);
    cs_free(r->delta);
    cs_free(r->end);
    cs_free(r->start_);
    cs_free(r->prev_);
    cs_free(r->checks);
    kv_free(&r->run);
    cs_free(r);
}

/* ---- history ------------------------------------------------------------------------------- */

static const struct hist empty_hist;

static const struct astats_row *find_row(const struct worker_stats *s, const struct report_row *r)
{
    return astats_find(&s->act, r->dir, r->name);
}

void report_add_history(struct report *r, int64_t ms, const struct kvlist *entry)
{
    int64_t prev_ms = r->npts ? r->pts[r->npts - 1].ms : r->start_ms;
    const struct worker_stats *prev = r->prev_ ? r->prev_ : r->start_;
    if (ms <= prev_ms)
        return; /* the start itself, or out of order */
    struct worker_stats *cur = cs_calloc(1, sizeof(*cur));
    stats_add_parts(cur, entry, STATS_P_CUM | STATS_P_GAUGE);
    if (r->npts == r->cap_) {
        r->cap_ = r->cap_ ? r->cap_ * 2 : 64;
        r->pts = cs_realloc(r->pts, r->cap_ * sizeof(*r->pts));
    }
    struct report_point *p = &r->pts[r->npts++];
    memset(p, 0, sizeof(*p));
    p->ms = ms;
    p->dt_s = (double)(ms - prev_ms) / 1000.0;
    p->connected = cur->connected;
    p->chargers = cur->assigned;
    p->charging = cur->charging;
    p->faulted = cur->faulted;
    p->transactions = cur->transactions;
    p->offline = cur->offline;
    p->rps = cs_calloc(r->nrows ? r->nrows : 1, sizeof(double));
    p->fps = cs_calloc(r->nrows ? r->nrows : 1, sizeof(double));
    p->p95 = cs_calloc(r->nrows ? r->nrows : 1, sizeof(double));

    struct report_row agg, tot;
    memset(&agg, 0, sizeof(agg));
    memset(&tot, 0, sizeof(tot));
    agg.dir = tot.dir = ASTATS_UP;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct astats_row *c = find_row(cur, &r->rows[i]), *b = find_row(prev, &r->rows[i]),
                                *s = find_row(r->start_, &r->rows[i]);
        struct report_row now, then, start, d;
        struct astats_row zero;
        memset(&zero, 0, sizeof(zero));
        row_of(&now, r->rows[i].dir, c ? c : &zero);
        row_of(&then, r->rows[i].dir, b ? b : &zero);
        row_of(&start, r->rows[i].dir, s ? s : &zero);
        memset(&d, 0, sizeof(d));
        d.dir = r->rows[i].dir;
        d.calls = sat_sub(now.calls, then.calls);
        d.answered = sat_sub(now.answered, then.answered);
        d.errors = sat_sub(now.errors, then.errors);
        d.timeouts = sat_sub(now.timeouts, then.timeouts);
        hist_sub(&d.lat, &now.lat, b ? &then.lat : &empty_hist);
        diff_min(&d, &now);
        p->rps[i] = p->dt_s > 0 ? (double)report_requests(&d) / p->dt_s : NAN;
        p->fps[i] = p->dt_s > 0 ? (double)report_failures(&d) / p->dt_s : NAN;
        p->p95[i] = report_ms(&d.lat, 0.95);
        if (d.dir != ASTATS_UP)
            continue;
        row_add(&agg, &d);
        struct report_row t;
        memset(&t, 0, sizeof(t));
        t.dir = ASTATS_UP;
        t.answered = sat_sub(now.answered, start.answered);
        t.errors = sat_sub(now.errors, start.errors);
        t.timeouts = sat_sub(now.timeouts, start.timeouts);
        t.bytes = sat_sub(now.bytes, start.bytes);
        hist_sub(&t.lat, &now.lat, s ? &start.lat : &empty_hist);
        diff_min(&t, &now);
        row_add(&tot, &t);
    }
    p->agg_rps = p->dt_s > 0 ? (double)report_requests(&agg) / p->dt_s : NAN;
    p->agg_fps = p->dt_s > 0 ? (double)report_failures(&agg) / p->dt_s : NAN;
    for (int k = 0; k < REPORT_NPCT; k++)
        p->agg_p[k] = report_ms(&agg.lat, report_pct[k]);
    p->tot_req = report_requests(&tot);
    p->tot_fail = report_failures(&tot);
    p->tot_bytes = tot.bytes;
    p->tot_p50 = report_ms(&tot.lat, 0.5);
    p->tot_avg = avg_ms(&tot.lat);
    p->tot_min = min_ms(&tot);
    p->tot_max = report_ms(&tot.lat, 1.0);
    cs_free(r->prev_);
    r->prev_ = cur;
}

/* ---- metrics (thresholds) ------------------------------------------------------------------ */

/* A stat of a row; false when there is nothing to measure. */
static bool row_stat(const struct report *r, const struct report_row *row, const char *stat,
                     double *v)
{
    uint64_t req = report_requests(row), fail = report_failures(row);
    double q;
    if (strncmp(stat, "err.", 4) == 0) {
        *v = (double)row->code[astats_code_of(stat + 4)];
        return true;
    }
    static const char *const counts[] = {"count",    "calls",    "answered", "errors",
                                         "timeouts", "failures", "bytes"};
    const uint64_t cv[] = {req,           row->calls, row->answered, row->errors,
                           row->timeouts, fail,       row->bytes};
    for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
        if (strcmp(stat, counts[i]) == 0) {
            *v = (double)cv[i];
            return true;
        }
    }
    if (strcmp(stat, "error_rate") == 0) {
        *v = req ? (double)fail / (double)req : NAN;
        return req > 0;
    }
    if (strcmp(stat, "rps") == 0 || strcmp(stat, "fps") == 0) {
        *v = r->duration_s > 0 ? (double)(stat[0] == 'r' ? req : fail) / r->duration_s : NAN;
        return r->duration_s > 0;
    }
    if (strcmp(stat, "avg") == 0)
        *v = avg_ms(&row->lat);
    else if (strcmp(stat, "min") == 0)
        *v = min_ms(row);
    else if (strcmp(stat, "max") == 0)
        *v = report_ms(&row->lat, 1.0);
    else if (thresh_quantile(stat, &q))
        *v = report_ms(&row->lat, q);
    else
        return false;
    return row->lat.count > 0;
}

bool report_lookup(void *ctx, const char *metric, bool worst_high, double *value, char *what,
                   size_t whatlen)
{
    const struct report *r = ctx;
    if (whatlen)
        what[0] = '\0';
    uint64_t req = report_requests(&r->agg_up), fail = report_failures(&r->agg_up);
    if (strcmp(metric, "errors") == 0 || strcmp(metric, "errors.count") == 0) {
        *value = (double)fail;
        return true;
    }
    if (strcmp(metric, "errors.rate") == 0) {
        *value = req ? (double)fail / (double)req : NAN;
        return req > 0;
    }
    if (strcmp(metric, "requests") == 0) {
        *value = (double)req;
        return true;
    }
    if (strcmp(metric, "rps") == 0) {
        *value = r->duration_s > 0 ? (double)req / r->duration_s : NAN;
        return r->duration_s > 0;
    }
    size_t n;
    const struct stats_field *f = stats_fields(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i].name, metric) != 0)
            continue;
        const struct worker_stats *s = f[i].kind == STAT_COUNTER ? r->delta : r->end;
        *value = (double)*(const uint64_t *)((const char *)s + f[i].offset);
        return true;
    }
    if (strncmp(metric, "out.", 4) == 0 || strncmp(metric, "in.", 3) == 0) {
        for (int t = 0; t < MSG__COUNT; t++) {
            char k[64];
            snprintf(k, sizeof(k), "out.%s", catalog_get((enum msg_id)t)->name);
            if (strcmp(k, metric) == 0) {
                *value = (double)r->delta->out_by_type[t];
                return true;
            }
        }
        for (int i = 0; i < OCPP_CALLS_IN; i++) {
            char k[64];
            snprintf(k, sizeof(k), "in.%s", ocpp_call_name(i));
            if (strcmp(k, metric) == 0) {
                *value = (double)r->delta->in_by_call[i];
                return true;
            }
        }
        *value = (double)r->delta->in_other;
        return strcmp(metric, "in.other") == 0;
    }
    const char *dot = strchr(metric, '.');
    if (!dot)
        return false;
    size_t pl = (size_t)(dot - metric);
    size_t nh;
    for (size_t i = 0; stats_hist_name(i, &nh); i++) {
        const char *h = stats_hist_name(i, &nh);
        if (strlen(h) != pl || strncmp(metric, h, pl) != 0 || strcmp(h, "conf") == 0)
            continue;
        struct report_row tmp;
        memset(&tmp, 0, sizeof(tmp));
        tmp.lat = *stats_hist(r->delta, i);
        tmp.answered = tmp.lat.count;
        return row_stat(r, &tmp, dot + 1, value);
    }
    enum astats_dir d;
    if (pl == 4 && strncmp(metric, "conf", 4) == 0)
        d = ASTATS_UP;
    else if (pl == 4 && strncmp(metric, "down", 4) == 0)
        d = ASTATS_DOWN;
    else
        return false;
    const struct report_row *agg = d == ASTATS_UP ? &r->agg_up : &r->agg_down;
    const char *act = dot + 1, *dot2 = strchr(act, '.');
    double q;
    /* conf.<stat>: the aggregate (a stat may hold a dot: p99.9) */
    if (!dot2 || thresh_quantile(act, &q) || strncmp(act, "err.", 4) == 0 ||
        (!strchr(act, '.') || strcmp(act, "error_rate") == 0))
        if (row_stat(r, agg, act, value))
            return true;
    if (!dot2)
        return false;
    size_t al = (size_t)(dot2 - act);
    const char *stat = dot2 + 1;
    if (al == 3 && strncmp(act, "all", 3) == 0)
        return row_stat(r, agg, stat, value);
    bool wild = al == 1 && act[0] == '*', found = false;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct report_row *row = &r->rows[i];
        if (row->dir != d)
            continue;
        if (!wild && (strlen(row->name) != al || strncmp(row->name, act, al) != 0))
            continue;
        double v;
        if (!row_stat(r, row, stat, &v) || isnan(v))
            continue;
        if (!found || (worst_high ? v > *value : v < *value)) {
            *value = v;
            if (wild && whatlen)
                snprintf(what, whatlen, "%s", row->name);
        }
        found = true;
    }
    return found;
}

size_t report_check(struct report *r, const struct thresh *t, size_t n)
{
    size_t failed = 0;
    cs_free(r->checks);
    r->checks = cs_calloc(n ? n : 1, sizeof(*r->checks));
    r->nchecks = n;
    for (size_t i = 0; i < n; i++) {
        thresh_eval(&t[i], report_lookup, r, &r->checks[i]);
        failed += !r->checks[i].passed;
    }
    return failed;
}

/* ---- table --------------------------------------------------------------------------------- */

static void when(char *out, size_t n, int64_t ms)
{
    cs_fmt_iso8601(out, n, ms);
}

static void table_ms(struct buf *b, double v, int w)
{
    if (isnan(v))
        buf_printf(b, " %*s", w, "-");
    else if (v < 10)
        buf_printf(b, " %*.1f", w, v);
    else
        buf_printf(b, " %*.0f", w, v);
}

static void table_row(const struct report *r, struct buf *b, const struct report_row *row)
{
    uint64_t req = report_requests(row), fail = report_failures(row);
    char fails[48];
    snprintf(fails, sizeof(fails), "%llu(%.2f%%)", (unsigned long long)fail,
             req ? 100.0 * (double)fail / (double)req : 0.0);
    buf_printf(b, "%-5s %-34.34s %8llu %14s |",
               row == &r->agg_up || row == &r->agg_down ? "" : type_name[row->dir], row->name,
               (unsigned long long)req, fails);
    table_ms(b, avg_ms(&row->lat), 7);
    table_ms(b, min_ms(row), 7);
    table_ms(b, report_ms(&row->lat, 1.0), 7);
    table_ms(b, report_ms(&row->lat, 0.5), 7);
    double d = r->duration_s > 0 ? r->duration_s : NAN;
    buf_printf(b, " | %7.2f %10.2f\n", (double)req / d, (double)fail / d);
}

static void table_pct_row(struct buf *b, const struct report_row *row, bool agg)
{
    buf_printf(b, "%-5s %-34.34s", agg ? "" : type_name[row->dir], row->name);
    for (int k = 0; k < REPORT_NPCT; k++)
        table_ms(b, report_ms(&row->lat, report_pct[k]), 6);
    buf_printf(b, " %8llu\n", (unsigned long long)report_requests(row));
}

static bool has_dir(const struct report *r, enum astats_dir d)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].dir == d)
            return true;
    return false;
}

/* Text from Redis on a terminal: control characters as '?'. */
static void put_text(struct buf *b, const char *s)
{
    for (; s && *s; s++)
        buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void header(const struct report *r, struct buf *b)
{
    char s[32], e[32];
    when(s, sizeof(s), r->start_ms);
    when(e, sizeof(e), r->end_ms);
    const char *id = kv_get(&r->run, "id"), *name = kv_get(&r->run, "name");
    if (id) {
        buf_puts(b, "run ");
        put_text(b, id);
        buf_puts(b, " (");
        put_text(b, name);
        buf_printf(b, ")%s\n", r->live ? ", still running" : "");
    }
    buf_printf(b, "from %s to %s: %.1f s\n", s, e, r->duration_s);
    if (r->note[0]) {
        buf_puts(b, "note: ");
        put_text(b, r->note);
        buf_putc(b, '\n');
    }
    buf_putc(b, '\n');
}

void report_table(const struct report *r, struct buf *b)
{
    header(r, b);
    buf_printf(b, "%-5s %-34s %8s %14s | %7s %7s %7s %7s | %7s %10s\n", "Type", "Name", "# reqs",
               "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s");
    buf_printf(b, "%.*s\n", 114,
               "----------------------------------------------------------"
               "--------------------------------------------------------"
               "--------");
    for (int d = 0; d < ASTATS_DIRS; d++) {
        if (!has_dir(r, (enum astats_dir)d))
            continue;
        for (size_t i = 0; i < r->nrows; i++)
            if (r->rows[i].dir == (enum astats_dir)d)
                table_row(r, b, &r->rows[i]);
        table_row(r, b, d == ASTATS_UP ? &r->agg_up : &r->agg_down);
        buf_putc(b, '\n');
    }
    if (!r->nrows)
        buf_printf(b, "(no CALLs in this range)\n\n");
    buf_printf(b, "Response time percentiles, ms (upper bounds of ~19%% buckets)\n");
    buf_printf(b, "%-5s %-34s", "Type", "Name");
    for (int k = 0; k < REPORT_NPCT; k++)
        buf_printf(b, " %6s", report_pct_name[k]);
    buf_printf(b, " %8s\n", "# reqs");
    for (int d = 0; d < ASTATS_DIRS; d++) {
        if (!has_dir(r, (enum astats_dir)d))
            continue;
        for (size_t i = 0; i < r->nrows; i++)
            if (r->rows[i].dir == (enum astats_dir)d)
                table_pct_row(b, &r->rows[i], false);
        table_pct_row(b, d == ASTATS_UP ? &r->agg_up : &r->agg_down, true);
    }
    bool any = false;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct report_row *row = &r->rows[i];
        for (int c = 0; c < ASTATS_CODES; c++) {
            if (!row->code[c])
                continue;
            if (!any)
                buf_printf(b, "\nError report\n%-12s %-5s %-34s %s\n", "# occurrences", "Type",
                           "Name", "Error");
            any = true;
            buf_printf(b, "%-12llu %-5s %-34s CALLERROR %s\n", (unsigned long long)row->code[c],
                       type_name[row->dir], row->name, astats_code_name(c));
        }
        if (row->timeouts) {
            if (!any)
                buf_printf(b, "\nError report\n%-12s %-5s %-34s %s\n", "# occurrences", "Type",
                           "Name", "Error");
            any = true;
            buf_printf(b, "%-12llu %-5s %-34s timeout (no answer within call_timeout_s)\n",
                       (unsigned long long)row->timeouts, type_name[row->dir], row->name);
        }
    }
    if (r->nchecks) {
        buf_printf(b, "\nThresholds\n");
        for (size_t i = 0; i < r->nchecks; i++) {
            thresh_line(&r->checks[i], b);
            buf_putc(b, '\n');
        }
    }
}

/* ---- CSV (Locust's columns) ---------------------------------------------------------------- */

/* A CSV cell: quoted when it holds a comma, a quote or a line break. */
static void csv_cell(struct buf *b, const char *s, bool first)
{
    if (!first)
        buf_putc(b, ',');
    if (!strpbrk(s, ",\"\r\n")) {
        buf_puts(b, s);
        return;
    }
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

static void csv_num(struct buf *b, double v, const char *fmt)
{
    char n[48];
    if (isnan(v))
        snprintf(n, sizeof(n), "0");
    else
        snprintf(n, sizeof(n), fmt, v);
    csv_cell(b, n, false);
}

static void csv_u(struct buf *b, uint64_t v)
{
    char n[24];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)v);
    csv_cell(b, n, false);
}

static void csv_pcts(struct buf *b, const struct hist *h, uint64_t requests)
{
    for (int k = 0; k < REPORT_NPCT; k++) {
        if (!requests || !h->count)
            csv_cell(b, "N/A", false);
        else
            csv_num(b, round(report_ms(h, report_pct[k])), "%.0f");
    }
}

static void csv_stats_row(const struct report *r, struct buf *b, const struct report_row *row,
                          bool agg)
{
    uint64_t req = report_requests(row), fail = report_failures(row);
    double d = r->duration_s > 0 ? r->duration_s : NAN;
    csv_cell(b, agg ? "" : type_name[row->dir], true);
    csv_cell(b, row->name, false);
    csv_u(b, req);
    csv_u(b, fail);
    csv_num(b, round(report_ms(&row->lat, 0.5)), "%.0f");
    csv_num(b, avg_ms(&row->lat), "%.6f");
    csv_num(b, round(min_ms(row)), "%.0f");
    csv_num(b, round(report_ms(&row->lat, 1.0)), "%.0f");
    csv_num(b, req ? (double)row->bytes / (double)req : 0, "%.6f");
    csv_num(b, (double)req / d, "%.6f");
    csv_num(b, (double)fail / d, "%.6f");
    csv_pcts(b, &row->lat, req);
    buf_puts(b, "\r\n");
}

static void csv_header(struct buf *b, const char *const *cols, size_t n, bool pct_after,
                       const char *const *tail, size_t ntail)
{
    for (size_t i = 0; i < n; i++)
        csv_cell(b, cols[i], i == 0);
    if (pct_after)
        for (int k = 0; k < REPORT_NPCT; k++)
            csv_cell(b, report_pct_name[k], false);
    for (size_t i = 0; i < ntail; i++)
        csv_cell(b, tail[i], false);
    buf_puts(b, "\r\n");
}

void report_csv_stats(const struct report *r, struct buf *b)
{
    static const char *const cols[] = {"Type",
                                       "Name",
                                       "Request Count",
                                       "Failure Count",
                                       "Median Response Time",
                                       "Average Response Time",
                                       "Min Response Time",
                                       "Max Response Time",
                                       "Average Content Size",
                                       "Requests/s",
                                       "Failures/s"};
    csv_header(b, cols, ARRAY_SIZE(cols), true, NULL, 0);
    for (size_t i = 0; i < r->nrows; i++)
        csv_stats_row(r, b, &r->rows[i], false);
    csv_stats_row(r, b, &r->agg_up, true);
}

void report_csv_history(const struct report *r, struct buf *b)
{
    static const char *const cols[] = {"Timestamp", "User Count", "Type",
                                       "Name",      "Requests/s", "Failures/s"};
    static const char *const tail[] = {"Total Request Count",        "Total Failure Count",
                                       "Total Median Response Time", "Total Average Response Time",
                                       "Total Min Response Time",    "Total Max Response Time",
                                       "Total Average Content Size"};
    csv_header(b, cols, ARRAY_SIZE(cols), true, tail, ARRAY_SIZE(tail));
    for (size_t i = 0; i < r->npts; i++) {
        const struct report_point *p = &r->pts[i];
        char ts[24];
        snprintf(ts, sizeof(ts), "%lld", (long long)(p->ms / 1000));
        csv_cell(b, ts, true);
        csv_u(b, p->connected);
        csv_cell(b, "", false);
        csv_cell(b, "Aggregated", false);
        csv_num(b, p->agg_rps, "%.6f");
        csv_num(b, p->agg_fps, "%.6f");
        for (int k = 0; k < REPORT_NPCT; k++) {
            if (isnan(p->agg_p[k]))
                csv_cell(b, "N/A", false);
            else
                csv_num(b, round(p->agg_p[k]), "%.0f");
        }
        csv_u(b, p->tot_req);
        csv_u(b, p->tot_fail);
        csv_num(b, round(p->tot_p50), "%.0f");
        csv_num(b, p->tot_avg, "%.6f");
        csv_num(b, round(p->tot_min), "%.0f");
        csv_num(b, round(p->tot_max), "%.0f");
        csv_num(b, p->tot_req ? (double)p->tot_bytes / (double)p->tot_req : 0, "%.6f");
        buf_puts(b, "\r\n");
    }
}

void report_csv_failures(const struct report *r, struct buf *b)
{
    static const char *const cols[] = {"Method", "Name", "Error", "Occurrences"};
    csv_header(b, cols, ARRAY_SIZE(cols), false, NULL, 0);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct report_row *row = &r->rows[i];
        for (int c = 0; c < ASTATS_CODES; c++) {
            if (!row->code[c])
                continue;
            char e[64];
            snprintf(e, sizeof(e), "CALLERROR %s", astats_code_name(c));
            csv_cell(b, type_name[row->dir], true);
            csv_cell(b, row->name, false);
            csv_cell(b, e, false);
            csv_u(b, row->code[c]);
            buf_puts(b, "\r\n");
        }
        if (row->timeouts) {
            csv_cell(b, type_name[row->dir], true);
            csv_cell(b, row->name, false);
            csv_cell(b, "timeout", false);
            csv_u(b, row->timeouts);
            buf_puts(b, "\r\n");
        }
    }
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void jnum(struct jw *j, const char *k, double v, int dec)
{
    jw_key(j, k);
    if (isnan(v) || isinf(v))
        jw_null(j);
    else
        jw_double(j, v, dec);
}

static void json_row(const struct report *r, struct jw *j, const struct report_row *row)
{
    uint64_t req = report_requests(row), fail = report_failures(row);
    double d = r->duration_s > 0 ? r->duration_s : NAN;
    jw_obj(j);
    jw_kstr(j, "type", type_name[row->dir]);
    jw_kstr(j, "name", row->name);
    jw_kint(j, "requests", (int64_t)req);
    jw_kint(j, "failures", (int64_t)fail);
    jw_kint(j, "calls", (int64_t)row->calls);
    jw_kint(j, "answered", (int64_t)row->answered);
    jw_kint(j, "errors", (int64_t)row->errors);
    if (row->dir == ASTATS_UP)
        jw_kint(j, "timeouts", (int64_t)row->timeouts);
    jw_kint(j, "bytes", (int64_t)row->bytes);
    jnum(j, "error_rate", req ? (double)fail / (double)req : NAN, 6);
    jnum(j, "rps", (double)req / d, 4);
    jnum(j, "fps", (double)fail / d, 4);
    jnum(j, "avg_ms", avg_ms(&row->lat), 3);
    jnum(j, "min_ms", min_ms(row), 3);
    jnum(j, "max_ms", report_ms(&row->lat, 1.0), 3);
    jnum(j, "median_ms", report_ms(&row->lat, 0.5), 3);
    jw_key(j, "percentiles_ms");
    jw_obj(j);
    for (int k = 0; k < REPORT_NPCT; k++) {
        char name[16];
        snprintf(name, sizeof(name), "%.*s", (int)strlen(report_pct_name[k]) - 1,
                 report_pct_name[k]);
        jnum(j, name, report_ms(&row->lat, report_pct[k]), 3);
    }
    jw_end(j);
    jw_key(j, "errors_by_code");
    jw_obj(j);
    for (int c = 0; c < ASTATS_CODES; c++)
        if (row->code[c])
            jw_kint(j, astats_code_name(c), (int64_t)row->code[c]);
    jw_end(j);
    struct buf h = BUF_INIT;
    hist_format(&row->lat, &h);
    jw_kstr(j, "histogram", buf_cstr(&h));
    buf_free(&h);
    jw_end(j);
}

static void json_series(struct jw *j, const char *k, const struct report *r, size_t off, int dec)
{
    jw_key(j, k);
    jw_arr(j);
    for (size_t i = 0; i < r->npts; i++) {
        double v = *(const double *)((const char *)&r->pts[i] + off);
        if (isnan(v))
            jw_null(j);
        else
            jw_double(j, v, dec);
    }
    jw_end(j);
}

static void json_useries(struct jw *j, const char *k, const struct report *r, size_t off)
{
    jw_key(j, k);
    jw_arr(j);
    for (size_t i = 0; i < r->npts; i++)
        jw_int(j, (int64_t) * (const uint64_t *)((const char *)&r->pts[i] + off));
    jw_end(j);
}

static void json_row_series(struct jw *j, const char *k, const struct report *r, size_t row,
                            int which)
{
    jw_key(j, k);
    jw_arr(j);
    for (size_t i = 0; i < r->npts; i++) {
        const double *a = which == 0 ? r->pts[i].rps : which == 1 ? r->pts[i].fps : r->pts[i].p95;
        if (isnan(a[row]))
            jw_null(j);
        else
            jw_double(j, a[row], 3);
    }
    jw_end(j);
}

static void json_history(const struct report *r, struct jw *j)
{
    jw_key(j, "history");
    jw_obj(j);
    jw_key(j, "t");
    jw_arr(j);
    for (size_t i = 0; i < r->npts; i++)
        jw_int(j, r->pts[i].ms);
    jw_end(j);
#define OFF(f) offsetof(struct report_point, f)
    json_useries(j, "connected", r, OFF(connected));
    json_useries(j, "chargers", r, OFF(chargers));
    json_useries(j, "charging", r, OFF(charging));
    json_useries(j, "faulted", r, OFF(faulted));
    json_useries(j, "transactions", r, OFF(transactions));
    json_useries(j, "offline", r, OFF(offline));
    json_series(j, "rps", r, OFF(agg_rps), 3);
    json_series(j, "fps", r, OFF(agg_fps), 3);
    for (int k = 0; k < REPORT_NPCT; k++) {
        static const int show[] = {0, 5, 7}; /* 50, 95, 99 */
        for (size_t s = 0; s < ARRAY_SIZE(show); s++) {
            if (show[s] != k)
                continue;
            char name[24];
            snprintf(name, sizeof(name), "p%.*s_ms", (int)strlen(report_pct_name[k]) - 1,
                     report_pct_name[k]);
            json_series(j, name, r, OFF(agg_p) + (size_t)k * sizeof(double), 3);
        }
    }
#undef OFF
    jw_key(j, "actions");
    jw_obj(j);
    for (size_t i = 0; i < r->nrows; i++) {
        char k[80];
        snprintf(k, sizeof(k), "%s %s", type_name[r->rows[i].dir], r->rows[i].name);
        jw_key(j, k);
        jw_obj(j);
        json_row_series(j, "rps", r, i, 0);
        json_row_series(j, "fps", r, i, 1);
        json_row_series(j, "p95_ms", r, i, 2);
        jw_end(j);
    }
    jw_end(j);
    jw_end(j);
}

static void json_latency(const struct report *r, struct jw *j)
{
    jw_key(j, "latency");
    jw_obj(j);
    size_t nh;
    const char *h;
    for (size_t i = 0; (h = stats_hist_name(i, &nh)) != NULL; i++) {
        const struct hist *x = stats_hist(r->delta, i);
        jw_key(j, h);
        jw_obj(j);
        jw_kint(j, "count", (int64_t)x->count);
        jnum(j, "p50_ms", report_ms(x, 0.5), 3);
        jnum(j, "p90_ms", report_ms(x, 0.9), 3);
        jnum(j, "p95_ms", report_ms(x, 0.95), 3);
        jnum(j, "p99_ms", report_ms(x, 0.99), 3);
        jnum(j, "max_ms", report_ms(x, 1.0), 3);
        jw_end(j);
    }
    jw_end(j);
}

void report_json(const struct report *r, struct buf *out)
{
    struct jw j;
    jw_init(&j, out);
    jw_obj(&j);
    jw_key(&j, "run");
    jw_obj(&j);
    for (size_t i = 0; i < r->run.n; i++) {
        jw_key(&j, r->run.v[i].key);
        /* numbers as numbers; the scenario and the config stay text (they are documents) */
        if (strcmp(r->run.v[i].key, "scenario") == 0 || strcmp(r->run.v[i].key, "config") == 0 ||
            !json_is_number(r->run.v[i].val))
            jw_str(&j, r->run.v[i].val);
        else
            jw_raw(&j, r->run.v[i].val, strlen(r->run.v[i].val));
    }
    jw_end(&j);
    jw_kint(&j, "start_ms", r->start_ms);
    jw_kint(&j, "end_ms", r->end_ms);
    jw_kdouble(&j, "duration_s", r->duration_s, 3);
    jw_kbool(&j, "live", r->live);
    jw_kstr(&j, "note", r->note);
    jw_key(&j, "actions");
    jw_arr(&j);
    for (size_t i = 0; i < r->nrows; i++)
        json_row(r, &j, &r->rows[i]);
    jw_end(&j);
    jw_key(&j, "aggregated");
    jw_obj(&j);
    jw_key(&j, "CALL");
    json_row(r, &j, &r->agg_up);
    jw_key(&j, "DOWN");
    json_row(r, &j, &r->agg_down);
    jw_end(&j);

    jw_key(&j, "fleet");
    jw_obj(&j);
    jw_key(&j, "counters");
    jw_obj(&j);
    size_t n;
    const struct stats_field *f = stats_fields(&n);
    for (size_t i = 0; i < n; i++)
        if (f[i].kind == STAT_COUNTER)
            jw_kint(&j, f[i].name,
                    (int64_t) * (const uint64_t *)((const char *)r->delta + f[i].offset));
    jw_end(&j);
    jw_key(&j, "at_end");
    jw_obj(&j);
    for (size_t i = 0; i < n; i++)
        if (f[i].kind == STAT_GAUGE)
            jw_kint(&j, f[i].name,
                    (int64_t) * (const uint64_t *)((const char *)r->end + f[i].offset));
    jw_end(&j);
    json_latency(r, &j);
    jw_end(&j);
    json_history(r, &j);

    jw_key(&j, "thresholds");
    jw_arr(&j);
    bool passed = true;
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct thresh_result *c = &r->checks[i];
        char v[48];
        passed &= c->passed;
        jw_obj(&j);
        jw_kstr(&j, "expr", c->t.text);
        jw_kstr(&j, "metric", c->t.metric);
        jw_kbool(&j, "passed", c->passed);
        jw_kbool(&j, "measured", c->have);
        jnum(&j, "value", c->have ? c->value : NAN, 6);
        jnum(&j, "limit", c->t.limit, 6);
        thresh_format(c->t.kind, c->have ? c->value : 0, v, sizeof(v));
        jw_kstr(&j, "shown", c->have ? v : "no samples");
        jw_kstr(&j, "action", c->what);
        jw_end(&j);
    }
    jw_end(&j);
    jw_kbool(&j, "passed", passed);
    jw_end(&j);
}
