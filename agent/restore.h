/* restore.h - Redis came back without its data (restarted with no persistence, a common lab
 * setup): the workers would read an empty {ns}:fleet and {ns}:cfg, apply defaults and drop
 * every charger. A worker tells that case apart from an operator's deliberate delete by the
 * server's run_id (a restart gives a new one; DEL, HDEL, even FLUSHALL do not) together with
 * a key it had written now missing; then it writes back what it knew before anything is read
 * again. [loop] */
#ifndef CS_AGENT_RESTORE_H
#define CS_AGENT_RESTORE_H

#include <stdbool.h>

struct agent_ctx;
struct restore;

/* [loop] The check is done: lost says Redis lost its data (write back now, then read). */
typedef void restore_done_fn(void *privdata, bool lost);

/* Caller frees with restore_free. */
struct restore *restore_new(struct agent_ctx *x, restore_done_fn *done, void *privdata);
void restore_free(struct restore *r);
/* Redis is (back) up: find out which Redis this is. marker: a key this worker wrote that
 * nothing deletes (the saved state of one of its chargers), NULL when it has none; then the
 * fleet hash stands in for it, when had_data says the worker had read one. Each worker decides
 * from its own marker: another worker writing back the fleet first must not hide the loss.
 * done runs once (unless a check is already under way). */
void restore_check(struct restore *r, bool had_data, const char *marker);

#endif
