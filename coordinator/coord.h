/* coord.h - the coordinator: leader lock, worker membership by lease, assignment of charger
 * index ranges, fleet stats. All state lives in Redis; a restarted coordinator carries on. */
#ifndef CS_COORD_H
#define CS_COORD_H

#include "cs/opts.h"

struct coord_opts {
    struct cs_common_opts common;
    char id[128];     /* lock holder id, default host:pid */
    int tick_ms;      /* how often membership and assignment are checked */
    int lock_ttl_ms;  /* leader lock lifetime; renewed every tick */
    char metrics_listen[160]; /* ADDR:PORT for GET /metrics, "" = off */
    char http_listen[160];    /* ADDR:PORT for the dashboard (and /metrics), "" = off */
};

/* Runs until SIGTERM/SIGINT; returns the exit code. */
int coord_run(const struct coord_opts *o);

#endif
