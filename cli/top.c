/* top.c - swarm-cli top: a live full-screen view of the fleet, like top(1), for terminals
 * reached over plain SSH. No curses: ANSI escape sequences, the alternate screen, and the
 * terminal in cbreak mode so a key acts at once. Each refresh gathers a snapshot from Redis,
 * computes rates against the previous one and renders the whole screen into a buffer written
 * in one go. Events come from a second connection subscribed to {ns}:events, drained between
 * refreshes with short reads so they never hold one up. */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/util.h"

#define TOP_CONNECT_MS 3000 /* connect and reply timeout of both connections */
#define TOP_HIST 240        /* fleet msgs/s samples kept for the sparkline */
#define TOP_EVENTS 64       /* event lines kept */
#define TOP_SLICE_MS 100    /* longest wait between looks at the event connection */
#define TOP_LINE 1024       /* longest line formatted (clipped to the width anyway) */

/* ---- terminal ----------------------------------------------------------------------------- */

/* Global: the signal handlers and atexit restore it. */
static struct {
    bool active; /* alternate screen entered */
    bool raw;    /* saved holds the termios to restore */
    struct termios saved;
} term;

static volatile sig_atomic_t sig_quit, sig_winch, sig_tstp;

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

#define TERM_LEAVE "\033[0m\033[?25h\033[?1049l"

/* Async-signal-safe (write, tcsetattr): also called from a signal handler. */
static void term_restore(void)
{
    if (term.active)
        write_all(STDOUT_FILENO, TERM_LEAVE, sizeof(TERM_LEAVE) - 1);
    if (term.raw)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &term.saved);
    term.active = term.raw = false;
}

/* Cbreak on stdin when it is a terminal (keys arrive one by one, unechoed; Ctrl-C and Ctrl-Z
 * still raise their signals), then the alternate screen with the cursor hidden. */
static void term_enter(void)
{
    static bool registered;
    struct termios t;
    if (!registered) {
        atexit(term_restore);
        registered = true;
    }
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &term.saved) == 0) {
        t = term.saved;
        t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        term.raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    static const char enter[] = "\033[?1049h\033[?25l\033[H\033[2J";
    write_all(STDOUT_FILENO, enter, sizeof(enter) - 1);
    term.active = true;
}

static void on_quit(int sig)
{
    if (sig_quit && sig == SIGINT) { /* again: stuck on Redis, leave now */
        term_restore();
        _exit(130);
    }
    sig_quit = sig;
}

static void on_winch(int sig)
{
    (void)sig;
    sig_winch = 1;
}

static void on_tstp(int sig)
{
    (void)sig;
    sig_tstp = 1;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void install_handlers(void)
{
    set_handler(SIGINT, on_quit);
    set_handler(SIGTERM, on_quit);
    set_handler(SIGHUP, on_quit);
    set_handler(SIGWINCH, on_winch);
    set_handler(SIGCONT, on_winch); /* back from a stop: redraw */
    set_handler(SIGTSTP, on_tstp);
}

/* Resizes and stops wait while Redis is read: a signal would cut a pipelined read short
 * (poll's EINTR) and pass for a lost connection. Ctrl-C and SIGTERM stay deliverable. */
static void block_redraw_signals(bool block)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGWINCH);
    sigaddset(&s, SIGCONT);
    sigaddset(&s, SIGTSTP);
    sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}

/* Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT. */
static void suspend(void)
{
    term_restore();
    set_handler(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);
    set_handler(SIGTSTP, on_tstp);
    term_enter();
}

static void term_size(int *rows, int *cols)
{
    struct winsize ws;
    *rows = 24;
    *cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    }
}

/* The locale's charset decides between block characters and ASCII. The locale is put back
 * to "C" at once: numbers are parsed from Redis and printed with a '.' whatever LC_NUMERIC. */
static bool locale_utf8(void)
{
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    bool utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    setlocale(LC_ALL, "C");
    return utf8;
}

/* ---- snapshot (gather) -------------------------------------------------------------------- */

/* A latency percentile field; false when absent or nothing was measured yet. */
static bool pct(const struct kvlist *kv, const char *hist, const char *p, double *ms)
{
    char k[48];
    snprintf(k, sizeof(k), "%s_count", hist);
    if (kv_i64(kv, k) <= 0)
        return false;
    snprintf(k, sizeof(k), "%s_%s_ms", hist, p);
    const char *v = kv_get(kv, k);
    return v && cs_parse_double(v, 0, 1e12, ms);
}

/* ---- state -------------------------------------------------------------------------------- */

struct top {
    struct cli *c;
    double interval;
    bool utf8;
    int rows, cols;
    struct snap snap;
    bool have_snap;
    int64_t snap_ms; /* wall clock of the last good refresh */
    char err[300];   /* why the last refresh failed; "" when it did not */
    double hist[TOP_HIST];
    size_t hist_n; /* samples in hist, the newest last */
    struct rds_sync *sub;
    char sub_err[300]; /* why the event connection is down; "" when subscribed */
    char *events[TOP_EVENTS];
    size_t ev_n; /* lines in events, the newest last */
};

/* The fleet's messages/s for the sparkline. */
static void compute(struct top *t, const struct snap *s)
{
    struct snap_totals tot;
    snap_sum(s, &tot);
    if (t->hist_n == TOP_HIST) {
        t->hist_n--;
        memmove(t->hist, t->hist + 1, sizeof(t->hist[0]) * t->hist_n);
    }
    t->hist[t->hist_n++] = tot.out_rate + tot.in_rate;
}

/* ---- events ------------------------------------------------------------------------------- */

static void push_event(struct top *t, char *line)
{
    if (t->ev_n == TOP_EVENTS) {
        cs_free(t->events[0]);
        t->ev_n--;
        memmove(t->events, t->events + 1, sizeof(t->events[0]) * t->ev_n);
    }
    t->events[t->ev_n++] = line;
}

static void hms(char *out, size_t n, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&s, &tm) || !strftime(out, n, "%H:%M:%S", &tm))
        snprintf(out, n, "--:--:--");
}

/* "12:00:01 config_rejected     worker=a1-0 key=heartbeat_s ..." from an event's JSON. */
static char *format_event(const char *body)
{
    struct buf b = BUF_INIT;
    char when[16];
    cJSON *o = cJSON_Parse(body);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    hms(when, sizeof(when), cJSON_IsNumber(ts) ? (int64_t)ts->valuedouble : cs_now_ms());
    if (!cJSON_IsObject(o)) {
        buf_printf(&b, "%s %s", when, body);
        cJSON_Delete(o);
        return buf_detach(&b);
    }
    buf_printf(&b, "%s %-20s", when, cJSON_IsString(type) ? type->valuestring : "?");
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (it == ts || it == type || !it->string)
            continue;
        char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
        buf_printf(&b, " %s=%s", it->string, v ? v : it->valuestring);
        cJSON_free(v);
    }
    cJSON_Delete(o);
    return buf_detach(&b);
}

static void drop_sub(struct top *t, const char *why)
{
    snprintf(t->sub_err, sizeof(t->sub_err), "%s", why && *why ? why : "connection lost");
    rds_sync_free(t->sub);
    t->sub = NULL;
}

/* Opens the event connection when it is not up; a failure is shown and retried next refresh. */
static void subscribe_events(struct top *t)
{
    char k[CS_KEY_MAX];
    struct cs_error err;
    if (t->sub)
        return;
    t->sub = rds_sync_connect(&t->c->common.url, TOP_CONNECT_MS, &err);
    if (!t->sub) {
        snprintf(t->sub_err, sizeof(t->sub_err), "%s", err.msg);
        return;
    }
    struct rds_reply *r =
        cli_cmd(t->sub, CLI_ARRAY, &err, "SUBSCRIBE %s", cli_key(t->c, k, CH_EVENTS, NULL));
    if (!r) {
        drop_sub(t, err.msg);
        return;
    }
    rds_reply_free(r);
    t->sub_err[0] = '\0';
}

/* Takes the messages already arrived (waiting at most 1 ms), up to TOP_EVENTS at a time so a
 * flood of events cannot hold up the refresh; true when there were some. */
static bool drain_events(struct top *t)
{
    bool got = false;
    struct cs_error err;
    for (int i = 0; t->sub && i < TOP_EVENTS; i++) {
        struct rds_reply *m = NULL;
        int rc = rds_sync_read(t->sub, 1, &m);
        if (rc == CS_ERR_STATE)
            break; /* nothing more for now */
        if (rc != CS_OK || !(m = cli_check(t->sub, CLI_ARRAY, "SUBSCRIBE", m, &err))) {
            drop_sub(t, rc != CS_OK ? rds_sync_error(t->sub) : err.msg);
            break;
        }
        const char *kind = rds_reply_str(rds_reply_at(m, 0), NULL);
        const char *body = rds_reply_str(rds_reply_at(m, 2), NULL);
        if (kind && strcmp(kind, "message") == 0 && body) {
            push_event(t, format_event(body));
            got = true;
        }
        rds_reply_free(m);
    }
    return got;
}

/* ---- refresh ------------------------------------------------------------------------------ */

/* A refresh that fails keeps the last data on screen with the error above it; the next one
 * tries again on a new connection (as status --watch does). */
static void refresh(struct top *t)
{
    struct cli *c = t->c;
    struct snap s;
    struct cs_error err;
    memset(&s, 0, sizeof(s));
    block_redraw_signals(true);
    if (cli_try_connect(c, &err) && snap_take(c, &s, SNAP_ROWS, &err)) {
        compute(t, &s);
        snap_free(&t->snap);
        t->snap = s;
        t->have_snap = true;
        t->snap_ms = cs_now_ms();
        t->err[0] = '\0';
        subscribe_events(t);
    } else {
        snap_free(&s);
        snprintf(t->err, sizeof(t->err), "%s", err.msg);
        rds_sync_free(c->r); /* possibly out of step: start afresh */
        c->r = NULL;
    }
    block_redraw_signals(false);
}

/* ---- screen (render) ---------------------------------------------------------------------- */

struct screen {
    struct buf b;
    int rows, cols, row; /* row: lines written so far */
    bool utf8;
};

#define A_BOLD "\033[1m"
#define A_BAR "\033[7m"
#define A_ERR "\033[1;31m"
#define A_DIM "\033[2m"

/* Length of the UTF-8 sequence at s (1..4), 0 when it is not a valid, printable one (C1
 * controls included: some terminals act on them). */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
        return 0;
    return n;
}

/* Appends text clipped to `width` columns; control characters (C0, DEL, C1) and, outside UTF-8,
 * every non-ASCII byte print as '?' (worker names, hosts and events come from Redis). Returns the
 * columns used (one per character: no double-width ones are expected). */
static int put_clipped(struct screen *sc, const char *text, int width)
{
    const unsigned char *p = (const unsigned char *)text;
    int used = 0;
    while (*p && used < width) {
        size_t n = *p >= 0x80 && sc->utf8 ? utf8_len(p) : 0;
        if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
            n = 0; /* a C1 control (U+0080..U+009F): '?' too */
        if (n) {
            buf_append(&sc->b, p, n);
            p += n;
        } else {
            buf_putc(&sc->b, *p < 0x20 || *p >= 0x7f ? '?' : (char)*p);
            p++;
        }
        used++;
    }
    return used;
}

/* One screen line at the next row; `bar` pads it to the full width (inverse video bars). */
static void scr_line(struct screen *sc, const char *attr, bool bar, const char *text)
{
    if (sc->row >= sc->rows)
        return;
    buf_printf(&sc->b, "\033[%d;1H", ++sc->row);
    if (attr)
        buf_puts(&sc->b, attr);
    int used = put_clipped(sc, text, sc->cols);
    for (; bar && used < sc->cols; used++)
        buf_putc(&sc->b, ' ');
    buf_puts(&sc->b, "\033[0m\033[K");
}

static void scr_linef(struct screen *sc, const char *attr, bool bar, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void scr_linef(struct screen *sc, const char *attr, bool bar, const char *fmt, ...)
{
    char line[TOP_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    scr_line(sc, attr, bar, line);
}

/* "3.2 ms", or "-" when nothing was measured. */
static const char *fmt_pct(char *out, size_t n, const struct kvlist *kv, const char *hist,
                           const char *p)
{
    double ms;
    if (pct(kv, hist, p, &ms))
        snprintf(out, n, "%.1f ms", ms);
    else
        snprintf(out, n, "-");
    return out;
}

static void render_title(struct top *t, struct screen *sc)
{
    char now[16];
    hms(now, sizeof(now), cs_now_ms());
    const char *leader = t->have_snap && t->snap.leader[0] ? t->snap.leader : "(none)";
    scr_linef(sc, A_BAR, true,
              "swarm-cli top   namespace %s   coordinator %s   every %.1fs   %s"
              "   q quit",
              t->c->common.ns, leader, t->interval, now);
}

static void render_summary(struct top *t, struct screen *sc, const struct snap_totals *tot)
{
    const struct snap *s = &t->snap;
    scr_linef(sc, NULL, false,
              "fleet     size %lld   %lld running on %zu worker%s   unassigned %lld   "
              "connected %lld  connecting %lld  offline %lld  disabled %lld",
              snap_fleet_size(s, NULL), tot->chargers, s->workers, s->workers == 1 ? "" : "s",
              kv_i64(&s->fstats, "unassigned"), tot->connected, tot->connecting, tot->offline,
              tot->disabled);
    if (tot->rated)
        scr_linef(sc, NULL, false,
                  "messages  out %.1f/s  in %.1f/s   errors %lld   (totals: out %lld, in %lld)",
                  tot->out_rate, tot->in_rate, tot->errors, tot->out, tot->in);
    else
        scr_linef(sc, NULL, false,
                  "messages  out -/s  in -/s (after two stats updates)   errors %lld   "
                  "(totals: out %lld, in %lld)",
                  tot->errors, tot->out, tot->in);
}

/* The charger states that matter during a test, and the running run. */
static void render_states(struct top *t, struct screen *sc)
{
    const struct kvlist *f = &t->snap.fstats;
    char run[200] = "";
    if (t->snap.run_id[0])
        snprintf(run, sizeof(run), "   run %s %.60s", t->snap.run_id, t->snap.run_name);
    scr_linef(sc, NULL, false,
              "states    charging %lld  faulted %lld  open transactions %lld  offline %lld%s",
              kv_i64(f, "charging"), kv_i64(f, "faulted"), kv_i64(f, "transactions"),
              kv_i64(f, "offline"), run);
}

static void ms_cell(char *out, size_t n, double v)
{
    if (isnan(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.1f", v);
}

/* The platform's answers by action over the window, the busiest first; fits 80 columns. */
static void render_actions(struct top *t, struct screen *sc, int lines)
{
    struct astats *act;
    struct astats_view a[16];
    size_t n = snap_actions(&t->snap, &act, a, ARRAY_SIZE(a));
    char title[48];
    snprintf(title, sizeof(title), "ACTION (last %d s)", snap_window_s(&t->snap));
    scr_linef(sc, A_BAR, true, "%-30s %7s %7s %7s %7s %7s %8s", title, "REQ/S", "FAIL/S", "P50 MS",
              "P95 MS", "P99 MS", "FAILED");
    if (n == 0 && lines > 1)
        scr_line(sc, A_DIM, false, "(no CALLs yet)");
    for (size_t i = 0; i < n && (int)i < lines - 1; i++) {
        char name[64], p50[16], p95[16], p99[16];
        snprintf(name, sizeof(name), "%s %s", a[i].type, a[i].row->name);
        ms_cell(p50, sizeof(p50), a[i].win_p50);
        ms_cell(p95, sizeof(p95), a[i].win_p95);
        ms_cell(p99, sizeof(p99), a[i].win_p99);
        scr_linef(sc, NULL, false, "%-30.30s %7.1f %7.1f %7s %7s %7s %8llu", name, a[i].win_rps,
                  a[i].win_fps, p50, p95, p99, (unsigned long long)a[i].failures);
    }
    for (int used = 1 + (n ? (int)(n < (size_t)(lines - 1) ? n : (size_t)(lines - 1)) : 1);
         used < lines; used++)
        scr_line(sc, NULL, false, "");
    cs_free(act);
}

static void render_sparkline(struct top *t, struct screen *sc)
{
    static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = "_.-~=+*#";
    size_t room = sc->cols > 48 ? (size_t)sc->cols - 40 : 8; /* the labels take 40 */
    size_t n = t->hist_n < room ? t->hist_n : room;
    const double *h = t->hist + t->hist_n - n;
    double max = 0;
    for (size_t i = 0; i < n; i++)
        max = h[i] > max ? h[i] : max;
    struct buf b = BUF_INIT;
    buf_puts(&b, "msgs/s    ");
    for (size_t i = 0; i < n; i++) {
        int lv = max > 0 ? (int)(h[i] / max * 7.0 + 0.5) : 0;
        lv = lv < 0 ? 0 : lv > 7 ? 7 : lv;
        if (t->utf8)
            buf_puts(&b, blocks[lv]);
        else
            buf_putc(&b, ascii[lv]);
    }
    buf_printf(&b, "  out+in, last %zu refreshes, max %.1f/s", n, max);
    scr_line(sc, NULL, false, buf_cstr(&b));
    buf_free(&b);
}

static void render_latency(struct top *t, struct screen *sc)
{
    const struct kvlist *f = &t->snap.fstats;
    char a50[24], a99[24], cmd[24], cfg[24], conf[24];
    scr_linef(sc, NULL, false,
              "latency   last %d s  PUBACK p50 %s  p99 %s   command apply p99 %s   "
              "config apply p99 %s   platform CALL->answer p99 %s",
              snap_window_s(&t->snap), fmt_pct(a50, sizeof(a50), f, "ack_win", "p50"),
              fmt_pct(a99, sizeof(a99), f, "ack_win", "p99"),
              fmt_pct(cmd, sizeof(cmd), f, "cmd_win", "p99"),
              fmt_pct(cfg, sizeof(cfg), f, "cfg_win", "p99"),
              fmt_pct(conf, sizeof(conf), f, "conf_win", "p99"));
}

/* The status line: the Redis error, a capacity warning, or nothing. */
static void render_status(struct top *t, struct screen *sc)
{
    char when[16];
    long long size = snap_fleet_size(&t->snap, NULL), cap = kv_i64(&t->snap.fstats, "capacity");
    if (t->err[0] && t->have_snap) {
        hms(when, sizeof(when), t->snap_ms);
        scr_linef(sc, A_ERR, false, "Redis: %s (retrying every %.1fs; data from %s)", t->err,
                  t->interval, when);
    } else if (t->err[0]) {
        scr_linef(sc, A_ERR, false, "Redis: %s (retrying every %.1fs)", t->err, t->interval);
    } else if (size > 0 && cap < size && t->snap.workers) {
        scr_line(sc, A_BOLD, false,
                 "warning: fleet exceeds the live capacity; start more "
                 "workers or agents");
    } else {
        scr_line(sc, NULL, false, "");
    }
}

/* "%.1f", or "-" when there is no value. */
static void fmt_num(char *out, size_t n, bool have, double v)
{
    if (have)
        snprintf(out, n, "%.1f", v);
    else
        snprintf(out, n, "-");
}

struct cols {
    int name, host;
};

static void worker_cols(const struct snap *s, struct cols *w)
{
    w->name = 6;
    w->host = 4;
    for (size_t i = 0; i < s->n; i++) {
        const char *h = kv_get(&s->w[i].agent, "host");
        int nl = (int)strlen(s->w[i].name), hl = h ? (int)strlen(h) : 0;
        w->name = nl > w->name ? (nl < 24 ? nl : 24) : w->name;
        w->host = hl > w->host ? (hl < 20 ? hl : 20) : w->host;
    }
}

static void render_worker(struct screen *sc, const struct cols *wc, const struct snap_worker *w)
{
    const char *host = kv_get(&w->agent, "host");
    char out[16], in[16], ack[16];
    double ms = 0;
    bool have_ack = pct(&w->stats, "ack_win", "p99", &ms);
    fmt_num(out, sizeof(out), w->rated, w->out_rate);
    fmt_num(in, sizeof(in), w->rated, w->in_rate);
    fmt_num(ack, sizeof(ack), have_ack, ms);
    scr_linef(sc, NULL, false, "%-*.*s %-*.*s %8lld %9lld %9s %8s %7lld %8s %8.1f %7lld", wc->name,
              wc->name, w->name, wc->host, wc->host, host ? host : "",
              kv_i64(&w->stats, "assigned"), kv_i64(&w->stats, "connected"), out, in,
              snap_errors(&w->stats), ack, (double)kv_i64(&w->stats, "rss_kb") / 1024.0,
              kv_i64(&w->stats, "loop_lag_ms"));
}

/* Worker rows, sorted by name, as many as `room` lines hold (the last one says how many did
 * not fit). */
static void render_workers(struct top *t, struct screen *sc, int room)
{
    const struct snap *s = &t->snap;
    struct cols wc;
    room = room > 0 ? room : 0;
    worker_cols(s, &wc);
    scr_linef(sc, A_BAR, true, "%-*s %-*s %8s %9s %9s %8s %7s %8s %8s %7s", wc.name, "WORKER",
              wc.host, "HOST", "CHARGERS", "CONNECTED", "OUT/S", "IN/S", "ERRORS", "ACK P99",
              "RSS MiB", "LAG MS");
    if (!s->listed && s->workers && room > 0)
        scr_linef(sc, A_DIM, false,
                  "(%zu workers, more than fit: swarm-cli status --workers lists them)",
                  s->workers);
    else if (s->n == 0 && room > 0)
        scr_line(sc, A_DIM, false,
                 t->have_snap ? "(no live workers: start swarm-agent)" : "(waiting for Redis)");
    size_t fit = s->n <= (size_t)room ? s->n : (size_t)(room > 1 ? room - 1 : 0);
    for (size_t i = 0; i < fit; i++)
        render_worker(sc, &wc, &s->w[i]);
    if (fit < s->n && room > 0)
        scr_linef(sc, A_DIM, false, "... %zu more worker%s (a taller window shows them)",
                  s->n - fit, s->n - fit == 1 ? "" : "s");
    /* blank lines down to the events pane, which stays at the bottom */
    for (int used = s->n ? (int)fit + (fit < s->n) : (room > 0); used < room; used++)
        scr_line(sc, NULL, false, "");
}

static void render_events(struct top *t, struct screen *sc, int lines)
{
    char ch[CS_KEY_MAX];
    cli_key(t->c, ch, CH_EVENTS, NULL);
    if (t->sub_err[0])
        scr_linef(sc, A_BAR, true, "EVENTS  %s   (not subscribed: %s; retrying)", ch, t->sub_err);
    else
        scr_linef(sc, A_BAR, true, "EVENTS  %s", ch);
    if (t->ev_n == 0)
        scr_line(sc, A_DIM, false, t->sub ? "(no events yet)" : "");
    size_t shown = t->ev_n < (size_t)lines ? t->ev_n : (size_t)lines;
    for (size_t i = t->ev_n - shown; i < t->ev_n; i++)
        scr_line(sc, NULL, false, t->events[i]);
}

/* Fixed lines above the workers: title, fleet, messages, sparkline, latency, status, and the
 * workers' column bar. */
#define TOP_HEAD 7

/* Event lines kept on screen for a terminal of `rows` lines (none when it is short). */
static int event_lines(int rows)
{
    return rows >= 30 ? 8 : rows >= 20 ? 5 : rows >= 12 ? 2 : 0;
}

/* The states line and the per-action table, on terminals tall enough for them. */
static int state_lines(int rows)
{
    return rows >= 14 ? 1 : 0;
}

static int action_lines(int rows)
{
    return rows >= 30 ? 7 : rows >= 20 ? 4 : 0;
}

static void render(struct top *t, struct screen *sc, bool clear)
{
    struct snap_totals tot;
    snap_sum(&t->snap, &tot);
    if (clear)
        buf_puts(&sc->b, "\033[2J");
    render_title(t, sc);
    render_summary(t, sc, &tot);
    int st = state_lines(sc->rows), act = action_lines(sc->rows);
    if (st)
        render_states(t, sc);
    render_sparkline(t, sc);
    render_latency(t, sc);
    render_status(t, sc);
    if (act)
        render_actions(t, sc, act);
    int ev = event_lines(sc->rows);
    render_workers(t, sc, sc->rows - TOP_HEAD - st - act - (ev ? ev + 1 : 0));
    if (ev)
        render_events(t, sc, ev);
    if (sc->row < sc->rows)
        buf_printf(&sc->b, "\033[%d;1H\033[J", sc->row + 1);
}

/* Renders into one buffer and writes it with one write(); false when the terminal is gone. */
static bool draw(struct top *t, bool clear)
{
    struct screen sc = {BUF_INIT, t->rows, t->cols, 0, t->utf8};
    render(t, &sc, clear);
    size_t done = 0;
    while (done < sc.b.len) { /* one write, unless the terminal takes it in parts */
        ssize_t w = write(STDOUT_FILENO, sc.b.s + done, sc.b.len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = done == sc.b.len;
    buf_free(&sc.b);
    return ok;
}

/* ---- main loop ---------------------------------------------------------------------------- */

enum { KEY_NONE, KEY_QUIT, KEY_REFRESH, KEY_REDRAW };

static int read_keys(void)
{
    char k[64];
    int act = KEY_NONE;
    ssize_t n = read(STDIN_FILENO, k, sizeof(k));
    if (n == 0)
        return KEY_QUIT; /* the terminal went away */
    for (ssize_t i = 0; i < n; i++) {
        if (k[i] == 'q' || k[i] == 'Q' || k[i] == 3 /* Ctrl-C without ISIG */)
            return KEY_QUIT;
        if (k[i] == ' ' || k[i] == 'r')
            act = KEY_REFRESH;
        else if (k[i] == 12 /* Ctrl-L */ && act == KEY_NONE)
            act = KEY_REDRAW;
    }
    return act;
}

/* Waits for a key, a signal, an event or the deadline (at most TOP_SLICE_MS). */
static int wait_input(struct top *t, int64_t deadline, bool *dirty)
{
    int64_t left = deadline - cs_mono_ms();
    int ms = left <= 0 ? 0 : left > TOP_SLICE_MS ? TOP_SLICE_MS : (int)left;
    struct pollfd p = {term.raw ? STDIN_FILENO : -1, POLLIN, 0};
    int key = KEY_NONE;
    if (poll(&p, 1, ms) > 0 && p.revents)
        key = p.revents & POLLIN ? read_keys() : KEY_QUIT;
    if (drain_events(t))
        *dirty = true;
    return key;
}

static int top_loop(struct top *t)
{
    int64_t next = 0;
    bool clear = true, dirty = true;
    for (;;) {
        if (sig_quit)
            return EXIT_OK;
        if (sig_tstp) {
            sig_tstp = 0;
            suspend();
            sig_winch = 1;
        }
        if (sig_winch) {
            sig_winch = 0;
            term_size(&t->rows, &t->cols);
            clear = dirty = true;
        }
        if (cs_mono_ms() >= next) {
            refresh(t);
            next = cs_mono_ms() + (int64_t)(t->interval * 1000.0);
            dirty = true;
        }
        if (dirty && !draw(t, clear))
            return EXIT_ERRORS;
        clear = dirty = false;
        switch (wait_input(t, next, &dirty)) {
        case KEY_QUIT:
            return EXIT_OK;
        case KEY_REFRESH:
            next = 0;
            break;
        case KEY_REDRAW:
            clear = dirty = true;
            break;
        }
    }
}

static void top_free(struct top *t)
{
    snap_free(&t->snap);
    rds_sync_free(t->sub);
    for (size_t i = 0; i < t->ev_n; i++)
        cs_free(t->events[i]);
}

static int top_run(struct cli *c, double interval, bool ascii)
{
    struct top t;
    memset(&t, 0, sizeof(t));
    t.c = c;
    t.interval = interval;
    t.utf8 = locale_utf8() && !ascii;
    snprintf(t.sub_err, sizeof(t.sub_err), "waiting for Redis");
    term_size(&t.rows, &t.cols);
    install_handlers();
    term_enter();
    int rc = top_loop(&t);
    term_restore();
    top_free(&t);
    return rc;
}

/* ---- the subcommand ----------------------------------------------------------------------- */

static void top_usage(FILE *out)
{
    fprintf(out,
            "Usage: swarm-cli top [--interval S] [--ascii]\n"
            "\n"
            "A live full-screen view of a running fleet, like top(1): the fleet summary\n"
            "(size, workers, connected/connecting/offline, messages/s out and in, errors,\n"
            "coordinator), a sparkline of the fleet's messages/s over the last refreshes,\n"
            "latency percentiles over the last stats_window_s (PUBACK p50/p99, command,\n"
            "config and platform CALL->answer p99, from {ns}:stats; `-` when the window holds\n"
            "no sample), on terminals of 14 lines or more the charger states that matter\n"
            "during a test (charging, faulted, open transactions, offline) and the running\n"
            "run, on 20 lines or more the platform's answers by action over the same window\n"
            "(requests and failures per second, p50/p95/p99, failures since the start; the\n"
            "busiest first, 80 columns wide), one row per live worker (its PUBACK p99)\n"
            "sorted by name (as many as the terminal holds), and the events published on\n"
            "{ns}:events since top started. Rates come from the workers' cumulative counters\n"
            "between two stats updates. When Redis is lost the view shows the error above\n"
            "the last data and every refresh tries again.\n"
            "\n"
            "Keys:\n"
            "  q          quit (Ctrl-C too)\n"
            "  space, r   refresh now\n"
            "  Ctrl-L     redraw the screen\n"
            "  Ctrl-Z     suspend (fg to come back)\n"
            "\n"
            "Options:\n"
            "  --interval S   seconds between refreshes (default 1, fractions allowed, at\n"
            "                 least 0.2)\n"
            "  --ascii        ASCII sparkline even in a UTF-8 locale (one is used anyway when\n"
            "                 the locale's charset is not UTF-8)\n"
            "\n"
            "Needs a terminal on stdout: for scripts and logs use `swarm-cli status --watch`\n"
            "or `swarm-cli status --json`. Plain ANSI escape sequences, no curses: works over\n"
            "SSH in any VT100-compatible terminal.\n"
            "\n"
            "Exit status: 0 on q, Ctrl-C or SIGTERM (the terminal is restored); 1 when the\n"
            "terminal went away; 2 on a usage error or when stdout is not a terminal.\n");
}

int cmd_top(struct cli *c, int argc, char **argv)
{
    enum { OPT_INTERVAL = 1, OPT_ASCII };
    static const struct option opts[] = {{"interval", required_argument, NULL, OPT_INTERVAL},
                                         {"ascii", no_argument, NULL, OPT_ASCII},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    double interval = 1.0;
    bool ascii = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_INTERVAL:
            if (!cs_parse_double(optarg, 0.2, 3600, &interval)) {
                fprintf(stderr, "swarm-cli top: --interval: 0.2..3600 seconds\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_ASCII:
            ascii = true;
            break;
        case 'h':
            top_usage(stdout);
            return EXIT_OK;
        default:
            top_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "swarm-cli top: unexpected argument '%s' (swarm-cli top --help)\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (c->json || !isatty(STDOUT_FILENO)) {
        fprintf(stderr,
                "swarm-cli top: %s; use `swarm-cli status --watch` (or `status --json`) "
                "for scripts and logs\n",
                c->json ? "no --json form: it is a full-screen view" : "stdout is not a terminal");
        return EXIT_USAGE;
    }
    return top_run(c, interval, ascii);
}
