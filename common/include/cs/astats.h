/* astats.h - per-action statistics of the OCPP CALLs between a worker's chargers and the
 * platform (pure: no I/O, no clock of its own; callers pass the time).
 *
 *   uplink   (rows "conf.<Action>"): every CALL a charger sends: sent, answered (CALLRESULT),
 *            CALLERROR by code, timed out, and the platform's response time (our CALL -> its
 *            CALLRESULT/CALLERROR) as a mergeable histogram (cs/hist.h);
 *   downlink (rows "down.<Action>"): every CALL the platform sends: received, answered,
 *            CALLERROR by code, and our time to answer.
 *
 * Cardinality is bounded: at most ASTATS_UP_ROWS / ASTATS_DOWN_ROWS distinct actions per
 * direction (the last row of each is "other" and takes every later name, and every name that is
 * not [A-Za-z0-9_]{1,47}); CALLERROR codes are the fixed OCPP-J set plus "other". So the Redis
 * fields, the Prometheus labels and the memory they take are bounded whatever the platform sends.
 *
 * The same struct holds one worker's figures and, added up (astats_add), a fleet's. Rendered
 * into a stats hash as conf.<Action>.<field> / down.<Action>.<field> (astats_render), parsed
 * back by astats_add (fuzzed: the text comes from Redis). Windows ("now" figures over the last
 * stats_window_s) come from astats_window_step, which keeps sparse snapshots of the running
 * totals: a few KiB per active action, not a histogram per snapshot. [loop] in a worker. */
#ifndef CS_ASTATS_H
#define CS_ASTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/hist.h"
#include "cs/kv.h"

#define ASTATS_NAME_MAX 48  /* action names up to 47 characters; longer ones count as "other" */
#define ASTATS_UP_ROWS 32   /* distinct uplink actions, "other" included */
#define ASTATS_DOWN_ROWS 24 /* distinct downlink actions, "other" included */
#define ASTATS_OTHER "other"

enum astats_dir { ASTATS_UP, ASTATS_DOWN, ASTATS_DIRS };

/* CALLERROR codes counted one by one: OCPP-J 1.6 (with 2.0.1's spellings mapped onto them)
 * and 2.0.1's additions; anything else is "other". */
enum astats_code {
    AC_NOT_IMPLEMENTED,
    AC_NOT_SUPPORTED,
    AC_INTERNAL,
    AC_PROTOCOL,
    AC_SECURITY,
    AC_FORMATION,
    AC_PROPERTY,
    AC_OCCURRENCE,
    AC_TYPE,
    AC_GENERIC,
    AC_MSG_TYPE,
    AC_RPC,
    AC_OTHER,
    ASTATS_CODES
};

struct astats_row {
    char name[ASTATS_NAME_MAX]; /* "" = a free row */
    uint64_t calls;             /* uplink: CALLs sent; downlink: CALLs received */
    uint64_t answered;          /* CALLRESULTs: received (uplink) / sent (downlink) */
    uint64_t errors;   /* CALLERRORs: received (uplink) / sent (downlink); by code in code[] */
    uint64_t timeouts; /* uplink: no answer within call_timeout_s (or given up for a newer CALL) */
    uint64_t bytes;    /* uplink: our CALL frames; downlink: our answers */
    uint64_t code[ASTATS_CODES];
    struct hist lat; /* response times, µs (lat.sum and lat.max exact) */
    uint64_t min_us; /* the fastest response, µs, when lat.count > 0 */
    /* over the last window (astats_window_step; merged like the rest) */
    uint64_t win_calls, win_errors, win_timeouts;
    struct hist win;
};

struct awin; /* window snapshots, private to astats.c */

struct astats {
    struct astats_row up[ASTATS_UP_ROWS];
    struct astats_row down[ASTATS_DOWN_ROWS];
    int down_row;      /* the platform CALL being answered: row + 1, 0 = none */
    int64_t down_t_us; /* ... and when it arrived */
    struct awin *ring; /* owned; NULL until the first window step; freed by astats_release */
};

/* ---- recording (a worker) ---- */
void astats_up_sent(struct astats *a, const char *action, size_t bytes);
/* An answer to our CALL: err_code NULL for a CALLRESULT. */
void astats_up_answer(struct astats *a, const char *action, uint64_t us, const char *err_code);
void astats_up_timeout(struct astats *a, const char *action);
/* A platform CALL arrived at now_us; astats_down_end records our answer to it (err_code NULL
 * for a CALLRESULT). An end without a begin (a frame that did not parse) records nothing. */
void astats_down_begin(struct astats *a, const char *action, int64_t now_us);
void astats_down_end(struct astats *a, const char *err_code, size_t bytes, int64_t now_us);
/* Updates every row's window figures: the samples of the last window_ms (now_ms monotonic),
 * exact to window_ms/HWIN_SPACING or the caller's step, like cs/hwin.h. */
void astats_window_step(struct astats *a, int64_t now_ms, int64_t window_ms);
/* Frees the window snapshots (the rest is plain data). */
void astats_release(struct astats *a);

/* ---- rendering, merging ---- */
enum {
    ASTATS_R_CUM = 1 << 0, /* counters, err.<Code>, bytes, sum_us, max_ms, hist */
    ASTATS_R_PCT = 1 << 1, /* p50_ms p90_ms p95_ms p99_ms (from the histogram) */
    ASTATS_R_WIN = 1 << 2, /* win_calls win_errors win_timeouts win_p50_ms ... win_hist */
    ASTATS_R_ALL = 7,
};
/* Rows with any CALL, as conf.<Action>.<field> / down.<Action>.<field>. */
void astats_render(const struct astats *a, unsigned parts, struct kvlist *out);
/* Adds the conf.* / down.* fields of a rendered hash into sum: counters add up, histograms
 * merge, maxima take the larger. Other fields are ignored; malformed ones are skipped. Returns
 * the number of fields taken. */
size_t astats_add(struct astats *sum, const struct kvlist *rendered, unsigned parts);
/* Adds b into a (rows matched by name; windows included). */
void astats_merge(struct astats *a, const struct astats *b);
/* The same for some parts: ASTATS_R_CUM and/or ASTATS_R_WIN (rows with no CALL skipped). */
void astats_merge_parts(struct astats *a, const struct astats *b, unsigned parts);
/* dst = a - b, b an earlier state of the same cumulative figures (counters clamp at 0,
 * histograms as hist_sub). Rows of a missing in b count from 0. Windows are left empty. */
void astats_sub(struct astats *dst, const struct astats *a, const struct astats *b);

/* ---- reading ---- */
/* The row of an action, NULL when it has none. */
const struct astats_row *astats_find(const struct astats *a, enum astats_dir d, const char *name);
/* Rows of a direction, NULL past the end or at a free row (rows fill from the start, "other"
 * last). */
const struct astats_row *astats_row_at(const struct astats *a, enum astats_dir d, size_t i);
size_t astats_rows(enum astats_dir d);
/* "conf" / "down": the field prefix of a direction. */
const char *astats_dir_prefix(enum astats_dir d);
/* One action as every view shows it (swarm-cli status and top, the coordinator's page and
 * /api/status): the row, and the figures taken from it. */
struct astats_view {
    const char *type;                      /* "CALL" (ours, and the platform's answers) or "DOWN" */
    const struct astats_row *row;          /* borrowed from the astats */
    uint64_t requests, failures, timeouts; /* since the start */
    double win_rps, win_fps;               /* over the window: requests and failures per second */
    double win_p50, win_p95, win_p99, p95; /* ms; NaN when there is no answer to measure */
};
/* The actions with any CALL, the busiest over the window first, at most max; returns how many.
 * window_s: the window the win_* fields cover (> 0). */
size_t astats_view(const struct astats *a, double window_s, struct astats_view *out, size_t max);
/* The views as a JSON array, the form of /api/status and swarm-cli status --json "actions":
 * [{"type","name","requests","failures","timeouts","errors_by_code":{CODE:n},"p95_ms",
 *   "win_rps","win_fps","win_p50_ms","win_p95_ms","win_p99_ms"}], null for a NaN latency. */
struct jw;
void astats_view_json(struct jw *j, const struct astats_view *v, size_t n);
/* Name of a code (enum astats_code), and the code of a name (AC_OTHER when unknown). */
const char *astats_code_name(int code);
int astats_code_of(const char *name);
/* True when a rendered field belongs to this module (conf.* / down.*). */
bool astats_is_field(const char *key);
/* Bytes the window snapshots hold now (the rest of struct astats is its sizeof). */
size_t astats_window_bytes(const struct astats *a);
/* docs/stats.md: the fields of a row. */
struct buf;
void astats_doc_markdown(struct buf *b);

#endif
