/* sched.c - scheduled commands. [loop] */
#include <fnmatch.h>
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
    char *text;        /* the command without its scheduling, JSON form */
    int64_t next_ms;   /* wall clock of the next run */
    int64_t every_ms;
    int64_t remaining; /* runs left; -1 = until cancelled */
    int64_t runs;
    struct event *ev;
};

struct sched {
    struct agent_ctx *x;
    sched_run_fn *run;
    void *privdata;
    struct job *jobs;
    size_t n;
};

static void job_free(struct job *j)
{
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
    (void)err;
    struct job *j = cs_calloc(1, sizeof(*j));
    struct buf text = BUF_INIT;
    int64_t now = cs_now_ms();
    j->s = s;
    cs_strlcpy(j->id, c->id, sizeof(j->id));
    j->next_ms = c->at_ms ? c->at_ms : now + c->in_ms + (c->in_ms ? 0 : c->every_ms);
    j->every_ms = c->every_ms;
    j->remaining = c->every_ms ? (c->count ? c->count : -1) : 1;
    if (j->every_ms && j->next_ms < now)
        j->next_ms = next_after(j->next_ms, j->every_ms, now);
    c->at_ms = c->in_ms = c->every_ms = c->count = 0;
    c->log_id[0] = '\0';
    cmd_to_json(c, &text);
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
