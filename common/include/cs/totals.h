/* totals.h - the fleet's cumulative figures, which never go down (pure; the coordinator does
 * the Redis part).
 *
 * A worker's counters count from 0 in each run of its process (started_ms names the run); a
 * worker that dies stops reporting, and one that restarts reports small numbers again. Summing
 * the live workers' hashes therefore makes fleet counters drop. Here the fleet's cumulative
 * figures are
 *
 *     base + the last figures seen of every worker ever seen (live or gone)
 *
 * where `base` holds the last figures of worker runs that ended: when a worker shows a new run,
 * the last figures of its previous one are folded into the base, once (the base remembers which
 * run of each worker it holds: the `_folded.<worker>` markers). The coordinator keeps the base
 * and a copy of each worker's last figures in Redis, so a restarted or new leader goes on from
 * the same numbers. Gauges and windows are not cumulative: they come from the live workers. */
#ifndef CS_TOTALS_H
#define CS_TOTALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/kv.h"
#include "cs/stats.h"

/* Field of the base hash naming the run of a worker folded into it (worker names never start
 * with '_', stats fields neither). */
#define TOTALS_FOLDED_PREFIX "_folded."

struct totals;

/* Caller frees with totals_free. */
struct totals *totals_new(void);
void totals_free(struct totals *t);
/* Forgets everything (before loading the persisted state again). */
void totals_clear(struct totals *t);

/* The persisted base hash: its cumulative figures and its _folded.<worker> markers. */
void totals_load_base(struct totals *t, const struct kvlist *base);
/* A worker's last figures as persisted (a copy of its stats hash). */
void totals_load_last(struct totals *t, const char *worker, const struct kvlist *last);

/* A worker's hash as just read: its last figures from now on. Returns true when that folded the
 * previous run's figures into the base (a worker without started_ms whose counters went down):
 * the base must then be saved. */
bool totals_observe(struct totals *t, const char *worker, const struct kvlist *cur);
/* The previous run of a worker (its persisted last figures, `old`) ended: folds it into the
 * base unless the base already holds that run. Returns true when the base changed. */
bool totals_fold(struct totals *t, const char *worker, const struct kvlist *old);

/* The fleet's cumulative figures (STATS_P_CUM parts) added into out. */
void totals_sum(const struct totals *t, struct worker_stats *out);
/* The base as a hash: its cumulative figures and markers (for HSET). */
void totals_render_base(const struct totals *t, struct kvlist *out);
/* Workers known (live or gone). */
size_t totals_workers(const struct totals *t);
bool totals_known(const struct totals *t, const char *worker);
/* Nothing loaded or counted: no worker and an empty base. */
bool totals_empty(const struct totals *t);
/* The i-th worker known (i < totals_workers) and its last figures as a hash (cumulative parts
 * and started_ms): what {ns}:totals:last:{worker} held. */
const char *totals_worker_at(const struct totals *t, size_t i);
void totals_render_last(const struct totals *t, size_t i, struct kvlist *out);

#endif
