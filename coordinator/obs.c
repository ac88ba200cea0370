/* obs.c - the coordinator's in-memory view of the fleet and its JSON renderings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/mem.h"
#include "cs/util.h"
#include "obs.h"

struct obs *obs_new(const char *ns, const char *id)
{
    struct obs *o = cs_calloc(1, sizeof(*o));
    o->fleet = cs_calloc(1, sizeof(*o->fleet));
    cs_strlcpy(o->ns, ns, sizeof(o->ns));
    cs_strlcpy(o->id, id, sizeof(o->id));
    return o;
}

static void free_command(struct obs_command *c)
{
    cs_free(c->id);
    cs_free(c->by);
    cs_free(c->to);
    cs_free(c->line);
    memset(c, 0, sizeof(*c));
}

static void free_worker(struct obs_worker *w)
{
    cs_free(w->name);
    kv_free(&w->agent);
    kv_free(&w->stats);
}

void obs_free(struct obs *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nw; i++)
        free_worker(&o->w[i]);
    cs_free(o->w);
    for (size_t i = 0; i < OBS_EVENTS_MAX; i++)
        cs_free(o->ev[i].text);
    for (size_t i = 0; i < OBS_COMMANDS_MAX; i++)
        free_command(&o->cmds[i]);
    cs_free(o->fleet);
    cs_free(o);
}

static struct obs_worker *find_worker(struct obs *o, const char *name)
{
    for (size_t i = 0; i < o->nw; i++)
        if (strcmp(o->w[i].name, name) == 0)
            return &o->w[i];
    return NULL;
}

/* Rates from the previous distinct stats write of the same worker. */
static void worker_rates(struct obs_worker *w, const struct obs_worker *prev)
{
    stats_point_of(&w->stats, &w->at);
    if (prev && w->at.ms == prev->at.ms) { /* nothing new: keep what was computed */
        w->out_per_s = prev->out_per_s;
        w->in_per_s = prev->in_per_s;
    } else if (prev) {
        stats_rates(&prev->at, &w->at, &w->out_per_s, &w->in_per_s);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct obs_input *)a)->name, ((const struct obs_input *)b)->name);
}

void obs_update(struct obs *o, const struct obs_fleet *f, const struct obs_input *unsorted,
                size_t n)
{
    struct obs_worker *nw = cs_calloc(n ? n : 1, sizeof(*nw));
    struct obs_input *in = cs_calloc(n ? n : 1, sizeof(*in));
    if (n)
        memcpy(in, unsorted, n * sizeof(*in));
    qsort(in, n, sizeof(*in), by_name); /* stable order for the table and /metrics */
    memset(&o->sum, 0, sizeof(o->sum));
    o->out_per_s = o->in_per_s = 0;
    for (size_t i = 0; i < n; i++) {
        struct obs_worker *w = &nw[i];
        struct obs_worker *prev = find_worker(o, in[i].name);
        w->name = cs_strdup(in[i].name);
        kv_copy(&w->agent, in[i].agent);
        if (in[i].stats && in[i].stats->n)
            kv_copy(&w->stats, in[i].stats);
        else if (prev)
            kv_copy(&w->stats, &prev->stats); /* not readable this round: keep the last */
        stats_add(&w->st, &w->stats);
        worker_rates(w, prev && prev->stats.n ? prev : NULL);
        stats_add(&o->sum, &w->stats);
        o->out_per_s += w->out_per_s;
        o->in_per_s += w->in_per_s;
    }
    cs_free(in);
    for (size_t i = 0; i < o->nw; i++)
        free_worker(&o->w[i]);
    cs_free(o->w);
    o->w = nw;
    o->nw = n;
    o->leader = f->leader;
    cs_strlcpy(o->leader_id, f->leader_id ? f->leader_id : "", sizeof(o->leader_id));
    o->size = f->size;
    o->capacity = f->capacity;
    o->unassigned = f->unassigned;
    o->surplus = f->surplus;
    o->epoch = f->epoch;
    o->lease_ms = f->lease_ms;
    o->window_s = f->window_s;
    memset(o->fleet, 0, sizeof(*o->fleet));
    o->have_fleet = f->stats && f->stats->n;
    if (o->have_fleet)
        stats_add(o->fleet, f->stats);
    o->read_ms = cs_now_ms();
    o->redis_up = true;
}

void obs_set_state(struct obs *o, bool leader, bool redis_up)
{
    o->leader = leader;
    o->redis_up = redis_up;
    if (leader)
        cs_strlcpy(o->leader_id, o->id, sizeof(o->leader_id));
}

const struct worker_stats *obs_fleet_stats(const struct obs *o)
{
    return o->have_fleet ? o->fleet : &o->sum;
}

size_t obs_live_workers(const struct obs *o)
{
    return o->nw;
}

/* ---- history ------------------------------------------------------------------------------- */

static const struct obs_point *hist_at(const struct obs *o, size_t i)
{
    return &o->hist[(o->hist_head + i) % OBS_HISTORY_MAX];
}

void obs_history_add(struct obs *o, const char *id, const struct kvlist *fields)
{
    struct obs_point p;
    stats_point_of(fields, &p.at);
    if (!p.at.ms) /* the entry id is "<ms>-<seq>" */
        p.at.ms = strtoll(id, NULL, 10);
    p.connected = (uint64_t)kv_i64(fields, "connected");
    p.chargers = (uint64_t)kv_i64(fields, "assigned");
    p.errors = (uint64_t)(kv_i64(fields, "publish_errors") + kv_i64(fields, "connect_failures"));
    /* An empty window has no percentiles (not 0 ms): NAN, shown as null. */
    bool acks = kv_i64(fields, "ack_win_count") > 0, cmds = kv_i64(fields, "cmd_win_count") > 0;
    p.ack_p50 = acks ? kv_double(fields, "ack_win_p50_ms") : NAN;
    p.ack_p99 = acks ? kv_double(fields, "ack_win_p99_ms") : NAN;
    p.cmd_p50 = cmds ? kv_double(fields, "cmd_win_p50_ms") : NAN;
    p.cmd_p99 = cmds ? kv_double(fields, "cmd_win_p99_ms") : NAN;
    if (o->hist_n < OBS_HISTORY_MAX) {
        o->hist[(o->hist_head + o->hist_n) % OBS_HISTORY_MAX] = p;
        o->hist_n++;
    } else {
        o->hist[o->hist_head] = p;
        o->hist_head = (o->hist_head + 1) % OBS_HISTORY_MAX;
    }
    cs_strlcpy(o->hist_last_id, id, sizeof(o->hist_last_id));
}

/* ---- events ---------------------------------------------------------------------------------- */

void obs_event_add(struct obs *o, int64_t ms, const char *payload, size_t len)
{
    struct obs_event *e;
    if (o->ev_n < OBS_EVENTS_MAX) {
        e = &o->ev[(o->ev_head + o->ev_n) % OBS_EVENTS_MAX];
        o->ev_n++;
    } else {
        e = &o->ev[o->ev_head];
        o->ev_head = (o->ev_head + 1) % OBS_EVENTS_MAX;
        cs_free(e->text);
    }
    if (len > OBS_EVENT_TEXT_MAX) /* kept as a string then: it no longer parses */
        len = cs_utf8_trim(payload, OBS_EVENT_TEXT_MAX);
    /* A NUL ends the text (anything after it is not shown). */
    e->text = cs_strndup(payload, len);
    e->seq = ++o->ev_seq;
    e->ms = ms;
}

/* Writes text as JSON: the value itself when it parses as an object, else a string; either way
 * through the writer, so what anyone PUBLISHed leaves as valid UTF-8 JSON. */
static void put_json_or_string(struct jw *j, const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (cJSON_IsObject(v))
        jw_cjson(j, v);
    else
        jw_str(j, text);
    cJSON_Delete(v);
}

void obs_events_json(const struct obs *o, struct buf *out, uint64_t since)
{
    struct jw j;
    jw_init(&j, out);
    jw_obj(&j);
    jw_kint(&j, "next", (int64_t)o->ev_seq);
    jw_key(&j, "events");
    jw_arr(&j);
    for (size_t i = 0; i < o->ev_n; i++) {
        const struct obs_event *e = &o->ev[(o->ev_head + i) % OBS_EVENTS_MAX];
        if (e->seq <= since)
            continue;
        jw_obj(&j);
        jw_kint(&j, "seq", (int64_t)e->seq);
        jw_kint(&j, "ms", e->ms);
        jw_key(&j, "event");
        put_json_or_string(&j, e->text);
        jw_end(&j);
    }
    jw_end(&j);
    jw_end(&j);
}

/* ---- commands ------------------------------------------------------------------------------ */

void obs_command_add(struct obs *o, int64_t ms, const char *id, const char *by, const char *to,
                     const char *line)
{
    struct obs_command *c;
    if (o->cmd_n < OBS_COMMANDS_MAX) {
        c = &o->cmds[(o->cmd_head + o->cmd_n) % OBS_COMMANDS_MAX];
        o->cmd_n++;
    } else {
        c = &o->cmds[o->cmd_head];
        o->cmd_head = (o->cmd_head + 1) % OBS_COMMANDS_MAX;
        free_command(c);
    }
    c->id = cs_strdup(id ? id : "");
    c->by = cs_strdup(by ? by : "");
    c->to = cs_strdup(to ? to : "");
    c->line = cs_strdup(line ? line : "");
    c->seq = ++o->cmd_seq;
    c->ms = ms;
}

void obs_commands_json(const struct obs *o, struct buf *out, uint64_t since)
{
    struct jw j;
    jw_init(&j, out);
    jw_obj(&j);
    jw_kint(&j, "next", (int64_t)o->cmd_seq);
    jw_key(&j, "commands");
    jw_arr(&j);
    for (size_t i = 0; i < o->cmd_n; i++) {
        const struct obs_command *c = &o->cmds[(o->cmd_head + i) % OBS_COMMANDS_MAX];
        if (c->seq <= since)
            continue;
        jw_obj(&j);
        jw_kint(&j, "seq", (int64_t)c->seq);
        jw_kint(&j, "ms", c->ms);
        jw_kstr(&j, "id", c->id);
        jw_kstr(&j, "by", c->by);
        jw_kstr(&j, "to", c->to);
        jw_kstr(&j, "line", c->line);
        jw_end(&j);
    }
    jw_end(&j);
    jw_end(&j);
}

/* ---- /api/status ----------------------------------------------------------------------------- */

static int64_t errors_of(const struct worker_stats *s)
{
    return (int64_t)(s->publish_errors + s->connect_failures);
}

static double ms_of(uint64_t us)
{
    return (double)us / 1000.0;
}

/* A latency in ms; null for NAN (no sample). */
static void put_ms(struct jw *j, double ms)
{
    if (isnan(ms))
        jw_null(j);
    else
        jw_double(j, ms, 3);
}

/* "key": the quantile of h in ms, or null when h is empty (an empty window is not 0 ms). */
static void put_quantile(struct jw *j, const char *key, const struct hist *h, double q)
{
    jw_key(j, key);
    put_ms(j, h->count ? ms_of(hist_quantile(h, q)) : NAN);
}

static void put_history(const struct obs *o, struct jw *j, size_t points)
{
    size_t n = o->hist_n < points ? o->hist_n : points;
    size_t first = o->hist_n - n;
    static const char *const cols[] = {
        "t",      "out_per_s",      "in_per_s",       "connected",      "chargers",
        "errors", "ack_win_p50_ms", "ack_win_p99_ms", "cmd_win_p50_ms", "cmd_win_p99_ms"};
    jw_key(j, "history");
    jw_obj(j);
    jw_kint(j, "points", (int64_t)n);
    for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
        jw_key(j, cols[c]);
        jw_arr(j);
        for (size_t i = first; i < o->hist_n; i++) {
            const struct obs_point *p = hist_at(o, i);
            double out_s, in_s;
            switch (c) {
            case 0:
                jw_int(j, p->at.ms);
                break;
            case 1:
            case 2:
                /* Rates between neighbours; none before the first or across a restart. */
                if (i > 0 && stats_rates(&hist_at(o, i - 1)->at, &p->at, &out_s, &in_s))
                    jw_double(j, c == 1 ? out_s : in_s, 2);
                else
                    jw_null(j);
                break;
            case 3:
                jw_int(j, (int64_t)p->connected);
                break;
            case 4:
                jw_int(j, (int64_t)p->chargers);
                break;
            case 5:
                jw_int(j, (int64_t)p->errors);
                break;
            case 6:
                put_ms(j, p->ack_p50);
                break;
            case 7:
                put_ms(j, p->ack_p99);
                break;
            case 8:
                put_ms(j, p->cmd_p50);
                break;
            default:
                put_ms(j, p->cmd_p99);
                break;
            }
        }
        jw_end(j);
    }
    jw_end(j);
}

/* "states": the charger states that matter during a test. */
static void put_states(const struct obs *o, struct jw *j)
{
    const struct worker_stats *s = obs_fleet_stats(o);
    jw_key(j, "states");
    jw_obj(j);
    jw_kint(j, "charging", (int64_t)s->charging);
    jw_kint(j, "faulted", (int64_t)s->faulted);
    jw_kint(j, "transactions", (int64_t)s->transactions);
    jw_kint(j, "offline", (int64_t)s->offline);
    jw_kint(j, "connecting", (int64_t)s->connecting);
    jw_kint(j, "calls_queued", (int64_t)s->calls_queued);
    jw_end(j);
}

/* "actions": the platform's answers by action (the fleet's), over the window and since the
 * workers started, as swarm-cli status --json has them. */
static void put_actions(const struct obs *o, struct jw *j)
{
    struct astats_view *v = cs_calloc(ASTATS_UP_ROWS + ASTATS_DOWN_ROWS, sizeof(*v));
    size_t n = astats_view(&obs_fleet_stats(o)->act, o->window_s > 0 ? (double)o->window_s : 10, v,
                           ASTATS_UP_ROWS + ASTATS_DOWN_ROWS);
    jw_key(j, "actions");
    astats_view_json(j, v, n);
    cs_free(v);
}

static const char *kvs(const struct kvlist *kv, const char *k)
{
    const char *v = kv_get(kv, k);
    return v ? v : "";
}

void obs_status_json(const struct obs *o, struct buf *out, size_t history_points)
{
    struct jw j;
    const struct worker_stats *s = obs_fleet_stats(o);
    int64_t now = cs_now_ms();
    jw_init(&j, out);
    jw_obj(&j);

    /* The fields of `swarm-cli --json status`, in its order, then latency. */
    jw_key(&j, "fleet");
    jw_obj(&j);
    jw_kint(&j, "size", o->size);
    jw_kint(&j, "capacity", o->capacity);
    jw_kint(&j, "unassigned", o->unassigned);
    jw_kint(&j, "epoch", o->epoch);
    jw_kstr(&j, "coordinator", o->leader_id);
    jw_kint(&j, "workers", (int64_t)o->nw);
    jw_kint(&j, "chargers", (int64_t)s->assigned);
    jw_kint(&j, "connected", (int64_t)s->connected);
    jw_kint(&j, "connecting", (int64_t)s->connecting);
    jw_kint(&j, "offline", (int64_t)s->offline);
    jw_kint(&j, "disabled", (int64_t)s->disabled);
    jw_kint(&j, "msgs_out", (int64_t)s->msgs_out);
    jw_kint(&j, "msgs_in", (int64_t)s->msgs_in);
    jw_kdouble(&j, "out_per_s", o->out_per_s, 2);
    jw_kdouble(&j, "in_per_s", o->in_per_s, 2);
    jw_kint(&j, "errors", errors_of(s));
    jw_kint(&j, "surplus", o->surplus);
    jw_kint(&j, "charging", (int64_t)s->charging);
    jw_kint(&j, "faulted", (int64_t)s->faulted);
    put_quantile(&j, "ack_p50_ms", &s->ack_us, 0.50);
    put_quantile(&j, "ack_p99_ms", &s->ack_us, 0.99);
    put_quantile(&j, "cmd_p50_ms", &s->cmd_us, 0.50);
    put_quantile(&j, "cmd_p99_ms", &s->cmd_us, 0.99);
    jw_kint(&j, "window_s", o->window_s);
    put_quantile(&j, "ack_win_p50_ms", &s->win[LAT_ACK], 0.50);
    put_quantile(&j, "ack_win_p99_ms", &s->win[LAT_ACK], 0.99);
    put_quantile(&j, "cmd_win_p50_ms", &s->win[LAT_CMD], 0.50);
    put_quantile(&j, "cmd_win_p99_ms", &s->win[LAT_CMD], 0.99);
    jw_end(&j);

    jw_key(&j, "workers");
    jw_arr(&j);
    for (size_t i = 0; i < o->nw; i++) {
        const struct obs_worker *w = &o->w[i];
        int64_t left = kv_i64(&w->agent, "refreshed_ms") + o->lease_ms - now;
        jw_obj(&j);
        jw_kstr(&j, "name", w->name);
        jw_kstr(&j, "host", kvs(&w->agent, "host"));
        jw_kint(&j, "pid", kv_i64(&w->agent, "pid"));
        jw_kint(&j, "capacity", kv_i64(&w->agent, "capacity"));
        jw_kstr(&j, "held", kvs(&w->agent, "held"));
        jw_kint(&j, "lease_ms_left", left > 0 ? left : 0);
        jw_kint(&j, "chargers", (int64_t)w->st.assigned);
        jw_kint(&j, "connected", (int64_t)w->st.connected);
        jw_kint(&j, "connecting", (int64_t)w->st.connecting);
        jw_kint(&j, "offline", (int64_t)w->st.offline);
        jw_kint(&j, "msgs_out", (int64_t)w->st.msgs_out);
        jw_kint(&j, "msgs_in", (int64_t)w->st.msgs_in);
        jw_kdouble(&j, "out_per_s", w->out_per_s, 2);
        jw_kdouble(&j, "in_per_s", w->in_per_s, 2);
        jw_kint(&j, "errors", errors_of(&w->st));
        put_quantile(&j, "ack_p50_ms", &w->st.ack_us, 0.50);
        put_quantile(&j, "ack_p99_ms", &w->st.ack_us, 0.99);
        put_quantile(&j, "ack_win_p50_ms", &w->st.win[LAT_ACK], 0.50);
        put_quantile(&j, "ack_win_p99_ms", &w->st.win[LAT_ACK], 0.99);
        jw_kint(&j, "rss_kb", (int64_t)w->st.rss_kb);
        jw_kstr(&j, "version", kvs(&w->agent, "version"));
        jw_kint(&j, "stats_ms", w->at.ms);
        jw_end(&j);
    }
    jw_end(&j);

    jw_key(&j, "coordinator");
    jw_obj(&j);
    jw_kstr(&j, "id", o->id);
    jw_kstr(&j, "namespace", o->ns);
    jw_kbool(&j, "leader", o->leader);
    jw_kbool(&j, "redis", o->redis_up);
    jw_kint(&j, "read_ms", o->read_ms);
    jw_kint(&j, "now_ms", now);
    jw_kstr(&j, "version", CS_VERSION);
    jw_end(&j);

    put_history(o, &j, history_points);
    put_states(o, &j);
    put_actions(o, &j);
    jw_end(&j);
}
