/* evlog.h - the recent past the page shows, kept in Redis so a restarted coordinator (or a
 * standby) shows it too:
 *   - {ns}:eventlog, a capped stream of what was published on {ns}:events: the leading
 *     coordinator appends each event it hears (field `event`, the payload as published), as
 *     fast as the RL_EVENTLOG bucket allows (ratelimit.h); events over that, or longer than
 *     EVLOG_EVENT_MAX, are counted and noted in one `events_not_recorded` entry;
 *   - {ns}:cmdlog, the commands swarm-cli and the page sent (written by cmdsend.h).
 * Every coordinator serving HTTP reads the new entries of both into obs on each tick (the
 * last OBS_EVENTS_MAX / OBS_COMMANDS_MAX at start). */
#ifndef CS_COORD_EVLOG_H
#define CS_COORD_EVLOG_H

#include <stdbool.h>

#include "cs/rds.h"
#include "cs/url.h"
#include "obs.h"

#define EVLOG_KEEP 1000      /* {ns}:eventlog entries kept (XADD MAXLEN ~) */
#define EVLOG_EVENT_MAX 4096 /* longer events are not recorded */

struct event_base;
struct evlog;

struct evlog_opts {
    struct redis_url url; /* for its pub/sub connection to {ns}:events */
    const char *ns;
    const char *id;  /* this coordinator, the source of its notes */
    struct rds *r;   /* the coordinator's command connection; borrowed, outlives it */
    struct obs *obs; /* borrowed, may be NULL (no HTTP): then nothing is read */
};

/* Subscribes to {ns}:events at once. Caller frees with evlog_free. */
struct evlog *evlog_new(struct event_base *base, const struct evlog_opts *o);
void evlog_free(struct evlog *e);
/* [loop] Only the leader records (a standby would record every event twice). */
void evlog_set_leader(struct evlog *e, bool leader);
/* [loop] Once a coordinator tick: notes what was dropped, reads new entries into obs. */
void evlog_tick(struct evlog *e);

#endif
