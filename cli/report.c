/* report.c - swarm-cli report: a run's (or a time range's) results from Redis alone, as a
 * table, Locust's CSV files, JSON or a self-contained HTML page, with thresholds as CI gates.
 * Works while the run goes on and after every process has stopped. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/report.h"
#include "cs/util.h"

#define HISTORY_CHUNK 1000

static const char *const format_names[] = {
    [RF_TABLE] = "table", [RF_CSV] = "csv", [RF_JSON] = "json", [RF_HTML] = "html"};

bool report_format_of(const char *s, enum report_format *f)
{
    for (size_t i = 0; i < ARRAY_SIZE(format_names); i++) {
        if (strcmp(format_names[i], s) == 0) {
            *f = (enum report_format)i;
            return true;
        }
    }
    return false;
}

/* ISO-8601, ms since the epoch, or -DURATION (ago). */
static bool parse_time(const char *s, int64_t *ms)
{
    int64_t d;
    if (s[0] == '-' && cs_parse_duration_ms(s + 1, &d)) {
        *ms = cs_now_ms() - d;
        return true;
    }
    return cs_parse_i64(s, 0, INT64_MAX / 2, ms) || ocpp_datetime_parse(s, ms);
}

static int64_t entry_ms(const char *id)
{
    return strtoll(id, NULL, 10); /* "<ms>-<seq>" */
}

static bool hash_of(struct cli *c, const char *key, struct kvlist *out, struct cs_error *err)
{
    struct rds_reply *r = cli_cmd(c->r, CLI_ARRAY, err, "HGETALL %s", key);
    if (!r)
        return false;
    rds_reply_kv(r, out);
    rds_reply_free(r);
    return true;
}

static int64_t num_of(const struct kvlist *kv, const char *k)
{
    int64_t v = 0;
    const char *s = kv_get(kv, k);
    if (s)
        cs_parse_i64(s, 0, INT64_MAX, &v);
    return v;
}

/* One entry of a stream at or before (newest first) or after ms; false on Redis failure,
 * *found false when there is none. */
static bool history_entry(struct cli *c, const char *key, int64_t ms, bool before,
                          struct kvlist *out, int64_t *at, bool *found, struct cs_error *err)
{
    char t[32];
    snprintf(t, sizeof(t), "%lld", (long long)ms);
    struct rds_reply *r = before
                              ? cli_cmd(c->r, CLI_ARRAY, err, "XREVRANGE %s %s - COUNT 1", key, t)
                              : cli_cmd(c->r, CLI_ARRAY, err, "XRANGE %s %s + COUNT 1", key, t);
    if (!r)
        return false;
    *found = rds_reply_len(r) > 0;
    if (*found) {
        const struct rds_reply *e = rds_reply_at(r, 0);
        const char *id = rds_reply_str(rds_reply_at(e, 0), NULL);
        *at = id ? entry_ms(id) : 0;
        rds_reply_kv(rds_reply_at(e, 1), out);
    }
    rds_reply_free(r);
    return true;
}

/* Feeds the entries of a history stream in (from, to] to the report, in chunks. */
static bool feed_history(struct cli *c, struct report *r, const char *key, int64_t from, int64_t to,
                         size_t *n, struct cs_error *err)
{
    char start[48], end[32];
    snprintf(start, sizeof(start), "(%lld", (long long)from);
    snprintf(end, sizeof(end), "%lld", (long long)to);
    *n = 0;
    for (;;) {
        struct rds_reply *x = cli_cmd(c->r, CLI_ARRAY, err, "XRANGE %s %s %s COUNT %d", key, start,
                                      end, HISTORY_CHUNK);
        if (!x)
            return false;
        size_t got = rds_reply_len(x);
        for (size_t i = 0; i < got; i++) {
            const struct rds_reply *e = rds_reply_at(x, i);
            const char *id = rds_reply_str(rds_reply_at(e, 0), NULL);
            if (!id)
                continue;
            struct kvlist f = KVLIST_INIT;
            rds_reply_kv(rds_reply_at(e, 1), &f);
            report_add_history(r, entry_ms(id), &f);
            kv_free(&f);
            (*n)++;
            snprintf(start, sizeof(start), "(%s", id);
        }
        rds_reply_free(x);
        if (got < HISTORY_CHUNK)
            return true;
    }
}

struct report *cli_report_run(struct cli *c, const char *want, struct cs_error *err)
{
    char id[64], k[CS_KEY_MAX];
    bool running;
    if (want) {
        snprintf(id, sizeof(id), "%s", want);
    } else {
        if (!run_latest(c, id, sizeof(id), &running, err))
            return NULL;
        if (!id[0]) {
            cs_error_set(err, CS_ERR_NOTFOUND,
                         "no runs yet: start one (swarm-cli run start NAME) or give a range "
                         "(--since)");
            return NULL;
        }
    }
    struct kvlist rec = KVLIST_INIT, base = KVLIST_INIT, end = KVLIST_INIT;
    struct report *r = NULL;
    if (!run_read(c, id, &rec, err))
        goto out;
    if (!rec.n) {
        cs_error_set(err, CS_ERR_NOTFOUND, "no run %s (swarm-cli run list)", id);
        goto out;
    }
    const char *state = kv_get(&rec, "state");
    bool live = state && strcmp(state, "running") == 0;
    int64_t start_ms =
        num_of(&rec, "reset_ms") ? num_of(&rec, "reset_ms") : num_of(&rec, "started_ms");
    int64_t end_ms;
    if (!hash_of(c, cli_key(c, k, K_RUN_BASE, id), &base, err) ||
        !hash_of(c, cli_key(c, k, live ? K_STATS : K_RUN_END, live ? NULL : id), &end, err))
        goto out;
    end_ms = live ? num_of(&end, "updated_ms") : num_of(&rec, "ended_ms");
    if (live && end_ms < start_ms)
        end_ms = start_ms; /* no fleet figures since the start yet */
    r = report_new(&rec, start_ms, &base, end_ms, &end, live);
    /* History: the run's own copy once it ended, else the fleet's stream. */
    size_t n = 0;
    struct rds_reply *ex =
        cli_cmd(c->r, CLI_INT, err, "EXISTS %s", cli_key(c, k, K_RUN_HISTORY, id));
    if (!ex)
        goto fail;
    bool own = rds_reply_int(ex) == 1;
    rds_reply_free(ex);
    if (!feed_history(c, r, cli_key(c, k, own ? K_RUN_HISTORY : K_HISTORY, own ? id : NULL),
                      start_ms, end_ms, &n, err))
        goto fail;
    if (!base.n)
        snprintf(r->note, sizeof(r->note),
                 "the fleet had no figures when the run started: "
                 "counted from zero");
    else if (!end.n)
        snprintf(r->note, sizeof(r->note), "no fleet figures at the end (no coordinator?)");
    else if (!n)
        snprintf(r->note, sizeof(r->note),
                 "no {ns}:history entries in the run (no coordinator, "
                 "or it was shorter than history_interval_s)");
    if (kv_get(&rec, "end_note") && *kv_get(&rec, "end_note"))
        snprintf(r->note + strlen(r->note), sizeof(r->note) - strlen(r->note), "%s%s",
                 r->note[0] ? "; " : "", kv_get(&rec, "end_note"));
    goto out;
fail:
    report_free(r);
    r = NULL;
out:
    kv_free(&rec);
    kv_free(&base);
    kv_free(&end);
    return r;
}

struct report *cli_report_range(struct cli *c, int64_t since, int64_t until, bool to_now,
                                struct cs_error *err)
{
    char k[CS_KEY_MAX];
    struct kvlist start = KVLIST_INIT, end = KVLIST_INIT, none = KVLIST_INIT;
    int64_t s_ms = since, e_ms = until;
    bool found;
    struct report *r = NULL;
    cli_key(c, k, K_HISTORY, NULL);
    /* The entry at or before `since` (else the first after it) starts the range. */
    if (!history_entry(c, k, since, true, &start, &s_ms, &found, err))
        goto out;
    if (!found && !history_entry(c, k, since, false, &start, &s_ms, &found, err))
        goto out;
    if (!found) {
        cs_error_set(err, CS_ERR_NOTFOUND, "no {ns}:history entries (is a coordinator running?)");
        goto out;
    }
    if (to_now) {
        if (!hash_of(c, cli_key(c, k, K_STATS, NULL), &end, err))
            goto out;
        e_ms = num_of(&end, "updated_ms");
    } else {
        if (!history_entry(c, cli_key(c, k, K_HISTORY, NULL), until, true, &end, &e_ms, &found,
                           err))
            goto out;
    }
    if (e_ms < s_ms) {
        cs_error_set(err, CS_ERR_RANGE, "nothing recorded between the two times");
        goto out;
    }
    r = report_new(&none, s_ms, &start, e_ms, &end, to_now);
    size_t n;
    if (!feed_history(c, r, cli_key(c, k, K_HISTORY, NULL), s_ms, e_ms, &n, err)) {
        report_free(r);
        r = NULL;
        goto out;
    }
    if (s_ms > since + 60000)
        snprintf(r->note, sizeof(r->note),
                 "{ns}:history starts after --since: the range "
                 "begins at its first entry");
out:
    kv_free(&start);
    kv_free(&end);
    return r;
}

/* ---- output -------------------------------------------------------------------------------- */

static bool write_file(const char *path, const struct buf *b)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "swarm-cli report: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(b->s ? b->s : "", 1, b->len, f) == b->len;
    ok &= fclose(f) == 0;
    if (!ok)
        fprintf(stderr, "swarm-cli report: cannot write %s: %s\n", path, strerror(errno));
    return ok;
}

int cli_report_output(struct report *r, enum report_format f, const char *out, bool quiet)
{
    struct buf b = BUF_INIT;
    int rc = EXIT_OK;
    switch (f) {
    case RF_TABLE:
        report_table(r, &b);
        break;
    case RF_JSON:
        report_json(r, &b);
        buf_putc(&b, '\n');
        break;
    case RF_HTML:
        report_html(r, &b);
        break;
    case RF_CSV:
        if (out) {
            /* Locust's files: PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv */
            static const struct {
                const char *suffix;
                void (*fn)(const struct report *, struct buf *);
            } files[] = {{"_stats.csv", report_csv_stats},
                         {"_stats_history.csv", report_csv_history},
                         {"_failures.csv", report_csv_failures}};
            for (size_t i = 0; i < ARRAY_SIZE(files) && rc == EXIT_OK; i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s%s", out, files[i].suffix);
                buf_reset(&b);
                files[i].fn(r, &b);
                if (!write_file(path, &b))
                    rc = EXIT_ERRORS;
                else if (!quiet)
                    fprintf(stderr, "wrote %s\n", path);
            }
            buf_free(&b);
            return rc;
        }
        report_csv_stats(r, &b);
        break;
    }
    if (out) {
        if (!write_file(out, &b))
            rc = EXIT_ERRORS;
        else if (!quiet)
            fprintf(stderr, "wrote %s\n", out);
    } else {
        fwrite(b.s ? b.s : "", 1, b.len, stdout);
        fflush(stdout);
    }
    buf_free(&b);
    return rc;
}

/* Threshold lines where the reader sees them: after the table, or on stderr when stdout
 * carries CSV, JSON or HTML. */
void cli_print_checks(const struct report *r, enum report_format f, const char *out)
{
    if (!r->nchecks || (f == RF_TABLE && !out))
        return; /* the table prints them itself */
    FILE *to = out ? stdout : stderr;
    for (size_t i = 0; i < r->nchecks; i++) {
        struct buf b = BUF_INIT;
        thresh_line(&r->checks[i], &b);
        fprintf(to, "%s\n", buf_cstr(&b));
        buf_free(&b);
    }
}

/* ---- the subcommand ----------------------------------------------------------------------- */

static void report_usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-cli report [--run ID | --since TIME [--until TIME]]\n"
            "                        [--format table|csv|json|html] [--out FILE]\n"
            "                        [--threshold EXPR]...\n"
            "\n"
            "A run's results, from Redis alone: while it runs (figures up to the fleet's last\n"
            "stats write) and after every process has stopped. Without --run or --since: the\n"
            "newest run. --since/--until take ISO-8601 times, Unix ms or -DURATION (ago,\n"
            "-30m); without --until the range ends now. The range starts and ends at\n"
            "{ns}:history entries (every history_interval_s).\n"
            "\n"
            "Formats:\n"
            "  table  Locust's end-of-run summary: one row per action (CALL: the chargers'\n"
            "         CALLs and the platform's response time; DOWN: the platform's CALLs and the\n"
            "         chargers' answers), percentiles, errors by code, thresholds\n"
            "  csv    Locust's stats CSV on stdout; with --out PREFIX its three files,\n"
            "         PREFIX_stats.csv, PREFIX_stats_history.csv and PREFIX_failures.csv\n"
            "  json   every figure, for scripts\n"
            "  html   one self-contained page: charts of connected chargers, messages/s by\n"
            "         action, response-time percentiles and errors, the tables (opens offline)\n"
            "\n"
            "--threshold EXPR (any number): a pass/fail criterion, e.g.\n"
            "  'conf.BootNotification.p95<500ms'  'errors.rate<1%%'  'call_timeouts<10'\n"
            "  'conf.*.p99<2s' (every action)  'down.Reset.max<50ms'  'connected>=1000'\n"
            "Each prints passed or FAILED with the measured value (after the table; on stderr\n"
            "when stdout carries another format). The metrics: docs/results.md, \"Thresholds\".\n"
            "\n"
            "Exit status: 0 ok, 1 a threshold failed (or the file could not be written),\n"
            "2 usage or a malformed threshold, 3 Redis unreachable or refusing.\n");
}

int cmd_report(struct cli *c, int argc, char **argv)
{
    enum { OPT_RUN = 1, OPT_SINCE, OPT_UNTIL, OPT_FORMAT, OPT_OUT, OPT_THRESHOLD, OPT_JSON };
    static const struct option opts[] = {{"run", required_argument, NULL, OPT_RUN},
                                         {"since", required_argument, NULL, OPT_SINCE},
                                         {"until", required_argument, NULL, OPT_UNTIL},
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"threshold", required_argument, NULL, OPT_THRESHOLD},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *run = NULL, *out = NULL;
    int64_t since = -1, until = -1;
    enum report_format f = c->json ? RF_JSON : RF_TABLE;
    struct thresh *th = NULL;
    size_t nth = 0;
    struct cs_error err;
    int opt, rc = EXIT_OK;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_RUN:
            if (!run_id_valid(optarg)) {
                fprintf(stderr, "swarm-cli report: --run: '%s' is not a run id\n", optarg);
                rc = EXIT_USAGE;
                goto out;
            }
            run = optarg;
            break;
        case OPT_SINCE:
        case OPT_UNTIL:
            if (!parse_time(optarg, opt == OPT_SINCE ? &since : &until)) {
                fprintf(stderr,
                        "swarm-cli report: --%s: bad time '%s' (ISO-8601, Unix ms or "
                        "-DURATION)\n",
                        opt == OPT_SINCE ? "since" : "until", optarg);
                rc = EXIT_USAGE;
                goto out;
            }
            break;
        case OPT_FORMAT:
            if (!report_format_of(optarg, &f)) {
                fprintf(stderr, "swarm-cli report: --format: table, csv, json or html\n");
                rc = EXIT_USAGE;
                goto out;
            }
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_JSON:
            f = RF_JSON;
            break;
        case OPT_THRESHOLD:
            th = cs_realloc(th, (nth + 1) * sizeof(*th));
            if (thresh_parse(optarg, &th[nth], &err) != CS_OK) {
                fprintf(stderr, "swarm-cli report: %s\n", err.msg);
                rc = EXIT_USAGE;
                goto out;
            }
            nth++;
            break;
        case 'h':
            report_usage(stdout);
            goto out;
        default:
            report_usage(stderr);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (optind < argc || (run && (since >= 0 || until >= 0)) || (until >= 0 && since < 0) ||
        (since >= 0 && until >= 0 && until < since)) {
        fprintf(stderr, "swarm-cli report: %s (swarm-cli report --help)\n",
                optind < argc ? "unexpected argument"
                : run         ? "--run or --since/--until, not both"
                : since < 0   ? "--until needs --since"
                              : "--until is before --since");
        rc = EXIT_USAGE;
        goto out;
    }
    if (!cli_connect(c)) {
        rc = EXIT_REDIS;
        goto out;
    }
    struct report *r = since >= 0 ? cli_report_range(c, since, until, until < 0, &err)
                                  : cli_report_run(c, run, &err);
    if (!r) {
        if (err.code == CS_ERR_NOTFOUND || err.code == CS_ERR_RANGE) {
            fprintf(stderr, "swarm-cli report: %s\n", err.msg);
            rc = EXIT_ERRORS;
        } else {
            rc = cli_redis_fail(&err);
        }
        goto out;
    }
    size_t failed = report_check(r, th, nth);
    rc = cli_report_output(r, f, out, false);
    cli_print_checks(r, f, out);
    if (rc == EXIT_OK && failed)
        rc = EXIT_ERRORS;
    report_free(r);
out:
    cs_free(th);
    return rc;
}
