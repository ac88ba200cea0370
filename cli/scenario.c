/* scenario.c - swarm-cli run FILE: a scenario file run against the live swarm. It checks the
 * file (cs/scenario.h), writes the starting settings, opens a run, runs the stages one after
 * the other through the same paths as the swarm-cli commands they stand for (config set,
 * scale, any fleet command, stats reset), shows a progress line, stops the run (ending open
 * transactions), writes the report and exits by the thresholds. SIGINT/SIGTERM stop it
 * cleanly between two steps: the run is stopped and reported all the same. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cs/jpos.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/report.h"
#include "cs/scenario.h"
#include "cs/stats.h"
#include "cs/util.h"

#define SLICE_MS 200           /* longest wait between two looks at signals and the fleet */
#define PROGRESS_PLAIN_MS 5000 /* progress lines when stderr is not a terminal */

struct runner {
    struct cli *c;
    const struct scenario *s;
    const char *file;
    char id[64];
    sigset_t sigs; /* SIGINT, SIGTERM: blocked, taken with sigtimedwait */
    int signo;     /* the one that stopped us, 0 = none */
    bool tty;
    int64_t t0;        /* monotonic start */
    int64_t waited_ms; /* planned waits done so far */
    size_t step;
    /* the progress line */
    struct stats_point last;
    double rate;
    int64_t errors0;
    bool have_errors0;
    int64_t last_plain;
    bool line_open; /* a \r line is on the terminal */
};

/* ---- signals ------------------------------------------------------------------------------- */

/* Waits up to ms for SIGINT/SIGTERM (blocked): true when one came. Doubles as the sleep. */
static bool signalled(struct runner *r, int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    siginfo_t si;
    int s = sigtimedwait(&r->sigs, &si, &ts);
    if (s > 0) {
        r->signo = s;
        return true;
    }
    return r->signo != 0;
}

/* ---- progress ------------------------------------------------------------------------------ */

static void fmt_dur(char *out, size_t n, int64_t ms)
{
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, n, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static void end_line(struct runner *r)
{
    if (r->line_open) {
        fputs("\r\033[K", stderr);
        r->line_open = false;
    }
}

/* Prints a log line (the current step, what it did) above the progress line. */
static void say(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct runner *r, const char *fmt, ...)
{
    char t[32], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    end_line(r);
    fmt_dur(t, sizeof(t), cs_mono_ms() - r->t0);
    printf("[%s] %s\n", t, msg);
    fflush(stdout);
}

static void progress(struct runner *r, bool force)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    int64_t now = cs_mono_ms();
    if (!r->tty && !force && now - r->last_plain < PROGRESS_PLAIN_MS)
        return;
    struct rds_reply *x = cli_cmd(r->c->r, CLI_ARRAY, &err,
                                  "HMGET %s connected assigned_total fleet_size msgs_out msgs_in "
                                  "updated_ms callerrors_in call_timeouts",
                                  cli_key(r->c, k, K_STATS, NULL));
    if (!x)
        return; /* a progress line is not worth failing the run */
    long long v[8];
    for (int i = 0; i < 8; i++)
        v[i] = rds_reply_num(rds_reply_at(x, (size_t)i), 0);
    rds_reply_free(x);
    struct stats_point p = {v[5], (uint64_t)v[3], (uint64_t)v[4]};
    double out_s, in_s;
    if (p.ms > r->last.ms && r->last.ms) {
        if (stats_rates(&r->last, &p, &out_s, &in_s))
            r->rate = out_s + in_s;
    }
    if (p.ms > r->last.ms)
        r->last = p;
    if (!r->have_errors0) {
        r->errors0 = v[6] + v[7];
        r->have_errors0 = true;
    }
    char el[32], tot[32];
    int64_t elapsed = now - r->t0;
    fmt_dur(el, sizeof(el), elapsed);
    /* what is left: the planned waits not done yet */
    fmt_dur(tot, sizeof(tot), elapsed + (r->s->planned_ms - r->waited_ms));
    const struct scn_step *st = r->step < r->s->nsteps ? &r->s->steps[r->step] : NULL;
    char line[400];
    snprintf(line, sizeof(line),
             "stage %zu/%zu %-.40s  %s / ~%s  connected %lld/%lld  %.1f msgs/s  errors %lld",
             r->step + 1 > r->s->nsteps ? r->s->nsteps : r->step + 1, r->s->nsteps,
             st ? st->label : "done", el, tot, v[0], v[2], r->rate, v[6] + v[7] - r->errors0);
    if (r->tty) {
        fprintf(stderr, "\r\033[K%s", line);
        r->line_open = true;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    r->last_plain = now;
}

/* Holds for ms (or until a signal), refreshing the progress line. */
static bool hold(struct runner *r, int64_t ms, bool planned)
{
    int64_t end = cs_mono_ms() + ms, start_waited = r->waited_ms;
    for (;;) {
        int64_t left = end - cs_mono_ms();
        if (planned)
            r->waited_ms = start_waited + (ms - (left > 0 ? left : 0));
        progress(r, false);
        if (left <= 0)
            return true;
        if (signalled(r, left < SLICE_MS ? (int)left : SLICE_MS))
            return false;
    }
}

/* ---- the steps ----------------------------------------------------------------------------- */

/* `swarm-cli config set [scope...] k=v...`: the same validated path as the command. */
static int config_set(struct runner *r, const char *const *scope, int nscope,
                      const struct kvlist *kv)
{
    if (!kv->n)
        return EXIT_OK;
    int argc = 0;
    char **argv = cs_calloc((size_t)nscope + kv->n + 3, sizeof(*argv));
    struct buf *pairs = cs_calloc(kv->n, sizeof(*pairs));
    argv[argc++] = (char *)"config";
    argv[argc++] = (char *)"set";
    for (int i = 0; i < nscope; i++)
        argv[argc++] = (char *)scope[i];
    for (size_t i = 0; i < kv->n; i++) {
        buf_printf(&pairs[i], "%s=%s", kv->v[i].key, kv->v[i].val);
        argv[argc++] = pairs[i].s;
    }
    end_line(r);
    int rc = cmd_config(r->c, argc, argv);
    for (size_t i = 0; i < kv->n; i++)
        buf_free(&pairs[i]);
    cs_free(pairs);
    cs_free(argv);
    return rc;
}

/* The fleet's connected and assigned counts, from the coordinator's figures. */
static bool connected_now(struct runner *r, long long *conn, long long *assigned)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    struct rds_reply *x = cli_cmd(r->c->r, CLI_ARRAY, &err, "HMGET %s connected assigned_total",
                                  cli_key(r->c, k, K_STATS, NULL));
    if (!x) {
        cli_redis_fail(&err);
        return false;
    }
    *conn = rds_reply_num(rds_reply_at(x, 0), -1);
    *assigned = rds_reply_num(rds_reply_at(x, 1), -1);
    rds_reply_free(x);
    return true;
}

/* EXIT_* of a step; EXIT_ERRORS from a scale that did not get there is the scenario failing. */
static int scale(struct runner *r, const struct scn_step *st)
{
    char n[24], ramp[48];
    int rc;
    if (st->ramp_per_s > 0) {
        const char *scope[] = {"--fleet"};
        struct kvlist kv = KVLIST_INIT;
        snprintf(ramp, sizeof(ramp), "%lld", (long long)st->ramp_per_s);
        kv_set(&kv, "ramp_per_s", ramp);
        rc = config_set(r, scope, 1, &kv);
        kv_free(&kv);
        if (rc)
            return rc;
    }
    snprintf(n, sizeof(n), "%lld", (long long)st->size);
    char *argv[] = {(char *)"scale", n, NULL};
    end_line(r);
    if ((rc = cmd_scale(r->c, 2, argv)))
        return rc;
    if (!st->wait)
        return EXIT_OK;
    int64_t deadline = cs_mono_ms() + st->timeout_ms;
    long long conn = -1, assigned = -1;
    while (cs_mono_ms() < deadline) {
        if (!connected_now(r, &conn, &assigned))
            return EXIT_REDIS;
        if (conn == st->size && assigned == st->size)
            return EXIT_OK;
        progress(r, false);
        if (signalled(r, SLICE_MS))
            return EXIT_OK; /* stopping: not a failure of the scale */
    }
    say(r, "scale %lld: %lld connected after %lld s: the scenario fails", (long long)st->size, conn,
        (long long)(st->timeout_ms / 1000));
    return EXIT_ERRORS;
}

static int run_step(struct runner *r, const struct scn_step *st)
{
    switch (st->kind) {
    case SK_SCALE:
        return scale(r, st);
    case SK_WAIT:
        hold(r, st->ms, true);
        return EXIT_OK;
    case SK_CONFIG: {
        const char *scope[4];
        int n = 0;
        if (st->charger[0]) {
            scope[n++] = "--charger";
            scope[n++] = st->charger;
        } else if (st->select[0]) {
            scope[n++] = "--select";
            scope[n++] = st->select;
            if (st->layer[0]) {
                scope[n++] = "--layer";
                scope[n++] = st->layer;
            }
        }
        return config_set(r, scope, n, &st->set);
    }
    case SK_FLEET: {
        const char *scope[] = {"--fleet"};
        return config_set(r, scope, 1, &st->set);
    }
    case SK_COMMAND:
    case SK_CHAOS: {
        end_line(r);
        int rc = cli_send_line(r->c, st->line_, false);
        /* Error replies (a charger with nothing to do) are the command's result, not the
         * scenario's failure; Redis and usage errors are. */
        return rc == EXIT_ERRORS ? EXIT_OK : rc;
    }
    case SK_RESET:
        end_line(r);
        return run_reset(r->c, false);
    case SK_REPEAT:
    case SK__COUNT:
        break;
    }
    return EXIT_OK;
}

/* ---- the command --------------------------------------------------------------------------- */

static bool read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "swarm-cli run: cannot open %s: %s\n", path, strerror(errno));
        return false;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_append(out, chunk, n);
        if (out->len > JPOS_MAX_INPUT) {
            fprintf(stderr, "swarm-cli run: %s is larger than %d bytes\n", path, JPOS_MAX_INPUT);
            fclose(f);
            return false;
        }
    }
    bool ok = !ferror(f);
    if (!ok)
        fprintf(stderr, "swarm-cli run: cannot read %s: %s\n", path, strerror(errno));
    fclose(f);
    return ok;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: swarm-cli run [--check] FILE [--threshold EXPR]... [--format F] "
                 "[--out FILE]\n(swarm-cli run --help)\n");
}

/* The starting settings: the seed, the fleet's and the charger defaults. */
static int apply_start(struct runner *r)
{
    const struct scenario *s = r->s;
    struct kvlist fleet = KVLIST_INIT;
    kv_copy(&fleet, &s->fleet);
    if (s->seed >= 0) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)s->seed);
        kv_set(&fleet, "seed", v);
    }
    const char *fl[] = {"--fleet"};
    int rc = config_set(r, fl, 1, &fleet);
    kv_free(&fleet);
    if (rc == EXIT_OK)
        rc = config_set(r, NULL, 0, &s->config);
    return rc;
}

int cmd_scenario(struct cli *c, int argc, char **argv)
{
    enum { OPT_CHECK = 1, OPT_THRESHOLD, OPT_FORMAT, OPT_OUT };
    static const struct option opts[] = {{"check", no_argument, NULL, OPT_CHECK},
                                         {"threshold", required_argument, NULL, OPT_THRESHOLD},
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {NULL, 0, NULL, 0}};
    bool check = false;
    const char *out = NULL;
    enum report_format f = RF_TABLE;
    bool have_format = false;
    struct thresh *extra = NULL;
    size_t nextra = 0;
    struct cs_error err;
    struct buf text = BUF_INIT;
    struct scenario s;
    int opt, rc = EXIT_OK;
    memset(&s, 0, sizeof(s));
    optind = 0; /* 0, not 1: glibc starts afresh, in its permuting mode (FILE may come first) */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_CHECK:
            check = true;
            break;
        case OPT_THRESHOLD:
            extra = cs_realloc(extra, (nextra + 1) * sizeof(*extra));
            if (thresh_parse(optarg, &extra[nextra], &err) != CS_OK) {
                fprintf(stderr, "swarm-cli run: %s\n", err.msg);
                rc = EXIT_USAGE;
                goto out;
            }
            nextra++;
            break;
        case OPT_FORMAT:
            if (!report_format_of(optarg, &f)) {
                fprintf(stderr, "swarm-cli run: --format: table, csv, json or html\n");
                rc = EXIT_USAGE;
                goto out;
            }
            have_format = true;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        default:
            usage(stderr);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    const char *file = argv[optind];
    if (!read_file(file, &text)) {
        rc = EXIT_USAGE;
        goto out;
    }
    if (scenario_parse(text.s ? text.s : "", text.len, file, &s, &err) != CS_OK) {
        fprintf(stderr, "swarm-cli run: %s\n", err.msg);
        rc = EXIT_USAGE;
        goto out;
    }
    if (check) {
        printf("%s: ok: \"%s\", %zu step%s, %zu threshold%s, %.0f s of waits\n", file, s.name,
               s.nsteps, s.nsteps == 1 ? "" : "s", s.nth + nextra, s.nth + nextra == 1 ? "" : "s",
               (double)s.planned_ms / 1000.0);
        goto out;
    }
    if (!have_format && s.report_format[0])
        report_format_of(s.report_format, &f);
    if (!out && s.report_out[0])
        out = s.report_out;

    struct runner r;
    memset(&r, 0, sizeof(r));
    r.c = c;
    r.s = &s;
    r.file = file;
    r.tty = isatty(STDERR_FILENO);
    sigemptyset(&r.sigs);
    sigaddset(&r.sigs, SIGINT);
    sigaddset(&r.sigs, SIGTERM);
    /* Taken with sigtimedwait between steps, never by surprise in the middle of a Redis read;
     * a shell that starts us in the background ignores SIGINT: we want it all the same. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_BLOCK, &r.sigs, NULL);
    r.t0 = cs_mono_ms();

    if (!cli_connect(c)) {
        rc = EXIT_REDIS;
        goto unblock;
    }
    char open[64];
    if (!run_open(c, open, sizeof(open), &err)) {
        rc = cli_redis_fail(&err);
        goto unblock;
    }
    if (open[0]) {
        fprintf(stderr, "swarm-cli run: run %s is running: stop it first (swarm-cli run stop)\n",
                open);
        rc = EXIT_ERRORS;
        goto unblock;
    }
    if ((rc = apply_start(&r)) != EXIT_OK)
        goto unblock;
    struct buf th = BUF_INIT;
    scenario_thresholds_text(&s, &th);
    for (size_t i = 0; i < nextra; i++)
        buf_printf(&th, "%s%s", th.len ? "\n" : "", extra[i].text);
    struct run_start rs = {.name = s.name,
                           .seed = s.seed,
                           .scenario = text.s,
                           .scenario_file = file,
                           .thresholds = buf_cstr(&th)};
    rc = run_start(c, &rs, r.id, sizeof(r.id));
    buf_free(&th);
    if (rc != EXIT_OK)
        goto unblock;
    say(&r, "run %s started: %s (%zu steps)", r.id, s.name, s.nsteps);

    bool failed = false;
    for (r.step = 0; r.step < s.nsteps && !r.signo; r.step++) {
        const struct scn_step *st = &s.steps[r.step];
        say(&r, "step %zu/%zu: %s", r.step + 1, s.nsteps, st->label);
        int src = run_step(&r, st);
        if (src == EXIT_REDIS || src == EXIT_USAGE) {
            say(&r, "step %zu/%zu (%s:%d:%d) failed: stopping", r.step + 1, s.nsteps, file,
                st->line, st->col);
            failed = true;
            break;
        }
        if (src == EXIT_ERRORS) {
            failed = true;
            break;
        }
        signalled(&r, 0);
    }
    end_line(&r);
    if (r.signo)
        say(&r, "%s: stopping the run at step %zu/%zu",
            r.signo == SIGINT ? "interrupted" : "terminated",
            r.step + 1 > s.nsteps ? s.nsteps : r.step + 1, s.nsteps);

    /* The end: open transactions end, the run's figures are marked, the report follows. */
    struct run_stop so = {.timeout_s = 30};
    int src = run_stop(c, r.id, &so);
    if (src != EXIT_OK) {
        rc = src;
        goto unblock;
    }
    struct report *rep = cli_report_run(c, r.id, &err);
    if (!rep) {
        rc = cli_redis_fail(&err);
        goto unblock;
    }
    struct thresh *all = cs_calloc(s.nth + nextra + 1, sizeof(*all));
    if (s.nth)
        memcpy(all, s.th, s.nth * sizeof(*all));
    if (nextra)
        memcpy(all + s.nth, extra, nextra * sizeof(*all));
    size_t nfail = report_check(rep, all, s.nth + nextra);
    cs_free(all);
    rc = cli_report_output(rep, f, out, false);
    cli_print_checks(rep, f, out);
    report_free(rep);
    char k[CS_KEY_MAX];
    const char *result = failed || nfail ? "failed" : "passed";
    struct rds_reply *x =
        cli_cmd(c->r, CLI_INT, &err, "HSET %s result %s", cli_key(c, k, K_RUN, r.id), result);
    rds_reply_free(x);
    fprintf(stderr, "run %s %s%s\n", r.id, result,
            nfail    ? " (thresholds)"
            : failed ? " (a step did not complete)"
                     : "");
    if (rc == EXIT_OK && (failed || nfail))
        rc = EXIT_ERRORS;
unblock:
    while (signalled(&r, 0) && r.signo) /* a late Ctrl-C must not kill us before the exit */
        r.signo = 0;
    sigprocmask(SIG_UNBLOCK, &r.sigs, NULL);
out:
    scenario_free(&s);
    buf_free(&text);
    cs_free(extra);
    return rc;
}
