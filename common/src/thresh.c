/* thresh.c - threshold expressions: parse, check, evaluate, print. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/astats.h"
#include "cs/catalog.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/stats.h"
#include "cs/thresh.h"
#include "cs/util.h"

static const char *const kind_names[] = {
    [TK_TIME] = "a time", [TK_RATIO] = "a ratio", [TK_COUNT] = "a count", [TK_RATE] = "a rate"};

/* Stats of an action row (conf.<Action>.<stat>) besides pN and err.<Code>. */
static const struct {
    const char *name;
    enum thresh_kind kind;
    bool latency; /* also a stat of ack/cmd/cfg */
    const char *help;
} stats[] = {
    {"count", TK_COUNT, true, "requests: answered, CALLERROR or timed out (conf); received (down)"},
    {"calls", TK_COUNT, false, "CALLs sent (conf) or received (down)"},
    {"answered", TK_COUNT, false, "CALLRESULTs"},
    {"errors", TK_COUNT, false, "CALLERRORs"},
    {"timeouts", TK_COUNT, false, "CALLs left unanswered (conf)"},
    {"failures", TK_COUNT, false, "errors + timeouts"},
    {"bytes", TK_COUNT, false, "bytes of our CALLs (conf) or of our answers (down)"},
    {"error_rate", TK_RATIO, false, "failures / count"},
    {"rps", TK_RATE, false, "count per second of the run"},
    {"fps", TK_RATE, false, "failures per second of the run"},
    {"avg", TK_TIME, false, "mean response time"},
    {"min", TK_TIME, true, "fastest response"},
    {"max", TK_TIME, true, "slowest response"},
    {"median", TK_TIME, true, "= p50"},
};

/* Metrics of their own. */
static const struct {
    const char *name;
    enum thresh_kind kind;
    const char *help;
} fleet_metrics[] = {
    {"errors", TK_COUNT, "failures of our CALLs: CALLERRORs and timeouts, every action"},
    {"errors.count", TK_COUNT, "= errors"},
    {"errors.rate", TK_RATIO, "errors / requests"},
    {"requests", TK_COUNT, "our CALLs answered, CALLERROR or timed out, every action"},
    {"rps", TK_RATE, "requests per second of the run"},
};

static const char *const latencies[] = {"ack", "cmd", "cfg"};

bool thresh_quantile(const char *stat, double *q)
{
    if (strcmp(stat, "median") == 0) {
        *q = 0.5;
        return true;
    }
    double v;
    if (stat[0] != 'p' || !isdigit((unsigned char)stat[1]) ||
        !cs_parse_double(stat + 1, 0, 100, &v) || !(v > 0))
        return false;
    for (const char *p = stat + 1; *p; p++) /* digits and one dot only: no "p1e1", no "p 5" */
        if (!isdigit((unsigned char)*p) && *p != '.')
            return false;
    *q = v / 100.0;
    return true;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= ASTATS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* The kind of a stat of an action row (latency_only: of ack/cmd/cfg); false when unknown. */
static bool stat_kind(const char *stat, bool latency_only, enum thresh_kind *k)
{
    double q;
    if (thresh_quantile(stat, &q)) {
        *k = TK_TIME;
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(stats); i++) {
        if (strcmp(stats[i].name, stat) == 0 && (!latency_only || stats[i].latency)) {
            *k = stats[i].kind;
            return true;
        }
    }
    if (!latency_only && strncmp(stat, "err.", 4) == 0 &&
        (astats_code_of(stat + 4) != AC_OTHER || strcmp(stat + 4, ASTATS_OTHER) == 0)) {
        *k = TK_COUNT;
        return true;
    }
    return false;
}

static bool fleet_field(const char *m)
{
    size_t n;
    const struct stats_field *f = stats_fields(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, m) == 0)
            return true;
    if (strncmp(m, "out.", 4) == 0)
        return catalog_lookup(m + 4) != NULL;
    if (strncmp(m, "in.", 3) == 0)
        return ocpp_call_index(m + 3) >= 0 || strcmp(m + 3, "other") == 0;
    return false;
}

/* Classifies metric m; CS_ERR_PARSE with the reason when it names nothing known. */
static int classify(struct thresh *t, struct cs_error *err)
{
    const char *m = t->metric;
    for (size_t i = 0; i < ARRAY_SIZE(fleet_metrics); i++) {
        if (strcmp(fleet_metrics[i].name, m) == 0) {
            t->kind = fleet_metrics[i].kind;
            return CS_OK;
        }
    }
    if (fleet_field(m)) {
        t->kind = TK_COUNT;
        return CS_OK;
    }
    const char *dot = strchr(m, '.');
    if (!dot)
        return cs_error_set(err, CS_ERR_PARSE,
                            "unknown metric '%s' (conf.<Action>.<stat>, down.<Action>.<stat>, "
                            "errors.rate, a stats field such as call_timeouts ...)",
                            m);
    size_t pl = (size_t)(dot - m);
    for (size_t i = 0; i < ARRAY_SIZE(latencies); i++) {
        if (strlen(latencies[i]) == pl && strncmp(m, latencies[i], pl) == 0) {
            if (!stat_kind(dot + 1, true, &t->kind))
                return cs_error_set(err, CS_ERR_PARSE,
                                    "'%s': unknown stat of the %s latency (count avg min max "
                                    "median pN)",
                                    m, latencies[i]);
            return CS_OK;
        }
    }
    bool up = pl == 4 && strncmp(m, "conf", 4) == 0, down = pl == 4 && strncmp(m, "down", 4) == 0;
    if (!up && !down)
        return cs_error_set(err, CS_ERR_PARSE, "unknown metric '%s'", m);
    /* conf.<stat>: every action together */
    if (stat_kind(dot + 1, false, &t->kind))
        return CS_OK;
    const char *act = dot + 1, *dot2 = strchr(act, '.');
    if (!dot2 || !dot2[1])
        return cs_error_set(err, CS_ERR_PARSE, "'%s': give a stat (%.*s.<Action>.p95 ...)", m,
                            (int)pl, m);
    size_t al = (size_t)(dot2 - act);
    t->wildcard = al == 1 && act[0] == '*';
    if (!t->wildcard && !name_ok(act, al))
        return cs_error_set(err, CS_ERR_PARSE,
                            "'%s': '%.*s' is not an action name ([A-Za-z0-9_], `all` or `*`)", m,
                            (int)al, act);
    if (!stat_kind(dot2 + 1, false, &t->kind))
        return cs_error_set(err, CS_ERR_PARSE,
                            "'%s': unknown stat '%s' (count calls answered errors timeouts "
                            "failures error_rate rps fps bytes err.<Code> avg min max median pN)",
                            m, dot2 + 1);
    return CS_OK;
}

static const struct {
    const char *text;
    enum thresh_op op;
} ops[] = {{"<=", TO_LE}, {">=", TO_GE}, {"==", TO_EQ}, {"!=", TO_NE}, {"<", TO_LT}, {">", TO_GT}};

/* The limit in the metric's unit, from a number and its unit. */
static int convert(struct thresh *t, double v, const char *unit, size_t col, struct cs_error *err)
{
    static const struct {
        const char *unit;
        enum thresh_kind kind;
        double factor;
    } units[] = {
        {"", TK_TIME, 1},       {"ms", TK_TIME, 1},    {"s", TK_TIME, 1000},
        {"us", TK_TIME, 0.001}, {"%", TK_RATIO, 0.01}, {"", TK_RATIO, 1},
        {"", TK_COUNT, 1},      {"", TK_RATE, 1},      {"/s", TK_RATE, 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
        if (units[i].kind != t->kind || strcmp(units[i].unit, unit) != 0)
            continue;
        t->limit = v * units[i].factor;
        if (t->kind == TK_RATIO && !*unit && v > 1)
            return cs_error_set(err, CS_ERR_PARSE,
                                "threshold '%s': %s is a ratio: a fraction 0..1 or a "
                                "percentage (%g%%)",
                                t->text, t->metric, v);
        return CS_OK;
    }
    static const char *const want[] = {[TK_TIME] = "us, ms (the default) or s",
                                       [TK_RATIO] = "% or nothing (a fraction)",
                                       [TK_COUNT] = "no unit",
                                       [TK_RATE] = "/s or nothing"};
    return cs_error_set(err, CS_ERR_PARSE, "threshold '%s', column %zu: unit '%s': %s is %s (%s)",
                        t->text, col, unit, t->metric, kind_names[t->kind], want[t->kind]);
}

int thresh_parse(const char *text, struct thresh *t, struct cs_error *err)
{
    memset(t, 0, sizeof(*t));
    if (!text)
        return cs_error_set(err, CS_ERR_PARSE, "empty threshold");
    while (*text == ' ' || *text == '\t')
        text++;
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    if (n == 0)
        return cs_error_set(err, CS_ERR_PARSE, "empty threshold");
    if (n >= sizeof(t->text))
        return cs_error_set(err, CS_ERR_PARSE, "threshold longer than %zu characters",
                            sizeof(t->text) - 1);
    memcpy(t->text, text, n);
    t->text[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t->text[i] < 0x20 || (unsigned char)t->text[i] >= 0x7f)
            return cs_error_set(err, CS_ERR_PARSE, "threshold: column %zu: unexpected character",
                                i + 1);

    /* METRIC: up to the first operator character */
    const char *s = t->text;
    size_t ml = strcspn(s, "<>=! \t");
    if (ml == 0)
        return cs_error_set(err, CS_ERR_PARSE, "threshold '%s': no metric before the operator",
                            t->text);
    if (ml >= sizeof(t->metric))
        return cs_error_set(err, CS_ERR_PARSE, "threshold '%s': metric name too long", t->text);
    memcpy(t->metric, s, ml);
    t->metric[ml] = '\0';
    size_t at = ml;
    while (s[at] == ' ' || s[at] == '\t')
        at++;
    size_t i;
    for (i = 0; i < ARRAY_SIZE(ops); i++)
        if (strncmp(s + at, ops[i].text, strlen(ops[i].text)) == 0)
            break;
    if (i == ARRAY_SIZE(ops))
        return cs_error_set(err, CS_ERR_PARSE,
                            "threshold '%s', column %zu: expected an operator (< <= > >= == !=)",
                            t->text, at + 1);
    t->op = ops[i].op;
    at += strlen(ops[i].text);
    while (s[at] == ' ' || s[at] == '\t')
        at++;

    /* VALUE[UNIT] */
    size_t vstart = at;
    while (isdigit((unsigned char)s[at]) || s[at] == '.')
        at++;
    if (at == vstart)
        return cs_error_set(err, CS_ERR_PARSE, "threshold '%s', column %zu: expected a number",
                            t->text, vstart + 1);
    char num[64];
    if (at - vstart >= sizeof(num))
        return cs_error_set(err, CS_ERR_PARSE, "threshold '%s': number too long", t->text);
    memcpy(num, s + vstart, at - vstart);
    num[at - vstart] = '\0';
    double v;
    if (!cs_parse_double(num, 0, 1e15, &v))
        return cs_error_set(err, CS_ERR_PARSE, "threshold '%s', column %zu: '%s' is not a number",
                            t->text, vstart + 1, num);
    const char *unit = s + at;
    if (strspn(unit, "abcdefghijklmnopqrstuvwxyz%/") != strlen(unit))
        return cs_error_set(err, CS_ERR_PARSE,
                            "threshold '%s', column %zu: unexpected text after the value", t->text,
                            at + 1);

    int rc = classify(t, err);
    if (rc) {
        struct cs_error why = *err;
        return cs_error_set(err, rc, "threshold '%s': %s", t->text, why.msg);
    }
    if (t->wildcard && (t->op == TO_EQ || t->op == TO_NE))
        return cs_error_set(err, CS_ERR_PARSE,
                            "threshold '%s': a wildcard compares with <, <=, > or >= (the "
                            "worst action decides)",
                            t->text);
    return convert(t, v, unit, at + 1, err);
}

void thresh_eval(const struct thresh *t, thresh_lookup_fn *lookup, void *ctx,
                 struct thresh_result *r)
{
    memset(r, 0, sizeof(*r));
    r->t = *t;
    bool high = t->op == TO_LT || t->op == TO_LE || t->op == TO_EQ || t->op == TO_NE;
    r->have =
        lookup(ctx, t->metric, high, &r->value, r->what, sizeof(r->what)) && isfinite(r->value);
    if (!r->have)
        return;
    double v = r->value, l = t->limit, eps = 1e-9 * (fabs(l) > 1 ? fabs(l) : 1);
    switch (t->op) {
    case TO_LT:
        r->passed = v < l;
        break;
    case TO_LE:
        r->passed = v <= l + eps;
        break;
    case TO_GT:
        r->passed = v > l;
        break;
    case TO_GE:
        r->passed = v >= l - eps;
        break;
    case TO_EQ:
        r->passed = fabs(v - l) <= eps;
        break;
    case TO_NE:
        r->passed = fabs(v - l) > eps;
        break;
    }
}

void thresh_format(enum thresh_kind k, double v, char *out, size_t n)
{
    switch (k) {
    case TK_TIME:
        if (v >= 10000)
            snprintf(out, n, "%.2f s", v / 1000);
        else
            snprintf(out, n, "%.1f ms", v);
        break;
    case TK_RATIO:
        snprintf(out, n, "%.2f%%", v * 100);
        break;
    case TK_COUNT:
        snprintf(out, n, "%.0f", v);
        break;
    case TK_RATE:
        snprintf(out, n, "%.2f/s", v);
        break;
    }
}

void thresh_line(const struct thresh_result *r, struct buf *out)
{
    char v[48];
    buf_printf(out, "%-7s %s", r->passed ? "passed" : "FAILED", r->t.text);
    if (!r->have) {
        buf_puts(out, "  (no samples)");
        return;
    }
    thresh_format(r->t.kind, r->value, v, sizeof(v));
    if (r->what[0])
        buf_printf(out, "  (%s: %s)", r->what, v);
    else
        buf_printf(out, "  (%s)", v);
}

void thresh_doc_markdown(struct buf *b)
{
    static const char *const kinds[] = {
        [TK_TIME] = "time", [TK_RATIO] = "ratio", [TK_COUNT] = "count", [TK_RATE] = "rate"};
    buf_puts(b, "| metric | kind | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(fleet_metrics); i++)
        buf_printf(b, "| `%s` | %s | %s |\n", fleet_metrics[i].name, kinds[fleet_metrics[i].kind],
                   fleet_metrics[i].help);
    buf_puts(b, "| `conf.<Action>.<stat>` | by stat | our CALLs of that action and the platform's "
                "answers; `<Action>` may be `all` (every action together; `conf.<stat>` too) or "
                "`*` (each action: the worst decides) |\n"
                "| `down.<Action>.<stat>` | by stat | the platform's CALLs of that action and our "
                "answers |\n"
                "| `ack.<stat>`, `cmd.<stat>`, `cfg.<stat>` | by stat | the latencies of "
                "[stats.md](stats.md): count, min, max, median, pN |\n"
                "| a field of the stats table | count | a counter: how much it grew over the run "
                "(`call_timeouts`, `msgs_dropped`, `out.Heartbeat` ...); a gauge: its value at "
                "the end (`connected`, `faulted` ...) |\n\n"
                "| stat | kind | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
        buf_printf(b, "| `%s` | %s | %s |\n", stats[i].name, kinds[stats[i].kind], stats[i].help);
    buf_puts(b, "| `pN` | time | a percentile: `p50`, `p95`, `p99.9`, `p100` (= max) |\n"
                "| `err.<Code>` | count | CALLERRORs with that code (`err.InternalError`) |\n\n"
                "Units: a time takes `us`, `ms` (the default) or `s`; a ratio a fraction (`0.01`) "
                "or a percentage (`1%`); a rate a number or `/s`; a count no unit. A unit that "
                "does not fit the metric's kind is an error.\n");
}
