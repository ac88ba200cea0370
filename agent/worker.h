/* worker.h - one worker process: the shell around its subsystems (live config, lease and
 * assignment, the command pipeline, stats) and its chargers, all on one libevent loop. */
#ifndef CS_WORKER_H
#define CS_WORKER_H

#include "cs/opts.h"

struct agent_opts {
    struct cs_common_opts common;
    char name[64];    /* agent name, default: hostname */
    int workers;      /* worker processes */
    int max_chargers; /* per worker */
    int stop_timeout_ms;
};

/* A worker's exit status that must not be answered with a restart (another live process uses
 * its name): the supervisor stops the agent. */
#define WORKER_EXIT_FATAL 3

/* Entry point of a forked worker process; returns its exit code. */
int worker_main(const struct agent_opts *ao, int slot, int ready_fd);

#endif
