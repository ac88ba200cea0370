/* cmdpipe.h - the command pipeline of a worker: commands heard on {ns}:cmd and
 * {ns}:cmd:{worker} are parsed (a malformed one gets an error reply), recognised when they come
 * twice (an id seen before), held while the reply could not be sent, scheduled when they say
 * at=/in=/every=, run through the verbs, and answered on {ns}:reply. After a lost connection
 * the worker reads {ns}:cmdlog from where it was and runs what it missed. [loop] */
#ifndef CS_AGENT_CMDPIPE_H
#define CS_AGENT_CMDPIPE_H

#include <stddef.h>

#include "verbs.h"

struct agent_ctx;
struct chargers;
struct cmdpipe;
struct livecfg;

/* Caller frees with cmdpipe_free. run: how a command runs on this worker (NULL: verbs_run on
 * the chargers of set); run_privdata goes into the verbs_env it gets. */
struct cmdpipe *cmdpipe_new(struct agent_ctx *x, struct chargers *set, struct livecfg *cfg,
                            verbs_run_fn *run, void *run_privdata);
void cmdpipe_free(struct cmdpipe *p);
/* A command payload from the command channels. */
void cmdpipe_on_message(struct cmdpipe *p, const char *payload, size_t len);
/* Redis is back: commands held meanwhile run, then what the command log has since. */
void cmdpipe_resync(struct cmdpipe *p);
/* Stops scheduling further runs (the worker is stopping). */
void cmdpipe_stop(struct cmdpipe *p);

#endif
