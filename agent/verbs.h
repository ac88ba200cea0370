/* verbs.h - what each operator verb does on this worker: one handler per row of the command
 * table (common/src/cmd.c), indexed by verb. A selector verb runs its action on every charger
 * the selector matches and counts each outcome in the result. [loop] */
#ifndef CS_AGENT_VERBS_H
#define CS_AGENT_VERBS_H

#include <stdbool.h>

struct agent_ctx;
struct chargers;
struct cmd;
struct livecfg;
struct result;
struct sched;
struct sel;

struct result_hold;
struct verbs_env;

/* Runs a command on this worker (verbs_run, or a stand-in's). */
typedef void verbs_run_fn(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                          struct result *r);

struct verbs_env {
    struct agent_ctx *x;
    struct chargers *set;
    struct livecfg *cfg;
    struct sched *sched;
    /* The reply of the command being run waits (the pipeline moves r into the hold it returns;
     * the verb calls its finish later). */
    struct result_hold *(*hold)(void *privdata, struct result *r);
    void *hold_privdata;
    verbs_run_fn *run;
    void *run_privdata; /* a stand-in's own */
};

/* Runs c (its selector compiled into s, NULL for verbs without one). A verbs_run_fn. */
void verbs_run(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
               struct result *r);
/* reload, as verbs_run runs it (a stand-in shares it): the reply waits for the reads. */
void verbs_reload(const struct verbs_env *v, const struct cmd *c, struct result *r,
                  uint64_t concerned);
/* Every verb of the command table has a handler (checked once at start). */
bool verbs_complete(void);

#endif
