/* fleet_totals.h - the leader's side of cs/totals.h: the fleet's cumulative figures never go
 * down. When it starts leading it loads the persisted state ({ns}:totals:base, and the
 * {ns}:totals:last:{worker} copy of every worker in {ns}:totals:workers); then it reads each
 * worker's stats hash through one script that also copies it to {ns}:totals:last:{worker}
 * (unless the worker started a new run, whose predecessor is folded into the base first).
 * [loop] throughout. */
#ifndef CS_COORD_FLEET_TOTALS_H
#define CS_COORD_FLEET_TOTALS_H

#include <stdbool.h>

#include "cs/kv.h"
#include "cs/stats.h"

struct rds;
struct ft;

/* Called once per ft_read: the worker's stats hash as read (borrowed for the call), or NULL
 * when the read failed. */
typedef void ft_read_fn(void *privdata, const struct kvlist *cur);

/* Caller frees with ft_free. ns is borrowed. */
struct ft *ft_new(struct rds *r, const char *ns);
void ft_free(struct ft *f);
/* Forget what was loaded (leadership or the connection was lost): load again before
 * counting. */
void ft_reset(struct ft *f);
/* Loads the persisted state unless loaded or loading. */
void ft_load(struct ft *f);
/* Loaded: reads count, and the sum is the fleet's. */
bool ft_ready(const struct ft *f);
/* Reads a worker's stats hash and counts it. */
int ft_read(struct ft *f, const char *worker, ft_read_fn *done, void *privdata);
/* The fleet's cumulative figures added into out. */
void ft_sum(const struct ft *f, struct worker_stats *out);

#endif
