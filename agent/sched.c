/* sched.c - scheduled commands. [loop] */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "ctx.h"
#include "sched.h"

struct job {
    struct job *next;
    struct sched *s;
    char id[CMD_ID_MAX + 1];
    char *text;      /* the command without its scheduling, JSON form */
    int64_t next_ms; /* wall clock of the next run */
    int64_t every_ms;
    int64_t remaining; /* runs left; -1 = until cancelled */
    int64_t runs;
    char verb[16];
    struct event *ev;
};

struct sched {
    struct agent_ctx *x;
    sched_run_fn *run;
    void *privdata;
    struct job *jobs;
    size_t n;
    size_t bytes; /* of the commands' texts */
};

static void job_free(struct job *j)
{
    j->s->bytes -= strlen(j->text);
    event_free(j->ev);
    cs_free(j->text);
    cs_free(j);
}

static void unlink_job(struct sched *s, struct job *j)
{
    for (struct job **pp = &s->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            s->n--;
            return;
        }
}

static void arm(struct job *j)
{
    ctx_arm(j->ev, j->next_ms - cs_now_ms());
}

/* The first run after now on the job's cadence: one step, however many were missed. */
static int64_t next_after(int64_t next_ms, int64_t every_ms, int64_t now)
{
    if (next_ms > now)
        return next_ms;
    int64_t missed = (now - next_ms) / every_ms + 1;
    return next_ms + missed * every_ms;
}

static void on_job_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct job *j = privdata;
    struct sched *s = j->s;
    j->runs++;
    if (j->remaining > 0)
        j->remaining--;
    bool again = j->every_ms && j->remaining != 0;
    if (again) {
        /* Keep the cadence; runs missed while the loop was busy are skipped, not bunched. */
        j->next_ms = next_after(j->next_ms + j->every_ms, j->every_ms, cs_now_ms());
        arm(j);
    } else {
        unlink_job(s, j);
    }
    s->run(s->privdata, j->text, j->runs);
    if (!again)
        job_free(j);
}

int sched_add(struct sched *s, struct cmd *c, int64_t *first_ms, struct cs_error *err)
{
    struct buf text = BUF_INIT;
    if (s->n >= SCHED_MAX)
        return cs_error_set(err, CS_ERR_TOO_BIG,
                            "%s: this worker holds %zu scheduled commands, at most %d (`schedules` "
                            "lists them, `cancel ID` drops them)",
                            c->def->name, s->n, SCHED_MAX);
    int64_t now = cs_now_ms();
    struct cmd run = *c;
    run.at_ms = run.in_ms = run.every_ms = run.count = 0;
    run.log_id[0] = '\0';
    cmd_to_json(&run, &text);
    if (s->bytes + text.len > SCHED_BYTES_MAX) {
        buf_free(&text);
        return cs_error_set(err, CS_ERR_TOO_BIG,
                            "%s: scheduled commands would hold more than %d bytes on this worker",
                            c->def->name, SCHED_BYTES_MAX);
    }
    struct job *j = cs_calloc(1, sizeof(*j));
    j->s = s;
    cs_strlcpy(j->id, c->id, sizeof(j->id));
    j->next_ms = c->at_ms ? c->at_ms : now + c->in_ms + (c->in_ms ? 0 : c->every_ms);
    j->every_ms = c->every_ms;
    j->remaining = c->every_ms ? (c->count ? c->count : -1) : 1;
    if (j->every_ms && j->next_ms < now)
        j->next_ms = next_after(j->next_ms, j->every_ms, now);
    c->at_ms = c->in_ms = c->every_ms = c->count = 0;
    c->log_id[0] = '\0';
    cs_strlcpy(j->verb, c->def->name, sizeof(j->verb));
    s->bytes += text.len;
    j->text = buf_detach(&text);
    j->ev = evtimer_new(s->x->base, on_job_timer, j);
    j->next = s->jobs;
    s->jobs = j;
    s->n++;
    arm(j);
    *first_ms = j->next_ms;
    return CS_OK;
}

size_t sched_cancel(struct sched *s, const char *pattern)
{
    size_t n = 0;
    for (struct job **pp = &s->jobs; *pp;) {
        struct job *j = *pp;
        if (fnmatch(pattern, j->id, 0) == 0) {
            *pp = j->next;
            s->n--;
            job_free(j);
            n++;
        } else {
            pp = &j->next;
        }
    }
    return n;
}

static int by_next(const void *a, const void *b)
{
    const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;
    return x->next_ms < y->next_ms ? -1 : x->next_ms > y->next_ms;
}

void sched_list(const struct sched *s, size_t max, struct buf *out)
{
    struct jw j;
    const struct job **v = cs_calloc(s->n ? s->n : 1, sizeof(*v));
    size_t n = 0;
    for (const struct job *x = s->jobs; x; x = x->next)
        v[n++] = x;
    qsort(v, n, sizeof(*v), by_next);
    jw_init(&j, out);
    jw_arr(&j);
    for (size_t i = 0; i < n && i < max; i++) {
        char at[32];
        jw_obj(&j);
        jw_kstr(&j, "id", v[i]->id);
        jw_kstr(&j, "cmd", v[i]->verb);
        jw_kstr(&j, "next", cs_fmt_iso8601(at, sizeof(at), v[i]->next_ms));
        jw_kint(&j, "every_ms", v[i]->every_ms);
        jw_kint(&j, "runs", v[i]->runs);
        jw_kint(&j, "left", v[i]->remaining);
        jw_end(&j);
    }
    jw_end(&j);
    cs_free(v);
}

size_t sched_count(const struct sched *s)
{
    return s->n;
}

struct sched *sched_new(struct agent_ctx *x, sched_run_fn *run, void *privdata)
{
    struct sched *s = cs_calloc(1, sizeof(*s));
    s->x = x;
    s->run = run;
    s->privdata = privdata;
    return s;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    while (s->jobs) {
        struct job *j = s->jobs;
        s->jobs = j->next;
        job_free(j);
    }
    cs_free(s);
}
