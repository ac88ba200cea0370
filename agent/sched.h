/* sched.h - commands that run later or repeatedly (at=, in=, every=, count=): each is kept as
 * its JSON text with a timer, and run through the callback its owner gave. A repeating one
 * keeps its cadence; runs missed while the worker was busy (or scheduled in the past) are
 * skipped in one step, never caught up one by one. [loop] */
#ifndef CS_AGENT_SCHED_H
#define CS_AGENT_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "cs/cmd.h"
#include "cs/err.h"

struct agent_ctx;
struct sched;

/* [loop] Runs one scheduled command (text: JSON form, without its scheduling); run counts the
 * runs from 1. */
typedef void sched_run_fn(void *privdata, const char *text, int64_t run);

/* Caller frees with sched_free. */
struct sched *sched_new(struct agent_ctx *x, sched_run_fn *run, void *privdata);
void sched_free(struct sched *s);
/* Bounds on what one worker holds: a command scheduled beyond them is refused. */
#define SCHED_MAX 1000
#define SCHED_BYTES_MAX (4 * 1024 * 1024)

/* Schedules c (which must have at=, in= or every=); its scheduling fields are consumed.
 * *first_ms: the wall-clock time of its first run. CS_ERR_TOO_BIG beyond the bounds. */
int sched_add(struct sched *s, struct cmd *c, int64_t *first_ms, struct cs_error *err);
/* The scheduled commands as a JSON array (at most `max` of them, soonest first):
 * [{"id","cmd","next","every_ms","runs","left"}...]; left -1 = until cancelled. */
void sched_list(const struct sched *s, size_t max, struct buf *out);
/* Cancels every scheduled command whose id matches pattern (a glob: `*` cancels all); how many. */
size_t sched_cancel(struct sched *s, const char *pattern);
/* Scheduled commands held. */
size_t sched_count(const struct sched *s);

#endif
