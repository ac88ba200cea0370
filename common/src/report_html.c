/* report_html.c - a report as one self-contained HTML page: inline CSS, charts as inline SVG
 * drawn here, no script, no external resource (it opens from a file, offline, under a strict
 * CSP). Text from Redis (run names, the scenario, the config) is escaped. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/report.h"
#include "cs/util.h"

#define CHART_W 560
#define CHART_H 220
#define PLOT_L 56
#define PLOT_R 12
#define PLOT_T 14
#define PLOT_B 34
#define MAX_POINTS 720 /* drawn per series: longer histories are thinned evenly */
#define MAX_LINES 8    /* actions drawn per chart: the busiest; the rest are in the tables */

static const char *const palette[] = {"#2f7ed8", "#0d9e73", "#e8a33d", "#d6474f", "#8e6bd4",
                                      "#4bb3c4", "#9a7b4f", "#e36fae", "#6b7280"};

static void esc(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&#39;");
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                buf_putc(b, '?');
            else
                buf_putc(b, *s);
        }
    }
}

/* ---- charts -------------------------------------------------------------------------------- */

struct series {
    char name[80];
    const char *color;
    double *v; /* npts values, NaN = no point */
    bool dash;
};

/* A round grid step: 1, 2, 2.5 or 5 x 10^k, at most 5 lines up to max. */
static double nice_step(double max)
{
    if (!(max > 0))
        return 1;
    double raw = max / 5, p = pow(10, floor(log10(raw)));
    static const double m[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < ARRAY_SIZE(m); i++)
        if (m[i] * p >= raw)
            return m[i] * p;
    return 10 * p;
}

static void fmt_tick(char *out, size_t n, double v)
{
    if (v >= 1e6)
        snprintf(out, n, "%.3gM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, n, "%.3gk", v / 1e3);
    else
        snprintf(out, n, "%g", v);
}

static void fmt_ago(char *out, size_t n, double s)
{
    if (s >= 3600)
        snprintf(out, n, "%dh%02d", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(out, n, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
}

/* One chart: a line per series over the report's points, time on x (from the start), a grid
 * and a legend. */
static void chart(struct buf *b, const struct report *r, const char *id, const char *title,
                  const char *unit, const struct series *s, size_t ns)
{
    size_t n = r->npts, stride = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;
    double max = 0;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < n; i++)
            if (!isnan(s[k].v[i]) && s[k].v[i] > max)
                max = s[k].v[i];
    double step = nice_step(max * 1.02);
    int lines = max > 0 ? (int)ceil(max * 1.02 / step - 1e-9) : 4;
    if (lines < 1)
        lines = 1;
    double top = step * lines;
    int pw = CHART_W - PLOT_L - PLOT_R, ph = CHART_H - PLOT_T - PLOT_B;
    double t0 = (double)r->start_ms,
           t1 = (double)(r->end_ms > r->start_ms ? r->end_ms : r->start_ms + 1);
    buf_printf(b, "<figure class=\"chart\" id=\"%s\"><figcaption>", id);
    esc(b, title);
    buf_printf(b, " <span class=\"unit\">%s</span></figcaption>\n", unit);
    buf_printf(b,
               "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
               "data-points=\"%zu\" data-series=\"%zu\">\n",
               CHART_W, CHART_H, CHART_W, CHART_H, n, ns);
    for (int i = 0; i <= lines; i++) {
        double v = step * i, y = PLOT_T + ph - v / top * ph;
        char t[32];
        fmt_tick(t, sizeof(t), v);
        buf_printf(b,
                   "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                   "<text class=\"ytick\" x=\"%d\" y=\"%.1f\">%s</text>\n",
                   PLOT_L, y, PLOT_L + pw, y, PLOT_L - 6, y + 4, t);
    }
    for (int i = 0; i <= 4; i++) {
        double x = PLOT_L + pw * i / 4.0;
        char t[32];
        fmt_ago(t, sizeof(t), (t1 - t0) / 1000.0 * i / 4.0);
        buf_printf(b, "<text class=\"xtick\" x=\"%.1f\" y=\"%d\">%s</text>\n", x, PLOT_T + ph + 16,
                   t);
    }
    for (size_t k = 0; k < ns; k++) {
        bool open = false;
        for (size_t i = 0; i < n; i += stride) {
            double v = s[k].v[i];
            if (isnan(v)) {
                if (open)
                    buf_puts(b, "\"/>\n");
                open = false;
                continue;
            }
            double x = PLOT_L + ((double)r->pts[i].ms - t0) / (t1 - t0) * pw;
            double y = PLOT_T + ph - v / top * ph;
            if (!open)
                buf_printf(b, "<polyline class=\"line%s\" stroke=\"%s\" data-name=\"",
                           s[k].dash ? " dash" : "", s[k].color);
            if (!open) {
                esc(b, s[k].name);
                buf_puts(b, "\" points=\"");
            }
            buf_printf(b, "%s%.1f,%.1f", open ? " " : "", x, y);
            open = true;
        }
        if (open)
            buf_puts(b, "\"/>\n");
    }
    if (!n)
        buf_printf(b,
                   "<text class=\"empty\" x=\"%d\" y=\"%d\">no history entries in this "
                   "range</text>\n",
                   PLOT_L + pw / 2, PLOT_T + ph / 2);
    buf_puts(b, "</svg>\n<ul class=\"legend\">");
    for (size_t k = 0; k < ns; k++) {
        buf_printf(b, "<li><span class=\"key\" style=\"background:%s\"></span>", s[k].color);
        esc(b, s[k].name);
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ul></figure>\n");
}

static double *col(const struct report *r)
{
    return cs_calloc(r->npts ? r->npts : 1, sizeof(double));
}

/* The busiest actions of a direction (by requests), at most MAX_LINES. */
static size_t busiest(const struct report *r, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nrows; i++)
        idx[n++] = i;
    for (size_t a = 1; a < n; a++) { /* insertion sort, descending */
        size_t v = idx[a], k = a;
        while (k > 0 && report_requests(&r->rows[idx[k - 1]]) < report_requests(&r->rows[v])) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = v;
    }
    return n < MAX_LINES ? n : MAX_LINES;
}

static void charts(struct buf *b, const struct report *r)
{
    struct series s[MAX_LINES + 3];
    size_t idx[ASTATS_UP_ROWS + ASTATS_DOWN_ROWS];
    memset(s, 0, sizeof(s));

    /* connected chargers */
    for (int k = 0; k < 3; k++)
        s[k].v = col(r);
    for (size_t i = 0; i < r->npts; i++) {
        s[0].v[i] = (double)r->pts[i].connected;
        s[1].v[i] = (double)r->pts[i].chargers;
        s[2].v[i] = (double)r->pts[i].charging;
    }
    snprintf(s[0].name, sizeof(s[0].name), "connected");
    snprintf(s[1].name, sizeof(s[1].name), "chargers");
    snprintf(s[2].name, sizeof(s[2].name), "connectors charging");
    s[0].color = palette[0];
    s[1].color = palette[8];
    s[1].dash = true;
    s[2].color = palette[1];
    chart(b, r, "chart-connected", "Chargers", "", s, 3);
    for (int k = 0; k < 3; k++)
        cs_free(s[k].v);

    /* requests/s by action, and failures/s by action */
    size_t nb = busiest(r, idx);
    for (int pass = 0; pass < 2; pass++) {
        memset(s, 0, sizeof(s));
        for (size_t k = 0; k < nb; k++) {
            const struct report_row *row = &r->rows[idx[k]];
            s[k].v = col(r);
            snprintf(s[k].name, sizeof(s[k].name), "%s %s", row->dir == ASTATS_UP ? "CALL" : "DOWN",
                     row->name);
            s[k].color = palette[k % ARRAY_SIZE(palette)];
            s[k].dash = row->dir == ASTATS_DOWN;
            for (size_t i = 0; i < r->npts; i++)
                s[k].v[i] = pass == 0 ? r->pts[i].rps[idx[k]] : r->pts[i].fps[idx[k]];
        }
        if (pass == 0)
            chart(b, r, "chart-rps", "Messages by action", "requests/s", s, nb);
        else
            chart(b, r, "chart-errors", "Errors by action", "CALLERRORs and timeouts /s", s, nb);
        for (size_t k = 0; k < nb; k++)
            cs_free(s[k].v);
    }

    /* response time percentiles, the CALLs together */
    memset(s, 0, sizeof(s));
    static const struct {
        int k;
        const char *name;
    } pc[] = {{0, "p50"}, {5, "p95"}, {7, "p99"}};
    for (size_t k = 0; k < ARRAY_SIZE(pc); k++) {
        s[k].v = col(r);
        snprintf(s[k].name, sizeof(s[k].name), "%s", pc[k].name);
        s[k].color = palette[k];
        for (size_t i = 0; i < r->npts; i++)
            s[k].v[i] = r->pts[i].agg_p[pc[k].k];
    }
    chart(b, r, "chart-latency", "Platform response time, every CALL", "ms, per history interval",
          s, ARRAY_SIZE(pc));
    for (size_t k = 0; k < ARRAY_SIZE(pc); k++)
        cs_free(s[k].v);
}

/* ---- tables -------------------------------------------------------------------------------- */

static void td_ms(struct buf *b, double v)
{
    if (isnan(v))
        buf_puts(b, "<td>-</td>");
    else
        buf_printf(b, "<td>%.1f</td>", v);
}

static void stats_row(struct buf *b, const struct report *r, const struct report_row *row, bool agg)
{
    uint64_t req = report_requests(row), fail = report_failures(row);
    double d = r->duration_s > 0 ? r->duration_s : NAN;
    buf_printf(b, "<tr%s><td>%s</td><td>", agg ? " class=\"agg\"" : "",
               agg                     ? ""
               : row->dir == ASTATS_UP ? "CALL"
                                       : "DOWN");
    esc(b, row->name);
    buf_printf(b, "</td><td>%llu</td><td class=\"%s\">%llu</td>", (unsigned long long)req,
               fail ? "bad" : "", (unsigned long long)fail);
    td_ms(b, report_ms(&row->lat, 0.5));
    td_ms(b, row->lat.count ? (double)row->lat.sum / (double)row->lat.count / 1000.0 : NAN);
    td_ms(b, row->lat.count ? (double)row->min_us / 1000.0 : NAN);
    td_ms(b, report_ms(&row->lat, 1.0));
    buf_printf(b, "<td>%.0f</td><td>%.2f</td><td>%.2f</td>",
               req ? (double)row->bytes / (double)req : 0, isnan(d) ? 0 : (double)req / d,
               isnan(d) ? 0 : (double)fail / d);
    for (int k = 0; k < REPORT_NPCT; k++)
        td_ms(b, report_ms(&row->lat, report_pct[k]));
    buf_puts(b, "</tr>\n");
}

static void stats_table(struct buf *b, const struct report *r)
{
    buf_puts(b, "<table id=\"stats\"><thead><tr><th>Type</th><th>Name</th><th># requests</th>"
                "<th># failures</th><th>Median ms</th><th>Average ms</th><th>Min ms</th>"
                "<th>Max ms</th><th>Avg bytes</th><th>req/s</th><th>failures/s</th>");
    for (int k = 0; k < REPORT_NPCT; k++)
        buf_printf(b, "<th>%s</th>", report_pct_name[k]);
    buf_puts(b, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < r->nrows; i++)
        stats_row(b, r, &r->rows[i], false);
    stats_row(b, r, &r->agg_up, true);
    buf_puts(b, "</tbody></table>\n");
}

static void failures_table(struct buf *b, const struct report *r)
{
    bool any = false;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct report_row *row = &r->rows[i];
        for (int c = 0; c <= ASTATS_CODES; c++) {
            uint64_t n = c < ASTATS_CODES ? row->code[c] : row->timeouts;
            if (!n)
                continue;
            if (!any)
                buf_puts(b, "<table id=\"failures\"><thead><tr><th>Type</th><th>Name</th>"
                            "<th>Error</th><th>Occurrences</th></tr></thead><tbody>\n");
            any = true;
            buf_printf(b, "<tr><td>%s</td><td>", row->dir == ASTATS_UP ? "CALL" : "DOWN");
            esc(b, row->name);
            buf_printf(b, "</td><td>%s%s</td><td>%llu</td></tr>\n",
                       c < ASTATS_CODES ? "CALLERROR " : "timeout",
                       c < ASTATS_CODES ? astats_code_name(c) : "", (unsigned long long)n);
        }
    }
    if (any)
        buf_puts(b, "</tbody></table>\n");
    else
        buf_puts(b, "<p class=\"dim\">No CALLERRORs and no timeouts.</p>\n");
}

static void checks(struct buf *b, const struct report *r)
{
    if (!r->nchecks)
        return;
    buf_puts(b, "<h2>Thresholds</h2><ul id=\"thresholds\">\n");
    for (size_t i = 0; i < r->nchecks; i++) {
        struct buf line = BUF_INIT;
        thresh_line(&r->checks[i], &line);
        buf_printf(b, "<li class=\"%s\">", r->checks[i].passed ? "pass" : "fail");
        esc(b, buf_cstr(&line));
        buf_puts(b, "</li>\n");
        buf_free(&line);
    }
    buf_puts(b, "</ul>\n");
}

static const char *const style =
    ":root{--fg:#1d2630;--dim:#6b7785;--line:#dde3ea;--bad:#c8323b;--ok:#1a8a5a}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);"
    "margin:24px;max-width:1240px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}"
    ".meta{color:var(--dim)}.dim{color:var(--dim)}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}"
    ".card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px}"
    ".card .l{color:var(--dim);font-size:12px;text-transform:uppercase}"
    ".card .v{font-size:22px;font-variant-numeric:tabular-nums}.card .v.bad{color:var(--bad)}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}"
    ".chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px}"
    ".chart figcaption{font-weight:600}.chart .unit{color:var(--dim);font-weight:400}"
    ".chart svg{display:block;max-width:100%;height:auto}"
    ".grid{stroke:var(--line);stroke-width:1}.ytick{font-size:10px;fill:var(--dim);"
    "text-anchor:end}.xtick{font-size:10px;fill:var(--dim);text-anchor:middle}"
    ".empty{font-size:12px;fill:var(--dim);text-anchor:middle}"
    ".line{fill:none;stroke-width:1.6}.line.dash{stroke-dasharray:4 3}"
    ".legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px;"
    "font-size:12px}.key{display:inline-block;width:12px;height:3px;margin-right:5px;"
    "vertical-align:middle}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}"
    "th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:right;white-space:nowrap}"
    "th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}"
    "tr.agg td{font-weight:600}td.bad{color:var(--bad)}"
    ".scroll{overflow-x:auto}"
    "#thresholds{list-style:none;padding:0}#thresholds li{font-family:ui-monospace,monospace;"
    "padding:2px 0}#thresholds .pass{color:var(--ok)}#thresholds .fail{color:var(--bad)}"
    "pre{background:#f5f7f9;border:1px solid var(--line);padding:8px;overflow:auto;"
    "max-height:360px;font-size:12px}";

static void card(struct buf *b, const char *label, const char *value, bool bad)
{
    buf_printf(b, "<div class=\"card\"><div class=\"l\">%s</div><div class=\"v%s\">", label,
               bad ? " bad" : "");
    esc(b, value);
    buf_puts(b, "</div></div>\n");
}

void report_html(const struct report *r, struct buf *b)
{
    const char *id = kv_get(&r->run, "id"), *name = kv_get(&r->run, "name");
    char s[32], e[32], v[64];
    cs_fmt_iso8601(s, sizeof(s), r->start_ms);
    cs_fmt_iso8601(e, sizeof(e), r->end_ms);
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; img-src data:\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>chargeswarm report ");
    esc(b, name ? name : id ? id : "");
    buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
    if (name || id) {
        esc(b, name ? name : "");
        if (id) {
            buf_puts(b, " <span class=\"dim\">");
            esc(b, id);
            buf_puts(b, "</span>");
        }
    } else {
        buf_puts(b, "chargeswarm report");
    }
    buf_printf(b, "</h1>\n<div class=\"meta\">%s to %s, %.1f s%s</div>\n", s, e, r->duration_s,
               r->live ? " (the run goes on: figures up to the last stats write)" : "");
    if (r->note[0]) {
        buf_puts(b, "<p class=\"meta\">");
        esc(b, r->note);
        buf_puts(b, "</p>\n");
    }

    uint64_t req = report_requests(&r->agg_up), fail = report_failures(&r->agg_up);
    uint64_t peak = 0;
    for (size_t i = 0; i < r->npts; i++)
        peak = r->pts[i].connected > peak ? r->pts[i].connected : peak;
    buf_puts(b, "<section class=\"cards\">\n");
    snprintf(v, sizeof(v), "%llu", (unsigned long long)req);
    card(b, "CALLs answered or timed out", v, false);
    snprintf(v, sizeof(v), "%llu (%.2f%%)", (unsigned long long)fail,
             req ? 100.0 * (double)fail / (double)req : 0.0);
    card(b, "Failures", v, fail > 0);
    snprintf(v, sizeof(v), "%.2f", r->duration_s > 0 ? (double)req / r->duration_s : 0);
    card(b, "CALLs/s", v, false);
    double p95 = report_ms(&r->agg_up.lat, 0.95), p99 = report_ms(&r->agg_up.lat, 0.99);
    snprintf(v, sizeof(v), isnan(p95) ? "-" : "%.1f ms", p95);
    card(b, "p95 response", v, false);
    snprintf(v, sizeof(v), isnan(p99) ? "-" : "%.1f ms", p99);
    card(b, "p99 response", v, false);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)peak);
    card(b, "Most connected", v, false);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)r->delta->call_timeouts);
    card(b, "CALL timeouts", v, r->delta->call_timeouts > 0);
    buf_puts(b, "</section>\n");
    checks(b, r);
    buf_puts(b, "<h2>Over time</h2>\n<section class=\"charts\">\n");
    charts(b, r);
    buf_puts(b, "</section>\n<h2>Per action</h2>\n<p class=\"dim\">CALL: the chargers' CALLs and "
                "the platform's response time; DOWN: the platform's CALLs and the chargers' time "
                "to answer. Times in ms, upper bounds of ~19% histogram buckets (never above the "
                "slowest sample); failures are CALLERRORs and timeouts; Aggregated sums the CALL "
                "rows.</p>\n<div class=\"scroll\">");
    stats_table(b, r);
    buf_puts(b, "</div>\n<h2>Failures</h2>\n");
    failures_table(b, r);
    const char *scenario = kv_get(&r->run, "scenario"), *config = kv_get(&r->run, "config");
    if (scenario && *scenario) {
        buf_puts(b, "<h2>Scenario</h2>\n<pre id=\"scenario\">");
        esc(b, scenario);
        buf_puts(b, "</pre>\n");
    }
    if (config && *config) {
        buf_puts(b, "<h2>Configuration at the start</h2>\n<pre id=\"config\">");
        esc(b, config);
        buf_puts(b, "</pre>\n");
    }
    buf_puts(b, "<p class=\"dim\">Generated by swarm-cli report from the swarm's Redis data.</p>\n"
                "</body>\n</html>\n");
}
