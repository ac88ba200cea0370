/* thresh.h - thresholds: pass/fail criteria on a run's figures, as CI gates (pure; fuzzed).
 *
 *   METRIC OP VALUE[UNIT]      e.g.  conf.BootNotification.p95<500ms   errors.rate<1%
 *                                    call_timeouts<10   conf.*.p99<=2s   down.Reset.max<50ms
 *
 * Metrics: conf.<Action>.<stat> (our CALLs and the platform's answers), down.<Action>.<stat>
 * (the platform's CALLs and our answers), with <Action> an action, `all` (every action of the
 * direction together) or `*` (each action on its own: the worst one decides); conf.<stat> is
 * conf.all.<stat>; <lat>.<stat> for the latencies ack, cmd, cfg; errors.rate and errors.count
 * (CALLERRORs and timeouts of our CALLs, over all of them); requests, rps; any field of the
 * stats table (a counter: its growth over the run; a gauge: its value at the end). Stats:
 * count calls answered errors timeouts failures error_rate rps fps bytes err.<Code> avg min max
 * median pN (any percentile: p95, p99.9, p100). Units: times take us, ms (the default), s;
 * ratios a bare fraction or %; rates a bare number or /s; counts none. OP: < <= > >= == !=. */
#ifndef CS_THRESH_H
#define CS_THRESH_H

#include <stdbool.h>
#include <stddef.h>

#include "cs/buf.h"
#include "cs/err.h"

#define THRESH_TEXT_MAX 256
#define THRESH_METRIC_MAX 128

enum thresh_kind { TK_TIME, TK_RATIO, TK_COUNT, TK_RATE };
enum thresh_op { TO_LT, TO_LE, TO_GT, TO_GE, TO_EQ, TO_NE };

struct thresh {
    char text[THRESH_TEXT_MAX]; /* the expression as given, without surrounding blanks */
    char metric[THRESH_METRIC_MAX];
    enum thresh_kind kind;
    enum thresh_op op;
    double limit;  /* in the metric's unit: ms, a fraction, a count, per second */
    bool wildcard; /* conf.*.<stat> / down.*.<stat> */
};

/* Parses and checks one expression (grammar, metric, unit for its kind). CS_ERR_PARSE with a
 * message naming what is wrong and where. */
int thresh_parse(const char *text, struct thresh *t, struct cs_error *err);

/* Looks a metric up in some figures: *value in the metric's unit; for a wildcard the worst
 * action (the highest when worst_high, else the lowest) and its name in what. False when there
 * is nothing to measure (no samples). */
typedef bool thresh_lookup_fn(void *ctx, const char *metric, bool worst_high, double *value,
                              char *what, size_t whatlen);

struct thresh_result {
    struct thresh t;
    bool have;   /* measured */
    bool passed; /* measured and within the limit */
    double value;
    char what[64]; /* the action that decided a wildcard */
};

void thresh_eval(const struct thresh *t, thresh_lookup_fn *lookup, void *ctx,
                 struct thresh_result *r);
/* "412.3 ms", "0.8%", "12", "3.5/s". */
void thresh_format(enum thresh_kind k, double v, char *out, size_t n);
/* "passed  conf.BootNotification.p95<500ms  (412.3 ms)" / "FAILED  ...  (no samples)". */
void thresh_line(const struct thresh_result *r, struct buf *out);
/* The quantile of a stat name: "p95" -> 0.95, "median" -> 0.5, "p100" -> 1; false for other
 * stats. */
bool thresh_quantile(const char *stat, double *q);
/* The metrics and their stats (Markdown, docs/results.md). */
void thresh_doc_markdown(struct buf *b);

#endif
