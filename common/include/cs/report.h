/* report.h - a load test's results, from what the swarm keeps in Redis (pure: the caller reads
 * Redis and hands the hashes and entries in).
 *
 * The figures of a report are the difference of two cumulative snapshots of the fleet (each in
 * the format of {ns}:stats, cs/stats.h): a run's base and its end (or the live {ns}:stats while
 * it runs), or two {ns}:history entries for a time range. The history entries between them give
 * the figures over time. Per action: requests, failures (CALLERRORs and timeouts), response-time
 * percentiles from the merged histograms (the buckets' ~19% resolution: each percentile is the
 * upper bound of its bucket, never more than the slowest sample), requests and failures per
 * second, bytes, CALLERRORs by code.
 *
 * Renderings: a table like Locust's end-of-run summary, Locust's CSV files (_stats.csv,
 * _stats_history.csv, _failures.csv, with its exact columns), JSON with every figure, and one
 * self-contained HTML page (report_html.c). Thresholds look their metrics up here
 * (report_lookup). */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/astats.h"
#include "cs/buf.h"
#include "cs/hist.h"
#include "cs/kv.h"
#include "cs/stats.h"
#include "cs/thresh.h"

/* Locust's percentiles: 50 66 75 80 90 95 98 99 99.9 99.99 100. */
#define REPORT_NPCT 11
extern const double report_pct[REPORT_NPCT];
extern const char *const report_pct_name[REPORT_NPCT]; /* "50%" ... "100%" */

struct report_row {
    enum astats_dir dir;
    char name[ASTATS_NAME_MAX]; /* "Aggregated" for the sums */
    uint64_t calls, answered, errors, timeouts, bytes;
    uint64_t code[ASTATS_CODES];
    struct hist lat; /* µs */
    uint64_t min_us; /* a lower bound of the fastest response, exact when known */
};

/* One history entry: the fleet then, and the interval that ends there. */
struct report_point {
    int64_t ms;  /* wall clock */
    double dt_s; /* since the previous point; 0 for the first */
    uint64_t connected, chargers, charging, faulted, transactions, offline;
    /* over the interval before the point (NaN where nothing to measure) */
    double *rps, *fps, *p95;   /* per row of the report (nrows) */
    double agg_rps, agg_fps;   /* the CALL rows together */
    double agg_p[REPORT_NPCT]; /* ms */
    /* since the report's start (the CALL rows together) */
    uint64_t tot_req, tot_fail, tot_bytes;
    double tot_p50, tot_avg, tot_min, tot_max; /* ms */
};

struct report {
    struct kvlist run; /* the run's record as kept in Redis (empty for a time range) */
    int64_t start_ms, end_ms;
    double duration_s;
    bool live;               /* the end is the fleet now: the run goes on */
    struct report_row *rows; /* CALL rows by name, then DOWN rows by name */
    size_t nrows;
    struct report_row agg_up, agg_down; /* "Aggregated" of each direction */
    struct worker_stats *delta;         /* cumulative figures, end minus start */
    struct worker_stats *end;           /* everything at the end (gauges) */
    struct report_point *pts;
    size_t npts;
    struct thresh_result *checks;
    size_t nchecks;
    char note[256]; /* what is missing, for the reader ("" when complete) */
    /* while history is added */
    struct worker_stats *start_, *prev_;
    size_t cap_;
};

/* A report from two cumulative snapshots (start may be empty: from zero). Caller frees with
 * report_free; run is copied. */
struct report *report_new(const struct kvlist *run, int64_t start_ms, const struct kvlist *start,
                          int64_t end_ms, const struct kvlist *end, bool live);
void report_free(struct report *r);
/* Adds one {ns}:history entry (oldest first, between start and end). */
void report_add_history(struct report *r, int64_t ms, const struct kvlist *entry);
/* Evaluates thresholds on the report and keeps the results (JSON, HTML and the table show
 * them). Returns how many failed. */
size_t report_check(struct report *r, const struct thresh *t, size_t n);
/* thresh_lookup_fn over a report (ctx: the report). */
bool report_lookup(void *ctx, const char *metric, bool worst_high, double *value, char *what,
                   size_t whatlen);

/* Requests: answered + errors + timeouts (CALL rows) or calls (DOWN rows); failures: errors +
 * timeouts. Times in ms. */
uint64_t report_requests(const struct report_row *row);
uint64_t report_failures(const struct report_row *row);
double report_ms(const struct hist *h, double q); /* percentile, NaN when empty */

/* Locust's console summary: requests, failures, times, rates; then the percentiles; the
 * CALLERRORs by code; the thresholds. */
void report_table(const struct report *r, struct buf *out);
/* Locust's CSV files. */
void report_csv_stats(const struct report *r, struct buf *out);
void report_csv_history(const struct report *r, struct buf *out);
void report_csv_failures(const struct report *r, struct buf *out);
/* Every figure as one JSON object. */
void report_json(const struct report *r, struct buf *out);
/* One HTML page with everything inline (report_html.c). */
void report_html(const struct report *r, struct buf *out);

#endif
