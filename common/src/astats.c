/* astats.c - per-action statistics: recording, windows, rendering and merging. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/astats.h"
#include "cs/buf.h"
#include "cs/err.h"
#include "cs/hwin.h"
#include "cs/mem.h"
#include "cs/util.h"

/* ---- names --------------------------------------------------------------------------------- */

static const char *const code_names[ASTATS_CODES] = {
    [AC_NOT_IMPLEMENTED] = "NotImplemented",
    [AC_NOT_SUPPORTED] = "NotSupported",
    [AC_INTERNAL] = "InternalError",
    [AC_PROTOCOL] = "ProtocolError",
    [AC_SECURITY] = "SecurityError",
    [AC_FORMATION] = "FormationViolation",
    [AC_PROPERTY] = "PropertyConstraintViolation",
    [AC_OCCURRENCE] = "OccurenceConstraintViolation",
    [AC_TYPE] = "TypeConstraintViolation",
    [AC_GENERIC] = "GenericError",
    [AC_MSG_TYPE] = "MessageTypeNotSupported",
    [AC_RPC] = "RpcFrameworkError",
    [AC_OTHER] = ASTATS_OTHER,
};

/* Later spellings counted under the 1.6 name. */
static const struct {
    const char *name;
    int code;
} code_aliases[] = {
    {"FormatViolation", AC_FORMATION},
    {"OccurrenceConstraintViolation", AC_OCCURRENCE},
};

const char *astats_code_name(int code)
{
    return code >= 0 && code < ASTATS_CODES ? code_names[code] : ASTATS_OTHER;
}

int astats_code_of(const char *name)
{
    if (!name)
        return AC_OTHER;
    for (int i = 0; i < AC_OTHER; i++)
        if (strcmp(code_names[i], name) == 0)
            return i;
    for (size_t i = 0; i < ARRAY_SIZE(code_aliases); i++)
        if (strcmp(code_aliases[i].name, name) == 0)
            return code_aliases[i].code;
    return AC_OTHER;
}

static const char *const prefixes[ASTATS_DIRS] = {[ASTATS_UP] = "conf", [ASTATS_DOWN] = "down"};

const char *astats_dir_prefix(enum astats_dir d)
{
    return prefixes[d];
}

size_t astats_rows(enum astats_dir d)
{
    return d == ASTATS_UP ? ASTATS_UP_ROWS : ASTATS_DOWN_ROWS;
}

static struct astats_row *rows_of(struct astats *a, enum astats_dir d)
{
    return d == ASTATS_UP ? a->up : a->down;
}

static const struct astats_row *crows_of(const struct astats *a, enum astats_dir d)
{
    return d == ASTATS_UP ? a->up : a->down;
}

/* An action name fit for a Redis field, a Prometheus label and a CSV cell. */
static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= ASTATS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* The row of name (n bytes) in d, claimed when new; "other" when the name is not fit or the
 * rows are full. Never NULL. */
static struct astats_row *row_for(struct astats *a, enum astats_dir d, const char *name, size_t n)
{
    struct astats_row *rows = rows_of(a, d);
    size_t nrows = astats_rows(d), last = nrows - 1;
    if (name && name_ok(name, n) &&
        !(n == strlen(ASTATS_OTHER) && memcmp(name, ASTATS_OTHER, n) == 0)) {
        for (size_t i = 0; i < last; i++) {
            if (!rows[i].name[0]) {
                memcpy(rows[i].name, name, n);
                rows[i].name[n] = '\0';
                return &rows[i];
            }
            if (strncmp(rows[i].name, name, n) == 0 && rows[i].name[n] == '\0')
                return &rows[i];
        }
    }
    if (!rows[last].name[0])
        cs_strlcpy(rows[last].name, ASTATS_OTHER, sizeof(rows[last].name));
    return &rows[last];
}

static struct astats_row *row_named(struct astats *a, enum astats_dir d, const char *name)
{
    return row_for(a, d, name, name ? strlen(name) : 0);
}

const struct astats_row *astats_find(const struct astats *a, enum astats_dir d, const char *name)
{
    const struct astats_row *rows = crows_of(a, d);
    for (size_t i = 0; i < astats_rows(d); i++)
        if (rows[i].name[0] && strcmp(rows[i].name, name) == 0)
            return &rows[i];
    return NULL;
}

const struct astats_row *astats_row_at(const struct astats *a, enum astats_dir d, size_t i)
{
    if (i >= astats_rows(d))
        return NULL;
    const struct astats_row *r = &crows_of(a, d)[i];
    return r->name[0] ? r : NULL;
}

bool astats_is_field(const char *key)
{
    return strncmp(key, "conf.", 5) == 0 || strncmp(key, "down.", 5) == 0;
}

/* ---- recording ----------------------------------------------------------------------------- */

void astats_up_sent(struct astats *a, const char *action, size_t bytes)
{
    struct astats_row *r = row_named(a, ASTATS_UP, action);
    r->calls++;
    r->bytes += bytes;
}

/* A response time: the exact minimum kept beside the histogram. */
static void add_time(struct astats_row *r, uint64_t us)
{
    if (!r->lat.count || us < r->min_us)
        r->min_us = us;
    hist_add(&r->lat, us);
}

static void count_error(struct astats_row *r, const char *err_code)
{
    r->errors++;
    r->code[astats_code_of(err_code)]++;
}

void astats_up_answer(struct astats *a, const char *action, uint64_t us, const char *err_code)
{
    struct astats_row *r = row_named(a, ASTATS_UP, action);
    add_time(r, us);
    if (err_code)
        count_error(r, err_code);
    else
        r->answered++;
}

void astats_up_timeout(struct astats *a, const char *action)
{
    row_named(a, ASTATS_UP, action)->timeouts++;
}

void astats_down_begin(struct astats *a, const char *action, int64_t now_us)
{
    struct astats_row *r = row_named(a, ASTATS_DOWN, action);
    r->calls++;
    a->down_row = (int)(r - a->down) + 1;
    a->down_t_us = now_us;
}

void astats_down_end(struct astats *a, const char *err_code, size_t bytes, int64_t now_us)
{
    if (!a->down_row)
        return;
    struct astats_row *r = &a->down[a->down_row - 1];
    a->down_row = 0;
    add_time(r, now_us > a->down_t_us ? (uint64_t)(now_us - a->down_t_us) : 0);
    r->bytes += bytes;
    if (err_code)
        count_error(r, err_code);
    else
        r->answered++;
}

/* ---- windows ------------------------------------------------------------------------------- */

/* A snapshot keeps, for every row with CALLs, its counters and the non-empty buckets of its
 * histogram: a few dozen bytes per active action instead of a full histogram per row. */
struct snap_row {
    uint8_t dir, row;
    uint32_t first, n; /* its buckets: ent[first .. first+n) */
    uint64_t calls, errors, timeouts, sum;
};
struct snap {
    int64_t t_ms;
    struct snap_row *rows;
    size_t nrows;
    uint8_t *bucket; /* the non-empty buckets of each row, apart: 5 bytes an entry */
    uint32_t *count;
    size_t nent;
};
struct awin {
    struct snap snap[HWIN_SNAPS];
    size_t head, n; /* oldest snapshot, snapshots held */
    bool evicted;   /* a snapshot was dropped: the ring no longer reaches the start */
};

static size_t slot(const struct awin *w, size_t i)
{
    return (w->head + i) % HWIN_SNAPS;
}

static void snap_clear(struct snap *s)
{
    cs_free(s->rows);
    cs_free(s->bucket);
    cs_free(s->count);
    memset(s, 0, sizeof(*s));
}

static bool active(const struct astats_row *r)
{
    return r->name[0] && (r->calls || r->answered || r->errors || r->timeouts || r->lat.count);
}

static void snap_take(struct snap *s, const struct astats *a, int64_t t_ms)
{
    size_t nrows = 0, nent = 0;
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *r = &crows_of(a, (enum astats_dir)d)[i];
            if (!active(r))
                continue;
            nrows++;
            for (unsigned b = 0; b < HIST_BUCKETS; b++)
                nent += r->lat.b[b] != 0;
        }
    }
    s->t_ms = t_ms;
    s->rows = cs_calloc(nrows ? nrows : 1, sizeof(*s->rows));
    s->bucket = cs_calloc(nent ? nent : 1, sizeof(*s->bucket));
    s->count = cs_calloc(nent ? nent : 1, sizeof(*s->count));
    s->nrows = s->nent = 0;
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *r = &crows_of(a, (enum astats_dir)d)[i];
            if (!active(r))
                continue;
            struct snap_row *sr = &s->rows[s->nrows++];
            sr->dir = (uint8_t)d;
            sr->row = (uint8_t)i;
            sr->first = (uint32_t)s->nent;
            sr->calls = r->calls;
            sr->errors = r->errors;
            sr->timeouts = r->timeouts;
            sr->sum = r->lat.sum;
            for (unsigned b = 0; b < HIST_BUCKETS; b++) {
                if (!r->lat.b[b])
                    continue;
                s->bucket[s->nent] = (uint8_t)b;
                s->count[s->nent] = r->lat.b[b];
                s->nent++;
            }
            sr->n = (uint32_t)s->nent - sr->first;
        }
    }
}

static const struct snap_row *snap_find(const struct snap *s, int dir, size_t row)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (s->rows[i].dir == dir && s->rows[i].row == row)
            return &s->rows[i];
    return NULL;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* A row's window: its running figures minus those of the base snapshot. */
static void row_window(struct astats_row *r, const struct snap *base, int dir, size_t row)
{
    const struct snap_row *sr = base ? snap_find(base, dir, row) : NULL;
    if (!sr) { /* no base, or the row had no CALL at the base: all of it is in the window */
        r->win = r->lat;
        r->win_calls = r->calls;
        r->win_errors = r->errors;
        r->win_timeouts = r->timeouts;
        return;
    }
    struct hist old;
    memset(&old, 0, sizeof(old));
    for (uint32_t k = 0; k < sr->n; k++) {
        old.b[base->bucket[sr->first + k]] = base->count[sr->first + k];
        old.count += base->count[sr->first + k];
    }
    old.sum = sr->sum;
    hist_sub(&r->win, &r->lat, &old);
    r->win_calls = sat_sub(r->calls, sr->calls);
    r->win_errors = sat_sub(r->errors, sr->errors);
    r->win_timeouts = sat_sub(r->timeouts, sr->timeouts);
}

void astats_window_step(struct astats *a, int64_t now_ms, int64_t window_ms)
{
    if (!a->ring)
        a->ring = cs_calloc(1, sizeof(*a->ring));
    struct awin *w = a->ring;
    /* The newest snapshot old enough to open the window (as hwin_step); the older ones will
     * never open it again: freed (a window grown later covers what is left, as when the ring
     * is full). */
    size_t bi = w->n;
    for (size_t i = w->n; i-- > 0;) {
        if (w->snap[slot(w, i)].t_ms <= now_ms - window_ms) {
            bi = i;
            break;
        }
    }
    if (bi < w->n) {
        for (size_t i = 0; i < bi; i++)
            snap_clear(&w->snap[slot(w, i)]);
        if (bi) {
            w->head = slot(w, bi);
            w->n -= bi;
            w->evicted = true;
        }
        bi = 0;
    }
    const struct snap *base = bi < w->n ? &w->snap[slot(w, bi)] : NULL;
    if (!base && w->evicted && w->n)
        base = &w->snap[w->head];
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            struct astats_row *r = &rows_of(a, (enum astats_dir)d)[i];
            if (r->name[0])
                row_window(r, base, d, i);
        }
    }

    int64_t spacing = window_ms / HWIN_SPACING;
    if (w->n && now_ms - w->snap[slot(w, w->n - 1)].t_ms < spacing)
        return;
    if (w->n == HWIN_SNAPS) {
        snap_clear(&w->snap[w->head]);
        w->head = slot(w, 1);
        w->n--;
        w->evicted = true;
    }
    struct snap *s = &w->snap[slot(w, w->n++)];
    snap_clear(s);
    snap_take(s, a, now_ms);
}

void astats_release(struct astats *a)
{
    if (!a->ring)
        return;
    for (size_t i = 0; i < HWIN_SNAPS; i++)
        snap_clear(&a->ring->snap[i]);
    cs_free(a->ring);
    a->ring = NULL;
}

size_t astats_window_bytes(const struct astats *a)
{
    if (!a->ring)
        return 0;
    size_t n = sizeof(*a->ring);
    for (size_t i = 0; i < a->ring->n; i++) {
        const struct snap *s = &a->ring->snap[slot(a->ring, i)];
        n += s->nrows * sizeof(*s->rows) + s->nent * (sizeof(*s->bucket) + sizeof(*s->count));
    }
    return n;
}

/* ---- the fields of a row ------------------------------------------------------------------- */

enum fkind {
    F_U64,   /* a counter */
    F_MIN,   /* the exact minimum, ms */
    F_MAX,   /* the exact maximum of a histogram, ms */
    F_HIST,  /* a histogram (hist_format) */
    F_PCT,   /* a percentile of a histogram, ms (derived: not parsed) */
    F_CODES, /* err.<Code>, one field per code seen */
};
enum { D_UP = 1 << ASTATS_UP, D_DOWN = 1 << ASTATS_DOWN, D_BOTH = D_UP | D_DOWN };

#define OFF(f) offsetof(struct astats_row, f)
static const struct afield {
    const char *name;
    enum fkind kind;
    unsigned part; /* ASTATS_R_* */
    size_t offset; /* of the counter, the histogram or code[] */
    unsigned dirs;
    double q; /* F_PCT */
    const char *help;
} afields[] = {
    {"calls", F_U64, ASTATS_R_CUM, OFF(calls), D_BOTH, 0,
     "CALLs: sent by the chargers (conf), received from the platform (down)"},
    {"answered", F_U64, ASTATS_R_CUM, OFF(answered), D_BOTH, 0,
     "CALLRESULTs: from the platform (conf), sent by the chargers (down)"},
    {"errors", F_U64, ASTATS_R_CUM, OFF(errors), D_BOTH, 0,
     "CALLERRORs: from the platform (conf), sent by the chargers (down)"},
    {"timeouts", F_U64, ASTATS_R_CUM, OFF(timeouts), D_UP, 0,
     "CALLs left unanswered for call_timeout_s (or given up for a newer one against a bare "
     "broker)"},
    {"bytes", F_U64, ASTATS_R_CUM, OFF(bytes), D_BOTH, 0,
     "bytes of the frames counted: our CALLs (conf), our answers (down)"},
    {"sum_us", F_U64, ASTATS_R_CUM, OFF(lat.sum), D_BOTH, 0,
     "sum of the response times, µs (averages)"},
    {"min_ms", F_MIN, ASTATS_R_CUM, OFF(min_us), D_BOTH, 0, "fastest response, ms"},
    {"max_ms", F_MAX, ASTATS_R_CUM, OFF(lat), D_BOTH, 0, "slowest response, ms"},
    {"hist", F_HIST, ASTATS_R_CUM, OFF(lat), D_BOTH, 0,
     "response-time histogram (mergeable, like the latencies' _hist): the platform's answer "
     "to our CALL (conf), our answer to its CALL (down)"},
    {"err.<Code>", F_CODES, ASTATS_R_CUM, OFF(code), D_BOTH, 0,
     "CALLERRORs by code, for the codes seen: NotImplemented, NotSupported, InternalError, "
     "ProtocolError, SecurityError, FormationViolation, PropertyConstraintViolation, "
     "OccurenceConstraintViolation, TypeConstraintViolation, GenericError, "
     "MessageTypeNotSupported, RpcFrameworkError, other"},
    {"p50_ms", F_PCT, ASTATS_R_PCT, OFF(lat), D_BOTH, 0.50, "response time, 50th percentile"},
    {"p90_ms", F_PCT, ASTATS_R_PCT, OFF(lat), D_BOTH, 0.90, "90th percentile"},
    {"p95_ms", F_PCT, ASTATS_R_PCT, OFF(lat), D_BOTH, 0.95, "95th percentile"},
    {"p99_ms", F_PCT, ASTATS_R_PCT, OFF(lat), D_BOTH, 0.99, "99th percentile"},
    {"win_calls", F_U64, ASTATS_R_WIN, OFF(win_calls), D_BOTH, 0,
     "calls over the last stats_window_s"},
    {"win_errors", F_U64, ASTATS_R_WIN, OFF(win_errors), D_BOTH, 0,
     "errors over the last stats_window_s"},
    {"win_timeouts", F_U64, ASTATS_R_WIN, OFF(win_timeouts), D_UP, 0,
     "timeouts over the last stats_window_s"},
    {"win_p50_ms", F_PCT, ASTATS_R_WIN, OFF(win), D_BOTH, 0.50,
     "response time over the last stats_window_s, 50th percentile"},
    {"win_p95_ms", F_PCT, ASTATS_R_WIN, OFF(win), D_BOTH, 0.95, "... 95th percentile"},
    {"win_p99_ms", F_PCT, ASTATS_R_WIN, OFF(win), D_BOTH, 0.99, "... 99th percentile"},
    {"win_max_ms", F_MAX, ASTATS_R_WIN, OFF(win), D_BOTH, 0, "... slowest"},
    {"win_hist", F_HIST, ASTATS_R_WIN, OFF(win), D_BOTH, 0, "... histogram (mergeable)"},
};
#undef OFF

/* ---- rendering ----------------------------------------------------------------------------- */

#define FIELD_MAX 128

static void put(struct kvlist *out, const char *pfx, const char *name, const char *field,
                const char *val)
{
    char k[FIELD_MAX];
    snprintf(k, sizeof(k), "%.4s.%.47s.%.60s", pfx, name, field);
    kv_set(out, k, val);
}

static void put_u64(struct kvlist *out, const char *pfx, const char *name, const char *field,
                    uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    put(out, pfx, name, field, num);
}

static void put_ms(struct kvlist *out, const char *pfx, const char *name, const char *field,
                   uint64_t us)
{
    char num[32];
    snprintf(num, sizeof(num), "%.3f", (double)us / 1000.0);
    put(out, pfx, name, field, num);
}

static void render_row(const struct astats_row *r, enum astats_dir d, unsigned parts,
                       struct kvlist *out)
{
    const char *p = prefixes[d], *n = r->name;
    for (size_t i = 0; i < ARRAY_SIZE(afields); i++) {
        const struct afield *f = &afields[i];
        if (!(f->part & parts) || !(f->dirs & (1u << d)))
            continue;
        const void *at = (const char *)r + f->offset;
        const struct hist *h = at;
        switch (f->kind) {
        case F_U64:
            put_u64(out, p, n, f->name, *(const uint64_t *)at);
            break;
        case F_MIN:
            put_ms(out, p, n, f->name, r->lat.count ? r->min_us : 0);
            break;
        case F_MAX:
            put_ms(out, p, n, f->name, h->max);
            break;
        case F_PCT:
            put_ms(out, p, n, f->name, hist_quantile(h, f->q));
            break;
        case F_HIST: {
            struct buf b = BUF_INIT;
            hist_format(h, &b);
            put(out, p, n, f->name, buf_cstr(&b));
            buf_free(&b);
            break;
        }
        case F_CODES:
            for (int c = 0; c < ASTATS_CODES; c++) {
                char fn[64];
                if (!r->code[c])
                    continue;
                snprintf(fn, sizeof(fn), "err.%s", code_names[c]);
                put_u64(out, p, n, fn, r->code[c]);
            }
            break;
        }
    }
}

void astats_render(const struct astats *a, unsigned parts, struct kvlist *out)
{
    for (int d = 0; d < ASTATS_DIRS; d++)
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++)
            if (active(&crows_of(a, (enum astats_dir)d)[i]))
                render_row(&crows_of(a, (enum astats_dir)d)[i], (enum astats_dir)d, parts, out);
}

void astats_doc_markdown(struct buf *b)
{
    buf_printf(b, "| field | part | conf | down | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < ARRAY_SIZE(afields); i++) {
        const struct afield *f = &afields[i];
        buf_printf(b, "| `%s` | %s | %s | %s | %s |\n", f->name,
                   f->part == ASTATS_R_CUM   ? "since start"
                   : f->part == ASTATS_R_WIN ? "window"
                                             : "derived",
                   f->dirs & D_UP ? "yes" : "-", f->dirs & D_DOWN ? "yes" : "-", f->help);
    }
}

/* ---- merging ------------------------------------------------------------------------------- */

/* Counters added up saturate where they still parse back (figures read from Redis may be
 * anything up to INT64_MAX). */
static void sat_add(uint64_t *dst, uint64_t v)
{
    const uint64_t cap = INT64_MAX;
    *dst = *dst >= cap || v >= cap - *dst ? cap : *dst + v;
}

static void merge_row(struct astats_row *dst, const struct astats_row *src, unsigned parts)
{
    if (parts & ASTATS_R_CUM) {
        sat_add(&dst->calls, src->calls);
        sat_add(&dst->answered, src->answered);
        sat_add(&dst->errors, src->errors);
        sat_add(&dst->timeouts, src->timeouts);
        sat_add(&dst->bytes, src->bytes);
        for (int c = 0; c < ASTATS_CODES; c++)
            sat_add(&dst->code[c], src->code[c]);
        if (src->lat.count && (!dst->lat.count || src->min_us < dst->min_us))
            dst->min_us = src->min_us;
        hist_merge(&dst->lat, &src->lat);
    }
    if (parts & ASTATS_R_WIN) {
        sat_add(&dst->win_calls, src->win_calls);
        sat_add(&dst->win_errors, src->win_errors);
        sat_add(&dst->win_timeouts, src->win_timeouts);
        hist_merge(&dst->win, &src->win);
    }
}

void astats_merge_parts(struct astats *a, const struct astats *b, unsigned parts)
{
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *src = &crows_of(b, (enum astats_dir)d)[i];
            if (!src->name[0])
                continue;
            /* A row that is only named (windows of a quiet action) takes no row of a. */
            bool any = (parts & ASTATS_R_CUM && active(src)) ||
                       (parts & ASTATS_R_WIN && (src->win_calls || src->win.count));
            if (any || astats_find(a, (enum astats_dir)d, src->name))
                merge_row(row_named(a, (enum astats_dir)d, src->name), src, parts);
        }
    }
}

void astats_merge(struct astats *a, const struct astats *b)
{
    astats_merge_parts(a, b, ASTATS_R_CUM | ASTATS_R_WIN);
}

void astats_sub(struct astats *dst, const struct astats *a, const struct astats *b)
{
    struct awin *ring = dst->ring;
    memset(dst, 0, sizeof(*dst));
    dst->ring = ring;
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *ra = &crows_of(a, (enum astats_dir)d)[i];
            if (!ra->name[0])
                continue;
            const struct astats_row *rb = astats_find(b, (enum astats_dir)d, ra->name);
            struct astats_row *r = &rows_of(dst, (enum astats_dir)d)[i];
            memcpy(r->name, ra->name, sizeof(r->name));
            if (!rb) {
                *r = *ra;
                memset(&r->win, 0, sizeof(r->win));
                r->win_calls = r->win_errors = r->win_timeouts = 0;
                continue;
            }
            r->calls = sat_sub(ra->calls, rb->calls);
            r->answered = sat_sub(ra->answered, rb->answered);
            r->errors = sat_sub(ra->errors, rb->errors);
            r->timeouts = sat_sub(ra->timeouts, rb->timeouts);
            r->bytes = sat_sub(ra->bytes, rb->bytes);
            for (int c = 0; c < ASTATS_CODES; c++)
                r->code[c] = sat_sub(ra->code[c], rb->code[c]);
            hist_sub(&r->lat, &ra->lat, &rb->lat);
            /* a's minimum is a lower bound of the difference's, and so is its first bucket */
            uint64_t lo = hist_min_bound(&r->lat);
            r->min_us = ra->min_us > lo ? ra->min_us : lo;
            if (r->min_us > r->lat.max)
                r->min_us = lo;
        }
    }
}

/* ---- parsing ------------------------------------------------------------------------------- */

/* Per row of one parsed hash: the exact maxima given (max_ms, win_max_ms), applied after the
 * histograms (whose text only bounds them by a bucket). */
struct parse_max {
    bool have[2];
    uint64_t us[2];
    bool have_min;
    uint64_t min_us;
};

static bool take_field(struct astats_row *r, struct parse_max *pm, const char *field,
                       const char *val, unsigned parts)
{
    int64_t x;
    for (size_t i = 0; i < ARRAY_SIZE(afields); i++) {
        const struct afield *f = &afields[i];
        bool codes = f->kind == F_CODES && strncmp(field, "err.", 4) == 0;
        if (!codes && strcmp(f->name, field) != 0)
            continue;
        if (!(f->part & parts))
            return false;
        void *at = (char *)r + f->offset;
        switch (f->kind) {
        case F_U64:
            if (!cs_parse_i64(val, 0, INT64_MAX, &x))
                return false;
            sat_add((uint64_t *)at, (uint64_t)x);
            return true;
        case F_CODES:
            if (!cs_parse_i64(val, 0, INT64_MAX, &x))
                return false;
            sat_add(&r->code[astats_code_of(field + 4)], (uint64_t)x);
            return true;
        case F_MIN: {
            double ms;
            if (!cs_parse_double(val, 0, 1e12, &ms))
                return false;
            uint64_t us = (uint64_t)(ms * 1000.0 + 0.5);
            if (!pm->have_min || us < pm->min_us)
                pm->min_us = us;
            pm->have_min = true;
            return true;
        }
        case F_MAX: {
            double ms;
            int w = f->offset == offsetof(struct astats_row, win);
            if (!cs_parse_double(val, 0, 1e12, &ms))
                return false;
            uint64_t us = (uint64_t)(ms * 1000.0 + 0.5);
            if (!pm->have[w] || us > pm->us[w])
                pm->us[w] = us;
            pm->have[w] = true;
            return true;
        }
        case F_HIST: {
            struct hist h;
            if (hist_parse(&h, val) != CS_OK)
                return false;
            hist_merge((struct hist *)at, &h);
            return true;
        }
        case F_PCT:
            return false; /* derived: recomputed from the histograms */
        }
    }
    return false;
}

size_t astats_add(struct astats *sum, const struct kvlist *in, unsigned parts)
{
    struct astats *t = cs_calloc(1, sizeof(*t));
    struct parse_max pm[ASTATS_DIRS]
                       [ASTATS_UP_ROWS > ASTATS_DOWN_ROWS ? ASTATS_UP_ROWS : ASTATS_DOWN_ROWS];
    size_t taken = 0;
    memset(pm, 0, sizeof(pm));
    for (size_t i = 0; i < in->n; i++) {
        const char *k = in->v[i].key;
        enum astats_dir d;
        if (strncmp(k, "conf.", 5) == 0)
            d = ASTATS_UP;
        else if (strncmp(k, "down.", 5) == 0)
            d = ASTATS_DOWN;
        else
            continue;
        const char *name = k + 5, *dot = strchr(name, '.');
        if (!dot || !dot[1])
            continue;
        struct astats_row *r = row_for(t, d, name, (size_t)(dot - name));
        size_t ri = (size_t)(r - rows_of(t, d));
        if (take_field(r, &pm[d][ri], dot + 1, in->v[i].val, parts))
            taken++;
    }
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            struct astats_row *r = &rows_of(t, (enum astats_dir)d)[i];
            /* The exact maximum, when given, within what the buckets allow. */
            if (pm[d][i].have[0] && r->lat.count && pm[d][i].us[0] <= r->lat.max)
                r->lat.max = pm[d][i].us[0];
            if (pm[d][i].have[1] && r->win.count && pm[d][i].us[1] <= r->win.max)
                r->win.max = pm[d][i].us[1];
            /* the exact minimum, when given and within the buckets; else the lowest bucket's
             * lower bound */
            uint64_t lo = hist_min_bound(&r->lat);
            r->min_us = pm[d][i].have_min && pm[d][i].min_us >= lo && pm[d][i].min_us <= r->lat.max
                            ? pm[d][i].min_us
                            : lo;
        }
    }
    astats_merge(sum, t);
    cs_free(t);
    return taken;
}

/* ---- views ----------------------------------------------------------------------------------- */

static double ms_or_nan(const struct hist *h, double q)
{
    return h->count ? (double)hist_quantile(h, q) / 1000.0 : NAN;
}

static int by_busy(const void *a, const void *b)
{
    const struct astats_view *x = a, *y = b;
    if (x->win_rps != y->win_rps)
        return x->win_rps < y->win_rps ? 1 : -1;
    if (x->requests != y->requests)
        return x->requests < y->requests ? 1 : -1;
    int t = strcmp(x->type, y->type);
    return t ? t : strcmp(x->row->name, y->row->name);
}

size_t astats_view(const struct astats *a, double window_s, struct astats_view *out, size_t max)
{
    struct astats_view *all = cs_calloc(ASTATS_UP_ROWS + ASTATS_DOWN_ROWS, sizeof(*all));
    size_t n = 0;
    if (!(window_s > 0))
        window_s = 1;
    for (int d = 0; d < ASTATS_DIRS; d++) {
        for (size_t i = 0; i < astats_rows((enum astats_dir)d); i++) {
            const struct astats_row *r = astats_row_at(a, (enum astats_dir)d, i);
            if (!r || !(r->calls || r->lat.count || r->timeouts))
                continue;
            bool up = d == ASTATS_UP;
            struct astats_view *x = &all[n++];
            x->type = up ? "CALL" : "DOWN";
            x->row = r;
            x->requests = up ? r->answered + r->errors + r->timeouts : r->calls;
            x->failures = r->errors + r->timeouts;
            x->timeouts = r->timeouts;
            x->win_rps = (double)(r->win.count + r->win_timeouts) / window_s;
            x->win_fps = (double)(r->win_errors + r->win_timeouts) / window_s;
            x->win_p50 = ms_or_nan(&r->win, 0.50);
            x->win_p95 = ms_or_nan(&r->win, 0.95);
            x->win_p99 = ms_or_nan(&r->win, 0.99);
            x->p95 = ms_or_nan(&r->lat, 0.95);
        }
    }
    qsort(all, n, sizeof(*all), by_busy);
    if (n > max)
        n = max;
    memcpy(out, all, n * sizeof(*out));
    cs_free(all);
    return n;
}

static void view_ms(struct jw *j, const char *key, double ms)
{
    jw_key(j, key);
    if (isnan(ms))
        jw_null(j);
    else
        jw_double(j, ms, 3);
}

void astats_view_json(struct jw *j, const struct astats_view *v, size_t n)
{
    jw_arr(j);
    for (size_t i = 0; i < n; i++) {
        const struct astats_row *r = v[i].row;
        jw_obj(j);
        jw_kstr(j, "type", v[i].type);
        jw_kstr(j, "name", r->name);
        jw_kint(j, "requests", (int64_t)v[i].requests);
        jw_kint(j, "failures", (int64_t)v[i].failures);
        jw_kint(j, "timeouts", (int64_t)v[i].timeouts);
        jw_key(j, "errors_by_code");
        jw_obj(j);
        for (int c = 0; c < ASTATS_CODES; c++)
            if (r->code[c])
                jw_kint(j, astats_code_name(c), (int64_t)r->code[c]);
        jw_end(j);
        view_ms(j, "p95_ms", v[i].p95);
        jw_kdouble(j, "win_rps", v[i].win_rps, 3);
        jw_kdouble(j, "win_fps", v[i].win_fps, 3);
        view_ms(j, "win_p50_ms", v[i].win_p50);
        view_ms(j, "win_p95_ms", v[i].win_p95);
        view_ms(j, "win_p99_ms", v[i].win_p99);
        jw_end(j);
    }
    jw_end(j);
}
